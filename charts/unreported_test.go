package charts

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

func TestShownStatusKeepsUnreportedApartFromBehind(t *testing.T) {
	kind := func(k kpi.Kind) *kpi.Indicator { return &kpi.Indicator{Kind: k} }
	for _, c := range []struct {
		name      string
		ind       *kpi.Indicator
		e         kpi.Evaluation
		want      kpi.Status
		wantPrior string
	}{
		{"a count reported and behind", kind(kpi.KindCount), kpi.Evaluation{Status: kpi.StatusBehind, Reported: true}, kpi.StatusBehind, ""},
		{"a count not reported, behind on the months before", kind(kpi.KindCount), kpi.Evaluation{Status: kpi.StatusBehind}, kpi.StatusNoData, "按此前数据：滞后"},
		{"a stock not reported, on track on the months before", kind(kpi.KindStock), kpi.Evaluation{Status: kpi.StatusOnTrack}, kpi.StatusNoData, "按此前数据：序时达标"},
		{"a ratio not reported, at risk on the months before", kind(kpi.KindRatio), kpi.Evaluation{Status: kpi.StatusAtRisk}, kpi.StatusNoData, "按此前数据：预警"},
		{"a count never reported", kind(kpi.KindCount), kpi.Evaluation{Status: kpi.StatusNoData}, kpi.StatusNoData, ""},
		{"a tracked-only count not reported", kind(kpi.KindCount), kpi.Evaluation{Status: kpi.StatusNotApplicable}, kpi.StatusNoData, ""},
		{"a milestone not reported this month", kind(kpi.KindMilestone), kpi.Evaluation{Status: kpi.StatusBehind}, kpi.StatusBehind, ""},
		{"a milestone not yet due", kind(kpi.KindMilestone), kpi.Evaluation{Status: kpi.StatusOnTrack}, kpi.StatusOnTrack, ""},
		{"a bonus not reported", kind(kpi.KindBonus), kpi.Evaluation{}, "", ""},
		{"a veto not reported", kind(kpi.KindVeto), kpi.Evaluation{}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := shownStatus(c.ind, &c.e); got != c.want {
				t.Errorf("shownStatus = %q, want %q", got, c.want)
			}
			if got := priorStatus(c.ind, &c.e); got != c.wantPrior {
				t.Errorf("priorStatus = %q, want %q", got, c.wantPrior)
			}
		})
	}
}

// tileRE reads a tile: its classes, label, value and note.
var tileRE = regexp.MustCompile(`(?s)<div class="tile([^"]*)">\s*<div class="tile-label">([^<]*)</div>\s*<div class="tile-value">(?:<a href="[^"]*">)?([^<]*)(?:</a>)?</div>(?:<div class="tile-alert">[^<]*</div>)?(?:<div class="tile-note">([^<]*)</div>)?`)

// tileOf finds the first tile with the label in a page.
func tileOf(t *testing.T, page, label string) (class, value, note string) {
	t.Helper()
	for _, m := range tileRE.FindAllStringSubmatch(page, -1) {
		if m[2] == label {
			return strings.TrimSpace(m[1]), m[3], m[4]
		}
	}
	t.Fatalf("no tile %s", label)
	return
}

// section cuts a page's element with the id, up to its closing tag.
func section(t *testing.T, page, id, end string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element %s", id)
	}
	s := page[i:]
	return s[:strings.Index(s, end)]
}

// TestOverviewCountsUnreportedItems: the 未报送 tile counts the figures owed this month and
// not sent (1: 乙镇's screenings, which are behind on the months before), so it agrees with
// the report rate beside it, and 滞后 does not count it; the status chart stacks it under
// 未报送; a line names the township.
func TestOverviewCountsUnreportedItems(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	html := renderPages(t, mon, p, false)["index.html"]
	r, _ := mon.Evaluate(p)
	a := mon.Assessment()
	st := countReports(a, r)
	if st.Due-st.Arrived != 1 {
		t.Fatalf("fixture changed: %d of %d figures arrived", st.Arrived, st.Due)
	}
	if _, v, _ := tileOf(t, html, "未报送"); v != "1" {
		t.Errorf("未报送 tile = %s, want 1 (report rate: %d of %d arrived)", v, st.Arrived, st.Due)
	}
	// behind and owed nothing this month: reported counts, stocks and ratios, and milestones
	behindShown := func(tw, i int) bool {
		e := r.Evaluation(tw, i, len(a.Indicators))
		return e.Status == kpi.StatusBehind && (e.Reported || !a.Indicators[i].Kind.ReportedMonthly())
	}
	behind := 0
	for tw := range a.Townships {
		for _, i := range scoredIndicators(a) {
			if behindShown(tw, i) {
				behind++
			}
		}
	}
	if _, v, _ := tileOf(t, html, "滞后"); v != itoa(behind) {
		t.Errorf("滞后 tile = %s, want %d (the reported figures behind, not the unreported one)", v, behind)
	}
	if !strings.Contains(html, `<h2>乡镇 × 指标状态</h2><p class="note">灰色为本月应报未报送`) {
		t.Error("the heat map does not say what grey means")
	}
	line := section(t, html, "unreported", "</p>")
	if !strings.Contains(line, `<a href="/townships/bb?period=2024-03#missing">乙镇</a> 1 项`) || strings.Contains(line, "甲镇") || !strings.Contains(line, "已逾期") {
		t.Errorf("unreported line: %s", line)
	}
	sp := specs(t, html)["overview-status"]
	series := at(t, sp.Option, "series").([]any)
	bbBehind := 0
	for _, i := range scoredIndicators(a) {
		if behindShown(1, i) {
			bbBehind++
		}
	}
	for k, stt := range kpi.AllStatuses() {
		want, ok := map[kpi.Status]int{kpi.StatusNoData: 1, kpi.StatusBehind: bbBehind}[stt]
		if got := int(at(t, series[k], "data.1.value").(float64)); ok && got != want {
			t.Errorf("status chart: 乙镇 %s = %d, want %d", stt.Label(), got, want)
		}
	}
}

// TestTablesAndChartsSayNotReported: on 乙镇's page and the indicator's page, the unreported
// screenings read 未报送 with the earlier months' 滞后 beside it, the progress bars are grey,
// and the indicator's tile names 乙镇. Milestones, bonuses and vetoes are never 未报送.
func TestTablesAndChartsSayNotReported(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)
	rowOf := func(page, name string) string {
		t.Helper()
		page = section(t, page, "evals", "</table>")
		i := strings.Index(page, ">"+name+"</a></td>")
		if i < 0 {
			t.Fatalf("no table row for %s", name)
		}
		row := page[i:]
		return row[:strings.Index(row, "</tr>")]
	}
	wantUnreported := `<span class="status status-no_data">未报送</span><span class="prior">按此前数据：滞后</span>`
	if row := rowOf(pages["townships/bb.html"], "两癌筛查人数"); !strings.Contains(row, wantUnreported) || strings.Contains(row, "status-behind") {
		t.Errorf("乙镇's screenings row: %s", row)
	}
	if row := rowOf(pages["indicators/screenings.html"], "乙镇"); !strings.Contains(row, wantUnreported) {
		t.Errorf("screenings' 乙镇 row: %s", row)
	}
	if row := rowOf(pages["indicators/screenings.html"], "甲镇"); strings.Contains(row, "未报送") {
		t.Errorf("甲镇 reported: %s", row)
	}
	// 乙镇 never reported its milestone, due in February: behind, not unreported.
	if row := rowOf(pages["townships/bb.html"], "规划中期评估"); !strings.Contains(row, "status-behind") || strings.Contains(row, "未报") {
		t.Errorf("乙镇's milestone row: %s", row)
	}
	for _, name := range []string{"荣誉加分", "重大责任事故"} {
		if row := rowOf(pages["townships/bb.html"], name); strings.Contains(row, "未报") {
			t.Errorf("乙镇's %s row says it was not reported: %s", name, row)
		}
	}
	for _, code := range []string{"review", "honors", "incident"} {
		if _, v, _ := tileOf(t, pages["indicators/"+code+".html"], "本月报送"); v != "无需月报" {
			t.Errorf("%s: 本月报送 tile = %q, want 无需月报", code, v)
		}
	}
	class, v, note := tileOf(t, pages["indicators/screenings.html"], "本月报送")
	if v != "1 / 2" || note != "未报送：乙镇" || class != "warn" {
		t.Errorf("screenings' 本月报送 tile = %q %q %q", class, v, note)
	}
	if _, _, note := tileOf(t, pages["indicators/closure.html"], "本月报送"); note != "" {
		t.Errorf("closure, reported by both: note %q", note)
	}
	// The bars: 乙镇's screenings grey on both pages, with the tooltip saying why.
	grey := statusColors[string(kpi.StatusNoData)]
	for _, c := range []struct{ page, chart, bar string }{
		{"townships/bb.html", "township-progress", "两癌筛查人数"},
		{"indicators/screenings.html", "indicator-townships", "乙镇"},
	} {
		sp := specs(t, pages[c.page])[c.chart]
		names := at(t, sp.Option, "yAxis.0.data").([]any)
		for k, n := range names {
			color := at(t, at(t, sp.Option, "series.0.data").([]any)[k], "itemStyle.color")
			if n == c.bar && (color != grey || !strings.Contains(sp.Tips[0][k], "本月未报送")) {
				t.Errorf("%s %s: bar %s is %v, tooltip %q; want grey 未报送", c.page, c.chart, n, color, sp.Tips[0][k])
			}
			if n != c.bar && color == grey {
				t.Errorf("%s %s: bar %s is grey", c.page, c.chart, n)
			}
		}
	}
}

func TestFoldNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		names []string
		want  string
	}{
		{"one", []string{"甲镇"}, "甲镇"},
		{"as many as shown", []string{"甲镇", "乙镇", "丙镇"}, "甲镇、乙镇、丙镇"},
		{"more", []string{"甲镇", "乙镇", "丙镇", "丁镇", "戊镇"}, "甲镇、乙镇、丙镇等 5 个乡镇"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := foldNames(c.names, 3, "个乡镇"); got != c.want {
				t.Errorf("foldNames = %q, want %q", got, c.want)
			}
		})
	}
}
