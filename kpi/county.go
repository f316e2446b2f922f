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
	Completion  Num    `json:"completion"`
	Pace        Num    `json:"pace"`
	Status      Status `json:"status"`
	Reported    int    `json:"reported"`  // townships that reported this period
	Townships   int    `json:"townships"` // townships assessed
}

// countyAggregate sums the townships' figures per indicator as of month m, one cell at a
// time, while Evaluate walks the cells.
//
// Rules the spec leaves open, as an assessment office reads them: a count or stock's county
// target sums the targets of the townships that have one (none: tracked only); its actual
// sums the townships that reported; the county is no_data only when no township reported.
// A ratio is judged against the indicator's default threshold. A milestone is met when every
// township is done, and otherwise judged by its due month like a township's.
type countyAggregate struct {
	a         *Assessment
	m         int
	sums      []series // only month m is used
	target    []float64
	hasTarget []bool
	reported  []int
}

func newCountyAggregate(a *Assessment, m int) *countyAggregate {
	n := len(a.Indicators)
	return &countyAggregate{a: a, m: m, sums: make([]series, n), target: make([]float64, n), hasTarget: make([]bool, n), reported: make([]int, n)}
}

// add adds one township's cell of indicator i, whose series s is built to month m.
func (g *countyAggregate) add(i int, ind *Indicator, township string, c *Cell, s *series) {
	m, agg := g.m, &g.sums[i]
	if c.Has(m) {
		g.reported[i]++
	}
	if s.any[m] {
		agg.any[m] = true
	}
	switch ind.Kind {
	case KindCount, KindStock:
		if s.any[m] {
			agg.actual[m] += s.actual[m]
		}
		if tg := ind.TargetFor(township); tg != nil {
			g.target[i] += *tg
			g.hasTarget[i] = true
		}
	case KindRatio:
		agg.num[m] += s.num[m]
		agg.den[m] += s.den[m]
	default:
		agg.actual[m] += s.actual[m]
	}
}

// evaluations judges the sums.
func (g *countyAggregate) evaluations() []CountyEvaluation {
	a, m := g.a, g.m
	out := make([]CountyEvaluation, len(a.Indicators))
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		agg := &g.sums[i]
		var e Evaluation
		switch ind.Kind {
		case KindCount, KindStock:
			var tp *float64
			if g.hasTarget[i] {
				tp = &g.target[i]
			}
			e = judge(ind, tp, 0, agg, m)
		case KindRatio:
			e = judge(ind, nil, ind.Threshold, agg, m)
		case KindMilestone:
			n := float64(len(a.Townships))
			done := agg.actual[m]
			e = Evaluation{Kind: ind.Kind, Actual: Some(done / n), Target: Some(1), Completion: Some(done / n)}
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
		e.finish(false)
		out[i] = CountyEvaluation{
			Indicator: ind.Code, Kind: ind.Kind, Actual: e.Actual, Numerator: e.Numerator,
			Denominator: e.Denominator, Target: e.Target, Expected: e.Expected,
			Completion: e.Completion, Pace: e.Pace, Status: e.Status,
			Reported: g.reported[i], Townships: len(a.Townships),
		}
	}
	return out
}
