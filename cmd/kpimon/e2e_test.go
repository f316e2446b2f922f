package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/sqlite"
)

// cli runs kpimon in-process and returns stdout, stderr and the error.
func cli(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := cli(t, args...)
	if err != nil {
		t.Fatalf("kpimon %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func cangnan(name string) string { return filepath.Join("testdata", "cangnan", name) }

// loadCangnan ingests the 苍南县 fixture (two batches and a correction) into a fresh database.
func loadCangnan(t *testing.T) (config, db string) {
	t.Helper()
	config, db = cangnan("config.yaml"), filepath.Join(t.TempDir(), "cangnan.db")
	out := mustCLI(t, "ingest", "--config", config, "--db", db, "--actor", "苍南县妇联", cangnan("jan-may.csv"))
	if !strings.Contains(out, "新增 15 条") {
		t.Errorf("first ingest said %q", out)
	}
	mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("june.json"))
	out = mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("correction.csv"))
	if !strings.Contains(out, "更正 1 条") {
		t.Errorf("correction said %q", out)
	}
	return config, db
}

func TestCLIAnotherCountyRankings(t *testing.T) {
	config, db := loadCangnan(t)
	var got struct {
		Period   string `json:"period"`
		Rankings []struct {
			Rank         int     `json:"rank"`
			Township     string  `json:"township"`
			TownshipName string  `json:"township_name"`
			Score        float64 `json:"score"`
			Bonus        float64 `json:"bonus"`
			Grade        string  `json:"grade"`
			Veto         bool    `json:"veto"`
			RankChange   *int    `json:"rank_change"`
		} `json:"rankings"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	type line struct {
		rank     int
		township string
		name     string
		score    float64
		bonus    float64
		grade    string
		veto     bool
		change   int
	}
	// lingxi: 40×145/150 + (30 − 2×100×(0.98−0.975)) + 10 + 20 + min(5, 3+3) = 102.67
	// jinxiang and qianku both total 100, but qianku has a veto (since April) and ranks after
	// every township without one, below yishan's 40 + 30 (0/0) = 70.
	// May ranks: lingxi 105, yishan 90, jinxiang 50, then the vetoed qianku 20.
	want := []line{
		{1, "lingxi", "灵溪镇", 102.67, 5, "优秀", false, 0},
		{2, "jinxiang", "金乡镇", 100, 0, "优秀", false, 1},
		{3, "yishan", "宜山镇", 70, 0, "称职", false, -1},
		{4, "qianku", "钱库镇", 100, 0, "不称职", true, 0},
	}
	if got.Period != "2024-06" || len(got.Rankings) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, w := range want {
		g := got.Rankings[i]
		if g.RankChange == nil {
			t.Fatalf("%s: rank_change is null in June", g.Township)
		}
		gl := line{g.Rank, g.Township, g.TownshipName, g.Score, g.Bonus, g.Grade, g.Veto, *g.RankChange}
		if gl != w {
			t.Errorf("ranking %d:\n got %+v\nwant %+v", i, gl, w)
		}
	}
	// January has no previous month: rank_change is null
	var jan struct {
		Rankings []map[string]any `json:"rankings"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-01", "--format", "json")), &jan); err != nil || len(jan.Rankings) != 4 {
		t.Fatalf("January ranking: %v, %d townships", err, len(jan.Rankings))
	}
	for _, r := range jan.Rankings {
		if v, ok := r["rank_change"]; !ok || v != nil {
			t.Errorf("January rank_change = %v (present %v), want null", v, ok)
		}
	}
}

func TestCLIAnotherCountyEvaluations(t *testing.T) {
	config, db := loadCangnan(t)
	var got struct {
		Period      string           `json:"period"`
		Evaluations []map[string]any `json:"evaluations"`
		County      []map[string]any `json:"county"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	find := func(list []map[string]any, tw, ind string) map[string]any {
		for _, e := range list {
			if (tw == "" || e["township"] == tw) && e["indicator"] == ind {
				return e
			}
		}
		t.Fatalf("no evaluation %s/%s", tw, ind)
		return nil
	}
	tests := []struct {
		tw, ind string
		want    map[string]any
	}{
		{"lingxi", "screenings", map[string]any{"kind": "count", "actual": 145.0, "target": 300.0, "expected": 150.0, "completion": 0.4833, "pace": 0.9667, "status": "at_risk", "weight": 40.0, "score": 38.67}},
		{"lingxi", "closure_rate", map[string]any{"kind": "ratio", "actual": 0.975, "numerator": 39.0, "denominator": 40.0, "target": 0.98, "completion": 0.9949, "pace": nil, "status": "at_risk", "score": 29.0}},
		{"lingxi", "repeat_petitions", map[string]any{"actual": 1.0, "expected": 1.0, "completion": nil, "status": "on_track", "score": 10.0}},
		{"lingxi", "honors", map[string]any{"actual": 5.0, "status": nil, "score": nil}},
		{"yishan", "closure_rate", map[string]any{"actual": nil, "numerator": 0.0, "denominator": 0.0, "status": "not_applicable", "score": 30.0}},
		{"yishan", "repeat_petitions", map[string]any{"actual": 3.0, "status": "behind", "score": 0.0}},
		{"yishan", "plan_review", map[string]any{"actual": 0.0, "status": "behind", "score": 0.0}},
		{"qianku", "screenings", map[string]any{"actual": 200.0, "completion": 1.0, "status": "met", "score": 40.0}},
		{"qianku", "repeat_petitions", map[string]any{"actual": 2.0, "status": "at_risk", "score": 10.0}},
		{"qianku", "major_incident", map[string]any{"actual": 1.0, "status": nil}},
		{"jinxiang", "screenings", map[string]any{"actual": 150.0, "expected": 100.0, "pace": 1.5, "status": "on_track", "score": 40.0}},
		{"jinxiang", "closure_rate", map[string]any{"actual": 0.98, "status": "met", "score": 30.0}},
	}
	for _, tc := range tests {
		e := find(got.Evaluations, tc.tw, tc.ind)
		for k, w := range tc.want {
			g, ok := e[k]
			if !ok {
				t.Errorf("%s/%s: no field %q", tc.tw, tc.ind, k)
				continue
			}
			if !sameJSON(g, w) {
				t.Errorf("%s/%s: %s = %v, want %v", tc.tw, tc.ind, k, g, w)
			}
		}
	}
	// the county: counts sum actuals and targets, ratios divide summed numerators by
	// summed denominators
	sc := find(got.County, "", "screenings")
	for k, w := range map[string]any{"actual": 595.0, "target": 900.0, "expected": 450.0, "status": "on_track"} {
		if !sameJSON(sc[k], w) {
			t.Errorf("county screenings %s = %v, want %v", k, sc[k], w)
		}
	}
	cl := find(got.County, "", "closure_rate")
	for k, w := range map[string]any{"numerator": 138.0, "denominator": 140.0, "actual": 0.9857, "status": "met"} {
		if !sameJSON(cl[k], w) {
			t.Errorf("county closure_rate %s = %v, want %v", k, cl[k], w)
		}
	}
}

func sameJSON(g, w any) bool {
	gf, gok := g.(float64)
	wf, wok := w.(float64)
	if gok && wok {
		return math.Abs(gf-wf) < 1e-9
	}
	return reflect.DeepEqual(g, w)
}

func TestCLIAnotherCountyAlerts(t *testing.T) {
	config, db := loadCangnan(t)
	var got struct {
		Alerts []struct {
			Alert       string `json:"alert"`
			Township    string `json:"township"`
			Indicator   string `json:"indicator"`
			Severity    string `json:"severity"`
			ActiveSince string `json:"active_since"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "alerts", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, a := range got.Alerts {
		lines = append(lines, strings.Join([]string{a.Alert, a.Township, a.Indicator, a.Severity, a.ActiveSince}, " "))
	}
	// critical first, then townships and indicators in config order
	want := []string{
		"ceiling_breached yishan repeat_petitions critical 2024-06",
		"veto qianku major_incident critical 2024-04",
		"below_threshold lingxi closure_rate warning 2024-06",
		"missing_report lingxi repeat_petitions warning 2024-04",
		"missing_report yishan screenings warning 2024-02",
		"missing_report yishan closure_rate warning 2024-02",
		"behind_pace yishan plan_review warning 2024-06",
		"missing_report jinxiang closure_rate warning 2024-03",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("alerts\n got %q\nwant %q", lines, want)
	}
}

func TestCLIRefusesAnInvalidBatchWhole(t *testing.T) {
	config, db := loadCangnan(t)
	before := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	_, stderr, err := cli(t, "ingest", "--config", config, "--db", db, cangnan("invalid.csv"))
	if !errors.Is(err, errReported) {
		t.Fatalf("ingest of an invalid batch: err %v, want it reported and refused", err)
	}
	for _, line := range []string{"invalid.csv:3:", "invalid.csv:4:", "invalid.csv:5:", "invalid.csv:6:", "invalid.csv:7:",
		"invalid.csv:8:", "invalid.csv:9:", "invalid.csv:10:", "invalid.csv:12:", "共 9 处错误，未写入任何数据"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}
	if strings.Contains(stderr, "invalid.csv:2:") || strings.Contains(stderr, "invalid.csv:11:") {
		t.Errorf("valid rows reported as errors:\n%s", stderr)
	}
	after := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	if before != after {
		t.Error("the database changed after a refused batch")
	}
	// the valid row 2 (lingxi screenings 2024-03 = 99) was not written either
	if !strings.Contains(after, `"actual": 145`) {
		t.Error("lingxi's screenings changed")
	}
}

func TestCLIIngestTwiceChangesNothing(t *testing.T) {
	config, db := loadCangnan(t)
	before := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	out := mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("june.json"))
	if !strings.Contains(out, "数据无变化") {
		t.Errorf("re-ingest said %q", out)
	}
	if after := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json"); after != before {
		t.Error("re-ingesting the same file changed the evaluation")
	}
}

func TestCLITablesAndCSV(t *testing.T) {
	config, db := loadCangnan(t)
	table := mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-06")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	// the header, the rule and the rows line up in display columns (Chinese is 2 wide)
	var widths []int
	for _, l := range lines[2:] {
		widths = append(widths, displayWidth(l))
	}
	for i, w := range widths[1:] {
		if w != widths[0] {
			t.Errorf("table row %d is %d columns wide, row 0 is %d:\n%s", i+1, w, widths[0], table)
		}
	}
	if !strings.HasSuffix(lines[len(lines)-1], "不称职（一票否决）") || !strings.Contains(table, "↑1") {
		t.Errorf("table lacks the veto on the last line or the rank change:\n%s", table)
	}
	// in January 灵溪镇 and 宜山镇 tie on 90
	if jan := mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-01"); !strings.Contains(jan, "1（并列）") {
		t.Errorf("January table lacks the tie:\n%s", jan)
	}
	csvOut := mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-06", "--format", "csv")
	// the ranking page's CSV (charts.WriteRankingCSV): a byte-order mark for Excel, Chinese
	// headers, 持平/↑1 and 是/否 as the page writes them
	if !strings.HasPrefix(csvOut, "\uFEFF月份,名次,较上月,乡镇代码,乡镇,关爱帮扶,维权信访,组织建设,基础分,加分,总分,等次,一票否决\n2024-06,1,持平,lingxi,灵溪镇,") ||
		!strings.Contains(csvOut, "\n2024-06,4,持平,qianku,钱库镇,40,40,20,100,0,100.00,不称职,是\n") {
		t.Errorf("csv:\n%s", csvOut)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "未知命令"},
		{[]string{"eval", "--db", "x.db"}, "缺少参数 --config"},
		{[]string{"rank", "--config", "c", "--db", "d", "--format", "xml"}, "--format \"xml\" 无效"},
		{[]string{"ingest", "--config", "c", "--db", "d"}, "没有要导入的文件"},
	}
	for _, tc := range tests {
		_, stderr, err := cli(t, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: err %v, want a usage error", tc.args, err)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", tc.args, tc.want, stderr)
		}
	}
	missing := filepath.Join(t.TempDir(), "typo.db")
	_, _, err := cli(t, "rank", "--config", cangnan("config.yaml"), "--db", missing, "--period", "2024-03")
	if err == nil || !strings.Contains(err.Error(), "不存在") {
		t.Errorf("rank on a database that does not exist: %v", err)
	}
	if _, statErr := os.Stat(missing); statErr == nil {
		t.Error("a read-only command created the mistyped database")
	}
	empty := filepath.Join(t.TempDir(), "empty.db")
	if db, err := sqlite.Open(context.Background(), empty); err == nil {
		db.Close()
	}
	_, _, err = cli(t, "eval", "--config", cangnan("config.yaml"), "--db", empty)
	if err == nil || !strings.Contains(err.Error(), "还没有 2024 年度的报送数据") {
		t.Errorf("eval on an empty database: %v", err)
	}
	// mistakes found after the flags parse are said in Chinese by main (not shown yet)
	config, db := loadCangnan(t)
	_, _, err = cli(t, "eval", "--config", config, "--db", db, "--period", "2024-13")
	var ue usageError
	if !errors.As(err, &ue) || ue.shown || !strings.Contains(ue.msg, "月数 13") {
		t.Errorf("a bad --period: %#v", err)
	}
}
