package charts

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// ErrNotFound is returned for a township or indicator the assessment does not have.
var ErrNotFound = errors.New("not found")

// townshipData is the content of a township's page.
type townshipData struct {
	Name        string
	Own         *unitLink // a city's county: the link to its own assessment
	Whole       string    // 全市: whose assessment this page is
	Incomplete  string    // a city's county: 16 项汇总不完整（1 个乡镇未报）; empty when complete
	Tiles       []tile
	Radar       chart
	Progress    chart
	Trend       chart
	Rank        chart
	Table       evalTable
	Alerts      alertTable
	Missing     []missingRow
	Corrections []correctionRow
	Submissions []submissionRow
	Zone        string // the zone the history's times are in: 北京时间
}

// submissionRow is one batch that wrote the township's figures.
type submissionRow struct {
	At      stamp
	Actor   string
	Source  sourceList
	Periods []string // runs of months (monthRanges), each kept on one line
	Figures int
}

// stamp is a moment split for a table cell, so that a narrow column breaks it between the
// date and the time: 2025-11-08 | 10:00.
type stamp struct{ Date, Time string }

func stampOf(t time.Time, loc *time.Location) stamp {
	d, c, _ := strings.Cut(clock(t, loc), " ")
	return stamp{Date: d, Time: c}
}

// sourceList is a batch's files for a table cell. One upload may carry many files, stored
// as one source with the names joined by ", " (the collector's way); a long list folds to its
// first names and how many there are (a.xlsx、b.xlsx 等 13 个文件), the full list kept in All
// for a <details>.
type sourceList struct {
	Short string
	All   []string // every name, when the list is folded; nil otherwise
}

// maxSources is how many file names a source cell shows before it folds.
const maxSources = 2

func foldSources(source string) sourceList {
	names := strings.Split(source, ", ")
	if len(names) <= maxSources+1 { // folding three names would hide one to say "3"
		return sourceList{Short: strings.Join(names, "、")}
	}
	return sourceList{Short: fmt.Sprintf("%s 等 %d 个文件", strings.Join(names[:maxSources], "、"), len(names)), All: names}
}

// monthRanges writes months in order as runs, the year where it changes: 2025年1—3月, 5月;
// 2024年12月, 2025年1月. The page joins them with 、.
func monthRanges(ps []kpi.Period) []string {
	var out []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1].Year == ps[i].Year && ps[j+1].Month == ps[j].Month+1 {
			j++
		}
		var b strings.Builder
		if i == 0 || ps[i-1].Year != ps[i].Year {
			fmt.Fprintf(&b, "%d年", ps[i].Year)
		}
		if j > i {
			fmt.Fprintf(&b, "%d—%d月", ps[i].Month, ps[j].Month)
		} else {
			fmt.Fprintf(&b, "%d月", ps[i].Month)
		}
		out = append(out, b.String())
		i = j + 1
	}
	return out
}

// evalTable is a table of evaluations: a township's indicators, or an indicator's townships
// (paged in the browser for a large assessment).
type evalTable struct {
	Rows     []evalRow   // every row; with Paged, the first page's
	Paged    *pagedTable // a large assessment's rows for the browser's pages; nil otherwise
	LastYear bool        // the rows carry last year's figures (较去年同期)
}

// evalRow is one township × indicator in a table.
type evalRow struct {
	Name, Href                   string // the indicator on a township's page, the township on an indicator's
	Category                     string
	Actual, Expected, Target     string
	Completion, Pace, StatusText string
	Status                       string       // the status shown, for its colour: no_data (未报送) for a figure owed and not sent
	Prior                        string       // for a figure not sent: the status of the months reported before (按此前数据：滞后)
	Score                        string       // 得分/分值
	Forecast                     forecastCell // 预计全年 and 每月还需
	LastYear                     lastYearCell // 较去年同期, where the table has it
	Incomplete                   string       // a city's figure of a county that some of its townships did not report: 汇总不完整：2 个乡镇未报
}

// alertTable is a table of alerts, its unit column headed by the level's noun.
type alertTable struct {
	Rows   []alertRow
	Unit   string // 乡镇, 县区 or 市州
	Total  int    // alerts in all; more than Listed when the table lists only the longest-held
	Listed int    // alerts the rows list, folded ones counted one by one
}

// TotalText is how many alerts there are, written for people: 1,950.
func (t alertTable) TotalText() string { return thousands(float64(t.Total), 0) }

// alertRow is one alert in a table.
type alertRow struct {
	Severity, SeverityClass string
	Name                    string
	Township, TownshipHref  string
	Indicator, IndHref      string
	Since                   string
	Months                  int
	Summary                 string
	Own                     *unitLink // a city's county: the link to its own assessment
	// Members are the alerts a folded row stands for (foldAlerts): one unit's alerts of one
	// kind and severity, each with its indicator, since and sentence; empty for one alert.
	Members []alertRow
}

// Alerts is how many alerts the row stands for.
func (r alertRow) Alerts() int { return max(1, len(r.Members)) }

// foldMin is how many alerts of one unit, kind and severity a table folds into one row
// (清城区's 14 逾期未报送 on the city's page); fewer are listed one by one.
const foldMin = 3

// foldAlerts folds the rows of each unit's alerts of one kind and severity, when there are
// at least foldMin, into one row where the first of them stood: it says how many, since the
// earliest, and opens (<details>, no script) to each alert as it was listed. Every alert
// stays on the page; the order of the others is kept.
func foldAlerts(rows []alertRow) []alertRow {
	type key struct{ unit, kind, severity string }
	keyOf := func(r alertRow) key { return key{r.TownshipHref, r.Name, r.SeverityClass} }
	groups := map[key][]alertRow{}
	for _, r := range rows {
		groups[keyOf(r)] = append(groups[keyOf(r)], r)
	}
	out := make([]alertRow, 0, len(rows))
	done := map[key]bool{}
	for _, r := range rows {
		k := keyOf(r)
		g := groups[k]
		if len(g) < foldMin {
			out = append(out, r)
			continue
		}
		if done[k] {
			continue
		}
		done[k] = true
		f := r
		f.Members, f.Indicator, f.IndHref = g, "", ""
		for _, m := range g {
			if m.Months > f.Months {
				f.Months, f.Since = m.Months, m.Since
			}
		}
		f.Summary = fmt.Sprintf("%s有 %d 项指标%s", r.Township, len(g), r.Name)
		out = append(out, f)
	}
	return out
}

// listedAlerts counts the alerts rows stand for.
func listedAlerts(rows []alertRow) int {
	n := 0
	for _, r := range rows {
		n += r.Alerts()
	}
	return n
}

// missingRow is one figure the township has not reported for the month.
type missingRow struct {
	Indicator, Href string
	Deadline        string
	Overdue         bool
}

// correctionRow is one value that was replaced.
type correctionRow struct {
	Indicator, Href string
	Period          string
	Old, New        string
	OldBy           string
	OldAt           stamp
	NewBy           string
	NewAt           stamp
	Source          sourceList
}

// buildTownship builds the page of the township with the code.
func buildTownship(s *Snapshot, l links, code string, hist TownshipHistory) (*view, error) {
	a, r := s.Assessment, s.Result()
	t := a.TownshipIndex(code)
	if t < 0 {
		return nil, fmt.Errorf("%w: %s %q", ErrNotFound, a.UnitsShort(), code)
	}
	tw := a.Townships[t]
	v, err := newView(s, l, kindTownship, tw.Name)
	if err != nil {
		return nil, err
	}
	d := &townshipData{Name: tw.Name, Own: unitLinkOf(s, l, t), Whole: a.Whole()}
	// the township's own last report of the month, not the assessment's; a city's county's
	// figures come from its own assessment and have no reports here
	if u := s.Units(); u == nil || u.Of(t) == nil {
		v.AsOf = asOf(a, s.Period, tw.Name, hist.LastReports[s.Period])
	}
	nI := len(a.Indicators)
	m := s.Period.Month

	var rk kpi.Ranking
	for _, x := range r.Rankings {
		if x.Township == code {
			rk = x
		}
	}
	grade := rk.GradeLabel()
	rankTile := tile{Label: "名次", Value: fmt.Sprintf("%d / %d", rk.Rank, len(a.Townships)), Note: "较上月 " + kpi.FormatRankChange(rk.RankChange), Href: l.Rankings()}
	if rk.Tied {
		rankTile.Value += "（并列）"
	}
	if r.LastYear() != nil {
		rankTile.Note += " · 去年同期" + rankThen(r.LastYearRank(t))
	}
	gradeTile := tile{Label: "等次", Value: grade}
	switch gi := gradeIndex(a, rk.Grade); {
	case rk.Veto || gi == len(a.Grades)-1:
		gradeTile.Class = "bad"
	case gi == 0:
		gradeTile.Class = "ok"
	}
	reported, owed := reportedOf(r, t)
	var alerts []kpi.Alert
	for _, al := range r.Alerts {
		if al.Township == code {
			alerts = append(alerts, al)
		}
	}
	reportTile := tile{Label: "本月报送", Value: fmt.Sprintf("%d / %d 项", reported, owed)}
	if reported < owed {
		reportTile.Class = "warn"
	}
	// a city's county: figures summed while some of its townships had not reported
	short, gap := 0, 0
	for i := range a.Indicators {
		if n := r.Evaluation(t, i, nI).Unreported; n > 0 {
			short, gap = short+1, max(gap, n)
		}
	}
	if short > 0 {
		d.Incomplete = fmt.Sprintf("%d 项汇总不完整（%d 个%s未报）", short, gap, s.Units().Of(t).UnitsShort())
		reportTile.Note, reportTile.Class, reportTile.Alert = "其中 "+d.Incomplete, "warn", "汇总不完整"
	}
	alertTile := tile{Label: "预警", Value: strconv.Itoa(len(alerts)) + " 条", Href: "#alerts"} // this township's, below
	if len(alerts) > 0 {
		alertTile.Class = "warn"
	}
	d.Tiles = []tile{rankTile,
		{Label: "总分", Value: fmt.Sprintf("%.2f", rk.Total), Note: fmt.Sprintf("基础分 %s + 加分 %s", points(rk.Base), points(rk.Bonus))},
		gradeTile, reportTile, alertTile}

	if len(a.Categories()) > 0 { // a radar needs categories of scored indicators
		if d.Radar, err = radarChart("township-radar", a, r, t); err != nil {
			return nil, err
		}
	}
	var rows []progressRow
	due := dueOf(s)
	// 较去年同期 where last year had this unit
	for i := range a.Indicators {
		if r.LastYearOf(t, i) != nil {
			d.Table.LastYear = true
			break
		}
	}
	for i := range a.Indicators {
		ind := s.measure(i)
		e := r.Evaluation(t, i, nI)
		row := newEvalRow(ind, e, ind.Name, l.Indicator(ind.Code))
		row.Incomplete = incompleteNote(s, t, e)
		tip := cellTip(tw.Name+" · "+ind.Name, ind, e, due)
		if d.Table.LastYear {
			row.LastYear = newLastYearCell(ind, e.Actual, r.LastYearOf(t, i), false)
			tip += "\n" + lastYearTip(row.LastYear)
		}
		if row.Incomplete != "" {
			tip += "\n" + row.Incomplete
		}
		d.Table.Rows = append(d.Table.Rows, row)
		got, want := share(ind.Indicator, e.Actual, e.Target, e.Expected, m)
		if !ind.Kind.Scored() || (!got.Valid && !want.Valid) {
			continue
		}
		rows = append(rows, progressRow{Name: ind.Name, Got: got, Want: want, Status: shownStatus(ind.Indicator, e), Link: l.Indicator(ind.Code),
			Tip: tip})
	}
	if d.Progress, err = progressChart("township-progress", "各指标完成情况（实际、序时、目标）", rows, kpi.Num{}); err != nil {
		return nil, err
	}
	d.Progress.Note = "柱为累计完成占年度目标的比例，橙色标记为序时进度，竖线为年度目标。"
	if d.Trend, err = trendChart("township-trend", s, t); err != nil {
		return nil, err
	}
	if d.Rank, err = rankHistoryChart("township-rank", s, code); err != nil {
		return nil, err
	}
	d.Alerts = alertTable{Rows: foldAlerts(alertRows(s, alerts, l, false)), Unit: a.UnitsShort(), Total: len(alerts)}
	d.Alerts.Listed = listedAlerts(d.Alerts.Rows)
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		if !unreported(ind, r.Evaluation(t, i, nI)) {
			continue
		}
		d.Missing = append(d.Missing, missingRow{Indicator: ind.Name, Href: l.Indicator(ind.Code), Deadline: due.Label, Overdue: due.Overdue})
	}
	for _, c := range hist.Corrections {
		ind, ok := a.Indicator(c.Indicator)
		if !ok {
			continue
		}
		d.Corrections = append(d.Corrections, correctionRow{
			Indicator: ind.Name, Href: l.Indicator(ind.Code), Period: c.Period.Label(),
			Old: revisionFigure(ind, c.Old.Value, c.Old.Denominator), New: revisionFigure(ind, c.New.Value, c.New.Denominator),
			OldBy: c.Old.Actor, OldAt: stampOf(c.Old.At, a.Location), NewBy: c.New.Actor, NewAt: stampOf(c.New.At, a.Location),
			Source: foldSources(c.New.Source),
		})
	}
	for _, sb := range hist.Submissions {
		d.Submissions = append(d.Submissions, submissionRow{At: stampOf(sb.At, a.Location), Actor: sb.Actor, Source: foldSources(sb.Source),
			Periods: monthRanges(sb.Periods), Figures: sb.Figures})
	}
	if len(hist.Submissions) > 0 {
		d.Zone = kpi.ZoneLabel(a.Location, hist.Submissions[0].At)
	} else if len(hist.Corrections) > 0 {
		d.Zone = kpi.ZoneLabel(a.Location, hist.Corrections[0].New.At)
	}
	v.Charts = nonEmpty(d.Radar, d.Progress, d.Trend, d.Rank)
	v.Data = d
	return v, nil
}

// reportedOf counts unit t's figures owed every month (Kind.ReportedMonthly) and those of
// them reported for the result's month.
func reportedOf(r *kpi.Result, t int) (reported, owed int) {
	a := r.Assessment()
	for i := range a.Indicators {
		if a.Indicators[i].Kind.ReportedMonthly() {
			owed++
			if r.Evaluation(t, i, len(a.Indicators)).Reported {
				reported++
			}
		}
	}
	return reported, owed
}

// unreportedMark is what a ranking says beside a unit that has not reported all its monthly
// figures: 本月未报送 when it sent none, 缺报 3 项 when some are missing; empty otherwise.
func unreportedMark(r *kpi.Result, t int) string {
	reported, owed := reportedOf(r, t)
	switch {
	case owed == 0 || reported == owed:
		return ""
	case reported == 0:
		return "本月未报送"
	}
	return fmt.Sprintf("缺报 %d 项", owed-reported)
}

// revisionFigure writes a stored value as it was reported.
func revisionFigure(ind *kpi.Indicator, value float64, den *float64) string {
	if ind.Kind == kpi.KindRatio && den != nil {
		return thousands(value, 4) + " / " + thousands(*den, 4)
	}
	return withUnit(thousands(value, 4), ind.Unit)
}

// newEvalRow fills a table row from an evaluation. Its status is the one shown (see
// shownStatus): 未报送 for a figure owed this month and not sent, with the earlier months'
// status beside it; the figures are the evaluation's.
func newEvalRow(ind measure, e *kpi.Evaluation, name, href string) evalRow {
	st := shownStatus(ind.Indicator, e)
	row := evalRow{Name: name, Href: href, Category: ind.Category,
		Actual: figure(ind, e.Actual), Expected: required(ind, e.Expected), Target: figure(ind, e.Target),
		Completion: percent(e.Completion), Pace: percent(e.Pace), StatusText: statusLabel(st), Status: string(st),
		Prior: priorStatus(ind.Indicator, e), Forecast: newForecastCell(ind, e.Forecast, e.Target)}
	if ind.Kind == kpi.KindMilestone {
		row.Expected, row.Target = dash, kpi.MilestoneDue(ind.Due)
	}
	if ind.Kind == kpi.KindBonus {
		row.Target = "上限 " + figure(ind, e.Target)
	}
	if ind.Direction == kpi.Lower && e.Target.Valid {
		// a ceiling, not a goal: say so, and do not show a share where more is worse
		row.Expected, row.Target, row.Pace = "不超过 "+row.Expected, "不超过 "+row.Target, dash
	}
	if ind.Kind == kpi.KindRatio && e.Numerator != nil && e.Denominator != nil {
		row.Actual += fmt.Sprintf("（%s/%s）", number(*e.Numerator), number(*e.Denominator))
	}
	if e.Score.Valid {
		row.Score = points(e.Score.V) + " / " + points(ind.Weight)
	} else {
		row.Score = dash
	}
	return row
}

// alertRows turns alerts into table rows; withOwn links a city's counties to their own
// assessments (not on a county's own page, which links it once at the top).
func alertRows(s *Snapshot, as []kpi.Alert, l links, withOwn bool) []alertRow {
	a, p := s.Assessment, s.Period
	out := make([]alertRow, 0, len(as))
	own := map[string]*unitLink{} // a city's counties: each links to its own assessment
	if withOwn && s.Units() != nil {
		for t, tw := range a.Townships {
			own[tw.Code] = unitLinkOf(s, l, t)
		}
	}
	for _, al := range as {
		row := alertRow{Severity: kpi.SeverityLabel(al.Severity), SeverityClass: al.Severity, Name: kpi.AlertLabel(al.Alert),
			Township: al.TownshipName, TownshipHref: l.Township(al.Township),
			Indicator: al.IndicatorName, IndHref: l.Indicator(al.Indicator),
			Since: al.ActiveSince.Label(), Months: (p.Year-al.ActiveSince.Year)*12 + p.Month - al.ActiveSince.Month + 1,
			Summary: al.Summary, Own: own[al.Township]}
		out = append(out, row)
	}
	return out
}

// radarChart draws the township's score per category against the full marks and the
// county's average.
func radarChart(id string, a *kpi.Assessment, r *kpi.Result, t int) (chart, error) {
	cats := a.Categories()
	full := map[string]float64{}
	for _, ind := range a.Indicators {
		if ind.Kind.Scored() {
			full[ind.Category] += ind.Weight
		}
	}
	var ind []*opts.Indicator
	mine := make([]float64, len(cats))
	avg := make([]float64, len(cats))
	for k, c := range cats {
		ind = append(ind, &opts.Indicator{Name: c, Max: float32(math.Max(full[c], 1))})
		mine[k] = r.Townships[t].Categories[c]
		for _, ts := range r.Townships {
			avg[k] += ts.Categories[c]
		}
		avg[k] = kpi.Round(avg[k]/float64(max(1, len(r.Townships))), 2)
	}
	rd := ec.NewRadar()
	rd.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		ec.WithRadarComponentOpts(opts.RadarComponent{Indicator: ind, Center: []string{"50%", "48%"}}),
	)
	rd.AddSeries(a.Townships[t].Name, []opts.RadarData{{Name: a.Townships[t].Name, Value: mine}},
		ec.WithItemStyleOpts(opts.ItemStyle{Color: colorActual}), ec.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.2)}))
	rd.AddSeries(a.Whole()+"平均", []opts.RadarData{{Name: a.Whole() + "平均", Value: avg}},
		ec.WithItemStyleOpts(opts.ItemStyle{Color: colorExpected}))
	c, err := newChart(id, "各类别得分", 320, rd, chartSpec{ValueFormat: "number"},
		set("radar.axisName", map[string]any{"color": "#37474f"}), set("radar.radius", "62%"))
	c.Note = "每个类别的满分为该类指标分值之和。"
	return c, err
}

// trendChart draws, month by month, how much of its annual target each count or stock
// indicator had reached, against the share of the year gone (时间进度), and on to December:
// from the latest month, the forecast (预计全年) as a dashed line to December's estimate and
// its 80% interval as a band, in the indicator's colour. The indicators most behind are
// shown first; the others can be switched on in the legend, which switches an indicator's
// actuals and forecast together (they share its name).
func trendChart(id string, s *Snapshot, t int) (chart, error) {
	a := s.Assessment
	nI := len(a.Indicators)
	m := s.Period.Month
	line := ec.NewLine()
	line.SetXAxis(monthLabels(12))
	type cand struct {
		i    int
		pace float64
	}
	var cands []cand
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		if (ind.Kind != kpi.KindCount && ind.Kind != kpi.KindStock) || ind.Direction == kpi.Lower {
			continue
		}
		e := s.Result().Evaluation(t, i, nI)
		if !e.Target.Valid || e.Target.V <= 0 {
			continue
		}
		p := math.Inf(-1)
		if e.Pace.Valid {
			p = e.Pace.V
		}
		cands = append(cands, cand{i, p})
	}
	sort.SliceStable(cands, func(x, y int) bool { return cands[x].pace < cands[y].pace })
	selected := map[string]any{}
	legend := []string{"时间进度"}
	pace := make([]opts.LineData, 12)
	for k := 1; k <= 12; k++ {
		pace[k-1] = opts.LineData{Value: kpi.Round(float64(k)/12*100, 1)}
	}
	line.AddSeries("时间进度", pace, ec.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Width: 2, Color: colorTarget}),
		ec.WithItemStyleOpts(opts.ItemStyle{Color: colorTarget}))
	tips := [][]string{nil}
	forecasts := 0
	var follows [][2]any
	for n, c := range cands {
		ind := s.measure(c.i)
		color := seriesColors[n%len(seriesColors)]
		data := make([]opts.LineData, 12)
		for k := 1; k <= 12; k++ {
			data[k-1] = opts.LineData{Value: "-"}
			if k > m {
				continue
			}
			if e := s.Months[k-1].Evaluation(t, c.i, nI); e.Completion.Valid {
				data[k-1] = opts.LineData{Value: kpi.Round(e.Completion.V*100, 1)}
			}
		}
		line.AddSeries(ind.Name, data, ec.WithItemStyleOpts(opts.ItemStyle{Color: color}),
			ec.WithLineStyleOpts(opts.LineStyle{Color: color, Width: 2}))
		tips = append(tips, nil)
		legend = append(legend, ind.Name)
		if n >= 5 {
			selected[ind.Name] = false
		}
		if ly, lyTips, ok := lastYearCompletion(s, t, c.i, ind); ok {
			line.AddSeries(lyLegend, ly, ec.WithItemStyleOpts(opts.ItemStyle{Color: color}),
				ec.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
				ec.WithLineStyleOpts(opts.LineStyle{Color: color, Type: "dashed", Width: 1.5, Opacity: opts.Float(0.7)}))
			tips = append(tips, lyTips)
			follows = append(follows, [2]any{len(line.MultiSeries) - 1, ind.Name})
		}
		e := s.Result().Evaluation(t, c.i, nI)
		if e.Forecast == nil || !e.Completion.Valid || m >= 12 {
			continue
		}
		share := func(v float64) float64 { return math.Max(0, goalShare(v, e.Target, e.Baseline, ind.Kind).V) }
		end := share(e.Forecast.YearEnd)
		fl := forecastLine{name: ind.Name, color: color, m: m, start: e.Completion.V * 100,
			end: end, low: share(e.Forecast.Low), high: share(e.Forecast.High), decimals: 1,
			tip:   fmt.Sprintf("%s %s，占年度目标 %s", ind.Name, forecastTip(ind, e.Forecast), percent(kpi.Some(end/100))),
			stack: fmt.Sprintf("forecast-%d", n)}
		tips = append(tips, fl.add(line)...)
		forecasts++
	}
	line.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		// a plain legend, laid out by the page's script (FitLegend): every name in view
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "plain", Top: "0"}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "40", Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Min: 0, AxisLabel: &opts.AxisLabel{Formatter: "{value}%"}}),
	)
	spec := chartSpec{ValueFormat: "percent", Tips: tips, AxisTips: true, FitLegend: true}
	legendData := make([]any, 0, len(legend)+1)
	for _, name := range legend {
		legendData = append(legendData, name)
	}
	if len(follows) > 0 {
		spec.Follows, spec.FollowAll = follows, lyLegend
		// one entry switches every indicator's line of last year; it is drawn in grey, not
		// in the first indicator's colour
		legendData = append(legendData[:1:1], append([]any{map[string]any{"name": lyLegend,
			"itemStyle": map[string]any{"color": colorLastYear}, "lineStyle": map[string]any{"color": colorLastYear, "type": "dashed"}}}, legendData[1:]...)...)
	}
	c, err := newChart(id, "累计完成率走势与预计全年", 320, line, spec,
		set("legend.selected", selected), set("legend.data", legendData))
	c.Note = "各指标累计完成占年度目标的比例，虚线为时间进度（月数/12）。默认显示进度最落后的 5 项，点图例可显示其他指标。"
	if len(follows) > 0 {
		c.Note += "细虚线为去年同期（同一指标去年各月的累计完成率），点图例“去年同期”可隐藏。"
	}
	if forecasts > 0 {
		c.Note += fmt.Sprintf("%d月以后的虚线为预计全年，浅色带为 80%% 区间（十次里约有八次落在其中）。", m)
	}
	return c, err
}

// rankLabelRoom is the room in px above the 名次走势's plot for the labels over its points
// (a 12 px label 5 px above a point on the plot's top line, and a margin).
const rankLabelRoom = 28

// rankHistoryChart draws the township's rank month by month, rank 1 on top.
func rankHistoryChart(id string, s *Snapshot, code string) (chart, error) {
	m := s.Period.Month
	n := len(s.Assessment.Townships)
	data := make([]opts.LineData, m)
	for k := 1; k <= m; k++ {
		data[k-1] = opts.LineData{Value: "-"}
		for _, x := range s.Months[k-1].Rankings {
			if x.Township == code {
				data[k-1] = opts.LineData{Value: x.Rank}
			}
		}
	}
	line := ec.NewLine()
	line.SetXAxis(monthLabels(m))
	line.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		// the labels stand above the points: the plot starts low enough for a first place's "1"
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: strconv.Itoa(rankLabelRoom), Bottom: "8", ContainLabel: opts.Bool(true)}),
		ec.WithYAxisOpts(opts.YAxis{Type: "value", Inverse: opts.Bool(true), Min: 1, Max: max(n, 2), MinInterval: 1,
			AxisLabel: &opts.AxisLabel{Formatter: "第{value}名"}}),
	)
	line.AddSeries("名次", data, ec.WithItemStyleOpts(opts.ItemStyle{Color: colorActual}),
		ec.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top"}))
	c, err := newChart(id, "名次走势", 240, line, chartSpec{})
	c.Note = fmt.Sprintf("%s %d 个%s，第1名在最上方。", s.Assessment.Whole(), n, s.Assessment.Units())
	return c, err
}

// lastYearCompletion is unit t's cumulative completion of indicator i month by month last
// year, in percent, for the trend's 去年同期 line, with its tooltips; false when last year
// has no such figure.
func lastYearCompletion(s *Snapshot, t, i int, ind measure) ([]opts.LineData, []string, bool) {
	if !s.LastYear.Has(i) {
		return nil, nil, false
	}
	data := make([]opts.LineData, 12)
	tips := make([]string, 12)
	found := false
	for k := 1; k <= 12; k++ {
		data[k-1] = opts.LineData{Value: "-"}
		e := s.LastYear.Of(k, t, i)
		if e == nil || !e.Completion.Valid {
			continue
		}
		found = true
		data[k-1] = opts.LineData{Value: kpi.Round(e.Completion.V*100, 1)}
		tips[k-1] = fmt.Sprintf("%s 去年同期：完成 %s（%s）", ind.Name, percent(e.Completion), figure(ind, e.Actual))
	}
	return data, tips, found
}
