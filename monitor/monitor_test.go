package monitor

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

func newMonitor(t *testing.T, now func() time.Time) *Monitor {
	t.Helper()
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators: [{code: x, name: 筛查, kind: count, weight: 100, target: 120}]
`))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := New(context.Background(), a, db, Options{Now: now, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func batch(m *Monitor, csv string) *collector.Batch {
	b := collector.NewBatch(m.Assessment())
	b.AddCSV("t.csv", strings.NewReader("township,indicator,period,value\n"+csv))
	return b
}

func TestEvaluationsAreCachedPerVersion(t *testing.T) {
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	m := newMonitor(t, func() time.Time { return now })
	var changes []Change
	m.Subscribe(func(c Change) { changes = append(changes, c) })
	p := kpi.MustPeriod("2024-01")
	r1, err := m.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := m.Evaluate(p); r2 != r1 {
		t.Error("the same data and clock recomputed the evaluation")
	}
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	r3, _ := m.Evaluate(p)
	if r3 == r1 || r3.Evaluations()[0].Actual.V != 10 {
		t.Errorf("after an ingest: same result %v, actual %v", r3 == r1, r3.Evaluations()[0].Actual)
	}
	if len(changes) != 1 || changes[0].Version != m.Version() || changes[0].Result.New != 1 {
		t.Errorf("changes = %+v", changes)
	}
	// a batch that changes nothing publishes nothing
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 {
		t.Errorf("an unchanged batch notified subscribers: %+v", changes)
	}
	// the clock moving past the refresh interval: TestTheClockAloneKeepsTheResultUntilADeadlinePasses
}

func TestIngestRefusesInvalidBatches(t *testing.T) {
	m := newMonitor(t, nil)
	_, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,-1\n"), "t")
	if err == nil || !strings.Contains(err.Error(), "t.csv:2") {
		t.Fatalf("got %v", err)
	}
	if m.Version() != 1 || m.Dataset().Len() != 0 {
		t.Error("a refused batch changed the data")
	}
}

func TestPublishedDataIsNotModifiedByLaterIngests(t *testing.T) {
	m := newMonitor(t, nil)
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	old := m.Dataset()
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,20\n"), "t"); err != nil {
		t.Fatal(err)
	}
	o, _ := old.Get(kpi.Key{Township: "aa", Indicator: "x", Period: kpi.MustPeriod("2024-01")})
	if o.Value != 10 {
		t.Errorf("a reader's dataset changed under it: %v", o.Value)
	}
	if p, ok := m.LatestPeriod(); !ok || p.String() != "2024-01" {
		t.Errorf("LatestPeriod = %v %v", p, ok)
	}
}

func TestIngestReevaluatesOnlyWhatItTouches(t *testing.T) {
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	m := newMonitor(t, func() time.Time { return now })
	p := kpi.MustPeriod("2024-02")
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\naa,x,2024-02,20\n"), "t"); err != nil {
		t.Fatal(err)
	}
	first, _ := m.Evaluate(p)
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-02,50\n"), "t"); err != nil {
		t.Fatal(err)
	}
	// ten minutes later, within the refresh interval: a full evaluation would use the new
	// clock, the incremental one keeps the clock of the evaluation it brings up to date
	now = now.Add(10 * time.Minute)
	m.mu.RLock()
	changed := m.changed[m.version]
	m.mu.RUnlock()
	if len(changed) != 1 || changed[0] != 0 {
		t.Errorf("changed townships logged as %v, want [0]", changed)
	}
	got, err := m.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kpi.Evaluate(m.Dataset(), p, first.Now)
	if got.Evaluations()[0].Actual != want.Evaluations()[0].Actual || got.Evaluations()[0].Actual.V != 60 || got.Rankings[0].Total != want.Rankings[0].Total {
		t.Errorf("incremental result %v, full %v", got.Evaluations()[0].Actual, want.Evaluations()[0].Actual)
	}
	if !got.Now.Equal(first.Now) {
		t.Errorf("evaluated at %v, want the reused evaluation's clock %v: the ingest was not handled incrementally", got.Now, first.Now)
	}
}

func TestRefreshPicksUpBatchesWrittenByAnotherProcess(t *testing.T) {
	m := newMonitor(t, nil)
	ctx := context.Background()
	if loaded, err := m.Refresh(ctx); err != nil || loaded {
		t.Fatalf("Refresh with nothing new: %v %v", loaded, err)
	}
	if _, err := m.Ingest(ctx, batch(m, "aa,x,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if loaded, _ := m.Refresh(ctx); loaded {
		t.Error("the monitor's own batch made Refresh load again")
	}
	// another process (the CLI) writes straight to the database
	other := batch(m, "aa,x,2024-02,7\n")
	if _, err := m.Store().Ingest(ctx, m.Assessment(), store.Batch{BatchMeta: store.BatchMeta{Actor: "cli", Source: "s", SHA256: "x"}, Observations: other.Observations()}); err != nil {
		t.Fatal(err)
	}
	v := m.Version()
	loaded, err := m.Refresh(ctx)
	if err != nil || !loaded {
		t.Fatalf("Refresh after another writer: %v %v", loaded, err)
	}
	r, _ := m.Evaluate(kpi.MustPeriod("2024-02"))
	if m.Version() != v+1 || r.Evaluations()[0].Actual.V != 17 {
		t.Errorf("after Refresh: version %d (was %d), actual %v; want the new batch counted", m.Version(), v, r.Evaluations()[0].Actual)
	}
	// the CLI writes again, then this server: its own batch comes after one it has not
	// loaded, so it loads both
	if _, err := m.Store().Ingest(ctx, m.Assessment(), store.Batch{Observations: batch(m, "aa,x,2024-03,1\n").Observations()}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ingest(ctx, batch(m, "aa,x,2024-04,2\n"), "t"); err != nil {
		t.Fatal(err)
	}
	r, _ = m.Evaluate(kpi.MustPeriod("2024-04"))
	if got := r.Evaluations()[0].Actual.V; got != 20 {
		t.Errorf("after the server's own batch: actual %v, want 20 (10+7+1+2: the CLI's March too)", got)
	}
}

func TestIngestIfWritesNothingWhenTheCheckFails(t *testing.T) {
	m := newMonitor(t, nil)
	ctx := context.Background()
	stale := errors.New("stale")
	var seen int
	_, err := m.IngestIf(ctx, batch(m, "aa,x,2024-01,10\n"), "t", func(d *kpi.Dataset) error { seen = d.Len(); return stale })
	if !errors.Is(err, stale) || m.Dataset().Len() != 0 || m.Version() != 1 {
		t.Fatalf("a failed check: err %v, %d observations, version %d", err, m.Dataset().Len(), m.Version())
	}
	if b, _ := m.Store().Batches(ctx, m.Assessment().ID, 5); len(b) != 0 {
		t.Errorf("a failed check recorded a batch")
	}
	if _, err := m.IngestIf(ctx, batch(m, "aa,x,2024-01,10\n"), "t", func(d *kpi.Dataset) error { seen = d.Len(); return nil }); err != nil {
		t.Fatal(err)
	}
	if seen != 0 || m.Dataset().Len() != 1 {
		t.Errorf("the check saw %d observations (want the data before the write, 0); now %d", seen, m.Dataset().Len())
	}
}

func TestTheClockAloneKeepsTheResultUntilADeadlinePasses(t *testing.T) {
	// 1 March 2024: February's reports are due by 5 March
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	m := newMonitor(t, func() time.Time { return now })
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	p := kpi.MustPeriod("2024-02")
	first, _ := m.Evaluate(p)
	now = now.Add(2 * time.Hour) // past the refresh interval, before the deadline
	if again, _ := m.Evaluate(p); again != first {
		t.Error("the same data and the same alerts made a new result (pages would be rebuilt every refresh)")
	}
	now = time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC) // February's report is now overdue
	later, _ := m.Evaluate(p)
	if later == first || len(later.Alerts) == len(first.Alerts) {
		t.Errorf("a passed deadline did not change the result: %d alerts before, %d after", len(first.Alerts), len(later.Alerts))
	}
}

// TestConcurrentEvaluationsShareOne: requests for one period of one data version arriving
// together are answered by one computation (one result).
func TestConcurrentEvaluationsShareOne(t *testing.T) {
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	m := newMonitor(t, func() time.Time { return now })
	if _, err := m.Ingest(context.Background(), batch(m, "aa,x,2024-01,10\naa,x,2024-02,5\n"), "t"); err != nil {
		t.Fatal(err)
	}
	const n = 16
	results := make([]*kpi.Result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := m.Evaluate(kpi.MustPeriod("2024-02"))
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	close(start)
	wg.Wait()
	distinct := map[*kpi.Result]bool{}
	for _, r := range results {
		distinct[r] = true
	}
	if len(distinct) != 1 {
		t.Errorf("%d concurrent evaluations of one period gave %d results, want one shared", n, len(distinct))
	}
}
