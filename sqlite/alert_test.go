package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func testAlert(name, tw, ind, sev, since string) kpi.Alert {
	return kpi.Alert{Alert: name, Township: tw, Indicator: ind, Severity: sev, ActiveSince: kpi.MustPeriod(since), Summary: tw + ind + sev}
}

func TestAlertLifecycle(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	t0 := time.Date(2024, 4, 6, 0, 0, 1, 0, time.UTC)
	p := kpi.MustPeriod("2024-03")
	missing := testAlert(kpi.AlertMissingReport, "aa", "screenings", kpi.SeverityWarning, "2024-03")
	behind := testAlert(kpi.AlertBehindPace, "bb", "screenings", kpi.SeverityWarning, "2024-03")

	ch, err := db.SyncAlerts(ctx, t0, p, []kpi.Alert{missing, behind})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 2 || len(ch.Resolved) != 0 || len(ch.Escalated) != 0 {
		t.Fatalf("first sync: %+v, want 2 fired", ch)
	}
	if !ch.Fired[0].StartedAt.Equal(t0) || ch.Fired[0].ID == 0 {
		t.Errorf("fired = %+v, want started at %v with an id", ch.Fired[0], t0)
	}

	// the same alerts again: nothing fires twice
	t1 := t0.Add(time.Minute)
	ch, err = db.SyncAlerts(ctx, t1, p, []kpi.Alert{missing, behind})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Empty() {
		t.Errorf("second sync with the same alerts changed %+v", ch)
	}

	// a month later: behind escalates, the report arrived
	t2 := t0.Add(30 * 24 * time.Hour)
	p2 := kpi.MustPeriod("2024-04")
	behind2 := behind
	behind2.Severity, behind2.Summary = kpi.SeverityCritical, "已连续2个月滞后"
	ch, err = db.SyncAlerts(ctx, t2, p2, []kpi.Alert{behind2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 0 || len(ch.Resolved) != 1 || len(ch.Escalated) != 1 {
		t.Fatalf("third sync: %+v, want 1 resolved and 1 escalated", ch)
	}
	if r := ch.Resolved[0]; r.Key() != missing.Key() || r.ResolvedAt == nil || !r.ResolvedAt.Equal(t2) || !r.StartedAt.Equal(t0) {
		t.Errorf("resolved = %+v, want missing_report started %v resolved %v", r, t0, t2)
	}
	if e := ch.Escalated[0]; e.Severity != kpi.SeverityCritical || !e.StartedAt.Equal(t0) || e.Period != p2 {
		t.Errorf("escalated = %+v, want critical, still started at %v", e, t0)
	}

	firing, err := db.FiringAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(firing) != 1 || firing[0].Key() != behind.Key() || firing[0].Summary != "已连续2个月滞后" || !firing[0].Firing() {
		t.Errorf("firing = %+v, want the escalated behind_pace", firing)
	}
	resolved, err := db.ResolvedAlerts(ctx, t2.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(resolved) != 1 || resolved[0].Key() != missing.Key() || resolved[0].Firing() {
		t.Errorf("resolved since = %+v", resolved)
	}
	if later, _ := db.ResolvedAlerts(ctx, t2.Add(time.Second)); len(later) != 0 {
		t.Errorf("resolved after the resolution time: %+v", later)
	}

	// the condition holds again: a new run starts, the old one stays as history
	t3 := t2.Add(time.Hour)
	ch, err = db.SyncAlerts(ctx, t3, p2, []kpi.Alert{behind2, missing})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 1 || !ch.Fired[0].StartedAt.Equal(t3) || ch.Fired[0].ID == resolved[0].ID {
		t.Errorf("refire = %+v, want a new run from %v", ch.Fired, t3)
	}
	if all, _ := db.ResolvedAlerts(ctx, time.Time{}); len(all) != 1 {
		t.Errorf("history has %d resolved runs, want 1", len(all))
	}

	// the lifecycle survives a reopen
	path := db.Path()
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if f, _ := db2.FiringAlerts(ctx); len(f) != 2 {
		t.Errorf("after reopen %d firing, want 2", len(f))
	}
	if _, err := db2.SyncAlerts(ctx, t3, p2, []kpi.Alert{missing, missing}); err == nil {
		t.Error("the same alert listed twice was accepted")
	}
}

func TestNotificationsAreRecordedOnce(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	at := time.Date(2024, 4, 3, 9, 0, 0, 0, time.UTC)
	if ok, err := db.Notified(ctx, "wecom", "reminders", "2024-03"); err != nil || ok {
		t.Fatalf("before: notified = %v, %v", ok, err)
	}
	for range 2 {
		if err := db.RecordNotification(ctx, "wecom", "reminders", "2024-03", at); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := db.Notified(ctx, "wecom", "reminders", "2024-03"); err != nil || !ok {
		t.Errorf("after: notified = %v, %v", ok, err)
	}
	for _, other := range [][3]string{{"dingtalk", "reminders", "2024-03"}, {"wecom", "rankings", "2024-03"}, {"wecom", "reminders", "2024-04"}} {
		if ok, _ := db.Notified(ctx, other[0], other[1], other[2]); ok {
			t.Errorf("%v counted as notified", other)
		}
	}
}
