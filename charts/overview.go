package charts

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// overviewData is the content of 总览.
type overviewData struct {
	Tiles          []tile
	StatusTiles    []tile
	Unreported     []unreportedRow // townships with figures owed this month and not sent (at most maxUnreportedNames)
	MoreUnreported int             // townships with figures not sent beyond those named
	Incomplete     []unreportedRow // a city's counties whose figures are summed while some of their townships did not report (Items: such figures)
	Own            []ownRow        // a city's counties, each with the link to its own assessment
	Due            reportDue
	CountyRows     []countyRow
	LastYear       bool      // the county rows carry last year's figures (较去年同期)
	Misses         *missList // the figures most likely to miss their target this year; nil in December
	Ranking        chart
	Heat           chart
	Statuses       chart
	County         chart
}

// unreportedRow is a township that has not sent every figure it owes for the month.
type unreportedRow struct {
	Name, Href string
	Items      int    // figures owed and not sent
	Note       string // a city's county: 1 个乡镇未报
}

// ownRow is a city's county on the overview: its link to its own assessment, and how many
// of its figures are summed while some of its townships did not report.
type ownRow struct {
	unitLink
	Incomplete string // 17 项汇总不完整（1 个乡镇未报）; empty when complete
}

// countyRow is one indicator for the county as a whole.
type countyRow struct {
	Name, Href, Category         string
	Actual, Expected, Target     string
	Completion, Pace, StatusText string
	Status                       string       // the status code, for its colour
	Reported                     string       // townships that reported this month, e.g. 7/8
	Incomplete                   string       // a city's: how many counties' figures lack some townships' reports
	Forecast                     forecastCell // the county's 预计全年 and 每月还需
	LastYear                     lastYearCell // 较去年同期, where the table has it
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
	LastYear   string    // rank as of the same month last year (第3名), where the table has it
	Own        *unitLink // a city's county: the link to its own assessment
	Unreported string    // 本月未报送, 缺报 3 项 (unreportedMark); empty when all came in
	unit       int       // the township's position in the config
}

// buildOverview builds 总览 for the snapshot's period.
func buildOverview(s *Snapshot, l links) (*view, error) {
	a, r := s.Assessment, s.Result()
	v, err := newView(s, l, kindOverview, "总览")
	if err != nil {
		return nil, err
	}
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
	case st.Incomplete > 0:
		// every figure arrived, but some are sums with townships missing: not complete
		rate.Class, rate.Alert = "warn", fmt.Sprintf("汇总不完整：%d 项缺下级报送", st.Incomplete)
	case st.Due > 0 && st.Arrived == st.Due:
		rate.Class = "ok"
	case st.Arrived < st.Due:
		rate.Class = "warn"
	}
	alerts := tile{Label: "预警", Value: thousands(float64(len(r.Alerts)), 0) + " 条", Href: l.Alerts(),
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
		missing, short, gap := 0, 0, 0
		for _, i := range scoredIndicators(a) {
			ind, e := &a.Indicators[i], r.Evaluation(t, i, nI)
			counts[shownStatus(ind, e)]++
			if unreported(ind, e) {
				missing++
			}
			if e.Unreported > 0 {
				short, gap = short+1, max(gap, e.Unreported)
			}
		}
		switch {
		case missing > 0 && len(d.Unreported) < maxUnreportedNames:
			d.Unreported = append(d.Unreported, unreportedRow{Name: tw.Name, Href: l.Township(tw.Code) + "#missing", Items: missing})
		case missing > 0:
			d.MoreUnreported++
		}
		var note string
		if short > 0 {
			note = fmt.Sprintf("%d 个%s未报", gap, s.Units().Of(t).UnitsShort())
			if len(d.Incomplete) < maxUnreportedNames {
				d.Incomplete = append(d.Incomplete, unreportedRow{Name: tw.Name, Href: l.Township(tw.Code) + "#evals", Items: short, Note: note})
			}
		}
		if ul := unitLinkOf(s, l, t); ul != nil {
			row := ownRow{unitLink: *ul}
			if short > 0 {
				row.Incomplete = fmt.Sprintf("%d 项汇总不完整（%s）", short, note)
			}
			d.Own = append(d.Own, row)
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

	title := "排名与等次"
	if large(a) {
		title = fmt.Sprintf("排名与等次（前 %d 名、后 %d 名）", topN, topN)
	}
	if d.Ranking, err = rankingChart("overview-ranking", title, a, r, l); err != nil {
		return nil, err
	}
	if large(a) {
		d.Ranking.Note, d.Ranking.Search = topBottomNote(a), a.UnitsShort()
		d.Heat, err = compactHeatChart("overview-heat", s, l)
	} else {
		d.Heat, err = heatChart("overview-heat", s, l)
	}
	if err != nil {
		return nil, err
	}
	if d.Statuses, err = statusChart("overview-status", s, l); err != nil {
		return nil, err
	}
	var rows []progressRow
	d.LastYear = r.LastYear() != nil
	for i := range a.Indicators {
		ind := s.measure(i)
		c := r.County[i]
		cr := countyRow{
			Name: ind.Name, Href: l.Indicator(ind.Code), Category: ind.Category,
			Actual: countyFigure(ind, &c), Expected: required(ind, c.Expected), Target: figure(ind, c.Target),
			Completion: percent(c.Completion), Pace: percent(c.Pace), StatusText: statusLabel(c.Status),
			Status: string(c.Status), Reported: reportedShare(ind.Indicator, c), Forecast: newForecastCell(ind, c.Forecast, c.Target),
		}
		if ind.Direction == kpi.Lower && c.Target.Valid { // a ceiling, as the township tables say
			cr.Expected, cr.Target, cr.Pace = "不超过 "+cr.Expected, "不超过 "+cr.Target, dash
		}
		tip := countyTip(a.Whole()+" · "+ind.Name, ind, &c)
		if d.LastYear {
			cr.LastYear = newLastYearCell(ind, c.Actual, r.CountyLastYear(i), true)
			tip += "\n" + lastYearTip(cr.LastYear)
		}
		if n := incompleteUnits(s, i); n > 0 {
			cr.Incomplete = fmt.Sprintf("%d 个%s汇总不完整", n, a.UnitsShort())
			tip += "\n" + cr.Incomplete
		}
		d.CountyRows = append(d.CountyRows, cr)
		got, want := share(ind.Indicator, c.Actual, c.Target, c.Expected, s.Period.Month)
		if !ind.Kind.Scored() || (!got.Valid && !want.Valid) {
			continue
		}
		rows = append(rows, progressRow{Name: ind.Name, Got: got, Want: want, Status: c.Status, Link: l.Indicator(ind.Code),
			Tip: tip})
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
	v.Charts = []chart{d.Ranking, d.Statuses, d.County, d.Heat}
	v.Data = d
	return v, nil
}

// rankRows turns the ranking into table rows.
func rankRows(s *Snapshot, l links) []rankRow {
	a, r := s.Assessment, s.Result()
	cats := a.Categories()
	out := make([]rankRow, 0, len(r.Rankings))
	for _, x := range r.Rankings {
		row := rankRow{Rank: strconv.Itoa(x.Rank), Change: kpi.FormatRankChange(x.RankChange), Name: x.Name, Href: l.Township(x.Township),
			Base: points(x.Base), Bonus: points(x.Bonus), Total: fmt.Sprintf("%.2f", x.Total), Grade: x.Grade, Veto: x.Veto,
			LastYear: rankThen(x.LastYearRank)}
		row.Tied, row.unit = x.Tied, a.TownshipIndex(x.Township)
		row.Own = unitLinkOf(s, l, row.unit)
		row.Unreported = unreportedMark(r, row.unit)
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

// rankingChart draws the totals in rank order, coloured and labelled by grade; for a large
// assessment the first and the last topN.
func rankingChart(id, title string, a *kpi.Assessment, r *kpi.Result, l links) (chart, error) {
	rows := make([]*kpi.Ranking, len(r.Rankings))
	for i := range r.Rankings {
		rows[i] = &r.Rankings[i]
	}
	if large(a) {
		rows = topBottom(rows, topN, nil)
	}
	names := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	tips := make([]string, len(rows))
	hrefs := make([]string, len(rows))
	for i, x := range rows {
		if x == nil {
			names[i], data[i] = sepName, opts.BarData{Value: "-"}
			continue
		}
		names[i] = x.Name
		grade := x.GradeLabel()
		data[i] = opts.BarData{Value: kpi.Round(x.Total, 2),
			ItemStyle: itemColor(gradeColor(gradeIndex(a, x.Grade), len(a.Grades))),
			Label:     &opts.Label{Show: opts.Bool(true), Position: "insideRight", Color: "#fff", Formatter: clean(fmt.Sprintf("%.2f %s", x.Total, grade))}}
		tips[i] = fmt.Sprintf("第%d名 %s\n总分 %.2f（基础分 %s + 加分 %s）\n等次 %s\n较上月 %s",
			x.Rank, x.Name, x.Total, points(x.Base), points(x.Bonus), grade, kpi.FormatRankChange(x.RankChange))
		if r.LastYear() != nil {
			tips[i] += "\n去年同期 " + rankThen(x.LastYearRank)
		}
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
	longest := 0
	for t, tw := range a.Townships {
		towns[t] = tw.Name
		longest = max(longest, utf8.RuneCountInString(tw.Name))
	}
	inds := make([]string, len(scored))
	for y, i := range scored {
		inds[y] = a.Indicators[i].Name
	}
	nI := len(a.Indicators)
	lyUnits := make([]bool, len(a.Townships)) // the units last year had: their tooltips say 较去年同期
	for t := range lyUnits {
		for _, i := range scored {
			if r.LastYearOf(t, i) != nil {
				lyUnits[t] = true
				break
			}
		}
	}
	data := make([]opts.HeatMapData, 0, len(towns)*len(scored))
	tips := make([]string, 0, cap(data))
	hrefs := make([]string, 0, cap(data))
	for t, tw := range a.Townships {
		for y, i := range scored {
			ind := s.measure(i)
			e := r.Evaluation(t, i, nI)
			data = append(data, opts.HeatMapData{Value: [3]int{t, y, index[shownStatus(ind.Indicator, e)]}})
			tip := cellTip(tw.Name+" · "+ind.Name, ind, e, due)
			if lyUnits[t] {
				tip += "\n" + lastYearTip(newLastYearCell(ind, e.Actual, r.LastYearOf(t, i), false))
			}
			if note := incompleteNote(s, t, e); note != "" {
				tip += "\n" + note
			}
			tips = append(tips, tip)
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
	c, err := newChart(id, a.UnitsShort()+" × 指标状态", rowsHeight(len(scored), 22, 110, 200), hm,
		chartSpec{Tips: [][]string{tips}, Links: [][]string{hrefs}, FitLabels: min(longest, heatLabelChars)},
		set("visualMap", []any{map[string]any{"type": "piecewise", "dimension": 2, "pieces": pieces,
			"orient": "horizontal", "left": "center", "top": 0, "itemWidth": 10, "itemHeight": 10, "itemGap": 5, "textGap": 3,
			"textStyle": map[string]any{"fontSize": 11}}}),
		set("xAxis.0.axisLabel", map[string]any{"interval": 0, "rotate": 45, "width": 72, "overflow": "truncate"}),
		set("yAxis.0.axisLabel", map[string]any{"interval": 0, "width": 120, "overflow": "truncate", "fontSize": 11}),
		set("series.0.itemStyle", map[string]any{"borderColor": "#fff", "borderWidth": 1}),
	)
	c.Note = "灰色为本月应报未报送；此前已报的累计情况见格子的提示。"
	return c, err
}

// heatLabelChars is the most characters of a unit's name the heat map's axis shows (72 px);
// longer names are cut with an ellipsis, and read whole in the tooltip.
const heatLabelChars = 6

// heatCells is a large assessment's heat map as kpimon.js expands it: one letter a cell
// ('a' + its kind), units in Order (positions in the page's unit index) and, within a unit,
// the chart's indicators; each kind is a status's position in the legend and the tooltip's
// line. Its x axis, data, tooltips and links are made in the browser.
type heatCells struct {
	Cells string  `json:"cells"`
	Order []int   `json:"order"`
	Kinds [][]any `json:"kinds"` // [status position, tooltip line]
	Hint  string  `json:"hint"`  // the tooltip's last line
}

// heatRowsShown and heatUnitsShown are the heat map's initial window on a large assessment:
// the indicators shown, and the most units (kpimon.js shows as many as the width holds).
const heatRowsShown, heatUnitsShown = 20, 40

// compactHeatChart is heatChart for a large assessment: the units in rank order, the cells
// as heatCells, and sliders (ECharts dataZoom) on both axes that open on the first
// heatRowsShown indicators and as many of the first units as the screen's width holds.
func compactHeatChart(id string, s *Snapshot, l links) (chart, error) {
	a, r, due := s.Assessment, s.Result(), dueOf(s)
	scored := scoredIndicators(a)
	statuses := kpi.AllStatuses()
	index := map[kpi.Status]int{}
	for i, s := range statuses {
		index[s] = i
	}
	inds := make([]string, len(scored))
	for y, i := range scored {
		inds[y] = a.Indicators[i].Name
	}
	h := &heatCells{Order: make([]int, 0, len(a.Townships)), Hint: "点击打开该" + a.UnitsShort() + "的页面"}
	for _, x := range r.Rankings {
		h.Order = append(h.Order, a.TownshipIndex(x.Township))
	}
	kinds := map[string]int{}
	cells := make([]byte, 0, len(h.Order)*len(scored))
	nI := len(a.Indicators)
	for _, t := range h.Order {
		for _, i := range scored {
			ind, e := &a.Indicators[i], r.Evaluation(t, i, nI)
			st := shownStatus(ind, e)
			line := "状态：" + statusLabel(st)
			if unreported(ind, e) {
				line = "状态：本月未报送（" + due.Note() + "）"
				if p := priorStatus(ind, e); p != "" {
					line += "\n" + p
				}
			}
			if e.Unreported > 0 { // without the count, so that cells share a few kinds
				line += "\n汇总不完整：有" + shareNoun(s) + "未报"
			}
			k, ok := kinds[line]
			if !ok {
				k = len(h.Kinds)
				if k >= 26 {
					return chart{}, fmt.Errorf("chart %s: more than 26 kinds of cell", id)
				}
				kinds[line] = k
				h.Kinds = append(h.Kinds, []any{index[st], line})
			}
			cells = append(cells, byte('a'+k))
		}
	}
	h.Cells = string(cells)
	pieces := make([]map[string]any, len(statuses))
	for i, s := range statuses {
		pieces[i] = map[string]any{"value": i, "label": s.Label(), "color": statusColors[string(s)]}
	}
	hm := ec.NewHeatMap()
	hm.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "36", Top: "56", Bottom: "36", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "category", Data: []string{}, Position: "top"}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: inds, Inverse: opts.Bool(true)}),
	)
	hm.AddSeries("状态", []opts.HeatMapData{})
	rows := min(len(inds), heatRowsShown)
	zoom := func(axis string, end int, more map[string]any) map[string]any {
		z := map[string]any{"type": "slider", axis: 0, "startValue": 0, "endValue": max(0, end-1), "showDetail": false,
			"brushSelect": false, "filterMode": "filter"}
		for k, v := range more {
			z[k] = v
		}
		return z
	}
	c, err := newChart(id, a.UnitsShort()+" × 指标状态", rows*22+190, hm, chartSpec{Heat: h},
		set("visualMap", []any{map[string]any{"type": "piecewise", "dimension": 2, "pieces": pieces,
			"orient": "horizontal", "left": "center", "top": 0, "itemWidth": 10, "itemHeight": 10, "itemGap": 5, "textGap": 3,
			"textStyle": map[string]any{"fontSize": 11}}}),
		set("dataZoom", []any{
			zoom("xAxisIndex", min(len(h.Order), heatUnitsShown), map[string]any{"bottom": 8, "left": 60, "right": 40, "height": 16}),
			zoom("yAxisIndex", rows, map[string]any{"right": 8, "top": 56, "bottom": 36, "width": 16}),
		}),
		set("xAxis.0.axisLabel", map[string]any{"interval": 0, "rotate": 45, "width": 72, "overflow": "truncate"}),
		set("yAxis.0.axisLabel", map[string]any{"interval": 0, "width": 120, "overflow": "truncate", "fontSize": 11}),
		set("series.0.itemStyle", map[string]any{"borderColor": "#fff", "borderWidth": 1}),
	)
	c.Note = fmt.Sprintf("共 %s 个%s，按排名从左到右；拖动下方和右侧的滑块查看其他%s和指标。灰色为本月应报未报送，此前已报的情况见格子的提示。",
		thousands(float64(len(a.Townships)), 0), a.UnitsShort(), a.UnitsShort())
	return c, err
}

// statusChart stacks each township's indicators by the status shown (未报送 for a figure
// owed this month and not sent); for a large assessment, those of the 2 × topN units with the
// most indicators behind (then at risk), most first.
func statusChart(id string, s *Snapshot, l links) (chart, error) {
	a, r := s.Assessment, s.Result()
	nI := len(a.Indicators)
	scored := scoredIndicators(a)
	order := make([]int, len(a.Townships))
	for t := range order {
		order[t] = t
	}
	title := "各" + a.UnitsShort() + "指标状态分布"
	if large(a) {
		worse := make([][2]int, len(a.Townships)) // behind, at risk
		for t := range a.Townships {
			for _, i := range scored {
				switch shownStatus(&a.Indicators[i], r.Evaluation(t, i, nI)) {
				case kpi.StatusBehind:
					worse[t][0]++
				case kpi.StatusAtRisk:
					worse[t][1]++
				}
			}
		}
		slices.SortStableFunc(order, func(x, y int) int {
			if c := cmp.Compare(worse[y][0], worse[x][0]); c != 0 {
				return c
			}
			return cmp.Compare(worse[y][1], worse[x][1])
		})
		order = order[:2*topN]
		title = fmt.Sprintf("滞后项最多的 %d 个%s", len(order), a.UnitsShort())
	}
	towns := make([]string, len(order))
	hrefs := make([]string, len(order))
	for k, t := range order {
		tw := a.Townships[t]
		towns[k], hrefs[k] = tw.Name, l.Township(tw.Code)
	}
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
		data := make([]opts.BarData, len(order))
		tip := make([]string, len(order))
		for k, t := range order {
			n := 0
			for _, i := range scored {
				if shownStatus(&a.Indicators[i], r.Evaluation(t, i, nI)) == stt {
					n++
				}
			}
			data[k] = opts.BarData{Value: n}
			tip[k] = fmt.Sprintf("%s\n%s：%d 项", a.Townships[t].Name, stt.Label(), n)
		}
		bar.AddSeries(stt.Label(), data,
			ec.WithBarChartOpts(opts.BarChart{Stack: "status"}),
			ec.WithItemStyleOpts(opts.ItemStyle{Color: statusColors[string(stt)]}))
		tips, links = append(tips, tip), append(links, hrefs)
	}
	return newChart(id, title, rowsHeight(len(towns), 30, 80, 180), bar,
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

// incompleteUnits counts the units whose figure of indicator i is aggregated while some of
// their own units had not reported the month (a city's counties).
func incompleteUnits(s *Snapshot, i int) int {
	if s.Units() == nil {
		return 0
	}
	r, n := s.Result(), 0
	for t := range s.Assessment.Townships {
		if r.Evaluation(t, i, len(s.Assessment.Indicators)).Unreported > 0 {
			n++
		}
	}
	return n
}
