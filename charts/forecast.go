package charts

import (
	"cmp"
	"fmt"
	"slices"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// forecastCell is an evaluation's 预计全年 (kpi.Forecast) written for a table: the estimate
// with its 80% interval under it, coloured by how it stands against the target, and what
// each remaining month must add (每月还需). Everything is a dash where the evaluation has no
// forecast (December, milestones, bonuses, vetoes, lower-is-better and tracked-only figures).
type forecastCell struct {
	YearEnd string // 1,180.5 人
	Range   string // the 80% interval, 1,102.3–1,258.7 人; empty without a forecast
	Class   string // fc-miss: even the interval's high end is under the target; fc-risk: the estimate is; "" otherwise
	Needed  string // 每月还需: 95.25 人, 已达目标, or a dash
}

// newForecastCell writes the forecast f of an indicator whose goal (the annual target; a
// ratio's threshold) is goal.
func newForecastCell(ind measure, f *kpi.Forecast, goal kpi.Num) forecastCell {
	if f == nil {
		return forecastCell{YearEnd: dash, Needed: dash}
	}
	end, low, high := wholeRange(ind, f)
	c := forecastCell{YearEnd: estimate(ind, kpi.Some(end)), Range: span(ind, low, high), Needed: dash}
	if goal.Valid {
		switch {
		case f.High < goal.V:
			c.Class = "fc-miss"
		case f.YearEnd < goal.V:
			c.Class = "fc-risk"
		}
	}
	if n := f.NeededPerMonth; n.Valid {
		c.Needed = required(ind, n)
		if ind.Share { // a share's monthly step is in percentage points
			c.Needed = percentPoints(n.V)
		}
		if n.V <= 0 {
			c.Needed = "已达目标"
		}
	}
	return c
}

// span writes an interval of an indicator's figures: 1,102.3–1,258.7 人, 94.1%–98.2%.
func span(ind measure, low, high float64) string {
	if ind.Kind == kpi.KindRatio || ind.Share {
		return percent(kpi.Some(low)) + "–" + percent(kpi.Some(high))
	}
	return withUnit(kpi.FormatEstimate(low, ind.Unit)+"–"+kpi.FormatEstimate(high, ind.Unit), ind.Unit)
}

// forecastTip is the tooltip line of a forecast: 预计全年 1,180.5 人（区间 1,102.3–1,258.7 人）.
func forecastTip(ind measure, f *kpi.Forecast) string {
	end, low, high := wholeRange(ind, f)
	return fmt.Sprintf("预计全年：%s（%s）", estimate(ind, kpi.Some(end)), "区间 "+span(ind, low, high))
}

// wholeRange is a forecast's estimate and interval as the pages write them: a count's or a
// stock's in a counting unit as whole numbers within the interval (kpi.WholeRange), so that
// the table, the tooltip and the forecast_miss alert agree; others as they are.
func wholeRange(ind measure, f *kpi.Forecast) (end, low, high float64) {
	if ind.Share || (ind.Kind != kpi.KindCount && ind.Kind != kpi.KindStock) {
		return f.YearEnd, f.Low, f.High
	}
	return kpi.WholeRange(f.YearEnd, f.Low, f.High, ind.Unit)
}

// goalShare is a figure of a count or stock as a share of its goal, in percent, measured
// as completion is: the growth from the baseline (a stock's 年初基数) over the growth to
// make; a ratio's figure over its threshold. Invalid where the evaluation has no target.
func goalShare(v float64, target, baseline kpi.Num, kind kpi.Kind) kpi.Num {
	if !target.Valid {
		return kpi.Num{}
	}
	b := 0.0
	if baseline.Valid && kind != kpi.KindRatio {
		b = baseline.V
	}
	if target.V-b <= 0 {
		return kpi.Num{}
	}
	return kpi.Some((v - b) / (target.V - b) * 100)
}

// maxMisses is how many of the figures most likely to miss their target the overview lists.
const maxMisses = 10

// missList is the overview's list of the figures most likely to miss their target.
type missList struct {
	Month   string    // the month the forecasts are made as of
	Rows    []missRow // at most maxMisses, furthest below their target first
	Total   int       // figures whose forecast's high end is under their target
	Alerted int       // forecast_miss alerts that hold
	Alerts  string    // the address of 预警
}

// missRow is one township × indicator likely to miss its target this year.
type missRow struct {
	Unit, UnitHref      string
	Indicator, IndHref  string
	Forecast            forecastCell
	Target              string
	Alerted             bool    // a forecast_miss alert holds for it
	shortfall           float64 // 1 − the interval's high end as a share of the target
	township, indicator int
}

// likelyMisses lists the township × indicator figures whose forecast's high end is furthest
// below their target (the share of the target the high end falls short by), at most n, and
// how many there are in all. Only figures not yet met with a forecast (counts and stocks
// of direction higher with a target, ratios; months before December) can be listed.
func likelyMisses(s *Snapshot, l links, n int) ([]missRow, int) {
	a, r := s.Assessment, s.Result()
	alerted := map[[2]string]bool{}
	for _, al := range r.Alerts {
		if al.Alert == kpi.AlertForecastMiss {
			alerted[[2]string{al.Township, al.Indicator}] = true
		}
	}
	nI := len(a.Indicators)
	var rows []missRow
	for t, tw := range a.Townships {
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			e := r.Evaluation(t, i, nI)
			if e.Forecast == nil || e.Status == kpi.StatusMet || !ind.Kind.Scored() {
				continue
			}
			high := goalShare(e.Forecast.High, e.Target, e.Baseline, ind.Kind)
			if !high.Valid || high.V >= 100 {
				continue
			}
			rows = append(rows, missRow{shortfall: 1 - high.V/100, township: t, indicator: i,
				Unit: tw.Name, Indicator: ind.Name, Alerted: alerted[[2]string{tw.Code, ind.Code}]})
		}
	}
	all := len(rows)
	slices.SortStableFunc(rows, func(x, y missRow) int { return cmp.Compare(y.shortfall, x.shortfall) })
	rows = rows[:min(n, len(rows))]
	for k := range rows {
		row := &rows[k]
		tw, ind := a.Townships[row.township], s.measure(row.indicator)
		e := r.Evaluation(row.township, row.indicator, nI)
		row.UnitHref, row.IndHref = l.Township(tw.Code), l.Indicator(ind.Code)
		row.Forecast = newForecastCell(ind, e.Forecast, e.Target)
		row.Target = figure(ind, e.Target)
		if ind.Kind == kpi.KindRatio {
			row.Target = "达标线 " + row.Target
		}
	}
	return rows, all
}

// forecastLine is a forecast drawn on a month-by-month line chart: from the latest month m,
// where it starts at the actual, to December's estimate, with its interval as a band.
type forecastLine struct {
	name           string // the series' name: the legend switches the forecast with the actuals it continues
	color          string
	m              int
	start          float64 // the actual as of m, on the chart's scale
	end, low, high float64 // December's estimate and interval, on the chart's scale
	decimals       int
	tip            string // the tooltip at December: …预计全年 X（区间 a–b）
	stack          string // a stack name of its own for the band
}

// add adds the forecast's three series to line: the estimate as a dashed line (a point at m
// and at December, joined straight), then the interval as a band, two series stacked: its
// low end, not drawn, and its width, filled. The band narrows to nothing at m, where the
// actual is known. It returns the three series' tooltips: the line's at December only (the
// months between are not forecasts of their own), the band's none.
func (f forecastLine) add(line *ec.Line) [][]string {
	lerp := func(to float64, k int) float64 {
		return f.start + (to-f.start)*float64(k-f.m)/float64(12-f.m)
	}
	est := make([]opts.LineData, 12)
	low := make([]opts.LineData, 12)
	width := make([]opts.LineData, 12)
	estTips, none := make([]string, 12), make([]string, 12)
	for k := 1; k <= 12; k++ {
		if k < f.m {
			est[k-1], low[k-1], width[k-1] = opts.LineData{Value: "-"}, opts.LineData{Value: "-"}, opts.LineData{Value: "-"}
			continue
		}
		lo, hi := lerp(f.low, k), lerp(f.high, k)
		est[k-1] = opts.LineData{Value: kpi.Round(lerp(f.end, k), f.decimals), Symbol: "none"}
		low[k-1] = opts.LineData{Value: kpi.Round(lo, f.decimals)}
		width[k-1] = opts.LineData{Value: kpi.Round(hi-lo, f.decimals)}
	}
	est[11].Symbol = "emptyCircle"
	estTips[11] = f.tip
	line.AddSeries(f.name, est,
		ec.WithItemStyleOpts(opts.ItemStyle{Color: f.color}),
		ec.WithLineStyleOpts(opts.LineStyle{Color: f.color, Type: "dashed", Width: 2}))
	line.AddSeries(f.name, low,
		ec.WithLineChartOpts(opts.LineChart{Stack: f.stack, ShowSymbol: opts.Bool(false)}),
		ec.WithItemStyleOpts(opts.ItemStyle{Color: f.color}),
		ec.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}))
	line.AddSeries(f.name, width,
		ec.WithLineChartOpts(opts.LineChart{Stack: f.stack, ShowSymbol: opts.Bool(false)}),
		ec.WithItemStyleOpts(opts.ItemStyle{Color: f.color}),
		ec.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
		ec.WithAreaStyleOpts(opts.AreaStyle{Color: f.color, Opacity: opts.Float(0.18)}))
	return [][]string{estTips, none, none}
}
