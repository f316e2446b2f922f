package charts

import (
	"math"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// dash stands for a figure that is not defined.
const dash = "—"

// thousands writes v rounded to at most `decimals` decimals (trailing zeros dropped) with
// 千分位 separators (12,345.5), by kpi's one number formatter; a dash for NaN or ±Inf.
func thousands(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return kpi.FormatDecimal(v, decimals, false)
}

// number writes a figure without a unit for people (kpi.FormatNumber), or a dash.
func number(n kpi.Num) string {
	if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return dash
	}
	return kpi.FormatNumber(n.V)
}

// percent writes a fraction as a percentage with one decimal (93.3%), or a dash.
func percent(n kpi.Num) string {
	if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return dash
	}
	return kpi.FormatPercent(n)
}

// withUnit appends the indicator's unit to a formatted figure, unless it is a dash.
func withUnit(s, unit string) string {
	if s == dash || unit == "" || unit == "%" {
		return s
	}
	return s + " " + unit
}

// measure is an indicator as the pages write its figures: as its kind reads, except that a
// city's share of townships done (a stock of 0 … 1 derived from its counties' milestone,
// kpi.Units.ShareOf) reads as a percentage, in tables, tooltips and on charts' axes.
type measure struct {
	*kpi.Indicator
	Share bool // a share of townships done, 0 … 1
}

// plain is an indicator whose figures are not shares.
func plain(ind *kpi.Indicator) measure { return measure{Indicator: ind} }

// percentScale reports whether the indicator's figures are fractions that pages write as
// percentages: ratios, milestones (done or not; a county's share done) and shares.
func (m measure) percentScale() bool {
	return m.Share || m.Kind == kpi.KindRatio || m.Kind == kpi.KindMilestone
}

// figure writes an indicator's figure (an actual, expected or target) the way its kind
// reads: a ratio or a share as a percentage, a milestone as done or not, a veto as yes or
// no, a bonus in points, counts and stocks with their unit.
func figure(ind measure, n kpi.Num) string {
	if !n.Valid {
		return dash
	}
	if ind.Share {
		return percent(n)
	}
	switch ind.Kind {
	case kpi.KindRatio:
		return percent(n)
	case kpi.KindMilestone:
		return kpi.MilestoneDone(n)
	case kpi.KindVeto:
		if n.V > 0 {
			return "是"
		}
		return "否"
	case kpi.KindBonus:
		return kpi.FormatNumber(n.V) + " 分"
	}
	if math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return dash
	}
	return withUnit(kpi.FormatFigure(n.V, ind.Unit), ind.Unit)
}

// required writes a figure to reach (序时目标, 每月还需) as figure does, but a count's or a
// stock's in a counting unit as the least whole number that reaches it (kpi.FormatRequired:
// 583.33 人 reads 584 人). A figure not to exceed (lower is better) is written as it is.
func required(ind measure, n kpi.Num) string {
	if !n.Valid || ind.Share || (ind.Kind != kpi.KindCount && ind.Kind != kpi.KindStock) || ind.Direction == kpi.Lower {
		return figure(ind, n)
	}
	return withUnit(kpi.FormatRequired(n.V, ind.Unit), ind.Unit)
}

// estimate writes a figure kpimon estimates (预计全年 and its interval) as figure does, but a
// count's or a stock's in a counting unit rounded to a whole number (kpi.FormatEstimate).
func estimate(ind measure, n kpi.Num) string {
	if !n.Valid || ind.Share || (ind.Kind != kpi.KindCount && ind.Kind != kpi.KindStock) {
		return figure(ind, n)
	}
	return withUnit(kpi.FormatEstimate(n.V, ind.Unit), ind.Unit)
}

// points writes a score (得分) with two decimals at most.
func points(v float64) string { return thousands(v, 2) }

// clock writes a moment in the assessment's time zone, to the minute.
func clock(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006-01-02 15:04")
}

// statusLabel is the status in Chinese, or a dash for bonus and veto indicators.
func statusLabel(s kpi.Status) string {
	if s == "" {
		return dash
	}
	return s.Label()
}

// percentPoints writes a difference of two fractions in percentage points with one decimal:
// 8.3 个百分点.
func percentPoints(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return kpi.FormatDecimal(v*100, 1, true) + " 个百分点"
}
