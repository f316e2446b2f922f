package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Ingest writes a batch in one transaction: keys seen for the first time are inserted, keys
// whose value changed are corrected with the old value kept in the revision history, and
// keys re-reported with the same value are left alone. A batch that changes nothing records
// nothing. A batch that would change a locked month is refused whole (store.ErrLocked). The
// result lists what was written.
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

// NewWriter begins a batch of the assessment that arrives in chunks.
func (db *DB) NewWriter(ctx context.Context, a *kpi.Assessment, meta store.BatchMeta) (store.Writer, error) {
	return db.newWriter(ctx, a, meta, false)
}

// Writer writes one batch that arrives in chunks (a large file read while it is written)
// in one transaction that holds the assessment's advisory lock from the start, so nothing
// of it is visible until Commit, batches of the assessment are written one at a time, and
// Abort leaves the database as it was.
//
// Into an assessment without figures every key is new, and each chunk is copied straight
// into observations. Otherwise chunks are copied into a temporary table and Commit
// classifies and writes them in a few set-based statements.
type Writer struct {
	ctx  context.Context
	db   *DB
	a    *kpi.Assessment
	conn *pgxpool.Conn
	tx   pgx.Tx
	meta store.BatchMeta

	tids, iids  map[string]int32
	locked      map[int]bool // the assessment's locked months (YYYYMM), read under its lock
	empty       bool         // the assessment had no figure when the batch began
	staging     bool         // the temporary table exists
	keepWritten bool
	kept        []kpi.Observation // the staged observations in order, for Written

	res  store.IngestResult
	rows [][]any // reused COPY rows
	done bool
}

// newWriter begins a batch. keepWritten asks Commit to return the new and corrected
// observations (the server publishes them); a command-line ingest does not need them.
func (db *DB) newWriter(ctx context.Context, a *kpi.Assessment, meta store.BatchMeta, keepWritten bool) (*Writer, error) {
	c, err := db.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		c.Release()
		return nil, fmt.Errorf("ingest: begin: %w", unavailable(err))
	}
	w := &Writer{ctx: ctx, db: db, a: a, conn: c, tx: tx, meta: meta, tids: map[string]int32{}, iids: map[string]int32{},
		locked: map[int]bool{}, keepWritten: keepWritten}
	if err := w.begin(); err != nil {
		w.Abort()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return w, nil
}

// begin takes the assessment's lock and reads what the batch needs to know.
func (w *Writer) begin() error {
	ctx, tx := w.ctx, w.tx
	if err := w.db.advisoryXactLock(ctx, tx, "assessment", w.a.ID); err != nil {
		return err
	}
	var has bool
	if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT MAX(id) FROM batches WHERE assessment = $1), 0),
		EXISTS (SELECT 1 FROM observations o JOIN townships t ON t.id = o.township_id WHERE t.assessment = $1)`,
		w.a.ID).Scan(&w.res.PreviousBatch, &has); err != nil {
		return unavailable(err)
	}
	w.empty = !has
	if err := queryOn(ctx, tx, `SELECT period FROM period_locks WHERE assessment = $1`, []any{w.a.ID}, func(r pgx.Rows) error {
		var p int
		err := r.Scan(&p)
		w.locked[p] = true
		return err
	}); err != nil {
		return err
	}
	if err := loadTownships(ctx, tx, w.a.ID, w.tids); err != nil {
		return err
	}
	return loadIndicators(ctx, tx, w.iids)
}

// loadTownships reads the assessment's township ids by code.
func loadTownships(ctx context.Context, q querier, assessment string, ids map[string]int32) error {
	return loadIDs(ctx, q, `SELECT id, code FROM townships WHERE assessment = $1`, ids, assessment)
}

// loadIndicators reads the indicator ids by code (indicator codes are shared by every
// assessment: the township id already says which assessment a figure belongs to).
func loadIndicators(ctx context.Context, q querier, ids map[string]int32) error {
	return loadIDs(ctx, q, `SELECT id, code FROM indicators`, ids)
}

func loadIDs(ctx context.Context, q querier, sql string, ids map[string]int32, args ...any) error {
	err := queryOn(ctx, q, sql, args, func(r pgx.Rows) error {
		var id int32
		var code string
		err := r.Scan(&id, &code)
		ids[code] = id
		return err
	})
	if err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	return nil
}

// Write checks and copies a chunk of the batch's observations. The batch must not hold one
// key twice (the collector refuses such batches).
func (w *Writer) Write(obs []kpi.Observation) error {
	if w.done {
		return fmt.Errorf("ingest: write after commit or abort")
	}
	if err := w.write(obs); err != nil {
		w.Abort()
		return err
	}
	return nil
}

func (w *Writer) write(obs []kpi.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	if err := w.ensureCodes(obs); err != nil {
		return err
	}
	if err := w.refuseLocked(obs); err != nil {
		return err
	}
	w.res.Total += len(obs)
	if w.empty {
		return w.copyNew(obs)
	}
	return w.stage(obs)
}

// figures is how an observation is stored: value (a ratio's numerator) and a denominator
// that is NULL for every kind but ratio.
func figures(a *kpi.Assessment, o kpi.Observation) (float64, *float64) {
	if ind, ok := a.Indicator(o.Indicator); ok && ind.Kind == kpi.KindRatio {
		d := o.Denominator
		return o.Numerator, &d
	}
	return o.Value, nil
}

func periodInt(p kpi.Period) int { return p.Year*100 + p.Month }

func intPeriod(v int) kpi.Period { return kpi.Period{Year: v / 100, Month: v % 100} }

// yearRange is the first and last period (YYYYMM) of a year.
func yearRange(year int) (int, int) { return year*100 + 1, year*100 + 12 }

// refuseLocked returns a *store.LockedError naming every locked month whose figures the
// chunk would change (a new key or a changed value). Only the chunk's rows in locked
// months are compared, in one query.
func (w *Writer) refuseLocked(obs []kpi.Observation) error {
	if len(w.locked) == 0 {
		return nil
	}
	var ts, is, ps []int32
	var vs []float64
	var ds []*float64
	for _, o := range obs {
		p := periodInt(o.Period)
		if !w.locked[p] {
			continue
		}
		v, d := figures(w.a, o)
		ts, is, ps = append(ts, w.tids[o.Township]), append(is, w.iids[o.Indicator]), append(ps, int32(p))
		vs, ds = append(vs, v), append(ds, d)
	}
	if len(ts) == 0 {
		return nil
	}
	var hit []kpi.Period
	if w.empty {
		seen := map[int32]bool{}
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				hit = append(hit, intPeriod(int(p)))
			}
		}
	} else if err := queryOn(w.ctx, w.tx, `SELECT DISTINCT x.period
		FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::double precision[], $5::double precision[])
			AS x (township_id, indicator_id, period, value, denominator)
		LEFT JOIN observations o ON o.township_id = x.township_id AND o.indicator_id = x.indicator_id AND o.period = x.period
		WHERE o.township_id IS NULL OR o.value <> x.value OR o.denominator IS DISTINCT FROM x.denominator`,
		[]any{ts, is, ps, vs, ds}, func(r pgx.Rows) error {
			var p int
			err := r.Scan(&p)
			hit = append(hit, intPeriod(p))
			return err
		}); err != nil {
		return fmt.Errorf("ingest: read locked months: %w", err)
	}
	if len(hit) == 0 {
		return nil
	}
	sort.Slice(hit, func(i, j int) bool { return hit[i].Before(hit[j]) })
	return &store.LockedError{Assessment: w.a.ID, Periods: hit}
}

// batchID records the batch the first time it is needed; Commit fills in its counts.
// Taking the id inside the assessment's lock makes ids grow in commit order.
func (w *Writer) batchID() (int64, error) {
	if w.res.BatchID != 0 {
		return w.res.BatchID, nil
	}
	if err := w.tx.QueryRow(w.ctx, `INSERT INTO batches (assessment, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected)
		VALUES ($1, $2, $3, $4, $5, 0, 0, 0) RETURNING id`, w.a.ID, w.db.now().UTC(), w.meta.Actor, w.meta.Source, w.meta.SHA256).Scan(&w.res.BatchID); err != nil {
		return 0, fmt.Errorf("ingest: record batch: %w", unavailable(err))
	}
	return w.res.BatchID, nil
}

// copyRows is a pgx.CopyFromSource over a chunk that reuses its row buffers.
type copyRows struct {
	n    int
	i    int
	fill func(i int, row []any)
	row  []any
}

func (c *copyRows) Next() bool             { c.i++; return c.i <= c.n }
func (c *copyRows) Values() ([]any, error) { c.fill(c.i-1, c.row); return c.row, nil }
func (c *copyRows) Err() error             { return nil }

// copyNew copies a chunk into an assessment that had no figures: every key is new. Rows go
// in key order, which is cheaper for the primary key's B-tree than file order.
func (w *Writer) copyNew(obs []kpi.Observation) error {
	id, err := w.batchID()
	if err != nil {
		return err
	}
	type fresh struct {
		t, i, p int32
		v       float64
		d       *float64
	}
	rows := make([]fresh, len(obs))
	for k, o := range obs {
		v, d := figures(w.a, o)
		rows[k] = fresh{w.tids[o.Township], w.iids[o.Indicator], int32(periodInt(o.Period)), v, d}
	}
	slices.SortFunc(rows, func(x, y fresh) int {
		switch {
		case x.t != y.t:
			return int(x.t - y.t)
		case x.i != y.i:
			return int(x.i - y.i)
		}
		return int(x.p - y.p)
	})
	src := &copyRows{n: len(rows), row: make([]any, 6), fill: func(k int, row []any) {
		r := rows[k]
		row[0], row[1], row[2], row[3], row[5] = r.t, r.i, r.p, r.v, id
		if r.d == nil {
			row[4] = nil
		} else {
			row[4] = *r.d
		}
	}}
	if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{"observations"},
		[]string{"township_id", "indicator_id", "period", "value", "denominator", "batch_id"}, src); err != nil {
		return fmt.Errorf("ingest: copy: %w", unavailable(err))
	}
	w.res.New += len(obs)
	if w.keepWritten {
		w.res.Written = append(w.res.Written, obs...)
	}
	return nil
}

// stagingTable holds a batch's rows until Commit classifies them; it lives as long as the
// transaction.
const stagingTable = "kpimon_incoming"

// stage copies a chunk into the staging table, numbering its rows in batch order.
func (w *Writer) stage(obs []kpi.Observation) error {
	if !w.staging {
		if _, err := w.tx.Exec(w.ctx, `CREATE TEMPORARY TABLE `+stagingTable+` (
			seq          INTEGER          NOT NULL,
			township_id  INTEGER          NOT NULL,
			indicator_id INTEGER          NOT NULL,
			period       INTEGER          NOT NULL,
			value        DOUBLE PRECISION NOT NULL,
			denominator  DOUBLE PRECISION) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("ingest: staging table: %w", unavailable(err))
		}
		w.staging = true
	}
	base := len(w.kept)
	if !w.keepWritten {
		base = w.res.Total - len(obs)
	}
	src := &copyRows{n: len(obs), row: make([]any, 6), fill: func(k int, row []any) {
		o := obs[k]
		v, d := figures(w.a, o)
		row[0], row[1], row[2], row[3], row[4] = int32(base+k), w.tids[o.Township], w.iids[o.Indicator], int32(periodInt(o.Period)), v
		if d == nil {
			row[5] = nil
		} else {
			row[5] = *d
		}
	}}
	if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{stagingTable},
		[]string{"seq", "township_id", "indicator_id", "period", "value", "denominator"}, src); err != nil {
		return fmt.Errorf("ingest: copy: %w", unavailable(err))
	}
	if w.keepWritten {
		w.kept = append(w.kept, obs...)
	}
	return nil
}

// analyzeOver is the batch size above which the staging table is analyzed before it is
// compared with the current values.
const analyzeOver = 1000

// changesTable holds the staged rows that are new or changed, with the values they
// replace: the one comparison of the whole batch with the current values, made once.
const changesTable = "kpimon_changes"

// classify compares the staged rows with the current values once, keeping the new and
// changed rows (with the old values) in the changes table; it counts them and, when
// Written is kept, lists them in batch order.
func (w *Writer) classify() error {
	if !w.staging {
		return nil
	}
	ctx, tx := w.ctx, w.tx
	if w.res.Total > analyzeOver {
		// a large batch: give the planner the staging table's size
		if _, err := tx.Exec(ctx, `ANALYZE `+stagingTable); err != nil {
			return unavailable(err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE `+changesTable+` ON COMMIT DROP AS
		SELECT i.seq, i.township_id, i.indicator_id, i.period, i.value, i.denominator,
			o.township_id IS NULL AS is_new, o.value AS old_value, o.denominator AS old_denominator, o.batch_id AS old_batch
		FROM `+stagingTable+` i LEFT JOIN observations o
			ON o.township_id = i.township_id AND o.indicator_id = i.indicator_id AND o.period = i.period
		WHERE o.township_id IS NULL OR o.value <> i.value OR o.denominator IS DISTINCT FROM i.denominator`); err != nil {
		return unavailable(err)
	}
	return queryOn(ctx, tx, `SELECT seq, is_new FROM `+changesTable+` ORDER BY seq`, nil, func(r pgx.Rows) error {
		var seq int32
		var isNew bool
		if err := r.Scan(&seq, &isNew); err != nil {
			return err
		}
		if isNew {
			w.res.New++
		} else {
			w.res.Corrected++
		}
		if w.keepWritten {
			w.res.Written = append(w.res.Written, w.kept[seq])
		}
		return nil
	})
}

// apply writes the classified rows: the old values of corrected keys into revisions, the
// corrections, then the new keys in key order.
func (w *Writer) apply(id int64) error {
	ctx, tx := w.ctx, w.tx
	steps := []struct{ what, sql string }{
		{"keep revisions", `INSERT INTO revisions (township_id, indicator_id, period, value, denominator, batch_id, superseded_by)
			SELECT township_id, indicator_id, period, old_value, old_denominator, old_batch, $1
			FROM ` + changesTable + ` WHERE NOT is_new ORDER BY seq`},
		{"correct", `UPDATE observations o SET value = c.value, denominator = c.denominator, batch_id = $1
			FROM ` + changesTable + ` c
			WHERE NOT c.is_new AND o.township_id = c.township_id AND o.indicator_id = c.indicator_id AND o.period = c.period`},
		{"insert", `INSERT INTO observations (township_id, indicator_id, period, value, denominator, batch_id)
			SELECT township_id, indicator_id, period, value, denominator, $1 FROM ` + changesTable + ` WHERE is_new
			ORDER BY township_id, indicator_id, period`},
	}
	if w.res.Corrected == 0 {
		steps = steps[2:]
	}
	if w.res.New == 0 {
		steps = steps[:len(steps)-1]
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s.sql, id); err != nil {
			return fmt.Errorf("ingest: %s: %w", s.what, unavailable(err))
		}
	}
	return nil
}

// ensureCodes gives every township and indicator code of the chunk an id, adding new ones
// in code order. Townships belong to the assessment and are added in the batch's
// transaction (the assessment's lock serializes that). Indicator codes are shared by every
// assessment, so they are added and committed at once on a connection of their own:
// otherwise a batch of another assessment adding the same code would wait for this batch's
// commit (a first load of a large file can take minutes). A batch that is rolled back
// leaves its new indicator codes behind, which is harmless: a code without figures is
// never read.
func (w *Writer) ensureCodes(obs []kpi.Observation) error {
	var newT, newI []string
	seenT, seenI := map[string]bool{}, map[string]bool{}
	for _, o := range obs {
		if _, ok := w.tids[o.Township]; !ok && !seenT[o.Township] {
			seenT[o.Township] = true
			newT = append(newT, o.Township)
		}
		if _, ok := w.iids[o.Indicator]; !ok && !seenI[o.Indicator] {
			seenI[o.Indicator] = true
			newI = append(newI, o.Indicator)
		}
	}
	if len(newT) > 0 {
		sort.Strings(newT)
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO townships (assessment, code) SELECT $1, c FROM unnest($2::text[]) AS c ORDER BY c
			ON CONFLICT (assessment, code) DO NOTHING`, w.a.ID, newT); err != nil {
			return fmt.Errorf("ingest: add townships: %w", unavailable(err))
		}
		if err := loadTownships(w.ctx, w.tx, w.a.ID, w.tids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if len(newI) > 0 {
		sort.Strings(newI)
		if err := w.db.addIndicators(w.ctx, newI); err != nil {
			return fmt.Errorf("ingest: add indicators: %w", err)
		}
		if err := loadIndicators(w.ctx, w.tx, w.iids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	return nil
}

// addIndicators adds indicator codes in their own short transaction, on a connection
// outside the pool (so that writers holding the pool's connections cannot keep it from
// one).
func (db *DB) addIndicators(ctx context.Context, codes []string) error {
	cfg := db.connCfg.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return unavailable(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `INSERT INTO indicators (code) SELECT c FROM unnest($1::text[]) AS c ORDER BY c
		ON CONFLICT (code) DO NOTHING`, codes)
	return unavailable(err)
}

// Describe sets the batch's source and digest for the audit trail, for a batch whose
// digest is known only once its files are read.
func (w *Writer) Describe(source, sha256 string) {
	w.meta.Source, w.meta.SHA256 = source, sha256
}

// Commit classifies and writes what was staged, records the batch with its counts, tells
// the listeners and commits. A batch that changed nothing is rolled back and recorded
// nowhere (BatchID 0).
func (w *Writer) Commit() (store.IngestResult, error) {
	if w.done {
		return w.res, fmt.Errorf("ingest: commit after commit or abort")
	}
	defer w.Abort()
	fail := func(err error) (store.IngestResult, error) { return store.IngestResult{Total: w.res.Total}, err }
	if err := w.classify(); err != nil {
		return fail(fmt.Errorf("ingest: compare with current values: %w", err))
	}
	res := &w.res
	res.Unchanged = res.Total - res.New - res.Corrected
	if !res.Changed() {
		out := *res
		out.Written = nil
		return out, nil
	}
	id, err := w.batchID()
	if err != nil {
		return fail(err)
	}
	if w.staging {
		if err := w.apply(id); err != nil {
			return fail(err)
		}
	}
	ctx, tx := w.ctx, w.tx
	if _, err := tx.Exec(ctx, `UPDATE batches SET rows_total = $1, rows_new = $2, rows_corrected = $3, source = $4, sha256 = $5 WHERE id = $6`,
		res.Total, res.New, res.Corrected, w.meta.Source, w.meta.SHA256, id); err != nil {
		return fail(fmt.Errorf("ingest: record batch: %w", unavailable(err)))
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, w.db.channel, w.a.ID); err != nil {
		return fail(fmt.Errorf("ingest: notify: %w", unavailable(err)))
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(fmt.Errorf("ingest: commit: %w", unavailable(err)))
	}
	w.done = true
	w.conn.Release()
	return *res, nil
}

// Abort rolls the batch back; after Commit it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if err := w.tx.Rollback(context.WithoutCancel(w.ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		// the connection is in an unknown state: let the pool drop it
		w.conn.Conn().Close(context.WithoutCancel(w.ctx))
	}
	w.conn.Release()
}
