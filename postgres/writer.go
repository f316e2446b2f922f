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
// The chunks go into one COPY that streams while the file is still being read (a goroutine
// feeds it), so reading, encoding and PostgreSQL's work overlap. Into an assessment without
// figures every key is new and the COPY goes straight into observations; otherwise it goes
// into a temporary table, and Commit compares it with the current values once and writes
// the changes in a few set-based statements.
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

	copy *copier // the COPY in progress, nil when none
	res  store.IngestResult
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

// begin takes the assessment's lock, reads what the batch needs to know, and gives every
// township and indicator of the config an id, so that the COPY rarely has to stop for a
// new code.
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
	if err := loadIndicators(ctx, tx, w.iids); err != nil {
		return err
	}
	var ts, is []string
	for _, t := range w.a.Townships {
		ts = append(ts, t.Code)
	}
	for _, i := range w.a.Indicators {
		is = append(is, i.Code)
	}
	return w.ensureCodes(ts, is)
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

// Write checks a chunk of the batch's observations and hands it to the COPY. The batch must
// not hold one key twice (the collector refuses such batches). An error of the COPY shows
// at a later Write or at Commit.
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
	if err := w.ensureChunkCodes(obs); err != nil {
		return err
	}
	if w.empty {
		// every key is new: a locked month among them refuses the batch now
		if err := w.refuseLockedNew(obs); err != nil {
			return err
		}
	}
	base := int64(w.res.Total)
	w.res.Total += len(obs)
	rows := make([]copyRow, len(obs))
	for k, o := range obs {
		v, d, hasD := figures(w.a, o)
		rows[k] = copyRow{t: w.tids[o.Township], i: w.iids[o.Indicator], p: int32(periodInt(o.Period)), v: v, d: d, hasD: hasD, last: base + int64(k)}
	}
	if w.empty {
		id, err := w.batchID()
		if err != nil {
			return err
		}
		// key order is cheaper for the primary key's B-tree than file order
		slices.SortFunc(rows, func(x, y copyRow) int {
			switch {
			case x.t != y.t:
				return int(x.t - y.t)
			case x.i != y.i:
				return int(x.i - y.i)
			}
			return int(x.p - y.p)
		})
		for k := range rows {
			rows[k].last = id
		}
		w.res.New += len(obs)
		if w.keepWritten {
			w.res.Written = append(w.res.Written, obs...)
		}
		return w.send("observations", rows)
	}
	if !w.staging {
		if _, err := w.tx.Exec(w.ctx, `CREATE TEMPORARY TABLE `+stagingTable+` (
			township_id  INTEGER          NOT NULL,
			indicator_id INTEGER          NOT NULL,
			period       INTEGER          NOT NULL,
			value        DOUBLE PRECISION NOT NULL,
			denominator  DOUBLE PRECISION,
			seq          BIGINT           NOT NULL) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("ingest: staging table: %w", unavailable(err))
		}
		w.staging = true
	}
	if w.keepWritten {
		w.kept = append(w.kept, obs...)
	}
	return w.send(stagingTable, rows)
}

// figures is how an observation is stored: value (a ratio's numerator) and a denominator
// that is NULL for every kind but ratio.
func figures(a *kpi.Assessment, o kpi.Observation) (v, d float64, hasD bool) {
	if ind, ok := a.Indicator(o.Indicator); ok && ind.Kind == kpi.KindRatio {
		return o.Numerator, o.Denominator, true
	}
	return o.Value, 0, false
}

func periodInt(p kpi.Period) int { return p.Year*100 + p.Month }

func intPeriod(v int) kpi.Period { return kpi.Period{Year: v / 100, Month: v % 100} }

// yearRange is the first and last period (YYYYMM) of a year.
func yearRange(year int) (int, int) { return year*100 + 1, year*100 + 12 }

// refuseLockedNew returns a *store.LockedError naming every locked month a chunk of new
// keys writes to.
func (w *Writer) refuseLockedNew(obs []kpi.Observation) error {
	if len(w.locked) == 0 {
		return nil
	}
	seen := map[kpi.Period]bool{}
	var hit []kpi.Period
	for _, o := range obs {
		if w.locked[periodInt(o.Period)] && !seen[o.Period] {
			seen[o.Period] = true
			hit = append(hit, o.Period)
		}
	}
	return lockedError(w.a.ID, hit)
}

// lockedError is a *store.LockedError for the months, in order; nil when there are none.
func lockedError(assessment string, hit []kpi.Period) error {
	if len(hit) == 0 {
		return nil
	}
	sort.Slice(hit, func(i, j int) bool { return hit[i].Before(hit[j]) })
	return &store.LockedError{Assessment: assessment, Periods: hit}
}

// batchID records the batch the first time it is needed; Commit fills in its counts.
// Taking the id inside the assessment's lock makes ids grow in commit order.
func (w *Writer) batchID() (int64, error) {
	if w.res.BatchID != 0 {
		return w.res.BatchID, nil
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	if err := w.tx.QueryRow(w.ctx, `INSERT INTO batches (assessment, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected)
		VALUES ($1, $2, $3, $4, $5, 0, 0, 0) RETURNING id`, w.a.ID, w.db.now().UTC(), w.meta.Actor, w.meta.Source, w.meta.SHA256).Scan(&w.res.BatchID); err != nil {
		return 0, fmt.Errorf("ingest: record batch: %w", unavailable(err))
	}
	return w.res.BatchID, nil
}

// copyRow is one row of a COPY: the key, the figures, and last, which is the batch id in
// observations and the row's position in the batch in the staging table.
type copyRow struct {
	t, i, p int32
	v, d    float64
	hasD    bool
	last    int64
}

// copyColumns are the columns of both tables a batch is copied into, in order.
func copyColumns(table string) []string {
	last := "batch_id"
	if table == stagingTable {
		last = "seq"
	}
	return []string{"township_id", "indicator_id", "period", "value", "denominator", last}
}

// copier is a COPY running in a goroutine on the batch's connection, fed chunks of rows
// through a channel until it is closed.
type copier struct {
	table  string
	feed   chan []copyRow
	done   chan struct{}
	err    error // set before done is closed
	cancel context.CancelFunc
	closed bool
}

// copyQueue is how many chunks may wait for the COPY.
const copyQueue = 4

// send hands rows to the COPY into table, starting it if needed. While a COPY runs, the
// connection belongs to it: other statements wait for flush.
func (w *Writer) send(table string, rows []copyRow) error {
	if w.copy != nil && w.copy.table != table {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.copy == nil {
		ctx, cancel := context.WithCancel(w.ctx)
		c := &copier{table: table, feed: make(chan []copyRow, copyQueue), done: make(chan struct{}), cancel: cancel}
		src := &feedSource{feed: c.feed, row: make([]any, 6)}
		go func() {
			defer close(c.done)
			_, c.err = w.tx.CopyFrom(ctx, pgx.Identifier{table}, copyColumns(table), src)
		}()
		w.copy = c
	}
	select {
	case w.copy.feed <- rows:
		return nil
	case <-w.copy.done:
		err := w.copy.err
		if err == nil {
			err = errors.New("the COPY ended early")
		}
		return fmt.Errorf("ingest: copy: %w", unavailable(err))
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

// flush ends the COPY in progress, if any, and returns its error: the connection is free
// for other statements afterwards.
func (w *Writer) flush() error {
	c := w.copy
	if c == nil {
		return nil
	}
	w.copy = nil
	if !c.closed {
		close(c.feed)
		c.closed = true
	}
	<-c.done
	c.cancel()
	if c.err != nil {
		return fmt.Errorf("ingest: copy: %w", unavailable(c.err))
	}
	return nil
}

// stopCopy cancels the COPY in progress, if any, and waits for it.
func (w *Writer) stopCopy() {
	if c := w.copy; c != nil {
		w.copy = nil
		c.cancel()
		if !c.closed {
			close(c.feed)
			c.closed = true
		}
		<-c.done
	}
}

// feedSource is a pgx.CopyFromSource that takes its rows from a channel of chunks.
type feedSource struct {
	feed <-chan []copyRow
	cur  []copyRow
	i    int
	row  []any
}

func (f *feedSource) Next() bool {
	for f.i >= len(f.cur) {
		c, ok := <-f.feed
		if !ok {
			return false
		}
		f.cur, f.i = c, 0
	}
	f.i++
	return true
}

func (f *feedSource) Values() ([]any, error) {
	r := &f.cur[f.i-1]
	f.row[0], f.row[1], f.row[2], f.row[3], f.row[5] = r.t, r.i, r.p, r.v, r.last
	if r.hasD {
		f.row[4] = r.d
	} else {
		f.row[4] = nil
	}
	return f.row, nil
}

func (f *feedSource) Err() error { return nil }

// stagingTable holds a batch's rows until Commit classifies them; it lives as long as the
// transaction.
const stagingTable = "kpimon_incoming"

// analyzeOver is the batch size above which the staging table is analyzed before it is
// compared with the current values.
const analyzeOver = 1000

// changesTable holds the staged rows that are new or changed, with the values they
// replace: the one comparison of the whole batch with the current values, made once.
const changesTable = "kpimon_changes"

// classify compares the staged rows with the current values once, keeping the new and
// changed rows (with the old values) in the changes table; it counts them and, when
// Written is kept, lists them in batch order. A change to a locked month refuses the
// batch, naming every locked month it would change.
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
	if len(w.locked) > 0 {
		var locked []int32
		for p := range w.locked {
			locked = append(locked, int32(p))
		}
		var hit []kpi.Period
		if err := queryOn(ctx, tx, `SELECT DISTINCT period FROM `+changesTable+` WHERE period = ANY($1)`, []any{locked}, func(r pgx.Rows) error {
			var p int
			err := r.Scan(&p)
			hit = append(hit, intPeriod(p))
			return err
		}); err != nil {
			return err
		}
		if err := lockedError(w.a.ID, hit); err != nil {
			return err
		}
	}
	return queryOn(ctx, tx, `SELECT seq, is_new FROM `+changesTable+` ORDER BY seq`, nil, func(r pgx.Rows) error {
		var seq int64
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

// ensureChunkCodes gives the chunk's township and indicator codes ids; the config's are
// given at the start, so this adds only codes the config does not have.
func (w *Writer) ensureChunkCodes(obs []kpi.Observation) error {
	var ts, is []string
	for _, o := range obs {
		if _, ok := w.tids[o.Township]; !ok {
			ts = append(ts, o.Township)
		}
		if _, ok := w.iids[o.Indicator]; !ok {
			is = append(is, o.Indicator)
		}
	}
	if len(ts)+len(is) == 0 {
		return nil
	}
	// the connection is the COPY's until it ends
	if err := w.flush(); err != nil {
		return err
	}
	return w.ensureCodes(ts, is)
}

// ensureCodes gives the township and indicator codes ids, adding the missing ones in code
// order. Townships belong to the assessment and are added in the batch's transaction (the
// assessment's lock serializes that). Indicator codes are shared by every assessment, so
// they are added and committed at once on a connection of their own: otherwise a batch of
// another assessment adding the same code would wait for this batch's commit (a first
// load of a large file can take minutes). A batch that is rolled back leaves its new
// indicator codes behind, which is harmless: a code without figures is never read.
func (w *Writer) ensureCodes(townships, indicators []string) error {
	newT, newI := missing(townships, w.tids), missing(indicators, w.iids)
	if len(newT) > 0 {
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO townships (assessment, code) SELECT $1, c FROM unnest($2::text[]) AS c ORDER BY c
			ON CONFLICT (assessment, code) DO NOTHING`, w.a.ID, newT); err != nil {
			return fmt.Errorf("ingest: add townships: %w", unavailable(err))
		}
		if err := loadTownships(w.ctx, w.tx, w.a.ID, w.tids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if len(newI) > 0 {
		if err := w.db.addIndicators(w.ctx, newI); err != nil {
			return fmt.Errorf("ingest: add indicators: %w", err)
		}
		if err := loadIndicators(w.ctx, w.tx, w.iids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	return nil
}

// missing lists, sorted and once each, the codes that have no id.
func missing(codes []string, ids map[string]int32) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range codes {
		if _, ok := ids[c]; !ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// addIndicators adds indicator codes in their own short transaction, on a connection
// outside the pool (so that writers holding the pool's connections cannot keep it from
// one).
func (db *DB) addIndicators(ctx context.Context, codes []string) error {
	conn, err := pgx.ConnectConfig(ctx, db.connCfg.Copy())
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

// Commit ends the COPY, classifies and writes what was staged, records the batch with its
// counts, tells the listeners and commits. A batch that changed nothing is rolled back and
// recorded nowhere (BatchID 0).
func (w *Writer) Commit() (store.IngestResult, error) {
	if w.done {
		return w.res, fmt.Errorf("ingest: commit after commit or abort")
	}
	defer w.Abort()
	fail := func(err error) (store.IngestResult, error) { return store.IngestResult{Total: w.res.Total}, err }
	if err := w.flush(); err != nil {
		return fail(err)
	}
	if err := w.classify(); err != nil {
		var le *store.LockedError
		if errors.As(err, &le) {
			return fail(err)
		}
		return fail(fmt.Errorf("ingest: compare with current values: %w", unavailable(err)))
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
	w.stopCopy()
	if err := w.tx.Rollback(context.WithoutCancel(w.ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		// the connection is in an unknown state: let the pool drop it
		w.conn.Conn().Close(context.WithoutCancel(w.ctx))
	}
	w.conn.Release()
}
