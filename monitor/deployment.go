package monitor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Deployment is every assessment one kpimon serves from one store: each year's of a
// county, several counties', a city's. It keeps a Monitor per assessment, knows each
// one's previous year (for 同比), ties a city to its counties' assessments (the city's
// figures of a county with a township source come from the county's data, units.go),
// which one is the default, and watches the store once for batches written elsewhere.
//
// The previous year of an assessment is the assessment of the year before with the same
// level and the same unit codes (the same county); when several qualify, the one whose id
// is this id with the year replaced (qingcheng-2026 → qingcheng-2025) is taken, and
// otherwise none, so that two counties never borrow each other's figures.
type Deployment struct {
	st    store.Store
	list  []*Monitor // in the order the configs were given
	byID  map[string]*Monitor
	prev  map[string]*Monitor
	now   func() time.Time
	every time.Duration
}

// NewDeployment loads every assessment. Ids must be unique.
func NewDeployment(ctx context.Context, st store.Store, as []*kpi.Assessment, opt Options) (*Deployment, error) {
	if len(as) == 0 {
		return nil, fmt.Errorf("没有考核配置")
	}
	d := &Deployment{st: st, byID: map[string]*Monitor{}, prev: map[string]*Monitor{}, now: opt.Now}
	if d.now == nil {
		d.now = time.Now
	}
	for _, a := range as {
		if _, dup := d.byID[a.ID]; dup {
			return nil, fmt.Errorf("两个考核配置的编号（id）都是 %q：请在其中一个配置中写明不同的 id", a.ID)
		}
		m, err := New(ctx, a, st, opt)
		if err != nil {
			return nil, fmt.Errorf("载入考核 %s: %w", a.ID, err)
		}
		d.list = append(d.list, m)
		d.byID[a.ID] = m
	}
	for _, m := range d.list {
		if p := d.previousOf(m.Assessment()); p != nil {
			d.prev[m.Assessment().ID] = p
			m.mu.Lock()
			m.lastYear = p
			m.mu.Unlock()
		}
	}
	// a city's units name the assessments its figures come from
	for _, m := range d.list {
		if err := m.linkUnits(d.Monitor); err != nil {
			return nil, err
		}
	}
	// each assessment's data are made final after those it depends on: its counties' and
	// last year's first
	for _, m := range d.ordered() {
		if m.units != nil {
			all := make([]int, len(m.a.Townships))
			for t := range all {
				all[t] = t
			}
			m.ingestMu.Lock()
			err := m.deriveLocked(all)
			m.ingestMu.Unlock()
			if err != nil {
				return nil, fmt.Errorf("考核 %s: %w", m.a.ID, err)
			}
		}
		if p := m.lastYear; p != nil && m.a.HasLastYearBaselines() {
			m.ingestMu.Lock()
			_, err := m.rebaseLocked(p.Dataset())
			m.ingestMu.Unlock()
			if err != nil {
				return nil, fmt.Errorf("考核 %s 按上年数据设年初基数: %w", m.a.ID, err)
			}
		}
	}
	for _, m := range d.list {
		if p := m.lastYear; p != nil {
			m.follow(p)
		}
		m.followUnits()
	}
	for _, m := range d.list {
		if p := m.lastYear; p == nil && m.a.HasLastYearBaselines() {
			m.log.Warn("考核中有指标设了 baseline: last_year，但没有上年考核：年初基数按 0 计", "assessment", m.a.ID)
		}
	}
	return d, nil
}

// ordered lists the monitors so that every one comes after the assessments it depends on:
// by year, and within a year by level (counties before their city).
func (d *Deployment) ordered() []*Monitor {
	out := slices.Clone(d.list)
	rank := func(l kpi.Level) int {
		switch l {
		case kpi.LevelCity:
			return 1
		case kpi.LevelProvince:
			return 2
		}
		return 0
	}
	slices.SortStableFunc(out, func(x, y *Monitor) int {
		if c := x.a.Year - y.a.Year; c != 0 {
			return c
		}
		return rank(x.a.Level) - rank(y.a.Level)
	})
	return out
}

// previousOf finds the previous year's assessment of a (see Deployment).
func (d *Deployment) previousOf(a *kpi.Assessment) *Monitor {
	var found []*Monitor
	for _, m := range d.list {
		b := m.Assessment()
		if b.Year == a.Year-1 && b.Level == a.Level && sameUnits(a, b) {
			found = append(found, m)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	want := strings.Replace(a.ID, fmt.Sprint(a.Year), fmt.Sprint(a.Year-1), 1)
	for _, m := range found {
		if m.Assessment().ID == want && want != a.ID {
			return m
		}
	}
	return nil
}

func sameUnits(a, b *kpi.Assessment) bool {
	codes := func(x *kpi.Assessment) []string {
		out := make([]string, len(x.Townships))
		for i, t := range x.Townships {
			out[i] = t.Code
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(codes(a), codes(b))
}

// Monitors lists the assessments' monitors in the order their configs were given.
func (d *Deployment) Monitors() []*Monitor { return slices.Clone(d.list) }

// Monitor returns the monitor of the assessment with the id.
func (d *Deployment) Monitor(id string) (*Monitor, bool) {
	m, ok := d.byID[id]
	return m, ok
}

// IDs lists the assessments' ids, sorted.
func (d *Deployment) IDs() []string { return slices.Sorted(maps.Keys(d.byID)) }

// LastYear is the previous year's assessment of the one with the id, if the deployment
// holds it.
func (d *Deployment) LastYear(id string) (*Monitor, bool) {
	m, ok := d.prev[id]
	return m, ok
}

// Default is the assessment `/` shows: the current year's (by each assessment's own time
// zone), else the latest year's. When several assessments share that year, a city whose
// units are all the others is the default (its pages link to every county); otherwise
// there is no single default: ok is false and choices lists them, in config order, for a
// chooser.
func (d *Deployment) Default() (m *Monitor, choices []*Monitor, ok bool) {
	now := d.now()
	var current []*Monitor
	for _, x := range d.list {
		if x.Assessment().Year == now.In(x.Assessment().Location).Year() {
			current = append(current, x)
		}
	}
	if len(current) == 0 {
		latest := 0
		for _, x := range d.list {
			latest = max(latest, x.Assessment().Year)
		}
		for _, x := range d.list {
			if x.Assessment().Year == latest {
				current = append(current, x)
			}
		}
	}
	if len(current) == 1 {
		return current[0], current, true
	}
	// a city (or province) over the counties of its year: it links to every one of them
	var top *Monitor
	for _, x := range current {
		if x.Units() == nil {
			continue
		}
		if top != nil {
			return nil, current, false // two cities of one year: the chooser says which
		}
		top = x
	}
	if top != nil && coversAll(top, current) {
		return top, current, true
	}
	return nil, current, false
}

// coversAll reports whether every other assessment in ms is one of city's units.
func coversAll(city *Monitor, ms []*Monitor) bool {
	units := city.Units()
	of := map[string]bool{}
	for t := range city.Assessment().Townships {
		if a := units.Of(t); a != nil {
			of[a.ID] = true
		}
	}
	for _, x := range ms {
		if x != city && !of[x.Assessment().ID] {
			return false
		}
	}
	return true
}

// Covering lists the assessments whose year is year, in config order: where a row of that
// year may go when a batch names no assessment.
func (d *Deployment) Covering(year int) []*Monitor {
	var out []*Monitor
	for _, m := range d.list {
		if m.Assessment().Year == year {
			out = append(out, m)
		}
	}
	return out
}

// Watch refreshes the monitor of every assessment the store reports a batch of, and every
// monitor every `every` as a fallback, until ctx is done: one watch of the store for the
// whole deployment.
func (d *Deployment) Watch(ctx context.Context, every time.Duration) {
	poke := make(chan string, 64)
	go func() {
		if err := d.st.WatchBatches(ctx, func(id string) {
			select {
			case poke <- id:
			default: // the fallback tick catches up
			}
		}); err != nil && ctx.Err() == nil {
			d.list[0].log.Error("监视存储中的新批次失败", "err", err)
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	refresh := func(m *Monitor) {
		if _, err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("刷新数据失败", "assessment", m.a.ID, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-poke:
			if m, ok := d.byID[id]; ok {
				refresh(m)
			}
		case <-t.C:
			for _, m := range d.list {
				refresh(m)
			}
		}
	}
}
