package charts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// provinceSpec is a province-scale assessment (2,000 市（州）-level units × 40 indicators),
// reported January to November: the pages as of November carry forecasts and eleven months
// of history.
var provinceSpec = synth.Spec{Townships: 2000, Indicators: 40, Months: 11, Seed: 1}

// provinceNow is after November 2024's report deadline.
var provinceNow = time.Date(2024, 12, 10, 9, 0, 0, 0, time.UTC)

// scaledAssessment parses the synthetic config of spec at the level given.
func scaledAssessment(tb testing.TB, spec synth.Spec, level kpi.Level) *kpi.Assessment {
	tb.Helper()
	cfg, err := synth.Config(spec)
	if err != nil {
		tb.Fatal(err)
	}
	cfg = []byte("level: " + string(level) + "\n" + string(cfg))
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// scaledSnapshot evaluates a synthetic assessment month by month in memory (no database):
// the snapshot the page builders get, as of the spec's last month.
func scaledSnapshot(tb testing.TB, spec synth.Spec, level kpi.Level, now time.Time) *Snapshot {
	tb.Helper()
	a := scaledAssessment(tb, spec, level)
	d := kpi.NewDataset(a)
	if err := synth.Generate(a, spec, d.Set); err != nil {
		tb.Fatal(err)
	}
	p := kpi.Period{Year: a.Year, Month: spec.Months}
	s := &Snapshot{Assessment: a, Period: p, Latest: p, LastReport: now.Add(-48 * time.Hour)}
	for m := 1; m <= p.Month; m++ {
		r, err := kpi.Evaluate(d, kpi.Period{Year: a.Year, Month: m}, now)
		if err != nil {
			tb.Fatal(err)
		}
		s.Months = append(s.Months, r)
	}
	return s
}

// pageKinds builds one page of every kind from a snapshot: the overview, the ranking, the
// alerts, the first unit's page and the first indicator's.
func pageKinds(s *Snapshot) []struct {
	name  string
	build func() (*view, error)
} {
	l := liveLinks(s.Period)
	a := s.Assessment
	return []struct {
		name  string
		build func() (*view, error)
	}{
		{"overview", func() (*view, error) { return buildOverview(s, l) }},
		{"rankings", func() (*view, error) { return buildRankings(s, l) }},
		{"alerts", func() (*view, error) { return buildAlerts(s, l) }},
		{"township", func() (*view, error) { return buildTownship(s, l, a.Townships[0].Code, TownshipHistory{}) }},
		{"indicator", func() (*view, error) { return buildIndicator(s, l, a.Indicators[0].Code) }},
	}
}

// maxPageBytes is the most HTML a page of a province-scale assessment may be.
const maxPageBytes = 500_000

// TestProvincePageSizes renders every kind of page of a province-scale assessment (2,000
// units × 40 indicators, as of November) and holds each under 500 KB of HTML. Before the
// pages of large assessments changed, the overview was 14.7 MB, the alerts 20.5 MB, the
// ranking 2.5 MB and an indicator's page 1.5 MB.
func TestProvincePageSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("province scale: a few seconds")
	}
	s := scaledSnapshot(t, provinceSpec, kpi.LevelProvince, provinceNow)
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pageKinds(s) {
		v, err := k.build()
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		body, err := r.render(v)
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		t.Logf("%s: %d bytes", k.name, len(body))
		if len(body) >= maxPageBytes {
			t.Errorf("%s is %d bytes of HTML, want under %d", k.name, len(body), maxPageBytes)
		}
	}
}

// BenchmarkProvincePages serves one request to each kind of page of a province-scale
// assessment (2,000 units × 40 indicators, eleven months in a real SQLite database) through
// the Handler and reports, per page: its size (bytes), what the request allocated
// (alloc-MB, runtime.MemStats.TotalAlloc) and the most heap in use while it ran
// (peak-heap-MB, HeapInuse sampled every millisecond), beside the heap in use before it
// (base-heap-MB, after a GC; the monitor's evaluations already cached).
func BenchmarkProvincePages(b *testing.B) {
	a := scaledAssessment(b, provinceSpec, kpi.LevelProvince)
	var obs []kpi.Observation
	if err := synth.Generate(a, provinceSpec, func(o kpi.Observation) error { obs = append(obs, o); return nil }); err != nil {
		b.Fatal(err)
	}
	mon := monitorFor(b, a, []batch{{"省妇联", "synth.csv", provinceNow.Add(-48 * time.Hour), obs}}, provinceNow)
	obs = nil
	h, err := NewHandler(mon, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := mon.DefaultPeriod()
	for m := 1; m <= p.Month; m++ { // the monitor's evaluations, as a running server holds them
		if _, err := mon.Evaluate(kpi.Period{Year: p.Year, Month: m}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := TakeSnapshot(context.Background(), mon, p); err != nil {
		b.Fatal(err)
	}
	for _, pg := range []struct{ name, url string }{
		{"overview", "/"}, {"rankings", "/rankings"}, {"alerts", "/alerts"},
		{"township", "/townships/" + a.Townships[0].Code}, {"indicator", "/indicators/" + a.Indicators[0].Code},
	} {
		b.Run(pg.name, func(b *testing.B) {
			var size int
			var alloc, peak, base uint64
			for range b.N {
				b.StopTimer()
				h.mu.Lock()
				clear(h.cache)
				clear(h.snaps)
				h.reports = lastReports{}
				h.mu.Unlock()
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				var top atomic.Uint64
				top.Store(before.HeapInuse)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { // sample the heap while the request runs
					defer wg.Done()
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					var ms runtime.MemStats
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							runtime.ReadMemStats(&ms)
							if ms.HeapInuse > top.Load() {
								top.Store(ms.HeapInuse)
							}
						}
					}
				}()
				b.StartTimer()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pg.url, nil))
				b.StopTimer()
				close(stop)
				wg.Wait()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "</html>") {
					b.Fatalf("%s: %d", pg.url, rec.Code)
				}
				size = rec.Body.Len()
				alloc, peak, base = after.TotalAlloc-before.TotalAlloc, max(top.Load(), after.HeapInuse), before.HeapInuse
				b.StartTimer()
			}
			b.ReportMetric(float64(size), "bytes")
			b.ReportMetric(float64(alloc)/(1<<20), "alloc-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
		})
	}
}
