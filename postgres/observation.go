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

// LoadDataset reads the current observations of the assessment's year into a dataset.
// Observations of townships or indicators no longer in the config are skipped and counted.
// Codes are resolved once per id, not per row. The figures and the latest batch id are
// read from one snapshot, so they agree.
func (db *DB) LoadDataset(ctx context.Context, a *kpi.Assessment) (*kpi.Dataset, store.LoadStats, error) {
	var st store.LoadStats
	d := kpi.NewDataset(a)
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		tcodes, icodes := map[string]int32{}, map[string]int32{}
		if err := loadTownships(ctx, tx, a.ID, tcodes); err != nil {
			return err
		}
		if err := loadIndicators(ctx, tx, icodes); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = $1`, a.ID).Scan(&st.LastBatch); err != nil {
			return err
		}
		// id → position in the config, -1 for codes the config no longer has
		tpos, ipos := positions(tcodes, a.TownshipIndex), positions(icodes, a.IndicatorIndex)
		lo, hi := yearRange(a.Year)
		rows, err := tx.Query(ctx, `SELECT o.township_id, o.indicator_id, o.period, o.value, o.denominator
			FROM observations o JOIN townships t ON t.id = o.township_id
			WHERE t.assessment = $1 AND o.period BETWEEN $2 AND $3`, a.ID, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		var tid, iid, p int32
		var v float64
		var den *float64
		scan := []any{&tid, &iid, &p, &v, &den}
		for rows.Next() {
			if err := rows.Scan(scan...); err != nil {
				return err
			}
			t, i := lookup(tpos, tid), lookup(ipos, iid)
			if t < 0 || i < 0 {
				st.Skipped++
				continue
			}
			var dv float64
			if den != nil {
				dv = *den
			}
			if err := d.SetAt(t, i, int(p)%100, v, dv); err != nil {
				st.Skipped++
				continue
			}
			st.Loaded++
		}
		return rows.Err()
	})
	if err != nil {
		return nil, store.LoadStats{}, fmt.Errorf("load observations: %w", unavailable(err))
	}
	return d, st, nil
}

// positions maps database ids to config positions through index (-1 when absent).
func positions(codes map[string]int32, index func(string) int) []int {
	var maxID int32
	for _, id := range codes {
		maxID = max(maxID, id)
	}
	out := make([]int, maxID+1)
	for i := range out {
		out[i] = -1
	}
	for code, id := range codes {
		if id >= 0 {
			out[id] = index(code)
		}
	}
	return out
}

func lookup(pos []int, id int32) int {
	if id < 0 || int(id) >= len(pos) {
		return -1
	}
	return pos[id]
}

// observation turns stored figures back into an observation.
func observation(township, indicator string, period int, v float64, den *float64) kpi.Observation {
	o := kpi.Observation{Township: township, Indicator: indicator, Period: intPeriod(period)}
	if den != nil {
		o.Numerator, o.Denominator = v, *den
	} else {
		o.Value = v
	}
	return o
}

// ChangedSince returns the current figures of every key that a batch of the assessment
// after the batch id `after` wrote: the keys whose current value carries a later batch id
// (a correction moves a key to the correcting batch, and ids never go back). The index on
// observations' batch id makes it read only those rows.
func (db *DB) ChangedSince(ctx context.Context, a *kpi.Assessment, after int64) (store.Changes, error) {
	var ch store.Changes
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = $1`, a.ID).Scan(&ch.LastBatch); err != nil {
			return err
		}
		if ch.LastBatch <= after {
			return nil
		}
		lo, hi := yearRange(a.Year)
		return queryOn(ctx, tx, `SELECT t.code, i.code, o.period, o.value, o.denominator
			FROM observations o JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
			WHERE t.assessment = $1 AND o.batch_id > $2 AND o.period BETWEEN $3 AND $4`, []any{a.ID, after, lo, hi}, func(r pgx.Rows) error {
			var tw, ind string
			var p int
			var v float64
			var den *float64
			if err := r.Scan(&tw, &ind, &p, &v, &den); err != nil {
				return err
			}
			ch.Observations = append(ch.Observations, observation(tw, ind, p, v, den))
			return nil
		})
	})
	if err != nil {
		return store.Changes{}, fmt.Errorf("changes since batch %d: %w", after, unavailable(err))
	}
	return ch, nil
}

// LastBatch is the id of the assessment's latest batch, 0 when none.
func (db *DB) LastBatch(ctx context.Context, assessment string) (int64, error) {
	var n int64
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = $1`, assessment).Scan(&n); err != nil {
		return 0, fmt.Errorf("latest batch: %w", err)
	}
	return n, nil
}

// revisionQuery lists the current value and every superseded one of an assessment's
// township (and, with $3 and $4, one indicator and month): the shared body of History and
// TownshipHistory. Columns: indicator code, period, value, denominator, current, batch id,
// batch time, actor, source, superseded at, superseded by.
const revisionQuery = `SELECT i.code, o.period, o.value, o.denominator, TRUE AS current, b.id, b.created_at, b.actor, b.source,
			NULL::timestamptz, NULL::text
		FROM observations o JOIN batches b ON b.id = o.batch_id
		JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.assessment = $1 AND t.code = $2 AND ($3::text = '' OR i.code = $3) AND ($4::integer = 0 OR o.period = $4)
		UNION ALL
		SELECT i.code, r.period, r.value, r.denominator, FALSE, b.id, b.created_at, b.actor, b.source, s.created_at, s.actor
		FROM revisions r JOIN batches b ON b.id = r.batch_id JOIN batches s ON s.id = r.superseded_by
		JOIN townships t ON t.id = r.township_id JOIN indicators i ON i.id = r.indicator_id
		WHERE t.assessment = $1 AND t.code = $2 AND ($3::text = '' OR i.code = $3) AND ($4::integer = 0 OR r.period = $4)
		ORDER BY 1, 2, 7 DESC, 6 DESC`

// revisions runs revisionQuery; indicator "" means every indicator, period 0 every month.
func (db *DB) revisions(ctx context.Context, assessment, township, indicator string, period int) ([]store.IndicatorRevision, error) {
	var out []store.IndicatorRevision
	err := db.query(ctx, revisionQuery, []any{assessment, township, indicator, period}, func(r pgx.Rows) error {
		var rv store.IndicatorRevision
		var per int
		var supAt *time.Time
		var supBy *string
		if err := r.Scan(&rv.Indicator, &per, &rv.Value, &rv.Denominator, &rv.Current, &rv.BatchID, &rv.At, &rv.Actor, &rv.Source, &supAt, &supBy); err != nil {
			return err
		}
		rv.Period, rv.At = intPeriod(per), utc(rv.At)
		if supAt != nil {
			rv.SupersededAt = utcPtr(supAt)
			if supBy != nil {
				rv.SupersededBy = *supBy
			}
		}
		out = append(out, rv)
		return nil
	})
	return out, err
}

// History lists every value of township × indicator, by period, newest first within a
// period. With a non-zero period only that month is listed.
func (db *DB) History(ctx context.Context, assessment, township, indicator string, period kpi.Period) ([]store.Revision, error) {
	if indicator == "" {
		return nil, fmt.Errorf("history %s: no indicator given", township)
	}
	p := 0
	if !period.IsZero() {
		p = periodInt(period)
	}
	revs, err := db.revisions(ctx, assessment, township, indicator, p)
	if err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", township, indicator, err)
	}
	out := make([]store.Revision, len(revs))
	for i, r := range revs {
		out[i] = r.Revision
	}
	return out, nil
}

// TownshipHistory is History for every indicator of a township in one query, by indicator
// code and period, newest first within a period.
func (db *DB) TownshipHistory(ctx context.Context, assessment, township string) ([]store.IndicatorRevision, error) {
	out, err := db.revisions(ctx, assessment, township, "", 0)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", township, err)
	}
	return out, nil
}

// Batches lists the assessment's most recent accepted batches, newest first: at most limit
// of them, every one when limit is negative (as SQLite's LIMIT -1).
func (db *DB) Batches(ctx context.Context, assessment string, limit int) ([]store.BatchInfo, error) {
	var lim any // NULL: no limit
	if limit >= 0 {
		lim = limit
	}
	var out []store.BatchInfo
	err := db.query(ctx, `SELECT id, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected
		FROM batches WHERE assessment = $1 ORDER BY id DESC LIMIT $2`, []any{assessment, lim}, func(r pgx.Rows) error {
		var b store.BatchInfo
		if err := r.Scan(&b.ID, &b.At, &b.Actor, &b.Source, &b.SHA256, &b.Total, &b.New, &b.Corrected); err != nil {
			return err
		}
		b.At = utc(b.At)
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return out, nil
}

// LastReport is when the latest batch that still holds a current value for period p was
// written (any period when p is zero), and false when there is none.
func (db *DB) LastReport(ctx context.Context, assessment string, p kpi.Period) (time.Time, bool, error) {
	per := 0
	if !p.IsZero() {
		per = periodInt(p)
	}
	var at *time.Time
	err := db.queryRow(ctx, `SELECT MAX(b.created_at) FROM batches b
		WHERE b.assessment = $1 AND ($2::integer = 0 OR EXISTS (SELECT 1 FROM observations o WHERE o.batch_id = b.id AND o.period = $2))`,
		assessment, per).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last report: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return utc(*at), true, nil
}

// LastReports is LastReport for every month at once: for each month of the year that has
// current values, when the latest batch holding one of them was written.
func (db *DB) LastReports(ctx context.Context, assessment string, year int) (map[kpi.Period]time.Time, error) {
	lo, hi := yearRange(year)
	out := map[kpi.Period]time.Time{}
	err := db.query(ctx, `SELECT o.period, MAX(b.created_at) FROM observations o
		JOIN batches b ON b.id = o.batch_id WHERE b.assessment = $1 AND o.period BETWEEN $2 AND $3 GROUP BY o.period`,
		[]any{assessment, lo, hi}, func(r pgx.Rows) error {
			var p int
			var at time.Time
			if err := r.Scan(&p, &at); err != nil {
				return err
			}
			out[intPeriod(p)] = utc(at)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("last reports: %w", err)
	}
	return out, nil
}

// ClaimLegacy does nothing: a PostgreSQL database never held records from before
// assessments existed.
func (db *DB) ClaimLegacy(ctx context.Context, assessment string, year int) (bool, error) {
	if assessment == "" {
		return false, errors.New("claim legacy records: no assessment id")
	}
	return false, nil
}
