package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Writer writes one batch that arrives in chunks (a large file read while it is written) in
// one transaction, so nothing of it is visible until Commit and Abort leaves the database as
// it was. Ingest uses it for a batch held in memory.
type Writer struct {
	ctx  context.Context
	db   *DB
	a    *kpi.Assessment
	tx   *sqlx.Tx
	meta store.BatchMeta

	tids, iids    map[string]int64
	empty         bool // the table was empty when the batch began: nothing to compare with
	existing      map[obsKey]storedValue
	loadedPeriods map[int]bool
	checkedLocks  map[int]bool
	keepWritten   bool

	res     store.IngestResult
	fresh   []freshRow
	args    []any
	insert  *sql.Stmt // the full-size multi-row INSERT
	keep    *sql.Stmt // copies a value into revisions before it is corrected
	correct *sql.Stmt
	lookup  *sql.Stmt
	done    bool
}

type freshRow struct {
	k obsKey
	v storedValue
}

// insertChunk is how many rows one multi-row INSERT carries (6 parameters each).
const insertChunk = 256

// NewWriter begins a batch of the assessment that arrives in chunks.
func (db *DB) NewWriter(ctx context.Context, a *kpi.Assessment, meta store.BatchMeta) (store.Writer, error) {
	return db.newWriter(ctx, a, meta, false)
}

// newWriter begins a batch. keepWritten asks Commit to return the new and corrected
// observations (the server publishes them); a command-line ingest does not need them.
// The transaction is immediate: it holds the database's write lock from the start, so
// batches are written one at a time and their ids grow in commit order.
func (db *DB) newWriter(ctx context.Context, a *kpi.Assessment, meta store.BatchMeta, keepWritten bool) (*Writer, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ingest: begin: %w", busy(err))
	}
	w := &Writer{ctx: ctx, db: db, a: a, tx: tx, meta: meta, tids: map[string]int64{}, iids: map[string]int64{},
		existing: map[obsKey]storedValue{}, loadedPeriods: map[int]bool{}, checkedLocks: map[int]bool{}, keepWritten: keepWritten}
	if err := loadTownships(ctx, tx, a.ID, w.tids); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if err := loadIndicators(ctx, tx, w.iids); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	// nothing to compare with when the assessment has no figure yet (a first load)
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM observations o JOIN townships t ON t.id = o.township_id
		WHERE t.assessment = ? LIMIT 1) x`, a.ID); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("ingest: %w", busy(err))
	}
	w.empty = n == 0
	if err := tx.GetContext(ctx, &w.res.PreviousBatch, `SELECT COALESCE(MAX(id), 0) FROM batches WHERE assessment = ?`, a.ID); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("ingest: %w", busy(err))
	}
	return w, nil
}

// Write classifies and writes a chunk of the batch's observations. The batch must not hold
// one key twice (the collector refuses such batches).
func (w *Writer) Write(obs []kpi.Observation) error {
	if w.done {
		return fmt.Errorf("ingest: write after commit or abort")
	}
	if err := w.ensureCodes(obs); err != nil {
		return err
	}
	w.fresh = w.fresh[:0]
	unchecked := map[int]bool{} // months this chunk changes whose lock is not checked yet
	// a small chunk (a township's monthly report) looks its keys up one by one; a large
	// one reads each month it touches once
	small := len(obs) <= smallChunk
	for _, o := range obs {
		w.res.Total++
		k := obsKey{w.tids[o.Township], w.iids[o.Indicator], periodInt(o.Period)}
		v := storedFigures(w.a, o)
		if !w.empty {
			var err error
			if small && !w.loadedPeriods[k.period] {
				err = w.lookupKey(k)
			} else {
				err = w.loadPeriod(k.period)
			}
			if err != nil {
				return err
			}
		}
		old, ok := w.existing[k]
		switch {
		case ok && old == v:
			w.res.Unchanged++
			continue
		case !ok:
			w.fresh = append(w.fresh, freshRow{k, v})
			w.res.New++
		default:
			if err := w.correctRow(k, v); err != nil {
				return err
			}
			w.res.Corrected++
		}
		if !w.checkedLocks[k.period] {
			unchecked[k.period] = true
		}
		if w.keepWritten {
			w.res.Written = append(w.res.Written, o)
		}
	}
	// every locked month the chunk would change is named at once (the corrections above
	// are in the transaction and go with it)
	if len(unchecked) > 0 {
		for p := range unchecked {
			w.checkedLocks[p] = true
		}
		if err := refuseLocked(w.ctx, w.tx, w.a.ID, unchecked); err != nil {
			return err
		}
	}
	return w.insertFresh()
}

// batchID records the batch on its first write; the counts are filled in by Commit.
func (w *Writer) batchID() (int64, error) {
	if w.res.BatchID != 0 {
		return w.res.BatchID, nil
	}
	at := stamp(w.db.now())
	r, err := w.tx.ExecContext(w.ctx, `INSERT INTO batches (assessment, created_at, actor, source, sha256, rows_total, rows_new, rows_corrected)
		VALUES (?, ?, ?, ?, ?, 0, 0, 0)`, w.a.ID, at, w.meta.Actor, w.meta.Source, w.meta.SHA256)
	if err != nil {
		return 0, fmt.Errorf("ingest: record batch: %w", err)
	}
	if w.res.BatchID, err = r.LastInsertId(); err != nil {
		return 0, fmt.Errorf("ingest: record batch: %w", err)
	}
	return w.res.BatchID, nil
}

// smallChunk is the largest chunk whose keys are looked up one by one.
const smallChunk = 2000

// lookupKey reads the current value of one key, if it has one.
func (w *Writer) lookupKey(k obsKey) error {
	if w.lookup == nil {
		var err error
		if w.lookup, err = w.tx.PrepareContext(w.ctx, `SELECT value, denominator FROM observations WHERE township_id = ? AND indicator_id = ? AND period = ?`); err != nil {
			return fmt.Errorf("ingest: prepare: %w", err)
		}
	}
	var v storedValue
	err := w.lookup.QueryRowContext(w.ctx, k.t, k.i, k.period).Scan(&v.value, &v.den)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("ingest: read current values: %w", err)
	}
	w.existing[k] = v
	return nil
}

// loadPeriod reads the current values of a month the batch touches, once.
func (w *Writer) loadPeriod(p int) error {
	if w.loadedPeriods[p] {
		return nil
	}
	w.loadedPeriods[p] = true
	rows, err := w.tx.QueryContext(w.ctx, `SELECT township_id, indicator_id, value, denominator FROM observations
		WHERE period = ? AND township_id IN (SELECT id FROM townships WHERE assessment = ?)`, p, w.a.ID)
	if err != nil {
		return fmt.Errorf("ingest: read current values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		k := obsKey{period: p}
		var v storedValue
		if err := rows.Scan(&k.t, &k.i, &v.value, &v.den); err != nil {
			return fmt.Errorf("ingest: read current values: %w", err)
		}
		w.existing[k] = v
	}
	return rows.Err()
}

// correctRow keeps the current value as a revision and writes the new one.
func (w *Writer) correctRow(k obsKey, v storedValue) error {
	id, err := w.batchID()
	if err != nil {
		return err
	}
	if w.keep == nil {
		if w.keep, err = w.tx.PrepareContext(w.ctx, `INSERT INTO revisions (township_id, indicator_id, period, value, denominator, batch_id, superseded_by)
			SELECT township_id, indicator_id, period, value, denominator, batch_id, ? FROM observations
			WHERE township_id = ? AND indicator_id = ? AND period = ?`); err != nil {
			return fmt.Errorf("ingest: prepare: %w", err)
		}
		if w.correct, err = w.tx.PrepareContext(w.ctx, `UPDATE observations SET value = ?, denominator = ?, batch_id = ?
			WHERE township_id = ? AND indicator_id = ? AND period = ?`); err != nil {
			return fmt.Errorf("ingest: prepare: %w", err)
		}
	}
	if _, err := w.keep.ExecContext(w.ctx, id, k.t, k.i, k.period); err != nil {
		return fmt.Errorf("ingest: keep revision: %w", err)
	}
	if _, err := w.correct.ExecContext(w.ctx, v.value, v.den, id, k.t, k.i, k.period); err != nil {
		return fmt.Errorf("ingest: correct: %w", err)
	}
	w.existing[k] = v
	return nil
}

// insertFresh inserts the chunk's new keys in key order (appending to the primary key's
// B-tree is cheaper than inserting in file order) through multi-row INSERTs.
func (w *Writer) insertFresh() error {
	if len(w.fresh) == 0 {
		return nil
	}
	id, err := w.batchID()
	if err != nil {
		return err
	}
	slices.SortFunc(w.fresh, func(x, y freshRow) int {
		switch {
		case x.k.t != y.k.t:
			return cmpInt64(x.k.t, y.k.t)
		case x.k.i != y.k.i:
			return cmpInt64(x.k.i, y.k.i)
		}
		return x.k.period - y.k.period
	})
	for start := 0; start < len(w.fresh); start += insertChunk {
		rows := w.fresh[start:min(start+insertChunk, len(w.fresh))]
		w.args = w.args[:0]
		for _, f := range rows {
			w.args = append(w.args, f.k.t, f.k.i, f.k.period, f.v.value, f.v.den, id)
			if !w.empty {
				w.existing[f.k] = f.v
			}
		}
		if len(rows) == insertChunk {
			if w.insert == nil {
				if w.insert, err = w.tx.PrepareContext(w.ctx, insertSQL(insertChunk)); err != nil {
					return fmt.Errorf("ingest: prepare: %w", err)
				}
			}
			_, err = w.insert.ExecContext(w.ctx, w.args...)
		} else {
			_, err = w.tx.ExecContext(w.ctx, insertSQL(len(rows)), w.args...)
		}
		if err != nil {
			return fmt.Errorf("ingest: insert: %w", err)
		}
	}
	return w.ctx.Err()
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ensureCodes gives every township and indicator code of the chunk an id, adding new ones
// in code order.
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
		for _, c := range newT {
			if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO townships (assessment, code) VALUES (?, ?) ON CONFLICT (assessment, code) DO NOTHING`, w.a.ID, c); err != nil {
				return fmt.Errorf("ingest: add township %q: %w", c, err)
			}
		}
		if err := loadTownships(w.ctx, w.tx, w.a.ID, w.tids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if len(newI) > 0 {
		sort.Strings(newI)
		for _, c := range newI {
			if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO indicators (code) VALUES (?) ON CONFLICT (code) DO NOTHING`, c); err != nil {
				return fmt.Errorf("ingest: add indicator %q: %w", c, err)
			}
		}
		if err := loadIndicators(w.ctx, w.tx, w.iids); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	return nil
}

// Describe sets the batch's source and digest for the audit trail, for a batch whose
// digest is known only once its files are read.
func (w *Writer) Describe(source, sha256 string) {
	w.meta.Source, w.meta.SHA256 = source, sha256
}

// Commit records the batch's counts and commits. A batch that changed nothing is rolled
// back and recorded nowhere (BatchID 0).
func (w *Writer) Commit() (store.IngestResult, error) {
	if w.done {
		return w.res, fmt.Errorf("ingest: commit after commit or abort")
	}
	defer w.Abort()
	res := w.res
	if res.New+res.Corrected == 0 {
		res.Written = nil
		return res, nil
	}
	if _, err := w.tx.ExecContext(w.ctx, `UPDATE batches SET rows_total = ?, rows_new = ?, rows_corrected = ?, source = ?, sha256 = ? WHERE id = ?`,
		res.Total, res.New, res.Corrected, w.meta.Source, w.meta.SHA256, res.BatchID); err != nil {
		return store.IngestResult{Total: res.Total}, fmt.Errorf("ingest: record batch: %w", busy(err))
	}
	w.closeStmts()
	if err := w.tx.Commit(); err != nil {
		return store.IngestResult{Total: res.Total}, fmt.Errorf("ingest: commit: %w", busy(err))
	}
	w.done = true
	return res, nil
}

// Abort rolls the batch back; after Commit it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.closeStmts()
	w.tx.Rollback()
}

func (w *Writer) closeStmts() {
	for _, s := range []*sql.Stmt{w.insert, w.keep, w.correct, w.lookup} {
		if s != nil {
			s.Close()
		}
	}
	w.insert, w.keep, w.correct, w.lookup = nil, nil, nil, nil
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
