// Package alerting runs kpimon's alert lifecycle with wall-clock times and delivers what it
// finds: to an Alertmanager through its v2 API, and to the group chats where county
// federations work — WeCom (企业微信) and DingTalk (钉钉) group robots and plain JSON
// webhooks configured in the assessment's notify section.
//
// An Engine re-evaluates the live period after every ingest and on a timer (a missing
// report becomes overdue with the clock, not with data), records in the store when each
// alert's condition began (Engine.began) and when it resolved, and then:
//
//   - posts the firing alerts, and the recently resolved ones with their end time, to
//     Alertmanager, and re-sends them periodically as Prometheus does, so Alertmanager
//     neither forgets them nor resolves them on its own while they hold;
//   - sends one grouped message per change to the webhooks that take "alerts" (one line
//     per township and kind of alert: 北流镇补报7项，相关预警已解除), and a webhook that has
//     not been told the alerts yet — one added while alerts held — one summary of them all;
//   - reminds the townships that have not reported as the report deadline nears
//     ("reminders"), once per month and webhook;
//   - sends the month's ranking once the month is complete ("rankings"), once per month
//     and webhook, and a 更正 whenever a later report changes it (ranking.go).
//
// What was sent once per occasion is kept in the store's notifications ledger, so a
// restart repeats nothing. Messages are queued by Sync and sent by one goroutine per
// webhook (delivery.go); when several servers share the database, only the holder of the
// store's lease syncs and sends (lease.go).
//
// Links point at the township's page, /townships/{code}?period=YYYY-MM, under notify.base_url
// or else the address kpimon serves on; reminders and overdue reports link to /my, where a
// township's chair logs in and reports.
package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/store"
)

// Options tune an Engine; the zero value evaluates every minute and delivers to the
// webhooks of the config only.
type Options struct {
	Period          kpi.Period    // a fixed period; zero means the live period (monitor.CurrentPeriod)
	Interval        time.Duration // re-evaluate this often without new data; 1 minute by default
	AlertmanagerURL string        // e.g. http://127.0.0.1:9093; empty: no Alertmanager
	Resend          time.Duration // re-send to Alertmanager this often; 1 minute by default
	ResolvedFor     time.Duration // keep re-sending a resolved alert this long; 15 minutes by default
	BaseURL         string        // kpimon's address for links when the config has no notify.base_url
	PathPrefix      string        // the assessment's path under that address when a deployment serves several ("/qingcheng-2026")
	Retries         int           // further attempts for a failed webhook or Alertmanager post; 2 by default
	RetryWait       time.Duration // wait before the first retry, doubling; 1 second by default
	Client          *http.Client  // 10-second timeout by default
	LeaseTTL        time.Duration // how long the sender's lease lasts unrenewed; 15 seconds by default (lease.go)
	Logger          *slog.Logger
	Registerer      prometheus.Registerer // where the delivery counters go; nil: nowhere
}

// Engine is the alert lifecycle of one monitor. Its methods are safe for concurrent use.
type Engine struct {
	mon     *monitor.Monitor
	db      store.Store
	a       *kpi.Assessment
	opt     Options
	baseURL string
	am      *alertmanager
	hooks   []*webhook
	log     *slog.Logger
	changed chan struct{}
	mu      sync.Mutex   // one Sync at a time: the lifecycle, the ledger's reading, the queues
	syncs   atomic.Int64 // completed Syncs, for tests that wait for the engine to have looked

	lease    *lease     // lease.go: only the holder syncs and sends
	channels []*channel // delivery.go: one per webhook, with its queue
	amMu     sync.Mutex // one Alertmanager post at a time
	amWanted atomic.Bool
	amWake   chan struct{}

	ledgerMu sync.Mutex
	ledger   map[string]bool // ledger entries known to be recorded (channel, kind, key)

	published rankingMemory // ranking.go

	deliveries *prometheus.CounterVec
}

// MetricNames lists the metrics an Engine registers.
func MetricNames() []string { return []string{"kpimon_notifications_total"} }

// New makes an engine for the monitor; it subscribes to the monitor's changes at once, so
// no ingest between New and Run goes unseen.
func New(mon *monitor.Monitor, opt Options) (*Engine, error) {
	if opt.Interval <= 0 {
		opt.Interval = time.Minute
	}
	if opt.Resend <= 0 {
		opt.Resend = time.Minute
	}
	if opt.ResolvedFor <= 0 {
		opt.ResolvedFor = 15 * time.Minute
	}
	if opt.Retries == 0 {
		opt.Retries = 2
	}
	if opt.RetryWait <= 0 {
		opt.RetryWait = time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.LeaseTTL <= 0 {
		opt.LeaseTTL = 15 * time.Second
	}
	a := mon.Assessment()
	if !opt.Period.IsZero() && opt.Period.Year != a.Year {
		return nil, fmt.Errorf("alerting: period %s is outside the assessment year %d", opt.Period, a.Year)
	}
	e := &Engine{mon: mon, db: mon.Store(), a: a, opt: opt, log: opt.Logger, changed: make(chan struct{}, 1), amWake: make(chan struct{}, 1), ledger: map[string]bool{}, published: newRankingMemory()}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	holder, err := newHolder()
	if err != nil {
		return nil, err
	}
	e.lease = &lease{name: leaseName(a.ID), holder: holder, ttl: opt.LeaseTTL}
	e.baseURL = strings.TrimRight(a.Notify.BaseURL, "/")
	if e.baseURL == "" {
		e.baseURL = strings.TrimRight(opt.BaseURL, "/")
	}
	e.baseURL += strings.TrimRight(opt.PathPrefix, "/")
	if opt.AlertmanagerURL != "" {
		u, err := url.Parse(opt.AlertmanagerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alerting: Alertmanager 地址 %q 应形如 http://127.0.0.1:9093", opt.AlertmanagerURL)
		}
		e.am = &alertmanager{url: strings.TrimRight(u.String(), "/") + "/api/v2/alerts", client: opt.Client}
	}
	for _, w := range a.Notify.Webhooks {
		h := &webhook{Webhook: w, client: opt.Client}
		e.hooks = append(e.hooks, h)
		e.channels = append(e.channels, newChannel(h))
	}
	e.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "kpimon_notifications_total",
		Help:        "Deliveries attempted, by channel (alertmanager or the webhook's name), event (alerts, reminders, rankings) and result (ok, error).",
		ConstLabels: prometheus.Labels{"assessment": a.ID},
	}, []string{"channel", "event", "result"})
	if opt.Registerer != nil {
		if err := opt.Registerer.Register(e.deliveries); err != nil {
			return nil, fmt.Errorf("alerting: register metrics: %w", err)
		}
	}
	mon.Subscribe(func(monitor.Change) {
		select {
		case e.changed <- struct{}{}:
		default:
		}
	})
	return e, nil
}

// period is the period the engine evaluates now.
func (e *Engine) period(data *kpi.Dataset, now time.Time) kpi.Period {
	if !e.opt.Period.IsZero() {
		return e.opt.Period
	}
	return monitor.CurrentPeriod(data, now)
}

// Run sends what Sync queues (one sender per webhook, one for Alertmanager, which also
// re-sends every resend interval), renews the lease, and syncs at once, then after every
// change of the data, every interval and on taking the lease over, until ctx is done; it
// returns once its senders have stopped. Messages still queued then are not sent, and the
// lease is kept until it runs out (Release gives it up).
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, c := range e.channels {
		wg.Go(func() { e.sendLoop(ctx, c) })
	}
	if e.am != nil {
		wg.Go(func() { e.amLoop(ctx) })
	}
	wg.Go(func() { e.renewLoop(ctx) })
	if _, err := e.Sync(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("预警同步失败", "err", err)
	}
	tick := time.NewTicker(e.opt.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.changed:
		case <-tick.C:
		}
		if _, err := e.Sync(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("预警同步失败", "err", err)
		}
	}
}

// Sync evaluates the period now, records which alerts started and stopped holding, and
// queues what is to be delivered: the changes for Alertmanager and the alert webhooks,
// reminders and the ranking (or its correction) when their time has come. It sends nothing
// itself (Run's senders do, or Flush); only a failure to evaluate or to record is returned.
//
// It does all that only while this engine holds the store's lease (lease.go); otherwise
// another server does, and Sync returns no changes.
func (e *Engine) Sync(ctx context.Context) (store.AlertChanges, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if holds, _ := e.acquire(ctx); !holds {
		return store.AlertChanges{}, nil
	}
	// everything any server or command wrote, so as not to act on older data than the
	// holder before
	if _, err := e.mon.Refresh(ctx); err != nil {
		return store.AlertChanges{}, fmt.Errorf("alerting: load the latest data: %w", err)
	}
	now := e.mon.Now()
	data := e.mon.Dataset()
	p := e.period(data, now) // from the same data as the evaluation
	r, err := kpi.Evaluate(data, p, now)
	if err != nil {
		return store.AlertChanges{}, fmt.Errorf("alerting: evaluate %s: %w", p, err)
	}
	ch, err := e.db.SyncAlerts(ctx, e.a.ID, now, p, r.Alerts, e.began)
	if err != nil {
		return ch, fmt.Errorf("alerting: %w", err)
	}
	e.named(ch.Fired)
	e.named(ch.Resolved)
	e.named(ch.Escalated)
	if !ch.Empty() {
		e.log.Info("预警有变化", "assessment", e.a.ID, "period", p.String(), "fired", len(ch.Fired), "resolved", len(ch.Resolved), "escalated", len(ch.Escalated))
		e.mon.AlertsChanged() // 预警's resolutions are read from the store
		e.wantPush()
	}
	if err := e.tellAlerts(ctx, p, ch, now); err != nil {
		e.log.Error("生成预警消息失败", "err", err)
	}
	e.remind(ctx, data, now)
	e.rank(ctx, data, r, now)
	e.correct(ctx, r)
	e.syncs.Add(1)
	return ch, nil
}

// began is when an alert's condition began. It is when the alert's run starts in the
// lifecycle store, and so what everything counts from: 持续多久 in the messages, 已持续 in a
// summary, the Alertmanager startsAt and description, started_at in the JSON bodies.
//
//   - missing_report: the report deadline of the first month of its run (00:00 on the day
//     after report_deadline_day), when the report became overdue.
//   - behind_pace, below_threshold, ceiling_breached, veto: the end of the first month of
//     its run (00:00 on the 1st of the month after active_since, in the assessment's time
//     zone). These conditions are about the figures as of a month's end — the pace and the
//     ceiling are measured there, a rate or a veto event is that month's — so that is when
//     they first held, whenever the report came in.
//
// A run cannot start later than kpimon sees it (store.PlanAlerts takes now then), as when a
// township reports the month that is under way and is already behind.
func (e *Engine) began(al kpi.Alert) time.Time {
	if al.Alert == kpi.AlertMissingReport {
		return al.ActiveSince.Deadline(e.a.ReportDeadlineDay, e.a.Location)
	}
	end := al.ActiveSince.Next()
	return time.Date(end.Year, time.Month(end.Month), 1, 0, 0, 0, 0, e.a.Location)
}

// named fills the Chinese names the store does not keep.
func (e *Engine) named(rs []store.AlertRecord) {
	for i := range rs {
		rs[i].TownshipName, rs[i].IndicatorName = e.townshipName(rs[i].Township), e.indicatorName(rs[i].Indicator)
	}
}

func (e *Engine) townshipName(code string) string {
	if t, ok := e.a.Township(code); ok {
		return t.Name
	}
	return code
}

func (e *Engine) indicatorName(code string) string {
	if ind, ok := e.a.Indicator(code); ok {
		return ind.Name
	}
	return code
}

// TownshipURL is the link to a township's page for a period.
func (e *Engine) TownshipURL(township string, p kpi.Period) string {
	return fmt.Sprintf("%s/townships/%s?period=%s", e.baseURL, url.PathEscape(township), p)
}

// ReportURL is where a township reports: /my, the township's own page, which asks its
// chair to log in (a login link is personal and cannot go to a group chat).
func (e *Engine) ReportURL() string { return e.baseURL + "/my" }

// pageURL is the link to one of kpimon's pages for a period, e.g. /alerts?period=2024-05.
func (e *Engine) pageURL(path string, p kpi.Period) string {
	return fmt.Sprintf("%s%s?period=%s", e.baseURL, path, p)
}

// tellAlerts queues for the alert webhooks what this sync changed. A webhook that has not
// yet been told the alerts of this assessment (one added to the config while alerts held)
// gets, once, one summary of every firing alert instead, and the changes from then on;
// when everything that fires started firing in this sync, the change message is that
// summary.
func (e *Engine) tellAlerts(ctx context.Context, p kpi.Period, ch store.AlertChanges, now time.Time) error {
	var (
		firing  []store.AlertRecord
		loaded  bool
		changes message
	)
	if !ch.Empty() {
		changes = e.alertsMessage(p, ch)
	}
	introduced := ledgerEntry{kindAlertsSummary, summaryKey}
	for _, c := range e.channels {
		if !c.takes(eventAlerts) {
			continue
		}
		told, err := e.notified(ctx, c.Name, introduced.kind, introduced.key)
		if err != nil {
			return err
		}
		if told || c.busy(topicSummary) {
			if !ch.Empty() {
				c.enqueue(outgoing{event: eventAlerts, msg: changes, needs: &introduced})
			}
			continue
		}
		if !loaded {
			if firing, err = e.db.FiringAlerts(ctx, e.a.ID); err != nil {
				return err
			}
			e.named(firing)
			loaded = true
		}
		switch {
		case len(firing) == 0:
			// nothing holds: the webhook knows all there is, and hears of what fires next
			if err := e.record(ctx, c.Name, introduced); err != nil {
				return err
			}
		case len(ch.Fired) == len(firing):
			c.enqueue(outgoing{event: eventAlerts, topic: topicSummary, msg: changes, record: []ledgerEntry{introduced}})
		default:
			c.enqueue(outgoing{event: eventAlerts, topic: topicSummary, msg: e.summaryMessage(p, firing, now), record: []ledgerEntry{introduced}})
		}
	}
	return nil
}

// wantsAny reports whether some webhook takes the event.
func (e *Engine) wantsAny(event string) bool {
	for _, h := range e.hooks {
		if h.takes(event) {
			return true
		}
	}
	return false
}

// missingReports lists, per township in config order, the monthly indicators not reported
// for p.
func missingReports(a *kpi.Assessment, d *kpi.Dataset, p kpi.Period) []townshipMissing {
	var out []townshipMissing
	for t, tw := range a.Townships {
		var miss []string
		for i := range a.Indicators {
			if a.Indicators[i].Kind.ReportedMonthly() && !d.Cell(t, i).Has(p.Month) {
				miss = append(miss, a.Indicators[i].Code)
			}
		}
		if len(miss) > 0 {
			out = append(out, townshipMissing{Township: tw, Missing: miss})
		}
	}
	return out
}

type townshipMissing struct {
	Township kpi.Township
	Missing  []string // indicator codes
}

// remind sends the reminder for the month whose report deadline comes next, once it is
// within notify.remind_days_left days, to every township that has not reported all of it.
// Reports for month P are due by day D of the month after; the reminder starts at 00:00
// on day D − remind_days_left (0: on the deadline day itself).
func (e *Engine) remind(ctx context.Context, d *kpi.Dataset, now time.Time) {
	if !e.wantsAny(eventReminders) {
		return
	}
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: e.a.Year, Month: m}
		deadline := p.Deadline(e.a.ReportDeadlineDay, e.a.Location)
		if !now.Before(deadline) {
			continue
		}
		from := deadline.AddDate(0, 0, -(e.a.Notify.RemindDaysLeft + 1))
		if now.Before(from) {
			return
		}
		miss := missingReports(e.a, d, p)
		if len(miss) == 0 {
			return
		}
		msg := e.reminderMessage(p, deadline, miss)
		for _, c := range e.channels {
			if !c.takes(eventReminders) || c.busy(topicReminder(p.String())) {
				continue
			}
			sent, err := e.notified(ctx, c.Name, eventReminders, p.String())
			if err != nil {
				e.log.Error("读取已发送消息记录失败", "err", err)
				continue
			}
			if !sent {
				c.enqueue(outgoing{event: eventReminders, topic: topicReminder(p.String()), msg: msg, record: []ledgerEntry{{eventReminders, p.String()}}})
			}
		}
		return
	}
}
