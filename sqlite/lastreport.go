package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// LastReports is LastReport for every month at once: for each month of the year that has
// current values, when the latest batch holding one of them was written. It reads the
// observations once (a join on the batches' key), where LastReport probes every batch.
func (db *DB) LastReports(ctx context.Context, year int) (map[kpi.Period]time.Time, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT o.period, MAX(b.created_at) FROM observations o
		JOIN batches b ON b.id = o.batch_id WHERE o.period BETWEEN ? AND ? GROUP BY o.period`, year*100+1, year*100+12)
	if err != nil {
		return nil, fmt.Errorf("last reports: %w", err)
	}
	defer rows.Close()
	out := map[kpi.Period]time.Time{}
	for rows.Next() {
		var p int
		var at string
		if err := rows.Scan(&p, &at); err != nil {
			return nil, fmt.Errorf("last reports: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("last reports: batch time %q: %w", at, err)
		}
		out[intPeriod(p)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last reports: %w", err)
	}
	return out, nil
}
