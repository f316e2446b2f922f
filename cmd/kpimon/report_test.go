package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moneyCounty is a one-township assessment whose figures are large sums of money, the case
// the trial found printed as 1.235e+04.
func moneyCounty(t *testing.T) (config, db string) {
	t.Helper()
	dir := t.TempDir()
	config, db = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "kpimon.db")
	cfg := `name: 测试县妇联2024年度目标管理考核
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: loans, name: 巾帼创业贷发放额, unit: 万元, kind: count, weight: 100, target: 300000}
`
	csv := "township,indicator,period,value\naa,loans,2024-06,12345.5\n"
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "june.csv")
	if err := os.WriteFile(data, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "ingest", "--config", config, "--db", db, data)
	return config, db
}

func TestCLITablesWriteFiguresInWords(t *testing.T) {
	config, db := moneyCounty(t)
	tests := []struct {
		command string
		want    []string
	}{
		{"eval", []string{"12,345.50", "150,000.00", "300,000.00"}},
		{"alerts", []string{"累计12,345.50万元，低于序时进度150,000.00万元"}},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			out := mustCLI(t, tc.command, "--config", config, "--db", db, "--period", "2024-06")
			if strings.Contains(out, "e+") {
				t.Errorf("kpimon %s writes an exponent:\n%s", tc.command, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("kpimon %s lacks %q:\n%s", tc.command, w, out)
				}
			}
		})
	}
}

func TestCLIEvalShowsTheForecast(t *testing.T) {
	config, db := moneyCounty(t)
	table := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06")
	// 12,345.5 by June on a linear profile: the run rate is 24,691 万元; with one count
	// there is no township pool, so the estimate is the run rate
	if !strings.Contains(table, "预计全年") || !strings.Contains(table, "24,691.00") {
		t.Errorf("eval table lacks the forecast:\n%s", table)
	}
	var got struct {
		Evaluations []struct {
			Forecast *struct {
				YearEnd        float64 `json:"year_end"`
				Low            float64 `json:"low"`
				High           float64 `json:"high"`
				NeededPerMonth float64 `json:"needed_per_month"`
			} `json:"forecast"`
		} `json:"evaluations"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	f := got.Evaluations[0].Forecast
	// needed per month: (300,000 − 12,345.5) / 6 = 47,942.4167
	if f == nil || f.YearEnd != 24691 || f.NeededPerMonth != 47942.4167 || f.Low > f.YearEnd || f.High < f.YearEnd {
		t.Errorf("forecast %+v, want year_end 24691 and needed_per_month 47942.4167 inside low–high", f)
	}
}

// TestRankCSVGuardsFormulas: a township named like a formula is written as text in
// `kpimon rank --format csv`, as the ranking page's CSV writes it; numbers stay numbers.
func TestRankCSVGuardsFormulas(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "c.yaml")
	writeFile(t, config, `name: 测试
year: 2024
townships: [{code: aa, name: "=HYPERLINK(\"http://x\")"}, {code: bb, name: "@SUM(A1)"}, {code: cc, name: "+1"}]
indicators: [{code: x, name: 筛查, kind: count, weight: 100, target: 120}]
`)
	csvPath := filepath.Join(dir, "r.csv")
	writeFile(t, csvPath, "township,indicator,period,value\naa,x,2024-01,10\nbb,x,2024-01,5\ncc,x,2024-01,1\naa,x,2024-02,1\nbb,x,2024-02,30\ncc,x,2024-02,1\n")
	db := filepath.Join(dir, "k.db")
	mustCLI(t, "ingest", "--config", config, "--db", db, csvPath)
	out := mustCLI(t, "rank", "--config", config, "--db", db, "--format", "csv")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		cells := strings.Split(line, ",")
		// 月份,名次,较上月,乡镇代码,乡镇,…
		if name := cells[4]; strings.HasPrefix(strings.Trim(name, `"`), "=") || strings.HasPrefix(name, "@") || strings.HasPrefix(name, "+") {
			t.Errorf("a name written as a formula: %s", line)
		}
	}
	if !strings.Contains(out, ",↑") && !strings.Contains(out, ",↓") {
		t.Errorf("rank changes lost their direction or value:\n%s", out)
	}
	if !strings.Contains(out, "'@SUM(A1)") {
		t.Errorf("the guarded name is not kept as text:\n%s", out)
	}
}

// TestEvalTableCountsWholePeople: in a counting unit the table's 序时目标 is the least whole
// number that reaches it and 预计全年 is rounded, as on the pages: 1,000 人 a year is 583.33
// by July (584), and 101 by July runs to 173.14 (173).
func TestEvalTableCountsWholePeople(t *testing.T) {
	dir := t.TempDir()
	config, db := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "kpimon.db")
	cfg := `name: 测试县妇联2024年度目标管理考核
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 100, target: 1000}
`
	data := filepath.Join(dir, "july.csv")
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, []byte("township,indicator,period,value\naa,screenings,2024-07,101\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "ingest", "--config", config, "--db", db, data)
	table := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-07")
	row := lineWith(table, "甲镇")
	for _, w := range []string{" 584 ", " 173 "} {
		if !strings.Contains(row, w) {
			t.Errorf("甲镇's row lacks %q:\n%s", w, table)
		}
	}
	for _, bad := range []string{"583", "173.1"} {
		if strings.Contains(row, bad) {
			t.Errorf("甲镇's row writes %q, a fraction of a person:\n%s", bad, table)
		}
	}
}
