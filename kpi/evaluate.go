package kpi

import (
	"bytes"
	"encoding/json"
	"math"
	"runtime"
	"sync"
	"time"
)

// Evaluation is one township × indicator as of a period. Figures are rounded for output:
// actual, target, expected, completion and pace to 4 decimals, score to 2.
type Evaluation struct {
	Township    string    `json:"township"`
	Indicator   string    `json:"indicator"`
	Kind        Kind      `json:"kind"`
	Actual      Num       `json:"actual"`
	Numerator   *Num      `json:"numerator,omitempty"`   // ratio only
	Denominator *Num      `json:"denominator,omitempty"` // ratio only
	Target      Num       `json:"target"`                // ratio: the threshold; milestone: 1
	Expected    Num       `json:"expected"`              // target × f(m) (with a baseline b: b + (target − b) × f(m)); null where not defined
	Baseline    Num       `json:"baseline,omitzero"`     // a stock's 年初基数 where one is set
	Completion  Num       `json:"completion"`
	Pace        Num       `json:"pace"`
	Status      Status    `json:"status"`
	Weight      float64   `json:"weight"`
	Score       Num       `json:"score"`              // null for bonus and veto
	Reported    bool      `json:"reported"`           // the period itself was reported
	Forecast    *Forecast `json:"forecast,omitempty"` // 预计全年: counts and stocks (higher, with a target) and ratios, before December

	// Unreported is, for a city's figure of a county aggregated from the county's own
	// assessment, how many of the county's townships had not reported the period: the
	// figure is incomplete (Dataset.Unreported). 0 otherwise.
	Unreported int `json:"unreported,omitempty"`

	// unrounded figures, for totals and the county aggregate
	rawScore, rawActual, rawNum, rawDen float64
	hasData                             bool // a count, stock or ratio has some report ≤ P
}

// Result is an evaluation of the whole assessment as of a period. Its JSON is the contract's
// shape: {"period", "evaluations" (township-major, in config order), "county"}.
//
// The evaluations are held in one block per township, and a result brought up to date by
// Reevaluate shares the blocks of every township that did not change with the result it
// came from: a Result is never modified once returned.
type Result struct {
	Period    Period
	County    []CountyEvaluation
	Townships []TownshipScore // in config order
	Rankings  []Ranking       // best first
	Alerts    []Alert
	Now       time.Time

	rows       [][]Evaluation // per township, in indicator order
	data       *Dataset       // the data evaluated, kept for Reevaluate
	prevTotals []float64      // each township's total a month earlier, for rank changes
	prevVetoed []bool         // whether each township had a veto a month earlier
	lastYear   *lastYearLayer // the previous year's result, attached by WithLastYear
}

// Assessment is the assessment evaluated: the dataset's, with any baselines filled in from
// last year (Assessment.WithLastYearBaselines).
func (r *Result) Assessment() *Assessment { return r.data.a }

// Data is the dataset evaluated; callers must not modify it.
func (r *Result) Data() *Dataset { return r.data }

// Evaluation returns the evaluation of township index t and indicator index i (nIndicators
// is the assessment's number of indicators, kept for callers written against a flat list).
func (r *Result) Evaluation(t, i int, nIndicators int) *Evaluation {
	return &r.rows[t][i]
}

// TownshipEvaluations returns township index t's evaluations in indicator order; callers
// must not modify them.
func (r *Result) TownshipEvaluations(t int) []Evaluation { return r.rows[t] }

// Evaluations returns every evaluation, township-major in config order, as a new slice.
func (r *Result) Evaluations() []Evaluation {
	n := 0
	for _, row := range r.rows {
		n += len(row)
	}
	out := make([]Evaluation, 0, n)
	for _, row := range r.rows {
		out = append(out, row...)
	}
	return out
}

// MarshalJSON writes the contract's shape (docs/semantics.md), streaming the evaluations
// block by block; with last year attached (WithLastYear) each evaluation that has one
// carries last_year.
func (r *Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"period":"`)
	b.WriteString(r.Period.String())
	b.WriteString(`","evaluations":[`)
	first := true
	for t, row := range r.rows {
		for i := range row {
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := r.marshalEvaluation(&b, t, i); err != nil {
				return nil, err
			}
		}
	}
	b.WriteString(`],"county":`)
	county := r.County
	if county == nil {
		county = []CountyEvaluation{}
	}
	c, err := json.Marshal(county)
	if err != nil {
		return nil, err
	}
	b.Write(c)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// series is one cell's figures as of each month 1 … m, built in one pass over the reports.
type series struct {
	any      [13]bool    // some report at a month ≤ k
	actual   [13]float64 // per kind: sum, latest, done, capped sum, vetoed
	num, den [13]float64 // ratio sums
}

// buildSeries fills s (the caller's, usually on its stack) with the cell's figures as of
// each month 1 … m.
func buildSeries(s *series, ind *Indicator, c *Cell, m int) {
	for k := 1; k <= m; k++ {
		s.any[k], s.actual[k], s.num[k], s.den[k] = s.any[k-1], s.actual[k-1], s.num[k-1], s.den[k-1]
		if !c.Has(k) {
			continue
		}
		s.any[k] = true
		v := c.Value[k-1]
		switch ind.Kind {
		case KindCount:
			s.actual[k] += v
		case KindStock:
			s.actual[k] = v
		case KindRatio:
			s.num[k] += v
			s.den[k] += c.Denominator[k-1]
		case KindMilestone, KindVeto:
			if v > 0 {
				s.actual[k] = 1
			}
		case KindBonus:
			s.actual[k] += v
		}
	}
	if ind.Kind == KindBonus {
		for k := 1; k <= m; k++ {
			if s.actual[k] > ind.Max {
				s.actual[k] = ind.Max
			}
		}
	}
}

// atLeast is a ≥ b, and exceeds a > b, up to floating-point noise: the rules' boundaries are
// exact decimals (7/10 against a threshold of 0.8 − 0.1 is at_risk, though 0.8 − 0.1 is
// 0.7000000000000001 in binary), so figures within a billionth of a boundary count as on it.
func atLeast(a, b float64) bool { return a >= b-boundaryTolerance(b) }

func exceeds(a, b float64) bool { return a > b+boundaryTolerance(b) }

func boundaryTolerance(b float64) float64 { return 1e-9 * max(1, math.Abs(b)) }

// evaluate applies the rules (docs/semantics.md) to one cell at month k; township is the code, for
// per-township targets. The result is unrounded; output rounding happens in finish.
func evaluate(ind *Indicator, township string, s *series, k int) Evaluation {
	e := judge(ind, ind.goalFor(township), s, k)
	e.Township = township
	return e
}

// goal is what a cell is judged against: a count or stock's target (nil: tracked only) and
// baseline (年初基数, stocks only), or a ratio's threshold.
type goal struct {
	target    *float64
	baseline  float64
	threshold float64
}

// goalFor is the indicator's goal for the township, overrides applied.
func (ind *Indicator) goalFor(township string) goal {
	return goal{target: ind.TargetFor(township), baseline: ind.BaselineFor(township), threshold: ind.ThresholdFor(township)}
}

// growthPace is a higher-direction count or stock's pace: the growth from the baseline b
// over the growth expected by now, (a − b) / (x − b), at least 0; undefined (false) when no
// growth is expected yet (x = b). Without a baseline (b = 0) it is the plain actual /
// expected.
func growthPace(a, b, x float64) (float64, bool) {
	if x-b <= 0 {
		return 0, false
	}
	return max(0, (a-b)/(x-b)), true
}

// scoreAt is the cell's unrounded score at month k (its bonus points for a bonus): what
// evaluate's rawScore would be, without building the evaluation. Rank changes need it for
// every cell a month back.
func scoreAt(ind *Indicator, township string, s *series, k int) float64 {
	w := ind.Weight
	switch ind.Kind {
	case KindCount, KindStock:
		g := ind.goalFor(township)
		if g.target == nil || !s.any[k] {
			return 0
		}
		a, t := s.actual[k], *g.target
		if ind.Direction == Lower {
			if exceeds(a, t) {
				return 0
			}
			return w
		}
		pace, ok := growthPace(a, g.baseline, ind.Pacing.ExpectedFrom(g.baseline, t, k))
		if !ok {
			return w
		}
		return w * min(1, pace)
	case KindRatio:
		if !s.any[k] {
			return 0
		}
		if s.den[k] == 0 {
			return w
		}
		a, th := s.num[k]/s.den[k], ind.ThresholdFor(township)
		if ind.DeductPerPoint != nil {
			return max(0, w-*ind.DeductPerPoint*100*max(0, th-a))
		}
		return w * min(1, a/th)
	case KindMilestone:
		if s.actual[k] == 1 || k < ind.Due {
			return w
		}
		return 0
	case KindBonus:
		return s.actual[k]
	}
	return 0
}

// judge applies the rules (docs/semantics.md) with the goal given (target and baseline for a count or
// stock, threshold for a ratio), so the county aggregate is judged by the same code as a
// township.
func judge(ind *Indicator, g goal, s *series, k int) Evaluation {
	e := Evaluation{Indicator: ind.Code, Kind: ind.Kind, Weight: ind.Weight}
	w, th := ind.Weight, g.threshold
	switch ind.Kind {
	case KindCount, KindStock:
		b := g.baseline
		if g.target != nil {
			e.Target = Some(*g.target)
			e.Expected = Some(ind.Pacing.ExpectedFrom(b, *g.target, k))
			if b != 0 {
				e.Baseline = Some(b)
			}
		}
		// no report at all is no_data even for a tracked-only indicator: the
		// no_data rule comes first, so the page says 未报送 rather than 不适用
		if !s.any[k] {
			e.Status = StatusNoData
			break
		}
		a := s.actual[k]
		e.Actual, e.rawActual, e.hasData = Some(a), a, true
		if g.target == nil {
			// tracked only: shown, not scored, no status of its own
			e.Status, e.Weight = StatusNotApplicable, 0
			break
		}
		t, x := *g.target, e.Expected.V
		if ind.Direction == Lower {
			if x > 0 {
				e.Pace = Some(a / x)
			}
			switch {
			case exceeds(a, t):
				e.Status = StatusBehind
			case exceeds(a, x):
				e.Status = StatusAtRisk
			case k == 12:
				e.Status = StatusMet
			default:
				e.Status = StatusOnTrack
			}
			if e.Status != StatusBehind {
				e.rawScore = w
			}
			break
		}
		// direction higher: completion and pace measure the growth from the baseline (a
		// stock's 年初基数; 0 for everything else), each at least 0
		pace, paced := growthPace(a, b, x)
		if paced {
			e.Pace = Some(pace)
		}
		if t-b > 0 {
			e.Completion = Some(max(0, (a-b)/(t-b)))
		}
		switch {
		case atLeast(a, t):
			e.Status = StatusMet
		case atLeast(a, x):
			e.Status = StatusOnTrack
		case atLeast(a-b, ind.Warn*(x-b)):
			e.Status = StatusAtRisk
		default:
			e.Status = StatusBehind
		}
		if !paced {
			e.rawScore = w
		} else {
			e.rawScore = w * min(1, pace)
		}
	case KindRatio:
		e.Target = Some(th)
		if !s.any[k] {
			e.Status = StatusNoData
			break
		}
		// Numerator and Denominator are set by finish, from rawNum and rawDen
		e.rawNum, e.rawDen, e.hasData = s.num[k], s.den[k], true
		if s.den[k] == 0 {
			e.Status, e.rawScore = StatusNotApplicable, w
			break
		}
		a := s.num[k] / s.den[k]
		e.Actual = Some(a)
		e.Completion = Some(a / th)
		switch {
		case atLeast(a, th):
			e.Status = StatusMet
		case atLeast(a, th-ind.Margin):
			e.Status = StatusAtRisk
		default:
			e.Status = StatusBehind
		}
		if ind.DeductPerPoint != nil {
			e.rawScore = max(0, w-*ind.DeductPerPoint*100*max(0, th-a))
		} else {
			e.rawScore = w * min(1, a/th)
		}
	case KindMilestone:
		done := s.actual[k]
		e.Actual, e.Target, e.Completion, e.rawActual = Some(done), Some(1), Some(done), done
		switch {
		case done == 1:
			e.Status = StatusMet
		case k < ind.Due:
			e.Status = StatusOnTrack
		default:
			e.Status = StatusBehind
		}
		if e.Status != StatusBehind {
			e.rawScore = w
		}
	case KindBonus:
		e.Actual, e.Target, e.rawScore, e.rawActual = Some(s.actual[k]), Some(ind.Max), s.actual[k], s.actual[k]
	case KindVeto:
		e.Actual, e.rawActual = Some(s.actual[k]), s.actual[k]
	}
	return e
}

// finish rounds the evaluation's figures for output.
//
// A ratio's numerator and denominator are written into pair (one allocation for both
// when pair is nil), so that judging a ratio allocates nothing until its result is kept.
func (e *Evaluation) finish(reported bool, pair *[2]Num) {
	if e.Kind == KindRatio && e.hasData {
		if pair == nil {
			pair = new([2]Num)
		}
		pair[0], pair[1] = Some(e.rawNum), Some(e.rawDen)
		e.Numerator, e.Denominator = &pair[0], &pair[1]
	}
	e.Reported = reported
	e.Actual, e.Target, e.Expected, e.Baseline = round4(e.Actual), round4(e.Target), round4(e.Expected), round4(e.Baseline)
	e.Completion, e.Pace = round4(e.Completion), round4(e.Pace)
	if e.Numerator != nil {
		*e.Numerator, *e.Denominator = round4(*e.Numerator), round4(*e.Denominator)
	}
	if e.Kind.Scored() {
		e.Score = Some(Round(e.rawScore, 2))
	}
}

// Evaluate evaluates the assessment as of period p: every township × indicator, the county
// as a whole, scores, grades, the ranking with its change from the month before, and the
// alerts that hold as of p. now decides which report deadlines have passed.
func Evaluate(d *Dataset, p Period, now time.Time) (*Result, error) {
	a := d.a
	if p.Year != a.Year {
		return nil, badPeriod("月份 %s 不在考核年度 %d 内", p, a.Year)
	}
	if p.Month < 1 || p.Month > 12 {
		return nil, badPeriod("月份 %s 的月数 %d 不对，应在 1 到 12 之间", p, p.Month)
	}
	nI := len(a.Indicators)
	block := make([]Evaluation, len(a.Townships)*nI) // one allocation, cut into township rows
	r := &Result{
		Period: p, Now: now, data: d,
		rows:       make([][]Evaluation, len(a.Townships)),
		prevTotals: make([]float64, len(a.Townships)),
		prevVetoed: make([]bool, len(a.Townships)),
		Townships:  make([]TownshipScore, len(a.Townships)),
	}
	for t := range r.rows {
		r.rows[t] = block[t*nI : (t+1)*nI : (t+1)*nI]
	}
	// Townships are independent until the ranking: a large assessment is evaluated on every
	// core, each worker with its own alerts (sortAlerts gives them one order afterwards).
	nT := len(a.Townships)
	workers := max(1, min(runtime.GOMAXPROCS(0), nT/townshipsPerWorker))
	evs := make([]*alertEvaluator, workers)
	var wg sync.WaitGroup
	for w := range evs {
		ev := newAlertEvaluator(a, p, now)
		ev.data = d
		evs[w] = ev
		lo, hi := w*nT/workers, (w+1)*nT/workers
		run := func() {
			for t := lo; t < hi; t++ {
				r.evaluateTownship(t, ev)
			}
		}
		if workers == 1 {
			run()
			break
		}
		wg.Go(run)
	}
	wg.Wait()
	r.Alerts = collect(evs...)
	r.conclude()
	return r, nil
}

// townshipsPerWorker is the fewest townships worth a goroutine of their own.
const townshipsPerWorker = 256

// evaluateTownship evaluates every indicator of township t into r, with its score, its
// forecasts, its alerts (added to ev) and its total a month earlier.
func (r *Result) evaluateTownship(t int, ev *alertEvaluator) {
	d, a, m := r.data, r.data.a, r.Period.Month
	row := r.rows[t]
	code := a.Townships[t].Code
	nI := len(a.Indicators)
	w := ev.work(nI)
	prev, prevVeto := 0.0, false
	// one block for the township's ratio figures and one for its forecasts, instead of one
	// allocation per ratio or forecast
	var pairs [][2]Num
	if nR := a.ratioCount(); nR > 0 {
		pairs = make([][2]Num, 0, nR)
	}
	nF := 0
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		c := d.Cell(t, i)
		s := &w.series[i]
		*s = series{}
		buildSeries(s, ind, c, m)
		g := ind.goalFor(code)
		w.cells[i] = fcCell{ind: ind, g: g, c: c, s: s, share: d.units.Share(t, i)}
		if m < 12 && forecastable(ind, g) && pooled(&w.cells[i]) {
			w.cells[i].pre = &w.prefixes[i]
			w.prefixes[i].build(&w.cells[i], m)
		}
		e := judge(ind, g, s, m)
		e.Township = code
		if m > 1 && (ind.Kind.Scored() || ind.Kind == KindBonus) {
			prev += scoreAt(ind, code, s, m-1)
		}
		if m > 1 && ind.Kind == KindVeto && s.actual[m-1] > 0 {
			prevVeto = true
		}
		row[i] = e
	}
	forecastTownship(w.cells, m, &w.pool, w.forecasts)
	for i := range w.forecasts {
		if w.forecasts[i].ok {
			nF++
		}
	}
	var fcs []Forecast
	if nF > 0 {
		fcs = make([]Forecast, 0, nF)
	}
	w.nEarlier = 0
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		c, s, e := w.cells[i].c, w.cells[i].s, &row[i]
		if rf := w.forecasts[i]; rf.ok {
			needed := Num{}
			if ind.Kind != KindRatio {
				needed = neededPerMonth(*w.cells[i].g.target, e.rawActual, m)
			}
			fcs = append(fcs, rf.output(needed))
			e.Forecast = &fcs[len(fcs)-1]
		}
		if d.gaps != nil {
			e.Unreported = d.Unreported(t, i, m)
		}
		ev.cell(t, i, ind, code, c, s, e, w)
		var pair *[2]Num
		if ind.Kind == KindRatio && e.hasData {
			pairs = append(pairs, [2]Num{})
			pair = &pairs[len(pairs)-1]
		}
		e.finish(c.Has(m), pair)
	}
	r.prevTotals[t], r.prevVetoed[t] = prev, prevVeto
	r.Townships[t] = scoreTownship(a, row, t)
}

// townshipWork is one worker's scratch space for a township's evaluation, reused from
// township to township: the series of every indicator, the forecasts' inputs and outputs,
// and the forecasts of earlier months worked out for alerts' active_since.
type townshipWork struct {
	series    []series
	cells     []fcCell
	prefixes  []growthPrefix
	forecasts []rawForecast
	pool      townshipPool
	earlier   []townshipPool // the first nEarlier are this township's earlier months; the rest are buffers to reuse
	nEarlier  int
}

// forecastAt is the township's forecast of cell i as of month k (≤ the month evaluated, m).
// An earlier month's pool is prepared once per township, and only the cells asked about are
// forecast from it: forecast_miss needs them to date its run.
func (w *townshipWork) forecastAt(i, k int, m int) rawForecast {
	if k == m {
		return w.forecasts[i]
	}
	for j := range w.earlier[:w.nEarlier] {
		if w.earlier[j].k == k {
			return w.earlier[j].forecast(w.cells, i)
		}
	}
	if w.nEarlier == len(w.earlier) {
		w.earlier = append(w.earlier, townshipPool{})
	}
	tp := &w.earlier[w.nEarlier]
	w.nEarlier++
	tp.prepare(w.cells, k)
	return tp.forecast(w.cells, i)
}

// conclude ranks the townships, aggregates the county and orders the alerts, from the
// townships' evaluations.
func (r *Result) conclude() {
	r.Rankings = rank(r.Townships, r.prevTotals, r.prevVetoed, r.Period.Month > 1)
	r.County = countyFrom(r.data, r.rows, r.Period.Month)
	r.Alerts = sortAlerts(r.Alerts)
}
