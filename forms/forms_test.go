package forms

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

const testConfig = `name: 测试县妇联2024年度目标管理考核
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: "乙镇[新区]"}
indicators:
  - {code: screenings, name: 两癌筛查人数, category: 关爱帮扶, kind: count, weight: 30, target: 100, unit: 人, targets: {bb: 80}}
  - {code: homes, name: 妇女之家数, kind: stock, weight: 10, target: 5, unit: 个}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 40, threshold: 0.98}
  - {code: plan, name: 规划中期评估, kind: milestone, weight: 20, due: 6}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
  - {code: incident, name: 重大责任事故, kind: veto}
`

func assessment(t *testing.T) *kpi.Assessment {
	t.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// columns finds the form's columns by their headers, as a program filling it would.
func columns(t *testing.T, f *excelize.File, sheet string) map[string]int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	for i, h := range rows[HeaderRow-1] {
		cols[h] = i + 1
	}
	return cols
}

func TestTemplateLayoutProtectionAndValidation(t *testing.T) {
	a := assessment(t)
	f := formOf(t, a, "2024-06")
	if got := strings.Join(f.GetSheetList(), ","); got != "甲镇,乙镇_新区_,"+ListSheet {
		t.Fatalf("sheets %s", got)
	}
	if vis, _ := f.GetSheetVisible(ListSheet); vis {
		t.Error("the list sheet is visible")
	}
	if vals, _ := f.GetRows(ListSheet); len(vals) != 2 || vals[0][0] != "是" || vals[1][0] != "否" {
		t.Errorf("list sheet holds %v", vals)
	}
	sheet := "乙镇_新区_"
	prot, err := f.GetSheetProtection(sheet)
	// an unprotected sheet reads back as all false
	if err != nil || !prot.SelectUnlockedCells || !prot.FormatColumns || prot.InsertRows || prot.DeleteRows || prot.FormatCells {
		t.Errorf("protection %+v %v", prot, err)
	}
	if v, _ := f.GetCellValue(sheet, "B2"); v != "乙镇[新区]" {
		t.Errorf("township cell %q", v)
	}
	if v, _ := f.GetCellValue(sheet, "E2"); v != "2024-06" {
		t.Errorf("period cell %q", v)
	}
	cols := columns(t, f, sheet)
	for _, h := range []string{collector.FormCodeHeader, collector.FormNameHeader, collector.FormValueHeader, collector.FormNumHeader, collector.FormDenHeader, collector.FormYesNoHeader} {
		if cols[h] == 0 {
			t.Errorf("no %q column", h)
		}
	}
	rows, _ := f.GetRows(sheet)
	if len(rows) < HeaderRow+len(a.Indicators) {
		t.Fatalf("%d rows", len(rows))
	}
	first := rows[HeaderRow]
	if first[cols[collector.FormCodeHeader]-1] != "screenings" || first[cols["说明"]-1] != "年度目标 80人；没有请填 0" {
		t.Errorf("first indicator row %q", first)
	}
	// a milestone's due month reads as on every page and bulletin (kpi.MilestoneDue)
	if plan := rows[HeaderRow+3]; plan[cols[collector.FormCodeHeader]-1] != "plan" || plan[cols["说明"]-1] != "6月底前完成；完成当月选“是”" {
		t.Errorf("milestone row %q, want 说明 6月底前完成；完成当月选“是”", plan)
	}
	// labels locked, input cells unlocked, only the cells of each kind open
	locked := func(ref string) bool {
		id, err := f.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s.Protection == nil || s.Protection.Locked
	}
	ref := func(col, row int) string { c, _ := excelize.CoordinatesToCellName(col, row); return c }
	open := map[string][]string{
		"screenings": {collector.FormValueHeader}, "homes": {collector.FormValueHeader}, "honors": {collector.FormValueHeader},
		"closure": {collector.FormNumHeader, collector.FormDenHeader}, "plan": {collector.FormYesNoHeader}, "incident": {collector.FormYesNoHeader},
	}
	for i, ind := range a.Indicators {
		row := HeaderRow + 1 + i
		if locked(ref(cols[collector.FormCodeHeader], row)) == false || !locked(ref(cols[collector.FormNameHeader], row)) {
			t.Errorf("%s: label cells are not locked", ind.Code)
		}
		for _, h := range []string{collector.FormValueHeader, collector.FormNumHeader, collector.FormDenHeader, collector.FormYesNoHeader} {
			want := false
			for _, o := range open[ind.Code] {
				want = want || o == h
			}
			if got := !locked(ref(cols[h], row)); got != want {
				t.Errorf("%s %s: unlocked = %v, want %v", ind.Code, h, got, want)
			}
		}
	}
	if locked("B2") == false || locked("E2") == false {
		t.Error("township or period cell is not locked")
	}
	dvs, err := f.GetDataValidations(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var lists, numbers int
	for _, dv := range dvs {
		switch dv.Type {
		case "list":
			lists++
			if !strings.Contains(dv.Formula1, ListSheet) {
				t.Errorf("drop-down %s lists %q, want the hidden sheet", dv.Sqref, dv.Formula1)
			}
		case "decimal":
			numbers++
			// the bound is the collector's: 10 亿 for counts, stocks and ratios, max for a bonus
			// (the message writes the bound as figures are written everywhere, with 千分位)
			top, say := "1000000000", "请填写 0 到 1,000,000,000 之间的数字"
			if row, _ := strconv.Atoi(strings.TrimLeft(dv.Sqref, "ABCDEFGHIJ")); row == HeaderRow+5 {
				top, say = "5", "请填写 0 到 5 之间的数字"
			}
			if dv.Operator != "between" || dv.Formula1 != "0" || dv.Formula2 != top || dv.Error == nil || !strings.Contains(*dv.Error, say) {
				t.Errorf("number rule %s: %s %s–%s %v, want between 0 and %s saying %q", dv.Sqref, dv.Operator, dv.Formula1, dv.Formula2, errorText(dv), top, say)
			}
		}
	}
	if lists != 2 || numbers != 5 { // plan, incident; screenings, homes, honors, closure ×2
		t.Errorf("%d drop-downs and %d number rules, want 2 and 5", lists, numbers)
	}
}

func TestFilledTemplateReadsBack(t *testing.T) {
	a := assessment(t)
	jiazhen, _ := a.Township("aa")
	var buf bytes.Buffer
	if err := Write(&buf, a, []kpi.Township{jiazhen}, kpi.MustPeriod("2024-03")); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "甲镇" {
		t.Fatalf("sheets %v", got)
	}
	cols := columns(t, f, "甲镇")
	fill := func(row int, header string, v any) {
		c, _ := excelize.CoordinatesToCellName(cols[header], HeaderRow+row)
		if err := f.SetCellValue("甲镇", c, v); err != nil {
			t.Fatal(err)
		}
	}
	fill(1, collector.FormValueHeader, 17)
	fill(3, collector.FormNumHeader, 4)
	fill(3, collector.FormDenHeader, 5)
	fill(4, collector.FormYesNoHeader, "是")
	fill(6, collector.FormYesNoHeader, "否")
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b := collector.NewBatch(a)
	b.AddBytes("甲镇3月.xlsx", out.Bytes())
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	p := kpi.MustPeriod("2024-03")
	want := []kpi.Observation{
		{Township: "aa", Indicator: "screenings", Period: p, Value: 17},
		{Township: "aa", Indicator: "closure", Period: p, Numerator: 4, Denominator: 5},
		{Township: "aa", Indicator: "plan", Period: p, Value: 1},
		{Township: "aa", Indicator: "incident", Period: p, Value: 0},
	}
	got := b.Observations()
	if len(got) != len(want) {
		t.Fatalf("read %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// the stock left blank is named by the cell to fill in; the bonus left blank is no points
	blank := []collector.Blank{{Township: "aa", Indicator: "homes", Period: p, Cell: "甲镇3月.xlsx:甲镇!G6"}}
	if got := b.Blanks(); len(got) != 1 || got[0] != blank[0] {
		t.Errorf("blanks %+v, want %+v", got, blank)
	}
}

// errorText is a data validation's error message, or "" when it has none.
func errorText(dv *excelize.DataValidation) string {
	if dv.Error == nil {
		return ""
	}
	return *dv.Error
}

func TestTemplateRefusesAnotherYear(t *testing.T) {
	if err := Write(&bytes.Buffer{}, assessment(t), nil, kpi.MustPeriod("2023-12")); err == nil || !strings.Contains(err.Error(), "不在考核年度") {
		t.Errorf("got %v", err)
	}
}

func TestSheetNames(t *testing.T) {
	used := map[string]bool{ListSheet: true}
	long := kpi.Township{Code: "x", Name: strings.Repeat("长", 40)}
	for _, tc := range []struct {
		t    kpi.Township
		want string
	}{
		{kpi.Township{Code: "a", Name: "东城街道"}, "东城街道"},
		{kpi.Township{Code: "b", Name: "东城街道"}, "b"},
		{kpi.Township{Code: "c", Name: "a/b:c"}, "a_b_c"},
		{long, strings.Repeat("长", 31)},
		{kpi.Township{Code: "字典", Name: "字典"}, "字典_2"},
	} {
		if got := sheetName(tc.t, used); got != tc.want {
			t.Errorf("sheetName(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// TestInstructionsFollowTheLevel: the form goes to the federation that runs the assessment —
// 县妇联, 区妇联, 市妇联 (a city's counties fill in what they report themselves) or 省妇联 —
// and says so, naming no other.
func TestInstructionsFollowTheLevel(t *testing.T) {
	for _, c := range []struct {
		level kpi.Level
		to    string
	}{
		{kpi.LevelCounty, "交县妇联"}, {kpi.LevelDistrict, "交区妇联"}, {kpi.LevelCity, "交市妇联"}, {kpi.LevelProvince, "交省妇联"},
	} {
		t.Run(string(c.level), func(t *testing.T) {
			a, err := kpi.ParseConfig("test.yaml", []byte("level: "+string(c.level)+"\n"+testConfig))
			if err != nil {
				t.Fatal(err)
			}
			f := formOf(t, a, "2024-06")
			got, err := f.GetCellValue("甲镇", "A3")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "通过上传页面提交或"+c.to+"；") {
				t.Errorf("the instructions read %q, want them to say %s", got, c.to)
			}
			for _, other := range []string{"交县妇联", "交区妇联", "交市妇联", "交省妇联", "县（区）"} {
				if other != c.to && strings.Contains(got, other) {
					t.Errorf("the instructions say %s: %q", other, got)
				}
			}
		})
	}
}

// TestRatioWordingFitsEveryRatio: what the form says of a ratio in a month with nothing to
// count is worded for every ratio, not for petitions (受理): a 妇联组建率's 说明, the input
// prompt of its 分母 and the instructions above the table all say 本月没有发生的，分子、分母都填 0.
func TestRatioWordingFitsEveryRatio(t *testing.T) {
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试县妇联2024年度目标管理考核
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: org, name: 村（社区）妇联组建率, kind: ratio, weight: 100, threshold: 0.95}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := formOf(t, a, "2024-06")
	const sheet, want = "甲镇", "本月没有发生的，分子、分母都填 0"
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var said []string // every text a township chair reads on the sheet
	for _, r := range rows {
		said = append(said, r...)
	}
	dvs, err := f.GetDataValidations(sheet)
	if err != nil {
		t.Fatal(err)
	}
	denPrompt := ""
	for _, dv := range dvs {
		if dv.Prompt != nil {
			said = append(said, *dv.Prompt)
			if strings.HasPrefix(*dv.Prompt, "本月分母") {
				denPrompt = *dv.Prompt
			}
		}
	}
	for _, s := range said {
		if strings.Contains(s, "受理") {
			t.Errorf("the form of a 组建率 speaks of petitions: %q", s)
		}
	}
	cols := columns(t, f, sheet)
	if note := rows[HeaderRow][cols["说明"]-1]; note != "达标线 95.0%；分子不能大于分母；"+want {
		t.Errorf("说明 %q, want 达标线 95.0%%；分子不能大于分母；%s", note, want)
	}
	if denPrompt != "本月分母；"+want {
		t.Errorf("the 分母 cell's prompt is %q, want 本月分母；%s", denPrompt, want)
	}
	// a chair who sees the year's running total on /my (全年累计 75/81) is told not to type it
	if !slices.Contains(said, "本月分子、分母（不是全年累计）") || !strings.Contains(rows[2][0], "只填本月的数，不是全年累计") {
		t.Errorf("the form does not say a ratio's figures are the month's own, not the year's running total")
	}
	if instr := rows[2][0]; !strings.Contains(instr, "分子不能大于分母；"+want+"。") || !strings.Contains(instr, "比率类本月没有发生的请填分子 0、分母 0") {
		t.Errorf("the instructions do not say %q for ratios:\n%s", want, instr)
	}
}

// formOf is the form of every township of a for the month p, written and opened again;
// closed when the test ends.
func formOf(t *testing.T, a *kpi.Assessment, p string) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, a, nil, kpi.MustPeriod(p)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
