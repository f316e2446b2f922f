package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

type alertRow struct {
	ID          int64          `db:"id"`
	Alert       string         `db:"alert"`
	Township    string         `db:"township"`
	Indicator   string         `db:"indicator"`
	Severity    string         `db:"severity"`
	Period      int            `db:"period"`
	ActiveSince int            `db:"active_since"`
	Summary     string         `db:"summary"`
	StartedAt   string         `db:"started_at"`
	UpdatedAt   string         `db:"updated_at"`
	ResolvedAt  sql.NullString `db:"resolved_at"`
}

func (r alertRow) record() store.AlertRecord {
	out := store.AlertRecord{
		ID: r.ID,
		Alert: kpi.Alert{Alert: r.Alert, Township: r.Township, Indicator: r.Indicator, Severity: r.Severity,
			ActiveSince: intPeriod(r.ActiveSince), Summary: r.Summary},
		Period:    intPeriod(r.Period),
		StartedAt: parseStamp(r.StartedAt),
		UpdatedAt: parseStamp(r.UpdatedAt),
	}
	if r.ResolvedAt.Valid {
		t := parseStamp(r.ResolvedAt.String)
		out.ResolvedAt = &t
	}
	return out
}

const alertColumns = `id, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at, resolved_at`

// SyncAlerts records, at now, that exactly the alerts in current hold as of period p, by
// the shared transition store.PlanAlerts, in one transaction.
func (db *DB) SyncAlerts(ctx context.Context, assessment string, now time.Time, p kpi.Period, current []kpi.Alert, began func(kpi.Alert) time.Time) (store.AlertChanges, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: begin: %w", busy(err))
	}
	defer tx.Rollback()
	var rows []alertRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+alertColumns+` FROM alerts WHERE assessment = ? AND resolved_at IS NULL`, assessment); err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: read firing: %w", err)
	}
	firing := make([]store.AlertRecord, len(rows))
	for i, r := range rows {
		firing[i] = r.record()
	}
	plan, err := store.PlanAlerts(firing, current, p, now, began)
	if err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: %w", err)
	}
	for i := range plan.Start {
		r := &plan.Start[i]
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (assessment, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, assessment, r.Alert.Alert, r.Township, r.Indicator, r.Severity, periodInt(r.Period),
			periodInt(r.ActiveSince), r.Summary, stamp(r.StartedAt), stamp(r.UpdatedAt))
		if err != nil {
			return store.AlertChanges{}, fmt.Errorf("sync alerts: start %v: %w", r.Key(), err)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return store.AlertChanges{}, fmt.Errorf("sync alerts: start %v: %w", r.Key(), err)
		}
	}
	for _, r := range plan.Update {
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET severity = ?, summary = ?, period = ?, active_since = ?, updated_at = ? WHERE id = ?`,
			r.Severity, r.Summary, periodInt(r.Period), periodInt(r.ActiveSince), stamp(r.UpdatedAt), r.ID); err != nil {
			return store.AlertChanges{}, fmt.Errorf("sync alerts: update %v: %w", r.Key(), err)
		}
	}
	for _, r := range plan.Resolve {
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET resolved_at = ? WHERE id = ?`, stamp(*r.ResolvedAt), r.ID); err != nil {
			return store.AlertChanges{}, fmt.Errorf("sync alerts: resolve %v: %w", r.Key(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return store.AlertChanges{}, fmt.Errorf("sync alerts: commit: %w", busy(err))
	}
	return plan.Changes(), nil
}

// FiringAlerts lists the assessment's alerts that hold, oldest first.
func (db *DB) FiringAlerts(ctx context.Context, assessment string) ([]store.AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE assessment = ? AND resolved_at IS NULL ORDER BY started_at, id`, assessment)
}

// ResolvedAlerts lists the assessment's alerts that resolved at or after since, latest first.
func (db *DB) ResolvedAlerts(ctx context.Context, assessment string, since time.Time) ([]store.AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE assessment = ? AND resolved_at IS NOT NULL AND resolved_at >= ?
		ORDER BY resolved_at DESC, id DESC`, assessment, stamp(since))
}

func (db *DB) alerts(ctx context.Context, q string, args ...any) ([]store.AlertRecord, error) {
	var rows []alertRow
	if err := db.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list alerts: %w", busy(err))
	}
	out := make([]store.AlertRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// Notified reports whether a message of kind for the occasion key was already sent to
// channel.
func (db *DB) Notified(ctx context.Context, assessment, channel, kind, key string) (bool, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM notifications WHERE assessment = ? AND channel = ? AND kind = ? AND key = ?`,
		assessment, channel, kind, key); err != nil {
		return false, fmt.Errorf("read notifications: %w", busy(err))
	}
	return n > 0, nil
}

// RecordNotification notes that a message of kind for the occasion key was sent to
// channel at the time given; recording it again changes nothing.
func (db *DB) RecordNotification(ctx context.Context, assessment, channel, kind, key string, at time.Time) error {
	if _, err := db.db.ExecContext(ctx, `INSERT INTO notifications (assessment, channel, kind, key, sent_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (assessment, channel, kind, key) DO NOTHING`, assessment, channel, kind, key, stamp(at)); err != nil {
		return fmt.Errorf("record notification: %w", busy(err))
	}
	return nil
}
