package alerting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"
)

// One sender per deployment.
//
// Several kpimon servers may share one database (the PostgreSQL deployment). Exactly one of
// them — the holder of the store's lease "kpimon-messages:<assessment id>" — keeps the
// alert lifecycle and sends alerts, reminders and rankings, to the robots and to
// Alertmanager; the others neither sync the lifecycle nor send anything. The holder renews
// the lease every third of its ttl (15 s by default); when it dies, the lease runs out and
// another server takes it at its next renewal, within ttl + ttl/3 (20 s), and syncs at once.
// A server stopped gracefully gives the lease up (Release), so its successor takes over at
// once.
//
// Why only the holder syncs the lifecycle, not every server: each server holds the data in
// memory and sees another's batches a little later (its watch interval), and each reads its
// own clock. If every server recorded the alerts it sees, a report that one server has
// loaded and another not yet would be resolved by the first and started again by the
// second, and so on until both caught up: alerts flapping between servers, each flap a new
// run and a message. With one writer the lifecycle moves with one view of the data; the
// holder loads everything the store has (monitor.Refresh) before each sync, so a server
// that has just taken over does not act on data older than its predecessor's.
//
// A holder acts only while its lease is surely still its own: until two thirds of the ttl
// after its latest renewal (by its own monotonic clock), leaving a third of the ttl for
// the servers' clocks to differ. A message whose sender finds the lease lost is dropped
// unsent: the new holder decides once-per-occasion messages again from the ledger. (A
// change message queued on a holder that dies or loses the lease before sending it is not
// sent by its successor, which did not see that change happen; Alertmanager gets the
// successor's full state at once.)

// leaseName is the name of the lease that elects the sender of an assessment's messages.
func leaseName(assessment string) string { return "kpimon-messages:" + assessment }

// newHolder names this engine as a lease holder: host, process and a random part, so two
// engines of one process (or a restarted process with the same pid) are told apart.
func newHolder() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("alerting: lease holder id: %w", err)
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)), nil
}

// lease is this engine's view of the lease.
type lease struct {
	name, holder string
	ttl          time.Duration

	mu    sync.Mutex
	until time.Time // by the monotonic clock: when this engine stops acting as the holder
}

// holds reports whether this engine may act as the holder now.
func (l *lease) holds() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.until)
}

// acquire takes or renews the lease; it reports whether this engine holds it and whether
// it has just taken it (it did not before).
func (e *Engine) acquire(ctx context.Context) (holds, taken bool) {
	l := e.lease
	start := time.Now() // the wall clock goes to the store; the monotonic one stays here
	ok, err := e.db.AcquireLease(ctx, l.name, l.holder, l.ttl, start)
	l.mu.Lock()
	was := time.Now().Before(l.until)
	switch {
	case err != nil:
		// the store did not answer: hold on to what is still surely ours, nothing more
		l.mu.Unlock()
		if ctx.Err() == nil {
			e.log.Warn("消息发送权续租失败", "lease", l.name, "err", err)
		}
		return was, false
	case ok:
		l.until = start.Add(l.ttl * 2 / 3)
	default:
		l.until = time.Time{}
	}
	l.mu.Unlock()
	switch {
	case ok && !was:
		e.log.Info("本服务负责发送该考核的消息", "lease", l.name, "holder", l.holder)
		e.published.forgetTold() // another server may have sent corrections meanwhile
		e.wantPush()             // Alertmanager hears this server's state at once
	case !ok && was:
		e.log.Warn("另一台服务已接管该考核的消息发送", "lease", l.name)
	}
	return ok, ok && !was
}

// Leads reports whether this engine holds the lease now: it keeps the lifecycle and sends.
func (e *Engine) Leads() bool { return e.lease.holds() }

// renewLoop renews the lease every third of its ttl until ctx is done, and asks for a
// Sync as soon as this engine takes it over.
func (e *Engine) renewLoop(ctx context.Context) {
	t := time.NewTicker(e.lease.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, taken := e.acquire(ctx); taken {
			select {
			case e.changed <- struct{}{}:
			default:
			}
		}
	}
}

// Release gives the lease up, so that another server takes over the messages at once; for
// a graceful stop, after Run has returned.
func (e *Engine) Release(ctx context.Context) error {
	e.lease.mu.Lock()
	e.lease.until = time.Time{}
	e.lease.mu.Unlock()
	if err := e.db.ReleaseLease(ctx, e.lease.name, e.lease.holder); err != nil {
		return fmt.Errorf("alerting: %w", err)
	}
	return nil
}
