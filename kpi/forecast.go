package kpi

import "math"

// Forecast is 预计全年: where an indicator will stand in December, as of a month before
// December. Every count and stock (direction higher, with a target) and every ratio carries
// one, and so does the county aggregate for its sums. Figures are rounded to 4 decimals.
//
// The method, in short (docs/forecast.md has it in full, with the backtests that chose it):
//
// The floor is the profile run rate. A count's is actual / f(L), where L is the latest
// month the township reported (a month not yet reported is not taken as a zero: the
// forecast runs from the last report) and f the indicator's pacing profile (linear for
// `pacing: none`); a stock's is its latest level plus its average monthly growth so far ×
// (12 − L), growth from the baseline (年初基数) where one is set, else from the first
// reported level; a ratio's is its actual.
//
// kpimon's estimate for a count, and for a stock with a baseline (forecast as a count of
// its growth from the baseline, on a linear profile), keeps what is done and forecasts the
// rest of the year at a pace p̂:
//
//	year_end = actual + (target − baseline) × (1 − f(L)) × p̂
//
// p̂ is the indicator's own pace (the run rate in units of the target: actual / (target ×
// f(L))) shrunk toward the township's pace on its other such indicators: a federation that
// is active tends to be active across the board, so while one indicator's pace rests on a
// few noisy months the others say more about the months to come. The weights are the
// normal-normal ones: the indicator's own pace by its precision (from the variability of its
// months), the others' precision-weighted mean by the spread of true paces between the
// township's indicators (estimated from them, DerSimonian–Laird, at least 0.05). With fewer
// than three such indicators the estimate is the run rate. When the township's reports
// overshoot and correct themselves the next month (successive months clearly opposed), the
// part of the latest report that such level noise explains is not carried into December.
// Stocks without a baseline and ratios are forecast by their floor.
//
// The interval low–high is the estimate ± 1.28 standard deviations (80% of a normal),
// the variance adding the uncertainty of p̂ over the rest of the year, the variability of
// the months to come and any level noise, all measured from the township's own months (a
// count's month-to-month variability is pooled with the township's other counts while it
// has few months); for a stock without a baseline its monthly growth's variability; for a
// ratio its monthly rates' (never less than a binomial's). A count's low is never below what
// is done, a ratio's interval stays within 0 … 1.
//
// needed_per_month (counts and stocks) is (target − actual) / (12 − m), at least 0.
type Forecast struct {
	YearEnd        float64 `json:"year_end"`
	Low            float64 `json:"low"`
	High           float64 `json:"high"`
	NeededPerMonth Num     `json:"needed_per_month,omitzero"` // counts and stocks

	raw rawForecast // unrounded, for the county's sums and the backtest
}

// RunRate is the profile run rate's year end (the method's floor) that the forecast was
// compared with: actual / f(L) for a count, the latest level plus the average monthly growth
// for a stock, the actual for a ratio. Unrounded.
func (f *Forecast) RunRate() float64 { return f.raw.runRate }

// rawForecast is one cell's forecast before rounding.
type rawForecast struct {
	ok       bool
	yearEnd  float64
	variance float64 // of the December actual around yearEnd
	runRate  float64 // the profile run rate's year end
	weight   float64 // ratio: the projected December denominator (to pool townships)
	floor    float64 // the least the December actual can be (a count's actual so far)
	ceiling  float64 // the most it can be (a ratio: 1); +Inf otherwise
}

// forecastZ is the standard normal quantile of 0.9: ±z holds 80% of a normal distribution.
const forecastZ = 1.2815515655446004

// forecastable reports whether the indicator's evaluations carry a forecast (for the
// township's goal g): counts and stocks of direction higher with a target, and ratios.
func forecastable(ind *Indicator, g goal) bool {
	switch ind.Kind {
	case KindCount, KindStock:
		return ind.Direction == Higher && g.target != nil
	case KindRatio:
		return true
	}
	return false
}

// output rounds a raw forecast into the output shape; needed is what each remaining
// month must add (counts and stocks), as a Num.
func (rf rawForecast) output(needed Num) Forecast {
	rf.yearEnd = rf.estimate()
	sd := math.Sqrt(max(0, rf.variance))
	low := min(max(rf.yearEnd-forecastZ*sd, rf.floor), rf.yearEnd)
	high := rf.high()
	return Forecast{
		YearEnd: Round(rf.yearEnd, 4), Low: Round(low, 4), High: Round(high, 4),
		NeededPerMonth: round4(needed), raw: rf,
	}
}

// high is the interval's upper bound, as output writes it (unrounded).
func (rf rawForecast) high() float64 {
	sd := math.Sqrt(max(0, rf.variance))
	return max(min(rf.estimate()+forecastZ*sd, rf.ceiling), rf.estimate())
}

// estimate is the year end within what the December actual can be (a declining stock ends
// at 0, not below; a ratio within 0 … 1).
func (rf rawForecast) estimate() float64 { return min(max(rf.yearEnd, rf.floor), rf.ceiling) }

// neededPerMonth is (target − actual) / (12 − m), at least 0; undefined in December.
func neededPerMonth(target, actual float64, m int) Num {
	if m >= 12 {
		return Num{}
	}
	return Some(max(0, (target-actual)/float64(12-m)))
}

// fcCell is what the township's forecast needs of one cell: the indicator, its goal, its
// reports and its series (cumulative figures as of each month).
type fcCell struct {
	ind   *Indicator
	g     goal
	c     *Cell
	s     *series
	pre   *growthPrefix // counts and stocks with a baseline: their running sums, built once
	share bool          // a city's share of a county's townships done (Units.Share): 0 … 1
}

// growthStats are the figures of a count, or of a stock with a baseline, for its forecast
// and the township's pool. Such a stock is forecast like a count of its growth from the
// baseline, on a linear profile (the floor for a stock is linear growth).
type growthStats struct {
	use         bool    // the cell joins the township's pool and is forecast from it
	stock       bool    // a stock's growth from its baseline
	base        float64 // the baseline (0 for a count)
	target      float64 // the growth to make: target − base
	last        int     // L: the latest reported month ≤ k
	done        float64 // the growth as of L (a count's actual)
	fL          float64 // f(L)
	pace        float64 // done / (target × f(L))
	sigma2      float64 // relative monthly variance σ² (of a month's figure around its pace)
	df          float64 // its degrees of freedom
	paceFactor  float64 // Σ Δf_j² / g_j / f(L)²: var(pace) = p² σ² × paceFactor
	futureShare float64 // Σ δ_k² over the months after L
	// level noise: reports that overshoot and are corrected by the next one. It shows as
	// successive months' departures from the pace (u_j, relative) that cancel.
	lagProd, lagN           float64 // −Σ u_j u_j+1 (bias-corrected) and Σ f_j² / (Δf_j Δf_j+1): σ_L² ≈ lagProd / lagN
	lagRaw, lagSq, lagPairs float64 // Σ u_j u_j+1, ≈ Σ u² over the pairs, and the pairs: the lag-1 correlation
	levelShape              float64 // mean over reports of (f_j² + f_j−1²) / Δf_j²: how level noise shows in one month
	levelVar                float64 // the township's σ_L² (relative to the level)
}

// townshipPool is what one township's forecasts as of a month share: each pooled cell's
// figures, and the township's spread of paces and precision-weighted sums for the
// leave-one-out means. Its buffers are reused from township to township.
type townshipPool struct {
	k        int
	stats    []growthStats
	meanPace float64
	tau2     float64 // +Inf: no pooling (fewer than three pooled cells)
	sw, swp  float64 // Σ w and Σ w × pace over the pooled cells, w = 1 / (var(pace) + τ²)
}

// defaultSigma2 is the relative monthly variance assumed before a township has two months
// of any count: a month's figure within about ±50% of its pace.
const defaultSigma2 = 0.25

// minTau2 is the least spread of true paces between one township's indicators that the
// shrinkage assumes (paces 5% apart are ordinary), so that an estimate of no spread at all
// never pulls an indicator all the way to the township's mean.
const minTau2 = 0.05 * 0.05

// priorDF is how many months of evidence the township's pooled month-to-month variability
// counts for in each count's own.
const priorDF = 1

// pooled reports whether the cell is forecast by the growth model (and joins the pool):
// counts, and stocks with a baseline.
func pooled(fc *fcCell) bool {
	switch fc.ind.Kind {
	case KindCount:
		return true
	case KindStock:
		return fc.g.baseline > 0
	}
	return false
}

// forecastTownship computes the forecasts as of month k (1 … 11) of one township's cells
// into out (same order; ok false where there is none), using pool's buffers.
func forecastTownship(cells []fcCell, k int, pool *townshipPool, out []rawForecast) {
	for i := range out {
		out[i] = rawForecast{}
	}
	if k < 1 || k > 11 {
		return
	}
	pool.prepare(cells, k)
	for i := range cells {
		out[i] = pool.forecast(cells, i)
	}
}

// prepare reads the township's pooled cells as of month k: their own figures, the
// township's month-to-month variability and level noise, the spread of their paces.
func (tp *townshipPool) prepare(cells []fcCell, k int) {
	tp.k = k
	if cap(tp.stats) < len(cells) {
		tp.stats = make([]growthStats, len(cells))
	}
	stats := tp.stats[:len(cells)]
	tp.stats = stats
	// first each cell's own figures, and the township's pooled monthly variance
	var poolSS, poolDF float64
	for i := range cells {
		stats[i] = growthStats{}
		fc := &cells[i]
		if !forecastable(fc.ind, fc.g) || !pooled(fc) {
			continue
		}
		stats[i] = growthAt(fc, fc.pre, k)
		if st := &stats[i]; st.use && st.df > 0 && !st.stock { // a stock grows in steps: its months are its own
			poolSS += st.sigma2 * st.df
			poolDF += st.df
		}
	}
	pool := defaultSigma2
	if poolDF > 0 {
		pool = poolSS / poolDF
	}
	// the township's level noise σ_L² from the cancelling successive changes of its paces
	var lagProd, lagN, lagRaw, lagSq, lagPairs float64
	for i := range stats {
		if st := &stats[i]; st.use && !st.stock && st.lagSq > 0 {
			// each count weighted by its own variability, so that one erratic count does
			// not decide for the township
			w := st.lagPairs / st.lagSq
			lagProd += w * st.lagProd
			lagN += w * st.lagN
			lagRaw += w * st.lagRaw
			lagSq += w * st.lagSq
			lagPairs += st.lagPairs
		}
	}
	levelVar := 0.0
	// only when successive reports are clearly opposed: a lag-1 correlation below
	// −2/√pairs, which independent months reach about one time in forty
	if lagN > 0 && lagSq > 0 && lagRaw/lagSq < -2/math.Sqrt(lagPairs) {
		levelVar = max(0, lagProd/lagN)
	}
	// each count's σ² leans on the township's while it has few months of its own
	var sumPace, nPace float64
	for i := range stats {
		st := &stats[i]
		if !st.use {
			continue
		}
		if !st.stock || st.df == 0 {
			st.sigma2 = (st.sigma2*st.df + pool*priorDF) / (st.df + priorDF)
		}
		// what the level noise explains of the months' variability does not carry on
		st.sigma2 = max(st.sigma2*0.1, st.sigma2-levelVar*st.levelShape)
		st.levelVar = levelVar
		sumPace += st.pace
		nPace++
	}
	tp.meanPace = 0
	if nPace > 0 {
		tp.meanPace = sumPace / nPace
	}
	tp.tau2 = paceSpread(stats, tp.meanPace)
	tp.sw, tp.swp = 0, 0
	if !math.IsInf(tp.tau2, 1) {
		for i := range stats {
			if st := &stats[i]; st.use {
				w := tp.weight(st)
				tp.sw += w
				tp.swp += w * st.pace
			}
		}
	}
}

// weight is a pooled cell's weight in the others' mean: 1 / (var(pace) + τ²).
func (tp *townshipPool) weight(st *growthStats) float64 {
	return 1 / (paceVariance(st, max(st.pace, tp.meanPace)) + tp.tau2)
}

// forecast is cell i's forecast as of the prepared month. A share's year end and interval
// stay within 0 … 1, as a ratio's do.
func (tp *townshipPool) forecast(cells []fcCell, i int) rawForecast {
	rf := tp.forecastCell(cells, i)
	if cells[i].share && rf.ok {
		rf.ceiling = min(rf.ceiling, 1)
		rf.floor = max(rf.floor, 0)
	}
	return rf
}

// forecastCell is forecast's figure before a share's bounds.
func (tp *townshipPool) forecastCell(cells []fcCell, i int) rawForecast {
	fc := &cells[i]
	if !forecastable(fc.ind, fc.g) {
		return rawForecast{}
	}
	switch {
	case pooled(fc):
		if st := &tp.stats[i]; st.use {
			return tp.growthForecast(st)
		}
	case fc.ind.Kind == KindStock:
		return stockForecast(fc, tp.k)
	case fc.ind.Kind == KindRatio:
		return ratioForecast(fc, tp.k)
	}
	return rawForecast{}
}

// paceSpread estimates the spread τ² of true paces between the township's pooled cells
// (the DerSimonian–Laird estimator of meta-analysis: each pace weighted by its precision,
// the spread beyond what their own noise explains), at least minTau2; +Inf (no pooling)
// with fewer than three cells.
func paceSpread(stats []growthStats, meanPace float64) float64 {
	var sw, sw2, swp, n float64
	for i := range stats {
		if st := &stats[i]; st.use {
			w := 1 / max(paceVariance(st, max(st.pace, meanPace)), 1e-9)
			sw += w
			sw2 += w * w
			swp += w * st.pace
			n++
		}
	}
	if n < 3 {
		return math.Inf(1)
	}
	mean := swp / sw
	var q float64
	for i := range stats {
		if st := &stats[i]; st.use {
			w := 1 / max(paceVariance(st, max(st.pace, meanPace)), 1e-9)
			q += w * (st.pace - mean) * (st.pace - mean)
		}
	}
	return max(minTau2, (q-(n-1))/(sw-sw2/sw))
}

// paceVariance is var(pace) for a pooled cell, with p the pace it is computed around.
func paceVariance(st *growthStats, p float64) float64 {
	return p * p * st.sigma2 * st.paceFactor
}

// growthPrefix is a pooled cell's reports reduced to running sums, month by month, so that
// its figures as of any month k ≤ m come in a few operations (forecast_miss dates its run by
// the forecasts of earlier months). Entry k holds the sums over the reports of months ≤ k;
// entries 0 … m are written by build, nothing else is read, so the buffer is never cleared.
//
// For a report j, r_j = x_j / (target × Δf_j) is its figure relative to its share of the
// profile (x_j the growth since the previous report, Δf_j the profile's share since then, g_j
// the months it covers); departures from a pace p are then r_j − p, so their sums follow
// from Σ g, Σ g r, Σ g r².
type growthPrefix struct {
	last                  [13]int8    // L: the latest reported month ≤ k
	g, gr, gr2            [13]float64 // Σ g_j, Σ g_j r_j, Σ g_j r_j² over reports with Δf_j > 0
	n, factor, shape      [13]float64 // their number, Σ Δf_j² / g_j, Σ (f_j² + f_j−1²) / Δf_j²
	pairs, p1, p2, pshape [13]float64 // adjacent pairs: their number, Σ r_j r_j+1, Σ (r_j + r_j+1), Σ f_j² / (Δf_j Δf_j+1)
	future                [13]float64 // Σ δ² over the months after k
}

// build fills entries 0 … m from the cell's reports.
func (gp *growthPrefix) build(fc *fcCell, m int) {
	c, s := fc.c, fc.s
	p := &fc.ind.Pacing
	base := 0.0
	if fc.ind.Kind == KindStock {
		base = fc.g.baseline
	}
	if fc.ind.Kind == KindStock || p.Name == "none" {
		lin := LinearPacing()
		p = &lin
	}
	target := 0.0
	if fc.g.target != nil {
		target = *fc.g.target - base
	}
	gp.last[0], gp.g[0], gp.gr[0], gp.gr2[0], gp.n[0], gp.factor[0], gp.shape[0] = 0, 0, 0, 0, 0, 0, 0
	gp.pairs[0], gp.p1[0], gp.p2[0], gp.pshape[0] = 0, 0, 0, 0
	gp.future[12] = 0
	for j := 11; j >= 0; j-- {
		d := p.Fractions[j]
		if j > 0 {
			d -= p.Fractions[j-1]
		}
		gp.future[j] = gp.future[j+1] + d*d // months j+1 … 12 (Fractions[j] is f(j+1))
	}
	prev, prevF, prevA := 0, 0.0, 0.0
	prevR, prevDF, prevRecorded := 0.0, 0.0, false
	for j := 1; j <= m; j++ {
		gp.last[j], gp.g[j], gp.gr[j], gp.gr2[j] = gp.last[j-1], gp.g[j-1], gp.gr[j-1], gp.gr2[j-1]
		gp.n[j], gp.factor[j], gp.shape[j] = gp.n[j-1], gp.factor[j-1], gp.shape[j-1]
		gp.pairs[j], gp.p1[j], gp.p2[j], gp.pshape[j] = gp.pairs[j-1], gp.p1[j-1], gp.p2[j-1], gp.pshape[j-1]
		if !c.Has(j) {
			continue
		}
		gp.last[j] = int8(j)
		f := p.Fraction(j)
		df, gap := f-prevF, float64(j-prev)
		recorded := false
		if df > 0 && target > 0 {
			r := (s.actual[j] - base - prevA) / (target * df)
			gp.g[j] += gap
			gp.gr[j] += gap * r
			gp.gr2[j] += gap * r * r
			gp.n[j]++
			gp.factor[j] += df * df / gap
			gp.shape[j] += (f*f + prevF*prevF) / (df * df)
			if j-prev == 1 {
				if prevRecorded {
					gp.pairs[j]++
					gp.p1[j] += prevR * r
					gp.p2[j] += prevR + r
					gp.pshape[j] += prevF * prevF / (prevDF * df)
				}
				recorded, prevR, prevDF = true, r, df
			}
		}
		prevRecorded = recorded
		prev, prevF, prevA = j, f, s.actual[j]-base
	}
}

// growthAt is a pooled cell's figures as of month k (≤ the month its prefix was built to). A
// report after missed months covers their share of the profile too; a month the profile
// expects nothing of adds to the actual but not to the variance estimate.
func growthAt(fc *fcCell, gp *growthPrefix, k int) growthStats {
	st := growthStats{stock: fc.ind.Kind == KindStock}
	if st.stock {
		st.base = fc.g.baseline
	}
	st.target = *fc.g.target - st.base
	st.last = int(gp.last[k])
	if st.last == 0 || st.target <= 0 {
		return st
	}
	p := &fc.ind.Pacing
	if st.stock || p.Name == "none" {
		st.fL = float64(st.last) / 12
	} else {
		st.fL = p.Fraction(st.last)
	}
	if st.fL <= 0 {
		return st // the profile expects nothing yet: no run rate to extrapolate
	}
	st.use = true
	st.done = fc.s.actual[st.last] - st.base
	st.pace = st.done / (st.target * st.fL)
	L, pace := st.last, st.pace
	n := gp.n[L]
	// Σ g (r − p)²: the reports' squared departures from the pace, 0 when the expansion
	// leaves only rounding (a township exactly on its path)
	ss := gp.gr2[L] - 2*pace*gp.gr[L] + pace*pace*gp.g[L]
	if ss <= 1e-12*(gp.gr2[L]+pace*pace*gp.g[L]) {
		ss = 0
	}
	st.paceFactor = gp.factor[L] / (st.fL * st.fL)
	if n > 0 {
		st.levelShape = gp.shape[L] / n
	}
	if pace > 0 && ss > 0 && n >= 3 && gp.pairs[L] > 0 && gp.pshape[L] > 0 {
		// successive reports' departures, relative to the pace: level noise makes them
		// cancel. The pace is estimated from the same reports, which makes neighbours look
		// slightly opposed even without level noise: allow for it (≈ σ²/n a pair).
		pairs := gp.pairs[L]
		prod := (gp.p1[L] - pace*gp.p2[L] + pace*pace*pairs) / (pace * pace)
		s2 := ss / n / (pace * pace)
		st.lagProd = -(prod + pairs*s2/n)
		st.lagN = gp.pshape[L]
		st.lagRaw, st.lagSq, st.lagPairs = prod, s2*pairs, pairs
	}
	if n >= 2 && pace > 0 {
		st.sigma2 = ss / (n - 1) / (pace * pace)
		st.df = n - 1
	}
	st.futureShare = gp.future[L]
	return st
}

// growthForecast is a pooled cell's forecast: its pace shrunk toward the township's other
// pooled cells (none with fewer than three), the rest of the year at that pace.
func (tp *townshipPool) growthForecast(st *growthStats) rawForecast {
	plug := max(st.pace, tp.meanPace) // the pace the variances are computed around
	v := paceVariance(st, plug)
	pace, postVar := st.pace, v
	if !math.IsInf(tp.tau2, 1) && v > 0 {
		// the other cells' precision-weighted mean pace, and its variance: the township's
		// sums without this cell
		w := tp.weight(st)
		if sw := tp.sw - w; sw > 1e-12 {
			prior, priorVar := (tp.swp-w*st.pace)/sw, 1/sw+tp.tau2
			postVar = 1 / (1/v + 1/priorVar)
			pace = postVar * (st.pace/v + prior/priorVar)
		}
	}
	rest := 1 - st.fL
	remaining := st.target * rest * pace
	done := st.done
	// the part of the current report's departure from the township's path that is level
	// noise (an overshoot the next report corrects) is not carried into December
	levelDone := st.levelVar * done * done
	w := 0.0
	if levelDone > 0 {
		rwDone := st.target * st.target * pace * pace * st.sigma2 * (st.paceFactor * st.fL * st.fL)
		w = levelDone / (levelDone + rwDone)
		done -= w * (done - st.target*st.fL*pace)
	}
	yearEnd := st.base + done + remaining
	// the rest of the year: the pace's uncertainty, and the months' own variability
	future := st.target * st.target * pace * pace * st.sigma2 * st.futureShare
	variance := st.target*st.target*rest*rest*postVar + future
	// December's own level noise, and what remains of the current report's
	variance += st.levelVar * (math.Pow(done+remaining, 2) + (1-w)*st.done*st.done)
	rf := rawForecast{ok: true, yearEnd: yearEnd, variance: variance, runRate: st.base + st.done/st.fL, ceiling: math.Inf(1)}
	if !st.stock {
		rf.floor = st.done // a count never goes down
	}
	return rf
}

// stockForecast is the forecast of a stock without a baseline: the latest level plus the
// average monthly growth since the first reported level × the months left.
func stockForecast(fc *fcCell, k int) rawForecast {
	c, s := fc.c, fc.s
	var months [12]int
	n := 0
	for j := 1; j <= k; j++ {
		if c.Has(j) {
			months[n] = j
			n++
		}
	}
	if n == 0 {
		return rawForecast{}
	}
	last := months[n-1]
	level := s.actual[last]
	from, base := months[0], s.actual[months[0]]
	growth := 0.0
	if last > from {
		growth = (level - base) / float64(last-from)
	}
	left := float64(12 - last)
	yearEnd := level + growth*left
	// the monthly growth's variability, from the steps between reports (each step's
	// deviation from the average, per month it spans)
	var ss, df float64
	prev, prevLevel := from, base
	for j := 0; j < n; j++ {
		if months[j] == from {
			continue
		}
		span := float64(months[j] - prev)
		d := s.actual[months[j]] - prevLevel - growth*span
		ss += d * d / span
		df++
		prev, prevLevel = months[j], s.actual[months[j]]
	}
	var perMonth float64
	switch {
	case df >= 2:
		perMonth = ss / (df - 1)
	default:
		// one step or none: assume a month's growth may be off by half of the level's
		// distance to the target, spread over the year
		perMonth = math.Pow(0.5*math.Abs(*fc.g.target-level)/12, 2) + 0.25
	}
	variance := perMonth * left
	if last > from {
		variance += left * left * perMonth / float64(last-from)
	}
	return rawForecast{ok: true, yearEnd: yearEnd, variance: variance, runRate: yearEnd, floor: 0, ceiling: math.Inf(1)}
}

// ratioForecast is a ratio's forecast: its actual, with an interval from its monthly rates'
// variability (never less than a binomial's) over the denominators still to come at the
// year's average rate so far.
func ratioForecast(fc *fcCell, k int) rawForecast {
	c, s := fc.c, fc.s
	last := 0
	for j := k; j >= 1; j-- {
		if c.Has(j) {
			last = j
			break
		}
	}
	if last == 0 || s.den[k] <= 0 {
		return rawForecast{}
	}
	num, den := s.num[k], s.den[k]
	r := num / den
	// dispersion of the monthly rates around r, per unit of denominator
	var ss, n float64
	for j := 1; j <= last; j++ {
		if !c.Has(j) {
			continue
		}
		dj := c.Denominator[j-1]
		if dj <= 0 {
			continue
		}
		rj := c.Value[j-1] / dj
		ss += dj * (rj - r) * (rj - r)
		n++
	}
	smoothed := (num + 0.5) / (den + 1)
	phi := smoothed * (1 - smoothed)
	if n >= 2 {
		phi = max(phi, ss/(n-1))
	}
	future := den / float64(last) * float64(12-last)
	variance := 0.0
	if future > 0 {
		share := future / (den + future)
		variance = share * share * phi * (1/future + 1/den)
	}
	return rawForecast{ok: true, yearEnd: r, variance: variance, runRate: r, weight: den + future, floor: 0, ceiling: 1}
}
