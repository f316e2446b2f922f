package bulletin

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/kpi"
)

// The sheets of the bulletin workbook.
const (
	SheetRanking    = "综合排名"
	SheetIndicators = "指标完成情况"
	SheetAlerts     = "预警"
	SheetMissing    = "未报送"
)

// RankingHeaderRow is the row of the ranking sheet's column headers; townships follow it.
const RankingHeaderRow = 4

// fills of the traffic lights: background and font colours.
var lights = map[string][2]string{
	"green": {"C6EFCE", "006100"},
	"amber": {"FFEB9C", "9C5700"},
	"red":   {"FFC7CE", "9C0006"},
	"grey":  {"EDEDED", "404040"},
}

type xstyles struct {
	title, sub, header, text, center, num, num2, pct int
	light                                            map[string]int
}

func newXStyles(f *excelize.File) (xstyles, error) {
	s := xstyles{light: map[string]int{}}
	border := []excelize.Border{{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
		{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1}}
	two := "0.00"
	defs := []struct {
		dst *int
		st  excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&s.sub, excelize.Style{Font: &excelize.Font{Color: "595959"}, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center", WrapText: true}}},
		{&s.header, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&s.text, excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}},
		{&s.center, excelize.Style{Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&s.num, excelize.Style{Border: border, Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}}},
		{&s.num2, excelize.Style{Border: border, CustomNumFmt: &two, Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}}},
		{&s.pct, excelize.Style{Border: border, NumFmt: 10, Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.st)
		if err != nil {
			return s, err
		}
		*d.dst = id
	}
	for name, c := range lights {
		id, err := f.NewStyle(&excelize.Style{Border: border, Font: &excelize.Font{Color: c[1], Bold: name == "red"},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
		if err != nil {
			return s, err
		}
		s.light[name] = id
	}
	return s, nil
}

// sheetWriter writes the cells of one sheet, remembering the first error.
type sheetWriter struct {
	f     *excelize.File
	sheet string
	err   error
}

func (w *sheetWriter) set(col, row int, v any, style int) {
	if w.err != nil {
		return
	}
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err == nil {
		err = w.f.SetCellValue(w.sheet, ref, v)
	}
	if err == nil {
		err = w.f.SetCellStyle(w.sheet, ref, ref, style)
	}
	w.err = err
}

// heading writes the title and subtitle rows and the column headers at row hr, sets the
// widths, freezes the panes below the headers and lays the sheet out for A4 landscape.
func (w *sheetWriter) heading(st xstyles, title, sub string, hr int, headers []string, widths []float64) {
	last, _ := excelize.ColumnNumberToName(len(headers))
	w.set(1, 1, title, st.title)
	w.set(1, 2, sub, st.sub)
	if w.err != nil {
		return
	}
	for _, step := range []func() error{
		func() error { return w.f.MergeCell(w.sheet, "A1", last+"1") },
		func() error { return w.f.MergeCell(w.sheet, "A2", last+"2") },
		func() error { return w.f.SetRowHeight(w.sheet, 1, 28) },
		func() error { return w.f.SetRowHeight(w.sheet, 2, 36) },
	} {
		if w.err = step(); w.err != nil {
			return
		}
	}
	for i, h := range headers {
		w.set(i+1, hr, h, st.header)
		name, _ := excelize.ColumnNumberToName(i + 1)
		if w.err == nil {
			w.err = w.f.SetColWidth(w.sheet, name, name, widths[min(i, len(widths)-1)])
		}
	}
	if w.err != nil {
		return
	}
	top, _ := excelize.CoordinatesToCellName(1, hr+1)
	size, orient, fit, tall := 9, "landscape", 1, 0 // A4, as wide as one page, as many pages down as needed
	for _, step := range []func() error{
		func() error {
			return w.f.SetPanes(w.sheet, &excelize.Panes{Freeze: true, YSplit: hr, TopLeftCell: top, ActivePane: "bottomLeft"})
		},
		func() error {
			return w.f.SetPageLayout(w.sheet, &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, FitToWidth: &fit, FitToHeight: &tall})
		},
		func() error {
			return w.f.SetSheetProps(w.sheet, &excelize.SheetPropsOptions{FitToPage: boolPtr(true)})
		},
		func() error {
			return w.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$%d:$%d", w.sheet, hr, hr), Scope: w.sheet})
		},
		func() error {
			return w.f.SetHeaderFooter(w.sheet, &excelize.HeaderFooterOptions{OddFooter: "&C第 &P 页，共 &N 页"})
		},
	} {
		if w.err = step(); w.err != nil {
			return
		}
	}
}

func boolPtr(b bool) *bool { return &b }

// WriteXLSX writes the bulletin as an Excel workbook.
func (b *Bulletin) WriteXLSX(w io.Writer) error {
	f, err := b.Workbook()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write bulletin: %w", err)
	}
	return nil
}

// Workbook builds the bulletin workbook: the ranking, the indicators, the alerts and the
// missing reports, one sheet each.
func (b *Bulletin) Workbook() (*excelize.File, error) {
	f := excelize.NewFile()
	st, err := newXStyles(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bulletin styles: %w", err)
	}
	if err := f.SetSheetName("Sheet1", SheetRanking); err != nil {
		f.Close()
		return nil, err
	}
	for _, s := range []string{SheetIndicators, SheetAlerts, SheetMissing} {
		if _, err := f.NewSheet(s); err != nil {
			f.Close()
			return nil, err
		}
	}
	for _, step := range []func(*excelize.File, xstyles) error{b.rankingSheet, b.indicatorSheet, b.alertSheet, b.missingSheet} {
		if err := step(f, st); err != nil {
			f.Close()
			return nil, fmt.Errorf("bulletin: %w", err)
		}
	}
	f.SetActiveSheet(0)
	f.SetDocProps(&excelize.DocProperties{Title: b.Title(), Creator: "kpimon", Language: "zh-CN"})
	return f, nil
}

func (b *Bulletin) subtitle() string {
	return fmt.Sprintf("截至%s　生成于 %s", b.Result.Period.Label(), b.Assessment.Clock(b.Generated))
}

func (b *Bulletin) rankingSheet(f *excelize.File, st xstyles) error {
	a := b.Assessment
	w := &sheetWriter{f: f, sheet: SheetRanking}
	cats := a.Categories()
	headers := append([]string{"名次", "较上月", a.Units()}, cats...)
	headers = append(headers, "加分", "总分", "等次")
	widths := []float64{7, 8, 14}
	for range cats {
		widths = append(widths, 10)
	}
	widths = append(widths, 8, 9, 16)
	w.heading(st, b.Title()+" — 综合排名", b.subtitle()+"\n"+b.Summary().Text(b.Result.Period), RankingHeaderRow, headers, widths)
	if err := f.SetRowHeight(SheetRanking, 2, 60); err != nil {
		return err
	}
	row := RankingHeaderRow
	for _, x := range b.Result.Rankings {
		row++
		col := 1
		w.set(col, row, x.Rank, st.center)
		w.set(col+1, row, kpi.FormatRankChange(x.RankChange), st.center)
		w.set(col+2, row, x.Name, st.text)
		col += 3
		for _, c := range cats {
			w.set(col, row, x.Categories[c], st.num2)
			col++
		}
		w.set(col, row, x.Bonus, st.num2)
		w.set(col+1, row, x.Total, st.num2)
		light := "grey"
		switch {
		case x.Veto || x.Grade == a.Grades[len(a.Grades)-1].Name:
			light = "red"
		case x.Grade == a.Grades[0].Name:
			light = "green"
		}
		w.set(col+2, row, x.GradeLabel(), st.light[light])
	}
	return w.err
}

func (b *Bulletin) indicatorSheet(f *excelize.File, st xstyles) error {
	w := &sheetWriter{f: f, sheet: SheetIndicators}
	headers := []string{b.Assessment.Units(), "类别", "指标", "单位", "本月报送", "累计完成", "序时目标", "年度目标", "完成率", "序时完成率", "亮灯", "得分", "分值"}
	widths := []float64{12, 10, 30, 6, 8, 10, 10, 10, 9, 10, 10, 8, 7}
	if len(b.Incomplete) > 0 {
		widths[4] = 13 // 本月报送 of a city's county: 1 个乡镇未报
	}
	const hr = 3
	w.heading(st, b.Title()+" — 指标完成情况", b.subtitle()+"　绿：达标或序时达标；黄：预警；红：滞后", hr, headers, widths)
	row := hr
	for _, r := range b.Rows() {
		row++
		w.set(1, row, r.Township, st.text)
		w.set(2, row, r.Category, st.text)
		w.set(3, row, r.Indicator, st.text)
		w.set(4, row, r.Unit, st.center)
		w.set(5, row, r.Reported, st.center)
		w.figure(6, row, r, r.e.Actual, st)
		expected := r.e.Expected
		if r.roundUp && expected.Valid {
			expected = kpi.Some(kpi.Required(expected.V, r.Unit))
		}
		w.figure(7, row, r, expected, st)
		if r.Kind == kpi.KindMilestone {
			w.set(8, row, r.Target, st.center)
		} else {
			w.figure(8, row, r, r.e.Target, st)
		}
		w.fraction(9, row, r.e.Completion, st)
		w.fraction(10, row, r.e.Pace, st)
		w.set(11, row, r.Status, st.light[r.Light])
		if r.e.Score.Valid {
			w.set(12, row, kpi.Round(r.e.Score.V, 2), st.num2)
		} else {
			w.set(12, row, "—", st.center)
		}
		if r.Kind.Scored() {
			w.set(13, row, r.e.Weight, st.num)
		} else {
			w.set(13, row, "—", st.center)
		}
	}
	if w.err == nil && row > hr {
		last, _ := excelize.CoordinatesToCellName(len(headers), row)
		w.err = f.AutoFilter(SheetIndicators, "A3:"+last, nil)
	}
	return w.err
}

// figure writes a figure as a number where it is one (counts, stocks, bonuses, ratios as
// percentages) and as words where it is not (milestones, vetoes, undefined).
func (w *sheetWriter) figure(col, row int, r Row, n kpi.Num, st xstyles) {
	switch {
	case !n.Valid || r.Kind == kpi.KindMilestone || r.Kind == kpi.KindVeto:
		w.set(col, row, figureText(r, n), st.center)
	case r.Kind == kpi.KindRatio || r.Share:
		w.set(col, row, n.V, st.pct)
	default:
		w.set(col, row, n.V, st.num)
	}
}

// figureText is figure for a row: the kind and unit are the row's.
func figureText(r Row, n kpi.Num) string {
	if r.Share {
		return kpi.FormatPercent(n)
	}
	ind := kpi.Indicator{Kind: r.Kind, Unit: r.Unit}
	return figure(&ind, n)
}

func (w *sheetWriter) fraction(col, row int, n kpi.Num, st xstyles) {
	if !n.Valid {
		w.set(col, row, "—", st.center)
		return
	}
	w.set(col, row, n.V, st.pct)
}

func (b *Bulletin) alertSheet(f *excelize.File, st xstyles) error {
	w := &sheetWriter{f: f, sheet: SheetAlerts}
	const hr = 3
	al := b.Alerts()
	w.heading(st, b.Title()+" — 预警", fmt.Sprintf("%s　共 %d 条", b.subtitle(), len(al)), hr, []string{"级别", "预警", b.Assessment.Units(), "指标", "起始月份", "说明"}, []float64{8, 14, 12, 30, 10, 60})
	row := hr
	for _, x := range al {
		row++
		light := "amber"
		if x.Severity == kpi.SeverityCritical {
			light = "red"
		}
		w.set(1, row, kpi.SeverityLabel(x.Severity), st.light[light])
		w.set(2, row, kpi.AlertLabel(x.Alert), st.text)
		w.set(3, row, x.TownshipName, st.text)
		w.set(4, row, x.IndicatorName, st.text)
		w.set(5, row, x.ActiveSince.String(), st.center)
		w.set(6, row, x.Summary, st.text)
	}
	if len(al) == 0 {
		w.set(1, row+1, "本月无预警。", st.sub)
	}
	return w.err
}

func (b *Bulletin) missingSheet(f *excelize.File, st xstyles) error {
	w := &sheetWriter{f: f, sheet: SheetMissing}
	const hr = 3
	w.heading(st, b.Title()+" — 未报送", b.subtitle(), hr, []string{b.Assessment.Units(), "未报送指标数", "未报送指标", "报送截止", "状态"}, []float64{12, 10, 70, 14, 10})
	row := hr
	for _, m := range b.Missing {
		row++
		state, light := "未到截止日", "amber"
		if m.Overdue {
			state, light = "已逾期", "red"
		}
		w.set(1, row, m.Township.Name, st.text)
		w.set(2, row, len(m.Indicators), st.num)
		w.set(3, row, joinNames(m.Indicators), st.text)
		w.set(4, row, m.Deadline.Format("2006-01-02"), st.center)
		w.set(5, row, state, st.light[light])
	}
	for _, x := range b.Incomplete {
		row++
		w.set(1, row, x.Township.Name, st.text)
		w.set(2, row, len(x.Indicators), st.num)
		w.set(3, row, fmt.Sprintf("有 %d 个%s未报送，以下汇总数不完整：%s", x.Units, x.Noun, joinNames(x.Indicators)), st.text)
		w.set(4, row, "", st.center)
		w.set(5, row, "汇总不完整", st.light["amber"])
	}
	if len(b.Missing) == 0 && len(b.Incomplete) == 0 {
		w.set(1, row+1, "各"+b.Assessment.Units()+"本月报表齐全。", st.sub)
	}
	return w.err
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += "、"
		}
		out += n
	}
	return out
}
