package kpi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// LastYear is a unit's figures as of the same month of the previous year (同比, 较去年同期):
// its actual, completion and status there, as that year's evaluation gave them (rounded
// as in its output).
type LastYear struct {
	Actual     Num    `json:"actual"`
	Completion Num    `json:"completion"`
	Status     Status `json:"status"`
}

// lastYearLayer ties a Result to the previous year's Result of the same month, resolved by
// codes: the unit with the same code, the indicator with the same code and kind.
type lastYearLayer struct {
	res   *Result
	towns []int // this year's unit index → last year's, -1 when last year has no such unit
	inds  []int // this year's indicator index → last year's, -1 when none of that code and kind
	ranks []int // this year's unit index → its rank last year, 0 when none
}

// WithLastYear returns r with last year attached: last, the evaluation of the previous
// year's assessment as of the same month. Nothing of r is copied but its county aggregate
// and ranking (a few rows, which then carry last_year and last_year_rank); every unit's
// last_year is resolved from last when asked (LastYearOf) or written (MarshalJSON), by
// codes: the same unit code, the same indicator code and the same kind (a count last year
// that is a stock now is not the same figure). r is not modified.
//
// The deployment decides which assessment is last year's (the same level and unit codes,
// monitor.Deployment); WithLastYear only checks the periods.
func (r *Result) WithLastYear(last *Result) (*Result, error) {
	if last == nil {
		return nil, fmt.Errorf("last year: no result")
	}
	if last.Period.Year != r.Period.Year-1 || last.Period.Month != r.Period.Month {
		return nil, fmt.Errorf("last year: %s is not the month a year before %s", last.Period, r.Period)
	}
	a, b := r.data.a, last.data.a
	ly := &lastYearLayer{res: last, towns: make([]int, len(a.Townships)), inds: make([]int, len(a.Indicators)), ranks: make([]int, len(a.Townships))}
	for t, tw := range a.Townships {
		ly.towns[t] = b.TownshipIndex(tw.Code)
	}
	for i := range a.Indicators {
		j := b.IndicatorIndex(a.Indicators[i].Code)
		if j >= 0 && b.Indicators[j].Kind != a.Indicators[i].Kind {
			j = -1
		}
		ly.inds[i] = j
	}
	rankOf := make([]int, len(b.Townships))
	for _, rk := range last.Rankings {
		if u := b.TownshipIndex(rk.Township); u >= 0 {
			rankOf[u] = rk.Rank
		}
	}
	for t, u := range ly.towns {
		if u >= 0 {
			ly.ranks[t] = rankOf[u]
		}
	}
	out := *r
	out.lastYear = ly
	out.County = slices.Clone(r.County)
	for i := range out.County {
		if j := ly.inds[i]; j >= 0 && j < len(last.County) {
			c := &last.County[j]
			out.County[i].LastYear = &LastYear{Actual: c.Actual, Completion: c.Completion, Status: c.Status}
		} else {
			out.County[i].LastYear = nil
		}
	}
	out.Rankings = slices.Clone(r.Rankings)
	ranks := make([]int, len(out.Rankings)) // one block for every row's last_year_rank
	for x := range out.Rankings {
		out.Rankings[x].LastYearRank = nil
		if t := a.TownshipIndex(out.Rankings[x].Township); t >= 0 && ly.ranks[t] > 0 {
			ranks[x] = ly.ranks[t]
			out.Rankings[x].LastYearRank = &ranks[x]
		}
	}
	return &out, nil
}

// LastYear is the previous year's result attached by WithLastYear, nil when none.
func (r *Result) LastYear() *Result {
	if r.lastYear == nil {
		return nil
	}
	return r.lastYear.res
}

// lastYearOf is LastYearOf without allocating.
func (r *Result) lastYearOf(t, i int) (LastYear, bool) {
	ly := r.lastYear
	if ly == nil || t < 0 || t >= len(ly.towns) || i < 0 || i >= len(ly.inds) {
		return LastYear{}, false
	}
	u, j := ly.towns[t], ly.inds[i]
	if u < 0 || j < 0 {
		return LastYear{}, false
	}
	e := &ly.res.rows[u][j]
	return LastYear{Actual: e.Actual, Completion: e.Completion, Status: e.Status}, true
}

// LastYearOf is unit index t's figures for indicator index i as of the same month last
// year, or nil when no last year is attached or last year had no such unit or indicator.
func (r *Result) LastYearOf(t, i int) *LastYear {
	if ly, ok := r.lastYearOf(t, i); ok {
		return &ly
	}
	return nil
}

// CountyLastYear is the county aggregate of indicator index i as of the same month last
// year (较去年同期 of the county table), or nil when there is none.
func (r *Result) CountyLastYear(i int) *LastYear {
	if i < 0 || i >= len(r.County) {
		return nil
	}
	return r.County[i].LastYear
}

// LastYearRank is unit index t's rank as of the same month last year, or nil when there
// is none.
func (r *Result) LastYearRank(t int) *int {
	if r.lastYear == nil || t < 0 || t >= len(r.lastYear.ranks) || r.lastYear.ranks[t] == 0 {
		return nil
	}
	rk := r.lastYear.ranks[t]
	return &rk
}

// marshalEvaluation writes unit t's evaluation of indicator i into b, with last_year when
// there is one: spliced in before the closing brace, so that 同比 costs a few bytes per
// evaluation rather than a second pass of reflection.
func (r *Result) marshalEvaluation(b *bytes.Buffer, t, i int) error {
	out, err := json.Marshal(&r.rows[t][i])
	if err != nil {
		return err
	}
	ly, ok := r.lastYearOf(t, i)
	if !ok {
		b.Write(out)
		return nil
	}
	b.Write(out[:len(out)-1])
	b.WriteString(`,"last_year":`)
	ly.appendJSON(b)
	b.WriteByte('}')
	return nil
}

// appendJSON writes ly as MarshalJSON would, without reflection or allocation.
func (ly LastYear) appendJSON(b *bytes.Buffer) {
	var tmp [32]byte
	num := func(n Num) {
		if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
			b.WriteString("null")
			return
		}
		b.Write(strconv.AppendFloat(tmp[:0], n.V, 'f', -1, 64))
	}
	b.WriteString(`{"actual":`)
	num(ly.Actual)
	b.WriteString(`,"completion":`)
	num(ly.Completion)
	b.WriteString(`,"status":`)
	if ly.Status == "" {
		b.WriteString("null")
	} else {
		b.WriteByte('"')
		b.WriteString(string(ly.Status))
		b.WriteByte('"')
	}
	b.WriteByte('}')
}
