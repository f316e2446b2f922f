package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres/pgtest"
	"github.com/kpimon/kpimon/store/storetest"
)

// calls records the ids a watcher was called with, with when.
type calls struct {
	mu  sync.Mutex
	ids []string
	at  []time.Time
}

func (c *calls) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids, c.at = append(c.ids, id), append(c.at, time.Now())
}

func (c *calls) since(t time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for i, at := range c.at {
		if !at.Before(t) {
			out = append(out, c.ids[i])
		}
	}
	return out
}

// wait waits until f was called with id at or after t, up to limit.
func (c *calls) wait(t time.Time, id string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, got := range c.since(t) {
			if got == id {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// WatchBatches listens (LISTEN/NOTIFY) rather than polls: a batch committed through
// another server reaches the watcher at once, nothing comes while nothing is committed,
// and a batch that is not committed (refused, or changing nothing) sends nothing.
func TestWatchBatchesHearsOtherServersAtOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	one, two := openURL(t, url), openURL(t, url)
	a, other := storetest.Assessment(t), otherAssessment(t)
	if _, err := two.Ingest(ctx, other, batchOf("before", ob("aa", "screenings", "2024-01", 1))); err != nil {
		t.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var got calls
	start := time.Now()
	go func() { done <- one.WatchBatches(watchCtx, got.add) }()
	if !got.wait(start, other.ID, 5*time.Second) {
		t.Fatalf("no call for the assessment with batches when the watch began (calls %v)", got.since(start))
	}
	time.Sleep(1500 * time.Millisecond) // longer than any polling interval
	quiet := time.Now()
	if _, err := two.Ingest(ctx, a, batchOf("jan", ob("aa", "screenings", "2024-01", 5))); err != nil {
		t.Fatal(err)
	}
	if !got.wait(quiet, a.ID, 500*time.Millisecond) {
		t.Errorf("another server's batch not heard within 500 ms (calls %v)", got.since(quiet))
	}
	if idle := got.since(start.Add(time.Second)); len(idle) != 1 {
		t.Errorf("calls while nothing was committed, or too many: %v", idle)
	}
	if _, _, err := two.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-02"), "x"); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	two.Ingest(ctx, a, batchOf("jan again", ob("aa", "screenings", "2024-01", 5)))                        // changes nothing
	two.Ingest(ctx, a, batchOf("locked", ob("aa", "screenings", "2024-02", 5)))                           // refused
	if _, err := two.Ingest(ctx, other, batchOf("x", ob("aa", "screenings", "2024-02", 2))); err != nil { // a marker
		t.Fatal(err)
	}
	if !got.wait(after, other.ID, 2*time.Second) {
		t.Fatal("the marker batch not heard")
	}
	for _, id := range got.since(after) {
		if id == a.ID {
			t.Errorf("a batch that was not committed was announced: %v", got.since(after))
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchBatches ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("WatchBatches did not end within 5 s of its context")
	}
}

// When the watching connection is lost, the watcher reconnects and calls f for every
// assessment, so a batch committed while it was not listening is not missed.
func TestWatchBatchesReconnectsAndCatchesUp(t *testing.T) {
	ctx := context.Background()
	var raw [4]byte
	rand.Read(raw[:])
	app := "kpimon-test-" + hex.EncodeToString(raw[:])
	url := pgtest.URL(t)
	watcher := openURL(t, pgtest.WithParam(t, url, "application_name", app))
	writer := openURL(t, url)
	a := storetest.Assessment(t)
	if _, err := writer.Ingest(ctx, a, batchOf("jan", ob("aa", "screenings", "2024-01", 1))); err != nil {
		t.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	var got calls
	start := time.Now()
	go watcher.WatchBatches(watchCtx, got.add)
	if !got.wait(start, a.ID, 5*time.Second) {
		t.Fatal("no first call")
	}
	cut := time.Now()
	pgtest.Exec(t, url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app+" watch")
	// committed while the watcher reconnects (it waits before its first attempt)
	if _, err := writer.Ingest(ctx, a, batchOf("feb", ob("aa", "screenings", "2024-02", 2))); err != nil {
		t.Fatal(err)
	}
	if !got.wait(cut, a.ID, 10*time.Second) {
		t.Fatal("no call after the watching connection was lost")
	}
	again := time.Now()
	if _, err := writer.Ingest(ctx, a, batchOf("mar", ob("aa", "screenings", "2024-03", 3))); err != nil {
		t.Fatal(err)
	}
	if !got.wait(again, a.ID, 2*time.Second) {
		t.Error("the reconnected watcher does not hear new batches")
	}
	ch, err := watcher.ChangedSince(ctx, a, 0)
	if err != nil || len(ch.Observations) != 3 {
		t.Errorf("changes seen by the watching server: %+v %v", ch, err)
	}
}
