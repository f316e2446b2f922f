package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/synth"
)

// demoNow is a fixed clock after the demo year, when every deadline has passed.
var demoNow = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

// openDB opens a fresh database in a temp dir.
func openDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "kpimon.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// demoMonitor loads the bundled demo into a fresh database.
func demoMonitor(tb testing.TB) *monitor.Monitor {
	tb.Helper()
	ctx := context.Background()
	a, err := demo.Assessment()
	if err != nil {
		tb.Fatal(err)
	}
	db := openDB(tb)
	if _, err := demo.Load(ctx, db, a); err != nil {
		tb.Fatal(err)
	}
	mon, err := monitor.New(ctx, a, db, monitor.Options{Now: func() time.Time { return demoNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return mon
}

// scrape serves the exporter (with the registry's families) as Prometheus scrapes it.
func scrape(tb testing.TB, h http.Handler) []byte {
	tb.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("scrape: HTTP %d: %s", resp.StatusCode, body)
	}
	return body
}

// needProgram finds a program, skipping the test when it is missing, except under CI=true.
func needProgram(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not installed (CI=true: .ci/run installs Debian's prometheus package)", name)
		}
		tb.Skipf("%s is not installed; install Debian's prometheus package to run this test", name)
	}
	return p
}

// gather scrapes the handler and parses the exposition, as Prometheus would.
func gather(tb testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	tb.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	out, err := p.TextToMetricFamilies(bytes.NewReader(scrape(tb, h)))
	if err != nil {
		tb.Fatalf("parse the scrape: %v", err)
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestDemoScrapePassesPromtoolCheckMetrics(t *testing.T) {
	promtool := needProgram(t, "promtool")
	mon := demoMonitor(t)
	// September's scrape carries the forecast's series too
	sept, err := New(context.Background(), mon, Options{Period: kpi.MustPeriod("2025-09")})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), mon, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, x := range []*Exporter{sept, e} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(x)
		body = scrape(t, x.Handler(reg))
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check metrics (%s): %v\n%s", x.Period(), err, out)
		}
	}
	if !bytes.Contains(body, []byte(`kpimon_township_score{assessment="`+mon.Assessment().ID+`",township="dongcheng",township_name="东城街道"}`)) {
		t.Errorf("scrape lacks 东城街道's score; got:\n%.2000s", body)
	}
	t.Logf("demo scrape: %d series of figures, %d bytes", e.Series(), len(body))
}

func TestFiguresMatchTheEvaluation(t *testing.T) {
	mon := demoMonitor(t)
	e, err := New(context.Background(), mon, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Period().String(); got != "2025-12" {
		t.Fatalf("period = %s, want 2025-12 (the latest with reports)", got)
	}
	r, err := kpi.Evaluate(mon.Dataset(), e.Period(), demoNow)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	fams := gather(t, e.Handler(reg))

	// scores and ranks, township by township
	for _, x := range r.Rankings {
		found := 0
		for _, m := range fams["kpimon_township_score"].GetMetric() {
			if labelsOf(m)["township"] == x.Township && m.GetGauge().GetValue() == x.Total {
				found++
			}
		}
		for _, m := range fams["kpimon_township_rank"].GetMetric() {
			if labelsOf(m)["township"] == x.Township && m.GetGauge().GetValue() == float64(x.Rank) {
				found++
			}
		}
		if found != 2 {
			t.Errorf("%s: score %v and rank %d not both exposed", x.Township, x.Total, x.Rank)
		}
	}
	if n := len(fams["kpimon_township_score"].GetMetric()); n != len(r.Townships) {
		t.Errorf("%d score series, want %d", n, len(r.Townships))
	}

	// the status state set: per cell one series per status, exactly one of them 1
	perCell := map[string][2]int{}
	for _, m := range fams["kpimon_indicator_status"].GetMetric() {
		l := labelsOf(m)
		k := l["township"] + "/" + l["indicator"]
		c := perCell[k]
		c[0]++
		if m.GetGauge().GetValue() == 1 {
			c[1]++
			ev := r.Evaluation(mon.Assessment().TownshipIndex(l["township"]), mon.Assessment().IndicatorIndex(l["indicator"]), len(mon.Assessment().Indicators))
			if string(ev.Status) != l["status"] {
				t.Errorf("%s: status %s is 1, evaluation says %s", k, l["status"], ev.Status)
			}
		}
		perCell[k] = c
	}
	scored := 0
	for _, ev := range r.Evaluations() {
		if ev.Status != "" {
			scored++
		}
	}
	if len(perCell) != scored {
		t.Errorf("status series for %d cells, want %d", len(perCell), scored)
	}
	for k, c := range perCell {
		if c[0] != len(kpi.AllStatuses()) || c[1] != 1 {
			t.Errorf("%s: %d status series with %d set, want %d with 1", k, c[0], c[1], len(kpi.AllStatuses()))
		}
	}

	// every alert of the evaluation, and nothing else
	got := map[string]bool{}
	for _, m := range fams["kpimon_alert_active"].GetMetric() {
		l := labelsOf(m)
		got[l["alertname"]+"/"+l["township"]+"/"+l["indicator"]+"/"+l["severity"]] = true
		if l["township_name"] == "" || l["indicator_name"] == "" {
			t.Errorf("alert %v lacks its Chinese names", l)
		}
	}
	if len(got) != len(r.Alerts) || len(r.Alerts) == 0 {
		t.Errorf("%d alert series, want %d (and the demo has some)", len(got), len(r.Alerts))
	}
	for _, al := range r.Alerts {
		if !got[al.Alert+"/"+al.Township+"/"+al.Indicator+"/"+al.Severity] {
			t.Errorf("alert %v not exposed", al.Key())
		}
	}
	// 飞来峡镇 did not report December: reported is 0 there, 1 for a township that did
	for _, m := range fams["kpimon_indicator_reported"].GetMetric() {
		l := labelsOf(m)
		if l["indicator"] != "cervical_screening_persons" {
			continue
		}
		want := 1.0
		if l["township"] == "feilaixia" {
			want = 0
		}
		if m.GetGauge().GetValue() != want {
			t.Errorf("reported{%s} = %v, want %v", l["township"], m.GetGauge().GetValue(), want)
		}
	}
	info := fams["kpimon_assessment_info"].GetMetric()
	if len(info) != 1 || labelsOf(info[0])["period"] != "2025-12" || labelsOf(info[0])["year"] != "2025" {
		t.Errorf("assessment_info = %v", info)
	}
}

// forecastNames are the series of the forecast, which evaluations carry only before December.
var forecastNames = []string{"kpimon_indicator_forecast", "kpimon_indicator_forecast_high", "kpimon_indicator_forecast_low", "kpimon_indicator_needed_per_month"}

// TestNamesListsExactlyWhatTheDemoExposes: as of September the demo exposes every name
// Names() lists; as of December every one but the forecast's, which December has none of.
func TestNamesListsExactlyWhatTheDemoExposes(t *testing.T) {
	mon := demoMonitor(t)
	for _, tc := range []struct {
		period string
		want   []string
	}{
		{"2025-09", Names()},
		{"2025-12", slices.DeleteFunc(Names(), func(n string) bool { return slices.Contains(forecastNames, n) })},
	} {
		t.Run(tc.period, func(t *testing.T) {
			e, err := New(context.Background(), mon, Options{Period: kpi.MustPeriod(tc.period)})
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(e)
			var got []string
			for name := range gather(t, e.Handler(reg)) {
				got = append(got, name)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("exposed metrics differ:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestForecastSeriesMatchTheEvaluation: as of September every cell whose evaluation has a
// forecast exposes its year end, low and high (and needed_per_month for counts and stocks)
// with the labels of kpimon_indicator_actual, and no other cell does; the period's month and
// forecast_from are exposed for rules that follow forecast_miss.
func TestForecastSeriesMatchTheEvaluation(t *testing.T) {
	mon := demoMonitor(t)
	p := kpi.MustPeriod("2025-09")
	e, err := New(context.Background(), mon, Options{Period: p})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mon.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	fams := gather(t, e.Handler(reg))
	a := mon.Assessment()
	cellKey := func(l map[string]string) string {
		return l["assessment"] + "/" + l["township"] + "/" + l["township_name"] + "/" + l["indicator"] + "/" + l["indicator_name"]
	}
	actualLabels := map[string]bool{}
	for _, m := range fams["kpimon_indicator_actual"].GetMetric() {
		actualLabels[cellKey(labelsOf(m))] = true
	}
	values := func(name string) map[string]float64 {
		out := map[string]float64{}
		for _, m := range fams[name].GetMetric() {
			l := labelsOf(m)
			if len(l) != 5 || !actualLabels[cellKey(l)] {
				t.Errorf("%s%v: not the labels of a kpimon_indicator_actual series", name, l)
			}
			out[l["township"]+"/"+l["indicator"]] = m.GetGauge().GetValue()
		}
		return out
	}
	yearEnd, low, high, needed := values("kpimon_indicator_forecast"), values("kpimon_indicator_forecast_low"), values("kpimon_indicator_forecast_high"), values("kpimon_indicator_needed_per_month")
	withForecast, withNeeded := 0, 0
	for t2, tw := range a.Townships {
		for i, ind := range a.Indicators {
			ev := r.Evaluation(t2, i, len(a.Indicators))
			k := tw.Code + "/" + ind.Code
			f := ev.Forecast
			if f == nil {
				if _, ok := yearEnd[k]; ok {
					t.Errorf("%s has no forecast but a forecast series", k)
				}
				continue
			}
			withForecast++
			if yearEnd[k] != f.YearEnd || low[k] != f.Low || high[k] != f.High {
				t.Errorf("%s: forecast %v (%v–%v), want %v (%v–%v)", k, yearEnd[k], low[k], high[k], f.YearEnd, f.Low, f.High)
			}
			n, ok := needed[k]
			if ok != f.NeededPerMonth.Valid || (ok && n != f.NeededPerMonth.V) {
				t.Errorf("%s: needed_per_month %v (%v), want %v", k, n, ok, f.NeededPerMonth)
			}
			if ok {
				withNeeded++
			}
		}
	}
	if withForecast == 0 || withNeeded == 0 || len(yearEnd) != withForecast || len(needed) != withNeeded || len(low) != withForecast || len(high) != withForecast {
		t.Errorf("%d forecast series, %d low, %d high, %d needed; want %d, %d", len(yearEnd), len(low), len(high), len(needed), withForecast, withNeeded)
	}
	// The rule proposed to replace the relay of forecast_miss, over these series:
	//   kpimon_indicator_forecast_high < kpimon_indicator_target
	//   and on (…, indicator) kpimon_indicator_info{kind=~"count|stock", direction="higher"}
	//   unless on (…, township, indicator) (kpimon_indicator_status{status="met"} == 1)
	//   and on (…) (kpimon_period_month >= kpimon_forecast_from_month)
	// holds for exactly the cells kpimon raises forecast_miss for.
	target := values("kpimon_indicator_target")
	kind := map[string]bool{}
	for _, m := range fams["kpimon_indicator_info"].GetMetric() {
		l := labelsOf(m)
		kind[l["indicator"]] = (l["kind"] == "count" || l["kind"] == "stock") && l["direction"] == "higher"
	}
	met := map[string]bool{}
	for _, m := range fams["kpimon_indicator_status"].GetMetric() {
		if l := labelsOf(m); l["status"] == "met" && m.GetGauge().GetValue() == 1 {
			met[l["township"]+"/"+l["indicator"]] = true
		}
	}
	byRule := map[string]bool{}
	for k, h := range high {
		if h < target[k] && kind[strings.Split(k, "/")[1]] && !met[k] && p.Month >= a.ForecastFrom {
			byRule[k] = true
		}
	}
	byKpimon := map[string]bool{}
	for _, al := range r.Alerts {
		if al.Alert == kpi.AlertForecastMiss {
			byKpimon[al.Township+"/"+al.Indicator] = true
		}
	}
	if len(byKpimon) == 0 || fmt.Sprint(byRule) != fmt.Sprint(byKpimon) {
		t.Errorf("the proposed rule holds for %d cells, kpimon raises forecast_miss for %d:\n%v\n%v", len(byRule), len(byKpimon), byRule, byKpimon)
	}
	for name, want := range map[string]float64{"kpimon_period_month": 9, "kpimon_forecast_from_month": float64(a.ForecastFrom)} {
		if m := fams[name].GetMetric(); len(m) != 1 || m[0].GetGauge().GetValue() != want || labelsOf(m[0])["assessment"] != a.ID {
			t.Errorf("%s = %v, want %v for %s", name, m, want, a.ID)
		}
	}
}

// smallConfig is a two-township assessment; drop removes a township and an indicator.
func smallAssessment(t *testing.T, drop bool) *kpi.Assessment {
	t.Helper()
	cfg := `name: 测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 120}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
`
	if drop {
		cfg = strings.Replace(cfg, "  - {code: bb, name: 乙镇}\n", "", 1)
		cfg = strings.Replace(cfg, "  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}\n", "", 1)
		cfg = strings.Replace(cfg, "weight: 50, target", "weight: 100, target", 1)
	}
	a, err := kpi.ParseConfig("t.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNoStaleSeriesWhenATownshipOrIndicatorDisappears(t *testing.T) {
	d := newDescs()
	p := kpi.MustPeriod("2024-03")
	now := time.Date(2024, 4, 20, 0, 0, 0, 0, time.UTC)
	snap := func(a *kpi.Assessment) string {
		data := kpi.NewDataset(a)
		r, err := kpi.Evaluate(data, p, now)
		if err != nil {
			t.Fatal(err)
		}
		e := &Exporter{d: d, ingested: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"result"}),
			accepted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "y_total", Help: "y"}),
			rejected:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "z_total", Help: "z"}, []string{"reason"}),
			lastIngest: prometheus.NewGauge(prometheus.GaugeOpts{Name: "w", Help: "w"}), evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "v", Help: "v"})}
		built, err := d.build(a, data, 1, r)
		if err != nil {
			t.Fatal(err)
		}
		e.snap.Store(built)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(e)
		return string(scrape(t, e.Handler(reg)))
	}
	before := snap(smallAssessment(t, false))
	after := snap(smallAssessment(t, true))
	for _, s := range []string{`township="bb"`, `indicator="closure"`} {
		if !strings.Contains(before, s) {
			t.Errorf("before: no series with %s", s)
		}
		if strings.Contains(after, s) {
			t.Errorf("after %s disappeared from the config, a series still has it", s)
		}
	}
	if !strings.Contains(after, `township="aa"`) {
		t.Errorf("after: the remaining township has no series")
	}
}

func TestHealthCountsBatchesAndRefreshesOnIngest(t *testing.T) {
	a := smallAssessment(t, false)
	db := openDB(t)
	now := time.Date(2024, 3, 10, 8, 30, 0, 0, time.UTC)
	mon, err := monitor.New(context.Background(), a, db, monitor.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), mon, Options{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	if e.Period().String() != "2024-01" {
		t.Errorf("period with no data = %s, want January (no month has reports yet)", e.Period())
	}
	ingest := func(body string) error {
		b := collector.NewBatch(a)
		b.AddCSV("t.csv", strings.NewReader("township,indicator,period,value,numerator,denominator\n"+body))
		_, err := mon.Ingest(ctx, b, "test")
		return err
	}
	if err := ingest("aa,screenings,2024-03,30,,\nbb,closure,2024-03,,5,5\n"); err != nil {
		t.Fatal(err)
	}
	if err := ingest("aa,screenings,2024-03,30,,\naa,closure,2024-03,,4,5\n"); err != nil {
		t.Fatal(err)
	}
	if err := ingest("zz,screenings,2024-03,1,,\n"); err == nil {
		t.Fatal("a batch naming an unknown township was accepted")
	}
	want := `
# HELP kpimon_observations_ingested_total Observations in accepted batches, by result: new (first report of a key), corrected (a changed value), unchanged (re-reported as it was).
# TYPE kpimon_observations_ingested_total counter
kpimon_observations_ingested_total{assessment="t",result="corrected"} 0
kpimon_observations_ingested_total{assessment="t",result="new"} 3
kpimon_observations_ingested_total{assessment="t",result="unchanged"} 1
# HELP kpimon_batches_accepted_total Batches accepted by ingest (including batches that changed nothing, and batches written by another process).
# TYPE kpimon_batches_accepted_total counter
kpimon_batches_accepted_total{assessment="t"} 2
# HELP kpimon_batches_rejected_total Batches refused whole, by reason: invalid (a row broke a rule, every row reported) or failed (storage refused or failed).
# TYPE kpimon_batches_rejected_total counter
kpimon_batches_rejected_total{assessment="t",reason="failed"} 0
kpimon_batches_rejected_total{assessment="t",reason="invalid"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kpimon_observations_ingested_total",
		"kpimon_batches_accepted_total", "kpimon_batches_rejected_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(e.lastIngest); got != float64(now.Unix()) {
		t.Errorf("last ingest = %v, want %v", got, now.Unix())
	}
	// Run refreshes after the change: the figures move to March and show aa's closure rate
	deadline := time.Now().Add(5 * time.Second)
	for e.Period().String() != "2024-03" || !strings.Contains(string(scrape(t, e.Handler(reg))), `kpimon_indicator_actual{assessment="t",indicator="closure",indicator_name="信访办结率",township="aa",township_name="甲镇"} 0.8`) {
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot was not refreshed after ingest: period %s", e.Period())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := testutil.CollectAndCount(e.evalDuration); n != 1 {
		t.Errorf("evaluation duration: %d series", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestFixedPeriodOutsideTheYearIsRefused(t *testing.T) {
	a := smallAssessment(t, false)
	mon, err := monitor.New(context.Background(), a, openDB(t), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), mon, Options{Period: kpi.MustPeriod("2023-05")}); err == nil {
		t.Error("a period outside the assessment year was accepted")
	}
	e, err := New(context.Background(), mon, Options{Period: kpi.MustPeriod("2024-05")})
	if err != nil {
		t.Fatal(err)
	}
	if e.Period().String() != "2024-05" {
		t.Errorf("period = %s, want the fixed 2024-05", e.Period())
	}
}

// BenchmarkScrapeDemo measures one scrape of the demo (8 townships × 34 indicators).
func BenchmarkScrapeDemo(b *testing.B) {
	mon := demoMonitor(b)
	e, err := New(context.Background(), mon, Options{})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	h := e.Handler(reg)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
	b.ReportMetric(float64(e.Series()), "series")
}

// BenchmarkRefreshDemo measures one evaluation and snapshot build of the demo.
func BenchmarkRefreshDemo(b *testing.B) {
	mon := demoMonitor(b)
	e, err := New(context.Background(), mon, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Refresh(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrape measures the snapshot build (evaluation included) and a scrape, plain and
// gzipped as Prometheus asks for it, of synthetic assessments at county (10 townships × 30
// indicators) and province (2,000 × 40) scale with a year of reports.
func BenchmarkScrape(b *testing.B) {
	for _, sc := range []struct {
		name                  string
		townships, indicators int
	}{{"county_10x30", 10, 30}, {"province_2000x40", 2000, 40}} {
		spec := synth.Spec{Townships: sc.townships, Indicators: sc.indicators, Months: 12, Seed: 1}
		cfg, err := synth.Config(spec)
		if err != nil {
			b.Fatal(err)
		}
		a, err := kpi.ParseConfig("synth.yaml", cfg)
		if err != nil {
			b.Fatal(err)
		}
		data := kpi.NewDataset(a)
		if err := synth.Generate(a, spec, data.Set); err != nil {
			b.Fatal(err)
		}
		p := kpi.Period{Year: a.Year, Month: 12}
		now := time.Date(a.Year+1, 2, 1, 0, 0, 0, 0, time.UTC)
		d := newDescs()
		r, err := kpi.Evaluate(data, p, now)
		if err != nil {
			b.Fatal(err)
		}
		e := &Exporter{d: d, log: slog.New(slog.DiscardHandler),
			ingested:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kpimon_observations_ingested_total", Help: "x"}, []string{"result"}),
			accepted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kpimon_batches_accepted_total", Help: "x"}),
			rejected:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kpimon_batches_rejected_total", Help: "x"}, []string{"reason"}),
			lastIngest:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "kpimon_last_ingest_timestamp_seconds", Help: "x"}),
			evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kpimon_evaluation_duration_seconds", Help: "x"}),
		}
		built, err := d.build(a, data, 1, r)
		if err != nil {
			b.Fatal(err)
		}
		e.snap.Store(built)
		reg := prometheus.NewRegistry()
		reg.MustRegister(e)
		h := e.Handler(reg)
		b.Run(sc.name+"/build", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, _ := kpi.Evaluate(data, p, now)
				if _, err := d.build(a, data, 1, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, gz := range []bool{false, true} {
			name := sc.name + "/scrape"
			if gz {
				name += "-gzip"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				var size int
				for b.Loop() {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("GET", "/metrics", nil)
					if gz {
						req.Header.Set("Accept-Encoding", "gzip")
					}
					h.ServeHTTP(rec, req)
					size = rec.Body.Len()
				}
				b.ReportMetric(float64(size), "bytes/scrape")
				b.ReportMetric(float64(e.Series()), "series")
			})
		}
	}
}

// handlerFor builds an exporter's snapshot of a in a bare Exporter and returns its handler.
func handlerFor(t *testing.T, a *kpi.Assessment, data *kpi.Dataset, p kpi.Period) (*Exporter, http.Handler) {
	t.Helper()
	r, err := kpi.Evaluate(data, p, time.Date(a.Year+1, 1, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	e := &Exporter{d: newDescs(), log: slog.New(slog.DiscardHandler),
		ingested:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kpimon_observations_ingested_total", Help: "x"}, []string{"result"}),
		accepted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kpimon_batches_accepted_total", Help: "x"}),
		rejected:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kpimon_batches_rejected_total", Help: "x"}, []string{"reason"}),
		lastIngest:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "kpimon_last_ingest_timestamp_seconds", Help: "x"}),
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kpimon_evaluation_duration_seconds", Help: "x"}),
	}
	built, err := e.d.build(a, data, 1, r)
	if err != nil {
		t.Fatal(err)
	}
	e.snap.Store(built)
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	return e, e.Handler(reg)
}

func TestLabelValuesAreEscaped(t *testing.T) {
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试
year: 2024
townships:
  - {code: aa, name: "甲\"镇\\一\n街"}
indicators:
  - {code: x, name: "筛查 \\ \"人数\"", kind: count, weight: 100, target: 12}
`))
	if err != nil {
		t.Fatal(err)
	}
	data := kpi.NewDataset(a)
	data.Set(kpi.Observation{Township: "aa", Indicator: "x", Period: kpi.MustPeriod("2024-01"), Value: 3})
	_, h := handlerFor(t, a, data, kpi.MustPeriod("2024-01"))
	fams := gather(t, h)
	mf := fams["kpimon_indicator_actual"]
	if mf == nil || len(mf.GetMetric()) != 1 {
		t.Fatalf("kpimon_indicator_actual: %v", mf)
	}
	l := labelsOf(mf.GetMetric()[0])
	if l["township_name"] != "甲\"镇\\一\n街" || l["indicator_name"] != `筛查 \ "人数"` || mf.GetMetric()[0].GetGauge().GetValue() != 3 {
		t.Errorf("labels read back as %q", l)
	}
}

func TestGzipScrapeIsTheSameExposition(t *testing.T) {
	a := smallAssessment(t, false)
	data := kpi.NewDataset(a)
	data.Set(kpi.Observation{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01"), Value: 3})
	_, h := handlerFor(t, a, data, kpi.MustPeriod("2024-01"))
	plain := httptest.NewRecorder()
	h.ServeHTTP(plain, httptest.NewRequest("GET", "/metrics", nil))
	zipped := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(zipped, req)
	if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("encodings: %q and %q", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(zipped.Body) // multi-member: the registry's part, then the snapshot's
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// the Go-free registry here has nothing that changes between scrapes but the snapshot
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Errorf("gzip body differs from the plain one:\n%s\n---\n%s", unzipped, plain.Body.Bytes())
	}
	if zipped.Body.Len() >= plain.Body.Len() {
		t.Errorf("gzip body %d bytes, plain %d", zipped.Body.Len(), plain.Body.Len())
	}
}

func TestReportedOnlyForMonthlyKinds(t *testing.T) {
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: x, name: 筛查, kind: count, weight: 50, target: 12}
  - {code: m, name: 节点, kind: milestone, weight: 50, due: 6}
  - {code: b, name: 加分, kind: bonus, max: 5}
  - {code: v, name: 否决, kind: veto}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, h := handlerFor(t, a, kpi.NewDataset(a), kpi.MustPeriod("2024-02"))
	mf := gather(t, h)["kpimon_indicator_reported"]
	var got []string
	for _, m := range mf.GetMetric() {
		got = append(got, labelsOf(m)["indicator"])
	}
	if len(got) != 1 || got[0] != "x" {
		t.Errorf("reported series for %v, want only the count x (milestones, bonuses and vetoes are reported when they happen)", got)
	}
}
