package charts

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/golden")

// renderPages renders every page of period p with the builders, as Export names them
// (static) or under their served paths (live).
func renderPages(tb testing.TB, mon *monitor.Monitor, p kpi.Period, static bool) map[string]string {
	tb.Helper()
	ctx := context.Background()
	r, err := NewRenderer()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := TakeSnapshot(ctx, mon, p)
	if err != nil {
		tb.Fatal(err)
	}
	top, sub := liveLinks(p), liveLinks(p)
	if static {
		top, sub = staticLinks(p, 0), staticLinks(p, 1)
	}
	out := map[string]string{}
	add := func(name string, v *view, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		b, err := r.render(v)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out[name] = string(b)
	}
	v, err := buildOverview(s, top)
	add("index.html", v, err)
	v, err = buildRankings(s, top)
	add("rankings.html", v, err)
	v, err = buildAlerts(s, top)
	add("alerts.html", v, err)
	for _, t := range s.Assessment.Townships {
		hist, err := LoadHistory(ctx, mon.Store(), s.Assessment, t.Code)
		if err != nil {
			tb.Fatal(err)
		}
		v, err := buildTownship(s, sub, t.Code, hist)
		add("townships/"+t.Code+".html", v, err)
	}
	for _, ind := range s.Assessment.Indicators {
		v, err := buildIndicator(s, sub, ind.Code)
		add("indicators/"+ind.Code+".html", v, err)
	}
	return out
}

func TestGoldenPages(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), true)
	again := renderPages(t, mon, kpi.MustPeriod("2024-03"), true)
	for name, got := range pages {
		if again[name] != got {
			t.Errorf("%s: two renders of the same data differ", name)
		}
		golden := filepath.Join("testdata", "golden", filepath.FromSlash(name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./charts -run TestGoldenPages -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run with -update after checking the change)\n%s", name, golden, firstDiff(string(want), got))
		}
	}
}

// firstDiff shows where two texts start to differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return "want …" + a[from:min(len(a), i+80)] + "…\n got …" + b[from:min(len(b), i+80)] + "…"
}

var specRE = regexp.MustCompile(`<script type="application/json" data-chart="([^"]+)">(.*?)</script>`)

// specs decodes every chart a page carries, by chart ID.
func specs(tb testing.TB, html string) map[string]chartSpec {
	tb.Helper()
	out := map[string]chartSpec{}
	for _, m := range specRE.FindAllStringSubmatch(html, -1) {
		var s chartSpec
		if err := json.Unmarshal([]byte(m[2]), &s); err != nil {
			tb.Fatalf("chart %s: options are not JSON: %v", m[1], err)
		}
		if !strings.Contains(html, `<div class="chart" id="`+m[1]+`"`) {
			tb.Errorf("chart %s has options but no container", m[1])
		}
		out[m[1]] = s
	}
	return out
}

// at reads a value from decoded options by a dotted path.
func at(tb testing.TB, v any, p string) any {
	tb.Helper()
	for _, part := range strings.Split(p, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(n) {
				tb.Fatalf("at %s: index %d out of range", p, i)
			}
			v = n[i]
		default:
			tb.Fatalf("at %s: %q is not reachable", p, part)
		}
	}
	return v
}

// TestHeatMapColoursEveryCellByStatus: every cell has the colour of its status, except a
// figure owed this month and not sent, which is grey 未报送 even when the months reported
// before put it behind (乙镇's March screenings: 70 of 150 expected), with that status in
// its tooltip.
func TestHeatMapColoursEveryCellByStatus(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	sp := specs(t, renderPages(t, mon, p, false)["index.html"])["overview-heat"]
	r, _ := mon.Evaluate(p)
	a := mon.Assessment()
	statuses := kpi.AllStatuses()
	data := at(t, sp.Option, "series.0.data").([]any)
	scored := scoredIndicators(a)
	if len(data) != len(a.Townships)*len(scored) {
		t.Fatalf("heat map has %d cells, want %d", len(data), len(a.Townships)*len(scored))
	}
	unreportedCells := 0
	for k, cell := range data {
		v := cell.(map[string]any)["value"].([]any)
		x, y, st := int(v[0].(float64)), int(v[1].(float64)), int(v[2].(float64))
		ind, e := &a.Indicators[scored[y]], r.Evaluation(x, scored[y], len(a.Indicators))
		want := e.Status
		if ind.Kind.ReportedMonthly() && !e.Reported {
			want = kpi.StatusNoData
			unreportedCells++
			if tip := sp.Tips[0][k]; !strings.Contains(tip, "状态：本月未报送（截止4月5日，已逾期）") || !strings.Contains(tip, "按此前数据："+e.Status.Label()) {
				t.Errorf("cell %s × %s: tooltip %q does not say it was not reported and what the earlier months give", a.Townships[x].Name, ind.Name, tip)
			}
		}
		if statuses[st] != want {
			t.Errorf("cell %s × %s is %s, want %s", a.Townships[x].Name, ind.Name, statuses[st], want)
		}
	}
	// The fixture's one unreported figure is behind on the months before: without the rule it
	// would be red.
	if e := r.Evaluation(1, a.IndicatorIndex("screenings"), len(a.Indicators)); e.Reported || e.Status != kpi.StatusBehind {
		t.Fatalf("fixture changed: 乙镇's March screenings reported %v, status %s", e.Reported, e.Status)
	}
	if unreportedCells != 1 {
		t.Errorf("%d unreported cells, want 1 (乙镇's screenings)", unreportedCells)
	}
	pieces := at(t, sp.Option, "visualMap.0.pieces").([]any)
	for i, s := range statuses {
		pc := pieces[i].(map[string]any)
		if pc["label"] != s.Label() || pc["color"] != statusColors[string(s)] || int(pc["value"].(float64)) != i {
			t.Errorf("piece %d = %v, want %s in %s", i, pc, s.Label(), statusColors[string(s)])
		}
	}
	if pc := pieces[slices.Index(statuses, kpi.StatusNoData)].(map[string]any); pc["label"] != "未报送" || pc["color"] != "#9e9e9e" {
		t.Errorf("the legend's unreported entry is %v, want 未报送 in grey", pc)
	}
}

func TestRankingChartFollowsTheRanking(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	sp := specs(t, renderPages(t, mon, p, false)["index.html"])["overview-ranking"]
	r, _ := mon.Evaluate(p)
	names := at(t, sp.Option, "yAxis.0.data").([]any)
	if at(t, sp.Option, "yAxis.0.inverse") != true {
		t.Error("the first in rank should be on top (inverse category axis)")
	}
	for i, x := range r.Rankings {
		if names[i] != x.Name {
			t.Errorf("bar %d is %v, want %s", i, names[i], x.Name)
		}
		bar := at(t, sp.Option, "series.0.data").([]any)[i].(map[string]any)
		if bar["value"].(float64) != kpi.Round(x.Total, 2) {
			t.Errorf("%s: bar %v, want total %v", x.Name, bar["value"], x.Total)
		}
		if !strings.Contains(at(t, bar, "label.formatter").(string), x.Grade) {
			t.Errorf("%s: label %v does not show grade %s", x.Name, bar["label"], x.Grade)
		}
		if sp.Links[0][i] != "/townships/"+x.Township+"?period=2024-03" {
			t.Errorf("%s links to %q", x.Name, sp.Links[0][i])
		}
	}
}

func TestRankHistoryPutsRankOneOnTop(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	sp := specs(t, renderPages(t, mon, p, false)["townships/bb.html"])["township-rank"]
	if at(t, sp.Option, "yAxis.0.inverse") != true || at(t, sp.Option, "yAxis.0.min").(float64) != 1 {
		t.Errorf("rank axis = %v, want inverse from 1", at(t, sp.Option, "yAxis.0"))
	}
	data := at(t, sp.Option, "series.0.data").([]any)
	if len(data) != 3 {
		t.Fatalf("%d months, want 3", len(data))
	}
	for k := 1; k <= 3; k++ {
		r, _ := mon.Evaluate(kpi.Period{Year: 2024, Month: k})
		for _, x := range r.Rankings {
			if x.Township == "bb" && int(data[k-1].(map[string]any)["value"].(float64)) != x.Rank {
				t.Errorf("month %d: rank %v, want %d", k, data[k-1], x.Rank)
			}
		}
	}
}

func TestTownshipPageShowsCorrectionsMissingReportsAndAlerts(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)
	aa, bb := pages["townships/aa.html"], pages["townships/bb.html"]
	// 甲镇's February screenings: 1,000 reported by the township, corrected to 100 by the county
	// office; times are shown in the configured zone (Asia/Shanghai, UTC+8).
	for _, want := range []string{"数据修订与报送记录", "2024年2月", "1,000 人", "100 人", "甲镇妇联 · <span>2024-03-04</span> <span>18:00</span>", "县妇联办公室", "<span>2024-03-06</span> <span>18:00</span>", "更正-2024-02.csv", "时间均为北京时间。"} {
		if !strings.Contains(aa, want) {
			t.Errorf("甲镇's page lacks %q", want)
		}
	}
	if strings.Contains(bb, "更正-2024-02.csv") || strings.Contains(bb, "甲镇.csv") {
		t.Error("乙镇's page shows 甲镇's submissions")
	}
	// Every batch that wrote 甲镇's figures, with the months and how many figures it wrote
	// (February's batch wrote 5, one of them later corrected).
	for _, want := range []string{
		`<td class="when"><span>2024-04-05</span> <span>18:00</span></td><td>甲镇妇联</td><td class="months"><span>2024年3月</span></td><td class="num">3</td><td class="src">2024-03-甲镇.csv</td>`,
		`<td class="when"><span>2024-03-06</span> <span>18:00</span></td><td>县妇联办公室</td><td class="months"><span>2024年2月</span></td><td class="num">1</td><td class="src">更正-2024-02.csv</td>`,
		`<td class="when"><span>2024-03-04</span> <span>18:00</span></td><td>甲镇妇联</td><td class="months"><span>2024年2月</span></td><td class="num">5</td><td class="src">2024-02-甲镇.csv</td>`,
		`<td class="when"><span>2024-02-03</span> <span>18:00</span></td><td>甲镇妇联</td><td class="months"><span>2024年1月</span></td><td class="num">3</td><td class="src">2024-01-甲镇.csv</td>`,
	} {
		if !strings.Contains(aa, want) {
			t.Errorf("甲镇's submissions lack %s", want)
		}
	}
	if i, j := strings.Index(aa, ">2024-03-甲镇.csv</td>"), strings.Index(aa, ">2024-01-甲镇.csv</td>"); i < 0 || j < i {
		t.Error("submissions are not listed latest first")
	}
	// 乙镇 has not sent March's screenings, and the deadline (5 April) has passed.
	missing := bb[strings.Index(bb, `id="missing"`):]
	missing = missing[:strings.Index(missing, "</section>")]
	if !strings.Contains(missing, "两癌筛查人数") || !strings.Contains(missing, "已逾期") || !strings.Contains(missing, "4月5日") {
		t.Errorf("乙镇's missing reports: %s", missing)
	}
	if strings.Contains(missing, "信访办结率") {
		t.Error("a reported figure is listed as missing")
	}
	r, _ := mon.Evaluate(kpi.MustPeriod("2024-03"))
	for _, al := range r.Alerts {
		page := map[string]string{"aa": aa, "bb": bb}[al.Township]
		if !strings.Contains(page, al.Summary) {
			t.Errorf("%s's page lacks alert %q", al.Township, al.Summary)
		}
	}
}

func TestRankingsPageLinksDownloads(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	p := kpi.MustPeriod("2024-03")
	live := renderPages(t, mon, p, false)["rankings.html"]
	for _, want := range []string{
		`href="/rankings.csv?period=2024-03"`,
		`href="/rankings/bulletin.xlsx?period=2024-03"`,
		`href="/rankings/bulletin.html?period=2024-03"`,
	} {
		if !strings.Contains(live, want) {
			t.Errorf("rankings page lacks %s", want)
		}
	}
	static := renderPages(t, mon, p, true)["rankings.html"]
	if !strings.Contains(static, `href="rankings.csv"`) || strings.Contains(static, "bulletin") {
		t.Error("exported rankings page should link its CSV file and no bulletin (nothing serves it)")
	}
	r, _ := mon.Evaluate(p)
	for _, x := range r.Rankings {
		for _, c := range mon.Assessment().Categories() {
			if !strings.Contains(live, ">"+points(x.Categories[c])+"<") {
				t.Errorf("%s's %s score %v missing", x.Name, c, x.Categories[c])
			}
		}
		if !strings.Contains(live, ">"+kpi.FormatRankChange(x.RankChange)+"<") {
			t.Errorf("%s's rank change %s missing", x.Name, kpi.FormatRankChange(x.RankChange))
		}
	}
}

func TestVetoIsMarked(t *testing.T) {
	b := smallBatches()
	b = append(b, batch{"乙镇妇联", "veto.csv", fixedNow, []kpi.Observation{obs("bb", "incident", "2024-03", 1)}})
	mon := newMonitor(t, smallConfig, b, fixedNow)
	live := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)["rankings.html"]
	row := live[strings.Index(live, `<tr class="veto">`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "乙镇") || !strings.Contains(row, "一票否决") || !strings.Contains(row, "不称职") {
		t.Errorf("vetoed township's row: %s", row)
	}
}

func TestResolutions(t *testing.T) {
	al := func(name, tw string) kpi.Alert {
		return kpi.Alert{Alert: name, Township: tw, Indicator: "x", ActiveSince: kpi.MustPeriod("2024-01")}
	}
	months := []*kpi.Result{
		{Period: kpi.MustPeriod("2024-01"), Alerts: []kpi.Alert{al("behind_pace", "aa"), al("missing_report", "bb"), al("veto", "cc")}},
		{Period: kpi.MustPeriod("2024-02"), Alerts: []kpi.Alert{al("behind_pace", "aa"), al("veto", "cc")}},
		{Period: kpi.MustPeriod("2024-03"), Alerts: []kpi.Alert{al("veto", "cc"), al("missing_report", "ee")}},
	}
	at := func(day, hour int) time.Time { return time.Date(2024, 4, day, hour, 0, 0, 0, time.UTC) }
	stored := func(name, tw, p string, when time.Time) AlertResolution {
		return AlertResolution{Alert: al(name, tw), Period: kpi.MustPeriod(p), ResolvedAt: when}
	}
	type want struct{ alert, tw, resolved string }
	for _, c := range []struct {
		name     string
		n        int
		resolved []AlertResolution
		want     []want
	}{
		{"month over month", 3, nil, []want{{"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
		{"month over month within one month", 1, nil, []want{{"behind_pace", "aa", "2024-03"}}},
		{"a late report resolves alerts of its own month", 3, []AlertResolution{
			stored("missing_report", "dd", "2024-03", at(8, 10)), stored("behind_pace", "dd", "2024-03", at(8, 11))},
			[]want{{"behind_pace", "dd", "2024-03"}, {"missing_report", "dd", "2024-03"}, {"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
		{"the store moved on to the next month: already listed month over month", 3, []AlertResolution{
			stored("behind_pace", "aa", "2024-02", at(6, 0))},
			[]want{{"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
		{"resolved in the store but holding again now", 3, []AlertResolution{
			stored("missing_report", "ee", "2024-03", at(7, 0)), stored("veto", "cc", "2024-02", at(7, 0))},
			[]want{{"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
		{"a month after the page's is not shown", 3, []AlertResolution{
			stored("missing_report", "dd", "2024-04", at(9, 0))},
			[]want{{"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
		{"a month before the window is not shown", 1, []AlertResolution{
			stored("missing_report", "dd", "2024-02", at(9, 0))},
			[]want{{"behind_pace", "aa", "2024-03"}}},
		{"an alert resolved twice is listed once, for its latest", 3, []AlertResolution{
			stored("missing_report", "dd", "2024-03", at(8, 0)), stored("missing_report", "dd", "2024-02", at(2, 0))},
			[]want{{"missing_report", "dd", "2024-03"}, {"behind_pace", "aa", "2024-03"}, {"missing_report", "bb", "2024-02"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := resolutions(&Snapshot{Months: months, Resolved: c.resolved}, c.n)
			if len(got) != len(c.want) {
				t.Fatalf("got %d resolutions %+v, want %v", len(got), got, c.want)
			}
			for i, w := range c.want {
				if got[i].Alert.Alert != w.alert || got[i].Alert.Township != w.tw || got[i].Resolved.String() != w.resolved {
					t.Errorf("resolution %d = %+v, want %v", i, got[i], w)
				}
				if within := w.tw == "dd"; within == got[i].At.IsZero() {
					t.Errorf("resolution %d (%v): time %v, want one only for a resolution within a month", i, w, got[i].At)
				}
			}
		})
	}
}

func TestEveryPageLinksTheOthers(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	for name, html := range renderPages(t, mon, kpi.MustPeriod("2024-02"), false) {
		for _, want := range []string{`href="/?period=2024-02"`, `href="/rankings?period=2024-02"`, `href="/alerts?period=2024-02"`,
			`href="/townships/aa?period=2024-02"`, `href="/indicators/closure?period=2024-02"`, `<option value="2024-02" selected>`,
			`src="/assets/echarts.min.js"`, `src="/assets/kpimon.js"`, "数据截至2024年2月"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %s", name, want)
			}
		}
		if n := strings.Count(html, "<script"); n != 2+len(specRE.FindAllString(html, -1)) {
			t.Errorf("%s has %d script elements: only the two assets and the chart options may be there", name, n)
		}
	}
}

func TestOverviewCountsReports(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	html := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)["index.html"]
	// March: 6 figures due (2 townships × screenings, closure, received), 5 arrived.
	if !strings.Contains(html, "83.3%") || !strings.Contains(html, "已报 5 / 应报 6 项，1/2 个乡镇报齐") {
		t.Errorf("report rate missing: %s", html[strings.Index(html, "报送率"):][:300])
	}
	if !regexp.MustCompile(`本月数据最后报送于 2024-04-05 \d\d:\d\d（北京时间）`).MatchString(html) {
		t.Error("overview lacks the time of the last report")
	}
}

func TestChartSpecsCarryNoCode(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	for name, html := range renderPages(t, mon, kpi.MustPeriod("2024-03"), true) {
		for id, s := range specs(t, html) {
			raw, _ := json.Marshal(s)
			if bytes.Contains(raw, []byte("__f__")) || bytes.Contains(raw, []byte("function")) {
				t.Errorf("%s %s: options carry code: %s", name, id, raw)
			}
			if s.ValueFormat != "" && s.ValueFormat != "percent" && s.ValueFormat != "number" {
				t.Errorf("%s %s: unknown value format %q", name, id, s.ValueFormat)
			}
		}
	}
}

func TestIndicatorPageMarksTargetAndPace(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)
	sp := specs(t, pages["indicators/screenings.html"])["indicator-townships"]
	lines := at(t, sp.Option, "series.0.markLine.data").([]any)
	if len(lines) != 2 || at(t, lines[0], "xAxis").(float64) != 100 || at(t, lines[1], "xAxis").(float64) != 25 {
		t.Errorf("mark lines %v, want the target at 100%% and March's pace at 25%%", lines)
	}
	// Townships sorted by completion: 甲镇 330/1200 = 27.5%, 乙镇 70/600 = 11.7%.
	names := at(t, sp.Option, "yAxis.0.data").([]any)
	if names[0] != "甲镇" || names[1] != "乙镇" {
		t.Errorf("order %v, want by completion", names)
	}
	bars := at(t, sp.Option, "series.0.data").([]any)
	if at(t, bars[0], "value").(float64) != 27.5 || at(t, bars[1], "value").(float64) != 11.7 {
		t.Errorf("bars %v", bars)
	}
	// A ratio has its threshold for a target and no pace line.
	sp = specs(t, pages["indicators/closure.html"])["indicator-townships"]
	if lines := at(t, sp.Option, "series.0.markLine.data").([]any); len(lines) != 1 {
		t.Errorf("ratio mark lines %v", lines)
	}
}

// TestPagesWithoutData renders every page of an assessment nobody has reported to yet, and of
// one that only tracks figures (no scored indicator, so no categories).
func TestPagesWithoutData(t *testing.T) {
	tracked := `name: 只统计
year: 2024
townships:
  - {code: aa, name: 甲镇}
indicators:
  - {code: received, name: 信访受理件数, kind: count, weight: 0}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
`
	for name, cfg := range map[string]string{"small": smallConfig, "tracked": tracked} {
		t.Run(name, func(t *testing.T) {
			mon := newMonitor(t, cfg, nil, fixedNow)
			h, err := NewHandler(mon, nil)
			if err != nil {
				t.Fatal(err)
			}
			pages := renderPages(t, mon, mon.DefaultPeriod(), false)
			for page, html := range pages {
				want := regexp.MustCompile(`数据截至2024年1月 · 本月尚无报送`)
				if strings.HasPrefix(page, "townships/") { // the township's own: it has not reported
					want = regexp.MustCompile(`数据截至2024年1月 · [甲乙丙丁]镇本月尚未报送`)
				}
				if !want.MatchString(html) {
					t.Errorf("%s does not say nothing was reported", page)
				}
				if n := len(specs(t, html)); n == 0 || strings.Count(html, `<div class="chart"`) != n {
					t.Errorf("%s: %d charts, %d containers", page, n, strings.Count(html, `<div class="chart"`))
				}
			}
			for _, u := range []string{"/", "/rankings", "/alerts", "/townships/aa", "/indicators/received", "/rankings.csv"} {
				if rec := get(t, h, u); rec.Code != 200 {
					t.Errorf("%s: %d", u, rec.Code)
				}
			}
		})
	}
}
