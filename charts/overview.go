package charts

import (
	"fmt"
	"strconv"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// overviewData is the content of 总览.
type overviewData struct {
	Tiles       []tile
	StatusTiles []tile
	Unreported  []unreportedRow // townships with figures owed this month and not sent
	Due         reportDue
	CountyRows  []countyRow
	Misses      *missList // the figures most likely to miss their target this year; nil in December
	RankRows    []rankRow
	Ranking     chart
	Heat        chart
	Statuses    chart
	County      chart
}

// unreportedRow is a township that has not sent every figure it owes for the month.
type unreportedRow struct {
	Name, Href string
	Items      int // figures owed and not sent
}

// countyRow is one indicator for the county as a whole.
type countyRow struct {
	Name, Href, Category         string
	Actual, Expected, Target     string
	Completion, Pace, StatusText string
	Status                       string       // the status code, for its colour
	Reported                     string       // townships that reported this month, e.g. 7/8
	Forecast                     forecastCell // the county's 预计全年 and 每月还需
}

// rankRow is one line of a ranking table.
type rankRow struct {
	Rank       string
	Tied       bool // the rank is shared (并列)
	Change     string
	ChangeDir  string // up, down or empty
	Name, Href string
	Categories []string
	Base       string
	Bonus      string
	Total      string
	Grade      string
	GradeClass string // first, mid or last
	Veto       bool
}

// buildOverview builds 总览 for the snapshot's period.
func buildOverview(s *Snapshot, l links) (*view, error) {
	a, r := s.Assessment, s.Result()
	v := newView(s, l, kindOverview, "总览")
	d := &overviewData{}

	st := countReports(a, r)
	crit := 0
	for _, al := range r.Alerts {
		if al.Severity == kpi.SeverityCritical {
			crit++
		}
	}
	rate := tile{Label: "报送率", Value: percent(st.Rate()),
		Note: fmt.Sprintf("已报 %s / 应报 %s 项，%d/%d 个%s报齐", thousands(float64(st.Arrived), 0),
			thousands(float64(st.Due), 0), st.Compete, st.Townships, a.UnitsShort())}
	switch {
	case st.Due > 0 && st.Arrived == st.Due:
		rate.Class = "ok"
	case st.Arrived < st.Due:
		rate.Class = "warn"
	}
	alerts := tile{Label: "预警", Value: strconv.Itoa(len(r.Alerts)) + " 条", Href: l.Alerts(),
		Note: fmt.Sprintf("严重 %d 条，警告 %d 条", crit, len(r.Alerts)-crit)}
	if crit > 0 {
		alerts.Class = "bad"
	} else if len(r.Alerts) > 0 {
		alerts.Class = "warn"
	}
	d.Tiles = append(d.Tiles, rate, alerts)
	if !s.Latest.IsZero() && len(r.Rankings) > 0 { // nothing reported: no winner to name
		top := r.Rankings[0]
		label := "第一名"
		if top.Tied {
			label = "并列第一"
		}
		d.Tiles = append(d.Tiles, tile{Label: label, Value: top.Name, Href: l.Township(top.Township),
			Note: fmt.Sprintf("%s 分 · %s", points(top.Total), top.Grade)})
	}

	// Counts of township × indicator by the status shown (see shownStatus): a figure owed
	// this month and not sent counts under 未报送, never under its earlier months' status.
	counts := map[kpi.Status]int{}
	nI := len(a.Indicators)
	d.Due = dueOf(s)
	for t, tw := range a.Townships {
		missing := 0
		for _, i := range scoredIndicators(a) {
			ind, e := &a.Indicators[i], r.Evaluation(t, i, nI)
			counts[shownStatus(ind, e)]++
			if unreported(ind, e) {
				missing++
			}
		}
		if missing > 0 {
			d.Unreported = append(d.Unreported, unreportedRow{Name: tw.Name, Href: l.Township(tw.Code) + "#missing", Items: missing})
		}
	}
	for _, stt := range kpi.AllStatuses() {
		tl := tile{Label: stt.Label(), Value: strconv.Itoa(counts[stt]), Class: "st-" + string(stt)}
		if stt == kpi.StatusNoData {
			tl.Note = "本月未报"
			if counts[stt] > 0 {
				tl.Href = "#unreported"
			}
		}
		d.StatusTiles = append(d.StatusTiles, tl)
	}

	var err error
	if d.Ranking, err = rankingChart("overview-ranking", "排名与等次", a, r, l); err != nil {
		return nil, err
	}
	if d.Heat, err = heatChart("overview-heat", s, l); err != nil {
		return nil, err
	}
	d.Heat.Note = "灰色为本月应报未报送；此前已报的累计情况见格子的提示。"
	if d.Statuses, err = statusChart("overview-status", s, l); err != nil {
		return nil, err
	}
	var rows []progressRow
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		c := r.County[i]
		cr := countyRow{
			Name: ind.Name, Href: l.Indicator(ind.Code), Category: ind.Category,
			Actual: countyFigure(ind, &c), Expected: figure(ind, c.Expected), Target: figure(ind, c.Target),
			Completion: percent(c.Completion), Pace: percent(c.Pace), StatusText: statusLabel(c.Status),
			Status: string(c.Status), Reported: reportedShare(ind, c), Forecast: newForecastCell(ind, c.Forecast, c.Target),
		}
		if ind.Direction == kpi.Lower && c.Target.Valid { // a ceiling, as the township tables say
			cr.Expected, cr.Target, cr.Pace = "不超过 "+cr.Expected, "不超过 "+cr.Target, dash
		}
		d.CountyRows = append(d.CountyRows, cr)
		got, want := share(ind, c.Actual, c.Target, c.Expected, s.Period.Month)
		if !ind.Kind.Scored() || (!got.Valid && !want.Valid) {
			continue
		}
		rows = append(rows, progressRow{Name: ind.Name, Got: got, Want: want, Status: c.Status, Link: l.Indicator(ind.Code),
			Tip: countyTip(a.Whole()+" · "+ind.Name, ind, &c)})
	}
	if d.County, err = progressChart("overview-county", a.Whole()+"各指标进度（占年度目标）", rows, kpi.Num{}); err != nil {
		return nil, err
	}
	d.County.Note = "柱为累计完成占年度目标的比例（比率类为实际值占达标线的比例），橙色标记为本月应达到的序时进度。"
	if s.Period.Month < 12 {
		d.Misses = &missList{Month: s.Period.Label(), Alerts: l.Alerts()}
		d.Misses.Rows, d.Misses.Total = likelyMisses(s, l, maxMisses)
		for _, al := range r.Alerts {
			if al.Alert == kpi.AlertForecastMiss {
				d.Misses.Alerted++
			}
		}
	}
	d.RankRows = rankRows(a, r, l)
	v.Charts = []chart{d.Ranking, d.Statuses, d.County, d.Heat}
	v.Data = d
	return v, nil
}

// rankRows turns the ranking into table rows.
func rankRows(a *kpi.Assessment, r *kpi.Result, l links) []rankRow {
	cats := a.Categories()
	out := make([]rankRow, 0, len(r.Rankings))
	for _, x := range r.Rankings {
		row := rankRow{Rank: strconv.Itoa(x.Rank), Change: kpi.FormatRankChange(x.RankChange), Name: x.Name, Href: l.Township(x.Township),
			Base: points(x.Base), Bonus: points(x.Bonus), Total: fmt.Sprintf("%.2f", x.Total), Grade: x.Grade, Veto: x.Veto}
		row.Tied = x.Tied
		if x.RankChange != nil && *x.RankChange > 0 {
			row.ChangeDir = "up"
		} else if x.RankChange != nil && *x.RankChange < 0 {
			row.ChangeDir = "down"
		}
		switch gi := gradeIndex(a, x.Grade); {
		case gi == 0:
			row.GradeClass = "first"
		case gi == len(a.Grades)-1:
			row.GradeClass = "last"
		default:
			row.GradeClass = "mid"
		}
		for _, c := range cats {
			row.Categories = append(row.Categories, points(x.Categories[c]))
		}
		out = append(out, row)
	}
	return out
}

// rankingChart draws the totals in rank order, coloured and labelled by grade.
func rankingChart(id, title string, a *kpi.Assessment, r *kpi.Result, l links) (chart, error) {
	names := make([]string, len(r.Rankings))
	data := make([]opts.BarData, len(r.Rankings))
	tips := make([]string, len(r.Rankings))
	hrefs := make([]string, len(r.Rankings))
	for i, x := range r.Rankings {
		names[i] = x.Name
		grade := x.GradeLabel()
		data[i] = opts.BarData{Value: kpi.Round(x.Total, 2),
			ItemStyle: itemColor(gradeColor(gradeIndex(a, x.Grade), len(a.Grades))),
			Label:     &opts.Label{Show: opts.Bool(true), Position: "insideRight", Color: "#fff", Formatter: clean(fmt.Sprintf("%.2f %s", x.Total, grade))}}
		tips[i] = fmt.Sprintf("第%d名 %s\n总分 %.2f（基础分 %s + 加分 %s）\n等次 %s\n较上月 %s",
			x.Rank, x.Name, x.Total, points(x.Base), points(x.Bonus), grade, kpi.FormatRankChange(x.RankChange))
		hrefs[i] = l.Township(x.Township)
	}
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "8", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, Max: "dataMax"}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	bar.AddSeries("总分", data)
	return newChart(id, title, rowsHeight(len(names), 30, 30, 140), bar,
		chartSpec{Tips: [][]string{tips}, Links: [][]string{hrefs}},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}),
		set("series.0.barMaxWidth", 20),
	)
}

// heatChart draws township × indicator coloured by the status shown: a figure owed this
// month and not sent is grey 未报送, with its earlier months' status in the tooltip (see
// shownStatus).
func heatChart(id string, s *Snapshot, l links) (chart, error) {
	a, r, due := s.Assessment, s.Result(), dueOf(s)
	scored := scoredIndicators(a)
	statuses := kpi.AllStatuses()
	index := map[kpi.Status]int{}
	for i, s := range statuses {
		index[s] = i
	}
	towns := make([]string, len(a.Townships))
	for t, tw := range a.Townships {
		towns[t] = tw.Name
	}
	inds := make([]string, len(scored))
	for y, i := range scored {
		inds[y] = a.Indicators[i].Name
	}
	nI := len(a.Indicators)
	data := make([]opts.HeatMapData, 0, len(towns)*len(scored))
	tips := make([]string, 0, cap(data))
	hrefs := make([]string, 0, cap(data))
	for t, tw := range a.Townships {
		for y, i := range scored {
			ind := &a.Indicators[i]
			e := r.Evaluation(t, i, nI)
			data = append(data, opts.HeatMapData{Value: [3]int{t, y, index[shownStatus(ind, e)]}})
			tips = append(tips, cellTip(tw.Name+" · "+ind.Name, ind, e, due))
			hrefs = append(hrefs, l.Township(tw.Code))
		}
	}
	pieces := make([]map[string]any, len(statuses))
	for i, s := range statuses {
		pieces[i] = map[string]any{"value": i, "label": s.Label(), "color": statusColors[string(s)]}
	}
	hm := ec.NewHeatMap()
	hm.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "8", Top: "56", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "category", Data: towns, Position: "top"}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: inds, Inverse: opts.Bool(true)}),
	)
	hm.AddSeries("状态", data)
	return newChart(id, a.UnitsShort()+" × 指标状态", rowsHeight(len(scored), 22, 110, 200), hm,
		chartSpec{Tips: [][]string{tips}, Links: [][]string{hrefs}},
		set("visualMap", []any{map[string]any{"type": "piecewise", "dimension": 2, "pieces": pieces,
			"orient": "horizontal", "left": "center", "top": 0, "itemWidth": 10, "itemHeight": 10, "itemGap": 5, "textGap": 3,
			"textStyle": map[string]any{"fontSize": 11}}}),
		set("xAxis.0.axisLabel", map[string]any{"interval": 0, "rotate": 45, "width": 72, "overflow": "truncate"}),
		set("yAxis.0.axisLabel", map[string]any{"interval": 0, "width": 120, "overflow": "truncate", "fontSize": 11}),
		set("series.0.itemStyle", map[string]any{"borderColor": "#fff", "borderWidth": 1}),
	)
}

// statusChart stacks each township's indicators by the status shown (未报送 for a figure
// owed this month and not sent).
func statusChart(id string, s *Snapshot, l links) (chart, error) {
	a, r := s.Assessment, s.Result()
	towns := make([]string, len(a.Townships))
	hrefs := make([]string, len(a.Townships))
	for t, tw := range a.Townships {
		towns[t], hrefs[t] = tw.Name, l.Township(tw.Code)
	}
	nI := len(a.Indicators)
	scored := scoredIndicators(a)
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "8", Bottom: "56", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, MinInterval: 1}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: towns, Inverse: opts.Bool(true)}),
	)
	var tips, links [][]string
	for _, stt := range kpi.AllStatuses() {
		data := make([]opts.BarData, len(a.Townships))
		tip := make([]string, len(a.Townships))
		for t, tw := range a.Townships {
			n := 0
			for _, i := range scored {
				if shownStatus(&a.Indicators[i], r.Evaluation(t, i, nI)) == stt {
					n++
				}
			}
			data[t] = opts.BarData{Value: n}
			tip[t] = fmt.Sprintf("%s\n%s：%d 项", tw.Name, stt.Label(), n)
		}
		bar.AddSeries(stt.Label(), data,
			ec.WithBarChartOpts(opts.BarChart{Stack: "status"}),
			ec.WithItemStyleOpts(opts.ItemStyle{Color: statusColors[string(stt)]}))
		tips, links = append(tips, tip), append(links, hrefs)
	}
	return newChart(id, "各"+a.UnitsShort()+"指标状态分布", rowsHeight(len(towns), 30, 80, 180), bar,
		chartSpec{Tips: tips, Links: links},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}),
	)
}

// reportedShare is how many townships reported the indicator this month, for the kinds
// reported every month; milestones, bonuses and vetoes are reported when they happen.
func reportedShare(ind *kpi.Indicator, c kpi.CountyEvaluation) string {
	if !ind.Kind.ReportedMonthly() {
		return dash
	}
	return fmt.Sprintf("%d/%d", c.Reported, c.Townships)
}
