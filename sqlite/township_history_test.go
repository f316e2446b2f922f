package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// TestTownshipHistoryAgreesWithHistory checks the one-query history of a township against
// History for each of its indicators, with corrections and another township's figures.
func TestTownshipHistoryAgreesWithHistory(t *testing.T) {
	db := MustOpen(t)
	a := testAssessment(t)
	ctx := context.Background()
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	for k, obs := range [][]kpi.Observation{
		{o("aa", "screenings", "2024-01", 10), r("aa", "closure", "2024-01", 9, 10), o("bb", "screenings", "2024-01", 5)},
		{o("aa", "screenings", "2024-02", 12), r("aa", "closure", "2024-02", 10, 10)},
		{o("aa", "screenings", "2024-01", 11), o("bb", "screenings", "2024-01", 6)}, // corrections
		{o("aa", "screenings", "2024-01", 12)},                                      // corrected again
	} {
		db.SetClock(func() time.Time { return at.Add(time.Duration(k) * time.Hour) })
		if _, err := db.Ingest(ctx, a, Batch{Actor: "t", Source: "s", Observations: obs}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.TownshipHistory(ctx, "aa")
	if err != nil {
		t.Fatal(err)
	}
	var want []IndicatorRevision
	for _, ind := range []string{"closure", "screenings"} { // by code
		revs, err := db.History(ctx, "aa", ind, kpi.Period{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rv := range revs {
			want = append(want, IndicatorRevision{Indicator: ind, Revision: rv})
		}
	}
	if len(got) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("TownshipHistory:\n%+v\nHistory:\n%+v", got, want)
	}
}
