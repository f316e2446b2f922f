package kpi

// CountyEvaluation is one indicator for the county as a whole (全县), without a score:
// counts and stocks sum actuals and targets over townships, ratios divide the summed
// numerators by the summed denominators, milestones report the fraction of townships done,
// bonuses the points awarded and vetoes the number of townships vetoed.
type CountyEvaluation struct {
	Indicator   string `json:"indicator"`
	Kind        Kind   `json:"kind"`
	Actual      Num    `json:"actual"`
	Numerator   *Num   `json:"numerator,omitempty"`
	Denominator *Num   `json:"denominator,omitempty"`
	Target      Num    `json:"target"`
	Expected    Num    `json:"expected"`
	Baseline    Num    `json:"baseline,omitzero"` // a stock's summed 年初基数 where one is set
	Completion  Num    `json:"completion"`
	Pace        Num    `json:"pace"`
	Status      Status `json:"status"`
	Done        *int   `json:"done,omitempty"` // milestone: townships done (MilestoneText writes 4/6 已完成)
	Reported    int    `json:"reported"`       // townships that reported this period
	Townships   int    `json:"townships"`      // townships assessed
}

// countyFrom aggregates the townships' unrounded figures per indicator as of month m.
// Sums run township by township in config order, so a full evaluation and an incremental
// one add the same numbers in the same order and agree exactly.
//
// Rules the spec leaves open, as an assessment office reads them: a count or stock's county
// target sums the targets of the townships that have one (none: tracked only), and a stock's
// baseline sums those townships' baselines the same way; its actual
// sums the townships that reported; the county is no_data only when no township reported.
// A ratio is judged against the indicator's default threshold. A milestone is met when every
// township is done, and otherwise judged by its due month like a township's.
func countyFrom(a *Assessment, rows [][]Evaluation, m int) []CountyEvaluation {
	nI := len(a.Indicators)
	sums := make([]series, nI)
	target := make([]float64, nI)
	baseline := make([]float64, nI)
	hasTarget := make([]bool, nI)
	reported := make([]int, nI)
	for t, town := range a.Townships {
		row := rows[t]
		for i := range row {
			e, ind, agg := &row[i], &a.Indicators[i], &sums[i]
			if e.Reported {
				reported[i]++
			}
			switch ind.Kind {
			case KindCount, KindStock:
				if e.hasData {
					agg.any[m] = true
					agg.actual[m] += e.rawActual
				}
				if tg := ind.TargetFor(town.Code); tg != nil {
					target[i] += *tg
					baseline[i] += ind.BaselineFor(town.Code)
					hasTarget[i] = true
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
		out[i] = CountyEvaluation{
			Indicator: ind.Code, Kind: ind.Kind, Actual: e.Actual, Numerator: e.Numerator,
			Denominator: e.Denominator, Target: e.Target, Expected: e.Expected, Baseline: e.Baseline,
			Completion: e.Completion, Pace: e.Pace, Status: e.Status,
			Done: doneCount[i], Reported: reported[i], Townships: len(a.Townships),
		}
	}
	return out
}
