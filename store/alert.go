package store

import (
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// AlertChanges says what one sync of the alert lifecycle changed.
type AlertChanges struct {
	Fired     []AlertRecord // started firing now
	Resolved  []AlertRecord // stopped holding now
	Escalated []AlertRecord // still firing, with a changed severity
}

// Empty reports whether nothing started, stopped or changed severity.
func (c AlertChanges) Empty() bool {
	return len(c.Fired) == 0 && len(c.Resolved) == 0 && len(c.Escalated) == 0
}

// AlertPlan is what a backend writes, in one transaction, to record that exactly a set of
// alerts holds: the rows to start, to update in place and to resolve.
type AlertPlan struct {
	Start   []AlertRecord // new runs; ID 0 until the backend inserts them
	Update  []AlertRecord // firing runs whose severity, summary, period or active_since changed (ID set)
	Resolve []AlertRecord // firing runs that no longer hold, with ResolvedAt set (ID set)

	escalated []int // positions in Update whose severity changed
}

// Changes is what the plan changed, once the backend has written it (and filled the IDs of
// Start).
func (p AlertPlan) Changes() AlertChanges {
	ch := AlertChanges{Fired: p.Start, Resolved: p.Resolve}
	for _, i := range p.escalated {
		ch.Escalated = append(ch.Escalated, p.Update[i])
	}
	return ch
}

// PlanAlerts is the alert lifecycle's transition, shared by every backend: given the runs
// the store holds as firing, the alerts that hold as of period p, and the time now, it says
// which runs start, which change and which resolve.
//
//   - An alert that holds and has no firing run starts one. Its StartedAt is when the
//     condition began, as began says (for a missing report, the deadline that passed), but
//     never later than now; began may be nil (then: now).
//   - A firing run that still holds keeps its start and takes the latest severity, summary,
//     period and active_since; a change of severity is an escalation (or de-escalation).
//   - A firing run that no longer holds resolves at now.
//
// The same condition never fires twice while it holds. current must not list one alert
// twice.
func PlanAlerts(firing []AlertRecord, current []kpi.Alert, p kpi.Period, now time.Time, began func(kpi.Alert) time.Time) (AlertPlan, error) {
	var plan AlertPlan
	now = now.UTC()
	byKey := make(map[kpi.AlertKey]int, len(firing))
	for i, r := range firing {
		if !r.Firing() {
			return plan, fmt.Errorf("plan alerts: run %d of %v is resolved, not firing", r.ID, r.Key())
		}
		if _, dup := byKey[r.Key()]; dup {
			return plan, fmt.Errorf("plan alerts: %v has two firing runs", r.Key())
		}
		byKey[r.Key()] = i
	}
	seen := make(map[kpi.AlertKey]bool, len(current))
	for _, al := range current {
		k := al.Key()
		if seen[k] {
			return plan, fmt.Errorf("plan alerts: %v listed twice", k)
		}
		seen[k] = true
		i, ok := byKey[k]
		if !ok {
			start := now
			if began != nil {
				if b := began(al).UTC(); !b.IsZero() && b.Before(now) {
					start = b
				}
			}
			plan.Start = append(plan.Start, AlertRecord{Alert: al, Period: p, StartedAt: start, UpdatedAt: now})
			continue
		}
		old := firing[i]
		if old.Severity == al.Severity && old.Summary == al.Summary && old.Period == p && old.ActiveSince == al.ActiveSince {
			continue
		}
		rec := old
		rec.Alert, rec.Period, rec.UpdatedAt = al, p, now
		if old.Severity != al.Severity {
			plan.escalated = append(plan.escalated, len(plan.Update))
		}
		plan.Update = append(plan.Update, rec)
	}
	for _, r := range firing {
		if seen[r.Key()] {
			continue
		}
		at := now
		r.ResolvedAt = &at
		plan.Resolve = append(plan.Resolve, r)
	}
	return plan, nil
}
