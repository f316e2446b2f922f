package postgres

import (
	"context"
	"errors"
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
