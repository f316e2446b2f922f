package collector

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/kpi"
)

// workbook builds an .xlsx in memory: each sheet is given as rows of cells (strings are
// written as text, float64/int as numbers, time.Time as a date-formatted number).
func workbook(t *testing.T, sheets []sheetSpec) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.rows {
			for c, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(sh.name, cell, v); err != nil {
					t.Fatal(err)
				}
				if _, ok := v.(time.Time); ok {
					f.SetCellStyle(sh.name, cell, cell, dateStyle)
				}
			}
		}
		if sh.hidden {
			if err := f.SetSheetVisible(sh.name, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type sheetSpec struct {
	name   string
	rows   [][]any
	hidden bool
}

// formSheet lays a sheet out as `kpimon template` does: title, township and month labels,
// instructions, a header and one row per indicator (code in column B).
func formSheet(name, township, period string, rows ...[]any) sheetSpec {
	s := sheetSpec{name: name, rows: [][]any{
		{"测试县 月报表"},
		{FormTownshipLabel, township, nil, FormPeriodLabel, period},
		{"填写说明：只填黄色单元格"},
		{},
		{"序号", FormCodeHeader, FormNameHeader, "计量单位", FormValueHeader, FormNumHeader, FormDenHeader, FormYesNoHeader, "说明"},
	}}
	s.rows = append(s.rows, rows...)
	return s
}

func TestXLSXLongFormReadsLikeCSV(t *testing.T) {
	a := testAssessment(t)
	data := workbook(t, []sheetSpec{{name: "明细", rows: [][]any{
		{"乡镇", "指标", "月份", "数值", "分子", "分母", "备注"},
		{"aa", "screenings", "2024-01", 10},
		{"乙镇", "两癌筛查人数", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "1,200"}, // a month Excel turned into a date
		{"aa", "closure", "2024-01", nil, 9, 10},
		{},
		{"bb", "plan", "2024年2月", 1},
		{"aa", "honors", "2024-03", 2.5, nil, nil, "省级表彰"},
	}}, {name: "字典", hidden: true, rows: [][]any{{"甲镇"}, {"乙镇"}}}})
	x := NewBatch(a)
	x.AddBytes("long.xlsx", data)
	c := readFile(t, a, "long.good.csv")
	if err := x.Err(); err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	got, want := x.Observations(), c.Observations()
	if len(got) != len(want) {
		t.Fatalf("xlsx read %d observations, csv %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d: xlsx %+v, csv %+v", i, got[i], want[i])
		}
	}
	if len(x.Sources()) != 1 || x.Sources()[0].Rows != 5 || len(x.SHA256()) != 64 {
		t.Errorf("sources %+v", x.Sources())
	}
}

func TestXLSXFormReadsFilledCellsOnly(t *testing.T) {
	a := testAssessment(t)
	data := workbook(t, []sheetSpec{
		formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人", 12},
			[]any{2, "closure", "信访办结率", "%", nil, 19, 20},
			[]any{3, "plan", "规划中期评估", "", nil, nil, nil, FormYes},
			[]any{4, "honors", "荣誉加分", "分"}, // not filled: not reported
			[]any{5, "incident", "重大责任事故", "", nil, nil, nil, FormNo},
		),
		formSheet("乙镇", "bb", "2024年6月",
			[]any{1, "screenings", "两癌筛查人数", "人", "７"}, // full-width digit
		),
	})
	b := NewBatch(a)
	b.AddBytes("六月.xlsx", data)
	if err := b.Err(); err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	p := kpi.MustPeriod("2024-06")
	want := []kpi.Observation{
		{Township: "aa", Indicator: "screenings", Period: p, Value: 12},
		{Township: "aa", Indicator: "closure", Period: p, Numerator: 19, Denominator: 20},
		{Township: "aa", Indicator: "plan", Period: p, Value: 1},
		{Township: "aa", Indicator: "incident", Period: p, Value: 0},
		{Township: "bb", Indicator: "screenings", Period: p, Value: 7},
	}
	got := b.Observations()
	if len(got) != len(want) {
		t.Fatalf("got %d observations, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestXLSXErrorsNameSheetAndCell(t *testing.T) {
	a := testAssessment(t)
	tests := []struct {
		name     string
		sheets   []sheetSpec
		where    []string
		sentinel error
		msg      string
	}{
		{"form figures", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人", "十二"},
			[]any{2, "closure", "信访办结率", "%", nil, 21, 20},
			[]any{3, "plan", "规划中期评估", "", nil, nil, nil, "好"},
			[]any{4, "nope", "？", "", 1},
			[]any{5, "honors", "荣誉加分", "分", -1},
		)}, []string{"x.xlsx:甲镇!E6", "x.xlsx:甲镇!F7", "x.xlsx:甲镇!H8", "x.xlsx:甲镇!B9", "x.xlsx:甲镇!E10"}, kpi.ErrBadValue, "“好”无效：请从下拉列表选择“是”或“否”"},
		{"form figures out of range", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人", 1e308},
			[]any{2, "closure", "信访办结率", "%", nil, 1, "2e9"},
			[]any{4, "honors", "荣誉加分", "分", 50},
		)}, []string{"x.xlsx:甲镇!E6", "x.xlsx:甲镇!G7", "x.xlsx:甲镇!E8"}, kpi.ErrBadValue, "超出合理范围：一个月的数字不能超过 1000000000（10 亿）"},
		{"form figure in the wrong column", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人", nil, 12},
			[]any{2, "closure", "信访办结率", "%", 0.95},
		)}, []string{"x.xlsx:甲镇!F6", "x.xlsx:甲镇!E7"}, kpi.ErrBadValue, "比率类指标“信访办结率”须分别填写分子和分母"},
		{"form sent twice", []sheetSpec{
			formSheet("甲镇", "甲镇", "2024-06", []any{1, "screenings", "两癌筛查人数", "人", 12}, []any{2, "closure", "信访办结率", "%", nil, 1, 2}),
			formSheet("甲镇 (2)", "aa", "2024-06", []any{1, "screenings", "两癌筛查人数", "人", 13}, []any{2, "closure", "信访办结率", "%", nil, 3, 4}),
		}, []string{"x.xlsx:甲镇 (2)!E6", "x.xlsx:甲镇 (2)!F7"}, kpi.ErrDuplicate, "与 x.xlsx:甲镇!E6 重复"},
		{"form header cells", []sheetSpec{formSheet("乙镇", "丙镇", "2023-06",
			[]any{1, "screenings", "两癌筛查人数", "人", 1},
		)}, []string{"x.xlsx:乙镇!B2", "x.xlsx:乙镇!E2"}, kpi.ErrUnknownTownship, "未知的乡镇“丙镇”"},
		{"long form", []sheetSpec{{name: "明细", rows: [][]any{
			{"township", "indicator", "period", "value"},
			{"aa", "screenings", "2024-13", 1},
			{"aa", "screenings", "2024-01", 1},
			{"aa", "screenings", "2024-01", 2},
		}}}, []string{"x.xlsx:明细!C2", "x.xlsx:明细!A4"}, kpi.ErrDuplicate, "与 x.xlsx:明细!A3 重复"},
		{"a visible sheet that is no report", []sheetSpec{
			{name: "说明", rows: [][]any{{"本表为六月数据"}}},
			{name: "明细", rows: [][]any{{"township", "indicator", "period", "value"}, {"aa", "screenings", "2024-01", 1}}},
		}, []string{"x.xlsx:说明"}, ErrMalformed, "未找到表头"},
		{"long form without a value column", []sheetSpec{{name: "S", rows: [][]any{
			{"township", "indicator", "period", "备注"}, {"aa", "screenings", "2024-01", 1},
		}}}, []string{"x.xlsx:S!A1"}, ErrMalformed, "表头缺少“数值”列（value）"},
		{"form without township", []sheetSpec{{name: "S", rows: [][]any{
			{"序号", FormCodeHeader, FormValueHeader}, {1, "screenings", 3},
		}}}, []string{"x.xlsx:S!A1"}, ErrMalformed, "缺少“乡镇（街道）”"},
		{"blank form", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人"},
		)}, []string{"x.xlsx"}, ErrMalformed, "没有填写任何数据"},
		{"empty workbook", []sheetSpec{{name: "Sheet1"}}, []string{"x.xlsx"}, ErrMalformed, "工作簿中没有数据"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddBytes("x.xlsx", workbook(t, tc.sheets))
			var be *BatchError
			if !errors.As(b.Err(), &be) {
				t.Fatalf("got %v, want a BatchError", b.Err())
			}
			var got []string
			for _, e := range be.Errors {
				got = append(got, e.Where)
			}
			if strings.Join(got, " ") != strings.Join(tc.where, " ") {
				t.Errorf("errors at %q, want %q:\n%v", got, tc.where, b.Err())
			}
			if !errors.Is(b.Err(), tc.sentinel) {
				t.Errorf("error does not unwrap to %v: %v", tc.sentinel, b.Err())
			}
			if !strings.Contains(b.Err().Error(), tc.msg) {
				t.Errorf("error does not say %q:\n%v", tc.msg, b.Err())
			}
		})
	}
}

func TestXLSXBrokenAndOversizedFiles(t *testing.T) {
	a := testAssessment(t)
	// not a zip at all, though named .xlsx
	b := NewBatch(a)
	b.AddBytes("坏.xlsx", []byte("\x00\x01\x02 garbage"))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "坏.xlsx: 无法读取 Excel 文件") {
		t.Errorf("broken file: %v", err)
	}
	// a zip that is not a workbook
	b = NewBatch(a)
	b.AddBytes("zip.xlsx", []byte("PK\x03\x04garbage"))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "无法读取 Excel 文件") {
		t.Errorf("garbage zip: %v", err)
	}
	// a workbook that unzips beyond the limit is refused before it is parsed
	rows := [][]any{{"township", "indicator", "period", "value"}}
	for i := 0; i < 2000; i++ {
		rows = append(rows, []any{"aa", "screenings", "2024-01", strings.Repeat("9", 200)})
	}
	data := workbook(t, []sheetSpec{{name: "S", rows: rows}})
	b = NewBatch(a)
	b.addXLSX("big.xlsx", data, 64<<10)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "big.xlsx: Excel 文件解压后超过") {
		t.Errorf("oversized workbook: %v", err)
	}
	// found by content when the name has no extension
	b = NewBatch(a)
	b.AddBytes("upload", workbook(t, []sheetSpec{{name: "S", rows: [][]any{
		{"township", "indicator", "period", "value"}, {"aa", "screenings", "2024-01", 4},
	}}}))
	if err := b.Err(); err != nil || len(b.Observations()) != 1 {
		t.Errorf("xlsx without extension: %v %+v", b.Err(), b.Observations())
	}
}

func TestPeriodText(t *testing.T) {
	for in, want := range map[string]string{"45809": "2025-06", "45292": "2024-01", "2024-06": "2024-06", "abc": "abc", "0": "0", "2024年6月": "2024年6月"} {
		if got := periodText(in); got != want {
			t.Errorf("periodText(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAddXLSX reads a 12,000-row long-form workbook: 1,000 townships × 12 months.
func BenchmarkAddXLSX(b *testing.B) {
	var cfg strings.Builder
	cfg.WriteString("name: 基准\nyear: 2024\ntownships:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&cfg, "  - {code: t%04d, name: 镇%04d}\n", i, i)
	}
	cfg.WriteString("indicators:\n  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 100}\n")
	a, err := kpi.ParseConfig("bench.yaml", []byte(cfg.String()))
	if err != nil {
		b.Fatal(err)
	}
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"township", "indicator", "period", "value"})
	row := 2
	for t := 0; t < 1000; t++ {
		for m := 1; m <= 12; m++ {
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			if err := sw.SetRow(cell, []any{fmt.Sprintf("t%04d", t), "screenings", kpi.Period{Year: 2024, Month: m}.String(), float64(t % 50)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	f.Close()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := NewBatch(a)
		bt.AddXLSX("bench.xlsx", data)
		if err := bt.Err(); err != nil || len(bt.Rows()) != 12000 {
			b.Fatalf("rows %d, %v", len(bt.Rows()), err)
		}
	}
}

func TestXLSXFormBlanksAreNamed(t *testing.T) {
	a := testAssessment(t)
	p := kpi.MustPeriod("2024-06")
	tests := []struct {
		name   string
		sheets []sheetSpec
		also   string // a CSV added to the same batch
		want   []Blank
	}{
		{"count and ratio left blank", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人"},
			[]any{2, "closure", "信访办结率", "%"},
			[]any{3, "plan", "规划中期评估", ""},
			[]any{4, "honors", "荣誉加分", "分"},
			[]any{5, "incident", "重大责任事故", "", nil, nil, nil, FormNo},
		)}, "", []Blank{
			{Township: "aa", Indicator: "screenings", Period: p, Cell: "x.xlsx:甲镇!E6"},
			{Township: "aa", Indicator: "closure", Period: p, Cell: "x.xlsx:甲镇!F7"},
		}},
		{"two sheets, one filled", []sheetSpec{
			formSheet("甲镇", "甲镇", "2024-06", []any{1, "screenings", "两癌筛查人数", "人", 3}),
			formSheet("乙镇", "乙镇", "2024-06", []any{1, "screenings", "两癌筛查人数", "人"}, []any{2, "closure", "信访办结率", "%", nil, 1, 1}),
		}, "", []Blank{{Township: "bb", Indicator: "screenings", Period: p, Cell: "x.xlsx:乙镇!E6"}}},
		{"reported by another file of the batch", []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
			[]any{1, "screenings", "两癌筛查人数", "人"},
			[]any{2, "closure", "信访办结率", "%", nil, 1, 2},
		)}, "township,indicator,period,value\naa,screenings,2024-06,4\n", []Blank{}},
		{"the same sheet twice", []sheetSpec{
			formSheet("甲镇", "甲镇", "2024-06", []any{1, "screenings", "两癌筛查人数", "人"}, []any{2, "closure", "信访办结率", "%", nil, 1, 2}),
			formSheet("甲镇 (2)", "甲镇", "2024-06", []any{1, "screenings", "两癌筛查人数", "人"}, []any{5, "incident", "重大责任事故", "", nil, nil, nil, FormNo}),
		}, "", []Blank{{Township: "aa", Indicator: "screenings", Period: p, Cell: "x.xlsx:甲镇!E6"}}},
		{"a long-form table has none", []sheetSpec{{name: "明细", rows: [][]any{
			{"township", "indicator", "period", "value"}, {"aa", "screenings", "2024-06", 1},
		}}}, "", []Blank{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddBytes("x.xlsx", workbook(t, tc.sheets))
			if tc.also != "" {
				b.AddCSV("also.csv", strings.NewReader(tc.also))
			}
			if err := b.Err(); err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := b.Blanks()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("blanks\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestXLSXFormRowsArePlacedAtTheCellTyped(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddBytes("x.xlsx", workbook(t, []sheetSpec{formSheet("甲镇", "甲镇", "2024-06",
		[]any{1, "screenings", "两癌筛查人数", "人", 12},
		[]any{2, "closure", "信访办结率", "%", nil, 19, 20},
		[]any{3, "plan", "规划中期评估", "", nil, nil, nil, FormYes},
	)}))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range b.Rows() {
		got = append(got, r.Where())
	}
	if want := "x.xlsx:甲镇!E6 x.xlsx:甲镇!F7 x.xlsx:甲镇!H8"; strings.Join(got, " ") != want {
		t.Errorf("rows at %q, want %q", got, want)
	}
}
