package kpi

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Backtest measures the forecast (预计全年) against a year that is over: it replays the
// months 3 … 11 of a dataset holding the whole year, evaluates each as of that month (which
// sees only the months up to it), and compares every township's forecast with the actual
// its December evaluation gives.
type Backtest struct {
	Year   int             `json:"year"`
	Months []BacktestMonth `json:"months"` // months 3 … 11
}

// BacktestMonth is one month of a backtest: all forecastable township × indicator cells,
// and the same split by kind.
type BacktestMonth struct {
	Month int `json:"month"`
	BacktestLine
	Kinds []BacktestKind `json:"kinds"` // count, stock, ratio: those with cases
}

// BacktestKind is a backtest line for one kind of indicator.
type BacktestKind struct {
	Kind Kind `json:"kind"`
	BacktestLine
}

// BacktestLine is how forecasts made in one month fared against December.
//
// A case is a township × indicator with a forecast that month and an actual in December.
// The absolute percentage error of an estimate is |estimate − December| / |December|;
// cases whose December actual is 0 have none (ZeroDecember counts them) but count for the
// coverage. Medians are over the cases with an error; null when there are none.
type BacktestLine struct {
	Cases            int `json:"cases"`
	ZeroDecember     int `json:"zero_december"`
	MedianAPE        Num `json:"median_ape"`          // kpimon's year_end, a fraction (0.05 is 5%)
	RunRateMedianAPE Num `json:"run_rate_median_ape"` // the profile run rate (the method's floor)
	Coverage         Num `json:"coverage"`            // share of cases whose low–high held December's actual
}

// RunBacktest backtests the forecast on d, which must hold the whole year (December's
// reports included). It is pure: the evaluations run with a clock after the year's last
// deadline.
func RunBacktest(d *Dataset) (*Backtest, error) {
	a := d.a
	now := time.Date(a.Year+1, 12, 31, 0, 0, 0, 0, time.UTC)
	dec, err := Evaluate(d, Period{Year: a.Year, Month: 12}, now)
	if err != nil {
		return nil, fmt.Errorf("backtest: evaluate December: %w", err)
	}
	bt := &Backtest{Year: a.Year}
	kinds := []Kind{KindCount, KindStock, KindRatio}
	for m := 3; m <= 11; m++ {
		r, err := Evaluate(d, Period{Year: a.Year, Month: m}, now)
		if err != nil {
			return nil, fmt.Errorf("backtest: evaluate month %d: %w", m, err)
		}
		all := &backtestCases{}
		byKind := map[Kind]*backtestCases{}
		for _, k := range kinds {
			byKind[k] = &backtestCases{}
		}
		for t, row := range r.rows {
			for i := range row {
				e := &row[i]
				if e.Forecast == nil {
					continue
				}
				actual, ok := decemberActual(&dec.rows[t][i])
				if !ok {
					continue
				}
				for _, c := range []*backtestCases{all, byKind[e.Kind]} {
					c.add(e.Forecast, actual, dec.rows[t][i].Actual.V)
				}
			}
		}
		month := BacktestMonth{Month: m, BacktestLine: all.line()}
		for _, k := range kinds {
			if c := byKind[k]; c.cases > 0 {
				month.Kinds = append(month.Kinds, BacktestKind{Kind: k, BacktestLine: c.line()})
			}
		}
		bt.Months = append(bt.Months, month)
	}
	return bt, nil
}

// decemberActual is a cell's December actual, unrounded, and whether it has one.
func decemberActual(e *Evaluation) (float64, bool) {
	switch {
	case !e.hasData:
		return 0, false
	case e.Kind == KindRatio:
		if e.rawDen <= 0 {
			return 0, false
		}
		return e.rawNum / e.rawDen, true
	}
	return e.rawActual, true
}

// backtestCases collects one line's cases.
type backtestCases struct {
	cases, zero, held int
	ape, runRateAPE   []float64
}

// add compares a forecast with December's actual (unrounded, and as the evaluation rounds
// it, which is what the interval's rounded bounds are compared with).
func (c *backtestCases) add(f *Forecast, actual, rounded float64) {
	c.cases++
	if f.Low <= rounded+1e-9 && rounded <= f.High+1e-9 {
		c.held++
	}
	if actual == 0 {
		c.zero++
		return
	}
	c.ape = append(c.ape, math.Abs(f.raw.yearEnd-actual)/math.Abs(actual))
	c.runRateAPE = append(c.runRateAPE, math.Abs(f.raw.runRate-actual)/math.Abs(actual))
}

func (c *backtestCases) line() BacktestLine {
	l := BacktestLine{Cases: c.cases, ZeroDecember: c.zero, MedianAPE: median(c.ape), RunRateMedianAPE: median(c.runRateAPE)}
	if c.cases > 0 {
		l.Coverage = Some(float64(c.held) / float64(c.cases))
	}
	return l
}

// median is the middle value of xs (the mean of the two middle ones), undefined for none.
func median(xs []float64) Num {
	if len(xs) == 0 {
		return Num{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return Some(s[n/2])
	}
	return Some((s[n/2-1] + s[n/2]) / 2)
}
