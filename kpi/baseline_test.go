package kpi

import (
	"errors"
	"strings"
	"testing"
)

// baselineConfig has one stock that starts the year at 4 妇女之家 (乙镇 at 6 by name, 丙街道
// at its target), and a count for the county's totals to stay apart from.
func baselineConfig() string {
	return `name: 测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
  - {code: cc, name: 丙街道}
indicators:
  - code: homes
    name: 妇女之家数
    unit: 个
    kind: stock
    weight: 10
    target: 10
    baseline: 4
    baselines: {乙镇: 6, cc: 10}
  - {code: work, name: 工作量, kind: count, weight: 90, target: 12}
`
}

func TestStockBaseline(t *testing.T) {
	a := mustAssessment(t, baselineConfig())
	homes, _ := a.Indicator("homes")
	if got := [3]float64{homes.BaselineFor("aa"), homes.BaselineFor("bb"), homes.BaselineFor("cc")}; got != [3]float64{4, 6, 10} {
		t.Fatalf("baselines = %v, want [4 6 10] (乙镇 given by name)", got)
	}
	tests := []struct {
		name   string
		tw     string
		period string
		level  float64
		want   Evaluation
	}{
		{
			// expected 4 + (10 − 4) × 6/12 = 7; growth 2.5 of 3 expected: pace 0.8333, completion
			// 2.5/6; 2.5 < 0.9 × 3 = 2.7 is behind (6.5 ≥ 0.9 × 7 would have been at_risk)
			name: "growth below warn × expected growth is behind", tw: "aa", period: "2024-06", level: 6.5,
			want: Evaluation{Actual: num(6.5), Target: num(10), Expected: num(7), Baseline: num(4), Completion: num(0.4167), Pace: num(0.8333), Status: StatusBehind, Score: num(8.33)},
		},
		{
			// growth 2.8 ≥ 2.7
			name: "growth within warn is at_risk", tw: "aa", period: "2024-06", level: 6.8,
			want: Evaluation{Actual: num(6.8), Target: num(10), Expected: num(7), Baseline: num(4), Completion: num(0.4667), Pace: num(0.9333), Status: StatusAtRisk, Score: num(9.33)},
		},
		{
			name: "a level below the baseline has pace and completion 0", tw: "aa", period: "2024-06", level: 3,
			want: Evaluation{Actual: num(3), Target: num(10), Expected: num(7), Baseline: num(4), Completion: num(0), Pace: num(0), Status: StatusBehind, Score: num(0)},
		},
		{
			// 乙镇: expected 6 + 4 × 3/12 = 7; growth 1 of 4: completion 0.25
			name: "a per-township baseline given by name", tw: "bb", period: "2024-03", level: 7,
			want: Evaluation{Actual: num(7), Target: num(10), Expected: num(7), Baseline: num(6), Completion: num(0.25), Pace: num(1), Status: StatusOnTrack, Score: num(10)},
		},
		{
			// growth 4 of the 1 expected by March: pace 4
			name: "at the target it is met", tw: "bb", period: "2024-03", level: 10,
			want: Evaluation{Actual: num(10), Target: num(10), Expected: num(7), Baseline: num(6), Completion: num(1), Pace: num(4), Status: StatusMet, Score: num(10)},
		},
		{
			// nothing to grow: pace and completion undefined, score w
			name: "a baseline equal to the target scores w", tw: "cc", period: "2024-06", level: 10,
			want: Evaluation{Actual: num(10), Target: num(10), Expected: num(10), Baseline: num(10), Status: StatusMet, Score: num(10)},
		},
		{
			name: "a baseline equal to the target scores w even below it", tw: "cc", period: "2024-06", level: 9,
			want: Evaluation{Actual: num(9), Target: num(10), Expected: num(10), Baseline: num(10), Status: StatusBehind, Score: num(10)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dataset(t, a, obs(tc.tw, "homes", tc.period, tc.level))
			got := findEval(t, mustEvaluate(t, d, tc.period, late), tc.tw, "homes")
			want := tc.want
			want.Township, want.Indicator, want.Kind, want.Weight, want.Reported = tc.tw, "homes", KindStock, 10, true
			if got.Actual != want.Actual || got.Target != want.Target || got.Expected != want.Expected || got.Baseline != want.Baseline ||
				got.Completion != want.Completion || got.Pace != want.Pace || got.Status != want.Status || got.Score != want.Score {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestStockBaselineCountyAndScoreBack(t *testing.T) {
	a := mustAssessment(t, baselineConfig())
	d := dataset(t, a,
		obs("aa", "homes", "2024-05", 6.5), obs("bb", "homes", "2024-05", 8), obs("cc", "homes", "2024-05", 10),
		obs("aa", "homes", "2024-06", 6.5), obs("bb", "homes", "2024-06", 8), obs("cc", "homes", "2024-06", 10))
	r := mustEvaluate(t, d, "2024-06", late)
	var c CountyEvaluation
	for _, x := range r.County {
		if x.Indicator == "homes" {
			c = x
		}
	}
	// baselines 4 + 6 + 10 = 20, targets 30: expected 20 + 10 × 6/12 = 25; actual 24.5 is
	// growth 4.5 of 5 expected (pace 0.9, completion 0.45), exactly warn: at_risk
	want := CountyEvaluation{Actual: num(24.5), Target: num(30), Expected: num(25), Baseline: num(20), Completion: num(0.45), Pace: num(0.9), Status: StatusAtRisk}
	if c.Actual != want.Actual || c.Target != want.Target || c.Expected != want.Expected || c.Baseline != want.Baseline ||
		c.Completion != want.Completion || c.Pace != want.Pace || c.Status != want.Status {
		t.Errorf("county\n got %+v\nwant %+v", c, want)
	}
	// the month-before score used for rank changes follows the same rule: aa in May expects
	// 4 + 6 × 5/12 = 6.5, so 6.5 scores full marks then
	var s series
	buildSeries(&s, &a.Indicators[0], d.Cell(0, 0), 6)
	if got := scoreAt(&a.Indicators[0], "aa", &s, 5); got != 10 {
		t.Errorf("scoreAt May = %v, want 10", got)
	}
	if got, want := scoreAt(&a.Indicators[0], "aa", &s, 6), 10*2.5/3; got != want {
		t.Errorf("scoreAt June = %v, want %v", got, want)
	}
}

func TestStockBaselineConfigErrors(t *testing.T) {
	head := "name: 测试\nyear: 2024\ntownships:\n  - {code: aa, name: 甲镇}\n  - {code: bb, name: 乙镇}\nindicators:\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"baseline on a count", head + "  - code: x\n    name: X\n    kind: count\n    target: 10\n    baseline: 2\n", []string{"test.yaml:11:", "不能设置 baseline", "年初基数只用于存量"}},
		{"baselines on a ratio", head + "  - code: r\n    name: R\n    kind: ratio\n    threshold: 0.9\n    baselines: {aa: 1}\n", []string{"test.yaml:11:", "不能设置 baselines"}},
		{"baseline on a ceiling", head + "  - code: s\n    name: S\n    kind: stock\n    direction: lower\n    target: 10\n    baseline: 2\n", []string{"test.yaml:12:", "越低越好", "不能设置 baseline"}},
		{"baseline above the target", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    baseline: 12\n", []string{"test.yaml:11:", "年初基数 12 高于目标 10"}},
		{"per-township baseline above its target", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    targets: {乙镇: 5}\n    baselines:\n      bb: 6\n", []string{"test.yaml:13:", "乡镇 bb 的年初基数 6 高于目标 5"}},
		{"baseline for an unknown township", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    baselines:\n      丁镇: 3\n", []string{"test.yaml:12:", `未知乡镇 "丁镇"`}},
		{"baseline without a target", head + "  - code: s\n    name: S\n    kind: stock\n    baseline: 3\n", []string{"test.yaml:10:", "没有 target"}},
		{"negative baseline", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    baseline: -1\n", []string{"test.yaml:11:", "baseline（年初基数）应为不小于 0"}},
		{"one township twice, by code and by name", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    baselines:\n      aa: 1\n      甲镇: 2\n", []string{"test.yaml:13:", "设置了两次"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("test.yaml", []byte(tc.yaml))
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a config error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// lastYearStocks is a 2025 assessment whose 妇女之家数 starts from last year's December
// level: 乙镇 has its own baseline, 丁镇 is new, 戊镇's target is below last year's level.
func lastYearStocks() string {
	return `name: 测试
year: 2025
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
  - {code: cc, name: 丙街道}
  - {code: dd, name: 丁镇}
  - {code: ee, name: 戊镇}
indicators:
  - code: homes
    name: 妇女之家数
    unit: 个
    kind: stock
    weight: 10
    target: 10
    targets: {ee: 6}
    baseline: last_year
    baselines: {bb: 2}
  - {code: work, name: 工作量, kind: count, weight: 90, target: 12}
`
}

func TestLastYearBaselines(t *testing.T) {
	a := mustAssessment(t, lastYearStocks())
	homes, _ := a.Indicator("homes")
	if !homes.BaselineLastYear || homes.BaselineFor("aa") != 0 {
		t.Fatalf("baseline: last_year parsed as %+v", homes)
	}
	last := dataset(t, mustAssessment(t, strings.NewReplacer("year: 2025", "year: 2024", "    baseline: last_year\n", "", "  - {code: dd, name: 丁镇}\n", "").Replace(lastYearStocks())),
		obs("aa", "homes", "2024-03", 5), obs("aa", "homes", "2024-11", 7), // December not reported: November's level
		obs("bb", "homes", "2024-12", 8),                                  // its own baseline wins
		obs("cc", "homes", "2024-02", 4), obs("cc", "work", "2024-12", 1), // its stock's latest level
		obs("ee", "homes", "2024-12", 9), // above this year's target 6: taken at 6
	)
	b := a.WithLastYearBaselines(last)
	if b == a {
		t.Fatal("no derived assessment")
	}
	hb, _ := b.Indicator("homes")
	for _, c := range []struct {
		tw   string
		want float64
	}{{"aa", 7}, {"bb", 2}, {"cc", 4}, {"dd", 0}, {"ee", 6}} {
		if got := hb.BaselineFor(c.tw); got != c.want {
			t.Errorf("%s: baseline %v, want %v", c.tw, got, c.want)
		}
	}
	if homes.BaselineFor("aa") != 0 || a.SameGoals(b) || !b.SameGoals(a.WithLastYearBaselines(last)) {
		t.Error("the config's assessment changed, or SameGoals is wrong")
	}
	if a.WithLastYearBaselines(nil) != a {
		t.Error("without last year the assessment should be the config's (every such baseline 0)")
	}

	// evaluation judges the growth from last year's level: 甲镇 at 8.5 in June, from 7 to 10
	// expected 7 + 3 × 6/12 = 8.5, on track; without last year it would be judged from 0
	cur := dataset(t, a, obs("aa", "homes", "2025-06", 8.5))
	bound, err := cur.CloneFor(b)
	if err != nil {
		t.Fatal(err)
	}
	r := mustEvaluate(t, bound, "2025-06", late)
	e := findEval(t, r, "aa", "homes")
	if e.Baseline != num(7) || e.Expected != num(8.5) || e.Status != StatusOnTrack || e.Completion != num(0.5) {
		t.Errorf("甲镇 from last year's 7: %s", evalString(e))
	}
	plain := findEval(t, mustEvaluate(t, cur, "2025-06", late), "aa", "homes")
	if plain.Baseline.Valid || plain.Expected != num(5) {
		t.Errorf("甲镇 without last year: %s", evalString(plain))
	}
	other := mustAssessment(t, strings.Replace(lastYearStocks(), "  - {code: dd, name: 丁镇}\n", "", 1))
	if _, err := cur.CloneFor(other); err == nil {
		t.Error("a dataset was bound to an assessment of another shape")
	}
}

func TestLastYearBaselineConfig(t *testing.T) {
	head := "name: 测试\nyear: 2024\ntownships:\n  - {code: aa, name: 甲镇}\nindicators:\n"
	tests := []struct {
		name string
		yaml string
		want []string // nil: valid
	}{
		{"on a stock", head + "  - {code: s, name: S, kind: stock, weight: 100, target: 10, baseline: last_year}\n", nil},
		{"on a count", head + "  - code: x\n    name: X\n    kind: count\n    target: 10\n    baseline: last_year\n", []string{"test.yaml:10:", "不能设置 baseline", "年初基数只用于存量"}},
		{"on a ratio", head + "  - code: r\n    name: R\n    kind: ratio\n    threshold: 0.9\n    baseline: last_year\n", []string{"test.yaml:10:", "不能设置 baseline"}},
		{"on a milestone", head + "  - code: m\n    name: M\n    kind: milestone\n    due: 3\n    baseline: last_year\n", []string{"test.yaml:10:", "不能设置 baseline"}},
		{"on a ceiling", head + "  - code: s\n    name: S\n    kind: stock\n    direction: lower\n    target: 10\n    baseline: last_year\n", []string{"test.yaml:11:", "越低越好", "不能设置 baseline"}},
		{"without a target", head + "  - code: s\n    name: S\n    kind: stock\n    baseline: last_year\n", []string{"test.yaml:9:", "last_year，但没有 target"}},
		{"a word that is not last_year", head + "  - code: s\n    name: S\n    kind: stock\n    target: 10\n    baseline: 去年\n", []string{"test.yaml:10:", "应为一个数，或 last_year"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("test.yaml", []byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a config error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}
