package monitor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

func hookAssessment(t *testing.T) *kpi.Assessment {
	t.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(`name: 测试
year: 2024
report_deadline_day: 5
townships:
  - {code: aa, name: 甲镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 120}
`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newTestMonitor(t *testing.T, a *kpi.Assessment, now time.Time) *Monitor {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpimon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := New(ctx, a, db, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func csvBatch(a *kpi.Assessment, body string) *collector.Batch {
	b := collector.NewBatch(a)
	b.AddCSV("t.csv", strings.NewReader("township,indicator,period,value\n"+body))
	return b
}

func TestOnIngestSeesAcceptedUnchangedAndRefusedBatches(t *testing.T) {
	a := hookAssessment(t)
	now := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	m := newTestMonitor(t, a, now)
	var got []IngestOutcome
	m.OnIngest(func(o IngestOutcome) { got = append(got, o) })
	ctx := context.Background()

	if _, err := m.Ingest(ctx, csvBatch(a, "aa,screenings,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ingest(ctx, csvBatch(a, "aa,screenings,2024-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	_, err := m.Ingest(ctx, csvBatch(a, "aa,screenings,2024-01,-3\nzz,screenings,2024-01,1\n"), "t")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad batch: err = %v, want ErrInvalid", err)
	}
	if len(got) != 3 {
		t.Fatalf("hook called %d times, want 3", len(got))
	}
	if !got[0].Accepted() || got[0].Result.New != 1 || !got[0].At.Equal(now) {
		t.Errorf("first outcome = %+v, want accepted with 1 new at %v", got[0], now)
	}
	if !got[1].Accepted() || got[1].Result.Unchanged != 1 || got[1].Result.New != 0 {
		t.Errorf("second outcome = %+v, want accepted with 1 unchanged", got[1])
	}
	if got[2].Accepted() || !errors.Is(got[2].Err, ErrInvalid) || got[2].Result.New != 0 {
		t.Errorf("third outcome = %+v, want refused as invalid", got[2])
	}
}

func TestCurrentPeriodFollowsDataAndTheClock(t *testing.T) {
	a := hookAssessment(t)
	loc := a.Location
	at := func(y, mo, day int) time.Time { return time.Date(y, time.Month(mo), day, 12, 0, 0, 0, loc) }
	tests := []struct {
		name     string
		reported []int // months with a report
		now      time.Time
		want     string
	}{
		{"nothing reported, before the first deadline", nil, at(2024, 1, 20), "2024-01"},
		{"nothing reported, January overdue", nil, at(2024, 2, 6), "2024-01"},
		{"latest report wins", []int{1, 2}, at(2024, 3, 2), "2024-02"},
		{"a month nobody reported becomes current once overdue", []int{1, 2}, at(2024, 4, 6), "2024-03"},
		{"before that deadline the latest report stays", []int{1, 2}, at(2024, 4, 5), "2024-02"},
		{"after the year the latest overdue month is December", []int{1}, at(2025, 3, 1), "2024-12"},
		{"before the year January", nil, at(2023, 6, 1), "2024-01"},
		// a township sends November's figures on 30 November: October stays current, and
		// its overdue reports stay overdue, until November ends
		{"an early report of the running month moves nothing", []int{9, 10, 11}, at(2024, 11, 30), "2024-10"},
		{"the month is current once it has ended", []int{9, 10, 11}, at(2024, 12, 1), "2024-11"},
		{"early reports of the running month alone", []int{1}, at(2024, 1, 20), "2024-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := kpi.NewDataset(a)
			for _, m := range tc.reported {
				if err := d.Set(kpi.Observation{Township: "aa", Indicator: "screenings", Period: kpi.Period{Year: 2024, Month: m}, Value: 1}); err != nil {
					t.Fatal(err)
				}
			}
			if got := CurrentPeriod(d, tc.now).String(); got != tc.want {
				t.Errorf("CurrentPeriod = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDefaultPeriodIsTheLatestEndedMonth: a request that names no month is about the latest
// month with reports that has ended; a month nobody has reported is not (unlike
// CurrentPeriod, it is not overdue data to show), and the running month's early reports
// count only when no ended month has any.
func TestDefaultPeriodIsTheLatestEndedMonth(t *testing.T) {
	a := hookAssessment(t)
	at := func(y, mo, day int) time.Time { return time.Date(y, time.Month(mo), day, 12, 0, 0, 0, a.Location) }
	for _, tc := range []struct {
		name     string
		reported []int
		now      time.Time
		want     string
	}{
		{"an early report of the running month", []int{9, 10, 11}, at(2024, 11, 30), "2024-10"},
		{"the running month has ended", []int{9, 10, 11}, at(2024, 12, 1), "2024-11"},
		{"an overdue month nobody reported", []int{1, 2}, at(2024, 4, 6), "2024-02"},
		{"only the running month has reports", []int{1}, at(2024, 1, 20), "2024-01"},
		{"a past year", []int{3, 12}, at(2025, 6, 1), "2024-12"},
		{"nothing reported", nil, at(2024, 6, 1), "2024-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMonitor(t, a, tc.now)
			var rows strings.Builder
			for _, k := range tc.reported {
				fmt.Fprintf(&rows, "aa,screenings,2024-%02d,1\n", k)
			}
			if len(tc.reported) > 0 {
				if _, err := m.Store().Ingest(context.Background(), a, store.Batch{BatchMeta: store.BatchMeta{Actor: "test"}, Observations: csvBatch(a, rows.String()).Observations()}); err != nil {
					t.Fatal(err)
				}
				if _, err := m.Refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.DefaultPeriod().String(); got != tc.want {
				t.Errorf("DefaultPeriod = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestOnIngestSeesBatchesWrittenElsewhere: a batch written by another process (the command
// line) reaches the hooks when Refresh loads it, with its own time and counts, so metrics
// such as the last ingest time follow command-line ingests too.
func TestOnIngestSeesBatchesWrittenElsewhere(t *testing.T) {
	a := hookAssessment(t)
	now := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	m := newTestMonitor(t, a, now)
	var got []IngestOutcome
	m.OnIngest(func(o IngestOutcome) { got = append(got, o) })
	ctx := context.Background()
	db := m.Store().(*sqlite.DB)
	written := time.Date(2024, 2, 20, 8, 30, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return written })
	b := csvBatch(a, "aa,screenings,2024-01,10\naa,screenings,2024-02,4\n")
	if _, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: "cli"}, Observations: b.Observations()}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("hooks called before Refresh: %+v", got)
	}
	if ok, err := m.Refresh(ctx); err != nil || !ok {
		t.Fatalf("refresh = %v %v", ok, err)
	}
	if len(got) != 1 || !got[0].Elsewhere || !got[0].Accepted() || got[0].Result.New != 2 || !got[0].At.Equal(written) || got[0].Result.BatchID == 0 {
		t.Errorf("outcomes = %+v, want one batch written elsewhere at %v with 2 new", got, written)
	}
	// the CLI again, then this server: one outcome each, the server's own not told twice
	if _, err := db.Ingest(ctx, a, store.Batch{Observations: csvBatch(a, "aa,screenings,2024-03,1\n").Observations()}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ingest(ctx, csvBatch(a, "aa,screenings,2024-04,2\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[1].Elsewhere || got[2].Elsewhere {
		t.Errorf("outcomes = %+v, want the CLI's batch then the server's own, once each", got)
	}
}
