package builds

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or a second passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestConcurrentCallsShareOneBuild(t *testing.T) {
	g := New(2, time.Second)
	release := make(chan struct{})
	const n = 8
	var wg sync.WaitGroup
	results := make([]any, n)
	for i := range n {
		wg.Go(func() {
			v, err := g.Do(context.Background(), "bulletin 2024-03", func(context.Context) (any, error) {
				<-release
				return "built", nil
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		})
	}
	waitFor(t, "every caller", func() bool { return g.Callers() == n })
	close(release)
	wg.Wait()
	if g.Builds() != 1 {
		t.Errorf("%d builds for %d concurrent calls, want 1", g.Builds(), n)
	}
	for i, v := range results {
		if v != "built" {
			t.Errorf("caller %d got %v", i, v)
		}
	}
}

func TestAtMostConcurrencyBuildsRun(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		keys        int
	}{
		{"one at a time", 1, 4},
		{"two at a time", 2, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := New(tc.concurrency, 5*time.Second)
			release := make(chan struct{})
			var wg sync.WaitGroup
			for i := range tc.keys {
				wg.Go(func() {
					g.Do(context.Background(), fmt.Sprint("page ", i), func(context.Context) (any, error) {
						<-release
						return nil, nil
					})
				})
			}
			waitFor(t, "the first builds", func() bool { return g.Builds() == int64(tc.concurrency) })
			time.Sleep(20 * time.Millisecond) // room for a build past the bound to start, if one could
			if g.Builds() != int64(tc.concurrency) {
				t.Errorf("%d builds started while %d held the slots", g.Builds(), tc.concurrency)
			}
			close(release)
			wg.Wait()
			if g.Builds() != int64(tc.keys) || g.Peak() != int64(tc.concurrency) {
				t.Errorf("builds %d (want %d), at most %d at once (want %d)", g.Builds(), tc.keys, g.Peak(), tc.concurrency)
			}
		})
	}
}

func TestBusyAfterTheWait(t *testing.T) {
	g := New(1, 50*time.Millisecond)
	release := make(chan struct{})
	go g.Do(context.Background(), "slow", func(context.Context) (any, error) { <-release; return nil, nil })
	waitFor(t, "the slow build", func() bool { return g.Builds() == 1 })
	start := time.Now()
	_, err := g.Do(context.Background(), "other", func(context.Context) (any, error) { return nil, nil })
	if !errors.Is(err, ErrBusy) {
		t.Errorf("err = %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond || waited > time.Second {
		t.Errorf("refused after %v, want after the 50ms wait", waited)
	}
	close(release)
}

func TestACallerThatLeavesDoesNotCancelTheBuild(t *testing.T) {
	g := New(1, time.Second)
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	built := make(chan error, 1)
	go g.Do(ctx, "page", func(bctx context.Context) (any, error) {
		<-release
		built <- bctx.Err()
		return nil, nil
	})
	waitFor(t, "the build", func() bool { return g.Builds() == 1 })
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := g.Do(context.Background(), "page", nil); err != nil {
			t.Errorf("the caller that stayed: %v", err)
		}
	})
	waitFor(t, "the second caller", func() bool { return g.Callers() == 2 })
	cancel()
	waitFor(t, "the first caller to leave", func() bool { return g.Callers() == 1 })
	close(release)
	if err := <-built; err != nil {
		t.Errorf("the build's context: %v, want it not cancelled", err)
	}
	wg.Wait()
}

func TestAPanickingBuildIsAnError(t *testing.T) {
	g := New(1, time.Second)
	_, err := g.Do(context.Background(), "broken", func(context.Context) (any, error) { panic("boom") })
	if err == nil {
		t.Fatal("a panicking build returned no error")
	}
	if _, err := g.Do(context.Background(), "next", func(context.Context) (any, error) { return 1, nil }); err != nil {
		t.Errorf("the slot was not given back after a panic: %v", err)
	}
}
