// Package sqlite is kpimon's embedded storage, the default: the store contract (package
// store) on one SQLite file, through github.com/mattn/go-sqlite3 and github.com/jmoiron/sqlx.
// It keeps the reported figures with their full revision history and the batches that wrote
// them, locked months, hashed tokens and login sessions, upload previews, the alert
// lifecycle and leases, each per assessment.
//
// Open refuses a database whose schema is newer than this package knows, before writing
// anything to it; otherwise it applies the embedded migrations in order, each in its own
// transaction with foreign keys checked at the end, and sets WAL, a busy timeout, NORMAL
// synchronous and immediate transactions (so that read-then-write transactions never
// deadlock). Every method takes a context first. A write that cannot get the database
// within the busy timeout (another process holds it, e.g. a long command-line ingest) fails
// with store.ErrUnavailable and writes nothing.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"

	"github.com/kpimon/kpimon/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open kpimon database. It implements store.Store.
type DB struct {
	db   *sqlx.DB
	path string
	now  func() time.Time
}

var _ store.Store = (*DB)(nil)

// BusyTimeout is how long a write waits for another writer (another process) before it
// fails with store.ErrUnavailable.
const BusyTimeout = 10 * time.Second

// Open opens (creating it if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given")
	}
	if err := checkSchema(ctx, path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", strconv.Itoa(int(BusyTimeout/time.Millisecond)))
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "on")
	dsn := "file:" + path + "?" + q.Encode()
	sdb, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{db: sdb, path: path, now: time.Now}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, busy(err))
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, busy(err))
	}
	return db, nil
}

// checkSchema refuses a database file written by a newer kpimon, reading it without
// writing: the file is opened read-only and no journal mode is set.
func checkSchema(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil // a new file: nothing to check
	}
	ro, err := openReadOnly(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer ro.Close()
	var n int
	if err := ro.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "file is not a database") {
			return fmt.Errorf("%s 不是 kpimon 的数据库（不是 SQLite 文件）: %w", path, err)
		}
		return fmt.Errorf("open database %s: %w", path, busy(err))
	}
	if n == 0 {
		return nil
	}
	var v int
	if err := ro.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("open database %s: %w", path, busy(err))
	}
	if known := KnownSchema(); v > known {
		return &store.SchemaError{Database: path, Found: v, Known: known}
	}
	return nil
}

// KnownSchema is the newest schema version this package's migrations make.
func KnownSchema() int {
	v := 0
	for _, m := range migrationList() {
		v = max(v, m.version)
	}
	return v
}

type migration struct {
	version int
	name    string
	file    string
}

// migrationList is the embedded migrations in order.
func migrationList() []migration {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			panic("sqlite: migration " + base + " must start with a number") // caught by every test
		}
		out = append(out, migration{version: v, name: base, file: name})
	}
	return out
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Describe names the database for logs and messages.
func (db *DB) Describe() string { return db.path }

// SetClock replaces the clock that stamps batches; tests use it.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT 1`); err != nil {
		return fmt.Errorf("ping %s: %w", db.path, busy(err))
	}
	return nil
}

// migrate applies the embedded migrations not yet applied, in order, each in a transaction
// on one connection with foreign keys off (so a migration may rebuild a table others
// reference, keeping its ids) and checked before the commit.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	if err := db.db.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	var todo []migration
	for _, m := range migrationList() {
		if !done[m.version] {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	conn, err := db.db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	for _, m := range todo {
		if err := db.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, conn *sqlx.Conn, m migration) error {
	body, err := migrations.ReadFile(m.file)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	var bad []struct {
		Table  string        `db:"table"`
		RowID  sql.NullInt64 `db:"rowid"`
		Parent string        `db:"parent"`
		FKID   sql.NullInt64 `db:"fkid"`
	}
	if err := tx.SelectContext(ctx, &bad, `PRAGMA foreign_key_check`); err != nil {
		return fmt.Errorf("migration %s: check foreign keys: %w", m.name, err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("migration %s: %d rows of %s reference missing %s rows", m.name, len(bad), bad[0].Table, bad[0].Parent)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, stamp(time.Now())); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	return nil
}

// SchemaVersion is the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.db.GetContext(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return 0, busy(err)
	}
	return v, nil
}

// busy marks SQLite's "database is locked" and "busy" errors, which mean another writer
// held the database past the busy timeout, as store.ErrUnavailable.
func busy(err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// stamp writes a time for the database: UTC with a fixed nine-digit fraction, so that the
// text sorts and compares like the time (RFC 3339 with a variable fraction does not: "…:00Z"
// would sort after "…:00.5Z"). time.RFC3339Nano parses it back.
func stamp(t time.Time) string { return t.UTC().Format(stampFormat) }

const stampFormat = "2006-01-02T15:04:05.000000000Z07:00"

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// openReadOnly opens the file for reading only, setting no journal mode.
func openReadOnly(path string) (*sqlx.DB, error) {
	return sqlx.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
}

// checkpoint folds the write-ahead log into the database file and leaves it in rollback
// mode, so that the file alone holds every committed write (backups, fixtures).
func checkpoint(path string) error {
	db, err := sqlx.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if _, err := db.Exec(`PRAGMA journal_mode = DELETE`); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}
