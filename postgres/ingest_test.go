package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres/pgtest"
	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/store/storetest"
)

func ob(tw, ind, p string, v float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Value: v}
}

func ratio(tw, ind, p string, n, d float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Numerator: n, Denominator: d}
}

func batchOf(source string, obs ...kpi.Observation) store.Batch {
	return store.Batch{BatchMeta: store.BatchMeta{Actor: "t", Source: source}, Observations: obs}
}

// A first load goes straight into observations with COPY: a locked month is refused there
// too, every locked month of the chunk named, nothing written.
func TestFirstLoadIntoLockedMonthsIsRefused(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	for _, p := range []string{"2024-03", "2024-05"} {
		if _, _, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod(p), "县妇联"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.Ingest(ctx, a, batchOf("first.csv", ob("aa", "screenings", "2024-03", 1), ob("aa", "screenings", "2024-04", 2), ob("bb", "screenings", "2024-05", 3)))
	var le *store.LockedError
	if !errors.As(err, &le) || len(le.Periods) != 2 || !strings.Contains(err.Error(), "2024-03、2024-05 已锁定") {
		t.Fatalf("first load into locked months = %v, want both named", err)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM observations`) + queryInt(t, db, `SELECT COUNT(*) FROM batches`); n != 0 {
		t.Errorf("%d rows written by a refused batch", n)
	}
	if _, err := db.Ingest(ctx, a, batchOf("april.csv", ob("aa", "screenings", "2024-04", 2))); err != nil {
		t.Errorf("a first load into an unlocked month: %v", err)
	}
}

// A Writer into an assessment with figures stages its chunks and classifies them at
// Commit: new, corrected and unchanged rows in different chunks, revisions kept.
func TestWriterStagesChunksAndClassifiesAtCommit(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	first, err := db.Ingest(ctx, a, batchOf("jan.csv", ob("aa", "screenings", "2024-01", 10), ratio("aa", "closure", "2024-01", 9, 10), ob("bb", "screenings", "2024-01", 4)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-01"), "县妇联"); err != nil {
		t.Fatal(err)
	}
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	chunks := [][]kpi.Observation{
		{ob("aa", "screenings", "2024-01", 10), ob("aa", "screenings", "2024-02", 5)}, // unchanged in a locked month, new
		{ratio("aa", "closure", "2024-01", 9, 10), ob("bb", "screenings", "2024-02", 6)},
		{ratio("aa", "closure", "2024-02", 1, 2)},
	}
	for _, c := range chunks {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	w.Describe("feb.csv", "digest")
	res, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 || res.New != 3 || res.Corrected != 0 || res.Unchanged != 2 || res.Written != nil || res.PreviousBatch != first.BatchID {
		t.Errorf("result %+v, want 5 rows: 3 new, 2 unchanged, previous batch %d", res, first.BatchID)
	}
	if _, err := db.UnlockPeriod(ctx, a.ID, kpi.MustPeriod("2024-01"), "县妇联"); err != nil {
		t.Fatal(err)
	}
	w, err = db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli:test", Source: "fix.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]kpi.Observation{{ob("aa", "screenings", "2024-01", 11)}, {ratio("aa", "closure", "2024-01", 10, 10), ob("bb", "screenings", "2024-02", 6)}} {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	fix, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if fix.Corrected != 2 || fix.Unchanged != 1 || fix.New != 0 {
		t.Errorf("corrections %+v, want 2 corrected and 1 unchanged", fix)
	}
	h, err := db.History(ctx, a.ID, "aa", "closure", kpi.MustPeriod("2024-01"))
	if err != nil || len(h) != 2 || h[0].Value != 10 || h[1].Value != 9 || *h[1].Denominator != 10 || h[1].BatchID != first.BatchID || h[1].SupersededBy != "cli:test" {
		t.Errorf("history of the corrected ratio: %+v %v", h, err)
	}
	d, st, err := db.LoadDataset(ctx, a)
	if err != nil || st.Loaded != 6 || st.LastBatch != fix.BatchID {
		t.Fatalf("load %+v %v", st, err)
	}
	if g, _ := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01")}); g.Value != 11 {
		t.Errorf("aa/2024-01 = %v, want 11", g.Value)
	}
}

// A batch into an assessment with figures that would change locked months is refused at
// Commit, every locked month it would change named (a new key or a changed value; an
// unchanged figure of a locked month is fine), and rolled back.
func TestWriterRefusesLockedMonthsAtCommit(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	if _, err := db.Ingest(ctx, a, batchOf("mar.csv", ob("aa", "screenings", "2024-03", 10), ob("aa", "screenings", "2024-05", 1))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2024-03", "2024-05", "2024-06"} {
		if _, _, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod(p), "县妇联"); err != nil {
			t.Fatal(err)
		}
	}
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, c := range [][]kpi.Observation{
		{ob("bb", "screenings", "2024-04", 1)},
		{ob("aa", "screenings", "2024-03", 10), ob("aa", "screenings", "2024-06", 1)}, // unchanged in March, new in June
		{ob("bb", "screenings", "2024-03", 2), ob("aa", "screenings", "2024-05", 1)},  // new in March, unchanged in May
	} {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	_, err = w.Commit()
	var le *store.LockedError
	if !errors.As(err, &le) || fmt.Sprint(le.Periods) != fmt.Sprint([]kpi.Period{kpi.MustPeriod("2024-03"), kpi.MustPeriod("2024-06")}) {
		t.Fatalf("commit of a batch into locked months = %v, want 2024-03 and 2024-06 named", err)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM observations`); n != 2 {
		t.Errorf("%d observations after a refused batch, want 2", n)
	}
}

// A first load refuses a locked month at the chunk that writes to it, while the earlier
// chunks are already streaming into the COPY; nothing stays behind.
func TestFirstLoadWriterRefusesALockedMonthAtItsChunk(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	if _, _, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-02"), "县妇联"); err != nil {
		t.Fatal(err)
	}
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write([]kpi.Observation{ob("aa", "screenings", "2024-01", 1), ob("bb", "screenings", "2024-01", 2)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]kpi.Observation{ob("aa", "screenings", "2024-02", 1)}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("a chunk into a locked month = %v, want ErrLocked", err)
	}
	if _, err := w.Commit(); err == nil {
		t.Error("a refused batch committed")
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM observations`) + queryInt(t, db, `SELECT COUNT(*) FROM batches`); n != 0 {
		t.Errorf("%d rows after a refused first load", n)
	}
}

// A code the config does not have, arriving mid-stream, ends the COPY, is added, and the
// batch goes on; a duplicate key in a first load fails the batch whole.
func TestWriterAddsUnknownCodesMidStream(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]kpi.Observation{
		{ob("aa", "screenings", "2024-01", 1)},
		{ob("zz", "screenings", "2024-01", 2), ob("aa", "hotline", "2024-01", 3)}, // neither in the config
		{ob("bb", "screenings", "2024-01", 4)},
	} {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit()
	if err != nil || res.New != 4 {
		t.Fatalf("commit = %+v %v, want 4 new", res, err)
	}
	if h, err := db.History(ctx, a.ID, "zz", "screenings", kpi.Period{}); err != nil || len(h) != 1 || h[0].Value != 2 {
		t.Errorf("the unknown township's figure: %+v %v", h, err)
	}
	b := otherAssessment(t)
	w, err = db.NewWriter(ctx, b, store.BatchMeta{Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	err = w.Write([]kpi.Observation{ob("aa", "screenings", "2024-01", 1)})
	if err == nil {
		err = w.Write([]kpi.Observation{ob("aa", "screenings", "2024-01", 1)})
	}
	if err == nil {
		_, err = w.Commit()
	}
	if err == nil {
		t.Fatal("a batch holding one key twice was committed")
	}
	if _, st, _ := db.LoadDataset(ctx, b); st.Loaded != 0 {
		t.Errorf("%d figures after a failed first load", st.Loaded)
	}
}

// Two servers (two stores on one schema) write batches of one assessment one at a time: a
// batch waits for the other's lock, up to lock_timeout, then fails with ErrUnavailable;
// another assessment's batch does not wait.
func TestBatchesOfTwoServersTakeTurns(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	one := openURL(t, url)
	two := openURL(t, pgtest.WithParam(t, url, "lock_timeout", "300"))
	a, other := storetest.Assessment(t), otherAssessment(t)
	w, err := one.NewWriter(ctx, a, store.BatchMeta{Actor: "cli", Source: "big.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]kpi.Observation{ob("aa", "screenings", "2024-01", 1)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = two.Ingest(ctx, a, batchOf("api", ob("bb", "screenings", "2024-01", 2)))
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("a batch while another server's batch of the assessment is open = %v after %v, want ErrUnavailable after ~300 ms", err, time.Since(start))
	}
	if _, err := two.Ingest(ctx, other, batchOf("api", ob("aa", "screenings", "2024-01", 3))); err != nil {
		t.Errorf("another assessment's batch waited for this one: %v", err)
	}
	first, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	second, err := two.Ingest(ctx, a, batchOf("api", ob("bb", "screenings", "2024-01", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if second.PreviousBatch != first.BatchID || second.BatchID <= first.BatchID {
		t.Errorf("second batch %d after %d (previous %d): ids must follow the commits", second.BatchID, first.BatchID, second.PreviousBatch)
	}
	ch, err := one.ChangedSince(ctx, a, first.BatchID)
	if err != nil || ch.LastBatch != second.BatchID || len(ch.Observations) != 1 || ch.Observations[0].Township != "bb" {
		t.Errorf("the first server's ChangedSince = %+v %v", ch, err)
	}
}

func otherAssessment(tb testing.TB) *kpi.Assessment {
	tb.Helper()
	a, err := kpi.ParseConfig("other.yaml", []byte(`name: 另一个县
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators: [{code: screenings, name: 筛查, kind: count, weight: 100, target: 100}]
`))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// ChangedSince reads the rows of the batches after the one given through the index on
// observations' batch id, not every figure of the assessment.
func TestChangedSinceUsesTheBatchIndex(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	cfg := "name: 大\nyear: 2024\ntownships:\n"
	for i := range 500 {
		cfg += fmt.Sprintf("  - {code: t%03d, name: 镇%03d}\n", i, i)
	}
	cfg += "indicators:\n  - {code: screenings, name: 筛查, kind: count, weight: 100, target: 100}\n"
	a, err := kpi.ParseConfig("big.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var obs []kpi.Observation
	for i := range 500 {
		for m := 1; m <= 12; m++ {
			obs = append(obs, ob(fmt.Sprintf("t%03d", i), "screenings", fmt.Sprintf("2024-%02d", m), float64(m)))
		}
	}
	big, err := db.Ingest(ctx, a, batchOf("year.csv", obs...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ingest(ctx, a, batchOf("fix.csv", ob("t007", "screenings", "2024-03", 99))); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, url(t, db), `ANALYZE observations`)
	var plan []string
	c, err := db.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	rows, err := c.Query(ctx, `EXPLAIN SELECT t.code, i.code, o.period, o.value, o.denominator
		FROM observations o JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.assessment = $1 AND o.batch_id > $2 AND o.period BETWEEN $3 AND $4`, a.ID, big.BatchID, 202401, 202412)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		rows.Scan(&line)
		plan = append(plan, line)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "observations_batch") {
		t.Errorf("ChangedSince's plan does not use observations_batch:\n%s", strings.Join(plan, "\n"))
	}
	ch, err := db.ChangedSince(ctx, a, big.BatchID)
	if err != nil || len(ch.Observations) != 1 {
		t.Errorf("changes since the big batch: %+v %v", ch, err)
	}
}

// url is the address of the store's schema, for a test's own connection.
func url(tb testing.TB, db *DB) string {
	tb.Helper()
	return pgtest.WithParam(tb, pgtest.ServerURL(tb), "search_path", db.Schema())
}
