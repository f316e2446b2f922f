package charts

import (
	"math"
	"strconv"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

// 同比 (较去年同期) on the pages. Where the deployment holds the assessment's previous year
// (kpi.Result.WithLastYear), each figure stands beside the same unit's figure as of the same
// month of last year: the difference, and last year's figure with its completion and status
// then. Tables get a column 较去年同期 after 累计实际, the ranking a column 去年同期 with last
// year's rank, and the trend charts a dashed line of last year (legend 去年同期). Without a
// last year none of these appear: no empty columns, no empty lines.

// lyLegend is the legend entry, and the series name, of last year's lines.
const lyLegend = "去年同期"

// lastYearCell is a figure beside last year's (较去年同期), written for a table cell.
type lastYearCell struct {
	Diff  string // the difference: +120 人, -1.2 个百分点, 持平; empty where there is no difference to take (a milestone, a veto)
	Class string // ly-better, ly-worse or "": whether the difference is for the better
	Then  string // last year's figure: 去年 1,050 人
	State string // last year's completion and status: 完成 87.5% · 序时达标; empty where there are none

	// the parts, for a large assessment's rows made in the browser (compact)
	figure, completion, status string
	none                       int // lyFigure, lyNone or lyNoData
}

// What a large assessment's row says of last year in place of its figure (compact).
const (
	lyFigure = iota // last year's figure
	lyNone          // 去年无此项
	lyNoData        // 去年同期无数据
)

// lyShared are the words every compact row's 较去年同期 shares: the figure's prefix, the
// completion's, and the texts for no such unit or no data.
var lyShared = map[string]any{"then": "去年 ", "done": "完成 ", "none": []string{"", "去年无此项", "去年同期无数据"}}

// compact is the cell as a large assessment's row carries it: [diff, class (1 better, -1
// worse, 0), last year's figure or what stands for it (a number: lyNone, lyNoData),
// completion, status]; kpimon.js puts the words back (lyShared).
func (c lastYearCell) compact() []any {
	class := 0
	switch c.Class {
	case "ly-better":
		class = 1
	case "ly-worse":
		class = -1
	}
	var then any = c.figure
	if c.none != lyFigure {
		then = c.none
	}
	return []any{c.Diff, class, then, c.completion, c.status}
}

// newLastYearCell writes a figure now beside last year's ly. county says the figures are an
// aggregate's (a milestone's is then the share of units done, not done or not).
func newLastYearCell(ind measure, now kpi.Num, ly *kpi.LastYear, county bool) lastYearCell {
	if ly == nil {
		return lastYearCell{Diff: dash, Then: "去年无此项", none: lyNone}
	}
	c := lastYearCell{figure: lastYearFigure(ind, ly.Actual, county)}
	c.Then = "去年 " + c.figure
	if !ly.Actual.Valid {
		c.Then, c.none = "去年同期无数据", lyNoData
	}
	switch {
	case ind.Kind == kpi.KindVeto, ind.Kind == kpi.KindMilestone && !county:
		// done or not, vetoed or not: last year's word says it all
	case !now.Valid || !ly.Actual.Valid || math.IsNaN(now.V-ly.Actual.V) || math.IsInf(now.V-ly.Actual.V, 0):
		c.Diff = dash
	default:
		c.Diff, c.Class = difference(ind, now.V-ly.Actual.V, county)
	}
	var state []string
	if ly.Completion.Valid && ind.Kind != kpi.KindMilestone && ind.Kind != kpi.KindBonus && ind.Kind != kpi.KindVeto && ind.Direction != kpi.Lower {
		c.completion = percent(ly.Completion)
		state = append(state, "完成 "+c.completion)
	}
	if ly.Status != "" && ly.Status != kpi.StatusNoData {
		c.status = ly.Status.Label()
		state = append(state, c.status)
	}
	c.State = strings.Join(state, " · ")
	return c
}

// lastYearFigure writes last year's figure as this year's reads: a county's milestone as
// the share of its units done.
func lastYearFigure(ind measure, n kpi.Num, county bool) string {
	if county && ind.Kind == kpi.KindMilestone {
		if !n.Valid {
			return dash
		}
		return percent(n) + " 已完成"
	}
	return figure(ind, n)
}

// difference writes d, this year's figure less last year's, with its sign, in the
// indicator's terms: a ratio's, a share's or a county milestone's in percentage points, a
// bonus in points, counts and stocks in their unit; 持平 when it rounds to nothing. The class
// says whether it is for the better (more, or less of a ceiling); a figure tracked only
// (no target) is neither.
func difference(ind measure, d float64, county bool) (string, string) {
	var text string
	switch {
	case ind.percentScale() || (county && ind.Kind == kpi.KindMilestone):
		text = kpi.FormatDecimal(math.Abs(d)*100, 1, true)
		if text == "0.0" {
			return "持平", ""
		}
		text += " 个百分点"
	case ind.Kind == kpi.KindBonus:
		text = kpi.FormatNumber(math.Abs(d))
		if text == "0" {
			return "持平", ""
		}
		text += " 分"
	default:
		text = kpi.FormatFigure(math.Abs(d), ind.Unit)
		if strings.Trim(text, "0.,") == "" {
			return "持平", ""
		}
		text = withUnit(text, ind.Unit)
	}
	sign := "-"
	if d > 0 {
		sign = "+"
	}
	if tracked(ind) { // counted, not judged: more is neither better nor worse
		return sign + text, ""
	}
	better := d > 0
	if ind.Direction == kpi.Lower {
		better = !better
	}
	if better {
		return sign + text, "ly-better"
	}
	return sign + text, "ly-worse"
}

// tracked reports whether a count or stock is tracked only: no target for any unit.
func tracked(ind measure) bool {
	return (ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock) && ind.Target == nil && len(ind.Targets) == 0
}

// lastYearTip is the tooltip line of a figure beside last year's: 较去年同期：+120 人（去年 1,050 人，完成 87.5%，序时达标）.
func lastYearTip(c lastYearCell) string {
	var b strings.Builder
	b.WriteString("较去年同期：")
	if c.Diff != "" {
		b.WriteString(c.Diff + "（")
	}
	b.WriteString(c.Then)
	if c.State != "" {
		b.WriteString("，" + strings.ReplaceAll(c.State, " · ", "，"))
	}
	if c.Diff != "" {
		b.WriteString("）")
	}
	return b.String()
}

// rankThen writes last year's rank: 第3名, or a dash.
func rankThen(rank *int) string {
	if rank == nil {
		return dash
	}
	return "第" + strconv.Itoa(*rank) + "名"
}
