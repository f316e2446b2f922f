package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// LockPeriod locks month p of the assessment so that later batches cannot change its
// figures. It takes the assessment's advisory lock first, so it never races a batch's check
// of the locked months. Locking a locked month changes nothing; the lock in force is
// returned with whether this call made it.
func (db *DB) LockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (store.Lock, bool, error) {
	var l store.Lock
	made := false
	err := db.writeTx(ctx, "assessment", assessment, func(tx pgx.Tx) error {
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT locked_at, locked_by FROM period_locks WHERE assessment = $1 AND period = $2`,
			assessment, periodInt(p)).Scan(&at, &l.By)
		switch {
		case err == nil:
			l.Period, l.At = p, utc(at)
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		l = store.Lock{Period: p, At: db.now().UTC().Truncate(time.Microsecond), By: actor}
		if _, err := tx.Exec(ctx, `INSERT INTO period_locks (assessment, period, locked_at, locked_by) VALUES ($1, $2, $3, $4)`,
			assessment, periodInt(p), l.At, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lock_events (assessment, period, action, actor, at) VALUES ($1, $2, 'lock', $3, $4)`,
			assessment, periodInt(p), actor, l.At); err != nil {
			return err
		}
		made = true
		return nil
	})
	if err != nil {
		return store.Lock{}, false, fmt.Errorf("lock %s: %w", p, err)
	}
	return l, made, nil
}

// UnlockPeriod unlocks month p, under the assessment's advisory lock; it reports false when
// p was not locked.
func (db *DB) UnlockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (bool, error) {
	unlocked := false
	err := db.writeTx(ctx, "assessment", assessment, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM period_locks WHERE assessment = $1 AND period = $2`, assessment, periodInt(p))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lock_events (assessment, period, action, actor, at) VALUES ($1, $2, 'unlock', $3, $4)`,
			assessment, periodInt(p), actor, db.now().UTC()); err != nil {
			return err
		}
		unlocked = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("unlock %s: %w", p, err)
	}
	return unlocked, nil
}

// Locks lists the assessment's locked months in order.
func (db *DB) Locks(ctx context.Context, assessment string) ([]store.Lock, error) {
	var out []store.Lock
	err := db.query(ctx, `SELECT period, locked_at, locked_by FROM period_locks WHERE assessment = $1 ORDER BY period`,
		[]any{assessment}, func(r pgx.Rows) error {
			var per int
			var l store.Lock
			if err := r.Scan(&per, &l.At, &l.By); err != nil {
				return err
			}
			l.Period, l.At = intPeriod(per), utc(l.At)
			out = append(out, l)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	return out, nil
}
