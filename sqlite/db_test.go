package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/store/storetest"
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

// TestConformance runs the store contract's suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return MustOpen(t) })
}

func TestOpenMigratesAndSetsPragmas(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != KnownSchema() {
		t.Fatalf("schema version %d, %v; want %d", v, err, KnownSchema())
	}
	var mode string
	if err := db.db.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.db.GetContext(ctx, &fk, "PRAGMA foreign_keys"); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1 (the migrations turn them off only while they run)", fk, err)
	}
	var timeout int
	if err := db.db.GetContext(ctx, &timeout, "PRAGMA busy_timeout"); err != nil || timeout != int(BusyTimeout/time.Millisecond) {
		t.Errorf("busy_timeout = %d, %v; want %d", timeout, err, BusyTimeout/time.Millisecond)
	}
	path := db.Path()
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db2.Close()
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

// TestBusyIsUnavailable holds the write lock from another connection past the busy
// timeout: the write fails with store.ErrUnavailable, and nothing is written.
func TestBusyIsUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	db := MustOpen(t)
	ctx := context.Background()
	a := storetest.Assessment(t)
	other, err := Open(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.db.BeginTxx(ctx, nil) // immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	_, err = db.Ingest(ctx, a, store.Batch{Observations: nil})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ingest while another process writes = %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited < BusyTimeout/2 {
		t.Errorf("gave up after %v; writers wait their turn up to %v", waited, BusyTimeout)
	}
}
