package kpi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConfigSpecExample(t *testing.T) {
	a := mustAssessment(t, testConfig())
	if a.Year != 2024 || a.Location.String() != "Asia/Shanghai" || a.ReportDeadlineDay != 5 {
		t.Errorf("year %d tz %s deadline %d", a.Year, a.Location, a.ReportDeadlineDay)
	}
	sc, _ := a.Indicator("screenings")
	if *sc.TargetFor("aa") != 240 || *sc.TargetFor("bb") != 120 || sc.Warn != 0.9 || sc.Pacing.Name != "linear" {
		t.Errorf("screenings = %+v", sc)
	}
	cl, _ := a.Indicator("closure")
	if cl.Margin != 0.02 || cl.DeductPerPoint != nil || cl.Threshold != 0.98 {
		t.Errorf("closure = %+v", cl)
	}
	if i, ok := a.ResolveTownship("乙镇"); !ok || a.Townships[i].Code != "bb" {
		t.Errorf("ResolveTownship by name: %d %v", i, ok)
	}
	if got := len(a.Grades); got != 3 {
		t.Errorf("default grades: %d", got)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings on a config whose weights sum to 100: %v", a.Warnings)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := `name: 测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
`
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error, with its line
	}{
		{"unknown kind", base + "  - {code: x, name: X, kind: counter, weight: 10, target: 1}\n", []string{"test.yaml:7:", `"counter" 不存在`}},
		{"duplicate indicator codes", base + "  - {code: x, name: X, kind: count, target: 1}\n  - {code: x, name: Y, kind: count, target: 1}\n", []string{"test.yaml:8:", `指标代码 "x" 重复`}},
		{"duplicate township codes", strings.Replace(base, "{code: bb,", "{code: aa,", 1) + "  - {code: x, name: X, kind: count}\n", []string{"test.yaml:5:", `乡镇代码 "aa" 重复`}},
		{"override for an unknown township", base + "  - code: x\n    name: X\n    kind: count\n    target: 5\n    targets:\n      zz: 10\n", []string{"test.yaml:12:", `未知乡镇 "zz"`}},
		{"pacing of 11 fractions", base + "  - code: x\n    name: X\n    kind: count\n    target: 5\n    pacing: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1]\n", []string{"test.yaml:11:", "有 11 个比例，应为 12 个"}},
		{"pacing that decreases", base + "  - code: x\n    name: X\n    kind: count\n    target: 5\n    pacing:\n      - 0.1\n      - 0.2\n      - 0.1\n      - 0.4\n      - 0.5\n      - 0.6\n      - 0.7\n      - 0.8\n      - 0.9\n      - 0.95\n      - 0.99\n      - 1\n", []string{"test.yaml:14:", "第 3 个值 0.1 小于前一个 0.2"}},
		{"pacing not ending at 1", base + "  - code: x\n    name: X\n    kind: count\n    target: 5\n    pacing: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9]\n", []string{"test.yaml:11:", "应为 1"}},
		{"pacing with an unknown name", base + "  - {code: x, name: X, kind: count, target: 5, pacing: quarterly}\n", []string{"test.yaml:7:", `pacing "quarterly" 无效`}},
		{"ratio without a threshold", base + "  - code: r\n    name: R\n    kind: ratio\n    weight: 10\n", []string{"test.yaml:7:", "缺少 threshold"}},
		{"ratio threshold as a percentage", base + "  - {code: r, name: R, kind: ratio, threshold: 98}\n", []string{"test.yaml:7:", "98% 应写 0.98"}},
		{"ratio with a target", base + "  - code: r\n    name: R\n    kind: ratio\n    threshold: 0.9\n    target: 5\n", []string{"test.yaml:11:", "不能设置 target", "threshold"}},
		{"milestone without due", base + "  - {code: m, name: M, kind: milestone, weight: 5}\n", []string{"test.yaml:7:", "缺少 due"}},
		{"milestone due 13", base + "  - {code: m, name: M, kind: milestone, due: 13}\n", []string{"test.yaml:7:", "due 应为 1 到 12"}},
		{"bonus without max", base + "  - {code: b, name: B, kind: bonus}\n", []string{"test.yaml:7:", "缺少 max"}},
		{"bonus with a weight", base + "  - code: b\n    name: B\n    kind: bonus\n    max: 5\n    weight: 3\n", []string{"test.yaml:11:", "不能设置 weight"}},
		{"weighted count without a target", base + "  - code: x\n    name: X\n    kind: count\n    weight: 10\n", []string{"test.yaml:10:", "没有 target"}},
		{"negative target", base + "  - {code: x, name: X, kind: count, target: -1}\n", []string{"test.yaml:7:", "target 应为不小于 0"}},
		{"unknown field", base + "  - code: x\n    name: X\n    kind: count\n    wieght: 10\n", []string{"test.yaml:10:", `未知的配置项 "wieght"`}},
		{"wrong type", base + "  - code: x\n    name: X\n    kind: count\n    target: lots\n", []string{"test.yaml:10:", `指标 x 的 target 应为一个数，现在是"lots"`}},
		{"grades not descending", "grades:\n  - {name: A, min: 60}\n  - {name: B, min: 90}\n" + base + "  - {code: x, name: X, kind: count}\n", []string{"test.yaml:3:", "从高到低"}},
		{"bad timezone", strings.Replace(base, "year: 2024", "year: 2024\ntimezone: Mars/Olympus", 1) + "  - {code: x, name: X, kind: count}\n", []string{"test.yaml:3:", "Mars/Olympus"}},
		{"no year", strings.Replace(base, "year: 2024\n", "", 1) + "  - {code: x, name: X, kind: count}\n", []string{"year 应为"}},
		{"bad yaml", "name: [unclosed\n", []string{"test.yaml:", "YAML 格式错误"}},
		{"bad webhook type", base + "  - {code: x, name: X, kind: count}\nnotify:\n  webhooks:\n    - {name: g, type: slack, url: http://127.0.0.1/}\n", []string{"test.yaml:10:", `"slack" 无效`}},
		{"several mistakes at once", base + "  - {code: x, name: X, kind: nope}\n  - {code: r, name: R, kind: ratio}\n", []string{"test.yaml:7:", "test.yaml:8:", "2 处错误"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("test.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error does not unwrap to ErrInvalidConfig: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseConfigWarnings(t *testing.T) {
	y := "name: 测试\nyear: 2024\ntownships:\n  - {code: aa, name: 甲镇}\nindicators:\n  - {code: x, name: X, kind: count, weight: 40, target: 5}\n"
	a := mustAssessment(t, y)
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "合计为 40") {
		t.Errorf("warnings = %v, want one about the weights summing to 40", a.Warnings)
	}
}

func TestParsePeriod(t *testing.T) {
	good := map[string]string{"2024-06": "2024-06", "2024-6": "2024-06", "2024/06": "2024-06", "2024年6月": "2024-06", " 2024-12 ": "2024-12",
		// what Excel makes of a typed month when it saves CSV
		"2024/6/1": "2024-06", "2024-06-01": "2024-06", "2024年6月1日": "2024-06", "2024.6": "2024-06"}
	for in, want := range good {
		p, err := ParsePeriod(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "2024", "2024-13", "2024-00", "24-06", "2024-06-32", "2024-06-01-02", "abcd-ef", "2024--6", "+024-06", "2024-6x"} {
		_, err := ParsePeriod(bad)
		if err == nil {
			t.Errorf("ParsePeriod(%q): got no error", bad)
			continue
		}
		if !errors.Is(err, ErrBadPeriod) || !strings.HasPrefix(err.Error(), "月份“"+bad+"”") {
			t.Errorf("ParsePeriod(%q): %v; want a Chinese error naming the month, wrapping ErrBadPeriod", bad, err)
		}
	}
}

func TestParseConfigReportsEveryMistakeAtOnce(t *testing.T) {
	y := `name: 测试
year: 2024
tiemzone: Asia/Shanghai
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: [乙镇]}
indicators:
  - code: closure
    name: 信访办结率
    kind: ratio
    threshold: 98%
    weight: 20
  - code: screenings
    name: 筛查人数
    kind: count
    wieght: 10
    target: 100
    target: 200
  - {code: plan, name: 规划, kind: milestone, due: 13}
  - {code: lectures, name: 讲座, kind: count, target: "1,000"}
`
	_, err := ParseConfig("test.yaml", []byte(y))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	want := []string{
		`test.yaml:3: 配置文件有未知的配置项 "tiemzone"（拼写错误？是不是 timezone？）`,
		`test.yaml:6: townships 第 2 项的 name 应为文字，现在是一个列表`,
		`test.yaml:11: 指标 closure 的 threshold 应为一个数，现在是"98%"：比例写成小数，98% 应写 0.98`,
		`test.yaml:16: 指标 screenings 有未知的配置项 "wieght"（拼写错误？是不是 weight？）`,
		`test.yaml:18: 指标 screenings 的 target 重复设置（第 17 行已有）`,
		`test.yaml:19: 指标 plan 的 due 应为 1 到 12 的月份，现为 13`,
		`test.yaml:20: 指标 lectures 的 target 应为一个数，现在是"1,000"：数字中不要用千分位逗号`,
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.format("test.yaml"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseConfigNamesTabs(t *testing.T) {
	y := "name: 测试\nyear: 2024\ntownships:\n\t- {code: aa, name: 甲镇}\nindicators:\n  - {code: x, name: X, kind: count}\n"
	_, err := ParseConfig("test.yaml", []byte(y))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, w := range []string{"test.yaml:4:", "制表符（Tab）", "请把 Tab 换成空格"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestParseConfigTownshipNamesAndYAMLFeatures(t *testing.T) {
	y := `name: 测试
year: 2024
townships:
  - {code: fc, name: 凤城街道（东区）}
  - {code: yt, name: 源潭镇}
indicators:
  - &count
    code: screenings
    name: 筛查人数
    kind: count
    weight: 50
    target: 100
    targets: {"凤城街道(东区)": 300, " 源潭镇 ": "150"}
  - <<: *count
    code: lectures
    name: 讲座场次
    target: 12
    targets: {yt: 10}
`
	a := mustAssessment(t, y)
	sc, _ := a.Indicator("screenings")
	lec, _ := a.Indicator("lectures")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"a target keyed by a name with half-width brackets", *sc.TargetFor("fc"), 300.0},
		{"a target keyed by a name with spaces, the value quoted", *sc.TargetFor("yt"), 150.0},
		{"a merged indicator keeps its own target", *lec.Target, 12.0},
		{"a merged indicator takes the rest from the anchor", lec.Weight, 50.0},
		{"a merged indicator's own overrides", *lec.TargetFor("yt"), 10.0},
		{"and not the anchor's", *lec.TargetFor("fc"), 12.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestTownshipContacts(t *testing.T) {
	base := "name: 测试\nyear: 2024\nindicators: [{code: x, name: 筛查, kind: count, weight: 100, target: 1}]\ntownships:\n"
	a, err := ParseConfig("t.yaml", []byte(base+"  - {code: aa, name: 甲镇, contact: 李芳, mobile: 138 0000 0000}\n"))
	if err == nil {
		t.Fatalf("a mobile with spaces was accepted: %+v", a.Townships)
	}
	a, err = ParseConfig("t.yaml", []byte(base+"  - {code: aa, name: 甲镇, contact: 李芳, mobile: 138-0000-0000}\n  - {code: bb, name: 乙镇}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tw := a.Townships[0]; tw.Contact != "李芳" || tw.Mobile != "13800000000" {
		t.Errorf("township %+v, want contact 李芳 and mobile 13800000000", tw)
	}
	_, err = ParseConfig("t.yaml", []byte(base+"  - {code: aa, name: 甲镇, mobile: 1380000}\n"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:5") || !strings.Contains(err.Error(), "手机号") {
		t.Errorf("a short mobile: %v", err)
	}
}
