package sqlite

import (
	"context"
	"fmt"
	"time"
)

// ClaimLegacy gives the assessment the records of its year that a kpimon from before
// assessments existed wrote (assessment ”): the townships' figures and revisions of that
// year, the batches that wrote them, that year's locks, alerts and notifications, and the
// tokens (which then belong to this assessment). A township whose legacy figures span
// several years keeps the other years' figures for the assessments of those years to
// claim. It reports whether anything was claimed; with nothing legacy it changes nothing.
func (db *DB) ClaimLegacy(ctx context.Context, assessment string, year int) (bool, error) {
	if assessment == "" {
		return false, fmt.Errorf("claim legacy records: no assessment id")
	}
	var legacy int
	if err := db.db.GetContext(ctx, &legacy, `SELECT
		(SELECT COUNT(*) FROM townships WHERE assessment = '') + (SELECT COUNT(*) FROM batches WHERE assessment = '') +
		(SELECT COUNT(*) FROM period_locks WHERE assessment = '') + (SELECT COUNT(*) FROM alerts WHERE assessment = '') +
		(SELECT COUNT(*) FROM tokens WHERE assessment = '') + (SELECT COUNT(*) FROM notifications WHERE assessment = '')`); err != nil {
		return false, fmt.Errorf("claim legacy records: %w", busy(err))
	}
	if legacy == 0 {
		return false, nil
	}
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("claim legacy records: %w", busy(err))
	}
	defer tx.Rollback()
	lo, hi := yearRange(year)
	var towns []struct {
		ID   int64  `db:"id"`
		Code string `db:"code"`
	}
	if err := tx.SelectContext(ctx, &towns, `SELECT id, code FROM townships WHERE assessment = ''`); err != nil {
		return false, fmt.Errorf("claim legacy records: %w", err)
	}
	claimed := false
	for _, t := range towns {
		var inYear, outside, mine int
		if err := tx.GetContext(ctx, &inYear, `SELECT (SELECT COUNT(*) FROM observations WHERE township_id = ? AND period BETWEEN ? AND ?)
			+ (SELECT COUNT(*) FROM revisions WHERE township_id = ? AND period BETWEEN ? AND ?)`, t.ID, lo, hi, t.ID, lo, hi); err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		if inYear == 0 {
			continue
		}
		claimed = true
		if err := tx.GetContext(ctx, &outside, `SELECT (SELECT COUNT(*) FROM observations WHERE township_id = ? AND period NOT BETWEEN ? AND ?)
			+ (SELECT COUNT(*) FROM revisions WHERE township_id = ? AND period NOT BETWEEN ? AND ?)`, t.ID, lo, hi, t.ID, lo, hi); err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		if err := tx.GetContext(ctx, &mine, `SELECT COUNT(*) FROM townships WHERE assessment = ? AND code = ?`, assessment, t.Code); err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		if outside == 0 && mine == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE townships SET assessment = ? WHERE id = ?`, assessment, t.ID); err != nil {
				return false, fmt.Errorf("claim legacy records: %w", err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO townships (assessment, code) VALUES (?, ?) ON CONFLICT (assessment, code) DO NOTHING`, assessment, t.Code); err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `SELECT id FROM townships WHERE assessment = ? AND code = ?`, assessment, t.Code); err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		for _, table := range []string{"observations", "revisions"} {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET township_id = ? WHERE township_id = ? AND period BETWEEN ? AND ?`, id, t.ID, lo, hi); err != nil {
				return false, fmt.Errorf("claim legacy records: %w", err)
			}
		}
	}
	steps := []struct {
		q    string
		args []any
	}{
		{`UPDATE batches SET assessment = ? WHERE assessment = '' AND (
			id IN (SELECT o.batch_id FROM observations o JOIN townships t ON t.id = o.township_id WHERE t.assessment = ?)
			OR id IN (SELECT r.batch_id FROM revisions r JOIN townships t ON t.id = r.township_id WHERE t.assessment = ?)
			OR id IN (SELECT r.superseded_by FROM revisions r JOIN townships t ON t.id = r.township_id WHERE t.assessment = ?))`,
			[]any{assessment, assessment, assessment, assessment}},
		{`UPDATE period_locks SET assessment = ? WHERE assessment = '' AND period BETWEEN ? AND ?`, []any{assessment, lo, hi}},
		{`UPDATE lock_events SET assessment = ? WHERE assessment = '' AND period BETWEEN ? AND ?`, []any{assessment, lo, hi}},
		{`UPDATE alerts SET assessment = ? WHERE assessment = '' AND period BETWEEN ? AND ?`, []any{assessment, lo, hi}},
		{`UPDATE notifications SET assessment = ? WHERE assessment = '' AND key LIKE ?`, []any{assessment, fmt.Sprintf("%04d-%%", year)}},
		{`UPDATE tokens SET assessment = ? WHERE assessment = ''`, []any{assessment}},
	}
	for _, s := range steps {
		r, err := tx.ExecContext(ctx, s.q, s.args...)
		if err != nil {
			return false, fmt.Errorf("claim legacy records: %w", err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			claimed = true
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("claim legacy records: %w", busy(err))
	}
	return claimed, nil
}

// watchInterval is how often WatchBatches looks for batches written by another process.
const watchInterval = time.Second

// WatchBatches calls f with an assessment's id soon after a batch of it is committed by any
// process, until ctx is done. SQLite has no notifications between processes, so it looks
// at the latest batch id of every assessment once a second (one indexed query).
func (db *DB) WatchBatches(ctx context.Context, f func(assessment string)) error {
	last := map[string]int64{}
	read := func() (map[string]int64, error) {
		rows, err := db.db.QueryContext(ctx, `SELECT assessment, MAX(id) FROM batches GROUP BY assessment`)
		if err != nil {
			return nil, busy(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var a string
			var id int64
			if err := rows.Scan(&a, &id); err != nil {
				return nil, err
			}
			out[a] = id
		}
		return out, rows.Err()
	}
	var err error
	if last, err = read(); err != nil && ctx.Err() == nil {
		last = map[string]int64{}
	}
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now, err := read()
		if err != nil {
			continue // busy or briefly unavailable: look again at the next tick
		}
		for a, id := range now {
			if last[a] != id {
				f(a)
			}
		}
		last = now
	}
}
