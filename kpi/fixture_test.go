package kpi

import (
	"testing"
	"time"
)

// testConfig is a small assessment with one indicator of every kind and both directions.
func testConfig() string {
	return `name: 测试县妇联2024年度目标管理考核
year: 2024
timezone: Asia/Shanghai
report_deadline_day: 5
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
  - {code: cc, name: 丙街道}
indicators:
  - code: screenings
    name: 两癌筛查人数
    category: 关爱帮扶
    unit: 人
    kind: count
    weight: 20
    target: 120
    targets: {aa: 240}
  - code: homes
    name: 妇女之家数
    category: 组织建设
    unit: 个
    kind: stock
    weight: 10
    target: 10
    pacing: none
  - code: closure
    name: 信访办结率
    category: 维权信访
    kind: ratio
    weight: 20
    threshold: 0.98
  - code: satisfaction
    name: 群众满意率
    category: 维权信访
    kind: ratio
    weight: 10
    threshold: 0.9
    deduct_per_point: 1
  - code: repeat
    name: 越级重复上访件数
    category: 维权信访
    kind: count
    direction: lower
    weight: 10
    target: 2
  - code: plan
    name: 规划中期评估
    category: 组织建设
    kind: milestone
    weight: 10
    due: 6
  - code: lectures
    name: 家庭教育讲座
    category: 家庭建设
    unit: 场
    kind: count
    weight: 20
    target: 12
    pacing: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1]
  - code: received
    name: 信访受理件数
    category: 维权信访
    unit: 件
    kind: count
  - code: honors
    name: 荣誉加分
    kind: bonus
    max: 5
  - code: incident
    name: 重大责任事故
    kind: veto
`
}

func mustAssessment(t testing.TB, yaml string) *Assessment {
	t.Helper()
	a, err := ParseConfig("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return a
}

// obs builds observations tersely: township, indicator, period, value.
func obs(tw, ind, p string, v float64) Observation {
	return Observation{Township: tw, Indicator: ind, Period: MustPeriod(p), Value: v}
}

func ratioObs(tw, ind, p string, num, den float64) Observation {
	return Observation{Township: tw, Indicator: ind, Period: MustPeriod(p), Numerator: num, Denominator: den}
}

func dataset(t testing.TB, a *Assessment, os ...Observation) *Dataset {
	t.Helper()
	d := NewDataset(a)
	for _, o := range os {
		if err := d.Set(o); err != nil {
			t.Fatalf("Set(%+v): %v", o, err)
		}
	}
	return d
}

// late is a clock long after every deadline of 2024; early is before any deadline.
var (
	late  = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	early = time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
)

func mustEvaluate(t testing.TB, d *Dataset, p string, now time.Time) *Result {
	t.Helper()
	r, err := Evaluate(d, MustPeriod(p), now)
	if err != nil {
		t.Fatalf("Evaluate(%s): %v", p, err)
	}
	return r
}

func findEval(t testing.TB, r *Result, tw, ind string) Evaluation {
	t.Helper()
	for _, e := range r.Evaluations() {
		if e.Township == tw && e.Indicator == ind {
			return e
		}
	}
	t.Fatalf("no evaluation for %s/%s", tw, ind)
	return Evaluation{}
}

func num(v float64) Num { return Some(v) }

var null = Num{}
