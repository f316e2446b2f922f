package collector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kpimon/kpimon/kpi"
)

func testAssessment(t testing.TB) *kpi.Assessment {
	t.Helper()
	a, err := kpi.LoadConfig(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readFile(t *testing.T, a *kpi.Assessment, name string) *Batch {
	t.Helper()
	b := NewBatch(a)
	if err := b.AddFile(context.Background(), filepath.Join("testdata", name)); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoodFiles(t *testing.T) {
	a := testAssessment(t)
	tests := []struct {
		file string
		want []kpi.Observation
	}{
		{"long.good.csv", []kpi.Observation{
			{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01"), Value: 10},
			{Township: "bb", Indicator: "screenings", Period: kpi.MustPeriod("2024-01"), Value: 1200},
			{Township: "aa", Indicator: "closure", Period: kpi.MustPeriod("2024-01"), Numerator: 9, Denominator: 10},
			{Township: "bb", Indicator: "plan", Period: kpi.MustPeriod("2024-02"), Value: 1},
			{Township: "aa", Indicator: "honors", Period: kpi.MustPeriod("2024-03"), Value: 2.5},
		}},
		{"bom_reordered.good.csv", []kpi.Observation{
			{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-02"), Value: 7},
		}},
		{"good.json", []kpi.Observation{
			{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01"), Value: 12},
			{Township: "bb", Indicator: "closure", Period: kpi.MustPeriod("2024-01"), Numerator: 39, Denominator: 40},
			{Township: "bb", Indicator: "incident", Period: kpi.MustPeriod("2024-02"), Value: 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b := readFile(t, a, tc.file)
			if err := b.Err(); err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := b.Observations()
			if len(got) != len(tc.want) {
				t.Fatalf("got %d observations, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			if len(b.Sources()) != 1 || len(b.SHA256()) != 64 {
				t.Errorf("sources = %+v", b.Sources())
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	a := testAssessment(t)
	tests := []struct {
		file     string
		where    []string // every error's location, in order
		sentinel error
		msg      string
	}{
		{"unknown_indicator.bad.csv", []string{"unknown_indicator.bad.csv:2"}, kpi.ErrUnknownIndicator, "未知的指标“nope”"},
		{"unknown_township.bad.csv", []string{"unknown_township.bad.csv:2"}, kpi.ErrUnknownTownship, "未知的乡镇“zz”"},
		{"malformed_period.bad.csv", []string{"malformed_period.bad.csv:2"}, kpi.ErrBadPeriod, "格式不对"},
		{"out_of_year.bad.csv", []string{"out_of_year.bad.csv:2"}, kpi.ErrBadPeriod, "不在考核年度 2024 内"},
		{"not_a_number.bad.csv", []string{"not_a_number.bad.csv:2"}, kpi.ErrBadValue, "“abc”不是有效的数字"},
		{"nan.bad.csv", []string{"nan.bad.csv:2"}, kpi.ErrBadValue, "不是有效的数字"},
		{"negative_count.bad.csv", []string{"negative_count.bad.csv:2"}, kpi.ErrBadValue, "不能为负数"},
		{"numerator_over_denominator.bad.csv", []string{"numerator_over_denominator.bad.csv:2"}, kpi.ErrBadValue, "分子 11 大于分母 10"},
		{"missing_denominator.bad.csv", []string{"missing_denominator.bad.csv:2"}, kpi.ErrBadValue, "缺少分母"},
		{"milestone_not_01.bad.csv", []string{"milestone_not_01.bad.csv:2"}, kpi.ErrBadValue, "只能填 1（是）或 0（否）"},
		{"veto_not_01.bad.csv", []string{"veto_not_01.bad.csv:2"}, kpi.ErrBadValue, "只能填 1"},
		{"duplicate_key.bad.csv", []string{"duplicate_key.bad.csv:4"}, kpi.ErrDuplicate, "与 duplicate_key.bad.csv:2 重复"},
		{"missing_period_column.bad.csv", []string{"missing_period_column.bad.csv:1"}, ErrMalformed, "表头缺少“月份”列（period）：表头应为 乡镇,指标,月份,数值"},
		{"no_header.bad.csv", []string{"no_header.bad.csv:1"}, ErrMalformed, "第一行不是表头，没有认出任何列名：第一行应为 乡镇,指标,月份,数值,分子,分母"},
		{"broken_quote.bad.csv", []string{"broken_quote.bad.csv:2"}, ErrMalformed, "CSV 格式错误"},
		{"empty.bad.csv", []string{"empty.bad.csv"}, ErrMalformed, "文件是空的"},
		{"bad.json", []string{"bad.json[1]", "bad.json[2]"}, kpi.ErrBadValue, "缺少分母"},
		{"malformed.bad.json", []string{"malformed.bad.json"}, ErrMalformed, "JSON 格式错误"},
		{"header_only.bad.csv", []string{"header_only.bad.csv"}, ErrMalformed, "只有表头，没有数据行"},
		{"empty_array.bad.json", []string{"empty_array.bad.json"}, ErrMalformed, "没有数据"},
		{"truncated.bad.json", []string{"truncated.bad.json"}, ErrMalformed, "JSON 不完整"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b := readFile(t, a, tc.file)
			err := b.Err()
			if err == nil {
				t.Fatal("got no error")
			}
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("error is %T, want *BatchError", err)
			}
			var got []string
			for _, e := range be.Errors {
				got = append(got, e.Where)
			}
			if strings.Join(got, " ") != strings.Join(tc.where, " ") {
				t.Errorf("errors at %q, want %q:\n%v", got, tc.where, err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not unwrap to %v: %v", tc.sentinel, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error does not say %q:\n%v", tc.msg, err)
			}
		})
	}
}

func TestEveryInvalidRowIsReported(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddCSV("mixed.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,1\nzz,screenings,2024-01,1\naa,screenings,2024-02,x\naa,screenings,2024-03,3\nqq,nope,2024-99,\n"))
	var be *BatchError
	if !errors.As(b.Err(), &be) {
		t.Fatalf("got %v, want a BatchError", b.Err())
	}
	want := "mixed.csv:3: 未知的乡镇“zz”：须为考核方案中的乡镇代码或名称\nmixed.csv:4: 数值“x”不是有效的数字\nmixed.csv:6: 未知的乡镇“qq”：须为考核方案中的乡镇代码或名称\nmixed.csv:6: 未知的指标“nope”：须为考核方案中的指标代码或名称\nmixed.csv:6: 月份“2024-99”格式不对：应为 YYYY-MM，如 2024-06"
	var lines []string
	for _, e := range be.Errors {
		lines = append(lines, e.Error())
	}
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestGBKCSVReadsLikeUTF8(t *testing.T) {
	a := testAssessment(t)
	text := "乡镇,指标,月份,数值\n甲镇,两癌筛查人数,2024年3月,15\n乙镇,两癌筛查人数,2024-03,8\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	u := NewBatch(a)
	u.AddCSV("utf8.csv", strings.NewReader(text))
	g := NewBatch(a)
	g.AddCSV("gbk.csv", strings.NewReader(gbk))
	if u.Err() != nil || g.Err() != nil {
		t.Fatalf("errors: utf8 %v, gbk %v", u.Err(), g.Err())
	}
	uo, gob := u.Observations(), g.Observations()
	if len(uo) != 2 || len(gob) != 2 || uo[0] != gob[0] || uo[1] != gob[1] {
		t.Errorf("GBK read %+v, UTF-8 read %+v", gob, uo)
	}
}

func TestDuplicatesAcrossFilesOfOneBatch(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddCSV("one.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,1\n"))
	b.AddJSON("two.json", strings.NewReader(`[{"township":"aa","indicator":"screenings","period":"2024-01","value":2}]`))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "two.json[0]: 与 one.csv:2 重复") {
		t.Errorf("got %v, want a duplicate naming both places", err)
	}
}

func TestUnsupportedFormatsAreNamed(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddBytes("报表.xls", []byte{0xd0, 0xcf, 0x11, 0xe0})
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "报表.xls: 不支持旧版 Excel（.xls）") {
		t.Errorf("got %v", err)
	}
}

func TestContentDecidesTheFormat(t *testing.T) {
	a := testAssessment(t)
	csvText := "township,indicator,period,value\naa,screenings,2024-01,3\n"
	for _, name := range []string{"六月.xlsx", "六月", "六月.json"} {
		b := NewBatch(a)
		if name == "六月.json" {
			b.AddBytes(name, []byte(`[{"township":"aa","indicator":"screenings","period":"2024-01","value":3}]`))
		} else {
			b.AddBytes(name, []byte(csvText))
		}
		if err := b.Err(); err != nil || len(b.Observations()) != 1 {
			t.Errorf("%s: %v, %d rows", name, err, len(b.Observations()))
		}
	}
}

func TestSameBaseNameFromTwoFoldersIsNamedByPath(t *testing.T) {
	a := testAssessment(t)
	dir := t.TempDir()
	for _, sub := range []string{"一月", "二月"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		os.WriteFile(filepath.Join(dir, sub, "甲镇.csv"), []byte("township,indicator,period,value\naa,screenings,2024-01,3\n"), 0o644)
	}
	b := NewBatch(a)
	for _, sub := range []string{"一月", "二月"} {
		if err := b.AddFile(context.Background(), filepath.Join(dir, sub, "甲镇.csv")); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(dir, "二月", "甲镇.csv") + ":2: 与 甲镇.csv:2 重复"
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestParseNumber(t *testing.T) {
	good := map[string]float64{
		"12": 12, " 1,234.5 ": 1234.5, "１２": 12, "-0.5": -0.5, "1e3": 1000, "1,234": 1234, "１，２３４": 1234,
		"-1,234": -1234, "+5": 5, ".5": 0.5, "5.": 5, "1E-2": 0.01, "\t7 ": 7,
	}
	for in, want := range good {
		if v, ok := parseNumber(in); !ok || v != want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", in, v, ok, want)
		}
	}
	for _, bad := range []string{
		"abc", "1,23", "12,34,567", "Inf", "NaN", "1.2.3", "",
		// strconv.ParseFloat takes these; a clerk never means them
		"0x1p4", "0X10", "1_000", "+Inf", "-inf", "infinity", "1e400", "-1e400",
		"1e", "1e+", ".", "+", "--1", "98%", "1 234", "١٢",
	} {
		if v, ok := parseNumber(bad); ok {
			t.Errorf("parseNumber(%q) = %v, want refusal", bad, v)
		}
	}
}

// rangeConfig has one indicator of each kind with a bound, and an amount in 元.
const rangeConfig = `name: 范围
year: 2024
townships:
  - {code: aa, name: 甲镇}
indicators:
  - {code: people, name: 筛查人数, kind: count, weight: 20, target: 100, unit: 人}
  - {code: homes, name: 妇女之家数, kind: stock, weight: 20, target: 5, unit: 个}
  - {code: loans, name: 创业贷款发放额, kind: count, weight: 20, target: 1000000, unit: 元}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 40, threshold: 0.98}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
`

func TestFiguresOutOfRangeAreRefused(t *testing.T) {
	a, err := kpi.ParseConfig("range.yaml", []byte(rangeConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		row   string // township,indicator,period,value,numerator,denominator
		field string // the field refused; empty: accepted
		msg   string
	}{
		{"count at the bound", "aa,people,2024-01,1000000000,,", "", ""},
		{"count above the bound", "aa,people,2024-01,1000000001,,", "value", "“筛查人数”的数值 1,000,000,001 超出合理范围：一个月的数字不能超过 1000000000（10 亿）"},
		{"count 1e308", "aa,people,2024-01,1e308,,", "value", "数值 1e+308 超出合理范围"},
		{"count 1e400", "aa,people,2024-01,1e400,,", "value", "数值“1e400”不是有效的数字：数字太大"},
		{"stock above the bound", "aa,homes,2024-01,\"2,000,000,000\",,", "value", "不能超过 1000000000（10 亿）"},
		{"yuan may be larger", "aa,loans,2024-01,5000000000,,", "", ""},
		{"yuan above its bound", "aa,loans,2024-01,2e12,,", "value", "不能超过 1000000000000（1 万亿）"},
		{"ratio above the bound", "aa,closure,2024-01,,2e9,3e9", "denominator", "“信访办结率”的分母 3,000,000,000 超出合理范围"},
		{"ratio at the bound", "aa,closure,2024-01,,1e9,1e9", "", ""},
		{"bonus at its max", "aa,honors,2024-01,5,,", "", ""},
		{"bonus above its max", "aa,honors,2024-01,6,,", "value", "加分“荣誉加分”本月 6 分，超过了全年加分上限 5 分"},
		{"hexadecimal", "aa,people,2024-01,0x1p4,,", "value", "数值“0x1p4”不是有效的数字"},
		{"underscores", "aa,people,2024-01,1_000,,", "value", "数值“1_000”不是有效的数字"},
		{"infinity", "aa,people,2024-01,+Inf,,", "value", "数值“+Inf”不是有效的数字"},
		{"percent", "aa,closure,2024-01,,98%,100", "numerator", "分子“98%”不是有效的数字：请填写数字本身，不带百分号"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddCSV("r.csv", strings.NewReader("township,indicator,period,value,numerator,denominator\n"+tc.row+"\n"))
			if tc.field == "" {
				if err := b.Err(); err != nil || b.Len() != 1 {
					t.Fatalf("got %v (%d rows), want the row accepted", err, b.Len())
				}
				return
			}
			var be *BatchError
			if !errors.As(b.Err(), &be) || len(be.Errors) != 1 {
				t.Fatalf("got %v, want one error", b.Err())
			}
			e := be.Errors[0]
			if e.Where != "r.csv:2" || e.Field != tc.field || !errors.Is(e, kpi.ErrBadValue) || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %s (field %q, %v), want r.csv:2, field %q, ErrBadValue, saying %q", e, e.Field, e.Err, tc.field, tc.msg)
			}
		})
	}
}

func TestHugeValuesAreRefusedInJSON(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddJSON("big.json", strings.NewReader(`[{"township":"aa","indicator":"screenings","period":"2024-01","value":1e308},
		{"township":"aa","indicator":"screenings","period":"2024-02","value":"1e400"}]`))
	var be *BatchError
	if !errors.As(b.Err(), &be) || len(be.Errors) != 2 || be.Errors[0].Where != "big.json[0]" || !strings.Contains(be.Errors[0].Msg, "超出合理范围") ||
		be.Errors[1].Where != "big.json[1]" || !strings.Contains(be.Errors[1].Msg, "数字太大") {
		t.Errorf("JSON: got %v", b.Err())
	}
}

func TestStreamHandsRowsInChunksAndStopsAtTheFirstError(t *testing.T) {
	a := testAssessment(t)
	var got [][]kpi.Observation
	b := NewBatch(a)
	b.Stream(2, func(obs []kpi.Observation) error { got = append(got, obs); return nil })
	b.AddCSV("s.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,1\naa,screenings,2024-02,2\naa,screenings,2024-03,3\n"))
	b.Flush()
	if b.Err() != nil || len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 || got[1][0].Value != 3 {
		t.Fatalf("chunks %+v, err %v", got, b.Err())
	}
	if len(b.Observations()) != 0 || b.Len() != 3 || b.Sources()[0].Rows != 3 {
		t.Errorf("a streaming batch kept rows: %d, Len %d, source %+v", len(b.Observations()), b.Len(), b.Sources())
	}
	got = nil
	b = NewBatch(a)
	b.Stream(1, func(obs []kpi.Observation) error { got = append(got, obs); return nil })
	b.AddCSV("s.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,1\nzz,screenings,2024-02,2\naa,screenings,2024-03,3\naa,screenings,2024-01,4\n"))
	b.Flush()
	if len(got) != 1 {
		t.Errorf("rows after an invalid one were still streamed: %+v", got)
	}
	var be *BatchError
	if !errors.As(b.Err(), &be) || len(be.Errors) != 2 || be.Errors[1].Msg != "与 s.csv:2 重复：同一乡镇、指标、月份在一批数据中只能出现一次" {
		t.Errorf("errors: %v", b.Err())
	}
}

func TestMonthsThatHaveNotBegunAreRefused(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.RefuseAfter(CurrentMonth(a, time.Date(2024, 6, 30, 17, 0, 0, 0, time.UTC))) // 1 July in Shanghai
	b.AddCSV("t.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-07,1\naa,screenings,2024-08,1\n"))
	var be *BatchError
	if !errors.As(b.Err(), &be) || len(be.Errors) != 1 || be.Errors[0].Where != "t.csv:3" || !strings.Contains(be.Errors[0].Msg, "2024-08 还没有到") {
		t.Errorf("got %v; want only August refused (July has begun in Shanghai)", b.Err())
	}
}

func TestYesNoWordsInEveryFormat(t *testing.T) {
	a := testAssessment(t)
	tests := []struct {
		name string
		add  func(b *Batch, value string)
	}{
		{"csv", func(b *Batch, v string) {
			b.AddCSV("m.csv", strings.NewReader("township,indicator,period,value\naa,plan,2024-01,\""+v+"\"\nbb,incident,2024-01,\""+v+"\"\n"))
		}},
		{"json", func(b *Batch, v string) {
			b.AddJSON("m.json", strings.NewReader(`[{"township":"aa","indicator":"plan","period":"2024-01","value":"`+v+`"},
				{"township":"bb","indicator":"incident","period":"2024-01","value":"`+v+`"}]`))
		}},
		{"excel value column", func(b *Batch, v string) {
			b.AddBytes("m.xlsx", workbook(t, []sheetSpec{{name: "S", rows: [][]any{
				{"乡镇", "指标", "月份", "数值"}, {"aa", "plan", "2024-01", v}, {"bb", "incident", "2024-01", v},
			}}}))
		}},
		{"excel form drop-down", func(b *Batch, v string) {
			b.AddBytes("m.xlsx", workbook(t, []sheetSpec{
				formSheet("甲镇", "甲镇", "2024-01", []any{3, "plan", "规划中期评估", "", nil, nil, nil, v}),
				formSheet("乙镇", "乙镇", "2024-01", []any{5, "incident", "重大责任事故", "", nil, nil, nil, v}),
			}))
		}},
	}
	words := map[string]float64{
		"是": 1, "否": 0, "已完成": 1, "完成": 1, "未完成": 0, "Y": 1, "n": 0, "Ｙ": 1, " yes ": 1, "No": 0,
		"TRUE": 1, "false": 0, "√": 1, "✓": 1, "×": 0, "✗": 0, "有": 1, "无": 0, "1": 1, "0": 0,
	}
	for _, tc := range tests {
		for word, want := range words {
			t.Run(tc.name+"/"+word, func(t *testing.T) {
				b := NewBatch(a)
				tc.add(b, word)
				obs := b.Observations()
				if err := b.Err(); err != nil || len(obs) != 2 || obs[0].Value != want || obs[1].Value != want {
					t.Errorf("got %+v, %v; want two rows of %v", obs, err, want)
				}
			})
		}
		t.Run(tc.name+"/refused", func(t *testing.T) {
			b := NewBatch(a)
			tc.add(b, "好")
			var be *BatchError
			if !errors.As(b.Err(), &be) || len(be.Errors) != 2 || !errors.Is(b.Err(), kpi.ErrBadValue) || !strings.Contains(be.Errors[0].Msg, "“好”无效") {
				t.Errorf("got %v, want both rows refused as 好 is no answer", b.Err())
			}
		})
	}
	// a count is a number, not a yes
	b := NewBatch(a)
	b.AddCSV("c.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,是\n"))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "数值“是”不是有效的数字") {
		t.Errorf("a count of 是: got %v", err)
	}
	// JSON booleans answer a milestone too
	b = NewBatch(a)
	b.AddJSON("b.json", strings.NewReader(`[{"township":"aa","indicator":"plan","period":"2024-01","value":true},
		{"township":"aa","indicator":"screenings","period":"2024-01","value":true}]`))
	var be *BatchError
	if !errors.As(b.Err(), &be) || len(be.Errors) != 1 || be.Errors[0].Where != "b.json[1]" || b.Len() != 1 {
		t.Errorf("JSON true: got %v (%d valid), want the milestone read and the count refused", b.Err(), b.Len())
	}
}

// TestYearsOfTheRows: a batch tells which years its rows' months are of, rows of another
// year (which it refuses) included, so that a deployment of several years can route it.
func TestYearsOfTheRows(t *testing.T) {
	a := testAssessment(t)
	b := NewBatch(a)
	b.AddCSV("mixed.csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-01,1\nzz,screenings,2025-02,1\naa,screenings,bad,1\n"))
	if got := b.Years(); len(got) != 2 || got[0] != 2024 || got[1] != 2025 {
		t.Errorf("years = %v, want [2024 2025]", got)
	}
}
