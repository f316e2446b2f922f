package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSeveralConfigs: commands that work on one assessment take several --config (files or
// a directory) and --assessment to choose; a missing or unknown choice says which exist.
func TestSeveralConfigs(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "demo", "--write", dir)
	configs := filepath.Join(dir, "configs")
	db := filepath.Join(t.TempDir(), "k.db")
	reports, _ := filepath.Glob(filepath.Join(dir, "reports", "fogang-2026", "*.csv"))
	if len(reports) == 0 {
		t.Fatal("no reports of fogang-2026 written")
	}
	_, stderr, err := cli(t, append([]string{"ingest", "--config", configs, "--db", db}, reports...)...)
	if err == nil || !strings.Contains(err.Error()+stderr, "请用 --assessment 指明") || !strings.Contains(err.Error()+stderr, "fogang-2026") {
		t.Errorf("ingest with four configs and no --assessment: %v %s", err, stderr)
	}
	mustCLI(t, append([]string{"ingest", "--config", configs, "--assessment", "fogang-2026", "--db", db}, reports...)...)
	out := mustCLI(t, "rank", "--config", filepath.Join(configs, "qingcheng-2025.yaml"), "--config", filepath.Join(configs, "fogang-2026.yaml"),
		"--assessment", "fogang-2026", "--db", db)
	if !strings.Contains(out, "佛冈县") || !strings.Contains(out, "汤塘镇") {
		t.Errorf("rank of fogang-2026:\n%s", out)
	}
	if _, _, err := cli(t, "rank", "--config", configs, "--assessment", "nowhere", "--db", db); err == nil || !strings.Contains(err.Error(), "没有编号为 \"nowhere\" 的考核") {
		t.Errorf("an unknown --assessment: %v", err)
	}
	if _, _, err := cli(t, "rank", "--config", configs, "--config", filepath.Join(configs, "fogang-2026.yaml"), "--assessment", "fogang-2026", "--db", db); err == nil || !strings.Contains(err.Error(), "考核编号（id）都是 \"fogang-2026\"") {
		t.Errorf("one config given twice: %v", err)
	}
}
