package charts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/store"
)

// Snapshot is everything the pages of one period show, gathered once from the monitor so
// that the page builders stay pure.
type Snapshot struct {
	Assessment *kpi.Assessment
	Period     kpi.Period
	Latest     kpi.Period    // the latest period with reports; zero when there is none
	Months     []*kpi.Result // Months[k-1] is the evaluation as of month k, for k = 1 … Period.Month
	LastReport time.Time     // when the latest batch holding a value for Period was written; zero if none
	Version    uint64        // the data version the snapshot was taken at

	// Resolved are the alert runs the lifecycle store saw resolve this year
	// (LoadResolutions), for 预警's recent resolutions; nil when not read.
	Resolved []AlertResolution

	// LastYear is the previous year's assessment (同比) as of each month of its year, for
	// the trend charts' 去年同期 lines; nil when the deployment holds no last year.
	LastYear *LastYearMonths

	shares []bool // per indicator: a city's share of townships done (kpi.Units.ShareOf); nil: work it out
}

// LastYearMonths is the previous year's assessment as of months 1 … 12, with where this
// year's units and indicators are in it: the unit of the same code, the indicator of the
// same code and kind (as kpi.Result.WithLastYear matches them).
type LastYearMonths struct {
	Months []*kpi.Result // Months[k-1] is last year's evaluation as of month k
	units  []int         // this year's unit index → last year's, -1 when none
	inds   []int         // this year's indicator index → last year's, -1 when none
}

// NewLastYearMonths matches a's units and indicators with those of last year's results
// (months, as of months 1 … 12).
func NewLastYearMonths(a *kpi.Assessment, months []*kpi.Result) *LastYearMonths {
	if len(months) == 0 {
		return nil
	}
	b := months[0].Assessment()
	ly := &LastYearMonths{Months: months, units: make([]int, len(a.Townships)), inds: make([]int, len(a.Indicators))}
	for t, tw := range a.Townships {
		ly.units[t] = b.TownshipIndex(tw.Code)
	}
	for i := range a.Indicators {
		j := b.IndicatorIndex(a.Indicators[i].Code)
		if j >= 0 && b.Indicators[j].Kind != a.Indicators[i].Kind {
			j = -1
		}
		ly.inds[i] = j
	}
	return ly
}

// Has reports whether last year has indicator index i.
func (ly *LastYearMonths) Has(i int) bool {
	return ly != nil && i >= 0 && i < len(ly.inds) && ly.inds[i] >= 0
}

// Of is unit t's evaluation of indicator i as of month k last year, or nil when last year
// has no such unit, indicator or month.
func (ly *LastYearMonths) Of(k, t, i int) *kpi.Evaluation {
	if !ly.Has(i) || t < 0 || t >= len(ly.units) || ly.units[t] < 0 || k < 1 || k > len(ly.Months) {
		return nil
	}
	r := ly.Months[k-1]
	return r.Evaluation(ly.units[t], ly.inds[i], len(r.Assessment().Indicators))
}

// County is the county aggregate of indicator i as of month k last year, or nil.
func (ly *LastYearMonths) County(k, i int) *kpi.CountyEvaluation {
	if !ly.Has(i) || k < 1 || k > len(ly.Months) {
		return nil
	}
	return &ly.Months[k-1].County[ly.inds[i]]
}

// Result is the evaluation as of the snapshot's period.
func (s *Snapshot) Result() *kpi.Result { return s.Months[len(s.Months)-1] }

// TakeSnapshot evaluates every month up to p (each from the monitor's cache) and reads the
// time of the last report for p.
func TakeSnapshot(ctx context.Context, mon *monitor.Monitor, p kpi.Period) (*Snapshot, error) {
	v := mon.Version()
	times, err := mon.Store().LastReports(ctx, mon.Assessment().ID, mon.Assessment().Year)
	if err != nil {
		return nil, err
	}
	return takeSnapshot(mon, p, v, times)
}

// takeSnapshot is TakeSnapshot with the last report times of data version v already read.
func takeSnapshot(mon *monitor.Monitor, p kpi.Period, v uint64, lastReports map[kpi.Period]time.Time) (*Snapshot, error) {
	a := mon.Assessment()
	if p.Year != a.Year || p.Month < 1 || p.Month > 12 {
		return nil, fmt.Errorf("%w: 月份 %s 不在考核年度 %d 内", kpi.ErrBadPeriod, p, a.Year)
	}
	s := &Snapshot{Assessment: a, Period: p, Version: v, LastReport: lastReports[p]}
	if l, ok := mon.LatestPeriod(); ok {
		s.Latest = l
	}
	for m := 1; m <= p.Month; m++ {
		r, err := mon.Evaluate(kpi.Period{Year: p.Year, Month: m})
		if err != nil {
			return nil, fmt.Errorf("evaluate %d-%02d: %w", p.Year, m, err)
		}
		s.Months = append(s.Months, r)
	}
	if last, ok := mon.LastYear(); ok {
		months := make([]*kpi.Result, 12)
		for k := 1; k <= 12; k++ {
			r, err := last.Evaluate(kpi.Period{Year: p.Year - 1, Month: k})
			if err != nil {
				return nil, fmt.Errorf("evaluate last year %d-%02d: %w", p.Year-1, k, err)
			}
			months[k-1] = r
		}
		s.LastYear = NewLastYearMonths(a, months)
	}
	if u := s.Result().Data().Units(); u != nil {
		s.shares = make([]bool, len(a.Indicators))
		for i := range a.Indicators {
			s.shares[i] = u.ShareOf(i)
		}
	}
	return s, nil
}

// Units is where a city's (province's) derived figures come from, nil when its units name
// no assessment.
func (s *Snapshot) Units() *kpi.Units { return s.Result().Data().Units() }

// share reports whether every unit's figure of indicator i is its share of townships that
// have done a milestone (0 … 1), which pages write as a percentage.
func (s *Snapshot) share(i int) bool {
	if s.shares != nil {
		return s.shares[i]
	}
	return len(s.Months) > 0 && s.Units().ShareOf(i)
}

// measure is indicator i as the pages write its figures.
func (s *Snapshot) measure(i int) measure {
	return measure{Indicator: &s.Assessment.Indicators[i], Share: s.share(i)}
}

// Correction is one superseded value of a township × indicator × month: what it was, who
// reported it and when, and who replaced it when (数据修订记录).
type Correction struct {
	Indicator string // code
	Period    kpi.Period
	Old       store.Revision // the superseded value
	New       store.Revision // the value that replaced it (the next revision, or the current one)
}

// Submission is one batch that wrote figures of a township (报送记录): who, when, from
// which file, for which months, how many figures.
type Submission struct {
	BatchID int64
	At      time.Time
	Actor   string
	Source  string
	Periods []kpi.Period // in order
	Figures int
}

// TownshipHistory is the audit trail of a township's figures.
type TownshipHistory struct {
	Corrections []Correction // values that were replaced, latest first
	Submissions []Submission // batches that wrote its figures, latest first
	// LastReports says, for each month with a current value of the township, when the
	// latest batch holding one of them was written: the township's own 最后报送于.
	LastReports map[kpi.Period]time.Time
}

// LoadHistory reads the revision history of the township's figures (one query): the values
// that were replaced, and the batches that wrote its figures.
func LoadHistory(ctx context.Context, db store.Observations, a *kpi.Assessment, township string) (TownshipHistory, error) {
	var h TownshipHistory
	revs, err := db.TownshipHistory(ctx, a.ID, township)
	if err != nil {
		return h, err
	}
	subs := map[int64]*Submission{}
	for start := 0; start < len(revs); {
		end := start
		for end < len(revs) && revs[end].Indicator == revs[start].Indicator {
			end++
		}
		one := make([]store.Revision, 0, end-start)
		for _, r := range revs[start:end] {
			one = append(one, r.Revision)
		}
		if _, ok := a.Indicator(revs[start].Indicator); ok {
			h.Corrections = append(h.Corrections, corrections(revs[start].Indicator, one)...)
		}
		start = end
	}
	for _, r := range revs {
		if _, ok := a.Indicator(r.Indicator); !ok {
			continue // an indicator no longer in the config
		}
		s := subs[r.BatchID]
		if s == nil {
			s = &Submission{BatchID: r.BatchID, At: r.At, Actor: r.Actor, Source: r.Source}
			subs[r.BatchID] = s
		}
		s.Figures++
		if r.Current && r.At.After(h.LastReports[r.Period]) {
			if h.LastReports == nil {
				h.LastReports = map[kpi.Period]time.Time{}
			}
			h.LastReports[r.Period] = r.At
		}
		if !slices.Contains(s.Periods, r.Period) {
			s.Periods = append(s.Periods, r.Period)
		}
	}
	sortCorrections(h.Corrections)
	for _, s := range subs {
		slices.SortFunc(s.Periods, func(x, y kpi.Period) int { return cmp.Compare(x.Year*100+x.Month, y.Year*100+y.Month) })
		h.Submissions = append(h.Submissions, *s)
	}
	slices.SortFunc(h.Submissions, func(x, y Submission) int {
		if c := y.At.Compare(x.At); c != 0 {
			return c
		}
		return cmp.Compare(y.BatchID, x.BatchID)
	})
	return h, nil
}

// corrections pairs each superseded revision with the one that replaced it. History lists
// a key's revisions by period, newest first within a period.
func corrections(indicator string, revs []store.Revision) []Correction {
	var out []Correction
	for i, r := range revs {
		if r.Current || i == 0 || revs[i-1].Period != r.Period {
			continue
		}
		out = append(out, Correction{Indicator: indicator, Period: r.Period, Old: r, New: revs[i-1]})
	}
	return out
}

// sortCorrections lists the latest corrections first.
func sortCorrections(cs []Correction) {
	sort.SliceStable(cs, func(i, j int) bool {
		if !cs[i].New.At.Equal(cs[j].New.At) {
			return cs[i].New.At.After(cs[j].New.At)
		}
		if cs[i].Period != cs[j].Period {
			return cs[j].Period.Before(cs[i].Period)
		}
		return cs[i].Indicator < cs[j].Indicator
	})
}
