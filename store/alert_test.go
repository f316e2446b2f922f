package store

import (
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func alert(name, tw, sev, since, summary string) kpi.Alert {
	return kpi.Alert{Alert: name, Township: tw, Indicator: "screenings", Severity: sev, ActiveSince: kpi.MustPeriod(since), Summary: summary}
}

func TestPlanAlerts(t *testing.T) {
	t0 := time.Date(2024, 7, 1, 8, 0, 0, 0, time.UTC)
	now := t0.Add(48 * time.Hour)
	p := kpi.MustPeriod("2024-06")
	firing := []AlertRecord{
		{ID: 1, Alert: alert("behind_pace", "aa", "warning", "2024-05", "甲"), Period: kpi.MustPeriod("2024-05"), StartedAt: t0, UpdatedAt: t0},
		{ID: 2, Alert: alert("behind_pace", "bb", "warning", "2024-05", "乙"), Period: kpi.MustPeriod("2024-05"), StartedAt: t0, UpdatedAt: t0},
		{ID: 3, Alert: alert("veto", "cc", "critical", "2024-04", "丙"), Period: p, StartedAt: t0, UpdatedAt: t0},
	}
	current := []kpi.Alert{
		alert("behind_pace", "aa", "critical", "2024-05", "甲，已连续2个月滞后"), // escalates
		alert("veto", "cc", "critical", "2024-04", "丙"),                 // unchanged
		alert("missing_report", "dd", "warning", "2024-06", "丁未报"),      // starts
	}
	deadline := time.Date(2024, 7, 2, 16, 0, 0, 0, time.UTC)
	began := func(al kpi.Alert) time.Time {
		if al.Alert == "missing_report" {
			return deadline
		}
		return time.Time{}
	}
	plan, err := PlanAlerts(firing, current, p, now, began)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Start) != 1 || plan.Start[0].Township != "dd" || !plan.Start[0].StartedAt.Equal(deadline) || !plan.Start[0].UpdatedAt.Equal(now) || plan.Start[0].Period != p {
		t.Errorf("start = %+v; want dd started at the deadline %v", plan.Start, deadline)
	}
	if len(plan.Update) != 1 || plan.Update[0].ID != 1 || plan.Update[0].Severity != "critical" || !plan.Update[0].StartedAt.Equal(t0) || plan.Update[0].Period != p {
		t.Errorf("update = %+v; want run 1 escalated, its start kept", plan.Update)
	}
	if len(plan.Resolve) != 1 || plan.Resolve[0].ID != 2 || plan.Resolve[0].ResolvedAt == nil || !plan.Resolve[0].ResolvedAt.Equal(now) {
		t.Errorf("resolve = %+v; want run 2 resolved now", plan.Resolve)
	}
	ch := plan.Changes()
	if len(ch.Fired) != 1 || len(ch.Escalated) != 1 || len(ch.Resolved) != 1 || ch.Escalated[0].ID != 1 {
		t.Errorf("changes = %+v", ch)
	}
}

func TestPlanAlertsSummaryChangeIsNotEscalation(t *testing.T) {
	t0 := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	p := kpi.MustPeriod("2024-07")
	firing := []AlertRecord{{ID: 7, Alert: alert("behind_pace", "aa", "warning", "2024-07", "旧"), Period: p, StartedAt: t0, UpdatedAt: t0}}
	plan, err := PlanAlerts(firing, []kpi.Alert{alert("behind_pace", "aa", "warning", "2024-07", "新")}, p, t0.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Update) != 1 || plan.Update[0].Summary != "新" {
		t.Fatalf("update = %+v; want the new summary written", plan.Update)
	}
	if ch := plan.Changes(); !ch.Empty() {
		t.Errorf("changes = %+v; a new summary alone is no change to announce", ch)
	}
}

func TestPlanAlertsStartNeverInTheFuture(t *testing.T) {
	now := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	plan, err := PlanAlerts(nil, []kpi.Alert{alert("missing_report", "aa", "warning", "2024-06", "x")}, kpi.MustPeriod("2024-06"), now,
		func(kpi.Alert) time.Time { return now.Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Start[0].StartedAt.Equal(now) {
		t.Errorf("started %v; want now %v, not a time to come", plan.Start[0].StartedAt, now)
	}
}

func TestPlanAlertsRefusesDuplicates(t *testing.T) {
	now := time.Now()
	a := alert("veto", "aa", "critical", "2024-01", "x")
	if _, err := PlanAlerts(nil, []kpi.Alert{a, a}, kpi.MustPeriod("2024-01"), now, nil); err == nil {
		t.Error("an alert listed twice was accepted")
	}
	two := []AlertRecord{{ID: 1, Alert: a}, {ID: 2, Alert: a}}
	if _, err := PlanAlerts(two, nil, kpi.MustPeriod("2024-01"), now, nil); err == nil {
		t.Error("two firing runs of one alert were accepted")
	}
	resolved := []AlertRecord{{ID: 1, Alert: a, ResolvedAt: &now}}
	if _, err := PlanAlerts(resolved, nil, kpi.MustPeriod("2024-01"), now, nil); err == nil {
		t.Error("a resolved run handed in as firing was accepted")
	}
}
