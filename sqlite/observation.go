package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kpimon/kpimon/kpi"
)

// Batch is one valid batch to write, with where it came from.
type Batch struct {
	Actor        string // who: a token's name, or the user running the CLI
	Source       string // file names, or "api"
	SHA256       string // digest of the bytes received
	Observations []kpi.Observation
}

// IngestResult says what a batch changed.
type IngestResult struct {
	BatchID   int64             // 0 when nothing changed and no batch was recorded
	Total     int               // observations in the batch
	New       int               // keys reported for the first time
	Corrected int               // keys whose value changed (the old value kept as a revision)
	Unchanged int               // keys re-reported with the same value
	Written   []kpi.Observation // the new and corrected observations
}

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
// nothing, so ingesting the same file twice changes nothing.
func (db *DB) Ingest(ctx context.Context, a *kpi.Assessment, b Batch) (IngestResult, error) {
	res := IngestResult{Total: len(b.Observations)}
	if len(b.Observations) == 0 {
		return res, nil
	}
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("ingest: begin: %w", err)
	}
	defer tx.Rollback()

	tids, err := ensureCodes(ctx, tx, "townships", b.Observations, func(o kpi.Observation) string { return o.Township })
	if err != nil {
		return res, err
	}
	iids, err := ensureCodes(ctx, tx, "indicators", b.Observations, func(o kpi.Observation) string { return o.Indicator })
	if err != nil {
		return res, err
	}
	existing, err := loadExisting(ctx, tx, b.Observations, tids, iids)
	if err != nil {
		return res, err
	}
	type row struct {
		k obsKey
		v storedValue
	}
	var fresh, changed []row
	for _, o := range b.Observations {
		k := obsKey{tids[o.Township], iids[o.Indicator], periodInt(o.Period)}
		v := storedFigures(a, o)
		old, ok := existing[k]
		switch {
		case !ok:
			fresh = append(fresh, row{k, v})
		case old == v:
			res.Unchanged++
			continue
		default:
			changed = append(changed, row{k, v})
		}
		res.Written = append(res.Written, o)
	}
	res.New, res.Corrected = len(fresh), len(changed)
	if len(fresh)+len(changed) == 0 {
		res.Written = nil
		return res, nil
	}
	// A batch that would change a locked month is refused whole (lock.go); re-reporting
	// a locked month's figures unchanged writes nothing there and is let through.
	touched := map[int]bool{}
	for _, c := range append(append([]row(nil), fresh...), changed...) {
		touched[c.k.period] = true
	}
	if err := refuseLocked(ctx, tx, touched); err != nil {
		return IngestResult{Total: res.Total}, err
	}
	at := db.now().UTC().Format(time.RFC3339Nano)
	r, err := tx.ExecContext(ctx, `INSERT INTO batches (created_at, actor, source, sha256, rows_total, rows_new, rows_corrected)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, at, b.Actor, b.Source, b.SHA256, res.Total, res.New, res.Corrected)
	if err != nil {
		return res, fmt.Errorf("ingest: record batch: %w", err)
	}
	if res.BatchID, err = r.LastInsertId(); err != nil {
		return res, fmt.Errorf("ingest: record batch: %w", err)
	}
	if len(changed) > 0 {
		keep, err := tx.PrepareContext(ctx, `INSERT INTO revisions (township_id, indicator_id, period, value, denominator, batch_id, superseded_by)
			SELECT township_id, indicator_id, period, value, denominator, batch_id, ? FROM observations
			WHERE township_id = ? AND indicator_id = ? AND period = ?`)
		if err != nil {
			return res, fmt.Errorf("ingest: prepare: %w", err)
		}
		defer keep.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE observations SET value = ?, denominator = ?, batch_id = ?
			WHERE township_id = ? AND indicator_id = ? AND period = ?`)
		if err != nil {
			return res, fmt.Errorf("ingest: prepare: %w", err)
		}
		defer upd.Close()
		for _, c := range changed {
			if _, err := keep.ExecContext(ctx, res.BatchID, c.k.t, c.k.i, c.k.period); err != nil {
				return res, fmt.Errorf("ingest: keep revision: %w", err)
			}
			if _, err := upd.ExecContext(ctx, c.v.value, c.v.den, res.BatchID, c.k.t, c.k.i, c.k.period); err != nil {
				return res, fmt.Errorf("ingest: correct: %w", err)
			}
		}
	}
	// New keys go in multi-row INSERTs of insertChunk rows through one prepared statement.
	const insertChunk = 256
	var full *sql.Stmt
	args := make([]any, 0, insertChunk*6)
	flush := func(rows []row) error {
		args = args[:0]
		for _, f := range rows {
			args = append(args, f.k.t, f.k.i, f.k.period, f.v.value, f.v.den, res.BatchID)
		}
		if len(rows) == insertChunk {
			if full == nil {
				var err error
				if full, err = tx.PrepareContext(ctx, insertSQL(insertChunk)); err != nil {
					return err
				}
			}
			_, err := full.ExecContext(ctx, args...)
			return err
		}
		_, err := tx.ExecContext(ctx, insertSQL(len(rows)), args...)
		return err
	}
	for start := 0; start < len(fresh); start += insertChunk {
		end := min(start+insertChunk, len(fresh))
		if err := flush(fresh[start:end]); err != nil {
			return res, fmt.Errorf("ingest: insert: %w", err)
		}
		if start%(insertChunk*64) == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
	}
	if full != nil {
		full.Close()
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("ingest: commit: %w", err)
	}
	return res, nil
}

func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO observations (township_id, indicator_id, period, value, denominator, batch_id) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(?,?,?,?,?,?)")
	}
	return b.String()
}

// ensureCodes makes sure every code the batch names has an id in table, and returns them.
func ensureCodes(ctx context.Context, tx *sqlx.Tx, table string, obs []kpi.Observation, code func(kpi.Observation) string) (map[string]int64, error) {
	ids := map[string]int64{}
	if err := loadCodes(ctx, tx, table, ids); err != nil {
		return nil, err
	}
	var missing []string
	seen := map[string]bool{}
	for _, o := range obs {
		c := code(o)
		if _, ok := ids[c]; !ok && !seen[c] {
			seen[c] = true
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	sort.Strings(missing)
	for _, c := range missing {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (code) VALUES (?) ON CONFLICT (code) DO NOTHING`, c); err != nil {
			return nil, fmt.Errorf("ingest: add %s %q: %w", table, c, err)
		}
	}
	return ids, loadCodes(ctx, tx, table, ids)
}

func loadCodes(ctx context.Context, q sqlx.QueryerContext, table string, ids map[string]int64) error {
	rows, err := q.QueryxContext(ctx, `SELECT id, code FROM `+table)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		ids[code] = id
	}
	return rows.Err()
}

// loadExisting reads the current values of the keys a batch touches: key by key for a small
// batch, period by period for a large one.
func loadExisting(ctx context.Context, tx *sqlx.Tx, obs []kpi.Observation, tids, iids map[string]int64) (map[obsKey]storedValue, error) {
	out := map[obsKey]storedValue{}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM observations LIMIT 1) x`); err != nil {
		return nil, fmt.Errorf("ingest: read current values: %w", err)
	}
	if n == 0 {
		return out, nil
	}
	if len(obs) <= 200 {
		stmt, err := tx.PreparexContext(ctx, `SELECT value, denominator FROM observations WHERE township_id = ? AND indicator_id = ? AND period = ?`)
		if err != nil {
			return nil, fmt.Errorf("ingest: read current values: %w", err)
		}
		defer stmt.Close()
		for _, o := range obs {
			k := obsKey{tids[o.Township], iids[o.Indicator], periodInt(o.Period)}
			var v storedValue
			err := stmt.QueryRowContext(ctx, k.t, k.i, k.period).Scan(&v.value, &v.den)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return nil, fmt.Errorf("ingest: read current values: %w", err)
			default:
				out[k] = v
			}
		}
		return out, nil
	}
	periods := map[int]bool{}
	for _, o := range obs {
		periods[periodInt(o.Period)] = true
	}
	for p := range periods {
		rows, err := tx.QueryContext(ctx, `SELECT township_id, indicator_id, value, denominator FROM observations WHERE period = ?`, p)
		if err != nil {
			return nil, fmt.Errorf("ingest: read current values: %w", err)
		}
		for rows.Next() {
			k := obsKey{period: p}
			var v storedValue
			if err := rows.Scan(&k.t, &k.i, &v.value, &v.den); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ingest: read current values: %w", err)
			}
			out[k] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadStats says what LoadDataset read.
type LoadStats struct {
	Loaded  int // observations held in the dataset
	Skipped int // observations of townships or indicators the config no longer has
}

// LoadDataset reads the current observations of the assessment's year into a dataset.
// Observations of townships or indicators no longer in the config are skipped and counted.
// Codes are resolved once per id, not per row, so a cold start reads rows as fast as the
// driver delivers them.
func (db *DB) LoadDataset(ctx context.Context, a *kpi.Assessment) (*kpi.Dataset, LoadStats, error) {
	var st LoadStats
	d := kpi.NewDataset(a)
	tcodes, icodes := map[string]int64{}, map[string]int64{}
	if err := loadCodes(ctx, db.db, "townships", tcodes); err != nil {
		return nil, st, err
	}
	if err := loadCodes(ctx, db.db, "indicators", icodes); err != nil {
		return nil, st, err
	}
	// id → position in the config, -1 for codes the config no longer has
	tpos, ipos := positions(tcodes, a.TownshipIndex), positions(icodes, a.IndicatorIndex)
	rows, err := db.db.QueryContext(ctx, `SELECT township_id, indicator_id, period, value, denominator
		FROM observations WHERE period BETWEEN ? AND ?`, a.Year*100+1, a.Year*100+12)
	if err != nil {
		return nil, st, fmt.Errorf("load observations: %w", err)
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
		return nil, st, fmt.Errorf("load observations: %w", err)
	}
	return d, st, nil
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

// Revision is one value a township × indicator × period has had.
type Revision struct {
	Period       kpi.Period `json:"period"`
	Value        float64    `json:"value"`                 // a ratio's numerator
	Denominator  *float64   `json:"denominator,omitempty"` // ratios only
	Current      bool       `json:"current"`
	BatchID      int64      `json:"batch_id"`
	At           time.Time  `json:"at"` // when the value was written
	Actor        string     `json:"actor"`
	Source       string     `json:"source"`
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
	SupersededBy string     `json:"superseded_by,omitempty"` // who replaced it
}

// History lists every value of township × indicator, by period, newest first within a
// period. With a non-zero period only that month is listed.
func (db *DB) History(ctx context.Context, township, indicator string, period kpi.Period) ([]Revision, error) {
	q := `SELECT o.period, o.value, o.denominator, 1 AS current, b.id, b.created_at, b.actor, b.source, NULL, NULL
		FROM observations o JOIN batches b ON b.id = o.batch_id
		JOIN townships t ON t.id = o.township_id JOIN indicators i ON i.id = o.indicator_id
		WHERE t.code = ? AND i.code = ? AND (? = 0 OR o.period = ?)
		UNION ALL
		SELECT r.period, r.value, r.denominator, 0, b.id, b.created_at, b.actor, b.source, s.created_at, s.actor
		FROM revisions r JOIN batches b ON b.id = r.batch_id JOIN batches s ON s.id = r.superseded_by
		JOIN townships t ON t.id = r.township_id JOIN indicators i ON i.id = r.indicator_id
		WHERE t.code = ? AND i.code = ? AND (? = 0 OR r.period = ?)
		ORDER BY 1, 6 DESC, 5 DESC`
	p := 0
	if !period.IsZero() {
		p = periodInt(period)
	}
	rows, err := db.db.QueryContext(ctx, q, township, indicator, p, p, township, indicator, p, p)
	if err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", township, indicator, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var per, cur int
		var den sql.NullFloat64
		var at string
		var supAt, supBy sql.NullString
		if err := rows.Scan(&per, &r.Value, &den, &cur, &r.BatchID, &at, &r.Actor, &r.Source, &supAt, &supBy); err != nil {
			return nil, fmt.Errorf("history %s/%s: %w", township, indicator, err)
		}
		r.Period, r.Current = intPeriod(per), cur == 1
		if den.Valid {
			d := den.Float64
			r.Denominator = &d
		}
		r.At, _ = time.Parse(time.RFC3339Nano, at)
		if supAt.Valid {
			t, _ := time.Parse(time.RFC3339Nano, supAt.String)
			r.SupersededAt, r.SupersededBy = &t, supBy.String
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// BatchInfo is one accepted batch, for the audit trail.
type BatchInfo struct {
	ID        int64     `json:"id" db:"id"`
	At        time.Time `json:"at" db:"-"`
	CreatedAt string    `json:"-" db:"created_at"`
	Actor     string    `json:"actor" db:"actor"`
	Source    string    `json:"source" db:"source"`
	SHA256    string    `json:"sha256" db:"sha256"`
	Total     int       `json:"rows_total" db:"rows_total"`
	New       int       `json:"rows_new" db:"rows_new"`
	Corrected int       `json:"rows_corrected" db:"rows_corrected"`
}

// Batches lists the most recent accepted batches, newest first.
func (db *DB) Batches(ctx context.Context, limit int) ([]BatchInfo, error) {
	var out []BatchInfo
	if err := db.db.SelectContext(ctx, &out, `SELECT id, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected
		FROM batches ORDER BY id DESC LIMIT ?`, limit); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	for i := range out {
		out[i].At, _ = time.Parse(time.RFC3339Nano, out[i].CreatedAt)
	}
	return out, nil
}

// LastReport is when the latest batch that still holds a current value for period p was
// written (any period when p is zero), and false when there is none.
func (db *DB) LastReport(ctx context.Context, p kpi.Period) (time.Time, bool, error) {
	var s sql.NullString
	per := 0
	if !p.IsZero() {
		per = periodInt(p)
	}
	err := db.db.GetContext(ctx, &s, `SELECT MAX(b.created_at) FROM batches b
		WHERE ? = 0 OR EXISTS (SELECT 1 FROM observations o WHERE o.batch_id = b.id AND o.period = ?)`, per, per)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last report: %w", err)
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	return t, err == nil, err
}
