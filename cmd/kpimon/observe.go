package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kpimon/kpimon/alerting"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/metrics"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/web"
)

// observeOptions are serve's and demo's flags for /metrics and alert delivery.
type observeOptions struct {
	period          string
	alertmanagerURL string
	alertInterval   string
	resend          string
}

func (o *observeOptions) register(fsAddr func(p *string, name, value, usage string)) {
	fsAddr(&o.period, "period", "", "/metrics 和预警所描述的考核月份 YYYY-MM（默认：最近一个已结束且有报送数据的月份，或截止日已过的月份）")
	fsAddr(&o.alertmanagerURL, "alertmanager-url", "", "把预警发送到这个 Alertmanager（如 http://127.0.0.1:9093）")
	fsAddr(&o.alertInterval, "alert-interval", "1m", "无新数据时重新评估预警的间隔（逾期未报随时间产生）")
	fsAddr(&o.resend, "alertmanager-resend", "1m", "向 Alertmanager 重发持续中预警的间隔")
}

// parsed checks the flags: the period (zero when not given) and the intervals.
func (o *observeOptions) parsed() (p kpi.Period, interval, resend time.Duration, err error) {
	if o.period != "" {
		if p, err = parsePeriodArg("period", o.period); err != nil {
			return p, 0, 0, err
		}
	}
	for _, f := range []struct {
		name, v string
		d       *time.Duration
	}{{"alert-interval", o.alertInterval, &interval}, {"alertmanager-resend", o.resend, &resend}} {
		d, err := time.ParseDuration(f.v)
		if err != nil || d <= 0 {
			return p, 0, 0, usageError{msg: fmt.Sprintf("--%s %q 无效：应为正的时长，如 30s（秒）、1m（分钟）", f.name, f.v)}
		}
		*f.d = d
	}
	return p, interval, resend, nil
}

// check tells the flags' mistakes before the database is opened or the port taken: a
// month that does not parse or is of none of the assessments' years, an interval that is
// not a positive duration, an Alertmanager address that is not a URL.
func (o *observeOptions) check(as []*kpi.Assessment) error {
	fixed, _, _, err := o.parsed()
	if err != nil {
		return err
	}
	if !fixed.IsZero() {
		var ys []string
		matched := false
		for _, a := range as {
			matched = matched || a.Year == fixed.Year
			if y := fmt.Sprint(a.Year); !slices.Contains(ys, y) {
				ys = append(ys, y)
			}
		}
		if !matched {
			return usageError{msg: fmt.Sprintf("--period %s 不在考核年度 %s 内", fixed, strings.Join(ys, "、"))}
		}
	}
	if o.alertmanagerURL != "" {
		u, err := url.Parse(o.alertmanagerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError{msg: fmt.Sprintf("--alertmanager-url“%s”无效：Alertmanager 的地址应形如 http://127.0.0.1:9093", o.alertmanagerURL)}
		}
	}
	return nil
}

// observe mounts /metrics on the router (one registry, with the Go and process collectors;
// one target per assessment) and starts every assessment's metrics refresh and alert
// lifecycle; addr is the address served, for links when a config has no notify.base_url.
// stop ends the loops, waits for them and gives up the leases on the assessments'
// messages, so that another server sharing the database sends them from then on without
// waiting for the leases to run out.
func observe(ctx context.Context, dep *monitor.Deployment, rt *web.Router, o observeOptions, addr string, logger *slog.Logger) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fixed, interval, resend, err := o.parsed()
	if err != nil {
		return nil, err
	}
	var exps []*metrics.Exporter
	var engs []*alerting.Engine
	matched := fixed.IsZero()
	for _, mon := range dep.Monitors() {
		a := mon.Assessment()
		// --period names a month of one year: the other years' assessments describe their
		// own live month
		var p kpi.Period
		if !fixed.IsZero() && fixed.Year == a.Year {
			p, matched = fixed, true
		}
		exp, err := metrics.New(ctx, mon, metrics.Options{Period: p, Interval: interval, Logger: logger})
		if err != nil {
			return nil, err
		}
		if err := reg.Register(exp); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		eng, err := alerting.New(mon, alerting.Options{
			Period: p, Interval: interval, AlertmanagerURL: o.alertmanagerURL, Resend: resend,
			BaseURL: "http://" + addr, PathPrefix: "/" + a.ID, Logger: logger, Registerer: reg,
		})
		if err != nil {
			return nil, err
		}
		exps = append(exps, exp)
		engs = append(engs, eng)
	}
	if !matched {
		years := map[int]bool{}
		var ys []string
		for _, m := range dep.Monitors() {
			if y := m.Assessment().Year; !years[y] {
				years[y] = true
				ys = append(ys, fmt.Sprint(y))
			}
		}
		return nil, usageError{msg: fmt.Sprintf("--period %s 不在考核年度 %s 内", fixed, strings.Join(ys, "、"))}
	}
	def := exps[0]
	if m, _, ok := dep.Default(); ok {
		for i, x := range dep.Monitors() {
			if x == m {
				def = exps[i]
			}
		}
	}
	var others []*metrics.Exporter
	for _, e := range exps {
		if e != def {
			others = append(others, e)
		}
	}
	// the figures come as cached exposition bytes; the registry (health, Go, process) is
	// gathered per scrape and served in the same response
	rt.Handle("GET /metrics", metrics.NewTargets(reg, def, others...))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range exps {
		exp, eng := exps[i], engs[i]
		wg.Go(func() { exp.Run(ctx) })
		wg.Go(func() { eng.Run(ctx) })
	}
	return func() {
		cancel()
		wg.Wait()
		rctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		for _, eng := range engs {
			if err := eng.Release(rctx); err != nil {
				logger.Warn("交出发送消息的租约失败：租约到期后由其他服务接手", "err", err)
			}
		}
	}, nil
}
