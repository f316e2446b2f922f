package main

import (
	"os"
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

// TestIngestRoutesByYear: with several configs and no --assessment, a batch goes to the
// only assessment of its year; a year several assessments share, or a batch of two years,
// asks for --assessment; a refused first batch leaves no database file.
func TestIngestRoutesByYear(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "demo", "--write", dir)
	configs := filepath.Join(dir, "configs")
	db := filepath.Join(t.TempDir(), "k.db")
	jan25, _ := filepath.Glob(filepath.Join(dir, "reports", "qingcheng-2025", "2025-01-*.csv"))
	jan26, _ := filepath.Glob(filepath.Join(dir, "reports", "qingcheng-2026", "2026-01-*.csv"))
	out := mustCLI(t, append([]string{"ingest", "--config", configs, "--db", db}, jan25...)...)
	if !strings.Contains(out, "导入到考核 qingcheng-2025") || !strings.Contains(out, "新增") {
		t.Errorf("a 2025 batch with four configs: %q", out)
	}
	_, stderr, err := cli(t, append([]string{"ingest", "--config", configs, "--db", db}, jan26...)...)
	if err == nil || !strings.Contains(err.Error()+stderr, "2026 年度有 4 项考核") || !strings.Contains(err.Error()+stderr, "--assessment") {
		t.Errorf("a 2026 batch with four 2026 assessments (three counties and their city): %v %s", err, stderr)
	}
	_, stderr, err = cli(t, append(append([]string{"ingest", "--config", configs, "--db", db}, jan25[0]), jan26[0])...)
	if err == nil || !strings.Contains(err.Error()+stderr, "跨 2025、2026 年度") {
		t.Errorf("a batch of two years: %v %s", err, stderr)
	}
	// a refused first batch: no database file is left behind
	fresh := filepath.Join(t.TempDir(), "new.db")
	bad := filepath.Join(t.TempDir(), "bad.csv")
	writeFile(t, bad, "township,indicator,period,value\n无此镇,cervical_screening_persons,2025-01,1\n")
	if _, _, err := cli(t, "ingest", "--config", filepath.Join(configs, "qingcheng-2025.yaml"), "--db", fresh, bad); err == nil {
		t.Fatal("a batch with an unknown township was accepted")
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused first batch left %s behind (%v)", fresh, err)
	}
}
