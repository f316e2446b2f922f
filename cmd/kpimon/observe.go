package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kpimon/kpimon/alerting"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/metrics"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server"
)

// observeOptions are serve's and demo's flags for /metrics and alert delivery.
type observeOptions struct {
	period          string
	alertmanagerURL string
	alertInterval   string
	resend          string
}

func (o *observeOptions) register(fsAddr func(p *string, name, value, usage string)) {
	fsAddr(&o.period, "period", "", "/metrics 和预警所描述的考核月份 YYYY-MM（默认：最近有报送数据的月份，或截止日已过的月份）")
	fsAddr(&o.alertmanagerURL, "alertmanager-url", "", "把预警发送到这个 Alertmanager（如 http://127.0.0.1:9093）")
	fsAddr(&o.alertInterval, "alert-interval", "1m", "无新数据时重新评估预警的间隔（逾期未报随时间产生）")
	fsAddr(&o.resend, "alertmanager-resend", "1m", "向 Alertmanager 重发持续中预警的间隔")
}

// parsed checks the flags.
func (o *observeOptions) parsed(a *kpi.Assessment) (p kpi.Period, interval, resend time.Duration, err error) {
	if o.period != "" {
		if p, err = kpi.ParsePeriod(o.period); err != nil {
			return p, 0, 0, fmt.Errorf("--period: %w", err)
		}
		if p.Year != a.Year {
			return p, 0, 0, fmt.Errorf("--period %s 不在考核年度 %d 内", p, a.Year)
		}
	}
	for _, f := range []struct {
		name, v string
		d       *time.Duration
	}{{"alert-interval", o.alertInterval, &interval}, {"alertmanager-resend", o.resend, &resend}} {
		d, err := time.ParseDuration(f.v)
		if err != nil || d <= 0 {
			return p, 0, 0, fmt.Errorf("--%s %q 应为正的时长，如 30s、1m", f.name, f.v)
		}
		*f.d = d
	}
	return p, interval, resend, nil
}

// observe mounts /metrics on srv (one registry, with the Go and process collectors) and
// starts the metrics refresh and the alert lifecycle; addr is the address served, for links
// when the config has no notify.base_url. stop ends the loops, waits for them and gives up
// the lease on the assessment's messages, so that another server sharing the database
// sends them from then on without waiting for the lease to run out.
func observe(ctx context.Context, mon *monitor.Monitor, srv *server.Server, o observeOptions, addr string, logger *slog.Logger) (stop func(), err error) {
	p, interval, resend, err := o.parsed(mon.Assessment())
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := metrics.New(ctx, mon, metrics.Options{Period: p, Interval: interval, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := reg.Register(exp); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	eng, err := alerting.New(mon, alerting.Options{
		Period: p, Interval: interval, AlertmanagerURL: o.alertmanagerURL, Resend: resend,
		BaseURL: "http://" + addr, Logger: logger, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	// the figures come as cached exposition bytes; the registry (health, Go, process) is
	// gathered per scrape and served in the same response
	srv.Handle("GET /metrics", exp.Handler(reg))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { exp.Run(ctx) })
	wg.Go(func() { eng.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
		rctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		if err := eng.Release(rctx); err != nil {
			logger.Warn("giving up the lease on sending messages failed; another server takes over once it runs out", "err", err)
		}
	}, nil
}
