package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderWritesStaticPages(t *testing.T) {
	config, db := loadCangnan(t)
	out := filepath.Join(t.TempDir(), "site")
	stdout := mustCLI(t, "render", "--config", config, "--db", db, "--period", "2024-06", "--out", out)
	if !strings.Contains(stdout, "已导出2024年6月的页面") || !strings.Contains(stdout, filepath.Join(out, "index.html")) {
		t.Errorf("render said %q", stdout)
	}
	for _, f := range []string{"index.html", "rankings.html", "rankings.csv", "alerts.html", "assets/echarts.min.js", "assets/kpimon.js"} {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(f))); err != nil {
			t.Errorf("not written: %s", f)
		}
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "数据截至2024年6月") || !strings.Contains(string(index), `href="rankings.html"`) {
		t.Error("index.html is not June's overview with relative links")
	}
	towns, _ := filepath.Glob(filepath.Join(out, "townships", "*.html"))
	inds, _ := filepath.Glob(filepath.Join(out, "indicators", "*.html"))
	if len(towns) == 0 || len(inds) == 0 {
		t.Errorf("%d township and %d indicator pages", len(towns), len(inds))
	}
	// Without --period the latest month with reports is exported.
	latest := filepath.Join(t.TempDir(), "latest")
	if stdout := mustCLI(t, "render", "--config", config, "--db", db, "--out", latest); !strings.Contains(stdout, "2024年6月") {
		t.Errorf("render without --period said %q", stdout)
	}
}

func TestRenderErrors(t *testing.T) {
	config, db := loadCangnan(t)
	out := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no --out", []string{"render", "--config", config, "--db", db}, true, "缺少参数 --out"},
		{"bad period", []string{"render", "--config", config, "--db", db, "--out", out, "--period", "2024-13"}, true, ""},
		{"other year", []string{"render", "--config", config, "--db", db, "--out", out, "--period", "2023-06"}, true, "不在考核年度 2024 内：应为 2024-01 至 2024-12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := cli(t, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			var ue usageError
			if errors.As(err, &ue) != tt.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tt.usage, tt.usage, err)
			}
			if !strings.Contains(stderr+err.Error(), tt.want) {
				t.Errorf("error %q / stderr %q lacks %q", err, stderr, tt.want)
			}
		})
	}
}
