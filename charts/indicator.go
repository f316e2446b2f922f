package charts

import (
	"fmt"
	"math"
	"sort"
	"strings"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// indicatorData is the content of an indicator's page.
type indicatorData struct {
	Facts   []fact
	Tiles   []tile
	Ranking chart
	County  chart
	Table   evalTable
}

// fact is one line of an indicator's description.
type fact struct{ Label, Value string }

// buildIndicator builds the page of the indicator with the code.
func buildIndicator(s *Snapshot, l links, code string) (*view, error) {
	a, r := s.Assessment, s.Result()
	i := a.IndicatorIndex(code)
	if i < 0 {
		return nil, fmt.Errorf("%w: 指标 %q", ErrNotFound, code)
	}
	ind := s.measure(i)
	v, err := newView(s, l, kindIndicator, ind.Name)
	if err != nil {
		return nil, err
	}
	d := &indicatorData{Facts: indicatorFacts(s, i)}
	nI := len(a.Indicators)
	c := r.County[i]
	whole := a.Whole() + "累计"
	if ind.Share {
		whole = a.Whole() + "完成比例"
	}
	d.Tiles = []tile{
		{Label: whole, Value: countyFigure(ind, &c), Note: wholeTargetNote(a, ind, &c) + "状态：" + statusLabel(c.Status)},
		{Label: "完成率", Value: percent(c.Completion), Note: "序时完成度 " + percent(c.Pace)},
		reportTile(a, r, i),
	}
	due := dueOf(s)
	type item struct {
		t   int
		key float64
	}
	items := make([]item, len(a.Townships))
	// 较去年同期 where last year had the indicator and some of the units
	if r.LastYear() != nil {
		for t := range a.Townships {
			if r.LastYearOf(t, i) != nil {
				d.Table.LastYear = true
				break
			}
		}
	}
	for t := range a.Townships {
		e := r.Evaluation(t, i, nI)
		key := math.Inf(-1)
		got, _ := share(ind.Indicator, e.Actual, e.Target, e.Expected, s.Period.Month)
		switch {
		case got.Valid && ind.Direction == kpi.Lower:
			key = -got.V // the least of the ceiling used first
		case got.Valid:
			key = got.V
		case e.Actual.Valid:
			key = e.Actual.V
		}
		items[t] = item{t, key}
		row := newEvalRow(ind, e, a.Townships[t].Name, l.Township(a.Townships[t].Code))
		row.Incomplete = incompleteNote(s, t, e)
		if d.Table.LastYear {
			row.LastYear = newLastYearCell(ind, e.Actual, r.LastYearOf(t, i), false)
		}
		d.Table.Rows = append(d.Table.Rows, row)
	}
	all := d.Table.Rows // every unit's row, by unit; a large assessment's table keeps the first page
	sort.SliceStable(items, func(x, y int) bool { return items[x].key > items[y].key })
	if large(a) {
		rows := make([][]any, len(d.Table.Rows))
		for t, x := range d.Table.Rows {
			f := x.Forecast
			rows[t] = []any{t, x.Status, x.StatusText, x.Prior, x.Completion, f.YearEnd, f.Range, f.Class, f.Needed,
				x.Actual, x.Expected, x.Target, x.Pace, x.Score, x.Incomplete}
			if d.Table.LastYear {
				rows[t] = append(rows[t], x.LastYear.compact()...)
			}
		}
		shared := map[string]any{"category": ind.Category, "range": "区间 "}
		if d.Table.LastYear {
			shared["ly"] = lyShared
		}
		var err error
		if d.Table.Paged, err = newPagedTable("evals", "evals", a.UnitsShort(), rows, shared); err != nil {
			return nil, err
		}
		d.Table.Rows = d.Table.Rows[:min(len(d.Table.Rows), pageRows)]
		items = topBottom(items, topN, item{t: -1})
	}
	if shareScale(ind.Indicator) {
		rows := make([]progressRow, 0, len(items))
		for _, it := range items {
			if it.t < 0 {
				rows = append(rows, progressRow{Name: sepName, Sep: true})
				continue
			}
			tw := a.Townships[it.t]
			e := r.Evaluation(it.t, i, nI)
			got, want := share(ind.Indicator, e.Actual, e.Target, e.Expected, s.Period.Month)
			tip := cellTip(tw.Name+" · "+ind.Name, ind, e, due)
			if d.Table.LastYear {
				tip += "\n" + lastYearTip(all[it.t].LastYear)
			}
			if note := all[it.t].Incomplete; note != "" {
				tip += "\n" + note
			}
			rows = append(rows, progressRow{Name: tw.Name, Got: got, Want: want, Status: shownStatus(ind.Indicator, e), Link: l.Township(tw.Code),
				Tip: tip})
		}
		var expected kpi.Num
		if ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock {
			expected = kpi.Some(ind.Pacing.Fraction(s.Period.Month) * 100) // the same share for every township
		}
		d.Ranking, err = progressChart("indicator-townships", "各"+a.UnitsShort()+"完成情况（按完成率排序）", rows, expected)
		d.Ranking.Note = "柱为占年度目标（达标线、控制上限）的比例；实线为年度目标，橙色虚线和标记为本月应达到的序时进度。"
	} else {
		order := make([]int, len(items))
		for k, it := range items {
			order[k] = it.t
		}
		d.Ranking, err = valueChart("indicator-townships", "各"+a.UnitsShort()+"累计（按数值排序）", a, r, i, order, l)
	}
	if err != nil {
		return nil, err
	}
	if large(a) {
		d.Ranking.Title += fmt.Sprintf("（前 %d 名、后 %d 名）", topN, topN)
		d.Ranking.Note, d.Ranking.Search = d.Ranking.Note+topBottomNote(a), a.UnitsShort()
	}
	if d.County, err = countyTrendChart("indicator-county", s, i); err != nil {
		return nil, err
	}
	v.Charts = []chart{d.Ranking, d.County}
	v.Data = d
	return v, nil
}

// reportTile says how many townships sent the indicator's figure this month and names
// those that did not. Milestones, bonuses and vetoes are reported when they happen: no
// township owes them a monthly figure.
func reportTile(a *kpi.Assessment, r *kpi.Result, i int) tile {
	ind, c := &a.Indicators[i], r.County[i]
	if !ind.Kind.ReportedMonthly() {
		return tile{Label: "本月报送", Value: "无需月报", Note: "发生或完成时报送"}
	}
	tl := tile{Label: "本月报送", Value: fmt.Sprintf("%d / %d", c.Reported, c.Townships)}
	var missing []string
	for t, tw := range a.Townships {
		if unreported(ind, r.Evaluation(t, i, len(a.Indicators))) {
			missing = append(missing, tw.Name)
		}
	}
	if len(missing) > 0 {
		tl.Class = "warn"
		tl.Note = "未报送：" + foldNames(missing, 3, "个"+a.UnitsShort())
	}
	return tl
}

// foldNames lists at most n names, then how many there are in all: 甲镇、乙镇、丙镇等 5 个乡镇.
func foldNames(names []string, n int, unit string) string {
	if len(names) <= n {
		return strings.Join(names, "、")
	}
	return fmt.Sprintf("%s等 %d %s", strings.Join(names[:n], "、"), len(names), unit)
}

// shareScale reports whether the indicator's townships are compared as a share of target.
func shareScale(ind *kpi.Indicator) bool {
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock:
		return ind.Target != nil || len(ind.Targets) > 0
	case kpi.KindRatio, kpi.KindMilestone:
		return true
	}
	return false
}

// wholeTargetNote names, under the whole's figure of a count or stock, the target it is
// measured against: the whole's (全区年度目标 128 人 · ), not a unit's; empty otherwise.
func wholeTargetNote(a *kpi.Assessment, ind measure, c *kpi.CountyEvaluation) string {
	if (ind.Kind != kpi.KindCount && ind.Kind != kpi.KindStock) || !c.Target.Valid || ind.Share {
		return ""
	}
	label := "年度目标"
	if ind.Direction == kpi.Lower {
		label = "控制上限"
	}
	return a.Whole() + label + " " + figure(ind, c.Target) + " · "
}

// indicatorFacts describes indicator i's rules for people.
func indicatorFacts(s *Snapshot, i int) []fact {
	a, ind := s.Assessment, s.measure(i)
	out := []fact{{"类别", ind.Category}, {"类型", ind.Kind.Label()}}
	if ind.Unit != "" {
		out = append(out, fact{"单位", ind.Unit})
	}
	if from := derivedFrom(s, i); from != "" {
		out = append(out, fact{"数据来源", from})
	}
	if ind.Kind.Scored() {
		out = append(out, fact{"分值", points(ind.Weight)})
	}
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock:
		// a target is each unit's (各乡镇年度目标); the whole's is their sum (全区年度目标)
		label, whole := "年度目标", "年度目标"
		if ind.Direction == kpi.Lower {
			label, whole = "控制上限（越低越好）", "控制上限"
		}
		if ind.Target != nil {
			who := "各" + a.UnitsShort()
			switch {
			case ind.Share: // a share of townships done: one target, the same for every unit and the whole
				who = ""
			case len(ind.Targets) > 0:
				who = "其余各" + a.UnitsShort()
			}
			out = append(out, fact{who + label, figure(ind, kpi.Some(*ind.Target))})
		}
		if c := s.Result().County[i]; c.Target.Valid && !ind.Share {
			out = append(out, fact{a.Whole() + whole, figure(ind, c.Target) + "（各" + a.UnitsShort() + "目标之和）"})
		}
		if ind.Target == nil && len(ind.Targets) == 0 {
			out = append(out, fact{"目标", "仅统计，不考核"})
		}
		if len(ind.Targets) > 0 {
			out = append(out, fact{"分" + a.UnitsShort() + "目标", fmt.Sprintf("%d 个%s单独设定", len(ind.Targets), a.UnitsShort())})
		}
		switch ind.Pacing.Name {
		case "linear":
			out = append(out, fact{"序时进度", "按月平均（月数/12）"})
		case "none":
			out = append(out, fact{"序时进度", "不分月，全年目标每月均适用"})
		default:
			parts := make([]string, 12)
			for k, f := range ind.Pacing.Fractions {
				parts[k] = fmt.Sprintf("%d月 %s", k+1, percent(kpi.Some(f)))
			}
			out = append(out, fact{"序时进度", strings.Join(parts, "，")})
		}
	case kpi.KindRatio:
		out = append(out, fact{"达标线", percent(kpi.Some(ind.Threshold))}, fact{"预警区间", "低于达标线 " + percent(kpi.Some(ind.Margin)) + " 以内"})
		if ind.DeductPerPoint != nil {
			out = append(out, fact{"扣分", fmt.Sprintf("每低 1 个百分点扣 %s 分", points(*ind.DeductPerPoint))})
		}
	case kpi.KindMilestone:
		out = append(out, fact{"完成时限", kpi.MilestoneDue(ind.Due)})
	case kpi.KindBonus:
		out = append(out, fact{"加分上限", points(ind.Max) + " 分"})
	case kpi.KindVeto:
		out = append(out, fact{"说明", "发生即一票否决，等次定为最末等"})
	}
	return out
}

// valueChart draws the townships' actual figures (tracked-only counts, bonuses, vetoes) in
// the order given.
func valueChart(id, title string, a *kpi.Assessment, r *kpi.Result, i int, order []int, l links) (chart, error) {
	ind := plain(&a.Indicators[i]) // tracked-only counts, bonuses and vetoes: never a share
	nI := len(a.Indicators)
	names := make([]string, len(order))
	data := make([]opts.BarData, len(order))
	tips := make([]string, len(order))
	hrefs := make([]string, len(order))
	for k, t := range order {
		if t < 0 {
			names[k], data[k] = sepName, opts.BarData{Value: "-"}
			continue
		}
		tw := a.Townships[t]
		e := r.Evaluation(t, i, nI)
		names[k], hrefs[k] = tw.Name, l.Township(tw.Code)
		val := 0.0
		if e.Actual.Valid {
			val = kpi.Round(e.Actual.V, 2)
		}
		data[k] = opts.BarData{Value: val}
		tips[k] = tw.Name + " · " + ind.Name + "\n" + figure(ind, e.Actual)
	}
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: "8", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	color := colorActual
	if ind.Kind == kpi.KindBonus {
		color = colorBonus
	}
	bar.AddSeries(ind.Name, data, ec.WithItemStyleOpts(opts.ItemStyle{Color: color}))
	return newChart(id, title, rowsHeight(len(names), 28, 30, 140), bar,
		chartSpec{Tips: [][]string{tips}, Links: [][]string{hrefs}},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}),
		set("series.0.barMaxWidth", 20))
}

// countyTrendChart draws the county's figure month by month against its pace line for the
// whole year and the annual target.
func countyTrendChart(id string, s *Snapshot, i int) (chart, error) {
	a := s.Assessment
	ind := s.measure(i)
	m := s.Period.Month
	c := s.Result().County[i]
	ratio := ind.percentScale()
	scale := func(n kpi.Num) any {
		if !n.Valid {
			return "-"
		}
		if ratio {
			return kpi.Round(n.V*100, 1)
		}
		return kpi.Round(n.V, 2)
	}
	actual := make([]opts.LineData, 12)
	for k := 1; k <= 12; k++ {
		actual[k-1] = opts.LineData{Value: "-"}
		if k <= m {
			actual[k-1] = opts.LineData{Value: scale(s.Months[k-1].County[i].Actual)}
		}
	}
	line := ec.NewLine()
	line.SetXAxis(monthLabels(12))
	line.AddSeries(a.Whole()+"累计", actual, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorActual}),
		ec.WithLineStyleOpts(opts.LineStyle{Width: 3}))
	var note string
	switch {
	case (ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock) && c.Target.Valid:
		pace := make([]opts.LineData, 12)
		for k := 1; k <= 12; k++ {
			pace[k-1] = opts.LineData{Value: scale(kpi.Some(c.Target.V * ind.Pacing.Fraction(k)))}
		}
		label := "序时进度"
		if ind.Direction == kpi.Lower {
			label = "序时上限"
		}
		line.AddSeries(label, pace, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorExpected}),
			ec.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Width: 2}))
		target := make([]opts.LineData, 12)
		for k := range target {
			target[k] = opts.LineData{Value: scale(c.Target)}
		}
		line.AddSeries("年度目标", target, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorTarget}),
			ec.WithLineStyleOpts(opts.LineStyle{Type: "dotted", Width: 1}))
		note = fmt.Sprintf("%s年度目标 %s（各%s目标之和），虚线为各月应达到的序时进度。", a.Whole(), figure(ind, c.Target), a.UnitsShort())
		if ind.Share {
			note = fmt.Sprintf("%s为所辖全部%s中已完成的比例，年度目标 %s，虚线为各月应达到的序时进度。", a.Whole(), shareNoun(s), figure(ind, c.Target))
		}
	case ind.Kind == kpi.KindRatio:
		th := make([]opts.LineData, 12)
		for k := range th {
			th[k] = opts.LineData{Value: kpi.Round(ind.Threshold*100, 1)}
		}
		line.AddSeries("达标线", th, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorExpected}),
			ec.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Width: 2}))
		note = fmt.Sprintf("%s比率 = 各%s分子之和 / 分母之和（累计），每月都应不低于达标线。", a.Whole(), a.UnitsShort())
	case ind.Kind == kpi.KindMilestone:
		due := make([]opts.LineData, 12)
		for k := 1; k <= 12; k++ {
			v := 0.0
			if k >= ind.Due {
				v = 100
			}
			due[k-1] = opts.LineData{Value: v}
		}
		line.AddSeries("应完成比例", due, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorExpected}),
			ec.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Width: 2}))
		note = fmt.Sprintf("已完成的%s占比（%s）；要求：各%s%s。", a.UnitsShort(), c.MilestoneText(), a.UnitsShort(), kpi.MilestoneDue(ind.Due))
	default:
		note = fmt.Sprintf("%s各%s累计之和。", a.Whole(), a.UnitsShort())
	}
	tips := make([][]string, len(line.MultiSeries))
	if s.LastYear.Has(i) {
		ly := make([]opts.LineData, 12)
		lyTips := make([]string, 12)
		for k := 1; k <= 12; k++ {
			ly[k-1] = opts.LineData{Value: "-"}
			if lc := s.LastYear.County(k, i); lc != nil && lc.Actual.Valid {
				ly[k-1] = opts.LineData{Value: scale(lc.Actual)}
				lyTips[k-1] = lyLegend + "：" + lastYearFigure(ind, lc.Actual, true)
				if lc.Completion.Valid && ind.Kind != kpi.KindMilestone && ind.Direction != kpi.Lower {
					lyTips[k-1] += "（完成 " + percent(lc.Completion) + "）"
				}
			}
		}
		line.AddSeries(lyLegend, ly, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorLastYear}),
			ec.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
			ec.WithLineStyleOpts(opts.LineStyle{Color: colorLastYear, Type: "dashed", Width: 2}))
		tips = append(tips, lyTips)
		note += "灰色虚线为去年同期（" + a.Whole() + "去年各月的累计），点图例可隐藏。"
	}
	if f := c.Forecast; f != nil && m < 12 && c.Actual.Valid {
		num, decimals := func(v float64) float64 { return v }, 2
		if ratio {
			num, decimals = func(v float64) float64 { return v * 100 }, 1
		}
		fl := forecastLine{name: "预计全年", color: colorActual, m: m, start: num(c.Actual.V),
			end: num(f.YearEnd), low: num(f.Low), high: num(f.High), decimals: decimals,
			tip: a.Whole() + forecastTip(ind, f), stack: "forecast"}
		tips = append(tips, fl.add(line)...)
		note += fmt.Sprintf("%d月以后的虚线为预计全年，浅色带为 80%% 区间（十次里约有八次落在其中）。", m)
		if n := f.NeededPerMonth; n.Valid && n.V > 0 {
			note += fmt.Sprintf("要完成年度目标，余下每月还需 %s。", figure(ind, n))
		}
	}
	yAxis := opts.YAxis{Type: "value", Min: 0}
	format := "number"
	if ratio {
		yAxis.AxisLabel = &opts.AxisLabel{Formatter: "{value}%"}
		format = "percent"
	}
	line.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: "40", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithYAxisOpts(yAxis),
	)
	ch, err := newChart(id, a.Whole()+"累计走势", 300, line, chartSpec{ValueFormat: format, Tips: tips, AxisTips: true})
	ch.Note = note
	return ch, err
}

// shareNoun is what a city's shares count: the units of its units' assessments (乡镇).
func shareNoun(s *Snapshot) string {
	if u := s.Units(); u != nil {
		for t := range s.Assessment.Townships {
			if b := u.Of(t); b != nil {
				return b.UnitsShort()
			}
		}
	}
	return "乡镇"
}

// derivedFrom says where a city's figures of indicator i come from when every unit's is
// aggregated from its own assessment: 由各县区考核中“半年工作小结按时报送”汇总：已完成的乡镇占比.
// Empty when some unit reports it itself.
func derivedFrom(s *Snapshot, i int) string {
	u := s.Units()
	if u == nil {
		return ""
	}
	a, ind := s.Assessment, s.measure(i)
	name := ""
	for t := range a.Townships {
		if !u.Derived(t, i) {
			return ""
		}
		if src, ok := u.Of(t).Indicator(ind.Source()); ok && name == "" {
			name = src.Name
		}
	}
	how := "所辖" + shareNoun(s) + "之和"
	switch {
	case ind.Share:
		how = "已完成的" + shareNoun(s) + "占比"
	case ind.Kind == kpi.KindRatio:
		how = "所辖" + shareNoun(s) + "的分子之和 / 分母之和"
	}
	return fmt.Sprintf("由各%s考核中的“%s”汇总：%s", a.UnitsShort(), name, how)
}
