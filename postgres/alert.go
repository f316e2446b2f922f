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

const alertColumns = `id, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at, resolved_at`

func scanAlert(r pgx.Row) (store.AlertRecord, error) {
	var a store.AlertRecord
	var period, since int
	err := r.Scan(&a.ID, &a.Alert.Alert, &a.Township, &a.Indicator, &a.Severity, &period, &since, &a.Summary, &a.StartedAt, &a.UpdatedAt, &a.ResolvedAt)
	a.Period, a.ActiveSince = intPeriod(period), intPeriod(since)
	a.StartedAt, a.UpdatedAt, a.ResolvedAt = utc(a.StartedAt), utc(a.UpdatedAt), utcPtr(a.ResolvedAt)
	return a, err
}

// SyncAlerts records, at now, that exactly the alerts in current hold as of period p, by
// the shared transition store.PlanAlerts, in one transaction. The transaction holds the
// assessment's alert lock (an advisory lock of its own, so that a sync does not wait for a
// long batch), so two servers' syncs cannot interleave.
func (db *DB) SyncAlerts(ctx context.Context, assessment string, now time.Time, p kpi.Period, current []kpi.Alert, began func(kpi.Alert) time.Time) (store.AlertChanges, error) {
	var plan store.AlertPlan
	err := db.writeTx(ctx, "alerts", assessment, func(tx pgx.Tx) error {
		var firing []store.AlertRecord
		if err := queryOn(ctx, tx, `SELECT `+alertColumns+` FROM alerts WHERE assessment = $1 AND resolved_at IS NULL`, []any{assessment},
			func(r pgx.Rows) error {
				a, err := scanAlert(r)
				firing = append(firing, a)
				return err
			}); err != nil {
			return fmt.Errorf("read firing: %w", err)
		}
		var err error
		if plan, err = store.PlanAlerts(firing, current, p, now, began); err != nil {
			return err
		}
		for i := range plan.Start {
			r := &plan.Start[i]
			r.StartedAt, r.UpdatedAt = r.StartedAt.Truncate(time.Microsecond), r.UpdatedAt.Truncate(time.Microsecond)
			if err := tx.QueryRow(ctx, `INSERT INTO alerts (assessment, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, assessment, r.Alert.Alert, r.Township, r.Indicator, r.Severity,
				periodInt(r.Period), periodInt(r.ActiveSince), r.Summary, r.StartedAt, r.UpdatedAt).Scan(&r.ID); err != nil {
				return fmt.Errorf("start %v: %w", r.Key(), err)
			}
		}
		for i := range plan.Update {
			r := &plan.Update[i]
			r.UpdatedAt = r.UpdatedAt.Truncate(time.Microsecond)
			if _, err := tx.Exec(ctx, `UPDATE alerts SET severity = $1, summary = $2, period = $3, active_since = $4, updated_at = $5 WHERE id = $6`,
				r.Severity, r.Summary, periodInt(r.Period), periodInt(r.ActiveSince), r.UpdatedAt, r.ID); err != nil {
				return fmt.Errorf("update %v: %w", r.Key(), err)
			}
		}
		for i := range plan.Resolve {
			r := &plan.Resolve[i]
			at := r.ResolvedAt.Truncate(time.Microsecond)
			r.ResolvedAt = &at
			if _, err := tx.Exec(ctx, `UPDATE alerts SET resolved_at = $1 WHERE id = $2`, at, r.ID); err != nil {
				return fmt.Errorf("resolve %v: %w", r.Key(), err)
			}
		}
		return nil
	})
	if err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: %w", err)
	}
	return plan.Changes(), nil
}

// FiringAlerts lists the assessment's alerts that hold, oldest first.
func (db *DB) FiringAlerts(ctx context.Context, assessment string) ([]store.AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE assessment = $1 AND resolved_at IS NULL ORDER BY started_at, id`, assessment)
}

// ResolvedAlerts lists the assessment's alerts that resolved at or after since, latest first.
func (db *DB) ResolvedAlerts(ctx context.Context, assessment string, since time.Time) ([]store.AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE assessment = $1 AND resolved_at IS NOT NULL AND resolved_at >= $2
		ORDER BY resolved_at DESC, id DESC`, assessment, since)
}

func (db *DB) alerts(ctx context.Context, sql string, args ...any) ([]store.AlertRecord, error) {
	var out []store.AlertRecord
	err := db.query(ctx, sql, args, func(r pgx.Rows) error {
		a, err := scanAlert(r)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// Notified reports whether a message of kind for the occasion key was already sent to
// channel.
func (db *DB) Notified(ctx context.Context, assessment, channel, kind, key string) (bool, error) {
	var one int
	err := db.queryRow(ctx, `SELECT 1 FROM notifications WHERE assessment = $1 AND channel = $2 AND kind = $3 AND key = $4`,
		assessment, channel, kind, key).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read notifications: %w", err)
	}
	return true, nil
}

// RecordNotification notes that a message of kind for the occasion key was sent to
// channel at the time given; recording it again changes nothing.
func (db *DB) RecordNotification(ctx context.Context, assessment, channel, kind, key string, at time.Time) error {
	if _, err := db.exec(ctx, `INSERT INTO notifications (assessment, channel, kind, key, sent_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (assessment, channel, kind, key) DO NOTHING`, assessment, channel, kind, key, at); err != nil {
		return fmt.Errorf("record notification: %w", err)
	}
	return nil
}
