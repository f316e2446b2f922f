package kpi

import "math"

// CountyEvaluation is one indicator for the county as a whole (全县), without a score:
// counts and stocks sum actuals and targets over townships, ratios divide the summed
// numerators by the summed denominators, milestones report the fraction of townships done,
// bonuses the points awarded and vetoes the number of townships vetoed.
type CountyEvaluation struct {
	Indicator   string    `json:"indicator"`
	Kind        Kind      `json:"kind"`
	Actual      Num       `json:"actual"`
	Numerator   *Num      `json:"numerator,omitempty"`
	Denominator *Num      `json:"denominator,omitempty"`
	Target      Num       `json:"target"`
	Expected    Num       `json:"expected"`
	Baseline    Num       `json:"baseline,omitzero"` // a stock's summed 年初基数 where one is set
	Completion  Num       `json:"completion"`
	Pace        Num       `json:"pace"`
	Status      Status    `json:"status"`
	Done        *int      `json:"done,omitempty"`      // milestone: townships done (MilestoneText writes 4/6 已完成)
	Reported    int       `json:"reported"`            // townships that reported this period
	Forecast    *Forecast `json:"forecast,omitempty"`  // 预计全年 of the sums (see countyForecast)
	Townships   int       `json:"townships"`           // townships assessed
	LastYear    *LastYear `json:"last_year,omitempty"` // 较去年同期, where last year is attached (Result.WithLastYear)
}

// countyFrom aggregates the townships' unrounded figures per indicator as of month m.
// Sums run township by township in config order, so a full evaluation and an incremental
// one add the same numbers in the same order and agree exactly.
//
// Rules the contract leaves open, as an assessment office reads them (docs/semantics.md): a count or stock's county
// target sums the targets of the townships that have one (none: tracked only), and a stock's
// baseline sums those townships' baselines the same way; its actual
// sums the townships that reported; the county is no_data only when no township reported.
// A ratio is judged against the indicator's default threshold. A milestone is met when every
// township is done, and otherwise judged by its due month like a township's.
//
// A city's stock that is every county's share of townships done (derived from a milestone)
// is not summed: the city's figure is the share of all its counties' townships done, each
// county's share weighted by its number of townships, and so are its target and baseline
// (chosen: a sum of shares would read as 2.5 of 3).
func countyFrom(d *Dataset, rows [][]Evaluation, m int) []CountyEvaluation {
	a := d.a
	nI := len(a.Indicators)
	sums := make([]series, nI)
	target := make([]float64, nI)
	baseline := make([]float64, nI)
	hasTarget := make([]bool, nI)
	reported := make([]int, nI)
	fcs := make([]countyForecastSums, nI)
	shares := pooledShares(d)
	var weightData, weightTarget []float64
	if shares != nil {
		weightData, weightTarget = make([]float64, nI), make([]float64, nI)
		for i, pooled := range shares {
			fcs[i].share = pooled
		}
	}
	for t, town := range a.Townships {
		row := rows[t]
		for i := range row {
			e, ind, agg := &row[i], &a.Indicators[i], &sums[i]
			if e.Reported {
				reported[i]++
			}
			w := 1.0
			if shares != nil && shares[i] {
				w = float64(len(d.units.of[t].Townships))
			}
			fcs[i].add(e, w)
			switch ind.Kind {
			case KindCount, KindStock:
				if e.hasData {
					agg.any[m] = true
					agg.actual[m] += w * e.rawActual
					if weightData != nil {
						weightData[i] += w
					}
				}
				if tg := ind.TargetFor(town.Code); tg != nil {
					target[i] += w * *tg
					baseline[i] += w * ind.BaselineFor(town.Code)
					hasTarget[i] = true
					if weightTarget != nil {
						weightTarget[i] += w
					}
				}
			case KindRatio:
				if e.hasData {
					agg.any[m] = true
					agg.num[m] += e.rawNum
					agg.den[m] += e.rawDen
				}
			default:
				agg.actual[m] += e.rawActual
			}
		}
	}
	for i, pooled := range shares {
		if !pooled {
			continue
		}
		if weightData[i] > 0 {
			sums[i].actual[m] /= weightData[i]
			fcs[i].scale(1 / weightData[i])
		}
		if weightTarget[i] > 0 {
			target[i] /= weightTarget[i]
			baseline[i] /= weightTarget[i]
		}
	}
	out := make([]CountyEvaluation, nI)
	doneCount := make([]*int, nI)
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		agg := &sums[i]
		var e Evaluation
		switch ind.Kind {
		case KindCount, KindStock:
			var tp *float64
			if hasTarget[i] {
				tp = &target[i]
			}
			e = judge(ind, goal{target: tp, baseline: baseline[i]}, agg, m)
		case KindRatio:
			e = judge(ind, goal{threshold: ind.Threshold}, agg, m)
		case KindMilestone:
			n := float64(len(a.Townships))
			done := agg.actual[m]
			e = Evaluation{Kind: ind.Kind, Actual: Some(done / n), Target: Some(1), Completion: Some(done / n)}
			nDone := int(done)
			doneCount[i] = &nDone
			switch {
			case done == n:
				e.Status = StatusMet
			case m < ind.Due:
				e.Status = StatusOnTrack
			default:
				e.Status = StatusBehind
			}
		default:
			e = Evaluation{Kind: ind.Kind, Actual: Some(agg.actual[m])}
		}
		e.finish(false, nil)
		var fc *Forecast
		switch {
		case m >= 12:
		case ind.Kind == KindRatio:
			fc = fcs[i].forecast(ind, nil, agg, m)
		case (ind.Kind == KindCount || ind.Kind == KindStock) && ind.Direction == Higher && hasTarget[i]:
			fc = fcs[i].forecast(ind, &target[i], agg, m)
		}
		out[i] = CountyEvaluation{
			Forecast:  fc,
			Indicator: ind.Code, Kind: ind.Kind, Actual: e.Actual, Numerator: e.Numerator,
			Denominator: e.Denominator, Target: e.Target, Expected: e.Expected, Baseline: e.Baseline,
			Completion: e.Completion, Pace: e.Pace, Status: e.Status,
			Done: doneCount[i], Reported: reported[i], Townships: len(a.Townships),
		}
	}
	return out
}

// countyForecastSums gathers the townships' forecasts of one indicator for the county's.
type countyForecastSums struct {
	any      bool    // some township has a forecast
	yearEnd  float64 // Σ year ends (and the actuals of townships with data but no forecast)
	variance float64 // Σ variances (ratio: Σ variance × weight²)
	weight   float64 // ratio: Σ projected December denominators
	share    bool    // a city's pooled share of townships done: its forecast stays within 0 … 1
}

// add adds a township's forecast, its year end and actual weighted by w (1 but for a
// city's pooled shares, where w is the county's number of townships).
func (cs *countyForecastSums) add(e *Evaluation, w float64) {
	if e.Forecast == nil {
		if e.hasData && e.Kind != KindRatio {
			cs.yearEnd += w * e.rawActual
		}
		return
	}
	rf := &e.Forecast.raw
	cs.any = true
	if cs.share {
		cs.yearEnd += w * rf.estimate() // within 0 … 1, as the county's own forecast reads
	} else {
		cs.yearEnd += w * rf.yearEnd
	}
	if e.Kind == KindRatio {
		cs.variance += rf.variance * rf.weight * rf.weight
		cs.weight += rf.weight
	} else {
		cs.variance += w * w * rf.variance
	}
}

// scale multiplies the summed year ends by f (and their variance by f²): a weighted sum
// made a weighted mean.
func (cs *countyForecastSums) scale(f float64) {
	cs.yearEnd *= f
	cs.variance *= f * f
}

// pooledShares marks the indicators of d whose every unit's figure is a share of its
// townships done (Units.Share), which the aggregate pools rather than sums; nil when none.
func pooledShares(d *Dataset) []bool {
	u := d.units
	if u == nil {
		return nil
	}
	var out []bool
	for i := range d.a.Indicators {
		if u.ShareOf(i) {
			if out == nil {
				out = make([]bool, len(d.a.Indicators))
			}
			out[i] = true
		}
	}
	return out
}

// forecast is the county's forecast as of month m: for counts and stocks the sum of the
// townships' year ends (a township with data but no forecast yet counts at its actual) with
// their variances added, as for independent townships (the county's RunRate is 0: not
// worked out); for a ratio the county's actual,
// its variance pooled from the townships' by their projected December denominators. agg
// holds the county's sums as of m.
func (cs *countyForecastSums) forecast(ind *Indicator, target *float64, agg *series, m int) *Forecast {
	if !cs.any {
		return nil
	}
	if ind.Kind == KindRatio {
		if agg.den[m] <= 0 || cs.weight <= 0 {
			return nil
		}
		rf := rawForecast{ok: true, yearEnd: agg.num[m] / agg.den[m], variance: cs.variance / (cs.weight * cs.weight), weight: cs.weight, ceiling: 1}
		f := rf.output(Num{})
		return &f
	}
	if target == nil {
		return nil
	}
	rf := rawForecast{ok: true, yearEnd: cs.yearEnd, variance: cs.variance, ceiling: math.Inf(1)}
	if cs.share {
		rf.ceiling = 1
	}
	if ind.Kind == KindCount {
		rf.floor = agg.actual[m]
	}
	f := rf.output(neededPerMonth(*target, agg.actual[m], m))
	return &f
}
