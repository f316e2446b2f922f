// Package postgres is kpimon's storage on PostgreSQL (12 or later, and databases that
// follow it), for deployments where several kpimon servers share one database behind a
// load balancer: the store contract (package store) through github.com/jackc/pgx/v5 and
// its pool, pgxpool. It keeps the same records as the sqlite package, in the same tables,
// each per assessment.
//
// # Opening
//
// Open takes a postgres:// or postgresql:// URL (any parameter pgx understands; a
// search_path parameter puts kpimon's tables in a schema of their own). It refuses a
// database whose schema is newer than this package knows (*store.SchemaError) before
// writing anything, and otherwise applies the embedded migrations in order, each in its
// own transaction, while holding a session-level advisory lock: two servers started at
// once do not both migrate, the second waits and finds the work done.
//
// # Writing one batch at a time: advisory locks
//
// A batch (Ingest, or a Writer fed in chunks by the command line), LockPeriod and
// UnlockPeriod begin by taking a transaction-level advisory lock on the assessment
// (pg_advisory_xact_lock on a 64-bit hash of the schema and the assessment id), held until
// commit or rollback. So batches of one assessment are written one at a time by whichever
// server or command writes them; a batch takes its id from the sequence inside the lock,
// so ids grow in commit order per assessment (which ChangedSince relies on); and a batch's
// check of the locked months cannot race a LockPeriod. Batches of different assessments
// do not wait for each other. Waiting for the lock is bounded by lock_timeout (LockWait
// unless the URL sets one); past it the batch fails with store.ErrUnavailable and the
// HTTP edge answers 503 with Retry-After.
//
// Why not SERIALIZABLE transactions retried on serialization failures: a batch can be a
// million-row COPY streamed from a file as it is read, which cannot be cheaply retried (the
// file would have to be read again, the work done twice); batches are rare (a few per
// township per month), so serializing them costs nothing that matters; and an advisory
// lock has no false conflicts, where SERIALIZABLE aborts transactions whose predicate
// reads merely touch the same index pages. Readers never take the lock: they read a
// consistent snapshot (REPEATABLE READ) and never wait for a writer.
//
// Write transactions run at READ COMMITTED on purpose: each statement after the lock sees
// every batch committed before the lock was granted (at REPEATABLE READ the snapshot would
// be taken when the lock statement began, before the wait).
//
// # Ingest with COPY
//
// A batch is written with one COPY that streams while its file is still being read (a
// Writer's chunks feed it through a goroutine). Into an assessment that has no figures yet
// (a first load) every key is new and the COPY goes straight into observations. Otherwise
// it goes into a temporary table (ON COMMIT DROP) and, at Commit, the batch is compared
// with the current values once (one join, whose result is kept in a second temporary
// table) and written by a few set-based statements: the old values of the corrected keys
// into revisions, the corrections, the new keys. The batch's counts, Written and
// PreviousBatch are the same as the sqlite backend's. A first load refuses a locked month
// at the chunk that writes to it; any other batch is refused at Commit, naming every
// locked month whose figures it would change.
//
// # Availability
//
// Errors that mean the database cannot be reached or is restarting (connection errors,
// the 08 class, 57P01 admin_shutdown and its kin, a lock wait past lock_timeout, a
// connection not acquired from the pool within AcquireTimeout) are wrapped with
// store.ErrUnavailable; nothing half-written stays behind (a transaction is all or
// nothing), and the pool makes new connections by itself when the database is back.
//
// # Notifications and leases
//
// A batch's transaction sends NOTIFY with the assessment id; WatchBatches listens on a
// dedicated connection and reconnects after errors (see watch.go). A lease is a
// session-level advisory lock held on a dedicated connection (see lease.go).
//
// kpimon needs session-level connections (a direct connection, or pgbouncer in session
// mode): advisory locks, LISTEN and temporary tables belong to a session.
package postgres

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kpimon/kpimon/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open kpimon database on PostgreSQL. It implements store.Store.
type DB struct {
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for the dedicated connections (watching, leases)
	desc    string          // the address without secrets
	schema  string          // the schema the tables are in (current_schema())
	channel string          // the NOTIFY channel of this schema's batches
	now     func() time.Time
	leases  *leases
	// acquireTimeout is AcquireTimeout; tests shorten it
	acquireTimeout time.Duration
}

var _ store.Store = (*DB)(nil)

// Timeouts the package applies unless the URL says otherwise.
const (
	// ConnectTimeout bounds establishing one connection (connect_timeout in the URL
	// overrides it): an unreachable server fails with store.ErrUnavailable within it.
	ConnectTimeout = 5 * time.Second
	// LockWait is the lock_timeout of every session (lock_timeout in the URL overrides
	// it): how long a batch waits for another batch of the same assessment before it fails
	// with store.ErrUnavailable, like the sqlite backend's busy timeout.
	LockWait = 10 * time.Second
	// AcquireTimeout is how long an operation waits for a connection of the pool before it
	// fails with store.ErrUnavailable.
	AcquireTimeout = 10 * time.Second
	// migrationWait is how long a starting server waits for another one's migration.
	migrationWait = 5 * time.Minute
)

// Open connects to the database the URL names, checks its schema and migrates it.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's message hides the password, but is English: it stays in the chain only
		return nil, &AddressError{Err: err}
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = ConnectTimeout
	}
	if _, ok := cc.RuntimeParams["lock_timeout"]; !ok {
		cc.RuntimeParams["lock_timeout"] = strconv.FormatInt(LockWait.Milliseconds(), 10)
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "kpimon"
	}
	db := &DB{connCfg: cc.Copy(), desc: Describe(cfg), now: time.Now, acquireTimeout: AcquireTimeout}
	db.leases = newLeases(db)
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, connectFailure(db.desc, cc.ConnectTimeout, err)
	}
	if err := db.start(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// start reads the schema, then migrates.
func (db *DB) start(ctx context.Context) error {
	var schema *string
	if err := db.queryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return connectFailure(db.desc, db.connCfg.ConnectTimeout, err)
	}
	if schema == nil {
		return fmt.Errorf("PostgreSQL 数据库 %s 没有可用的 schema：search_path 中的 schema 都不存在", db.desc)
	}
	db.schema = *schema
	db.channel = fmt.Sprintf("kpimon_batches_%016x", hash64(db.schema))
	if err := db.migrate(ctx); err != nil {
		var se *store.SchemaError
		if errors.As(err, &se) {
			return se
		}
		return fmt.Errorf("迁移 PostgreSQL 数据库 %s 失败：%w", db.desc, unavailable(err))
	}
	return nil
}

// AddressError is a --db address that is not a PostgreSQL URL kpimon can read. Its message
// is Chinese; the driver's (English, without the password) stays in Err.
type AddressError struct{ Err error }

func (e *AddressError) Error() string {
	return "PostgreSQL 地址无效：应形如 postgres://用户名:密码@主机:端口/数据库名；" +
		"用户名和密码中的特殊字符须按网址写法转义（@ 写作 %40，: 写作 %3A，/ 写作 %2F，空格写作 %20）"
}

// Unwrap gives the driver's error.
func (e *AddressError) Unwrap() error { return e.Err }

// ConnectError is a database that could not be reached or refused the connection. Its
// message names the database (never the password) and, for the common causes, says in
// Chinese why and what to do (Reason); for other causes it carries the driver's text. It
// unwraps to the driver's error, and to store.ErrUnavailable when trying again may help.
type ConnectError struct {
	Database string // the address without secrets
	Reason   string // why, in Chinese; empty when the cause is not one kpimon knows
	Err      error
}

func (e *ConnectError) Error() string {
	if e.Reason != "" {
		return "无法连接 PostgreSQL 数据库 " + e.Database + "：" + e.Reason
	}
	return "无法连接 PostgreSQL 数据库 " + e.Database + "（驱动的信息：" + e.Err.Error() + "）"
}

// Unwrap gives the driver's error (wrapped as store.ErrUnavailable when transient).
func (e *ConnectError) Unwrap() error { return e.Err }

func connectFailure(desc string, timeout time.Duration, err error) error {
	return &ConnectError{Database: desc, Reason: connectReason(err, timeout), Err: unavailable(err)}
}

// connectReason says in Chinese why a connection failed and what to do, for the causes an
// administrator meets: the server's refusals first (they are the most precise), then the
// network's.
func connectReason(err error, timeout time.Duration) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000": // invalid_catalog_name
			return "服务器上没有这个数据库：请先创建它（CREATE DATABASE 库名 OWNER 用户名;），kpimon 会在其中建表"
		case "28P01": // invalid_password
			return "密码不正确：请检查 --db 地址中的用户名和密码"
		case "28000": // invalid_authorization_specification
			if strings.Contains(pe.Message, "does not exist") {
				return "服务器上没有这个用户：请先创建它（CREATE ROLE 用户名 LOGIN PASSWORD '密码';），或检查 --db 地址中的用户名"
			}
			return "服务器不允许此用户从这台机器连接：请让数据库管理员在 pg_hba.conf 中放行，或检查 --db 地址中的用户名"
		case "42704": // undefined_object: a parameter in the URL the server does not know
			name := pe.Message
			if i := strings.IndexByte(name, '"'); i >= 0 {
				if j := strings.IndexByte(name[i+1:], '"'); j >= 0 {
					name = name[i+1 : i+1+j]
				}
			}
			return "地址中的参数“" + name + "”服务器不认识：请检查拼写（常用的有 sslmode、search_path、connect_timeout）"
		case "53300": // too_many_connections
			return "服务器的连接数已满：请稍后再试，或让数据库管理员调大 max_connections"
		case "57P03": // cannot_connect_now
			return "服务器正在启动或关闭：请稍后再试"
		}
		return ""
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "找不到主机“" + dnsErr.Name + "”：请检查 --db 地址中的主机名"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "服务器拒绝连接：PostgreSQL 没有启动，或 --db 地址中的主机、端口不对"
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Sprintf("%s内没有回应：请检查 --db 地址中的主机和端口，以及网络和防火墙", durationText(timeout))
	}
	if strings.Contains(err.Error(), "server refused TLS connection") {
		return "服务器不接受 SSL 连接：在可信的内网中可在地址末尾加 ?sslmode=disable，否则请在服务器上启用 SSL"
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "服务器的 SSL 证书无法验证：请在地址中用 sslrootcert 指定签发它的证书，或改用 sslmode=require（加密但不验证证书）"
	}
	return ""
}

// durationText writes a timeout for a sentence: 5 秒.
func durationText(d time.Duration) string {
	if d <= 0 {
		return "规定的时间"
	}
	if d%time.Second == 0 {
		return fmt.Sprintf(" %d 秒", int(d/time.Second))
	}
	return " " + d.String()
}

// Describe names the database a pool configuration connects to, for logs and messages:
// postgres://user@host:port/database, never the password.
func Describe(cfg *pgxpool.Config) string {
	cc := cfg.ConnConfig
	host := cc.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]"
	}
	s := fmt.Sprintf("postgres://%s@%s:%d/%s", cc.User, host, cc.Port, cc.Database)
	if sp := cc.RuntimeParams["search_path"]; sp != "" {
		s += "?search_path=" + sp
	}
	return s
}

// Close closes the database: the pool and the connections of the leases held.
func (db *DB) Close() error {
	db.leases.closeAll()
	db.pool.Close()
	return nil
}

// Describe names the database for logs and messages, without the password.
func (db *DB) Describe() string { return db.desc }

// Schema is the schema kpimon's tables are in.
func (db *DB) Schema() string { return db.schema }

// SetClock replaces the clock that stamps batches, locks and tokens; tests use it.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	c, err := db.acquire(ctx)
	if err != nil {
		return fmt.Errorf("ping %s: %w", db.desc, err)
	}
	defer c.Release()
	if err := c.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.desc, unavailable(err))
	}
	return nil
}

// SchemaVersion is the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", unavailable(err))
	}
	return v, nil
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
			panic("postgres: migration " + base + " must start with a number") // caught by every test
		}
		out = append(out, migration{version: v, name: base, file: name})
	}
	return out
}

// migrate applies the migrations not yet applied, in order, each in a transaction, while
// holding the schema's migration lock (a session-level advisory lock), so that servers
// starting at once migrate one after the other. A schema newer than this package knows is
// refused before anything is written.
func (db *DB) migrate(ctx context.Context) error {
	c, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	conn := c.Conn()
	if _, err := conn.Exec(ctx, `SELECT set_config('lock_timeout', $1, false)`, strconv.FormatInt(migrationWait.Milliseconds(), 10)); err != nil {
		return err
	}
	key := db.lockKey("migrate", "")
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("wait for another server's migration: %w", err)
	}
	defer func() {
		// unlock and restore the session's lock_timeout before the connection goes back
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(bg, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Close(bg) // the session ends, and its locks with it
			return
		}
		conn.Exec(bg, `RESET lock_timeout`)
	}()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	done := map[int]bool{}
	if exists {
		rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		found := 0
		for _, v := range versions {
			done[v] = true
			found = max(found, v)
		}
		if known := KnownSchema(); found > known {
			return &store.SchemaError{Database: db.desc, Found: found, Known: known}
		}
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
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range todo {
		if err := apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration in a transaction and records it.
func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	body, err := migrations.ReadFile(m.file)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// no arguments: the simple protocol, which runs every statement of the file
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UTC()); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	return nil
}

// hash64 is the 64-bit FNV-1a hash of s.
func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// lockKey is the advisory lock key of a kind of lock ("assessment", "alerts", "lease",
// "migrate") on a name, in this schema: two kpimon deployments in two schemas of one
// database never share a lock. A collision of two keys only makes two writers wait for
// each other.
func (db *DB) lockKey(kind, name string) int64 {
	return int64(hash64("kpimon\x00" + db.schema + "\x00" + kind + "\x00" + name))
}

// acquire takes a connection from the pool, waiting at most AcquireTimeout.
func (db *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, db.acquireTimeout)
	defer cancel()
	c, err := db.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unavailable(err)
	}
	return c, nil
}

// row is a pgx.Row whose connection goes back to the pool once scanned.
type row struct {
	c   *pgxpool.Conn
	r   pgx.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.c.Release()
	return unavailable(r.r.Scan(dest...))
}

// queryRow runs a query that returns one row on a connection of the pool.
func (db *DB) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := db.acquire(ctx)
	if err != nil {
		return row{err: err}
	}
	return row{c: c, r: c.QueryRow(ctx, sql, args...)}
}

// exec runs a statement on a connection of the pool.
func (db *DB) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := db.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	tag, err := c.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

// query runs a query on a connection of the pool and hands each row to scan.
func (db *DB) query(ctx context.Context, sql string, args []any, scan func(pgx.Rows) error) error {
	c, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return queryOn(ctx, c, sql, args, scan)
}

// querier is a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queryOn runs a query and hands each row to scan.
func queryOn(ctx context.Context, q querier, sql string, args []any, scan func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return unavailable(rows.Err())
}

// readTx runs f in a read-only transaction that sees one snapshot (REPEATABLE READ), so
// that what it reads agrees (figures and the latest batch id).
func (db *DB) readTx(ctx context.Context, f func(pgx.Tx) error) error {
	return db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, "", f)
}

// writeTx runs f in a READ COMMITTED transaction and commits it. With a lock key, the
// transaction first takes that advisory lock (until it ends).
func (db *DB) writeTx(ctx context.Context, lockKind, lockName string, f func(pgx.Tx) error) error {
	key := ""
	if lockKind != "" {
		key = lockKind + "\x00" + lockName
	}
	return db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, key, f)
}

func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, lock string, f func(pgx.Tx) error) error {
	c, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if lock != "" {
		kind, name, _ := strings.Cut(lock, "\x00")
		if err := db.advisoryXactLock(ctx, tx, kind, name); err != nil {
			return err
		}
	}
	if err := f(tx); err != nil {
		return unavailable(err)
	}
	return unavailable(tx.Commit(ctx))
}

// advisoryXactLock takes the transaction-level advisory lock of kind and name, waiting at
// most the session's lock_timeout.
func (db *DB) advisoryXactLock(ctx context.Context, tx pgx.Tx, kind, name string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, db.lockKey(kind, name)); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			return fmt.Errorf("%w: 考核 %s 正有另一批数据在写入，等待超时，请稍后重试: %w", store.ErrUnavailable, name, err)
		}
		return unavailable(err)
	}
	return nil
}

// unavailable wraps with store.ErrUnavailable the errors that mean the database could not
// be reached, went away or stayed busy past the wait allowed; it returns other errors (and
// nil) as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !transient(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// transient reports whether err means the database is unreachable, restarting or busy:
// trying the same request again shortly may succeed, and nothing was written.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		case pe.Code == "53300": // too_many_connections
			return true
		case pe.Code == "55P03", pe.Code == "40001", pe.Code == "40P01": // lock_not_available (lock_timeout), serialization_failure, deadlock_detected
			return true
		case pe.Code == "25P03": // idle_in_transaction_session_timeout
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// utc is a time read from the database, in UTC as the sqlite backend returns them.
func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
