package charts

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// alertsData is the content of 预警.
type alertsData struct {
	Tiles         []tile
	Critical      alertTable
	Warning       alertTable
	Resolutions   []resolutionRow // the latest maxAlertRows
	ResolvedTotal int             // resolutions in all
	Chart         chart
}

// ResolvedText is how many resolutions there are, written for people: 1,234.
func (d *alertsData) ResolvedText() string { return thousands(float64(d.ResolvedTotal), 0) }

// resolutionRow is an alert that stopped holding in one of the last months.
type resolutionRow struct {
	Name                   string
	Township, TownshipHref string
	Indicator, IndHref     string
	Since                  string // first month of the run that ended
	Resolved               string // how it ended: 2025年11月已解除, or 2025年10月数据更新后解除（2025-11-08 10:00）
}

// resolutionMonths is how far back 预警 lists resolutions.
const resolutionMonths = 3

// buildAlerts builds 预警 for the snapshot's period.
func buildAlerts(s *Snapshot, l links) (*view, error) {
	a, r := s.Assessment, s.Result()
	v, err := newView(s, l, kindAlerts, "预警")
	if err != nil {
		return nil, err
	}
	d := &alertsData{}
	var crit, warn []kpi.Alert
	for _, al := range r.Alerts {
		if al.Severity == kpi.SeverityCritical {
			crit = append(crit, al)
		} else {
			warn = append(warn, al)
		}
	}
	d.Critical = newAlertTable(s, crit, l)
	d.Warning = newAlertTable(s, warn, l)
	res := resolutions(s, resolutionMonths)
	d.ResolvedTotal = len(res)
	for _, res := range res[:min(len(res), maxAlertRows)] {
		tw, ok := a.Township(res.Alert.Township)
		if !ok {
			continue // a township no longer in the config
		}
		ind, _ := a.Indicator(res.Alert.Indicator)
		row := resolutionRow{Name: kpi.AlertLabel(res.Alert.Alert), Township: tw.Name, TownshipHref: l.Township(tw.Code),
			Since: res.Alert.ActiveSince.Label(), Resolved: res.Resolved.Label() + "已解除"}
		if !res.At.IsZero() {
			row.Resolved = fmt.Sprintf("%s数据更新后解除（%s %s）", res.Resolved.Label(), clock(res.At, a.Location), kpi.ZoneLabel(a.Location, res.At))
		}
		if ind != nil {
			row.Indicator, row.IndHref = ind.Name, l.Indicator(ind.Code)
		}
		d.Resolutions = append(d.Resolutions, row)
	}
	t := func(label string, n int, class string) tile {
		tl := tile{Label: label, Value: thousands(float64(n), 0) + " 条"}
		if n > 0 {
			tl.Class = class
		}
		return tl
	}
	d.Tiles = []tile{t("严重", len(crit), "bad"), t("警告", len(warn), "warn"),
		{Label: "近期解除", Value: thousands(float64(d.ResolvedTotal), 0) + " 条", Note: fmt.Sprintf("近 %d 个月", resolutionMonths)}}
	if d.Chart, err = alertChart("alerts-townships", a, r, l); err != nil {
		return nil, err
	}
	if large(a) {
		d.Chart.Search = a.UnitsShort()
	}
	v.Charts = []chart{d.Chart}
	v.Data = d
	return v, nil
}

// resolution is an alert that stopped holding: from one month to the next, or within a
// month when data for it arrived.
type resolution struct {
	Alert    kpi.Alert  // as it last held
	Resolved kpi.Period // the first month it no longer held; for a resolution within a month, that month
	At       time.Time  // when the store saw it resolve, for a resolution within a month; zero otherwise
}

// resolutions lists the alerts that stopped holding within the last n months up to the
// snapshot's period and do not hold now, latest month first. Each alert is listed once, for
// its latest resolution. There are two ways to stop holding:
//
//   - from one month to the next: it held as of month k−1 and no longer as of month k, in the
//     evaluations of the data as they are now;
//   - within a month: data for month k arrived after its alerts fired (a late report, a
//     correction) and the lifecycle store saw an alert of month k resolve (Snapshot.Resolved);
//     it does not hold as of month k in the data as they are now. An alert the store resolved
//     while it still holds as of its month stopped because the store moved on to the next
//     month: that is the first kind, or it is active on this page.
//
// Within a month, the store's resolutions come first, latest first.
func resolutions(s *Snapshot, n int) []resolution {
	active := map[kpi.AlertKey]bool{}
	for _, al := range s.Result().Alerts {
		active[al.Key()] = true
	}
	p := s.Result().Period
	inWindow := func(q kpi.Period) bool {
		return q.Year == p.Year && q.Month <= p.Month && q.Month > p.Month-n && q.Month >= 1 && q.Month <= len(s.Months)
	}
	heldAsOf := map[kpi.Period]map[kpi.AlertKey]bool{}
	held := func(q kpi.Period, key kpi.AlertKey) bool {
		m, ok := heldAsOf[q]
		if !ok {
			m = map[kpi.AlertKey]bool{}
			for _, al := range s.Months[q.Month-1].Alerts {
				m[al.Key()] = true
			}
			heldAsOf[q] = m
		}
		return m[key]
	}
	within := map[int][]resolution{} // by month
	for _, r := range s.Resolved {
		key := r.Alert.Key()
		if !inWindow(r.Period) || active[key] || held(r.Period, key) {
			continue
		}
		within[r.Period.Month] = append(within[r.Period.Month], resolution{Alert: r.Alert, Resolved: r.Period, At: r.ResolvedAt})
	}
	seen := map[kpi.AlertKey]bool{}
	var out []resolution
	add := func(r resolution) {
		if key := r.Alert.Key(); !active[key] && !seen[key] {
			seen[key] = true
			out = append(out, r)
		}
	}
	for k := len(s.Months); k >= 1 && k > len(s.Months)-n; k-- {
		same := within[k]
		sort.SliceStable(same, func(i, j int) bool { return same[i].At.After(same[j].At) })
		for _, r := range same {
			add(r)
		}
		if k < 2 {
			continue
		}
		now := map[kpi.AlertKey]bool{}
		for _, al := range s.Months[k-1].Alerts {
			now[al.Key()] = true
		}
		for _, al := range s.Months[k-2].Alerts {
			if !now[al.Key()] {
				add(resolution{Alert: al, Resolved: s.Months[k-1].Period})
			}
		}
	}
	return out
}

// newAlertTable makes a table of alerts; beyond maxAlertRows it lists those that have held
// longest (then in the order given) and says how many there are. A unit's alerts of one kind
// fold into one row (foldAlerts).
func newAlertTable(s *Snapshot, as []kpi.Alert, l links) alertTable {
	tb := alertTable{Unit: s.Assessment.UnitsShort(), Total: len(as)}
	if len(as) > maxAlertRows {
		as = slices.Clone(as)
		slices.SortStableFunc(as, func(x, y kpi.Alert) int {
			return cmp.Compare(x.ActiveSince.Year*12+x.ActiveSince.Month, y.ActiveSince.Year*12+y.ActiveSince.Month)
		})
		as = as[:maxAlertRows]
	}
	tb.Rows = foldAlerts(alertRows(s, as, l, true))
	tb.Listed = listedAlerts(tb.Rows)
	return tb
}

// alertChart stacks each township's active alerts by severity; for a large assessment those
// of the 2 × topN units with the most critical alerts (then warnings), most first.
func alertChart(id string, a *kpi.Assessment, r *kpi.Result, l links) (chart, error) {
	count := make([][2]int, len(a.Townships)) // critical, warning
	for _, al := range r.Alerts {
		t := a.TownshipIndex(al.Township)
		if t < 0 {
			continue
		}
		if al.Severity == kpi.SeverityCritical {
			count[t][0]++
		} else {
			count[t][1]++
		}
	}
	order := make([]int, len(a.Townships))
	for t := range order {
		order[t] = t
	}
	title := "各" + a.UnitsShort() + "预警"
	if large(a) {
		slices.SortStableFunc(order, func(x, y int) int {
			if c := cmp.Compare(count[y][0], count[x][0]); c != 0 {
				return c
			}
			return cmp.Compare(count[y][1], count[x][1])
		})
		order = order[:2*topN]
		title = fmt.Sprintf("预警最多的 %d 个%s", len(order), a.UnitsShort())
	}
	names := make([]string, len(order))
	hrefs := make([]string, len(order))
	crit := make([]opts.BarData, len(order))
	warn := make([]opts.BarData, len(order))
	critTips := make([]string, len(order))
	warnTips := make([]string, len(order))
	for k, t := range order {
		tw := a.Townships[t]
		names[k], hrefs[k] = tw.Name, l.Township(tw.Code)
		c, w := count[t][0], count[t][1]
		crit[k], warn[k] = opts.BarData{Value: c}, opts.BarData{Value: w}
		critTips[k] = fmt.Sprintf("%s\n严重预警 %d 条", tw.Name, c)
		warnTips[k] = fmt.Sprintf("%s\n警告 %d 条", tw.Name, w)
	}
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: "8", Bottom: "40", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, MinInterval: 1}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	bar.AddSeries("严重", crit, ec.WithBarChartOpts(opts.BarChart{Stack: "alerts"}), ec.WithItemStyleOpts(opts.ItemStyle{Color: statusColors["behind"]}))
	bar.AddSeries("警告", warn, ec.WithBarChartOpts(opts.BarChart{Stack: "alerts"}), ec.WithItemStyleOpts(opts.ItemStyle{Color: statusColors["at_risk"]}))
	return newChart(id, title, rowsHeight(len(names), 28, 60, 160), bar,
		chartSpec{Tips: [][]string{critTips, warnTips}, Links: [][]string{hrefs, hrefs}},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}))
}
