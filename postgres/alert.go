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
		return writePlan(ctx, tx, assessment, &plan)
	})
	if err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: %w", err)
	}
	return plan.Changes(), nil
}

// writePlan writes an alert plan with one statement per kind of change, whatever its size
// (a first sync at province scale starts thousands of alerts): the new runs (their ids
// filled in), the updates, the resolutions. Times are kept to the microsecond, as stored.
func writePlan(ctx context.Context, tx pgx.Tx, assessment string, plan *store.AlertPlan) error {
	if n := len(plan.Start); n > 0 {
		var names, towns, inds, sevs, sums []string
		var periods, since []int32
		var started, updated []time.Time
		at := map[kpi.AlertKey]int{}
		for i := range plan.Start {
			r := &plan.Start[i]
			r.StartedAt, r.UpdatedAt = r.StartedAt.Truncate(time.Microsecond), r.UpdatedAt.Truncate(time.Microsecond)
			names, towns, inds = append(names, r.Alert.Alert), append(towns, r.Township), append(inds, r.Indicator)
			sevs, sums = append(sevs, r.Severity), append(sums, r.Summary)
			periods, since = append(periods, int32(periodInt(r.Period))), append(since, int32(periodInt(r.ActiveSince)))
			started, updated = append(started, r.StartedAt), append(updated, r.UpdatedAt)
			at[r.Key()] = i
		}
		got := 0
		if err := queryOn(ctx, tx, `INSERT INTO alerts (assessment, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at)
			SELECT $1, x.alert, x.township, x.indicator, x.severity, x.period, x.active_since, x.summary, x.started_at, x.updated_at
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[], $8::text[], $9::timestamptz[], $10::timestamptz[])
				AS x (alert, township, indicator, severity, period, active_since, summary, started_at, updated_at)
			RETURNING id, alert, township, indicator`, []any{assessment, names, towns, inds, sevs, periods, since, sums, started, updated},
			func(r pgx.Rows) error {
				var id int64
				var k kpi.AlertKey
				if err := r.Scan(&id, &k.Alert, &k.Township, &k.Indicator); err != nil {
					return err
				}
				i, ok := at[k]
				if !ok {
					return fmt.Errorf("start: the database returned %v, which was not started", k)
				}
				plan.Start[i].ID = id
				got++
				return nil
			}); err != nil {
			return fmt.Errorf("start %d alerts: %w", n, err)
		}
		if got != n {
			return fmt.Errorf("start %d alerts: %d ids returned", n, got)
		}
	}
	if n := len(plan.Update); n > 0 {
		var ids []int64
		var sevs, sums []string
		var periods, since []int32
		var updated []time.Time
		for i := range plan.Update {
			r := &plan.Update[i]
			r.UpdatedAt = r.UpdatedAt.Truncate(time.Microsecond)
			ids, sevs, sums = append(ids, r.ID), append(sevs, r.Severity), append(sums, r.Summary)
			periods, since, updated = append(periods, int32(periodInt(r.Period))), append(since, int32(periodInt(r.ActiveSince))), append(updated, r.UpdatedAt)
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET severity = x.severity, summary = x.summary, period = x.period, active_since = x.active_since, updated_at = x.updated_at
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::timestamptz[])
				AS x (id, severity, summary, period, active_since, updated_at)
			WHERE alerts.id = x.id`, ids, sevs, sums, periods, since, updated); err != nil {
			return fmt.Errorf("update %d alerts: %w", n, err)
		}
	}
	if n := len(plan.Resolve); n > 0 {
		var ids []int64
		var resolved []time.Time
		for i := range plan.Resolve {
			r := &plan.Resolve[i]
			t := r.ResolvedAt.Truncate(time.Microsecond)
			r.ResolvedAt = &t
			ids, resolved = append(ids, r.ID), append(resolved, t)
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET resolved_at = x.resolved_at
			FROM unnest($1::bigint[], $2::timestamptz[]) AS x (id, resolved_at) WHERE alerts.id = x.id`, ids, resolved); err != nil {
			return fmt.Errorf("resolve %d alerts: %w", n, err)
		}
	}
	return nil
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
