package kpi

import (
	"fmt"
	"slices"
)

// Dataset holds the current observations of one assessment year, laid out for evaluation:
// one row of cells per township, one cell per indicator with twelve monthly slots. It is not
// safe for concurrent writes; callers that share one guard it.
//
// Clone is cheap: the copy shares every township's row with the original and copies a row
// only when it is first written (copy on write), so publishing a new version after one
// township's report costs one row, not the world.
type Dataset struct {
	a     *Assessment
	rows  [][]Cell
	owned []bool // rows this dataset may write in place
	count int

	// a city's dataset: where its derived cells come from, and per unit row (nil for none)
	// and indicator how many of the unit's own units did not report each month; a row of
	// gaps is replaced whole, never written in place
	units *Units
	gaps  [][][12]uint16
}

// Cell holds one township × indicator's monthly reports.
type Cell struct {
	Reported    uint16      // bit m-1 is set when month m was reported
	Value       [12]float64 // the month's value, or a ratio's numerator
	Denominator [12]float64 // a ratio's denominator
}

// Has reports whether month m (1 … 12) was reported.
func (c *Cell) Has(m int) bool { return c.Reported&(1<<(m-1)) != 0 }

// NewDataset makes an empty dataset for the assessment.
func NewDataset(a *Assessment) *Dataset {
	nT, nI := len(a.Townships), len(a.Indicators)
	cells := make([]Cell, nT*nI)
	d := &Dataset{a: a, rows: make([][]Cell, nT), owned: make([]bool, nT)}
	for t := range d.rows {
		d.rows[t] = cells[t*nI : (t+1)*nI : (t+1)*nI]
		d.owned[t] = true
	}
	return d
}

// Assessment is the assessment the dataset belongs to.
func (d *Dataset) Assessment() *Assessment { return d.a }

// Len is the number of observations held.
func (d *Dataset) Len() int { return d.count }

// Cell is the cell of township index t and indicator index i; callers must not modify it.
func (d *Dataset) Cell(t, i int) *Cell { return &d.rows[t][i] }

// writable returns township t's row for writing, copying it first if it is shared.
func (d *Dataset) writable(t int) []Cell {
	if !d.owned[t] {
		d.rows[t] = append([]Cell(nil), d.rows[t]...)
		d.owned[t] = true
	}
	return d.rows[t]
}

// Set stores an observation, replacing any earlier one for its key. Observations for other
// years, or for townships and indicators the assessment does not have (a config edited after
// data were reported), are refused.
func (d *Dataset) Set(o Observation) error {
	t, i := d.a.TownshipIndex(o.Township), d.a.IndicatorIndex(o.Indicator)
	if t < 0 || i < 0 || o.Period.Year != d.a.Year {
		return fmt.Errorf("observation %s/%s/%s is not in this assessment", o.Township, o.Indicator, o.Period)
	}
	if d.units.Derived(t, i) {
		return fmt.Errorf("observation %s/%s/%s: %w", o.Township, o.Indicator, o.Period, ErrDerived)
	}
	c := &d.writable(t)[i]
	m := o.Period.Month - 1
	if !c.Has(o.Period.Month) {
		d.count++
	}
	c.Reported |= 1 << m
	if d.a.Indicators[i].Kind == KindRatio {
		c.Value[m], c.Denominator[m] = o.Numerator, o.Denominator
	} else {
		c.Value[m], c.Denominator[m] = o.Value, 0
	}
	return nil
}

// SetAt stores month m's figures for township index t and indicator index i: value (a
// ratio's numerator) and, for ratios, the denominator. It is Set for loaders that already
// know the positions.
func (d *Dataset) SetAt(t, i, m int, value, denominator float64) error {
	if t < 0 || t >= len(d.rows) || i < 0 || i >= len(d.a.Indicators) || m < 1 || m > 12 {
		return fmt.Errorf("no cell %d/%d/%d in this assessment", t, i, m)
	}
	if d.units.Derived(t, i) {
		return fmt.Errorf("cell %d/%d/%d: %w", t, i, m, ErrDerived)
	}
	c := &d.writable(t)[i]
	if !c.Has(m) {
		d.count++
	}
	c.Reported |= 1 << (m - 1)
	c.Value[m-1] = value
	if d.a.Indicators[i].Kind == KindRatio {
		c.Denominator[m-1] = denominator
	} else {
		c.Denominator[m-1] = 0
	}
	return nil
}

// Get returns the observation for a key, and whether there is one.
func (d *Dataset) Get(k Key) (Observation, bool) {
	t, i := d.a.TownshipIndex(k.Township), d.a.IndicatorIndex(k.Indicator)
	if t < 0 || i < 0 || k.Period.Year != d.a.Year {
		return Observation{}, false
	}
	c := d.Cell(t, i)
	if !c.Has(k.Period.Month) {
		return Observation{}, false
	}
	o := Observation{Township: k.Township, Indicator: k.Indicator, Period: k.Period}
	m := k.Period.Month - 1
	if d.a.Indicators[i].Kind == KindRatio {
		o.Numerator, o.Denominator = c.Value[m], c.Denominator[m]
	} else {
		o.Value = c.Value[m]
	}
	return o, true
}

// ReportedMonths is the set of months that have any report: bit m−1 for month m.
func (d *Dataset) ReportedMonths() uint16 {
	var all uint16
	for _, row := range d.rows {
		for i := range row {
			all |= row[i].Reported
		}
	}
	return all
}

// LatestPeriod is the latest month that has any report, and false when there is none.
func (d *Dataset) LatestPeriod() (Period, bool) {
	all := d.ReportedMonths()
	for m := 12; m >= 1; m-- {
		if all&(1<<(m-1)) != 0 {
			return Period{Year: d.a.Year, Month: m}, true
		}
	}
	return Period{}, false
}

// Clone returns an independent copy, so a reader can keep evaluating one version while a
// writer prepares the next. Rows are shared until written; after a Clone neither dataset
// writes a shared row in place. Clone marks d's rows as shared, so it must not run
// concurrently with another Clone or Set of d; monitor clones only under its write lock,
// and readers (Cell, Get, Evaluate) never look at the marks.
func (d *Dataset) Clone() *Dataset {
	c := &Dataset{a: d.a, rows: append([][]Cell(nil), d.rows...), owned: make([]bool, len(d.rows)), count: d.count,
		units: d.units, gaps: slices.Clone(d.gaps)}
	for t := range d.owned {
		d.owned[t] = false
	}
	return c
}
