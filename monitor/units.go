package monitor

import (
	"fmt"
	"sync/atomic"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

// A city's monitor holds a dataset whose derived cells (a county's figures with a township
// source) come from its counties' monitors and whose other cells come from the store (the
// figures the counties report themselves, through ingest with their tokens). When a
// county's data change, only that county's row is derived again, and only that row is
// evaluated again (kpi.Reevaluate with that unit changed); the other counties are not
// touched.

// linkUnits ties m, a city's (province's) monitor, to the monitors of its units' own
// assessments; byID finds a monitor of the deployment by its assessment's id. A monitor
// whose units name no assessment is left as it is.
func (m *Monitor) linkUnits(byID func(id string) (*Monitor, bool)) error {
	u, err := kpi.LinkUnits(m.a, func(id string) (*kpi.Assessment, bool) {
		x, ok := byID(id)
		if !ok {
			return nil, false
		}
		return x.a, true
	})
	if err != nil || u == nil {
		return err
	}
	m.units = u
	m.sources = make([]*Monitor, len(m.a.Townships))
	m.derivations = make([]atomic.Uint64, len(m.a.Townships))
	for t, tw := range m.a.Townships {
		if tw.Assessment != "" {
			m.sources[t], _ = byID(tw.Assessment)
		}
	}
	return nil
}

// deriveLocked derives the rows of units ts from their assessments' current data and
// publishes the result as a new version in which only those units changed (nothing is
// published when their figures are as they were). The caller holds ingestMu.
func (m *Monitor) deriveLocked(ts []int) error {
	next := m.CloneData(m.Dataset())
	var changed []int
	from := ""
	for _, t := range ts {
		src := m.sources[t]
		if src == nil {
			continue
		}
		m.derivations[t].Add(1)
		ch, err := m.units.Derive(next, t, kpi.AggregateOf(src.Dataset()))
		if err != nil {
			return fmt.Errorf("汇总 %s 的数据: %w", src.a.ID, err)
		}
		if ch {
			changed = append(changed, t)
			from = src.a.ID
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if len(changed) > 1 {
		from = ""
	}
	m.mu.RLock()
	batch := m.batch
	m.mu.RUnlock()
	m.commit(next, batch, changed, false, Change{From: from})
	return nil
}

// followUnits makes every change of a unit's own data derive that unit's row again. A
// change that left the unit's data as they were (last year's, for its 同比) changes none
// of its figures here.
func (m *Monitor) followUnits() {
	for t, src := range m.sources {
		if src == nil {
			continue
		}
		src.Subscribe(func(ch Change) {
			if ch.Dependency {
				return
			}
			// runs while the county holds its ingestMu: locks go from the county to the city
			m.ingestMu.Lock()
			defer m.ingestMu.Unlock()
			if err := m.deriveLocked([]int{t}); err != nil {
				m.log.Error("从所辖单位的考核汇总失败", "assessment", m.a.ID, "unit", m.a.Townships[t].Code, "err", err)
			}
		})
	}
}

// Units is where the derived figures of a city's (province's) units come from, nil when
// its units name no assessment.
func (m *Monitor) Units() *kpi.Units { return m.units }

// UnitMonitor is the monitor of unit t's own assessment (a city's county), and false when
// the unit names none.
func (m *Monitor) UnitMonitor(t int) (*Monitor, bool) {
	if t < 0 || t >= len(m.sources) || m.sources[t] == nil {
		return nil, false
	}
	return m.sources[t], true
}

// refuseDerived refuses a batch with rows of figures this assessment derives (a city's
// county figure with a township source): each such row is named, with the assessment it
// comes from.
func (m *Monitor) refuseDerived(b *collector.Batch) error {
	if m.units == nil {
		return nil
	}
	var be collector.BatchError
	for _, r := range b.Rows() {
		t, i := m.a.TownshipIndex(r.Township), m.a.IndicatorIndex(r.Indicator)
		if !m.units.Derived(t, i) {
			continue
		}
		if len(be.Errors) == collector.MaxListedErrors {
			be.More++
			continue
		}
		tw, ind := m.a.Townships[t], m.a.Indicators[i]
		be.Errors = append(be.Errors, &collector.RowError{
			Where: r.Where(), Field: "indicator", Value: r.Indicator, Err: kpi.ErrDerived, Rows: 1,
			Msg: fmt.Sprintf("%s的“%s”由其考核 %s 中各%s的数据汇总得出，不能直接报送", tw.Name, ind.Name, tw.Assessment, m.units.Of(t).UnitsShort()),
		})
	}
	if be.Count() == 0 {
		return nil
	}
	return &be
}
