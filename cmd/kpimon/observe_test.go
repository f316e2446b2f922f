package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDemoServesMetricsFromOneRegistry(t *testing.T) {
	base := startDemo(t)
	for _, c := range []struct {
		path string
		want []string
	}{
		// /metrics: the default assessment (the city) with kpimon's process
		{"/metrics", []string{`kpimon_assessment_info{assessment="qingyuan-2026",`, "\ngo_goroutines ", "\nprocess_cpu_seconds_total ",
			"\nkpimon_batches_rejected_total{assessment=\"qingyuan-2026\",reason=\"invalid\"} 0"}},
		// one assessment as a target of its own
		{"/metrics?assessment=qingcheng-2025", []string{
			`kpimon_township_score{assessment="qingcheng-2025",township="dongcheng",township_name="东城街道"}`,
			`kpimon_assessment_info{assessment="qingcheng-2025",assessment_name="清城区妇联2025年度镇（街道）妇联工作目标管理考核",period="2025-12",year="2025"} 1`,
			`kpimon_alert_active{alertname="missing_report",assessment="qingcheng-2025",indicator="cervical_screening_persons"`,
			"\nkpimon_batches_rejected_total{assessment=\"qingcheng-2025\",reason=\"invalid\"} 0"}},
	} {
		code, body := get(t, base+c.path)
		if code != 200 {
			t.Fatalf("%s: HTTP %d", c.path, code)
		}
		for _, want := range c.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", c.path, want)
			}
		}
	}
}

func TestServeFlagsForMetricsAndAlerts(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--period", "2024-05"}, "不在考核年度 2025、2026 内"},
		{[]string{"--period", "2025-13"}, "--period"},
		{[]string{"--alert-interval", "soon"}, "--alert-interval"},
		{[]string{"--alertmanager-resend", "-1s"}, "--alertmanager-resend"},
		{[]string{"--alertmanager-url", "127.0.0.1:9093"}, "Alertmanager"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := append([]string{"demo", "--addr", "127.0.0.1:0", "--log-level", "error"}, tc.args...)
		var out, errOut syncBuffer
		err := run(ctx, args, &out, &errOut)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("demo %v: err = %v, want one naming %q", tc.args, err, tc.want)
		}
	}
}

func TestFixedPeriodDescribesThatMonth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--log-level", "error", "--period", "2025-06"}, &out, &errOut)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v\n%s", err, errOut.String())
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for addrRE.FindStringSubmatch(out.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no address; stderr %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := "http://" + addrRE.FindStringSubmatch(out.String())[1]
	_, body := get(t, base+"/metrics?assessment=qingcheng-2025")
	if !strings.Contains(body, `period="2025-06"`) || strings.Contains(body, `period="2025-12"`) {
		t.Errorf("--period 2025-06: metrics describe another month")
	}
	// in June 飞来峡镇 had reported: no missing_report
	if strings.Contains(body, `alertname="missing_report"`) {
		t.Errorf("--period 2025-06: a missing_report alert, though every township reported June")
	}
}
