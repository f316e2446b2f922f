package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// MustOpen opens a fresh database file in a temp dir and closes it when the test ends.
func MustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "kpimon.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func testAssessment(tb testing.TB) *kpi.Assessment {
	tb.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(`name: 测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 100}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
`))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func o(tw, ind, p string, v float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Value: v}
}

func r(tw, ind, p string, n, d float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Numerator: n, Denominator: d}
}

func TestOpenMigratesAndSetsPragmas(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	var mode string
	if err := db.db.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.db.GetContext(ctx, &fk, "PRAGMA foreign_keys"); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	var timeout int
	if err := db.db.GetContext(ctx, &timeout, "PRAGMA busy_timeout"); err != nil || timeout != 5000 {
		t.Errorf("busy_timeout = %d, %v; want 5000", timeout, err)
	}
	// reopening applies nothing twice
	path := db.Path()
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db2.Close()
}

func TestIngestCorrectionsAndIdempotence(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	a := testAssessment(t)
	clock := time.Date(2024, 2, 3, 9, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return clock })

	first := Batch{Actor: "甲镇妇联", Source: "jan.csv", SHA256: "aaa", Observations: []kpi.Observation{
		o("aa", "screenings", "2024-01", 10), r("aa", "closure", "2024-01", 9, 10), o("bb", "screenings", "2024-01", 4),
	}}
	res, err := db.Ingest(ctx, a, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.Corrected != 0 || res.Unchanged != 0 || res.BatchID == 0 {
		t.Errorf("first ingest: %+v", res)
	}
	// the same batch again changes nothing and records no batch
	again, err := db.Ingest(ctx, a, first)
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Corrected != 0 || again.Unchanged != 3 || again.BatchID != 0 || len(again.Written) != 0 {
		t.Errorf("second ingest of the same batch: %+v", again)
	}
	batches, _ := db.Batches(ctx, 10)
	if len(batches) != 1 {
		t.Errorf("batches after re-ingest: %d, want 1", len(batches))
	}
	// a correction
	clock = clock.Add(48 * time.Hour)
	fix := Batch{Actor: "县妇联办公室", Source: "fix.json", SHA256: "bbb", Observations: []kpi.Observation{
		o("aa", "screenings", "2024-01", 12), r("aa", "closure", "2024-01", 9, 10),
	}}
	res, err = db.Ingest(ctx, a, fix)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 0 || res.Corrected != 1 || res.Unchanged != 1 || len(res.Written) != 1 {
		t.Errorf("correction: %+v", res)
	}
	d, st, err := db.LoadDataset(ctx, a)
	if err != nil || st.Loaded != 3 {
		t.Fatalf("load: %+v %v", st, err)
	}
	got, _ := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01")})
	if got.Value != 12 {
		t.Errorf("current value %v, want the corrected 12", got.Value)
	}
	ratio, _ := d.Get(kpi.Key{Township: "aa", Indicator: "closure", Period: kpi.MustPeriod("2024-01")})
	if ratio.Numerator != 9 || ratio.Denominator != 10 {
		t.Errorf("ratio loaded as %+v", ratio)
	}
	hist, err := db.History(ctx, "aa", "screenings", kpi.Period{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("history has %d revisions, want 2: %+v", len(hist), hist)
	}
	cur, old := hist[0], hist[1]
	if !cur.Current || cur.Value != 12 || cur.Actor != "县妇联办公室" || cur.Source != "fix.json" || !cur.At.Equal(clock) {
		t.Errorf("current revision %+v", cur)
	}
	if old.Current || old.Value != 10 || old.Actor != "甲镇妇联" || old.Source != "jan.csv" || old.SupersededAt == nil || !old.SupersededAt.Equal(clock) || old.SupersededBy != "县妇联办公室" {
		t.Errorf("old revision %+v", old)
	}
	last, ok, err := db.LastReport(ctx, kpi.MustPeriod("2024-01"))
	if err != nil || !ok || !last.Equal(clock) {
		t.Errorf("LastReport = %v %v %v, want %v", last, ok, err, clock)
	}
	if _, ok, _ := db.LastReport(ctx, kpi.MustPeriod("2024-05")); ok {
		t.Error("LastReport for a month without reports: got one")
	}
}

func TestIngestLargeBatchCorrectsByPeriodScan(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	cfg := "name: 大批量\nyear: 2024\ntownships:\n"
	for i := 0; i < 200; i++ {
		cfg += fmt.Sprintf("  - {code: t%03d, name: 镇%03d}\n", i, i)
	}
	cfg += "indicators:\n  - {code: screenings, name: 筛查, kind: count, weight: 100, target: 100}\n"
	a, err := kpi.ParseConfig("big.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	batch := func(months int, bump string) []kpi.Observation {
		var obs []kpi.Observation
		for i := 0; i < 200; i++ {
			for m := 1; m <= months; m++ {
				x := o(fmt.Sprintf("t%03d", i), "screenings", kpi.Period{Year: 2024, Month: m}.String(), float64(i*m))
				if x.Township+"/"+x.Period.String() == bump {
					x.Value += 1
				}
				obs = append(obs, x)
			}
		}
		return obs
	}
	first := batch(10, "")
	if _, err := db.Ingest(ctx, a, Batch{Actor: "t", Source: "s", SHA256: "x", Observations: first}); err != nil {
		t.Fatal(err)
	}
	second := batch(12, "t007/2024-03") // 2,000 old keys, one changed, and 400 new
	if len(second) <= smallChunk {
		t.Fatal("batch too small to take the period scan")
	}
	res, err := db.Ingest(ctx, a, Batch{Actor: "t", Source: "s2", SHA256: "y", Observations: second})
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 400 || res.Corrected != 1 || res.Unchanged != 1999 {
		t.Errorf("got %+v, want 400 new, 1 corrected, 1999 unchanged", res)
	}
}

func TestLoadDatasetSkipsWhatTheConfigNoLongerHas(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	wide, err := kpi.ParseConfig("wide.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}, {code: gone, name: 已撤并镇}]
indicators: [{code: screenings, name: 筛查, kind: count, weight: 50, target: 100}, {code: closure, name: 办结率, kind: ratio, weight: 50, threshold: 0.98}]
`))
	if err != nil {
		t.Fatal(err)
	}
	obs := []kpi.Observation{o("aa", "screenings", "2024-01", 5), o("gone", "screenings", "2024-01", 7), r("aa", "closure", "2024-02", 3, 4),
		o("aa", "screenings", "2023-12", 9)} // another year: not loaded for 2024
	if _, err := db.Ingest(ctx, wide, Batch{Actor: "t", Source: "s", SHA256: "x", Observations: obs}); err != nil {
		t.Fatal(err)
	}
	d, st, err := db.LoadDataset(ctx, testAssessment(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Loaded != 2 || st.Skipped != 1 {
		t.Errorf("loaded %d, skipped %d; want 2 and 1", st.Loaded, st.Skipped)
	}
	got, ok := d.Get(kpi.Key{Township: "aa", Indicator: "closure", Period: kpi.MustPeriod("2024-02")})
	if !ok || got.Numerator != 3 || got.Denominator != 4 {
		t.Errorf("ratio loaded as %+v %v", got, ok)
	}
}

func TestWriterInChunksIsOneTransaction(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	a := testAssessment(t)
	chunks := [][]kpi.Observation{
		{o("aa", "screenings", "2024-01", 1), o("bb", "screenings", "2024-01", 2)},
		{r("aa", "closure", "2024-01", 1, 2), o("aa", "screenings", "2024-02", 3)},
	}
	// aborted half way: nothing is written
	w, err := db.NewWriter(ctx, a, "t", "s", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(chunks[0]); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if d, st, _ := db.LoadDataset(ctx, a); st.Loaded != 0 || d.Len() != 0 {
		t.Fatalf("an aborted batch left %d observations", st.Loaded)
	}
	if b, _ := db.Batches(ctx, 5); len(b) != 0 {
		t.Fatalf("an aborted batch was recorded: %+v", b)
	}
	// committed in two chunks: one batch with every row
	w, err = db.NewWriter(ctx, a, "t", "s", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 4 || res.Total != 4 || res.Written != nil {
		t.Errorf("result %+v, want 4 new and no Written list (not asked for)", res)
	}
	b, _ := db.Batches(ctx, 5)
	if len(b) != 1 || b[0].Total != 4 || b[0].New != 4 {
		t.Errorf("batches %+v", b)
	}
	if err := w.Write(chunks[0]); err == nil {
		t.Error("a write after commit was accepted")
	}
}

func TestStampsSortLikeTimes(t *testing.T) {
	a := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	b := a.Add(500 * time.Millisecond)
	c := a.Add(time.Second)
	if !(stamp(a) < stamp(b) && stamp(b) < stamp(c)) {
		t.Errorf("stamps %q %q %q do not sort as their times", stamp(a), stamp(b), stamp(c))
	}
	back, err := time.Parse(time.RFC3339Nano, stamp(b))
	if err != nil || !back.Equal(b) {
		t.Errorf("stamp %q parses back as %v, %v", stamp(b), back, err)
	}
}
