package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// TestLastReportsAgreesWithLastReport checks the one-pass reading against LastReport for
// every month, with a later batch that corrects an earlier month.
func TestLastReportsAgreesWithLastReport(t *testing.T) {
	db := MustOpen(t)
	a := testAssessment(t)
	ctx := context.Background()
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	for _, b := range []struct {
		at  time.Time
		obs []kpi.Observation
	}{
		{at, []kpi.Observation{o("aa", "screenings", "2024-01", 10), o("bb", "screenings", "2024-01", 5)}},
		{at.AddDate(0, 1, 0), []kpi.Observation{o("aa", "screenings", "2024-02", 10)}},
		{at.AddDate(0, 1, 2), []kpi.Observation{o("bb", "screenings", "2024-01", 6)}}, // a correction of January
	} {
		db.SetClock(func() time.Time { return b.at })
		if _, err := db.Ingest(ctx, a, Batch{Actor: "t", Source: "s", Observations: b.obs}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LastReports(ctx, 2024)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("%d months, want 2: %v", len(got), got)
	}
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		want, ok, err := db.LastReport(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if g, has := got[p]; has != ok || !g.Equal(want) {
			t.Errorf("%s: LastReports %v (%v), LastReport %v (%v)", p, g, has, want, ok)
		}
	}
	if !got[kpi.MustPeriod("2024-01")].Equal(at.AddDate(0, 1, 2)) {
		t.Errorf("January's last report is the correction: %v", got[kpi.MustPeriod("2024-01")])
	}
}
