package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/dashboards"
)

var update = flag.Bool("update", false, "rewrite dashboards/prometheus/kpimon-rules.yml from `kpimon rules`")

// needProgram finds a program, skipping the test when it is missing, except under CI=true
// where it fails.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: .ci/run installs it from Debian's packages)", name)
		}
		t.Skipf("%s is not installed; install it from Debian's packages (.ci/run lists them) to run this test", name)
	}
	return p
}

func TestRulesCommandWritesTheShippedRuleFile(t *testing.T) {
	got := mustCLI(t, "rules")
	golden := filepath.Join("..", "..", "dashboards", "prometheus", "kpimon-rules.yml")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := dashboards.Files.ReadFile("prometheus/kpimon-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("`kpimon rules` differs from %s (run go test ./cmd/kpimon -run Rules -update, then review the diff)", golden)
	}
	for _, a := range []string{"behind_pace", "below_threshold", "ceiling_breached", "missing_report", "veto"} {
		if !strings.Contains(got, "alert: "+a+"\n") {
			t.Errorf("no alerting rule %s", a)
		}
	}
}

func TestRulesCommandOutputPassesPromtool(t *testing.T) {
	promtool := needProgram(t, "promtool")
	dir := t.TempDir()
	path := filepath.Join(dir, "kpimon-rules.yml")
	out := mustCLI(t, "rules", "--out", path, "--base-url", "https://kpimon.example.cn/")
	if !strings.Contains(out, path) {
		t.Errorf("rules --out said %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("link: https://kpimon.example.cn/townships/{{ $labels.township }}")) {
		t.Errorf("--base-url did not add the township link:\n%s", data)
	}
	cmd := exec.Command(promtool, "check", "rules", path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, b)
	}
}

func TestRulesCommandErrors(t *testing.T) {
	if _, _, err := cli(t, "rules", "--base-url", "kpimon.example.cn"); err == nil {
		t.Error("a base URL without a scheme was accepted")
	}
	if _, _, err := cli(t, "rules", "extra"); err == nil {
		t.Error("an unexpected argument was accepted")
	}
	if _, _, err := cli(t, "rules", "--out", filepath.Join(t.TempDir(), "no", "such", "dir", "r.yml")); err == nil {
		t.Error("an unwritable --out was accepted")
	}
}
