package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
// nothing, so ingesting the same file twice changes nothing. A batch that would change a
// locked month is refused whole (ErrLocked). Ingest is a Writer given the whole batch at once.
func (db *DB) Ingest(ctx context.Context, a *kpi.Assessment, b Batch) (IngestResult, error) {
	w, err := db.NewWriter(ctx, a, b.Actor, b.Source, b.SHA256, true)
	if err != nil {
		return IngestResult{Total: len(b.Observations)}, err
	}
	defer w.Abort()
	if err := w.Write(b.Observations); err != nil {
		return IngestResult{Total: len(b.Observations)}, err
	}
	return w.Commit()
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

// BatchCount is the number of batches recorded; it grows with every batch that changed data,
// whoever wrote it.
func (db *DB) BatchCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM batches`); err != nil {
		return 0, fmt.Errorf("count batches: %w", err)
	}
	return n, nil
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
