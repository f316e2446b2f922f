package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres/pgtest"
	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/store/storetest"
)

func TestTransientErrorsAreUnavailable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown 57P01", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown 57P02", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up 57P03", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure 08006", &pgconn.PgError{Code: "08006"}, true},
		{"connection refused by the server 08004", &pgconn.PgError{Code: "08004"}, true},
		{"too many connections 53300", &pgconn.PgError{Code: "53300"}, true},
		{"lock timeout 55P03", &pgconn.PgError{Code: "55P03"}, true},
		{"deadlock 40P01", &pgconn.PgError{Code: "40P01"}, true},
		{"wrapped admin shutdown", fmt.Errorf("ingest: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"connection closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"connection reset", syscall.ECONNRESET, true},
		{"deadline", context.DeadlineExceeded, true},
		{"unique violation 23505", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error 42601", &pgconn.PgError{Code: "42601"}, false},
		{"undefined table 42P01", &pgconn.PgError{Code: "42P01"}, false},
		{"canceled by the caller", context.Canceled, false},
		{"a plain error", errors.New("no indicator given"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := unavailable(c.err)
			if errors.Is(got, store.ErrUnavailable) != c.want {
				t.Errorf("unavailable(%v) = %v; want ErrUnavailable: %v", c.err, got, c.want)
			}
			if !errors.Is(got, c.err) {
				t.Errorf("unavailable(%v) = %v, which no longer wraps the cause", c.err, got)
			}
		})
	}
	if unavailable(nil) != nil {
		t.Error("unavailable(nil) is not nil")
	}
}

// within runs f and fails the test when it takes longer than limit (a hang).
func within(t *testing.T, limit time.Duration, what string, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit+30*time.Second)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	if d := time.Since(start); d > limit {
		t.Errorf("%s took %v, more than %v", what, d, limit)
	}
	return err
}

// Sessions terminated under the store (pg_terminate_backend: what a failover or an
// administrator does) make the operation in flight fail with ErrUnavailable, writing
// nothing; the pool then reconnects by itself and no acknowledged batch is lost.
func TestTerminatedSessionsAreUnavailableThenRecover(t *testing.T) {
	ctx := context.Background()
	var raw [4]byte
	rand.Read(raw[:])
	app := "kpimon-test-" + hex.EncodeToString(raw[:])
	url := pgtest.URL(t)
	db := openURL(t, pgtest.WithParam(t, url, "application_name", app))
	a := storetest.Assessment(t)
	acked, err := db.Ingest(ctx, a, batchOf("jan.csv", ob("aa", "screenings", "2024-01", 10)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "cli", Source: "feb.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]kpi.Observation{ob("aa", "screenings", "2024-02", 20)}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	err = within(t, 5*time.Second, "commit on a terminated session", func(context.Context) error {
		_, err := w.Commit()
		return err
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("commit on a terminated session = %v, want ErrUnavailable", err)
	}
	// the next operations work, on new connections
	var second store.IngestResult
	err = within(t, 10*time.Second, "ingest after the termination", func(ctx context.Context) error {
		for {
			second, err = db.Ingest(ctx, a, batchOf("mar.csv", ob("aa", "screenings", "2024-03", 30)))
			if !errors.Is(err, store.ErrUnavailable) { // an idle connection killed too may fail once
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	d, st, err := db.LoadDataset(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	_, hasFeb := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-02")})
	if st.Loaded != 2 || hasFeb || second.PreviousBatch != acked.BatchID {
		t.Errorf("after recovery: %d figures (February's unacknowledged batch present: %v), previous batch %d; want January and March only after %d",
			st.Loaded, hasFeb, second.PreviousBatch, acked.BatchID)
	}
}

// A restart of PostgreSQL (a cluster of the test's own, stopped with pg_ctl stop -m fast):
// while it is down every operation fails with ErrUnavailable within a few seconds; once it
// is back the same store works again without being reopened, every acknowledged batch is
// there, the watcher tells about every assessment, and a lease can be taken again.
func TestDatabaseRestart(t *testing.T) {
	srv := pgtest.StartServer(t)
	ctx := context.Background()
	db := openURL(t, srv.URL())
	a := storetest.Assessment(t)
	var acked []int64
	for m := 1; m <= 3; m++ {
		res, err := db.Ingest(ctx, a, batchOf(fmt.Sprint(m), ob("aa", "screenings", fmt.Sprintf("2024-%02d", m), float64(m))))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, res.BatchID)
	}
	if ok, err := db.AcquireLease(ctx, "sender", "server-1", time.Minute, time.Now()); err != nil || !ok {
		t.Fatalf("lease before the restart: %v %v", ok, err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	seen := make(chan string, 64)
	go db.WatchBatches(watchCtx, func(id string) { seen <- id })
	waitFor(t, seen, a.ID, "the watcher's first call")

	srv.Stop(t)
	ops := []struct {
		name string
		run  func(context.Context) error
	}{
		{"Ping", func(ctx context.Context) error { return db.Ping(ctx) }},
		{"Ingest", func(ctx context.Context) error {
			_, err := db.Ingest(ctx, a, batchOf("down", ob("aa", "screenings", "2024-04", 4)))
			return err
		}},
		{"LoadDataset", func(ctx context.Context) error { _, _, err := db.LoadDataset(ctx, a); return err }},
		{"ChangedSince", func(ctx context.Context) error { _, err := db.ChangedSince(ctx, a, 0); return err }},
		{"LookupToken", func(ctx context.Context) error { _, err := db.LookupToken(ctx, store.TokenPrefix+"00"); return err }},
		{"AcquireLease", func(ctx context.Context) error {
			_, err := db.AcquireLease(ctx, "sender", "server-1", time.Minute, time.Now())
			return err
		}},
	}
	for _, op := range ops {
		err := within(t, ConnectTimeout+2*time.Second, op.name+" while the database is down", op.run)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the database is down = %v, want ErrUnavailable", op.name, err)
		}
	}
	for len(seen) > 0 {
		<-seen
	}

	srv.Start(t)
	err := within(t, 15*time.Second, "first ingest after the restart", func(ctx context.Context) error {
		for {
			res, err := db.Ingest(ctx, a, batchOf("up", ob("aa", "screenings", "2024-04", 4)))
			if err == nil {
				acked = append(acked, res.BatchID)
			}
			if !errors.Is(err, store.ErrUnavailable) {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := db.Batches(ctx, a.ID, 10)
	if err != nil || len(bs) != len(acked) {
		t.Fatalf("batches after the restart: %+v %v, want the %d acknowledged", bs, err, len(acked))
	}
	for i, b := range bs {
		if b.ID != acked[len(acked)-1-i] {
			t.Errorf("batch %d is %d, want %d", i, b.ID, acked[len(acked)-1-i])
		}
	}
	if _, st, err := db.LoadDataset(ctx, a); err != nil || st.Loaded != 4 {
		t.Errorf("figures after the restart: %+v %v, want 4", st, err)
	}
	waitFor(t, seen, a.ID, "the watcher's call after it reconnected")
	if ok, err := db.AcquireLease(ctx, "sender", "server-1", time.Minute, time.Now()); err != nil || !ok {
		t.Errorf("lease after the restart: %v %v", ok, err)
	}
}

// waitFor waits up to 15 s for f to have been called with id.
func waitFor(t *testing.T, seen <-chan string, id, what string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-seen:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no call with %q within 15 s", what, id)
		}
	}
}

// When every connection of the pool is busy past the wait allowed, an operation fails with
// ErrUnavailable rather than waiting without end.
func TestPoolExhaustionIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db := openURL(t, pgtest.WithParam(t, pgtest.URL(t), "pool_max_conns", "1"))
	db.acquireTimeout = 300 * time.Millisecond
	w, err := db.NewWriter(ctx, storetest.Assessment(t), store.BatchMeta{Actor: "cli"}) // holds the one connection
	if err != nil {
		t.Fatal(err)
	}
	err = within(t, 3*time.Second, "LastBatch with the pool exhausted", func(ctx context.Context) error {
		_, err := db.LastBatch(ctx, "test")
		return err
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("LastBatch with the pool exhausted = %v, want ErrUnavailable", err)
	}
	w.Abort()
	if _, err := db.LastBatch(ctx, "test"); err != nil {
		t.Errorf("LastBatch once the connection is back: %v", err)
	}
}
