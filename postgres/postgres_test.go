package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kpimon/kpimon/postgres/pgtest"
	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/store/storetest"
)

// mustOpen opens a store on a fresh schema of the test server and closes it when the test
// ends.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	return openURL(tb, pgtest.URL(tb))
}

// openURL opens a store on url and closes it when the test ends.
func openURL(tb testing.TB, url string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the store contract's suite on PostgreSQL, each test in a fresh
// schema.
func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Backend { return mustOpen(t) })
}

// queryInt runs a query returning one integer on the store's own pool.
func queryInt(tb testing.TB, db *DB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.queryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestServersStartingAtOnceMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	const servers = 4
	var wg sync.WaitGroup
	dbs := make([]*DB, servers)
	errs := make([]error, servers)
	for i := range servers {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	db := dbs[0]
	if n := queryInt(t, db, `SELECT COUNT(*) FROM schema_migrations`); n != len(migrationList()) {
		t.Errorf("%d migrations recorded, want %d (each once)", n, len(migrationList()))
	}
	if v, err := db.SchemaVersion(context.Background()); err != nil || v != KnownSchema() {
		t.Errorf("schema version %d %v, want %d", v, err, KnownSchema())
	}
	// every table of the SQLite backend but leases (a lease is an advisory lock here)
	for _, table := range []string{"batches", "townships", "indicators", "observations", "revisions", "alerts", "notifications",
		"tokens", "period_locks", "lock_events", "sessions", "previews"} {
		if n := queryInt(t, db, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, db.Schema(), table); n != 1 {
			t.Errorf("table %s: %d found", table, n)
		}
	}
	again := openURL(t, url)
	if n := queryInt(t, again, `SELECT COUNT(*) FROM schema_migrations`); n != len(migrationList()) {
		t.Errorf("reopening applied migrations again: %d recorded", n)
	}
}

func TestNewerSchemaIsRefusedUntouched(t *testing.T) {
	url := pgtest.URL(t)
	newer := KnownSchema() + 1
	pgtest.Exec(t, url, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`)
	pgtest.Exec(t, url, `INSERT INTO schema_migrations VALUES ($1, 'from the future', now())`, newer)
	_, err := Open(context.Background(), url)
	var se *store.SchemaError
	if !errors.As(err, &se) || !errors.Is(err, store.ErrSchemaTooNew) || se.Found != newer || se.Known != KnownSchema() {
		t.Fatalf("Open = %v, want a *store.SchemaError (found %d, known %d)", err, newer, KnownSchema())
	}
	if !strings.Contains(err.Error(), "请升级 kpimon") || strings.Contains(se.Database, "password") {
		t.Errorf("message %q", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables, rows int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if tables != 1 || rows != 1 {
		t.Errorf("after the refusal: %d tables and %d migrations recorded, want 1 and 1 (nothing written)", tables, rows)
	}
}

func TestDescribeHidesThePassword(t *testing.T) {
	server := pgtest.ServerURL(t)
	url := pgtest.URL(t)
	withPassword := strings.Replace(url, "://", "://postgres:s3cret-pw@", 1)
	if strings.Contains(server, "@") {
		// the server URL names a user already: put the password after it
		i := strings.Index(url, "://") + 3
		j := strings.Index(url, "@")
		withPassword = url[:i] + url[i:j] + ":s3cret-pw" + url[j:]
	}
	db := openURL(t, withPassword) // the test server trusts every password
	cfgHost := db.connCfg.Host
	for _, s := range []string{db.Describe(), fmt.Sprint(db.Ping(context.Background()))} {
		if strings.Contains(s, "s3cret-pw") {
			t.Errorf("%q shows the password", s)
		}
	}
	if !strings.Contains(db.Describe(), cfgHost) || !strings.HasPrefix(db.Describe(), "postgres://") {
		t.Errorf("Describe() = %q, want the address with host %s", db.Describe(), cfgHost)
	}
}

// ClaimLegacy has nothing to claim on PostgreSQL: it reports false and writes nothing.
func TestClaimLegacyIsANoOp(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	if _, err := db.Ingest(ctx, a, batchOf("jan", ob("aa", "screenings", "2024-01", 1))); err != nil {
		t.Fatal(err)
	}
	before, _ := db.LastBatch(ctx, a.ID)
	if claimed, err := db.ClaimLegacy(ctx, "other-2024", 2024); err != nil || claimed {
		t.Errorf("ClaimLegacy = %v %v, want false", claimed, err)
	}
	if _, st, _ := db.LoadDataset(ctx, a); st.Loaded != 1 {
		t.Errorf("the assessment's figures after ClaimLegacy: %+v", st)
	}
	if after, _ := db.LastBatch(ctx, a.ID); after != before {
		t.Errorf("latest batch %d after ClaimLegacy, was %d", after, before)
	}
	if _, err := db.ClaimLegacy(ctx, "", 2024); err == nil {
		t.Error("ClaimLegacy without an assessment id was accepted")
	}
}

// Batches' limit means what it means on SQLite: at most that many, every one when negative.
func TestBatchesLimit(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	a := storetest.Assessment(t)
	for m := 1; m <= 3; m++ {
		if _, err := db.Ingest(ctx, a, batchOf(fmt.Sprint(m), ob("aa", "screenings", fmt.Sprintf("2024-%02d", m), 1))); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ limit, want int }{{2, 2}, {0, 0}, {-1, 3}, {10, 3}} {
		if bs, err := db.Batches(ctx, a.ID, c.limit); err != nil || len(bs) != c.want {
			t.Errorf("Batches(limit %d) = %d batches, %v; want %d", c.limit, len(bs), err, c.want)
		}
	}
}
