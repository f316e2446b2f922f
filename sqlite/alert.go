package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// AlertRecord is one run of an alert in the lifecycle store: when kpimon first saw it hold
// and, once it stopped holding, when. The embedded kpi.Alert carries the latest severity,
// summary and active_since; TownshipName and IndicatorName are filled only when the alert
// came from an evaluation (the store keeps codes).
type AlertRecord struct {
	ID int64
	kpi.Alert
	Period     kpi.Period // the latest evaluated period in which it held
	StartedAt  time.Time  // when it started firing
	UpdatedAt  time.Time  // when its severity, summary or period last changed
	ResolvedAt *time.Time // when it resolved; nil while firing
}

// Firing reports whether the alert still holds.
func (r AlertRecord) Firing() bool { return r.ResolvedAt == nil }

// AlertChanges says what one SyncAlerts changed.
type AlertChanges struct {
	Fired     []AlertRecord // started firing now
	Resolved  []AlertRecord // stopped holding now
	Escalated []AlertRecord // still firing, with a changed severity
}

// Empty reports whether nothing started, stopped or changed severity.
func (c AlertChanges) Empty() bool {
	return len(c.Fired) == 0 && len(c.Resolved) == 0 && len(c.Escalated) == 0
}

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

func (r alertRow) record() AlertRecord {
	out := AlertRecord{
		ID: r.ID,
		Alert: kpi.Alert{Alert: r.Alert, Township: r.Township, Indicator: r.Indicator, Severity: r.Severity,
			ActiveSince: intPeriod(r.ActiveSince), Summary: r.Summary},
		Period: intPeriod(r.Period),
	}
	out.StartedAt, _ = time.Parse(time.RFC3339Nano, r.StartedAt)
	out.UpdatedAt, _ = time.Parse(time.RFC3339Nano, r.UpdatedAt)
	if r.ResolvedAt.Valid {
		t, _ := time.Parse(time.RFC3339Nano, r.ResolvedAt.String)
		out.ResolvedAt = &t
	}
	return out
}

const alertColumns = `id, alert, township, indicator, severity, period, active_since, summary, started_at, updated_at, resolved_at`

func stamp(t time.Time) string { return t.UTC().Format(stampFormat) }

// stampFormat writes times in UTC with a fixed nine-digit fraction, so that the text sorts
// and compares like the time (RFC 3339 with a variable fraction does not: "…:00Z" would
// sort after "…:00.5Z"). time.RFC3339Nano parses it back.
const stampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// SyncAlerts records, at now, that exactly the alerts in current hold as of period p: an
// alert not firing yet starts firing (started_at = now), a firing alert not in current
// resolves (resolved_at = now), and a firing alert that still holds keeps its start and
// takes the latest severity, summary and period. The same condition never fires twice
// while it holds. All in one transaction.
func (db *DB) SyncAlerts(ctx context.Context, now time.Time, p kpi.Period, current []kpi.Alert) (AlertChanges, error) {
	var ch AlertChanges
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return ch, fmt.Errorf("sync alerts: begin: %w", err)
	}
	defer tx.Rollback()
	var rows []alertRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+alertColumns+` FROM alerts WHERE resolved_at IS NULL`); err != nil {
		return ch, fmt.Errorf("sync alerts: read firing: %w", err)
	}
	firing := make(map[kpi.AlertKey]alertRow, len(rows))
	for _, r := range rows {
		firing[kpi.AlertKey{Alert: r.Alert, Township: r.Township, Indicator: r.Indicator}] = r
	}
	at, per := stamp(now), periodInt(p)
	seen := make(map[kpi.AlertKey]bool, len(current))
	for _, al := range current {
		k := al.Key()
		if seen[k] {
			return ch, fmt.Errorf("sync alerts: %v listed twice", k)
		}
		seen[k] = true
		old, ok := firing[k]
		if !ok {
			res, err := tx.ExecContext(ctx, `INSERT INTO alerts (alert, township, indicator, severity, period, active_since, summary, started_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, al.Alert, al.Township, al.Indicator, al.Severity, per, periodInt(al.ActiveSince), al.Summary, at, at)
			if err != nil {
				return ch, fmt.Errorf("sync alerts: start %v: %w", k, err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return ch, fmt.Errorf("sync alerts: start %v: %w", k, err)
			}
			ch.Fired = append(ch.Fired, AlertRecord{ID: id, Alert: al, Period: p, StartedAt: now.UTC(), UpdatedAt: now.UTC()})
			continue
		}
		if old.Severity == al.Severity && old.Summary == al.Summary && old.Period == per && old.ActiveSince == periodInt(al.ActiveSince) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET severity = ?, summary = ?, period = ?, active_since = ?, updated_at = ? WHERE id = ?`,
			al.Severity, al.Summary, per, periodInt(al.ActiveSince), at, old.ID); err != nil {
			return ch, fmt.Errorf("sync alerts: update %v: %w", k, err)
		}
		if old.Severity != al.Severity {
			rec := old.record()
			rec.Alert, rec.Period, rec.UpdatedAt = al, p, now.UTC()
			ch.Escalated = append(ch.Escalated, rec)
		}
	}
	for _, r := range rows {
		k := kpi.AlertKey{Alert: r.Alert, Township: r.Township, Indicator: r.Indicator}
		if seen[k] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET resolved_at = ? WHERE id = ?`, at, r.ID); err != nil {
			return ch, fmt.Errorf("sync alerts: resolve %v: %w", k, err)
		}
		rec := r.record()
		t := now.UTC()
		rec.ResolvedAt = &t
		ch.Resolved = append(ch.Resolved, rec)
	}
	if err := tx.Commit(); err != nil {
		return ch, fmt.Errorf("sync alerts: commit: %w", err)
	}
	return ch, nil
}

// FiringAlerts lists the alerts that hold, oldest first.
func (db *DB) FiringAlerts(ctx context.Context) ([]AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE resolved_at IS NULL ORDER BY started_at, id`)
}

// ResolvedAlerts lists the alerts that resolved at or after since, latest first.
func (db *DB) ResolvedAlerts(ctx context.Context, since time.Time) ([]AlertRecord, error) {
	return db.alerts(ctx, `SELECT `+alertColumns+` FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at >= ? ORDER BY resolved_at DESC, id DESC`, stamp(since))
}

func (db *DB) alerts(ctx context.Context, q string, args ...any) ([]AlertRecord, error) {
	var rows []alertRow
	if err := db.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out := make([]AlertRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// Notified reports whether a message of kind for the occasion key was already sent to
// channel.
func (db *DB) Notified(ctx context.Context, channel, kind, key string) (bool, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM notifications WHERE channel = ? AND kind = ? AND key = ?`, channel, kind, key); err != nil {
		return false, fmt.Errorf("read notifications: %w", err)
	}
	return n > 0, nil
}

// RecordNotification notes that a message of kind for the occasion key was sent to
// channel at the time given; recording it again changes nothing.
func (db *DB) RecordNotification(ctx context.Context, channel, kind, key string, at time.Time) error {
	if _, err := db.db.ExecContext(ctx, `INSERT INTO notifications (channel, kind, key, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, kind, key) DO NOTHING`, channel, kind, key, stamp(at)); err != nil {
		return fmt.Errorf("record notification: %w", err)
	}
	return nil
}
