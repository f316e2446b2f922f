package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

type obsKey struct {
	t, i   int64
	period int
}

type storedValue struct {
	value float64
	den   sql.NullFloat64
}

func periodInt(p kpi.Period) int { return p.Year*100 + p.Month }

func intPeriod(v int) kpi.Period { return kpi.Period{Year: v / 100, Month: v % 100} }

// yearRange is the first and last period (YYYYMM) of a year.
func yearRange(year int) (int, int) { return year*100 + 1, year*100 + 12 }

// storedFigures is how an observation is stored: value (a ratio's numerator) and a
// denominator that is NULL for every kind but ratio.
func storedFigures(a *kpi.Assessment, o kpi.Observation) storedValue {
	if ind, ok := a.Indicator(o.Indicator); ok && ind.Kind == kpi.KindRatio {
		return storedValue{value: o.Numerator, den: sql.NullFloat64{Float64: o.Denominator, Valid: true}}
	}
	return storedValue{value: o.Value}
}

// Ingest writes a batch in one transaction: keys seen for the first time are inserted, keys
// whose value changed are corrected with the old value kept in the revision history, and
// keys re-reported with the same value are left alone. A batch that changes nothing records
// nothing, so ingesting the same file twice changes nothing. A batch that would change a
// locked month is refused whole (store.ErrLocked). The result lists what was written.
func (db *DB) Ingest(ctx context.Context, a *kpi.Assessment, b store.Batch) (store.IngestResult, error) {
	w, err := db.newWriter(ctx, a, b.BatchMeta, true)
	if err != nil {
		return store.IngestResult{Total: len(b.Observations)}, err
	}
	defer w.Abort()
	if err := w.Write(b.Observations); err != nil {
		return store.IngestResult{Total: len(b.Observations)}, err
	}
	return w.Commit()
}

// loadTownships reads the assessment's township ids by code.
func loadTownships(ctx context.Context, q sqlx.QueryerContext, assessment string, ids map[string]int64) error {
	return loadIDs(ctx, q, `SELECT id, code FROM townships WHERE assessment = ?`, ids, assessment)
}

// loadIndicators reads the indicator ids by code (indicator codes are shared by every
// assessment: the township id already says which assessment a figure belongs to).
func loadIndicators(ctx context.Context, q sqlx.QueryerContext, ids map[string]int64) error {
	return loadIDs(ctx, q, `SELECT id, code FROM indicators`, ids)
}

func loadIDs(ctx context.Context, q sqlx.QueryerContext, query string, ids map[string]int64, args ...any) error {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read codes: %w", busy(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return fmt.Errorf("read codes: %w", err)
		}
		ids[code] = id
	}
	return rows.Err()
}

// LoadDataset reads the current observations of the assessment's year into a dataset.
// Observations of townships or indicators no longer in the config are skipped and counted.
// Codes are resolved once per id, not per row, so a cold start reads rows as fast as the
// driver delivers them. The figures and the latest batch id are read in one transaction,
// so they agree.
func (db *DB) LoadDataset(ctx context.Context, a *kpi.Assessment) (*kpi.Dataset, store.LoadStats, error) {
	var st store.LoadStats
	tx, err := db.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, st, fmt.Errorf("load observations: %w", busy(err))
	}
	defer tx.Rollback()
	d := kpi.NewDataset(a)
	tcodes, icodes := map[string]int64{}, map[string]int64{}
	if err := loadTownships(ctx, tx, a.ID, tcodes); err != nil {
		return nil, st, err
	}
	if err := loadIndicators(ctx, tx, icodes); err != nil {
		return nil, st, err
	}
	if err := tx.GetContext(ctx, &st.LastBatch, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = ?`, a.ID); err != nil {
		return nil, st, fmt.Errorf("load observations: %w", busy(err))
	}
	// id → position in the config, -1 for codes the config no longer has
	tpos, ipos := positions(tcodes, a.TownshipIndex), positions(icodes, a.IndicatorIndex)
	lo, hi := yearRange(a.Year)
	rows, err := tx.QueryContext(ctx, `SELECT o.township_id, o.indicator_id, o.period, o.value, o.denominator
		FROM observations o JOIN townships t ON t.id = o.township_id
		WHERE t.assessment = ? AND o.period BETWEEN ? AND ?`, a.ID, lo, hi)
	if err != nil {
		return nil, st, fmt.Errorf("load observations: %w", busy(err))
	}
	defer rows.Close()
	for rows.Next() {
		var tid, iid int64
		var p int
		var v float64
		var den sql.NullFloat64
		if err := rows.Scan(&tid, &iid, &p, &v, &den); err != nil {
			return nil, st, fmt.Errorf("load observations: %w", err)
		}
		t, i := lookup(tpos, tid), lookup(ipos, iid)
		if t < 0 || i < 0 {
			st.Skipped++
			continue
		}
		if err := d.SetAt(t, i, p%100, v, den.Float64); err != nil {
			st.Skipped++
			continue
		}
		st.Loaded++
	}
	if err := rows.Err(); err != nil {
		return nil, st, fmt.Errorf("load observations: %w", busy(err))
	}
	return d, st, nil
}

// ChangedSince returns the current figures of every key that a batch of the assessment
// after the batch id `after` wrote: the keys whose current value carries a later batch id
// (a correction moves a key to the correcting batch, and ids never go back).
func (db *DB) ChangedSince(ctx context.Context, a *kpi.Assessment, after int64) (store.Changes, error) {
	var ch store.Changes
	tx, err := db.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ch, fmt.Errorf("changes since batch %d: %w", after, busy(err))
	}
	defer tx.Rollback()
	if err := tx.GetContext(ctx, &ch.LastBatch, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = ?`, a.ID); err != nil {
		return ch, fmt.Errorf("changes since batch %d: %w", after, busy(err))
	}
	if ch.LastBatch <= after {
		return ch, nil
	}
	lo, hi := yearRange(a.Year)
	rows, err := tx.QueryContext(ctx, `SELECT t.code, i.code, o.period, o.value, o.denominator
		FROM observations o JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.assessment = ? AND o.batch_id > ? AND o.period BETWEEN ? AND ?`, a.ID, after, lo, hi)
	if err != nil {
		return ch, fmt.Errorf("changes since batch %d: %w", after, busy(err))
	}
	defer rows.Close()
	for rows.Next() {
		var o kpi.Observation
		var p int
		var v float64
		var den sql.NullFloat64
		if err := rows.Scan(&o.Township, &o.Indicator, &p, &v, &den); err != nil {
			return ch, fmt.Errorf("changes since batch %d: %w", after, err)
		}
		o.Period = intPeriod(p)
		if den.Valid {
			o.Numerator, o.Denominator = v, den.Float64
		} else {
			o.Value = v
		}
		ch.Observations = append(ch.Observations, o)
	}
	if err := rows.Err(); err != nil {
		return ch, fmt.Errorf("changes since batch %d: %w", after, busy(err))
	}
	return ch, nil
}

// LastBatch is the id of the assessment's latest batch, 0 when none.
func (db *DB) LastBatch(ctx context.Context, assessment string) (int64, error) {
	var n int64
	if err := db.db.GetContext(ctx, &n, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = ?`, assessment); err != nil {
		return 0, fmt.Errorf("latest batch: %w", busy(err))
	}
	return n, nil
}

// positions maps database ids to config positions through index (-1 when absent).
func positions(codes map[string]int64, index func(string) int) []int {
	var maxID int64
	for _, id := range codes {
		maxID = max(maxID, id)
	}
	out := make([]int, maxID+1)
	for i := range out {
		out[i] = -1
	}
	for code, id := range codes {
		out[id] = index(code)
	}
	return out
}

func lookup(pos []int, id int64) int {
	if id < 0 || id >= int64(len(pos)) {
		return -1
	}
	return pos[id]
}

// revisionQuery lists the current value and every superseded one of an assessment's
// township (and, with `extra`, one indicator and month): the shared body of History and
// TownshipHistory. Columns: indicator code, period, value, denominator, current, batch id,
// batch time, actor, source, superseded at, superseded by.
const revisionQuery = `SELECT i.code, o.period, o.value, o.denominator, 1 AS current, b.id, b.created_at, b.actor, b.source, NULL, NULL
		FROM observations o JOIN batches b ON b.id = o.batch_id
		JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.assessment = ? AND t.code = ? AND (? = '' OR i.code = ?) AND (? = 0 OR o.period = ?)
		UNION ALL
		SELECT i.code, r.period, r.value, r.denominator, 0, b.id, b.created_at, b.actor, b.source, s.created_at, s.actor
		FROM revisions r JOIN batches b ON b.id = r.batch_id JOIN batches s ON s.id = r.superseded_by
		JOIN townships t ON t.id = r.township_id JOIN indicators i ON i.id = r.indicator_id
		WHERE t.assessment = ? AND t.code = ? AND (? = '' OR i.code = ?) AND (? = 0 OR r.period = ?)
		ORDER BY 1, 2, 7 DESC, 6 DESC`

// revisions runs revisionQuery; indicator "" means every indicator, period 0 every month.
func (db *DB) revisions(ctx context.Context, assessment, township, indicator string, period int) ([]store.IndicatorRevision, error) {
	args := []any{assessment, township, indicator, indicator, period, period}
	rows, err := db.db.QueryContext(ctx, revisionQuery, append(args, args...)...)
	if err != nil {
		return nil, busy(err)
	}
	defer rows.Close()
	var out []store.IndicatorRevision
	for rows.Next() {
		var r store.IndicatorRevision
		var per, cur int
		var den sql.NullFloat64
		var at string
		var supAt, supBy sql.NullString
		if err := rows.Scan(&r.Indicator, &per, &r.Value, &den, &cur, &r.BatchID, &at, &r.Actor, &r.Source, &supAt, &supBy); err != nil {
			return nil, err
		}
		r.Period, r.Current = intPeriod(per), cur == 1
		if den.Valid {
			d := den.Float64
			r.Denominator = &d
		}
		if r.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("batch time %q: %w", at, err)
		}
		if supAt.Valid {
			t, err := time.Parse(time.RFC3339Nano, supAt.String)
			if err != nil {
				return nil, fmt.Errorf("batch time %q: %w", supAt.String, err)
			}
			r.SupersededAt, r.SupersededBy = &t, supBy.String
		}
		out = append(out, r)
	}
	return out, busy(rows.Err())
}

// History lists every value of township × indicator, by period, newest first within a
// period. With a non-zero period only that month is listed.
func (db *DB) History(ctx context.Context, assessment, township, indicator string, period kpi.Period) ([]store.Revision, error) {
	p := 0
	if !period.IsZero() {
		p = periodInt(period)
	}
	if indicator == "" {
		return nil, fmt.Errorf("history %s: no indicator given", township)
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

type batchRow struct {
	ID        int64  `db:"id"`
	CreatedAt string `db:"created_at"`
	Actor     string `db:"actor"`
	Source    string `db:"source"`
	SHA256    string `db:"sha256"`
	Total     int    `db:"rows_total"`
	New       int    `db:"rows_new"`
	Corrected int    `db:"rows_corrected"`
}

// Batches lists the assessment's most recent accepted batches, newest first.
func (db *DB) Batches(ctx context.Context, assessment string, limit int) ([]store.BatchInfo, error) {
	var rows []batchRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT id, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected
		FROM batches WHERE assessment = ? ORDER BY id DESC LIMIT ?`, assessment, limit); err != nil {
		return nil, fmt.Errorf("list batches: %w", busy(err))
	}
	out := make([]store.BatchInfo, len(rows))
	for i, r := range rows {
		out[i] = store.BatchInfo{ID: r.ID, At: parseStamp(r.CreatedAt), Actor: r.Actor, Source: r.Source, SHA256: r.SHA256,
			Total: r.Total, New: r.New, Corrected: r.Corrected}
	}
	return out, nil
}

// LastReport is when the latest batch that still holds a current value for period p was
// written (any period when p is zero), and false when there is none.
func (db *DB) LastReport(ctx context.Context, assessment string, p kpi.Period) (time.Time, bool, error) {
	var s sql.NullString
	per := 0
	if !p.IsZero() {
		per = periodInt(p)
	}
	err := db.db.GetContext(ctx, &s, `SELECT MAX(b.created_at) FROM batches b
		WHERE b.assessment = ? AND (? = 0 OR EXISTS (SELECT 1 FROM observations o WHERE o.batch_id = b.id AND o.period = ?))`, assessment, per, per)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last report: %w", busy(err))
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	return t, err == nil, err
}

// LastReports is LastReport for every month at once: for each month of the year that has
// current values, when the latest batch holding one of them was written. It reads the
// observations once (a join on the batches' key), where LastReport probes every batch.
func (db *DB) LastReports(ctx context.Context, assessment string, year int) (map[kpi.Period]time.Time, error) {
	lo, hi := yearRange(year)
	rows, err := db.db.QueryContext(ctx, `SELECT o.period, MAX(b.created_at) FROM observations o
		JOIN batches b ON b.id = o.batch_id WHERE b.assessment = ? AND o.period BETWEEN ? AND ? GROUP BY o.period`, assessment, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("last reports: %w", busy(err))
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
		return nil, fmt.Errorf("last reports: %w", busy(err))
	}
	return out, nil
}
