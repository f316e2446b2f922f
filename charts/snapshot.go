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
	return s, nil
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
