package charts

import (
	"fmt"
	"strconv"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// alertsData is the content of 预警.
type alertsData struct {
	Tiles       []tile
	Critical    []alertRow
	Warning     []alertRow
	Resolutions []resolutionRow
	Chart       chart
}

// resolutionRow is an alert that stopped holding in one of the last months.
type resolutionRow struct {
	Name                   string
	Township, TownshipHref string
	Indicator, IndHref     string
	Since                  string // first month of the run that ended
	Resolved               string // the month it no longer held
}

// resolutionMonths is how far back 预警 lists resolutions.
const resolutionMonths = 3

// buildAlerts builds 预警 for the snapshot's period.
func buildAlerts(s *Snapshot, l links) (*view, error) {
	a, r := s.Assessment, s.Result()
	v := newView(s, l, kindAlerts, "预警")
	d := &alertsData{}
	var crit, warn []kpi.Alert
	for _, al := range r.Alerts {
		if al.Severity == kpi.SeverityCritical {
			crit = append(crit, al)
		} else {
			warn = append(warn, al)
		}
	}
	d.Critical, d.Warning = alertRows(a, crit, l, s.Period), alertRows(a, warn, l, s.Period)
	for _, res := range resolutions(s, resolutionMonths) {
		tw, _ := a.Township(res.Alert.Township)
		ind, _ := a.Indicator(res.Alert.Indicator)
		row := resolutionRow{Name: kpi.AlertLabel(res.Alert.Alert), Township: tw.Name, TownshipHref: l.Township(tw.Code),
			Since: res.Alert.ActiveSince.Label(), Resolved: res.Resolved.Label()}
		if ind != nil {
			row.Indicator, row.IndHref = ind.Name, l.Indicator(ind.Code)
		}
		d.Resolutions = append(d.Resolutions, row)
	}
	t := func(label string, n int, class string) tile {
		tl := tile{Label: label, Value: strconv.Itoa(n) + " 条"}
		if n > 0 {
			tl.Class = class
		}
		return tl
	}
	d.Tiles = []tile{t("严重", len(crit), "bad"), t("警告", len(warn), "warn"),
		{Label: "近期解除", Value: strconv.Itoa(len(d.Resolutions)) + " 条", Note: fmt.Sprintf("近 %d 个月", resolutionMonths)}}
	var err error
	if d.Chart, err = alertChart("alerts-townships", a, r, l); err != nil {
		return nil, err
	}
	v.Charts = []chart{d.Chart}
	v.Data = d
	return v, nil
}

// resolution is an alert that held as of one month and no longer the next.
type resolution struct {
	Alert    kpi.Alert  // as it last held
	Resolved kpi.Period // the first month it no longer held
}

// resolutions lists the alerts that stopped holding within the last n months up to the
// snapshot's period and do not hold now, latest first. Each alert is listed once, for its
// latest resolution.
func resolutions(s *Snapshot, n int) []resolution {
	active := map[kpi.AlertKey]bool{}
	for _, al := range s.Result().Alerts {
		active[al.Key()] = true
	}
	seen := map[kpi.AlertKey]bool{}
	var out []resolution
	for k := len(s.Months); k >= 2 && k > len(s.Months)-n; k-- {
		now := map[kpi.AlertKey]bool{}
		for _, al := range s.Months[k-1].Alerts {
			now[al.Key()] = true
		}
		for _, al := range s.Months[k-2].Alerts {
			key := al.Key()
			if now[key] || active[key] || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, resolution{Alert: al, Resolved: s.Months[k-1].Period})
		}
	}
	return out
}

// alertChart stacks each township's active alerts by severity.
func alertChart(id string, a *kpi.Assessment, r *kpi.Result, l links) (chart, error) {
	names := make([]string, len(a.Townships))
	hrefs := make([]string, len(a.Townships))
	crit := make([]opts.BarData, len(a.Townships))
	warn := make([]opts.BarData, len(a.Townships))
	critTips := make([]string, len(a.Townships))
	warnTips := make([]string, len(a.Townships))
	for t, tw := range a.Townships {
		names[t], hrefs[t] = tw.Name, l.Township(tw.Code)
		var c, w int
		for _, al := range r.Alerts {
			if al.Township != tw.Code {
				continue
			}
			if al.Severity == kpi.SeverityCritical {
				c++
			} else {
				w++
			}
		}
		crit[t], warn[t] = opts.BarData{Value: c}, opts.BarData{Value: w}
		critTips[t] = fmt.Sprintf("%s\n严重预警 %d 条", tw.Name, c)
		warnTips[t] = fmt.Sprintf("%s\n警告 %d 条", tw.Name, w)
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
	return newChart(id, "各乡镇预警", rowsHeight(len(names), 28, 60, 160), bar,
		chartSpec{Tips: [][]string{critTips, warnTips}, Links: [][]string{hrefs, hrefs}},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}))
}
