package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// TestReportsWithinTheDeployment: eval and rank work within the deployment of every config
// given: qingcheng-2026's evaluations carry last year's figures (同比) when qingcheng-2025's
// config is given, and the city qingyuan-2026 takes its counties' figures from their data.
func TestReportsWithinTheDeployment(t *testing.T) {
	configs, db := loadDemoData(t)
	type evals struct {
		Evaluations []struct {
			Township, Indicator string
			Actual              kpi.Num
			LastYear            *kpi.LastYear `json:"last_year"`
		}
		County []struct {
			Indicator string
			Actual    kpi.Num
			LastYear  *kpi.LastYear `json:"last_year"`
		}
	}
	read := func(args ...string) evals {
		t.Helper()
		var e evals
		if err := json.Unmarshal([]byte(mustCLI(t, args...)), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	cur := read("eval", "--config", configs, "--assessment", "qingcheng-2026", "--db", db, "--period", "2026-06", "--format", "json")
	last := read("eval", "--config", configs, "--assessment", "qingcheng-2025", "--db", db, "--period", "2025-06", "--format", "json")
	if len(cur.Evaluations) != len(last.Evaluations) || len(cur.Evaluations) == 0 {
		t.Fatalf("%d and %d evaluations", len(cur.Evaluations), len(last.Evaluations))
	}
	for x, e := range cur.Evaluations {
		l := last.Evaluations[x]
		if e.LastYear == nil || e.Township != l.Township || e.Indicator != l.Indicator || e.LastYear.Actual != l.Actual {
			t.Fatalf("%s/%s: last_year %+v, 2025's actual %v", e.Township, e.Indicator, e.LastYear, l.Actual)
		}
	}
	if cur.County[0].LastYear == nil || cur.County[0].LastYear.Actual != last.County[0].Actual {
		t.Errorf("county last_year %+v, 2025's %v", cur.County[0].LastYear, last.County[0].Actual)
	}
	// only this year's config: no last year
	alone := mustCLI(t, "eval", "--config", filepath.Join(configs, "qingcheng-2026.yaml"), "--db", db, "--period", "2026-06", "--format", "json")
	if strings.Contains(alone, "last_year") {
		t.Error("last_year without last year's config")
	}
	rank := mustCLI(t, "rank", "--config", configs, "--assessment", "qingcheng-2026", "--db", db, "--period", "2026-06", "--format", "json")
	if !strings.Contains(rank, `"last_year_rank":`) {
		t.Errorf("rankings without last_year_rank:\n%s", rank)
	}

	// the table: 去年同期 beside this year's rank, each row's from the JSON
	var ranked struct {
		Rankings []struct {
			Name         string `json:"township_name"`
			LastYearRank *int   `json:"last_year_rank"`
		}
	}
	if err := json.Unmarshal([]byte(rank), &ranked); err != nil {
		t.Fatal(err)
	}
	table := mustCLI(t, "rank", "--config", configs, "--assessment", "qingcheng-2026", "--db", db, "--period", "2026-06")
	if !strings.Contains(table, "去年同期") {
		t.Errorf("the ranking table has no 去年同期 column:\n%s", table)
	}
	for _, r := range ranked.Rankings {
		if r.Name == "" || r.LastYearRank == nil {
			t.Fatalf("ranking row %+v: no name or no last year's rank", r)
		}
		if line := lineWith(table, r.Name); !strings.Contains(line, fmt.Sprintf("第%d名", *r.LastYearRank)) {
			t.Errorf("%s's row %q lacks last year's rank %d", r.Name, line, *r.LastYearRank)
		}
	}
	if table := mustCLI(t, "rank", "--config", filepath.Join(configs, "qingcheng-2026.yaml"), "--db", db, "--period", "2026-06"); strings.Contains(table, "去年同期") {
		t.Errorf("去年同期 without last year's config:\n%s", table)
	}
	// a city's tables name its units 县区, not 乡镇
	for _, cmd := range []string{"rank", "alerts"} {
		out := mustCLI(t, cmd, "--config", configs, "--assessment", "qingyuan-2026", "--db", db, "--period", "2026-06")
		if header := lineWith(out, "指标"); cmd == "alerts" && (!strings.Contains(header, "县区") || strings.Contains(header, "乡镇")) {
			t.Errorf("the city's alerts header %q", header)
		}
		if header := lineWith(out, "名次"); cmd == "rank" && (!strings.Contains(header, "县区") || strings.Contains(header, "乡镇")) {
			t.Errorf("the city's ranking header %q", header)
		}
	}

	// the city's figure of 清城区 is 清城区's 全县 aggregate
	city := read("eval", "--config", configs, "--assessment", "qingyuan-2026", "--db", db, "--period", "2026-06", "--format", "json")
	var got kpi.Num
	for _, e := range city.Evaluations {
		if e.Township == "qingcheng" && e.Indicator == "cervical_screening_persons" {
			got = e.Actual
		}
	}
	var want kpi.Num
	for _, c := range cur.County {
		if c.Indicator == "cervical_screening_persons" {
			want = c.Actual
		}
	}
	if !got.Valid || got != want {
		t.Errorf("the city's 清城区 screenings %v, 清城区's 全县 %v", got, want)
	}
	if _, _, err := cli(t, "rank", "--config", filepath.Join(configs, "qingyuan-2026.yaml"), "--db", db); err == nil || !strings.Contains(err.Error(), "qingcheng-2026不在本次部署中") {
		t.Errorf("the city without its counties' configs: %v", err)
	}
}

// loadDemoData writes the demo (kpimon demo --write) and ingests every assessment's reports
// as the README's walk-through does, the office's corrections after the reports they
// correct; it returns the folder of configs and the database.
func loadDemoData(t *testing.T) (configs, db string) {
	t.Helper()
	dir := t.TempDir()
	mustCLI(t, "demo", "--write", dir)
	configs = filepath.Join(dir, "configs")
	db = filepath.Join(t.TempDir(), "k.db")
	for _, id := range []string{"qingcheng-2025", "qingcheng-2026", "fogang-2026", "qingxin-2026", "qingyuan-2026"} {
		reports, _ := filepath.Glob(filepath.Join(dir, "reports", id, "*.csv"))
		if len(reports) == 0 {
			t.Fatalf("no reports of %s written", id)
		}
		var monthly, corrections []string
		for _, r := range reports {
			if strings.Contains(r, "更正") {
				corrections = append(corrections, r)
			} else {
				monthly = append(monthly, r)
			}
		}
		for _, batch := range [][]string{monthly, corrections} {
			if len(batch) > 0 {
				mustCLI(t, append([]string{"ingest", "--config", configs, "--assessment", id, "--db", db}, batch...)...)
			}
		}
	}
	return configs, db
}

// lineWith is the first line of out containing s, or "".
func lineWith(out, s string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
