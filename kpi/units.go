package kpi

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDerived is what an observation of a figure that is aggregated from a unit's own
// assessment (a city's county figure with a township source) unwraps to: it is not
// reported, it is derived.
var ErrDerived = errors.New("derived figure")

// Units ties a city's assessment (a province's) to the assessments its units name
// (`units: - {code, name, assessment}`): for each unit and indicator, the indicator of the
// unit's own assessment whose aggregate is the unit's figure, or none when the unit
// reports the figure itself. Build it with LinkUnits; it is not changed after.
//
// The rule (docs/semantics.md, "The city"): an indicator with `from: CODE` takes every
// unit's figure from CODE in the unit's assessment, which must have it; one without takes
// it from its own code where the unit's assessment has an indicator of that code, and is
// otherwise reported by the unit itself, like any observation. Kinds: a count from a count,
// a stock from a stock, a ratio from a ratio, and a stock from a milestone (the share of
// the unit's townships done, 0 … 1).
type Units struct {
	a   *Assessment
	of  []*Assessment // per unit: its own assessment; nil when it names none
	src [][]int       // per unit, per indicator: the index in the unit's assessment, -1 when reported
}

// LinkUnits links the assessment a to the assessments of its units: byID finds an
// assessment by its id. It reports, in Chinese, every unit whose assessment is unknown, of
// another year or of a level that is not the one below a's (a city's units are counties or
// districts, a province's are cities), and every indicator whose source is missing or of a
// kind it cannot be taken from. An assessment whose units name no assessment gets nil.
func LinkUnits(a *Assessment, byID func(id string) (*Assessment, bool)) (*Units, error) {
	u := &Units{a: a, of: make([]*Assessment, len(a.Townships)), src: make([][]int, len(a.Townships))}
	var problems []string
	// an indicator's source missing or of the wrong kind is told once, naming every unit
	type sourceProblem struct {
		i    int
		kind Kind // the source's kind; "" when it is missing
	}
	var order []sourceProblem
	units := map[sourceProblem][]string{}
	note := func(sp sourceProblem, who string) {
		if units[sp] == nil {
			order = append(order, sp)
		}
		units[sp] = append(units[sp], who)
	}
	named := false
	for t, tw := range a.Townships {
		u.src[t] = make([]int, len(a.Indicators))
		for i := range u.src[t] {
			u.src[t][i] = -1
		}
		if tw.Assessment == "" {
			continue
		}
		named = true
		who := fmt.Sprintf("%s（%s）的考核 %s", tw.Name, tw.Code, tw.Assessment)
		b, ok := byID(tw.Assessment)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s不在本次部署中：请一并给出该考核的配置（--config）", who))
			continue
		case b.Year != a.Year:
			problems = append(problems, fmt.Sprintf("%s是 %d 年度的，而 %s 是 %d 年度的：应为同一年度的考核", who, b.Year, a.ID, a.Year))
			continue
		case !unitLevel(a.Level, b.Level):
			problems = append(problems, fmt.Sprintf("%s是%s级考核，不是%s的考核", who, b.Level.Label(), a.Level.Units()))
			continue
		}
		u.of[t] = b
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			j := b.IndicatorIndex(ind.Source())
			if j < 0 {
				if ind.From != "" {
					note(sourceProblem{i: i}, who)
				}
				continue
			}
			if !derivable(ind.Kind, b.Indicators[j].Kind) {
				note(sourceProblem{i: i, kind: b.Indicators[j].Kind}, who)
				continue
			}
			u.src[t][i] = j
		}
	}
	for _, sp := range order {
		ind := &a.Indicators[sp.i]
		whom := strings.Join(units[sp], "、")
		if sp.kind == "" {
			problems = append(problems, fmt.Sprintf("指标 %s 从 %s 汇总（from），但%s没有这个指标", ind.Code, ind.From, whom))
			continue
		}
		problems = append(problems, fmt.Sprintf("指标 %s 是%s（%s），而%s中的 %s 是%s（%s），不能由它汇总：累计量由累计量、存量由存量、比率由比率汇总，乡镇节点任务汇总为完成比例（声明为 stock）；如该指标由各单位直接报送，请换一个代码",
			ind.Code, ind.Kind.Label(), ind.Kind, whom, ind.Source(), sp.kind.Label(), sp.kind))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("考核 %s 的%s：%s", a.ID, a.Level.Units(), strings.Join(problems, "；"))
	}
	if !named {
		return nil, nil
	}
	return u, nil
}

// unitLevel reports whether an assessment of level unit may be a unit of one of level l.
func unitLevel(l, unit Level) bool {
	switch l {
	case LevelCity:
		return unit == LevelCounty || unit == LevelDistrict
	case LevelProvince:
		return unit == LevelCity
	}
	return false
}

// derivable reports whether an indicator of kind k may take its figures from a unit's
// indicator of kind from.
func derivable(k, from Kind) bool {
	switch from {
	case KindCount, KindRatio:
		return k == from
	case KindStock, KindMilestone:
		return k == KindStock
	}
	return false
}

// Assessment is the assessment whose units these are.
func (u *Units) Assessment() *Assessment { return u.a }

// Of is unit t's own assessment, nil when it names none.
func (u *Units) Of(t int) *Assessment { return u.of[t] }

// Derived reports whether unit t's figure of indicator i is aggregated from its own
// assessment rather than reported.
func (u *Units) Derived(t, i int) bool {
	return u != nil && t >= 0 && t < len(u.src) && i >= 0 && i < len(u.src[t]) && u.src[t][i] >= 0
}

// Share reports whether unit t's figure of indicator i is the share of its townships that
// have done a milestone.
func (u *Units) Share(t, i int) bool {
	return u.Derived(t, i) && u.of[t].Indicators[u.src[t][i]].Kind == KindMilestone
}

// ShareOf reports whether every unit's figure of indicator i is its share of townships that
// have done a milestone (0 … 1): pages write such figures, targets and the aggregate as
// percentages.
func (u *Units) ShareOf(i int) bool {
	if u == nil {
		return false
	}
	for t := range u.src {
		if !u.Share(t, i) {
			return false
		}
	}
	return len(u.src) > 0
}

// Aggregate is an assessment's aggregate (全县) of every indicator as of each month, worked
// out from its data as Evaluate's county aggregate is: what a city's figures of the county
// are derived from. Month k is at index k-1.
type Aggregate struct {
	Units      int               // the assessment's units (a county's townships)
	Active     [12]int           // units that reported anything for month k
	Indicators []AggregateSeries // in the assessment's indicator order
	a          *Assessment
}

// AggregateSeries is one indicator's aggregate as of each month.
type AggregateSeries struct {
	Kind Kind
	Any  [12]bool // some unit has a report as of month k
	// Actual is, as of month k: for counts and stocks the sum of the actuals of the units
	// with data; for milestones the number of units done; for bonuses the points; for
	// vetoes the number of units vetoed.
	Actual                 [12]float64
	Numerator, Denominator [12]float64 // ratios: the sums as of month k
	Reported               [12]int     // units that reported month k itself
}

// AggregateOf works out the aggregate of d's assessment as of every month. Sums run unit
// by unit in config order, as Evaluate's county aggregate adds them, so a city's figure
// of a county equals that county's 全县 figure.
//
// A city's share of townships done (Units.ShareOf) is pooled as its 全市 figure is: each
// county's share weighted by its townships.
func AggregateOf(d *Dataset) *Aggregate {
	a := d.a
	g := &Aggregate{Units: len(a.Townships), Indicators: make([]AggregateSeries, len(a.Indicators)), a: a}
	shares := pooledShares(d)
	var weights [][12]float64 // per pooled indicator and month: the townships behind the units with data
	if shares != nil {
		weights = make([][12]float64, len(a.Indicators))
	}
	var s series
	for t := range a.Townships {
		var active uint16
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			c := d.Cell(t, i)
			active |= c.Reported
			s = series{}
			buildSeries(&s, ind, c, 12)
			out := &g.Indicators[i]
			out.Kind = ind.Kind
			for k := 1; k <= 12; k++ {
				if c.Has(k) {
					out.Reported[k-1]++
				}
				switch ind.Kind {
				case KindCount, KindStock:
					if !s.any[k] {
						break
					}
					out.Any[k-1] = true
					if shares != nil && shares[i] {
						w := float64(len(d.units.of[t].Townships))
						out.Actual[k-1] += w * s.actual[k]
						weights[i][k-1] += w
					} else {
						out.Actual[k-1] += s.actual[k]
					}
				case KindRatio:
					if s.any[k] {
						out.Any[k-1] = true
						out.Numerator[k-1] += s.num[k]
						out.Denominator[k-1] += s.den[k]
					}
				default:
					out.Actual[k-1] += s.actual[k]
					out.Any[k-1] = true
				}
			}
		}
		for k := 1; k <= 12; k++ {
			if active&(1<<(k-1)) != 0 {
				g.Active[k-1]++
			}
		}
	}
	for i, pooled := range shares {
		for k := 0; pooled && k < 12; k++ {
			if weights[i][k] > 0 {
				g.Indicators[i].Actual[k] /= weights[i][k]
			}
		}
	}
	return g
}

// derivedCell is one unit × indicator's cell as derived from the unit's aggregate, with
// how many of the unit's own units did not report each month.
type derivedCell struct {
	cell Cell
	gap  [12]uint16
}

// derive works out unit t's cell of indicator i from its assessment's aggregate g: the
// monthly figures whose as-of values are the aggregate's (a count's month is the difference
// of two months' sums, a ratio's the differences of its sums, a stock's the level, a
// milestone's the share done). A month is reported when some unit under it reported it
// (for a share: reported anything that month); gap counts those that did not, except for a
// share, which is never incomplete: a milestone needs no monthly report (a township that
// has not reported it done has not done it), so the share is whole whatever was reported.
func (u *Units) derive(t, i int, g *Aggregate) derivedCell {
	src := &g.Indicators[u.src[t][i]]
	var out derivedCell
	c := &out.cell
	var prevA, prevN, prevD float64
	for k := 1; k <= 12; k++ {
		reported := src.Reported[k-1]
		if src.Kind == KindMilestone {
			reported = g.Active[k-1]
		}
		if src.Kind != KindMilestone {
			out.gap[k-1] = uint16(min(max(0, g.Units-reported), 1<<16-1))
		}
		a, n, dn := src.Actual[k-1], src.Numerator[k-1], src.Denominator[k-1]
		if reported > 0 {
			c.Reported |= 1 << (k - 1)
			switch src.Kind {
			case KindCount:
				c.Value[k-1] = a - prevA
			case KindStock:
				c.Value[k-1] = a
			case KindMilestone:
				c.Value[k-1] = a / float64(g.Units)
			case KindRatio:
				c.Value[k-1], c.Denominator[k-1] = n-prevN, dn-prevD
			}
		}
		prevA, prevN, prevD = a, n, dn
	}
	return out
}

// Derive sets unit t's derived cells in d, a dataset of the assessment u links (or one
// bound to it with CloneFor), from g, the aggregate of the unit's own assessment's data
// (AggregateOf). Cells the unit reports itself are left alone. It reports whether anything
// changed; d's rows are copied before they are written, as Set copies them.
func (u *Units) Derive(d *Dataset, t int, g *Aggregate) (bool, error) {
	if d.a.ID != u.a.ID || len(d.a.Townships) != len(u.a.Townships) || len(d.a.Indicators) != len(u.a.Indicators) {
		return false, fmt.Errorf("derive: the dataset is of %s, not %s", d.a.ID, u.a.ID)
	}
	if t < 0 || t >= len(u.of) || u.of[t] == nil {
		return false, fmt.Errorf("derive: unit %d of %s names no assessment", t, u.a.ID)
	}
	if g.a.ID != u.of[t].ID {
		return false, fmt.Errorf("derive: unit %s's figures come from %s, not %s", u.a.Townships[t].Code, u.of[t].ID, g.a.ID)
	}
	d.units = u
	var gaps [][12]uint16
	if d.gaps != nil {
		gaps = d.gaps[t]
	}
	changed := false
	var row []Cell
	var newGaps [][12]uint16
	for i := range u.a.Indicators {
		if u.src[t][i] < 0 {
			continue
		}
		dc := u.derive(t, i, g)
		var oldGap [12]uint16
		if gaps != nil {
			oldGap = gaps[i]
		}
		if *d.Cell(t, i) == dc.cell && oldGap == dc.gap {
			continue
		}
		if !changed {
			changed = true
			row = d.writable(t)
			newGaps = make([][12]uint16, len(u.a.Indicators))
			copy(newGaps, gaps)
		}
		d.count += popcount(dc.cell.Reported) - popcount(row[i].Reported)
		row[i] = dc.cell
		newGaps[i] = dc.gap
	}
	if changed {
		if d.gaps == nil {
			d.gaps = make([][][12]uint16, len(u.a.Townships))
		}
		d.gaps[t] = newGaps // a new slice: clones sharing the old one keep it
	}
	return changed, nil
}

func popcount(x uint16) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// Units is where the dataset's derived cells come from, nil when it has none.
func (d *Dataset) Units() *Units { return d.units }

// Unreported is, for a derived cell (unit t's figure of indicator i aggregated from its
// own assessment), how many of the unit's own units had not reported month m (1 … 12); 0
// for any other cell.
func (d *Dataset) Unreported(t, i, m int) int {
	if d.gaps == nil || d.gaps[t] == nil || m < 1 || m > 12 {
		return 0
	}
	return int(d.gaps[t][i][m-1])
}
