package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestAnAlertBeginsWhenItsConditionBegan(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 3, 9))
	mon, _ := fixture(t, rc, ", events: [alerts]", clk)
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		alert kpi.Alert
		want  time.Time
	}{
		{"a missing report: the deadline", kpi.Alert{Alert: kpi.AlertMissingReport, ActiveSince: kpi.MustPeriod("2024-01")}, shanghai(t, 2024, 2, 6, 0)},
		{"behind pace: the end of the month", kpi.Alert{Alert: kpi.AlertBehindPace, ActiveSince: kpi.MustPeriod("2024-01")}, shanghai(t, 2024, 2, 1, 0)},
		{"below threshold: the end of the month", kpi.Alert{Alert: kpi.AlertBelowThreshold, ActiveSince: kpi.MustPeriod("2024-03")}, shanghai(t, 2024, 4, 1, 0)},
		{"a ceiling breached in December: New Year", kpi.Alert{Alert: kpi.AlertCeilingBreached, ActiveSince: kpi.MustPeriod("2024-12")}, shanghai(t, 2025, 1, 1, 0)},
		{"a veto: the end of the month", kpi.Alert{Alert: kpi.AlertVeto, ActiveSince: kpi.MustPeriod("2024-07")}, shanghai(t, 2024, 8, 1, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.began(tc.alert); !got.Equal(tc.want) {
				t.Errorf("began = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBehindPaceCountsFromTheEndOfItsMonth(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 3, 9)) // January reported on the 3rd of February
	mon, _ := fixture(t, rc, ", events: [alerts]", clk)
	// 甲镇 screened 5 of the 10 January's pace asks for: behind as of 31 January
	ingest(t, mon, "aa,screenings,2024-01,5,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\nbb,closure,2024-01,,5,5\n")
	e, err := New(mon, Options{AlertmanagerURL: rc.srv.URL + "/am", RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)
	began := shanghai(t, 2024, 2, 1, 0)
	am, ok := lastAM(t, rc)["behind_pace/aa/screenings"]
	if !ok {
		t.Fatalf("no behind_pace for 甲镇 in Alertmanager: %v", lastAM(t, rc))
	}
	if !am.StartsAt.Equal(began) || !strings.Contains(am.Annotations["description"], "始于 2024-02-01 00:00，持续中") {
		t.Errorf("startsAt %v, description %q; want %v", am.StartsAt, am.Annotations["description"], began)
	}
	// a day later 甲镇 corrects its figure: resolved after 3 days 9 hours
	clk.Set(shanghai(t, 2024, 2, 4, 9))
	ingest(t, mon, "aa,screenings,2024-01,10,,\n")
	mustSync(t, e)
	am = lastAM(t, rc)["behind_pace/aa/screenings"]
	if !am.StartsAt.Equal(began) || !strings.Contains(am.Annotations["description"], "恢复（持续3天9小时）") {
		t.Errorf("resolved: startsAt %v, description %q", am.StartsAt, am.Annotations["description"])
	}
	got := texts(t, rc, pathWeCom)
	if len(got) != 2 || !strings.Contains(got[1], "未达序时进度（持续3天9小时）") {
		t.Errorf("messages %q; the second should say the alert lasted 3天9小时", got)
	}
	var j struct {
		Resolved []alertItem `json:"resolved"`
	}
	if err := jsonOf(rc.bodies(pathJSON)[1], &j); err != nil || len(j.Resolved) != 1 || !j.Resolved[0].StartedAt.Equal(began) {
		t.Errorf("json resolved = %+v (%v), want started_at %v", j.Resolved, err, began)
	}
}
