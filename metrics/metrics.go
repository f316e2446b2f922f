// Package metrics exposes kpimon's figures and its own health to Prometheus.
//
// An Exporter serves an immutable snapshot of the current evaluation: the exposition text of
// every series is written once when the data change (or the clock moves a deadline), with
// its gzip form, and the snapshot is swapped atomically, so a scrape never sees half an
// update, never queries the database, never holds a lock and costs no more than writing
// cached bytes (a province of 2,000 townships has a million series; client_golang's gather
// path would spend seconds per scrape on them). Series come only from the current snapshot:
// a township or indicator that disappears takes its series with it. kpimon's own health
// (batches, ingest time, evaluation duration) and the Go and process collectors go through
// a client_golang registry as usual and are served in the same response (Handler).
//
// Metric and label names are an API: the Grafana dashboards in dashboards/ and the rule
// file `kpimon rules` writes depend on them (Names lists them). Codes are the identity
// labels (assessment, township, indicator); the Chinese names ride along (township_name,
// indicator_name). Every series carries its assessment's id, so that one Prometheus can
// hold several assessments (each year's, each county's): /metrics?assessment=ID serves one
// assessment as its own target (Targets), and the health metrics carry the label too. The
// figures describe one period: the latest month that has reports (as the pages do) unless a
// fixed period is given. The alert lifecycle (package alerting) goes on to a later month
// whose deadline has passed, so that a month nobody reported is still overdue with the
// clock.
package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

// Options tune an Exporter; the zero value is sensible.
type Options struct {
	Period   kpi.Period    // a fixed period; zero means the live period
	Interval time.Duration // re-evaluate this often even without new data; 1 minute by default
	Logger   *slog.Logger
}

// Exporter is the Prometheus collector of one monitor. It is safe for concurrent use.
type Exporter struct {
	mon      *monitor.Monitor
	id       string // the assessment's id, the assessment label of every series
	fixed    kpi.Period
	interval time.Duration
	log      *slog.Logger
	d        *descs
	snap     atomic.Pointer[snapshot]
	changed  chan struct{}
	building sync.Mutex // one Refresh at a time: d's buffers are reused

	ingested     *prometheus.CounterVec
	accepted     prometheus.Counter
	rejected     *prometheus.CounterVec
	lastIngest   prometheus.Gauge
	lastAt       atomic.Int64 // lastIngest in Unix nanoseconds, moved only forward
	evalDuration prometheus.Histogram
}

// snapshot is one immutable set of series, as exposition text and gzipped.
type snapshot struct {
	period kpi.Period
	series int
	text   []byte // Prometheus text format 0.0.4
	gz     []byte // text, gzipped once (a gzip member; the response may start with another)
}

// New builds an exporter for the monitor and evaluates once, so the first scrape has
// figures. It registers a hook on the monitor to count ingested and refused batches.
func New(ctx context.Context, mon *monitor.Monitor, opt Options) (*Exporter, error) {
	id := mon.Assessment().ID
	own := prometheus.Labels{"assessment": id}
	e := &Exporter{
		mon: mon, id: id, fixed: opt.Period, interval: opt.Interval, log: opt.Logger,
		d: newDescs(), changed: make(chan struct{}, 1),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "kpimon_observations_ingested_total",
			Help:        "Observations in accepted batches, by result: new (first report of a key), corrected (a changed value), unchanged (re-reported as it was).",
			ConstLabels: own,
		}, []string{"result"}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "kpimon_batches_accepted_total",
			Help:        "Batches accepted by ingest (including batches that changed nothing, and batches written by another process).",
			ConstLabels: own,
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "kpimon_batches_rejected_total",
			Help:        "Batches refused whole, by reason: invalid (a row broke a rule, every row reported) or failed (storage refused or failed).",
			ConstLabels: own,
		}, []string{"reason"}),
		lastIngest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "kpimon_last_ingest_timestamp_seconds",
			Help:        "When the latest batch that changed data was written (Unix time), by this server or another process; 0 before any.",
			ConstLabels: own,
		}),
		evalDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "kpimon_evaluation_duration_seconds",
			Help:        "Time to evaluate the assessment and build the metric snapshot.",
			Buckets:     prometheus.ExponentialBuckets(0.0005, 4, 10),
			ConstLabels: own,
		}),
	}
	if e.interval <= 0 {
		e.interval = time.Minute
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if !e.fixed.IsZero() && e.fixed.Year != mon.Assessment().Year {
		return nil, fmt.Errorf("metrics: period %s is outside the assessment year %d", e.fixed, mon.Assessment().Year)
	}
	for _, r := range []string{"new", "corrected", "unchanged"} {
		e.ingested.WithLabelValues(r)
	}
	for _, r := range []string{"invalid", "failed"} {
		e.rejected.WithLabelValues(r)
	}
	last, ok, err := mon.Store().LastReport(ctx, id, kpi.Period{})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if ok {
		e.noteIngest(last)
	}
	mon.OnIngest(e.observeIngest)
	mon.Subscribe(func(monitor.Change) { e.poke() })
	if err := e.Refresh(); err != nil {
		return nil, err
	}
	return e, nil
}

// observeIngest counts one batch handed to the monitor.
func (e *Exporter) observeIngest(o monitor.IngestOutcome) {
	if !o.Accepted() {
		reason := "failed"
		if errors.Is(o.Err, monitor.ErrInvalid) {
			reason = "invalid"
		}
		e.rejected.WithLabelValues(reason).Inc()
		return
	}
	e.accepted.Inc()
	e.ingested.WithLabelValues("new").Add(float64(o.Result.New))
	e.ingested.WithLabelValues("corrected").Add(float64(o.Result.Corrected))
	e.ingested.WithLabelValues("unchanged").Add(float64(o.Result.Unchanged))
	if o.Result.BatchID != 0 {
		e.noteIngest(o.At)
	}
}

// noteIngest moves the last ingest time forward to at (batches found by a refresh may be
// older than one already counted).
func (e *Exporter) noteIngest(at time.Time) {
	for {
		old := e.lastAt.Load()
		if at.UnixNano() <= old {
			return
		}
		if e.lastAt.CompareAndSwap(old, at.UnixNano()) {
			e.lastIngest.Set(unix(at))
			return
		}
	}
}

// poke asks Run to refresh soon; it never blocks.
func (e *Exporter) poke() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// Period is the period the current figures describe.
func (e *Exporter) Period() kpi.Period { return e.snap.Load().period }

// Series is the number of series in the current snapshot (kpimon's figures, not counting
// the health metrics).
func (e *Exporter) Series() int { return e.snap.Load().series }

// Refresh evaluates the assessment now and swaps in a new snapshot.
func (e *Exporter) Refresh() error {
	e.building.Lock()
	defer e.building.Unlock()
	p := e.fixed
	if p.IsZero() {
		p = e.mon.DefaultPeriod() // the latest month with reports that has ended (monitor.ReportedPeriod)
	}
	start := time.Now()
	// shared with the pages: cached per data version, incremental after an ingest
	view, err := e.mon.EvaluateView(p)
	if err != nil {
		return fmt.Errorf("metrics: evaluate %s: %w", p, err)
	}
	s, err := e.d.build(e.mon.Assessment(), view.Data, view.Version, view.Result)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	e.evalDuration.Observe(time.Since(start).Seconds())
	e.snap.Store(s)
	return nil
}

// Run refreshes the snapshot after every change of the data and every interval, until ctx
// is done.
func (e *Exporter) Run(ctx context.Context) error {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.changed:
		case <-t.C:
		}
		if err := e.Refresh(); err != nil {
			e.log.Error("刷新指标失败", "err", err)
		}
	}
}

// Describe sends the descriptors of the health metrics; register the exporter on the
// registry that Handler serves. The figures are served from the snapshot by Handler.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	e.ingested.Describe(ch)
	e.accepted.Describe(ch)
	e.rejected.Describe(ch)
	e.lastIngest.Describe(ch)
	e.evalDuration.Describe(ch)
}

// Collect sends the health metrics.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.ingested.Collect(ch)
	e.accepted.Collect(ch)
	e.rejected.Collect(ch)
	e.lastIngest.Collect(ch)
	e.evalDuration.Collect(ch)
}

// Names lists every metric name kpimon's own collector can expose (the Go and process
// collectors' go_* and process_* come on top), sorted.
func Names() []string {
	names := []string{
		"kpimon_observations_ingested_total", "kpimon_batches_accepted_total", "kpimon_batches_rejected_total",
		"kpimon_last_ingest_timestamp_seconds", "kpimon_evaluation_duration_seconds",
	}
	for _, d := range newDescs().specs {
		names = append(names, d.name)
	}
	sort.Strings(names)
	return names
}

// Label sets. Every figure's series starts with the assessment's id.
var (
	cellLabels      = []string{"assessment", "township", "township_name", "indicator", "indicator_name"}
	townshipLabels  = []string{"assessment", "township", "township_name"}
	indicatorLabels = []string{"assessment", "indicator", "indicator_name"}
	assessLabels    = []string{"assessment"}
)

// spec is one metric's name, help and labels, with the series written so far while a
// snapshot is built.
type spec struct {
	name, help string
	labels     []string
	order      []int // label positions in name order, as the text format conventionally writes them
	buf        []byte
	series     int
}

// descs holds the descriptors of the snapshot's metrics, made once per exporter.
type descs struct {
	specs []*spec

	actual, target, expected, completion, pace, score, status, reported, behindMonths *spec
	forecast, forecastLow, forecastHigh, needed, periodMonth, forecastFrom            *spec
	indInfo, weight, countyActual, countyTarget, countyCompletion, countyReported     *spec
	townInfo, total, base, bonus, category, rank, grade, veto                         *spec
	alert, assessInfo, deadline, evaluatedAt, observations, version                   *spec
}

func newDescs() *descs {
	d := &descs{}
	mk := func(name, help string, labels ...[]string) *spec {
		var ls []string
		for _, l := range labels {
			ls = append(ls, l...)
		}
		s := &spec{name: name, help: help, labels: ls}
		s.order = make([]int, len(ls))
		for i := range s.order {
			s.order[i] = i
		}
		sort.Slice(s.order, func(i, j int) bool { return ls[s.order[i]] < ls[s.order[j]] })
		d.specs = append(d.specs, s)
		return s
	}
	d.actual = mk("kpimon_indicator_actual", "The indicator's actual as of the period (累计完成; a ratio as a fraction; 1 when a milestone is done).", cellLabels)
	d.target = mk("kpimon_indicator_target", "The annual target (年度目标); a ratio's threshold; 1 for a milestone; a bonus's cap.", cellLabels)
	d.expected = mk("kpimon_indicator_expected", "The figure expected by the period (序时进度 = target × pacing fraction).", cellLabels)
	d.completion = mk("kpimon_indicator_completion_ratio", "Actual / annual target (完成率); a ratio: actual / threshold.", cellLabels)
	d.pace = mk("kpimon_indicator_pace_ratio", "Actual / expected figure (序时完成率).", cellLabels)
	d.score = mk("kpimon_indicator_score", "Points scored on the indicator (得分), out of its weight.", cellLabels)
	d.status = mk("kpimon_indicator_status", "The indicator's status as a state set: 1 for the current status, 0 for the others.", cellLabels, []string{"status"})
	d.reported = mk("kpimon_indicator_reported", "1 when the period itself was reported for the indicator (本月已报送), else 0; only for the kinds reported every month (count, stock, ratio). A city's figure of a county is 1 when every township of the county reported.", cellLabels)
	d.behindMonths = mk("kpimon_indicator_behind_months", "Consecutive months up to the period in which a count, stock or milestone has been behind (连续滞后月数); 0 when not behind.", cellLabels)
	d.forecast = mk("kpimon_indicator_forecast", "预计全年: the forecast of the indicator's actual in December (year_end), as of the period; only where the evaluation has one (counts and stocks of direction higher with a target, ratios as a fraction; months before December).", cellLabels)
	d.forecastLow = mk("kpimon_indicator_forecast_low", "The low end of the forecast's 80% interval of the December actual (预计全年区间下限).", cellLabels)
	d.forecastHigh = mk("kpimon_indicator_forecast_high", "The high end of the forecast's 80% interval of the December actual (预计全年区间上限); under the target, the forecast_miss alert holds from forecast_from.", cellLabels)
	d.needed = mk("kpimon_indicator_needed_per_month", "每月还需: what each remaining month must add to reach the target, (target − actual) / (12 − month), at least 0; counts and stocks with a forecast.", cellLabels)
	d.indInfo = mk("kpimon_indicator_info", "Indicator metadata (指标): category, unit, kind and direction; always 1.", indicatorLabels, []string{"category", "unit", "kind", "direction"})
	d.weight = mk("kpimon_indicator_weight", "The indicator's weight in points (分值).", indicatorLabels)
	d.countyActual = mk("kpimon_county_indicator_actual", "The county's actual (全县合计; ratios: summed numerators / summed denominators; milestones: the fraction of townships done).", indicatorLabels)
	d.countyTarget = mk("kpimon_county_indicator_target", "The county's target: the sum of the townships' targets; a ratio's threshold.", indicatorLabels)
	d.countyCompletion = mk("kpimon_county_indicator_completion_ratio", "The county's actual / target.", indicatorLabels)
	d.countyReported = mk("kpimon_county_indicator_reported_townships", "Townships that reported the indicator for the period.", indicatorLabels)
	d.townInfo = mk("kpimon_township_info", "Township metadata (乡镇、街道); always 1.", townshipLabels)
	d.total = mk("kpimon_township_score", "The township's total score (总分 = base + bonus).", townshipLabels)
	d.base = mk("kpimon_township_base_score", "The township's base score (基础分): the sum of its indicator scores.", townshipLabels)
	d.bonus = mk("kpimon_township_bonus_score", "The township's bonus points (加分), capped.", townshipLabels)
	d.category = mk("kpimon_township_category_score", "The township's score in one category (分类得分).", townshipLabels, []string{"category"})
	d.rank = mk("kpimon_township_rank", "The township's rank (名次; 1 is best; equal totals share a rank).", townshipLabels)
	d.grade = mk("kpimon_township_grade", "The township's grade (等次) as a state set: 1 for its grade, 0 for the others.", townshipLabels, []string{"grade"})
	d.veto = mk("kpimon_township_veto", "1 when a veto (一票否决) applies to the township, else 0.", townshipLabels)
	d.alert = mk("kpimon_alert_active", "1 for every alert that holds as of the period; identity (assessment, alertname, township, indicator).",
		[]string{"alertname", "severity"}, cellLabels)
	d.assessInfo = mk("kpimon_assessment_info", "The assessment (考核): its name and year, and the period the figures describe; always 1.", assessLabels, []string{"assessment_name", "year", "period"})
	d.deadline = mk("kpimon_report_deadline_timestamp_seconds", "When the period's reports become overdue (Unix time): 00:00 after the report deadline day.", assessLabels)
	d.evaluatedAt = mk("kpimon_evaluation_timestamp_seconds", "When the figures were evaluated (Unix time).", assessLabels)
	d.observations = mk("kpimon_observations", "Observations currently held for the assessment year.", assessLabels)
	d.version = mk("kpimon_data_version", "The data version; it grows with every batch that changes data.", assessLabels)
	d.periodMonth = mk("kpimon_period_month", "The month (1–12) of the period the figures describe.", assessLabels)
	d.forecastFrom = mk("kpimon_forecast_from_month", "The month from which forecast_miss alerts run, to November (config forecast_from, default 4).", assessLabels)
	return d
}

// build makes the snapshot of one evaluation. Building reuses d's buffers: the caller
// (Refresh) holds the exporter's building lock.
func (d *descs) build(a *kpi.Assessment, data *kpi.Dataset, version uint64, r *kpi.Result) (*snapshot, error) {
	d.fill(a, data, version, r)
	return d.snapshot(r.Period)
}

// fill writes the series of one evaluation into the specs' buffers. Label sets are unique
// by construction: codes are unique in a validated config, each cell is visited once, and
// an alert's identity (alert, township, indicator) is unique in a kpi.Result.
func (d *descs) fill(a *kpi.Assessment, data *kpi.Dataset, version uint64, r *kpi.Result) {
	nI := len(a.Indicators)
	for _, s := range d.specs {
		s.buf, s.series = s.buf[:0], 0
	}
	gauge := func(s *spec, v float64, labels ...string) {
		s.buf = appendSeries(s.buf, s, v, labels)
		s.series++
	}
	num := func(s *spec, n kpi.Num, labels ...string) {
		if n.Valid {
			gauge(s, n.V, labels...)
		}
	}
	// runs of behind months, from the alerts whose active_since is the start of that run
	behind := map[[2]string]int{}
	for _, al := range r.Alerts {
		if al.Alert == kpi.AlertBehindPace || al.Alert == kpi.AlertCeilingBreached {
			behind[[2]string{al.Township, al.Indicator}] = r.Period.Month - al.ActiveSince.Month + 1
		}
	}
	statuses := kpi.AllStatuses()
	id := a.ID
	for t, tw := range a.Townships {
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			e := r.Evaluation(t, i, nI)
			l := []string{id, tw.Code, tw.Name, ind.Code, ind.Name}
			num(d.actual, e.Actual, l...)
			num(d.target, e.Target, l...)
			num(d.expected, e.Expected, l...)
			num(d.completion, e.Completion, l...)
			num(d.pace, e.Pace, l...)
			num(d.score, e.Score, l...)
			if ind.Kind.ReportedMonthly() {
				// milestones, bonuses and vetoes are reported when they happen: a 0 would
				// count them as missing reports. A city's figure of a county is reported when
				// every township of the county reported it (Unreported counts the others).
				gauge(d.reported, b2f(e.Reported && e.Unreported == 0), l...)
			}
			if e.Status != "" {
				for _, s := range statuses {
					gauge(d.status, b2f(e.Status == s), append(l[:5:5], string(s))...)
				}
			}
			if f := e.Forecast; f != nil {
				gauge(d.forecast, f.YearEnd, l...)
				gauge(d.forecastLow, f.Low, l...)
				gauge(d.forecastHigh, f.High, l...)
				num(d.needed, f.NeededPerMonth, l...)
			}
			if e.Status != kpi.StatusNotApplicable && (ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock || ind.Kind == kpi.KindMilestone) {
				gauge(d.behindMonths, float64(behind[[2]string{tw.Code, ind.Code}]), l...)
			}
		}
	}
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		l := []string{id, ind.Code, ind.Name}
		gauge(d.indInfo, 1, id, ind.Code, ind.Name, ind.Category, ind.Unit, string(ind.Kind), string(ind.Direction))
		gauge(d.weight, ind.Weight, l...)
		c := &r.County[i]
		num(d.countyActual, c.Actual, l...)
		num(d.countyTarget, c.Target, l...)
		num(d.countyCompletion, c.Completion, l...)
		gauge(d.countyReported, float64(c.Reported), l...)
	}
	ranks := make(map[string]int, len(r.Rankings))
	for _, x := range r.Rankings {
		ranks[x.Township] = x.Rank
	}
	cats := a.Categories()
	for _, ts := range r.Townships {
		l := []string{id, ts.Township, ts.Name}
		gauge(d.townInfo, 1, l...)
		gauge(d.total, ts.Total, l...)
		gauge(d.base, ts.Base, l...)
		gauge(d.bonus, ts.Bonus, l...)
		for _, c := range cats {
			gauge(d.category, ts.Categories[c], id, ts.Township, ts.Name, c)
		}
		gauge(d.rank, float64(ranks[ts.Township]), l...)
		seen := map[string]bool{}
		for _, g := range a.Grades {
			if seen[g.Name] {
				continue
			}
			seen[g.Name] = true
			gauge(d.grade, b2f(ts.Grade == g.Name), id, ts.Township, ts.Name, g.Name)
		}
		gauge(d.veto, b2f(ts.Veto), l...)
	}
	for _, al := range r.Alerts {
		gauge(d.alert, 1, al.Alert, al.Severity, id, al.Township, al.TownshipName, al.Indicator, al.IndicatorName)
	}
	gauge(d.assessInfo, 1, id, a.Name, strconv.Itoa(a.Year), r.Period.String())
	gauge(d.deadline, unix(r.Period.Deadline(a.ReportDeadlineDay, a.Location)), id)
	gauge(d.evaluatedAt, unix(r.Now), id)
	gauge(d.observations, float64(data.Len()), id)
	gauge(d.version, float64(version), id)
	gauge(d.periodMonth, float64(r.Period.Month), id)
	gauge(d.forecastFrom, float64(a.ForecastFrom), id)
}

// snapshot joins the families written by build into exposition text and gzips it.
func (d *descs) snapshot(p kpi.Period) (*snapshot, error) {
	size := 0
	for _, s := range d.specs {
		size += len(s.buf) + len(s.help) + 2*len(s.name) + 32
	}
	snap := &snapshot{period: p, text: make([]byte, 0, size)}
	for _, s := range d.specs {
		if s.series == 0 {
			continue // like client_golang, a family without series is not written
		}
		snap.series += s.series
		snap.text = append(snap.text, "# HELP "...)
		snap.text = append(snap.text, s.name...)
		snap.text = append(snap.text, ' ')
		snap.text = appendEscaped(snap.text, s.help, false)
		snap.text = append(snap.text, "\n# TYPE "...)
		snap.text = append(snap.text, s.name...)
		snap.text = append(snap.text, " gauge\n"...)
		snap.text = append(snap.text, s.buf...)
		if cap(s.buf) > 1<<20 {
			s.buf = nil // do not keep a province's worth of buffer between refreshes
		}
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(snap.text); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	snap.gz = gz.Bytes()
	return snap, nil
}

// appendSeries writes one series line: name{labels} value.
func appendSeries(b []byte, s *spec, v float64, values []string) []byte {
	b = append(b, s.name...)
	if len(values) > 0 {
		b = append(b, '{')
		for k, i := range s.order {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, s.labels[i]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

// appendEscaped escapes a label value (backslash, double quote, newline) or a HELP text
// (backslash, newline) for the text format.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// Handler serves the exposition: the registry's families (this assessment's health
// metrics, the Go and process collectors) written per request, then the snapshot's cached
// figures. A scraper that accepts gzip (Prometheus does) gets the registry's part gzipped
// on the fly followed by the snapshot's precompressed member, a valid multi-member gzip
// stream.
func (e *Exporter) Handler(g prometheus.Gatherer) http.Handler { return e.handler(g, true) }

// handler is Handler; process says whether the registry's families without an assessment
// label (the Go and process collectors, kpimon's own counters of the whole server) come
// too, or only this assessment's.
func (e *Exporter) handler(g prometheus.Gatherer, process bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfs, err := g.Gather()
		if err != nil {
			e.log.Error("指标：收集失败", "err", err)
			http.Error(w, "读取指标失败", http.StatusInternalServerError)
			return
		}
		var head bytes.Buffer
		for _, mf := range mfs {
			if mf = ownSeries(mf, e.id, process); mf == nil {
				continue
			}
			if _, err := expfmt.MetricFamilyToText(&head, mf); err != nil {
				e.log.Error("指标：编码失败", "err", err)
				http.Error(w, "编码指标失败", http.StatusInternalServerError)
				return
			}
		}
		snap := e.snap.Load()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if !acceptsGzip(r) {
			w.Header().Set("Content-Length", strconv.Itoa(head.Len()+len(snap.text)))
			w.Write(head.Bytes())
			w.Write(snap.text)
			return
		}
		var zhead bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zhead, gzip.BestSpeed)
		zw.Write(head.Bytes())
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("Content-Length", strconv.Itoa(zhead.Len()+len(snap.gz)))
		w.Write(zhead.Bytes())
		w.Write(snap.gz)
	})
}

// processHandler serves the registry's families without an assessment label only.
func (e *Exporter) processHandler(g prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfs, err := g.Gather()
		if err != nil {
			e.log.Error("指标：收集失败", "err", err)
			http.Error(w, "读取指标失败", http.StatusInternalServerError)
			return
		}
		var b bytes.Buffer
		for _, mf := range mfs {
			if mf = ownSeries(mf, "", true); mf != nil {
				if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
					http.Error(w, "编码指标失败", http.StatusInternalServerError)
					return
				}
			}
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(b.Bytes())
	})
}

// ownSeries keeps the series of a gathered family that belong to one scrape: those
// labelled with the assessment id (none when id is empty), and with unlabelled those with
// no assessment label.
func ownSeries(mf *dto.MetricFamily, id string, unlabelled bool) *dto.MetricFamily {
	keep := mf.Metric[:0:0]
	for _, m := range mf.Metric {
		of, labelled := "", false
		for _, l := range m.GetLabel() {
			if l.GetName() == "assessment" {
				of, labelled = l.GetValue(), true
				break
			}
		}
		if (labelled && id != "" && of == id) || (!labelled && unlabelled) {
			keep = append(keep, m)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit, Metric: keep}
}

// Targets serves several assessments' exporters at one address, as a multi-target
// exporter: /metrics?assessment=ID is that assessment's figures and health (scraped as a
// target of its own, so one scrape carries one assessment's series), and /metrics without
// the parameter is the default assessment's, with the Go and process collectors.
type Targets struct {
	byID map[string]*Exporter
	def  *Exporter
	g    prometheus.Gatherer
}

// NewTargets serves the exporters over the registry g; def is the default assessment's.
func NewTargets(g prometheus.Gatherer, def *Exporter, more ...*Exporter) *Targets {
	t := &Targets{byID: map[string]*Exporter{def.id: def}, def: def, g: g}
	for _, e := range more {
		t.byID[e.id] = e
	}
	return t
}

// ServeHTTP serves one assessment's scrape; ?target=process serves only kpimon's process
// (the Go and process collectors and counters of the whole server), for a scrape job of
// its own beside the assessments' targets.
func (t *Targets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("assessment")
	if r.URL.Query().Get("target") == "process" {
		t.def.processHandler(t.g).ServeHTTP(w, r)
		return
	}
	if id == "" {
		t.def.handler(t.g, true).ServeHTTP(w, r)
		return
	}
	e, ok := t.byID[id]
	if !ok {
		http.Error(w, fmt.Sprintf("没有编号为 %q 的考核", id), http.StatusNotFound)
		return
	}
	e.handler(t.g, false).ServeHTTP(w, r)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
