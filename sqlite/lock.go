package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kpimon/kpimon/kpi"
)

// ErrLocked is what a batch that would write to a locked month unwraps to.
var ErrLocked = errors.New("period locked")

// LockedError is a batch refused because it would change figures of locked months.
type LockedError struct {
	Periods []kpi.Period // the locked months the batch would have written to
}

func (e *LockedError) Error() string {
	ps := make([]string, len(e.Periods))
	for i, p := range e.Periods {
		ps[i] = p.String()
	}
	return fmt.Sprintf("%s 已锁定（月度通报已发布），本批数据未写入；如需更正，请县妇联管理员先解锁（kpimon lock --unlock）", strings.Join(ps, "、"))
}

// Unwrap makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a locked month: who locked it and when.
type Lock struct {
	Period kpi.Period `json:"period"`
	At     time.Time  `json:"locked_at"`
	By     string     `json:"locked_by"`
}

// LockPeriod locks month p so that later batches cannot change its figures. Locking a
// locked month changes nothing; the lock in force is returned with whether this call made it.
func (db *DB) LockPeriod(ctx context.Context, p kpi.Period, actor string) (Lock, bool, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	defer tx.Rollback()
	if l, ok, err := getLock(ctx, tx, p); err != nil || ok {
		return l, false, err
	}
	at := db.now().UTC()
	when := stamp(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO period_locks (period, locked_at, locked_by) VALUES (?, ?, ?)`, periodInt(p), when, actor); err != nil {
		return Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lock_events (period, action, actor, at) VALUES (?, 'lock', ?, ?)`, periodInt(p), actor, when); err != nil {
		return Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := tx.Commit(); err != nil {
		return Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	return Lock{Period: p, At: at, By: actor}, true, nil
}

// UnlockPeriod unlocks month p; it reports false when p was not locked.
func (db *DB) UnlockPeriod(ctx context.Context, p kpi.Period, actor string) (bool, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `DELETE FROM period_locks WHERE period = ?`, periodInt(p))
	if err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lock_events (period, action, actor, at) VALUES (?, 'unlock', ?, ?)`,
		periodInt(p), actor, stamp(db.now())); err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	return true, nil
}

type lockRow struct {
	Period int    `db:"period"`
	At     string `db:"locked_at"`
	By     string `db:"locked_by"`
}

func (r lockRow) lock() Lock {
	at, _ := time.Parse(time.RFC3339Nano, r.At)
	return Lock{Period: intPeriod(r.Period), At: at, By: r.By}
}

func getLock(ctx context.Context, q sqlx.QueryerContext, p kpi.Period) (Lock, bool, error) {
	var rows []lockRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT period, locked_at, locked_by FROM period_locks WHERE period = ?`, periodInt(p)); err != nil {
		return Lock{}, false, fmt.Errorf("read lock %s: %w", p, err)
	}
	if len(rows) == 0 {
		return Lock{}, false, nil
	}
	return rows[0].lock(), true, nil
}

// Locks lists the locked months in order.
func (db *DB) Locks(ctx context.Context) ([]Lock, error) {
	var rows []lockRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT period, locked_at, locked_by FROM period_locks ORDER BY period`); err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	out := make([]Lock, len(rows))
	for i, r := range rows {
		out[i] = r.lock()
	}
	return out, nil
}

// refuseLocked returns a *LockedError when any of the periods (YYYYMM) is locked.
func refuseLocked(ctx context.Context, q sqlx.QueryerContext, periods map[int]bool) error {
	if len(periods) == 0 {
		return nil
	}
	var locked []int
	if err := sqlx.SelectContext(ctx, q, &locked, `SELECT period FROM period_locks`); err != nil {
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
	return &LockedError{Periods: hit}
}
