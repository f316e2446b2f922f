package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A lease is a session-level advisory lock (pg_try_advisory_lock on a hash of the schema
// and the lease's name) held by a dedicated connection, one per holder of this process
// that asked for the lease. PostgreSQL lets one session hold it; when the holder's process
// dies, its connection drops, PostgreSQL frees the lock, and another server takes the
// lease at its next attempt. The connection enables TCP keepalives on the server side
// (tcp_keepalives_*), so a holder whose machine vanishes without closing the connection
// loses the lease within about LeaseKeepalive.
//
// The holder keeps the lease while its connection lives: renewing checks the connection
// (a round trip) instead of writing a row. A holder that stops renewing loses the lease
// ttl after its last renewal: a timer releases it. The now argument of AcquireLease is
// not needed (the database's sessions decide).
type leases struct {
	db   *DB
	mu   sync.Mutex
	held map[leaseID]*lease
}

type leaseID struct{ name, holder string }

type lease struct {
	conn  *pgx.Conn
	key   int64
	timer *time.Timer // releases the lease when it is not renewed in time
}

// LeaseKeepalive is about how long PostgreSQL takes to notice that the machine of a lease's
// holder vanished without closing its connection (idle 10 s, then 5 probes 4 s apart).
const LeaseKeepalive = 30 * time.Second

func newLeases(db *DB) *leases { return &leases{db: db, held: map[leaseID]*lease{}} }

// AcquireLease makes holder the holder of the named lease, or keeps it so, if no other
// session holds it; it reports whether holder holds it. A holder that stops renewing loses
// it ttl after the last renewal; one whose process dies loses it as soon as PostgreSQL
// sees its connection close.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	ok, err := db.leases.acquire(ctx, name, holder, ttl)
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, unavailable(err))
	}
	return ok, nil
}

// ReleaseLease gives the lease up if holder holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	db.leases.release(leaseID{name, holder}, nil)
	return nil
}

func (ls *leases) acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	id := leaseID{name, holder}
	if l := ls.held[id]; l != nil {
		if err := l.conn.Ping(ctx); err == nil {
			l.timer.Reset(ttl)
			return true, nil
		}
		// the connection is gone, and the lock with it: try again on a new one
		ls.drop(id, l)
	}
	cfg := ls.db.connCfg.Copy()
	cfg.RuntimeParams["application_name"] += " lease " + name + " " + holder
	for k, v := range map[string]string{"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "4", "tcp_keepalives_count": "5"} {
		if _, set := cfg.RuntimeParams[k]; !set {
			cfg.RuntimeParams[k] = v
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	key := ls.db.lockKey("lease", name)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil || !got {
		conn.Close(context.WithoutCancel(ctx))
		return false, err
	}
	l := &lease{conn: conn, key: key}
	l.timer = time.AfterFunc(ttl, func() { ls.release(id, l) })
	ls.held[id] = l
	// a lease this process's other holder thought it held is not held any more
	for other, ol := range ls.held {
		if other.name == name && other != id {
			ls.drop(other, ol)
		}
	}
	return true, nil
}

// release gives up the lease of id; with l set, only if it is still that lease (the
// timer of an earlier one must not release a later one).
func (ls *leases) release(id leaseID, l *lease) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	cur := ls.held[id]
	if cur == nil || (l != nil && cur != l) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cur.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, cur.key)
	ls.drop(id, cur)
}

// drop forgets a lease and closes its connection (which frees its lock). ls.mu is held.
func (ls *leases) drop(id leaseID, l *lease) {
	l.timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.conn.Close(ctx)
	delete(ls.held, id)
}

// closeAll gives up every lease (Close).
func (ls *leases) closeAll() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for id, l := range ls.held {
		ls.drop(id, l)
	}
}
