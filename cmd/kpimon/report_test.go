package main

import (
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
