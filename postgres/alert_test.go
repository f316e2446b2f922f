package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres/pgtest"
	"github.com/kpimon/kpimon/store"
)

// Several servers syncing the same alerts at once: the syncs take turns (the assessment's
// alert lock), so every one succeeds and each alert starts firing exactly once.
func TestConcurrentAlertSyncsOfServersFireOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	servers := []*DB{openURL(t, url), openURL(t, url)}
	p := kpi.MustPeriod("2024-03")
	current := []kpi.Alert{
		{Alert: kpi.AlertBehindPace, Township: "aa", Indicator: "screenings", Severity: kpi.SeverityWarning, ActiveSince: p, Summary: "滞后"},
		{Alert: kpi.AlertMissingReport, Township: "bb", Indicator: "screenings", Severity: kpi.SeverityWarning, ActiveSince: p, Summary: "未报送"},
	}
	now := time.Date(2024, 4, 6, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	fired := 0
	var wg sync.WaitGroup
	for i := range 8 {
		db := servers[i%2]
		wg.Go(func() {
			ch, err := db.SyncAlerts(ctx, "test", now, p, current, nil)
			if err != nil {
				t.Errorf("sync: %v", err)
				return
			}
			mu.Lock()
			fired += len(ch.Fired)
			mu.Unlock()
		})
	}
	wg.Wait()
	if fired != len(current) {
		t.Errorf("%d alerts fired over the syncs, want %d (each once)", fired, len(current))
	}
	if f, err := servers[0].FiringAlerts(ctx, "test"); err != nil || len(f) != len(current) {
		t.Errorf("firing = %+v %v", f, err)
	}
}

// A preview asked for through two servers at once is taken by one.
func TestPreviewIsTakenOnceAcrossServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	one, two := openURL(t, url), openURL(t, url)
	now := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	for round := range 5 {
		id := "p" + string(rune('a'+round))
		if err := one.SavePreview(ctx, store.Preview{ID: id, TokenID: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte("x")}, now); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make(chan error, 4)
		for i := range 4 {
			db := []*DB{one, two}[i%2]
			wg.Go(func() {
				_, err := db.TakePreview(ctx, id, 1, now)
				results <- err
			})
		}
		wg.Wait()
		close(results)
		taken := 0
		for err := range results {
			switch {
			case err == nil:
				taken++
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("take: %v", err)
			}
		}
		if taken != 1 {
			t.Errorf("preview %s taken %d times, want once", id, taken)
		}
	}
}

// A login link opened through two servers at once logs in once; the others are told it
// was used.
func TestLoginLinkIsUsedOnceAcrossServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	one, two := openURL(t, url), openURL(t, url)
	tok, _, err := one.AddToken(ctx, store.NewToken{Assessment: "test", Name: "甲镇妇联", Township: "aa"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	for range 5 {
		link, err := one.CreateLoginLink(ctx, tok.ID, now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		results := make(chan error, 4)
		var wg sync.WaitGroup
		for i := range 4 {
			db := []*DB{one, two}[i%2]
			wg.Go(func() {
				_, err := db.UseLoginLink(ctx, link, now)
				results <- err
			})
		}
		wg.Wait()
		close(results)
		used := 0
		for err := range results {
			switch {
			case err == nil:
				used++
			case !errors.Is(err, store.ErrLinkUsed):
				t.Errorf("use: %v", err)
			}
		}
		if used != 1 {
			t.Errorf("a link logged in %d times, want once", used)
		}
	}
}

// A sync of thousands of alerts (a first sync at province scale) starts, escalates and
// resolves each one, with an id per run.
func TestLargeAlertSync(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	p := kpi.MustPeriod("2024-03")
	var current []kpi.Alert
	for i := range 5000 {
		current = append(current, kpi.Alert{Alert: kpi.AlertBehindPace, Township: fmt.Sprintf("t%04d", i), Indicator: "screenings",
			Severity: kpi.SeverityWarning, ActiveSince: p, Summary: fmt.Sprintf("滞后 %d", i)})
	}
	t0 := time.Date(2024, 4, 6, 9, 0, 0, 123456789, time.UTC)
	ch, err := db.SyncAlerts(ctx, "test", t0, p, current, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, r := range ch.Fired {
		ids[r.ID] = true
	}
	if len(ch.Fired) != 5000 || len(ids) != 5000 || ids[0] {
		t.Fatalf("%d fired with %d distinct ids, want 5000", len(ch.Fired), len(ids))
	}
	firing, err := db.FiringAlerts(ctx, "test")
	if err != nil || len(firing) != 5000 {
		t.Fatalf("firing: %d %v", len(firing), err)
	}
	byKey := map[kpi.AlertKey]store.AlertRecord{}
	for _, r := range firing {
		byKey[r.Key()] = r
	}
	for _, r := range ch.Fired {
		if got := byKey[r.Key()]; got.ID != r.ID || !got.StartedAt.Equal(r.StartedAt) || got.Summary != r.Summary {
			t.Fatalf("fired %+v, stored %+v", r, got)
		}
	}
	next := current[:3750] // a quarter resolves
	for i := range next[:1000] {
		next[i].Severity = kpi.SeverityCritical
	}
	t1 := t0.Add(time.Hour)
	ch, err = db.SyncAlerts(ctx, "test", t1, kpi.MustPeriod("2024-04"), next, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 0 || len(ch.Escalated) != 1000 || len(ch.Resolved) != 1250 {
		t.Fatalf("second sync: %d fired, %d escalated, %d resolved; want 0, 1000, 1250", len(ch.Fired), len(ch.Escalated), len(ch.Resolved))
	}
	resolved, err := db.ResolvedAlerts(ctx, "test", t1)
	if err != nil || len(resolved) != 1250 || !resolved[0].ResolvedAt.Equal(t1.Truncate(time.Microsecond)) {
		t.Errorf("resolved: %d %v", len(resolved), err)
	}
	firing, _ = db.FiringAlerts(ctx, "test")
	critical := 0
	for _, r := range firing {
		if r.Severity == kpi.SeverityCritical && r.Period == kpi.MustPeriod("2024-04") {
			critical++
		}
	}
	if len(firing) != 3750 || critical != 1000 {
		t.Errorf("after the second sync: %d firing, %d critical in April; want 3750 and 1000", len(firing), critical)
	}
}
