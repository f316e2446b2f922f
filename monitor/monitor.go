// Package monitor is the running assessment behind the server: the validated config, the
// store, the current observations held in memory, and evaluations computed once per data
// version and period rather than on every request.
//
// Ingest writes a batch to the store and then publishes a new in-memory version; readers
// always see one whole version. Batches written by anyone else — another server on the same
// database, or `kpimon ingest` on the command line — are picked up by Refresh (run by Watch
// when the store says a batch was committed), which reads only what changed since the
// last batch the data reflect. Evaluations depend on the clock too (a missing report
// becomes overdue when its deadline passes), so a cached evaluation is also recomputed when
// it is older than the refresh interval.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Monitor holds one assessment's running state. It is safe for concurrent use.
type Monitor struct {
	a       *kpi.Assessment
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	refresh time.Duration

	ingestMu sync.Mutex // one writer at a time
	cloneMu  sync.Mutex // one kpi.Dataset.Clone at a time (Clone marks the rows it shares)

	mu      sync.RWMutex
	data    *kpi.Dataset // never modified once published
	version uint64
	cache   map[kpi.Period]*cached
	subs    []func(Change)
	changed map[uint64][]int // version → townships whose data that version changed
	batch   int64            // the assessment's latest batch that the data reflect
	latest  kpi.Period       // the latest month with reports in data; zero when none
	months  uint16           // the months with reports in data (kpi.Dataset.ReportedMonths)
	deps    []*Monitor       // assessments whose data this one's results depend on (follow)

	// lastYear is the previous year's assessment (同比), set by the deployment: results
	// carry its figures of the same month (kpi.Result.WithLastYear)
	lastYear *Monitor

	// a city's (province's): where its units' derived figures come from, set by the
	// deployment before the monitor is shared (units.go)
	units       *kpi.Units
	sources     []*Monitor      // per unit: the monitor of its own assessment, nil when none
	derivations []atomic.Uint64 // per unit: how many times its row was derived

	ingestHooks []func(IngestOutcome) // hook.go

	alerts atomic.Uint64 // grows whenever the alert lifecycle store changed (AlertsChanged)

	flight singleflight.Group // one evaluation per period and version at a time (EvaluateView)
}

type cached struct {
	version  uint64
	computed time.Time
	result   *kpi.Result
	took     time.Duration
}

// Change tells subscribers that the data changed.
type Change struct {
	Version uint64
	Result  store.IngestResult // the batch this server wrote; zero for batches others wrote

	// Dependency says only an assessment this one depends on changed (last year's): its
	// own data are as they were (its baselines may have followed last year's levels).
	Dependency bool

	// From is the id of the assessment whose change made this one: last year's for a
	// Dependency, a county's for its city's derived figures; empty for the assessment's
	// own batches.
	From string
}

// Options tune a Monitor; the zero value is sensible.
type Options struct {
	Logger  *slog.Logger
	Now     func() time.Time // the clock; time.Now by default
	Refresh time.Duration    // how long an evaluation may be reused for the same data; 1 minute by default
}

// New loads the assessment's current observations from the store. Records written before
// assessments existed are claimed first when they are of the assessment's year.
func New(ctx context.Context, a *kpi.Assessment, st store.Store, opt Options) (*Monitor, error) {
	m := &Monitor{a: a, st: st, log: opt.Logger, now: opt.Now, refresh: opt.Refresh, cache: map[kpi.Period]*cached{}, changed: map[uint64][]int{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.refresh <= 0 {
		m.refresh = time.Minute
	}
	if claimed, err := st.ClaimLegacy(ctx, a.ID, a.Year); err != nil {
		return nil, err
	} else if claimed {
		m.log.Info("未标明考核的旧数据已归入本考核", "assessment", a.ID, "year", a.Year)
	}
	d, ls, err := st.LoadDataset(ctx, a)
	if err != nil {
		return nil, err
	}
	m.batch = ls.LastBatch
	m.latest, _ = d.LatestPeriod()
	m.months = d.ReportedMonths()
	if ls.Skipped > 0 {
		m.log.Warn("已跳过配置中已不存在的乡镇或指标的数据", "assessment", a.ID, "skipped", ls.Skipped)
	}
	m.data, m.version = d, 1
	return m, nil
}

// Assessment is the assessment being run, as its config gives it. The data (Dataset) are
// bound to it, or, where stocks take their baselines from last year, to a copy with those
// baselines filled in (Dataset().Assessment(), and a Result's Assessment).
func (m *Monitor) Assessment() *kpi.Assessment { return m.a }

// Store is the store the assessment's records are kept in.
func (m *Monitor) Store() store.Store { return m.st }

// Now is the monitor's clock.
func (m *Monitor) Now() time.Time { return m.now() }

// Version is the current data version; it grows with every batch that changes something.
func (m *Monitor) Version() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.version
}

// Dataset is the current data version's observations; callers must not modify it.
func (m *Monitor) Dataset() *kpi.Dataset {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.data
}

// Subscribe calls f after every change of the data, outside the monitor's locks.
func (m *Monitor) Subscribe(f func(Change)) {
	m.mu.Lock()
	m.subs = append(m.subs, f)
	m.mu.Unlock()
}

// ErrInvalid marks a batch refused for its content; it wraps the collector's BatchError.
var ErrInvalid = errors.New("invalid batch")

// invalidError is a batch refused for its content: it is ErrInvalid and the collector's
// error, like fmt.Errorf("%w: %w") would make it, but builds its message only when asked: a
// file of a million bad rows would otherwise be written out as one huge string on every
// refusal, though the server lists only the first errors.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return ErrInvalid.Error() + ": " + e.err.Error() }

// Unwrap makes errors.Is(err, ErrInvalid) and errors.As(err, *collector.BatchError) hold.
func (e *invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// Ingest writes a validated batch and publishes the new data. A batch with errors is
// refused whole (the error wraps ErrInvalid and the *collector.BatchError).
func (m *Monitor) Ingest(ctx context.Context, b *collector.Batch, actor string) (res store.IngestResult, err error) {
	return m.IngestIf(ctx, b, actor, nil)
}

// IngestIf is Ingest with a precondition checked against the current data while no other
// batch can be written through this monitor: when check returns an error, nothing is
// written and that error is returned. The upload page uses it to write exactly what a
// person previewed. (Another server or process may still write in between; the store then
// writes this batch after it, and a confirm checks again what it replaces.)
func (m *Monitor) IngestIf(ctx context.Context, b *collector.Batch, actor string, check func(*kpi.Dataset) error) (res store.IngestResult, err error) {
	defer func() { m.ingested(res, err) }() // hook.go
	if err := b.Err(); err != nil {
		return store.IngestResult{}, &invalidError{err}
	}
	if err := m.refuseDerived(b); err != nil {
		return store.IngestResult{Total: b.Len()}, &invalidError{err}
	}
	m.ingestMu.Lock()
	defer m.ingestMu.Unlock()
	if check != nil {
		if err := check(m.Dataset()); err != nil {
			return store.IngestResult{Total: b.Len()}, err
		}
	}
	res, err = m.st.Ingest(ctx, m.a, store.Batch{BatchMeta: store.BatchMeta{Actor: actor, Source: b.SourceName(), SHA256: b.SHA256()}, Observations: b.Observations()})
	if err != nil {
		return res, err
	}
	if !res.Changed() {
		return res, nil
	}
	m.log.Info("已导入一批数据", "assessment", m.a.ID, "batch", res.BatchID, "actor", actor, "source", b.SourceName(),
		"new", res.New, "corrected", res.Corrected, "unchanged", res.Unchanged)
	m.mu.RLock()
	upToDate := res.PreviousBatch == m.batch
	m.mu.RUnlock()
	if !upToDate {
		// someone else wrote a batch this monitor has not loaded yet: load everything since
		if _, err := m.refreshLocked(ctx, res.BatchID); err != nil {
			return res, fmt.Errorf("publish ingested data: %w", err)
		}
		return res, nil
	}
	if err := m.publish(res.Written, res.BatchID, res); err != nil {
		return res, fmt.Errorf("publish ingested data: %w", err)
	}
	return res, nil
}

// publish makes a new version of the data with the observations applied, reflecting the
// store up to batch, and tells the subscribers. The caller holds ingestMu.
func (m *Monitor) publish(obs []kpi.Observation, batch int64, res store.IngestResult) error {
	next := m.CloneData(m.Dataset())
	touched := map[int]bool{}
	skipped := 0
	for _, o := range obs {
		if err := next.Set(o); errors.Is(err, kpi.ErrDerived) {
			// written by a path that does not know the city's sources (an older kpimon):
			// a derived figure comes from the county, never from a report
			skipped++
			continue
		} else if err != nil {
			return err
		}
		touched[m.a.TownshipIndex(o.Township)] = true
	}
	if skipped > 0 {
		m.log.Warn("报送了由所辖单位汇总得出的指标，已忽略", "assessment", m.a.ID, "observations", skipped)
	}
	townships := make([]int, 0, len(touched))
	for t := range touched {
		townships = append(townships, t)
	}
	m.commit(next, batch, townships, false, Change{Result: res})
	return nil
}

// commit publishes next as the data's new version, reflecting the store up to batch, and
// tells the subscribers (ch with its Version set). townships are the units whose data
// changed, for incremental re-evaluation; full says every evaluation must be done again
// (the goals changed). The caller holds ingestMu.
func (m *Monitor) commit(next *kpi.Dataset, batch int64, townships []int, full bool, ch Change) {
	latest, _ := next.LatestPeriod()
	months := next.ReportedMonths()
	m.mu.Lock()
	m.data, m.latest, m.months, m.batch = next, latest, months, batch
	m.version++
	v := m.version
	if full {
		delete(m.changed, v) // not logged: no evaluation is brought up to date across it
	} else {
		m.changed[v] = townships
	}
	delete(m.changed, v-changeLog)
	subs := append([]func(Change){}, m.subs...)
	m.mu.Unlock()
	ch.Version = v
	for _, f := range subs {
		f(ch)
	}
}

// CloneData returns a copy of d, a version of the data this monitor published (Dataset,
// or a View's Data), that the caller may change: what the data would be after a batch, for
// a preview. kpi.Dataset.Clone must not run concurrently with another Clone of the same
// data, so every clone of the monitor's data goes through here.
func (m *Monitor) CloneData(d *kpi.Dataset) *kpi.Dataset {
	m.cloneMu.Lock()
	defer m.cloneMu.Unlock()
	return d.Clone()
}

// LatestPeriod is the latest month with reports, or false when nothing was reported. It is
// worked out once per data version, not per request.
func (m *Monitor) LatestPeriod() (kpi.Period, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.latest, !m.latest.IsZero()
}

// ReportedPeriod is the month the assessment is at: the latest month with reports that has
// ended by the monitor's clock. A month's own early reports (a township sending November's
// figures on 30 November) do not move the assessment on before the month ends, so October
// stays the month pages, metrics and alerts describe until November is over. When no month
// that has ended has reports, the latest month with reports; false when nothing was reported.
func (m *Monitor) ReportedPeriod() (kpi.Period, bool) {
	m.mu.RLock()
	months := m.months
	m.mu.RUnlock()
	return reportedPeriod(m.a, months, m.now())
}

// reportedPeriod is ReportedPeriod of an assessment whose months with reports are months
// (bit m−1 for month m), at now.
func reportedPeriod(a *kpi.Assessment, months uint16, now time.Time) (kpi.Period, bool) {
	ended := 0 // the months of the year that have ended at now
	switch y := now.In(a.Location).Year(); {
	case y > a.Year:
		ended = 12
	case y == a.Year:
		ended = int(now.In(a.Location).Month()) - 1
	}
	for k := ended; k >= 1; k-- {
		if months&(1<<(k-1)) != 0 {
			return kpi.Period{Year: a.Year, Month: k}, true
		}
	}
	for k := 12; k > ended; k-- {
		if months&(1<<(k-1)) != 0 {
			return kpi.Period{Year: a.Year, Month: k}, true
		}
	}
	return kpi.Period{}, false
}

// DefaultPeriod is the month a request that names none is about: ReportedPeriod, or
// January of the assessment year when nothing was reported.
func (m *Monitor) DefaultPeriod() kpi.Period {
	if p, ok := m.ReportedPeriod(); ok {
		return p
	}
	return kpi.Period{Year: m.a.Year, Month: 1}
}

// changeLog is how many versions of changed townships the monitor remembers for
// incremental re-evaluation.
const changeLog = 64

// Evaluate returns the evaluation as of p, computing it only when the data changed or the
// cached one is older than the refresh interval. When only some townships changed since the
// cached evaluation, only those are evaluated again (kpi.Reevaluate). When the deployment
// holds the previous year's assessment, the result carries its figures of the same month
// (同比: kpi.Result.WithLastYear); a change of last year's data is a new version here
// (follow), so a cached result never keeps an outdated last year.
func (m *Monitor) Evaluate(p kpi.Period) (*kpi.Result, error) {
	v, err := m.EvaluateView(p)
	return v.Result, err
}

// View is an evaluation with the data version and data it was computed from, read together.
type View struct {
	Result  *kpi.Result
	Version uint64
	Data    *kpi.Dataset
}

// EvaluateView is Evaluate that also returns the version and data evaluated, so that a
// caller (the metrics snapshot) never pairs one version's figures with another's.
//
// Concurrent callers asking for the same period of the same data version share one
// computation: a province's evaluation takes tens of milliseconds and megabytes, and eight
// requests arriving at once (pages, a bulletin, /metrics) make one.
func (m *Monitor) EvaluateView(p kpi.Period) (View, error) {
	m.mu.RLock()
	c, ok := m.cache[p]
	d, v := m.data, m.version
	m.mu.RUnlock()
	if now := m.now(); ok && c.version == v && now.Sub(c.computed) < m.refresh && !now.Before(c.computed) {
		return View{Result: c.result, Version: v, Data: d}, nil
	}
	got, err, _ := m.flight.Do(fmt.Sprintf("%s@%d", p, v), func() (any, error) { return m.evaluateView(p) })
	if err != nil {
		return View{}, err
	}
	return got.(View), nil
}

// evaluateView is EvaluateView's computation, one at a time per period and version.
func (m *Monitor) evaluateView(p kpi.Period) (View, error) {
	now := m.now()
	m.mu.RLock()
	c, ok := m.cache[p]
	d, v, last := m.data, m.version, m.lastYear
	fresh := ok && now.Sub(c.computed) < m.refresh && !now.Before(c.computed)
	var changed []int
	// an evaluation of another assessment (baselines filled in from a changed last year)
	// is not brought up to date: it is done again
	incremental := fresh && c.version < v && c.result.Assessment() == d.Assessment()
	if incremental {
		seen := map[int]bool{}
		for w := c.version + 1; w <= v && incremental; w++ {
			ts, logged := m.changed[w]
			incremental = logged
			for _, t := range ts {
				if !seen[t] {
					seen[t] = true
					changed = append(changed, t)
				}
			}
		}
	}
	m.mu.RUnlock()
	if fresh && c.version == v {
		return View{Result: c.result, Version: v, Data: d}, nil
	}
	start := time.Now()
	var r *kpi.Result
	var err error
	computed := now
	if incremental {
		r, err = kpi.Reevaluate(c.result, d, changed)
		computed = c.computed // the clock of the reused evaluation
	} else {
		r, err = kpi.Evaluate(d, p, now)
	}
	if err != nil {
		return View{}, err
	}
	if !incremental && ok && c.version == v && sameAlerts(c.result.Alerts, r.Alerts) {
		// recomputed only because the clock moved, and no deadline passed in between: the
		// same data give the same figures, so the earlier result stays (pages and
		// snapshots keyed on it are not rebuilt); its last year is the same too, since
		// last year's changes are new versions here
		r = c.result
	} else if last != nil {
		if r, err = m.withLastYear(r, last, p); err != nil {
			return View{}, err
		}
	}
	m.mu.Lock()
	if cur, ok := m.cache[p]; !ok || cur.version <= v {
		m.cache[p] = &cached{version: v, computed: computed, result: r, took: time.Since(start)}
	}
	m.mu.Unlock()
	return View{Result: r, Version: v, Data: d}, nil
}

// withLastYear attaches last year's evaluation of the same month to r (同比).
func (m *Monitor) withLastYear(r *kpi.Result, last *Monitor, p kpi.Period) (*kpi.Result, error) {
	lv, err := last.EvaluateView(kpi.Period{Year: p.Year - 1, Month: p.Month})
	if err != nil {
		return nil, fmt.Errorf("同比：评估 %s 的 %d 年 %d 月: %w", last.a.ID, p.Year-1, p.Month, err)
	}
	return r.WithLastYear(lv.Result)
}

// LastYear is the previous year's assessment whose figures this one's results carry (同比),
// and false when the deployment holds none.
func (m *Monitor) LastYear() (*Monitor, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lastYear, m.lastYear != nil
}

// sameAlerts reports whether two evaluations of the same data raise the same alerts: the
// clock (missing reports becoming overdue) is the only thing that can change them.
func sameAlerts(a, b []kpi.Alert) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key() != b[i].Key() || a[i].Severity != b[i].Severity || a[i].ActiveSince != b[i].ActiveSince || a[i].Summary != b[i].Summary {
			return false
		}
	}
	return true
}

// LastEvaluationDuration is how long the latest computed evaluation of p took.
func (m *Monitor) LastEvaluationDuration(p kpi.Period) time.Duration {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.cache[p]; ok {
		return c.took
	}
	return 0
}

// Refresh publishes what others wrote to the store (another server, `kpimon ingest` on
// the command line): the figures of every batch after the last one the data reflect. It
// tells the OnIngest hooks of each such batch, as if it had come through Ingest, and
// reports whether anything changed.
func (m *Monitor) Refresh(ctx context.Context) (bool, error) {
	m.ingestMu.Lock()
	defer m.ingestMu.Unlock()
	return m.refreshLocked(ctx, 0)
}

// refreshLocked is Refresh with ingestMu held; own is a batch this monitor wrote itself
// (its hooks are told by IngestIf), 0 when none.
func (m *Monitor) refreshLocked(ctx context.Context, own int64) (bool, error) {
	m.mu.RLock()
	after := m.batch
	m.mu.RUnlock()
	ch, err := m.st.ChangedSince(ctx, m.a, after)
	if err != nil {
		return false, err
	}
	if ch.LastBatch == after {
		return false, nil
	}
	// the batches in between, for the ingest hooks (metrics count them like their own)
	var news []store.BatchInfo
	if bs, err := m.st.Batches(ctx, m.a.ID, refreshBatchesMax); err == nil {
		for i := len(bs) - 1; i >= 0; i-- {
			if bs[i].ID > after && bs[i].ID <= ch.LastBatch && bs[i].ID != own {
				news = append(news, bs[i])
			}
		}
	} else {
		m.log.Warn("读取其他服务或命令写入的批次失败", "assessment", m.a.ID, "err", err)
	}
	if err := m.publish(ch.Observations, ch.LastBatch, store.IngestResult{}); err != nil {
		return false, err
	}
	m.log.Info("已载入其他服务或命令写入的数据", "assessment", m.a.ID, "batches", len(news), "observations", len(ch.Observations), "latest_batch", ch.LastBatch)
	for _, b := range news {
		m.ingestedElsewhere(b)
	}
	return true, nil
}

// refreshBatchesMax bounds how many batches written elsewhere one Refresh reports to the
// ingest hooks.
const refreshBatchesMax = 1000

// Watch calls Refresh whenever the store reports a batch of this assessment, and every
// `every` as a fallback, until ctx is done.
func (m *Monitor) Watch(ctx context.Context, every time.Duration) {
	poke := make(chan struct{}, 1)
	go func() {
		if err := m.st.WatchBatches(ctx, func(id string) {
			if id == m.a.ID {
				select {
				case poke <- struct{}{}:
				default:
				}
			}
		}); err != nil && ctx.Err() == nil {
			m.log.Error("监视存储中的新批次失败", "err", err)
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
		if _, err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("刷新数据失败", "assessment", m.a.ID, "err", err)
		}
	}
}

// follow makes m depend on another monitor's data (last year's, for 同比): every change
// there is a new version here too, so that what is cached per version (evaluations,
// pages, metrics) is built again. m's own data do not change; when m's stocks take their
// baselines from last year (`baseline: last_year`), the data are bound to the baselines of
// last year's new data (rebase).
func (m *Monitor) follow(dep *Monitor) {
	m.mu.Lock()
	m.deps = append(m.deps, dep)
	m.mu.Unlock()
	dep.Subscribe(func(Change) {
		// the subscriber runs while dep holds its ingestMu: locks are always taken from the
		// assessment depended on to the one depending on it, never back
		m.ingestMu.Lock()
		defer m.ingestMu.Unlock()
		m.mu.RLock()
		rebase := m.lastYear == dep && m.a.HasLastYearBaselines()
		m.mu.RUnlock()
		if rebase {
			done, err := m.rebaseLocked(dep.Dataset())
			if err != nil {
				m.log.Error("年初基数：按上年数据更新失败", "assessment", m.a.ID, "last_year", dep.a.ID, "err", err)
			}
			if done {
				return
			}
		}
		m.mu.Lock()
		m.version++
		v := m.version
		m.changed[v] = nil // no township's data changed: an incremental evaluation redoes none
		delete(m.changed, v-changeLog)
		subs := append([]func(Change){}, m.subs...)
		m.mu.Unlock()
		for _, f := range subs {
			f(Change{Version: v, Dependency: true, From: dep.a.ID})
		}
	})
}

// rebaseLocked binds the data to the assessment with its `baseline: last_year` stocks'
// baselines taken from last, last year's data (kpi.Assessment.WithLastYearBaselines), when
// they differ from those the data are judged by now, and publishes that as a new version
// whose evaluations are all done again. It reports whether it published. The caller holds
// ingestMu.
func (m *Monitor) rebaseLocked(last *kpi.Dataset) (bool, error) {
	cur := m.Dataset()
	goals := m.a.WithLastYearBaselines(last)
	if goals.SameGoals(cur.Assessment()) {
		return false, nil
	}
	m.cloneMu.Lock()
	next, err := cur.CloneFor(goals)
	m.cloneMu.Unlock()
	if err != nil {
		return false, err
	}
	m.mu.RLock()
	batch := m.batch
	m.mu.RUnlock()
	from := ""
	if m.lastYear != nil {
		from = m.lastYear.a.ID
	}
	m.commit(next, batch, nil, true, Change{Dependency: true, From: from})
	m.log.Info("年初基数已按上年12月数据更新", "assessment", m.a.ID)
	return true, nil
}

// AlertsChanged notes that the alert lifecycle store changed (alerts started, resolved or
// escalated): pages that show it (预警's resolutions) are built again.
func (m *Monitor) AlertsChanged() { m.alerts.Add(1) }

// AlertsVersion grows with every AlertsChanged.
func (m *Monitor) AlertsVersion() uint64 { return m.alerts.Load() }
