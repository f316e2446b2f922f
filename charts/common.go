package charts

import (
	"fmt"
	"math"
	"strings"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// share is a figure as a percentage of its target, the one scale on which indicators of
// different units can stand side by side: completion for counts and stocks (for a ceiling,
// how much of it is used), the rate against its threshold for ratios, 0 or 100 for
// milestones. The second value is the percentage expected by month m. Tracked-only
// indicators, bonuses and vetoes have no share.
func share(ind *kpi.Indicator, actual, target, expected kpi.Num, m int) (got, want kpi.Num) {
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock:
		if !target.Valid || target.V <= 0 {
			return kpi.Num{}, kpi.Num{}
		}
		if actual.Valid {
			got = kpi.Some(actual.V / target.V * 100)
		}
		if expected.Valid {
			want = kpi.Some(expected.V / target.V * 100)
		}
	case kpi.KindRatio:
		if actual.Valid && target.Valid && target.V > 0 {
			got = kpi.Some(actual.V / target.V * 100)
		}
		want = kpi.Some(100)
	case kpi.KindMilestone:
		if actual.Valid {
			got = kpi.Some(actual.V * 100)
		}
		if m >= ind.Due {
			want = kpi.Some(100)
		} else {
			want = kpi.Some(0)
		}
	}
	return got, want
}

// progressRow is one bar of a progress chart: an indicator (or a township) as a share of its
// target, with the share expected by now.
type progressRow struct {
	Name     string
	Got      kpi.Num // % of target
	Want     kpi.Num // % of target expected by now
	Status   kpi.Status
	Tip      string
	Link     string
	Ceiling  bool // a lower-is-better target: the bar is how much of the ceiling is used
	Category string
	Sep      bool // the gap between the first and the last units of a large assessment: no bar
}

// maxShare is where progress bars stop being drawn longer; tooltips keep the real figure.
const maxShare = 200.0

// shareAxis is the end and the step of a progress chart's axis of shares reaching top (%):
// at most five labels (0%, 25%, 50%, 75%, 100%; by 50% beyond 100%), so that on a phone's
// 150 px of bars "75%" and "100%" stand apart (a step of 20% left "80%100%" touching). The
// axis ends at the next 10% beyond top (a bar at 102% does not leave a third of the width
// empty up to 150%); the end's own label is then hidden (showEnd false), as it would stand
// on the last step's.
func shareAxis(top float64) (end, step float64, showEnd bool) {
	step = 25
	if top > 100 {
		step = 50
	}
	end = math.Max(100, math.Ceil(top/10)*10)
	return end, step, math.Mod(end, step) == 0
}

// paceOutline is the outline of the progress charts' 序时进度 marker: dark against every
// status's bar and against the page.
const paceOutline = "#111111"

// progressChart draws rows as horizontal bars coloured by status, the expected share as a
// marker on each bar and the target as a line at 100%. When every row expects the same share
// (one indicator's townships), expectedLine draws it as a line too.
func progressChart(id, title string, rows []progressRow, expectedLine kpi.Num) (chart, error) {
	names := make([]string, len(rows))
	bars := make([]opts.BarData, len(rows))
	marks := make([]opts.ScatterData, len(rows))
	tips := make([]string, len(rows))
	markTips := make([]string, len(rows))
	hrefs := make([]string, len(rows))
	top := 100.0
	for i, r := range rows {
		names[i] = r.Name
		if r.Sep {
			bars[i], marks[i] = opts.BarData{Value: "-"}, opts.ScatterData{Value: "-"}
			continue
		}
		v := 0.0
		if r.Got.Valid {
			v = math.Min(kpi.Round(r.Got.V, 1), maxShare)
		}
		top = math.Max(top, v)
		bars[i] = opts.BarData{Value: v, ItemStyle: itemColor(statusColor(r.Status))}
		if r.Want.Valid {
			marks[i] = opts.ScatterData{Value: kpi.Round(math.Min(r.Want.V, maxShare), 1)}
		} else {
			marks[i] = opts.ScatterData{Value: "-"}
		}
		tips[i], markTips[i], hrefs[i] = r.Tip, r.Tip, r.Link
	}
	axisMax, axisStep, showEnd := shareAxis(top)
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: "24", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, Max: axisMax,
			AxisLabel: &opts.AxisLabel{Formatter: "{value}%"}}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	bar.AddSeries("完成率（占年度目标）", bars,
		ec.WithItemStyleOpts(opts.ItemStyle{Color: colorActual}),
		ec.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{Name: "年度目标", XAxis: 100}),
		ec.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
			LineStyle: &opts.LineStyle{Color: colorTarget, Type: "solid", Width: 2},
			Label:     &opts.Label{Show: opts.Bool(true), Formatter: "年度目标", Position: "start"}}),
	)
	sc := ec.NewScatter()
	sc.AddSeries("序时进度", marks, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorExpected}))
	bar.Overlap(sc)
	lines := []any{map[string]any{"name": "年度目标", "xAxis": 100,
		"label": map[string]any{"formatter": "年度目标", "position": "start"}}}
	if expectedLine.Valid && expectedLine.V > 0 && expectedLine.V < 100 {
		lines = append(lines, map[string]any{"name": "序时进度", "xAxis": kpi.Round(expectedLine.V, 1),
			"lineStyle": map[string]any{"color": colorExpected, "type": "dashed", "width": 2},
			"label":     map[string]any{"formatter": "序时进度", "position": "start", "color": colorExpected}})
	}
	return newChart(id, title, rowsHeight(len(rows), 26, 60, 160), bar,
		chartSpec{Tips: [][]string{tips, markTips}, Links: [][]string{hrefs, hrefs}},
		set("series.0.markLine.data", lines),
		set("yAxis.0.axisLabel", map[string]any{"width": 130, "overflow": "truncate"}),
		set("series.0.barMaxWidth", 18),
		set("series.1.symbol", "rect"),
		set("xAxis.0.interval", axisStep),
		set("xAxis.0.axisLabel.showMaxLabel", showEnd),
		set("series.1.symbolSize", []int{6, 18}),
		// an outline keeps the orange marker apart from an amber (预警) bar and the white
		set("series.1.itemStyle.borderColor", paceOutline),
		set("series.1.itemStyle.borderWidth", 1),
		set("series.1.z", 5),
		set("series.0.markLine.silent", true),
	)
}

// statusColor is the status's colour; bonus and veto (no status) are grey.
func statusColor(s kpi.Status) string {
	if c, ok := statusColors[string(s)]; ok {
		return c
	}
	return statusColors["not_applicable"]
}

// evalTip writes an evaluation for a tooltip: status, actual, expected, target, completion.
func evalTip(head string, ind measure, actual, target, expected, completion kpi.Num, st kpi.Status) string {
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "\n状态：%s", statusLabel(st))
	writeFigures(&b, ind, figure(ind, actual), target, expected, completion)
	return b.String()
}

// countyFigure writes the county aggregate's actual: a milestone's is how many units have
// done it (4/6 已完成, kpi.CountyEvaluation.MilestoneText), never 未完成; others as figure.
func countyFigure(ind measure, c *kpi.CountyEvaluation) string {
	if ind.Kind == kpi.KindMilestone {
		return c.MilestoneText()
	}
	return figure(ind, c.Actual)
}

// countyTip writes the county aggregate of an indicator for a tooltip, as evalTip does a
// township's, a milestone's actual as the share of units done (countyFigure).
func countyTip(head string, ind measure, c *kpi.CountyEvaluation) string {
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "\n状态：%s", statusLabel(c.Status))
	writeFigures(&b, ind, countyFigure(ind, c), c.Target, c.Expected, c.Completion)
	if c.Forecast != nil {
		b.WriteString("\n" + forecastTip(ind, c.Forecast))
	}
	return b.String()
}

// cellTip writes a township × indicator for a tooltip. A figure owed this month and not sent
// reads 未报送 with the deadline, then the status the months reported before give (按此前数据),
// then the figures, which are those earlier months' (see shownStatus).
func cellTip(head string, ind measure, e *kpi.Evaluation, due reportDue) string {
	if !unreported(ind.Indicator, e) {
		tip := evalTip(head, ind, e.Actual, e.Target, e.Expected, e.Completion, e.Status)
		if e.Forecast != nil {
			tip += "\n" + forecastTip(ind, e.Forecast)
		}
		return tip
	}
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "\n状态：本月未报送（%s）", due.Note())
	if p := priorStatus(ind.Indicator, e); p != "" {
		fmt.Fprintf(&b, "\n%s", p)
	}
	writeFigures(&b, ind, figure(ind, e.Actual), e.Target, e.Expected, e.Completion)
	if e.Forecast != nil {
		b.WriteString("\n" + forecastTip(ind, e.Forecast))
	}
	return b.String()
}

// writeFigures writes the lines of a tooltip after its status: actual (written already),
// expected, target, completion, each as the kind reads.
func writeFigures(b *strings.Builder, ind measure, actual string, target, expected, completion kpi.Num) {
	fmt.Fprintf(b, "\n实际：%s", actual)
	if ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock {
		if expected.Valid {
			fmt.Fprintf(b, "\n序时目标：%s", required(ind, expected))
		}
		if target.Valid {
			label := "年度目标"
			if ind.Direction == kpi.Lower {
				label = "控制上限"
			}
			fmt.Fprintf(b, "\n%s：%s", label, figure(ind, target))
		}
	}
	if ind.Kind == kpi.KindRatio && target.Valid {
		fmt.Fprintf(b, "\n达标线：%s", percent(target))
	}
	if ind.Kind == kpi.KindMilestone {
		fmt.Fprintf(b, "\n要求：%s", kpi.MilestoneDue(ind.Due))
	}
	if completion.Valid && ind.Kind != kpi.KindMilestone {
		fmt.Fprintf(b, "\n完成率：%s", percent(completion))
	}
}

// scoredIndicators lists the positions of the indicators that carry a weight and a status.
func scoredIndicators(a *kpi.Assessment) []int {
	var out []int
	for i := range a.Indicators {
		if a.Indicators[i].Kind.Scored() {
			out = append(out, i)
		}
	}
	return out
}

// unreported reports whether the township owed the indicator's figure for the month and
// has not sent it (本月未报): only kinds reported every month (count, stock, ratio) are owed.
// Milestones, bonuses and vetoes are reported when they happen and are never unreported.
func unreported(ind *kpi.Indicator, e *kpi.Evaluation) bool {
	return ind.Kind.ReportedMonthly() && !e.Reported
}

// shownStatus is the status the pages show for a township × indicator: its evaluated status,
// except that a figure owed this month and not sent shows 未报送 (kpi.StatusNoData's label
// and grey), whatever the months reported before add up to.
//
// A leader reading the month's pages needs first to know who has not reported: a township
// that sent nothing for October still has a cumulative actual from January to September, and
// its evaluated status (滞后, 预警, even 序时达标) describes those earlier months, not
// October. Painting it red or amber would pass a missing report off as a township behind
// its target, and green would hide it. So every heat map cell, status chart bar, progress
// bar and table status of an unreported figure is grey 未报送, and is counted under 未报送;
// the status of the earlier months is kept in the tooltip and under the table badge as
// 按此前数据：滞后 (priorStatus), where it does not mix with the month's statuses.
func shownStatus(ind *kpi.Indicator, e *kpi.Evaluation) kpi.Status {
	if unreported(ind, e) {
		return kpi.StatusNoData
	}
	return e.Status
}

// priorStatus says what the months reported before give for a figure not sent this month
// (按此前数据：滞后), or "" when that says nothing: the figure is sent, nothing was ever
// reported (no_data), or the status is 不适用.
func priorStatus(ind *kpi.Indicator, e *kpi.Evaluation) string {
	if !unreported(ind, e) || e.Status == "" || e.Status == kpi.StatusNoData || e.Status == kpi.StatusNotApplicable {
		return ""
	}
	return "按此前数据：" + e.Status.Label()
}

// reportDue is the deadline of the month's reports and whether it has passed as of the
// evaluation's clock.
type reportDue struct {
	Label   string // 1月5日
	Overdue bool
}

// dueOf is the deadline of the snapshot's month.
func dueOf(s *Snapshot) reportDue {
	a := s.Assessment
	dl := s.Period.Deadline(a.ReportDeadlineDay, a.Location)
	return reportDue{Label: fmt.Sprintf("%d月%d日", s.Period.Next().Month, a.ReportDeadlineDay), Overdue: !s.Result().Now.Before(dl)}
}

// Note writes the deadline for a tooltip: 截止1月5日，已逾期.
func (d reportDue) Note() string {
	if d.Overdue {
		return "截止" + d.Label + "，已逾期"
	}
	return "截止" + d.Label + "，未到截止日"
}

// reportStats counts the month's reports that have arrived (报送率).
type reportStats struct {
	Due, Arrived       int // township × indicator figures due for the month, and arrived
	Townships, Compete int // townships, and those whose report is complete
	// Incomplete counts the arrived figures of a city's counties summed while some of their
	// townships had not reported (汇总不完整), Gap the most townships one of them missed; a
	// county with such a figure is not complete.
	Incomplete, Gap int
}

func countReports(a *kpi.Assessment, r *kpi.Result) reportStats {
	st := reportStats{Townships: len(a.Townships)}
	nI := len(a.Indicators)
	for t := range a.Townships {
		complete := true
		for i := range a.Indicators {
			if !a.Indicators[i].Kind.ReportedMonthly() {
				continue
			}
			st.Due++
			if e := r.Evaluation(t, i, nI); e.Reported {
				st.Arrived++
				if e.Unreported > 0 {
					st.Incomplete, st.Gap = st.Incomplete+1, max(st.Gap, e.Unreported)
					complete = false
				}
			} else {
				complete = false
			}
		}
		if complete {
			st.Compete++
		}
	}
	return st
}

// Rate is the share of due figures that arrived.
func (st reportStats) Rate() kpi.Num {
	if st.Due == 0 {
		return kpi.Num{}
	}
	return kpi.Some(float64(st.Arrived) / float64(st.Due))
}

// clean keeps ECharts' label templates from reading braces in a name as markup.
func clean(s string) string {
	return strings.NewReplacer("{", "（", "}", "）").Replace(s)
}

// gradeIndex is the position of a grade in the assessment's list, or the last.
func gradeIndex(a *kpi.Assessment, name string) int {
	for i, g := range a.Grades {
		if g.Name == name {
			return i
		}
	}
	return len(a.Grades) - 1
}

// monthLabels are 1月 … m月.
func monthLabels(m int) []string {
	out := make([]string, m)
	for k := 1; k <= m; k++ {
		out[k-1] = fmt.Sprintf("%d月", k)
	}
	return out
}
