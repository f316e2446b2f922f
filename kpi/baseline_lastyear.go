package kpi

import (
	"fmt"
	"maps"
	"slices"
)

// BaselineLastYear is the value of `baseline:` that takes each township's baseline from the
// previous year's assessment.
const BaselineLastYear = "last_year"

// HasLastYearBaselines reports whether some stock says `baseline: last_year`.
func (a *Assessment) HasLastYearBaselines() bool {
	for i := range a.Indicators {
		if a.Indicators[i].BaselineLastYear {
			return true
		}
	}
	return false
}

// WithLastYearBaselines returns the assessment with the baselines of its `baseline:
// last_year` stocks filled in from last, the previous year's data. A township's baseline
// is its December level there: the latest level it reported in the year (as of December)
// for the stock of the same code, matched by the township's code; 0 where last year has no
// such township, no stock of that code or no report.
//
// Rules chosen where the contract is silent (docs/semantics.md): a township's own entry in
// `baselines` wins over last year's level; only townships with a target get one (a
// tracked-only township measures no growth); and a level above the township's target is
// taken at the target, since a township already at this year's target has no growth left
// to make (it scores full marks for the indicator, as with a configured baseline equal to
// the target).
//
// It returns a itself when a has no such stock or last is nil (every such baseline is 0);
// otherwise a copy that shares everything with a but its indicators, and that a Dataset is
// bound to with CloneFor. a is not modified.
func (a *Assessment) WithLastYearBaselines(last *Dataset) *Assessment {
	if last == nil || !a.HasLastYearBaselines() {
		return a
	}
	b := *a
	b.Indicators = slices.Clone(a.Indicators)
	prev := last.a
	for i := range b.Indicators {
		ind := &b.Indicators[i]
		if !ind.BaselineLastYear {
			continue
		}
		j := prev.IndicatorIndex(ind.Code)
		if j < 0 || prev.Indicators[j].Kind != KindStock {
			continue
		}
		filled := maps.Clone(ind.Baselines)
		for _, tw := range a.Townships {
			if _, own := ind.Baselines[tw.Code]; own {
				continue
			}
			target := ind.TargetFor(tw.Code)
			u := prev.TownshipIndex(tw.Code)
			if target == nil || u < 0 {
				continue
			}
			level, ok := last.Cell(u, j).Latest(12)
			if !ok || level == 0 {
				continue
			}
			if filled == nil {
				filled = map[string]float64{}
			}
			filled[tw.Code] = min(level, *target)
		}
		ind.Baselines = filled
	}
	return &b
}

// Latest is the value of the latest month ≤ m that was reported, and whether there is one:
// a stock's level as of m.
func (c *Cell) Latest(m int) (float64, bool) {
	for k := m; k >= 1; k-- {
		if c.Has(k) {
			return c.Value[k-1], true
		}
	}
	return 0, false
}

// SameGoals reports whether a and b, one derived from the other (WithLastYearBaselines),
// judge every township alike: the same baselines on every indicator.
func (a *Assessment) SameGoals(b *Assessment) bool {
	if len(a.Indicators) != len(b.Indicators) {
		return false
	}
	for i := range a.Indicators {
		x, y := &a.Indicators[i], &b.Indicators[i]
		if x.Baseline != y.Baseline || !maps.Equal(x.Baselines, y.Baselines) {
			return false
		}
	}
	return true
}

// CloneFor is Clone bound to b, an assessment derived from d's with the same townships and
// indicators in the same order (WithLastYearBaselines): the same observations judged by
// b's goals. It refuses an assessment of another shape.
func (d *Dataset) CloneFor(b *Assessment) (*Dataset, error) {
	a := d.a
	if b.Year != a.Year || len(b.Townships) != len(a.Townships) || len(b.Indicators) != len(a.Indicators) {
		return nil, fmt.Errorf("dataset of %s cannot be bound to %s: another year or shape", a.ID, b.ID)
	}
	for t := range a.Townships {
		if a.Townships[t].Code != b.Townships[t].Code {
			return nil, fmt.Errorf("dataset of %s cannot be bound to %s: township %d is %s, not %s", a.ID, b.ID, t, b.Townships[t].Code, a.Townships[t].Code)
		}
	}
	for i := range a.Indicators {
		if a.Indicators[i].Code != b.Indicators[i].Code || a.Indicators[i].Kind != b.Indicators[i].Kind {
			return nil, fmt.Errorf("dataset of %s cannot be bound to %s: indicator %d differs", a.ID, b.ID, i)
		}
	}
	c := d.Clone()
	c.a = b
	return c, nil
}
