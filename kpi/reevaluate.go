package kpi

import (
	"fmt"
	"slices"
)

// Reevaluate brings prev up to date with d after the townships in changed reported: only
// those townships' indicators are evaluated again; every other township's evaluations,
// score and alerts are reused. The ranking, the county aggregate and the order of alerts
// are then rebuilt from the townships' results, which is cheap. The clock is prev's, so the
// result equals Evaluate(d, prev.Period, prev.Now) exactly; prev is not modified.
//
// d must be the assessment's data with only the changed townships differing from the data
// prev was evaluated on (as monitor's published versions are).
func Reevaluate(prev *Result, d *Dataset, changed []int) (*Result, error) {
	if prev.data == nil || prev.data.a != d.a {
		return nil, fmt.Errorf("reevaluate: the result is of another assessment")
	}
	a := d.a
	r := &Result{
		Period: prev.Period, Now: prev.Now, data: d,
		rows:       slices.Clone(prev.rows), // the unchanged townships' blocks are shared
		prevTotals: slices.Clone(prev.prevTotals),
		prevVetoed: slices.Clone(prev.prevVetoed),
		Townships:  slices.Clone(prev.Townships),
	}
	redo := make([]bool, len(a.Townships))
	for _, t := range changed {
		if t < 0 || t >= len(a.Townships) {
			return nil, fmt.Errorf("reevaluate: no township %d", t)
		}
		redo[t] = true
	}
	ev := newAlertEvaluator(a, r.Period, r.Now)
	ev.data = d
	for _, al := range prev.Alerts {
		if !redo[al.t] {
			ev.push(al)
		}
	}
	for t := range redo {
		if redo[t] {
			r.rows[t] = make([]Evaluation, len(a.Indicators)) // a new block: prev's stays as it was
			r.evaluateTownship(t, ev)
		}
	}
	r.Alerts = collect(ev)
	r.conclude()
	return r, nil
}
