package alerting

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Delivery happens outside Sync. Sync, one at a time under Engine.mu, records the alert
// lifecycle, reads the notifications ledger and decides what each webhook is to be told;
// it puts those messages on the webhook's queue and returns. One goroutine per webhook
// (and one for Alertmanager) sends them, with retries, so a slow or failing robot delays
// neither the next Sync nor the other webhooks.
//
// A message is never sent twice: a once-per-occasion message (a summary, a reminder, a
// ranking or its correction) is about a topic, and while a message about that topic is
// queued or being sent, Sync does not decide to send another; its ledger entries are
// written once it went through, before the topic is released. A message that could not be
// delivered is released unrecorded, and a later Sync decides it again. A change message
// (what fired, escalated or resolved) is sent once; when it cannot be delivered it is
// logged and counted, as before.

// Ledger kinds besides the events (reminders and rankings are recorded under their event's
// name, keyed by the period).
const (
	// kindAlertsSummary, key summaryKey: the channel has been told every alert that held at
	// some moment (by a summary, or by a change message that listed them all), so from then
	// on it gets the changes only.
	kindAlertsSummary = "alerts-summary"
	summaryKey        = "firing"
)

// ledgerEntry is one line of the notifications ledger: a message of kind for the occasion
// key (the channel is the webhook it goes to).
type ledgerEntry struct{ kind, key string }

// outgoing is one message for one webhook.
type outgoing struct {
	event  string // alerts, reminders or rankings: what the delivery is counted as
	topic  string // the occasion of a once-per-occasion message; "" for a change message
	msg    message
	record []ledgerEntry // noted in the ledger once delivered
	needs  *ledgerEntry  // sent only if this entry is in the ledger by then (a change after a summary)
	sent   func()        // called once delivered and noted
	failed func()        // called when it could not be delivered
}

// Topics of once-per-occasion messages.
const topicSummary = "alerts-summary"

func topicReminder(p string) string { return "reminders:" + p }
func topicRanking(p string) string  { return "ranking:" + p }

// channel is a webhook with its queue.
type channel struct {
	*webhook
	wake  chan struct{} // a message was queued
	order sync.Mutex    // held while sending: one message at a time, in the order queued

	mu      sync.Mutex
	queue   []outgoing
	pending map[string]int // topics of the messages queued or being sent
}

func newChannel(w *webhook) *channel {
	return &channel{webhook: w, wake: make(chan struct{}, 1), pending: map[string]int{}}
}

// busy reports whether a message about the topic is queued or being sent.
func (c *channel) busy(topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[topic] > 0
}

// enqueue queues a message for the channel's sender.
func (c *channel) enqueue(out outgoing) {
	c.mu.Lock()
	c.queue = append(c.queue, out)
	if out.topic != "" {
		c.pending[out.topic]++
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next takes the first queued message.
func (c *channel) next() (outgoing, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return outgoing{}, false
	}
	out := c.queue[0]
	c.queue[0] = outgoing{}
	c.queue = c.queue[1:]
	return out, true
}

// done releases a message's topic.
func (c *channel) done(out outgoing) {
	if out.topic == "" {
		return
	}
	c.mu.Lock()
	if c.pending[out.topic]--; c.pending[out.topic] <= 0 {
		delete(c.pending, out.topic)
	}
	c.mu.Unlock()
}

// sendLoop sends the channel's messages as they are queued, until ctx is done.
func (e *Engine) sendLoop(ctx context.Context, c *channel) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		e.drain(ctx, c)
	}
}

// drain sends the channel's queued messages in order until none is left or ctx is done.
func (e *Engine) drain(ctx context.Context, c *channel) {
	c.order.Lock()
	defer c.order.Unlock()
	for ctx.Err() == nil {
		out, ok := c.next()
		if !ok {
			return
		}
		e.deliver(ctx, c, out)
		c.done(out)
	}
}

// deliver sends one message, retrying, and notes its ledger entries once it went through.
func (e *Engine) deliver(ctx context.Context, c *channel, out outgoing) {
	fail := func() {
		if out.failed != nil {
			out.failed()
		}
	}
	if !e.Leads() {
		e.log.Warn("消息未发送：该考核的消息现由另一台服务发送", "webhook", c.Name, "event", out.event)
		fail()
		return
	}
	if out.needs != nil {
		told, err := e.notified(ctx, c.Name, out.needs.kind, out.needs.key)
		if err != nil || !told {
			// the summary before it did not go through: the next one will say it all
			e.log.Info("变化消息未发送：该机器人还没收到预警汇总", "webhook", c.Name, "err", err)
			fail()
			return
		}
	}
	err := e.retry(ctx, func() error { return c.send(ctx, out.msg) })
	e.count(c.Name, out.event, err)
	if err != nil {
		e.log.Warn("机器人消息发送失败", "webhook", c.Name, "type", c.Type, "event", out.event, "err", err)
		fail()
		return
	}
	// delivered: note it even if the engine is stopping, or it would be sent again
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, l := range out.record {
		if err := e.record(rctx, c.Name, l); err != nil {
			e.log.Error("记录已发送的消息失败", "webhook", c.Name, "kind", l.kind, "key", l.key, "err", err)
		}
	}
	if out.sent != nil {
		out.sent()
	}
}

// Flush sends everything queued so far and, when the alerts changed since the last post,
// posts them to Alertmanager, in the calling goroutine; it returns once that is done (or
// ctx is). Run sends on its own; Flush is for a caller that wants the messages out now.
func (e *Engine) Flush(ctx context.Context) error {
	for _, c := range e.channels {
		e.drain(ctx, c)
	}
	if e.am != nil && e.amWanted.Swap(false) {
		return e.Push(ctx)
	}
	return ctx.Err()
}

// amLoop posts to Alertmanager when the alerts changed and every resend interval.
func (e *Engine) amLoop(ctx context.Context) {
	t := time.NewTicker(e.opt.Resend)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.amWake:
		case <-t.C:
		}
		e.amWanted.Store(false)
		if err := e.Push(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("推送预警到 Alertmanager 失败", "err", err)
		}
	}
}

// wantPush asks for a post to Alertmanager.
func (e *Engine) wantPush() {
	if e.am == nil {
		return
	}
	e.amWanted.Store(true)
	select {
	case e.amWake <- struct{}{}:
	default:
	}
}

// Push posts the firing alerts and the recently resolved ones to Alertmanager, when this
// engine holds the lease.
func (e *Engine) Push(ctx context.Context) error {
	if e.am == nil || !e.Leads() {
		return nil
	}
	// one post at a time, so an earlier state never arrives after a later one
	e.amMu.Lock()
	defer e.amMu.Unlock()
	return e.push(ctx, e.mon.Now())
}

func (e *Engine) push(ctx context.Context, now time.Time) error {
	firing, err := e.db.FiringAlerts(ctx, e.a.ID)
	if err != nil {
		return err
	}
	resolved, err := e.db.ResolvedAlerts(ctx, e.a.ID, now.Add(-e.opt.ResolvedFor))
	if err != nil {
		return err
	}
	e.named(firing)
	e.named(resolved)
	// Like Prometheus: a firing alert is valid for four re-send intervals, so Alertmanager
	// resolves it on its own only when kpimon stops sending.
	validUntil := now.Add(4 * e.opt.Resend)
	body := make([]amAlert, 0, len(firing)+len(resolved))
	for _, r := range append(firing, resolved...) {
		body = append(body, e.amAlert(r, validUntil))
	}
	if len(body) == 0 {
		return nil
	}
	err = e.retry(ctx, func() error { return e.am.post(ctx, body) })
	e.count("alertmanager", eventAlerts, err)
	return err
}

// retry runs f, then up to Retries more times with a doubling wait, while ctx lasts.
func (e *Engine) retry(ctx context.Context, f func() error) error {
	wait := e.opt.RetryWait
	err := f()
	for i := 0; i < e.opt.Retries && err != nil && !errors.Is(err, errPermanent); i++ {
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		err = f()
	}
	return err
}

func (e *Engine) count(channel, event string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	e.deliveries.WithLabelValues(channel, event, result).Inc()
}

// notified is the ledger's Notified with its positive answers remembered: the ledger only
// grows, so what was sent stays sent.
func (e *Engine) notified(ctx context.Context, channel, kind, key string) (bool, error) {
	k := channel + "\x00" + kind + "\x00" + key
	e.ledgerMu.Lock()
	known := e.ledger[k]
	e.ledgerMu.Unlock()
	if known {
		return true, nil
	}
	sent, err := e.db.Notified(ctx, e.a.ID, channel, kind, key)
	if err != nil {
		return false, err
	}
	if sent {
		e.ledgerMu.Lock()
		e.ledger[k] = true
		e.ledgerMu.Unlock()
	}
	return sent, nil
}

// record notes a ledger entry for the channel.
func (e *Engine) record(ctx context.Context, channel string, l ledgerEntry) error {
	if err := e.db.RecordNotification(ctx, e.a.ID, channel, l.kind, l.key, e.mon.Now()); err != nil {
		return err
	}
	e.ledgerMu.Lock()
	e.ledger[channel+"\x00"+l.kind+"\x00"+l.key] = true
	e.ledgerMu.Unlock()
	return nil
}
