package dashboards

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kpimon/kpimon/alerting"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/metrics"
)

// exposed is every metric kpimon serves on /metrics, with a histogram's series, and the
// series Prometheus adds to every scrape.
func exposed() map[string]bool {
	out := map[string]bool{"up": true, "scrape_duration_seconds": true}
	for _, n := range append(metrics.Names(), alerting.MetricNames()...) {
		out[n] = true
	}
	for _, h := range []string{"kpimon_evaluation_duration_seconds"} {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			out[h+s] = true
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`kpimon_township_score`, "kpimon_township_score"},
		{`sum by (status) (kpimon_indicator_status{job=~".*", status="behind"})`, "kpimon_indicator_status"},
		{`count(kpimon_alert_active{severity="critical"}) or vector(0)`, "kpimon_alert_active"},
		{`histogram_quantile(0.9, sum by (le) (rate(kpimon_evaluation_duration_seconds_bucket{job=~".*"}[10m])))`, "kpimon_evaluation_duration_seconds_bucket"},
		{`time() - max(kpimon_last_ingest_timestamp_seconds offset 5m)`, "kpimon_last_ingest_timestamp_seconds"},
		{"a_metric > 0\nand on (job, indicator) b_metric{kind=~\"count|stock\"}\nand on () (time() >= c_metric)", "a_metric b_metric c_metric"},
		{`label_replace(up{job="x"}, "dst", "$1", "src", "(.*)")`, "up"},
		{`max without (status) (m1 == 1) unless ignoring(x) m2 * on(a) group_left(b) m3`, "m1 m2 m3"},
		{`kpimon:indicator_status:count{status="met"} / 1e3`, "kpimon:indicator_status:count"},
		{`sum(rate(x_total[5m:1m]))`, "x_total"},
	}
	for _, tc := range tests {
		if got := strings.Join(MetricNames(tc.expr), " "); got != tc.want {
			t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestDashboardIsValidAndNamesOnlyExposedMetrics(t *testing.T) {
	data, err := Files.ReadFile(DashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("%s is not valid JSON", DashboardPath)
	}
	var raw map[string]any
	json.Unmarshal(data, &raw)
	if id, ok := raw["id"]; ok && id != nil {
		t.Errorf("dashboard has id %v: an importable dashboard has none (Grafana assigns it)", id)
	}
	if raw["schemaVersion"] == nil {
		t.Error("dashboard has no schemaVersion")
	}
	d, err := LoadDashboard()
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed to provision and import", d.UID, d.Title)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["datasource"] {
		t.Error("no datasource variable: the dashboard would be bound to one data source")
	}
	ids := map[int]bool{}
	panels := 0
	for _, p := range d.AllPanels() {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q has no size", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		panels++
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if !strings.Contains(string(p.Datasource), "${datasource}") {
			t.Errorf("panel %q does not use the datasource variable: %s", p.Title, p.Datasource)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q target %s has no expr", p.Title, tg.RefID)
			}
		}
	}
	if panels < 10 {
		t.Errorf("%d panels, expected the county dashboard's dozen or so", panels)
	}
	ok := exposed()
	seen := map[string]bool{}
	for _, q := range d.Queries() {
		names := MetricNames(q.Expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", q.Where, q.Expr)
		}
		for _, n := range names {
			seen[n] = true
			if !ok[n] {
				t.Errorf("%s names %s, which kpimon does not expose", q.Where, n)
			}
		}
	}
	// the county view: completion, scores and ranks, status counts, active alerts
	for _, n := range []string{"kpimon_indicator_completion_ratio", "kpimon_township_score", "kpimon_township_rank", "kpimon_indicator_status", "kpimon_alert_active",
		"kpimon_indicator_forecast", "kpimon_indicator_forecast_low", "kpimon_indicator_forecast_high"} { // and 预计全年
		if !seen[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

func TestRulesNameOnlyExposedMetrics(t *testing.T) {
	data, err := Files.ReadFile("prometheus/kpimon-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record, Alert, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	ok := exposed()
	alerts := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			for _, n := range MetricNames(r.Expr) {
				if !ok[n] {
					t.Errorf("rule %s%s names %s, which kpimon does not expose", r.Record, r.Alert, n)
				}
			}
			alerts[r.Alert] = true
		}
	}
	for _, a := range kpi.AlertNames() {
		if !alerts[a] {
			t.Errorf("no rule for the built-in alert %s", a)
		}
	}
}

// needProgram finds a program, skipping when it is missing unless CI=true.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: .ci/run installs Debian's prometheus package)", name)
		}
		t.Skipf("%s is not installed; install Debian's prometheus package to run this test", name)
	}
	return p
}

// shipped copies the embedded files to a temp dir, for programs that read files.
func shipped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := Files.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPromtoolAcceptsTheShippedConfigAndRules(t *testing.T) {
	promtool := needProgram(t, "promtool")
	dir := filepath.Join(shipped(t), "prometheus")
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"}, // also checks the rule file it names
		{"check", "rules", "kpimon-rules.yml"},
		{"test", "rules", "kpimon-rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestProvisioningFilesParse(t *testing.T) {
	for _, path := range []string{"grafana/provisioning/dashboards/kpimon.yaml", "grafana/provisioning/datasources/prometheus.yaml"} {
		data, err := Files.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			APIVersion  int              `yaml:"apiVersion"`
			Providers   []map[string]any `yaml:"providers"`
			Datasources []map[string]any `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if v.APIVersion != 1 || len(v.Providers)+len(v.Datasources) == 0 {
			t.Errorf("%s: apiVersion %d with %d providers and %d data sources", path, v.APIVersion, len(v.Providers), len(v.Datasources))
		}
		for _, p := range v.Providers {
			if p["type"] != "file" || p["options"] == nil {
				t.Errorf("%s: provider %v does not read dashboards from files", path, p)
			}
		}
		for _, d := range v.Datasources {
			if d["type"] != "prometheus" {
				t.Errorf("%s: data source %v is not Prometheus", path, d)
			}
		}
	}
}

func TestProvisionedDataSourceDoesNotClaimDefault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", "prometheus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Datasources []struct {
			Name      string `yaml:"name"`
			UID       string `yaml:"uid"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ds := range doc.Datasources {
		if ds.IsDefault || ds.UID == "prometheus" || ds.Name == "Prometheus" {
			t.Errorf("data source %+v would clash with an office's existing default Prometheus", ds)
		}
	}
}
