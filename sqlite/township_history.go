package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// IndicatorRevision is a Revision of one of a township's indicators.
type IndicatorRevision struct {
	Indicator string // code
	Revision
}

// TownshipHistory is History for every indicator of a township in one query: every value
// each of its township × indicator × month keys has had, by indicator code and period,
// newest first within a period.
func (db *DB) TownshipHistory(ctx context.Context, township string) ([]IndicatorRevision, error) {
	q := `SELECT i.code, o.period, o.value, o.denominator, 1 AS current, b.id, b.created_at, b.actor, b.source, NULL, NULL
		FROM observations o JOIN batches b ON b.id = o.batch_id
		JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.code = ?
		UNION ALL
		SELECT i.code, r.period, r.value, r.denominator, 0, b.id, b.created_at, b.actor, b.source, s.created_at, s.actor
		FROM revisions r JOIN batches b ON b.id = r.batch_id JOIN batches s ON s.id = r.superseded_by
		JOIN townships t ON t.id = r.township_id JOIN indicators i ON i.id = r.indicator_id
		WHERE t.code = ?
		ORDER BY 1, 2, 7 DESC, 6 DESC`
	rows, err := db.db.QueryContext(ctx, q, township, township)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", township, err)
	}
	defer rows.Close()
	var out []IndicatorRevision
	for rows.Next() {
		var r IndicatorRevision
		var per, cur int
		var den sql.NullFloat64
		var at string
		var supAt, supBy sql.NullString
		if err := rows.Scan(&r.Indicator, &per, &r.Value, &den, &cur, &r.BatchID, &at, &r.Actor, &r.Source, &supAt, &supBy); err != nil {
			return nil, fmt.Errorf("history of %s: %w", township, err)
		}
		r.Period, r.Current = kpi.Period{Year: per / 100, Month: per % 100}, cur == 1
		if den.Valid {
			d := den.Float64
			r.Denominator = &d
		}
		if r.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("history of %s: batch time %q: %w", township, at, err)
		}
		if supAt.Valid {
			t, err := time.Parse(time.RFC3339Nano, supAt.String)
			if err != nil {
				return nil, fmt.Errorf("history of %s: batch time %q: %w", township, supAt.String, err)
			}
			r.SupersededAt, r.SupersededBy = &t, supBy.String
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
