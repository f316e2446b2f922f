// Package builds runs kpimon's expensive builds — a page rendered after the data changed, a
// monthly bulletin, a CSV export — so that many requests cost little more than one:
// concurrent requests for the same build wait for one build and share its result
// (golang.org/x/sync/singleflight), and at most a few builds of any kind run at once (a
// semaphore). A build that cannot start within the gate's wait fails with ErrBusy, which
// the server answers with 503 and Retry-After, rather than letting requests pile up memory.
package builds

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrBusy is a build that could not start within the gate's wait because as many builds
// as the gate allows were running.
var ErrBusy = errors.New("too many builds running")

// Defaults of New for a server: at most 2 builds at once (8 concurrent province-scale
// bulletins held 7 GB before builds were gated), each waiting at most 20 seconds for its
// turn.
const (
	DefaultConcurrency = 2
	DefaultWait        = 20 * time.Second
)

// RetryAfterSeconds is the Retry-After of a 503 for ErrBusy.
const RetryAfterSeconds = "5"

// Gate bounds and shares builds. It is safe for concurrent use; the zero value is not
// usable, use New.
type Gate struct {
	group singleflight.Group
	slots chan struct{}
	wait  time.Duration

	callers atomic.Int64 // Do calls in progress
	builds  atomic.Int64 // builds started
	running atomic.Int64 // builds running now
	peak    atomic.Int64 // the most builds that ran at once
}

// New makes a gate that runs at most concurrency builds at once (at least 1); a build
// waits at most wait for its turn (DefaultWait when wait ≤ 0).
func New(concurrency int, wait time.Duration) *Gate {
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Gate{slots: make(chan struct{}, max(1, concurrency)), wait: wait}
}

// Do returns the result of the build named key: when a build of the same key is in
// progress, its result; otherwise it builds, once a slot is free. The build runs with ctx's
// values but is not cancelled when this caller goes away, since others may be waiting for
// it; ctx bounds only how long this caller waits. A panic in build is returned as an error
// rather than crashing the server.
func (g *Gate) Do(ctx context.Context, key string, build func(context.Context) (any, error)) (any, error) {
	bctx := context.WithoutCancel(ctx)
	ch := g.group.DoChan(key, func() (v any, err error) {
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return nil, ErrBusy
		}
		defer func() { <-g.slots }()
		g.builds.Add(1)
		for n, p := g.running.Add(1), g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		defer g.running.Add(-1)
		defer func() {
			if p := recover(); p != nil {
				v, err = nil, fmt.Errorf("build %s panicked: %v\n%s", key, p, debug.Stack())
			}
		}()
		return build(bctx)
	})
	// counted once joined to the build of key (DoChan has registered the call): a caller
	// counted here gets the result of a build that has not finished yet, or of its own
	g.callers.Add(1)
	defer g.callers.Add(-1)
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Builds is how many builds the gate has started.
func (g *Gate) Builds() int64 { return g.builds.Load() }

// Callers is how many Do calls are in progress and joined to a build (waiting for a slot,
// for another's build, or building).
func (g *Gate) Callers() int64 { return g.callers.Load() }

// Peak is the most builds that ran at once.
func (g *Gate) Peak() int64 { return g.peak.Load() }
