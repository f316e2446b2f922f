package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpimon/kpimon/dashboards"
	"github.com/kpimon/kpimon/demo"
)

// The integration test: kpimon on the demo data, a real Prometheus scraping it with the
// rules `kpimon rules` writes, and a real Alertmanager taking kpimon's own alerts.
// Everything listens on 127.0.0.1, runs in temp dirs and is stopped at the end.

// freePort asks the kernel for a free 127.0.0.1 port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProgram runs a program until the test ends: SIGTERM, then SIGKILL after 5 s. Its
// output goes to a log file shown when the test fails.
func startProgram(t *testing.T, ctx context.Context, dir, name, path string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s log (last 3000 bytes):\n%s", name, tail(b, 3000))
			}
		}
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// poll calls f until it returns true, failing the test when ctx ends first.
func poll(t *testing.T, ctx context.Context, what string, f func() bool) {
	t.Helper()
	for !f() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// getJSON GETs a URL and decodes the JSON answer; false on any failure.
func getJSON(ctx context.Context, u string, v any) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	return json.NewDecoder(resp.Body).Decode(v) == nil
}

// promQuery runs an instant query through Prometheus' HTTP API.
func promQuery(ctx context.Context, promURL, q string) ([]map[string]string, bool) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if !getJSON(ctx, promURL+"/api/v1/query?query="+url.QueryEscape(q), &r) || r.Status != "success" {
		return nil, false
	}
	out := make([]map[string]string, len(r.Data.Result))
	for i, x := range r.Data.Result {
		out[i] = x.Metric
		if len(x.Value) == 2 {
			out[i]["__value__"], _ = x.Value[1].(string)
		}
	}
	return out, true
}

// amNotification is what Alertmanager posts to a webhook receiver.
type amNotification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

func alertKey(l map[string]string) string {
	return l["assessment"] + "/" + l["alertname"] + "/" + l["township"] + "/" + l["indicator"] + "/" + l["severity"]
}

func TestIntegrationPrometheusAndAlertmanager(t *testing.T) {
	promBin := needProgram(t, "prometheus")
	amBin := needProgram(t, "prometheus-alertmanager")
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	dir := t.TempDir()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }

	// Alertmanager, notifying a local receiver at once and again on resolution
	var notesMu sync.Mutex
	var notes []amNotification
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n amNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("Alertmanager's notification: %v", err)
		}
		notesMu.Lock()
		notes = append(notes, n)
		notesMu.Unlock()
	}))
	defer receiver.Close()
	amURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	amConfig := fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, township, indicator]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s
        send_resolved: true
`, receiver.URL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(amConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	startProgram(t, ctx, dir, "alertmanager", amBin, "--config.file=alertmanager.yml", "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+strings.TrimPrefix(amURL, "http://"), "--cluster.listen-address=", "--log.level=warn")

	// kpimon on the demo, delivering to that Alertmanager, re-evaluating every half second
	var out, errOut syncBuffer
	kctx, kcancel := context.WithCancel(ctx)
	kdone := make(chan error, 1)
	dbPath := filepath.Join(dir, "demo.db")
	go func() {
		kdone <- run(kctx, []string{"demo", "--addr", "127.0.0.1:0", "--db", dbPath, "--log-level", "warn",
			"--alertmanager-url", amURL, "--alert-interval", "500ms", "--alertmanager-resend", "1s"}, &out, &errOut)
	}()
	defer func() {
		kcancel()
		select {
		case err := <-kdone:
			if err != nil {
				t.Errorf("kpimon exited with %v; stderr:\n%s", err, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("kpimon did not stop within 15 s")
		}
	}()
	var kpimonURL string
	poll(t, ctx, "kpimon's address", func() bool {
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			kpimonURL = "http://" + m[1]
			return true
		}
		select {
		case err := <-kdone:
			t.Fatalf("kpimon exited early: %v\n%s", err, errOut.String())
		default:
		}
		return false
	})
	step("kpimon serving the demo at " + kpimonURL)

	// Prometheus, scraping kpimon every second with the generated rules
	mustCLI(t, "rules", "--out", filepath.Join(dir, "kpimon-rules.yml"))
	promURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	// one target per assessment, relabelled as the shipped example configuration does
	promConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [kpimon-rules.yml]
scrape_configs:
  - job_name: kpimon
    static_configs:
      - targets: [%s]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_assessment
      - source_labels: [__param_assessment]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, strings.Join(demo.IDs(), ", "), strings.TrimPrefix(kpimonURL, "http://"))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	startProgram(t, ctx, dir, "prometheus", promBin, "--config.file=prometheus.yml", "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+strings.TrimPrefix(promURL, "http://"), "--log.level=warn")

	// 1. the kpimon series in Prometheus
	poll(t, ctx, "8 township scores of qingcheng-2025 in Prometheus", func() bool {
		r, ok := promQuery(ctx, promURL, `kpimon_township_score{job="kpimon", assessment="qingcheng-2025", instance="qingcheng-2025"}`)
		return ok && len(r) == 8
	})
	poll(t, ctx, "every assessment a target of its own", func() bool {
		r, _ := promQuery(ctx, promURL, `kpimon_assessment_info`)
		return len(r) == len(demo.IDs())
	})
	info, _ := promQuery(ctx, promURL, `kpimon_assessment_info`)
	for _, x := range info {
		if x["instance"] != x["assessment"] {
			t.Errorf("assessment %s scraped as instance %s: one scrape must carry one assessment's series", x["assessment"], x["instance"])
		}
		if x["assessment"] == "qingcheng-2025" && x["period"] != "2025-12" {
			t.Errorf("kpimon_assessment_info = %v, want period 2025-12", x)
		}
	}
	step("kpimon series in Prometheus")

	// 2. Prometheus-side alerts firing, exactly kpimon's own (the rules are equivalent)
	var promAlerts map[string]bool
	var diff []string
	defer func() {
		if t.Failed() && len(diff) > 0 {
			t.Logf("last difference between Prometheus' alerts and kpimon_alert_active (first 20): %v", diff[:min(20, len(diff))])
		}
	}()
	poll(t, ctx, "Prometheus' alerts to match kpimon_alert_active", func() bool {
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if !getJSON(ctx, promURL+"/api/v1/alerts", &r) {
			return false
		}
		promAlerts = map[string]bool{}
		for _, a := range r.Data.Alerts {
			if a.State == "firing" {
				promAlerts[alertKey(a.Labels)] = true
			}
		}
		active, ok := promQuery(ctx, promURL, `kpimon_alert_active`)
		diff = diff[:0]
		kp := map[string]bool{}
		for _, a := range active {
			kp[alertKey(a)] = true
			if !promAlerts[alertKey(a)] {
				diff = append(diff, "kpimon only: "+alertKey(a))
			}
		}
		for k := range promAlerts {
			if !kp[k] {
				diff = append(diff, "Prometheus only: "+k)
			}
		}
		if !ok || len(active) == 0 || len(active) != len(promAlerts) {
			return false
		}
		for _, a := range active {
			if !promAlerts[alertKey(a)] {
				return false
			}
		}
		return true
	})
	if !promAlerts["qingcheng-2025/missing_report/feilaixia/cervical_screening_persons/warning"] || !promAlerts["qingcheng-2025/ceiling_breached/shijiao/repeat_escalated_petitions/critical"] {
		t.Errorf("Prometheus-side alerts lack 飞来峡镇's missing report or 石角镇's breached ceiling: %d alerts", len(promAlerts))
	}
	step(fmt.Sprintf("%d Prometheus-side alerts firing, the same as kpimon's own", len(promAlerts)))

	// 3. kpimon's own alerts in Alertmanager, with Chinese summaries and links back
	const breached = "qingcheng-2025/ceiling_breached/shijiao/repeat_escalated_petitions/critical"
	type amAlert struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		GeneratorURL string            `json:"generatorURL"`
		Status       struct {
			State string `json:"state"`
		} `json:"status"`
	}
	amAlerts := func() map[string]amAlert {
		var as []amAlert
		if !getJSON(ctx, amURL+"/api/v2/alerts", &as) {
			return nil
		}
		m := map[string]amAlert{}
		for _, a := range as {
			m[alertKey(a.Labels)] = a
		}
		return m
	}
	var inAM map[string]amAlert
	poll(t, ctx, "kpimon's alerts in Alertmanager", func() bool {
		inAM = amAlerts()
		return len(inAM) == len(promAlerts)
	})
	for k := range promAlerts {
		if _, ok := inAM[k]; !ok {
			t.Errorf("alert %s fires in Prometheus but kpimon did not send it to Alertmanager", k)
		}
	}
	a := inAM[breached]
	if a.Status.State != "active" || !strings.Contains(a.Annotations["summary"], "石角镇“重复访、越级访件数”累计2件，超过控制上限1件") ||
		!strings.HasSuffix(a.GeneratorURL, "/qingcheng-2025/townships/shijiao?period=2025-12") || a.Labels["township_name"] != "石角镇" {
		t.Errorf("石角镇's alert in Alertmanager: %+v", a)
	}
	step(fmt.Sprintf("%d kpimon alerts active in Alertmanager", len(inAM)))

	// 4. a corrected report: 石角镇's September repeat petition was not one after all
	tokenOut := mustCLI(t, "token", "add", "--db", dbPath, "--admin", "--name", "区妇联办公室")
	lines := strings.Split(strings.TrimSpace(tokenOut), "\n")
	token := lines[len(lines)-1]
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, kpimonURL+"/api/v1/observations?assessment=qingcheng-2025&source=石角镇9月更正",
		strings.NewReader("乡镇,指标,月份,数值\n石角镇,重复访、越级访件数,2025-09,0\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"corrected":1`) {
		t.Fatalf("correction: HTTP %d %s", resp.StatusCode, body)
	}
	corrected := time.Now()
	step("correction ingested")

	// kpimon resolves the alert at once: Alertmanager gets its end time and notifies
	var resolvedAt time.Time
	poll(t, ctx, "Alertmanager's resolved notification for 石角镇", func() bool {
		notesMu.Lock()
		defer notesMu.Unlock()
		for _, n := range notes {
			for _, x := range n.Alerts {
				if x.Status == "resolved" && alertKey(x.Labels) == breached {
					resolvedAt = x.EndsAt
					return true
				}
			}
		}
		return false
	})
	if resolvedAt.Before(corrected.Add(-2*time.Second)) || resolvedAt.After(time.Now()) {
		t.Errorf("resolved alert ends at %v; the correction came at %v", resolvedAt, corrected)
	}
	if m := amAlerts(); m != nil {
		if x, ok := m[breached]; ok && x.Status.State == "active" {
			t.Errorf("石角镇's alert still active in Alertmanager after its resolution")
		}
		if len(m) == 0 {
			t.Error("the other alerts vanished from Alertmanager")
		}
	}
	step("kpimon's alert resolved in Alertmanager")
	// and Prometheus' copy stops firing with the next scrape
	poll(t, ctx, "Prometheus' ceiling_breached alert to stop", func() bool {
		r, ok := promQuery(ctx, promURL, `ALERTS{alertname="ceiling_breached", assessment="qingcheng-2025", township="shijiao", alertstate="firing"}`)
		return ok && len(r) == 0
	})
	step("Prometheus-side alert resolved")

	// 5. every dashboard query runs against the real Prometheus and returns data
	d, err := dashboards.LoadDashboard()
	if err != nil {
		t.Fatal(err)
	}
	var empty []string
	for {
		empty = empty[:0]
		for _, q := range d.Queries() {
			if r, ok := promQuery(ctx, promURL, q.Expr); !ok || len(r) == 0 {
				empty = append(empty, q.Where)
			}
		}
		if len(empty) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("dashboard queries without data from the demo: %s", strings.Join(empty, "; "))
		case <-time.After(200 * time.Millisecond):
		}
	}
	step(fmt.Sprintf("%d dashboard queries answered", len(d.Queries())))
}
