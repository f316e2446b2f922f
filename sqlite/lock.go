package sqlite

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// LockPeriod locks month p of the assessment so that later batches cannot change its
// figures. Locking a locked month changes nothing; the lock in force is returned with
// whether this call made it.
func (db *DB) LockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (store.Lock, bool, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return store.Lock{}, false, fmt.Errorf("lock %s: %w", p, busy(err))
	}
	defer tx.Rollback()
	if l, ok, err := getLock(ctx, tx, assessment, p); err != nil || ok {
		return l, false, err
	}
	at := db.now().UTC()
	when := stamp(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO period_locks (assessment, period, locked_at, locked_by) VALUES (?, ?, ?, ?)`,
		assessment, periodInt(p), when, actor); err != nil {
		return store.Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lock_events (assessment, period, action, actor, at) VALUES (?, ?, 'lock', ?, ?)`,
		assessment, periodInt(p), actor, when); err != nil {
		return store.Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Lock{}, false, fmt.Errorf("lock %s: %w", p, busy(err))
	}
	return store.Lock{Period: p, At: at, By: actor}, true, nil
}

// UnlockPeriod unlocks month p; it reports false when p was not locked.
func (db *DB) UnlockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (bool, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, busy(err))
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `DELETE FROM period_locks WHERE assessment = ? AND period = ?`, assessment, periodInt(p))
	if err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lock_events (assessment, period, action, actor, at) VALUES (?, ?, 'unlock', ?, ?)`,
		assessment, periodInt(p), actor, stamp(db.now())); err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, busy(err))
	}
	return true, nil
}

type lockRow struct {
	Period int    `db:"period"`
	At     string `db:"locked_at"`
	By     string `db:"locked_by"`
}

func (r lockRow) lock() store.Lock {
	return store.Lock{Period: intPeriod(r.Period), At: parseStamp(r.At), By: r.By}
}

func getLock(ctx context.Context, q sqlx.QueryerContext, assessment string, p kpi.Period) (store.Lock, bool, error) {
	var rows []lockRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT period, locked_at, locked_by FROM period_locks WHERE assessment = ? AND period = ?`,
		assessment, periodInt(p)); err != nil {
		return store.Lock{}, false, fmt.Errorf("read lock %s: %w", p, busy(err))
	}
	if len(rows) == 0 {
		return store.Lock{}, false, nil
	}
	return rows[0].lock(), true, nil
}

// Locks lists the assessment's locked months in order.
func (db *DB) Locks(ctx context.Context, assessment string) ([]store.Lock, error) {
	var rows []lockRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT period, locked_at, locked_by FROM period_locks WHERE assessment = ? ORDER BY period`, assessment); err != nil {
		return nil, fmt.Errorf("list locks: %w", busy(err))
	}
	out := make([]store.Lock, len(rows))
	for i, r := range rows {
		out[i] = r.lock()
	}
	return out, nil
}

// refuseLocked returns a *store.LockedError when any of the periods (YYYYMM) is locked in
// the assessment.
func refuseLocked(ctx context.Context, q sqlx.QueryerContext, assessment string, periods map[int]bool) error {
	if len(periods) == 0 {
		return nil
	}
	var locked []int
	if err := sqlx.SelectContext(ctx, q, &locked, `SELECT period FROM period_locks WHERE assessment = ?`, assessment); err != nil {
		return fmt.Errorf("ingest: read locks: %w", err)
	}
	var hit []kpi.Period
	for _, p := range locked {
		if periods[p] {
			hit = append(hit, intPeriod(p))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	sort.Slice(hit, func(i, j int) bool { return hit[i].Before(hit[j]) })
	return &store.LockedError{Assessment: assessment, Periods: hit}
}
