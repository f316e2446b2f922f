package charts

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// rowOf cuts the row of the table with the id whose first cell links the name.
func rowOf(t *testing.T, page, table, name string) string {
	t.Helper()
	page = section(t, page, table, "</table>")
	i := strings.Index(page, ">"+name+"</a></td>")
	if i < 0 { // a ranking's unit with its 本月未报送 mark
		i = strings.Index(page, ">"+name+`</a><span class="badge warn unrep">`)
	}
	if i < 0 {
		t.Fatalf("table %s has no row for %s", table, name)
	}
	row := page[i:]
	return row[:strings.Index(row, "</tr>")]
}

// forecastCellRE reads the 预计全年 and 每月还需 cells of a row.
var forecastCellRE = regexp.MustCompile(`<td class="num fc( fc-miss| fc-risk)?">([^<]*)(?:<span class="range">区间 <span>([^<]*)</span></span>)?</td>\s*<td class="num">([^<]*)</td>`)

// TestTablesShowTheForecast: the township's table, the indicator's townships and the
// overview's county table show 预计全年 with its interval, red when even the interval's high
// end is under the target, and 每月还需; a dash where there is no forecast.
func TestTablesShowTheForecast(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	pages := renderPages(t, mon, p, false)
	r, _ := mon.Evaluate(p)
	a := mon.Assessment()
	nI := len(a.Indicators)
	screenings, closure := &a.Indicators[a.IndicatorIndex("screenings")], &a.Indicators[a.IndicatorIndex("closure")]
	cell := func(row string) []string {
		t.Helper()
		m := forecastCellRE.FindStringSubmatch(row)
		if m == nil {
			t.Fatalf("no forecast cells in %s", row)
		}
		return m[1:]
	}
	for _, c := range []struct {
		name, page, table, row string
		ind                    *kpi.Indicator
		f                      *kpi.Forecast
		target                 kpi.Num
	}{
		{"乙镇's screenings on its page", "townships/bb.html", "evals", "两癌筛查人数", screenings, r.Evaluation(1, 0, nI).Forecast, r.Evaluation(1, 0, nI).Target},
		{"甲镇's closure on its page", "townships/aa.html", "evals", "信访办结率", closure, r.Evaluation(0, 1, nI).Forecast, r.Evaluation(0, 1, nI).Target},
		{"乙镇 on the screenings page", "indicators/screenings.html", "evals", "乙镇", screenings, r.Evaluation(1, 0, nI).Forecast, r.Evaluation(1, 0, nI).Target},
		{"the county's screenings", "index.html", "county", "两癌筛查人数", screenings, r.County[0].Forecast, r.County[0].Target},
		{"the county's closure", "index.html", "county", "信访办结率", closure, r.County[1].Forecast, r.County[1].Target},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.f == nil {
				t.Fatal("fixture changed: no forecast")
			}
			got := cell(rowOf(t, pages[c.page], c.table, c.row))
			class := ""
			switch {
			case c.f.High < c.target.V:
				class = " fc-miss"
			case c.f.YearEnd < c.target.V:
				class = " fc-risk"
			}
			end, low, high := kpi.WholeRange(c.f.YearEnd, c.f.Low, c.f.High, c.ind.Unit) // whole people within the interval
			if c.ind.Kind == kpi.KindRatio {
				end, low, high = c.f.YearEnd, c.f.Low, c.f.High
			}
			want := []string{class, estimate(plain(c.ind), kpi.Some(end)), span(plain(c.ind), low, high), dash}
			if c.f.NeededPerMonth.Valid {
				want[3] = required(plain(c.ind), c.f.NeededPerMonth)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("预计全年, 区间, 每月还需 = %q, want %q", got, want)
			}
		})
	}
	// 乙镇 has 70 of its 600 by March: even the interval's high end is short, in red
	if got := cell(rowOf(t, pages["townships/bb.html"], "evals", "两癌筛查人数")); got[0] != " fc-miss" || got[2] != "350–490 人" || got[3] != "59 人" {
		t.Errorf("乙镇's screenings: %q, want red, whole people in the interval and 59 人 a month ((600 − 70) / 9 = 58.89, rounded up)", got)
	}
	for _, name := range []string{"规划中期评估", "荣誉加分", "重大责任事故", "信访受理件数"} {
		if got := cell(rowOf(t, pages["townships/bb.html"], "evals", name)); got[1] != dash || got[2] != "" || got[3] != dash {
			t.Errorf("%s has no forecast, its cells read %q", name, got)
		}
	}
	// December has no forecast: every cell a dash
	dec := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	for _, m := range forecastCellRE.FindAllStringSubmatch(renderPages(t, dec, kpi.MustPeriod("2024-12"), false)["townships/aa.html"], -1) {
		if m[2] != dash || m[4] != dash {
			t.Errorf("December's forecast cells read %q", m[1:])
		}
	}
}

// TestTrendChartsRunToDecember: the township's and the indicator's trend charts run to
// December; from March the forecast is a line to December's estimate and a band of its
// interval (its low end and its width, stacked), named as the indicator so the legend switches
// them together, with a tooltip at December saying 预计全年 and the interval.
func TestTrendChartsRunToDecember(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	pages := renderPages(t, mon, p, false)
	r, _ := mon.Evaluate(p)
	a := mon.Assessment()
	e := r.Evaluation(1, 0, len(a.Indicators)) // 乙镇's screenings: target 600
	share := func(v float64) float64 { return kpi.Round(v/600*100, 1) }

	sp := specs(t, pages["townships/bb.html"])["township-trend"]
	if n := len(at(t, sp.Option, "xAxis.0.data").([]any)); n != 12 {
		t.Errorf("the township's trend has %d months, want 12", n)
	}
	if !sp.AxisTips {
		t.Error("the township's trend does not list its series by their tips")
	}
	series := at(t, sp.Option, "series").([]any)
	var named []int
	for k, s := range series {
		if s.(map[string]any)["name"] == "两癌筛查人数" {
			named = append(named, k)
		}
	}
	if len(named) != 4 {
		t.Fatalf("两癌筛查人数 has %d series, want 4 (actual, forecast, band low end, band width)", len(named))
	}
	actual, est, low, width := named[0], named[1], named[2], named[3]
	val := func(s, k int) any { return at(t, series[s], fmt.Sprintf("data.%d.value", k)) }
	if val(actual, 2) != kpi.Round(e.Completion.V*100, 1) || val(actual, 3) != "-" || val(est, 1) != "-" {
		t.Errorf("actuals run to March and the forecast from it: actual %v, %v; forecast %v", val(actual, 2), val(actual, 3), val(est, 1))
	}
	if val(est, 2) != kpi.Round(e.Completion.V*100, 1) || val(est, 11) != share(e.Forecast.YearEnd) {
		t.Errorf("the forecast runs from %v to %v, want from the actual %v to %v", val(est, 2), val(est, 11), kpi.Round(e.Completion.V*100, 1), share(e.Forecast.YearEnd))
	}
	if val(low, 11) != share(e.Forecast.Low) || kpi.Round(val(low, 11).(float64)+val(width, 11).(float64), 1) != share(e.Forecast.High) {
		t.Errorf("the band at December is %v + %v, want %v to %v", val(low, 11), val(width, 11), share(e.Forecast.Low), share(e.Forecast.High))
	}
	if at(t, series[low], "stack") != at(t, series[width], "stack") || at(t, series[width], "areaStyle") == nil || at(t, series[est], "lineStyle.type") != "dashed" {
		t.Error("the band is not a stacked area or the forecast line is not dashed")
	}
	tip := sp.Tips[est][11]
	if !strings.Contains(tip, "预计全年：420 人（区间 350–490 人）") {
		t.Errorf("the tooltip at December is %q", tip)
	}
	for k := range 11 {
		if sp.Tips[est][k] != "" || sp.Tips[low][k] != "" || sp.Tips[width][k] != "" {
			t.Errorf("month %d: the forecast's series have tooltips of their own", k+1)
		}
	}
	if sp.Tips[actual] != nil {
		t.Error("the actuals lost their default tooltip")
	}

	c := r.County[0]
	sp = specs(t, pages["indicators/screenings.html"])["indicator-county"]
	series = at(t, sp.Option, "series").([]any)
	named = nil
	for k, s := range series {
		if s.(map[string]any)["name"] == "预计全年" {
			named = append(named, k)
		}
	}
	if len(named) != 3 || at(t, series[named[0]], "data.11.value") != kpi.Round(c.Forecast.YearEnd, 2) ||
		at(t, series[named[1]], "data.11.value") != kpi.Round(c.Forecast.Low, 2) || !strings.HasPrefix(sp.Tips[named[0]][11], "全县预计全年：") {
		t.Errorf("the county's forecast series %v, tips %q", named, sp.Tips)
	}
	// December: no forecast to draw
	for name, html := range renderPages(t, mon, kpi.MustPeriod("2024-12"), false) {
		for id, sp := range specs(t, html) {
			for _, s := range at(t, sp.Option, "series").([]any) {
				if at(t, s, "name") == "预计全年" || at(t, s, "stack") != nil && strings.HasPrefix(at(t, s, "stack").(string), "forecast") {
					t.Errorf("%s %s draws a forecast in December", name, id)
				}
			}
		}
	}
}

// TestOverviewListsLikelyMisses: as of September the demo's overview lists the 10 figures
// whose forecast's high end is furthest under their target, each with its forecast, and says
// how many there are and how many forecast_miss alerts hold.
func TestOverviewListsLikelyMisses(t *testing.T) {
	mon := demoMonitor(t)
	p := kpi.MustPeriod("2025-09")
	html := renderPages(t, mon, p, false)["index.html"]
	r, _ := mon.Evaluate(p)
	a := mon.Assessment()
	nI := len(a.Indicators)
	type cellKey struct{ t, i string }
	short := map[cellKey]float64{}
	alerts := 0
	alerted := map[cellKey]bool{}
	for _, al := range r.Alerts {
		if al.Alert == kpi.AlertForecastMiss {
			alerts++
			alerted[cellKey{al.TownshipName, al.IndicatorName}] = true
		}
	}
	for tw := range a.Townships {
		for i := range a.Indicators {
			e := r.Evaluation(tw, i, nI)
			if e.Forecast == nil || e.Status == kpi.StatusMet || !e.Target.Valid {
				continue
			}
			b := 0.0
			if e.Baseline.Valid {
				b = e.Baseline.V
			}
			if high := (e.Forecast.High - b) / (e.Target.V - b); high < 1 {
				short[cellKey{a.Townships[tw].Name, a.Indicators[i].Name}] = 1 - high
			}
		}
	}
	if len(short) < 10 || alerts == 0 {
		t.Fatalf("fixture changed: %d figures whose forecast misses, %d alerts", len(short), alerts)
	}
	if want := fmt.Sprintf("低于目标的共 %d 项", len(short)); !strings.Contains(html, want) || !strings.Contains(html, fmt.Sprintf("预警</a> %d 条", alerts)) {
		t.Errorf("the list does not say %s and %d alerts", want, alerts)
	}
	rowRE := regexp.MustCompile(`(?s)<tr>\s*<td><a href="(/townships/[^"]+)">([^<]+)</a></td>\s*<td class="name"><a href="(/indicators/[^"]+)">([^<]+)</a></td>\s*<td class="num fc fc-miss">.*?</tr>`)
	rows := rowRE.FindAllStringSubmatch(section(t, html, "likely-miss", "</table>"), -1)
	if len(rows) != 10 {
		t.Fatalf("%d rows in red, want 10", len(rows))
	}
	prev := 2.0
	for k, m := range rows {
		key := cellKey{m[2], m[4]}
		s, ok := short[key]
		if !ok || s > prev+1e-12 {
			t.Errorf("row %d: %s × %s falls short by %.4f after %.4f (listed: %v)", k+1, m[2], m[4], s, prev, ok)
		}
		prev = s
		if tw, ok := a.Township(strings.TrimPrefix(strings.Split(m[1], "?")[0], "/townships/")); !ok || tw.Name != m[2] {
			t.Errorf("row %d links %s for %s", k+1, m[1], m[2])
		}
		if alerted[key] != strings.Contains(m[0], "预计完不成") {
			t.Errorf("row %d: %s × %s alerted %v, badge %v", k+1, m[2], m[4], alerted[key], !alerted[key])
		}
	}
	further := 0
	for _, v := range short {
		if v > prev+1e-12 {
			further++
		}
	}
	if further > 9 {
		t.Errorf("%d figures fall shorter than the 10th listed (%.4f): some are left out", further, prev)
	}
	// December: nothing to forecast, no list
	if dec := renderPages(t, mon, kpi.MustPeriod("2025-12"), false)["index.html"]; strings.Contains(dec, `id="misses"`) {
		t.Error("December's overview lists figures likely to miss")
	}
}
