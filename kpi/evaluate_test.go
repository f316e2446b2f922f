package kpi

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEvaluateIndicatorRules(t *testing.T) {
	a := mustAssessment(t, testConfig())
	tests := []struct {
		name   string
		obs    []Observation
		period string
		tw     string
		ind    string
		want   Evaluation // Township, Indicator, Kind and Weight are filled in by the test
	}{
		{
			name:   "count sums months and meets the pace",
			obs:    []Observation{obs("bb", "screenings", "2024-01", 20), obs("bb", "screenings", "2024-02", 40)},
			period: "2024-02", tw: "bb", ind: "screenings",
			want: Evaluation{Actual: num(60), Target: num(120), Expected: num(20), Completion: num(0.5), Pace: num(3), Status: StatusOnTrack, Score: num(20), Reported: true},
		},
		{
			name: "count uses the per-township override and is at risk within warn",
			obs: []Observation{obs("aa", "screenings", "2024-01", 50), obs("aa", "screenings", "2024-02", 10),
				obs("aa", "screenings", "2024-03", 0), obs("aa", "screenings", "2024-04", 0),
				obs("aa", "screenings", "2024-05", 0), obs("aa", "screenings", "2024-06", 50)},
			period: "2024-06", tw: "aa", ind: "screenings",
			// expected 240 × 6/12 = 120; 110 ≥ 0.9 × 120 = 108
			want: Evaluation{Actual: num(110), Target: num(240), Expected: num(120), Completion: num(0.4583), Pace: num(0.9167), Status: StatusAtRisk, Score: num(18.33), Reported: true},
		},
		{
			name:   "count below warn × expected is behind",
			obs:    []Observation{obs("bb", "screenings", "2024-01", 1)},
			period: "2024-06", tw: "bb", ind: "screenings",
			want: Evaluation{Actual: num(1), Target: num(120), Expected: num(60), Completion: num(0.0083), Pace: num(0.0167), Status: StatusBehind, Score: num(0.33), Reported: false},
		},
		{
			name:   "count at or over the annual target is met and capped at full marks",
			obs:    []Observation{obs("bb", "screenings", "2024-03", 130)},
			period: "2024-03", tw: "bb", ind: "screenings",
			want: Evaluation{Actual: num(130), Target: num(120), Expected: num(30), Completion: num(1.0833), Pace: num(4.3333), Status: StatusMet, Score: num(20), Reported: true},
		},
		{
			name:   "later months do not count as of an earlier period",
			obs:    []Observation{obs("bb", "screenings", "2024-01", 10), obs("bb", "screenings", "2024-05", 500)},
			period: "2024-02", tw: "bb", ind: "screenings",
			want: Evaluation{Actual: num(10), Target: num(120), Expected: num(20), Completion: num(0.0833), Pace: num(0.5), Status: StatusBehind, Score: num(10), Reported: false},
		},
		{
			name:   "count without any report is no_data and scores 0",
			period: "2024-02", tw: "bb", ind: "screenings",
			want: Evaluation{Actual: null, Target: num(120), Expected: num(20), Status: StatusNoData, Score: num(0)},
		},
		{
			name:   "stock takes the latest reported month, pacing none expects the full target",
			obs:    []Observation{obs("bb", "homes", "2024-01", 12), obs("bb", "homes", "2024-03", 9)},
			period: "2024-04", tw: "bb", ind: "homes",
			want: Evaluation{Actual: num(9), Target: num(10), Expected: num(10), Completion: num(0.9), Pace: num(0.9), Status: StatusAtRisk, Score: num(9)},
		},
		{
			name:   "ratio divides sums, never averages monthly ratios",
			obs:    []Observation{ratioObs("bb", "closure", "2024-01", 1, 2), ratioObs("bb", "closure", "2024-02", 98, 98)},
			period: "2024-02", tw: "bb", ind: "closure",
			// 99/100 = 0.99 (the average of monthly ratios would be 0.75)
			want: Evaluation{Actual: num(0.99), Numerator: &Num{99, true}, Denominator: &Num{100, true}, Target: num(0.98), Completion: num(1.0102), Status: StatusMet, Score: num(20), Reported: true},
		},
		{
			name:   "ratio within margin is at_risk and scores proportionally",
			obs:    []Observation{ratioObs("bb", "closure", "2024-01", 97, 100)},
			period: "2024-01", tw: "bb", ind: "closure",
			want: Evaluation{Actual: num(0.97), Numerator: &Num{97, true}, Denominator: &Num{100, true}, Target: num(0.98), Completion: num(0.9898), Status: StatusAtRisk, Score: num(19.8), Reported: true},
		},
		{
			name:   "ratio below threshold − margin is behind",
			obs:    []Observation{ratioObs("bb", "closure", "2024-01", 90, 100)},
			period: "2024-01", tw: "bb", ind: "closure",
			want: Evaluation{Actual: num(0.9), Numerator: &Num{90, true}, Denominator: &Num{100, true}, Target: num(0.98), Completion: num(0.9184), Status: StatusBehind, Score: num(18.37), Reported: true},
		},
		{
			name:   "ratio with zero denominator is not_applicable and scores full",
			obs:    []Observation{ratioObs("bb", "closure", "2024-01", 0, 0)},
			period: "2024-01", tw: "bb", ind: "closure",
			want: Evaluation{Actual: null, Numerator: &Num{0, true}, Denominator: &Num{0, true}, Target: num(0.98), Status: StatusNotApplicable, Score: num(20), Reported: true},
		},
		{
			name:   "ratio deducts per percentage point below threshold",
			obs:    []Observation{ratioObs("bb", "satisfaction", "2024-01", 85, 100)},
			period: "2024-01", tw: "bb", ind: "satisfaction",
			// 10 − 1 × 100 × (0.9 − 0.85) = 5
			want: Evaluation{Actual: num(0.85), Numerator: &Num{85, true}, Denominator: &Num{100, true}, Target: num(0.9), Completion: num(0.9444), Status: StatusBehind, Score: num(5), Reported: true},
		},
		{
			name:   "ratio deduction floors at zero",
			obs:    []Observation{ratioObs("bb", "satisfaction", "2024-01", 10, 100)},
			period: "2024-01", tw: "bb", ind: "satisfaction",
			want: Evaluation{Actual: num(0.1), Numerator: &Num{10, true}, Denominator: &Num{100, true}, Target: num(0.9), Completion: num(0.1111), Status: StatusBehind, Score: num(0), Reported: true},
		},
		{
			name:   "lower direction within the paced ceiling is on_track",
			obs:    []Observation{obs("bb", "repeat", "2024-01", 0), obs("bb", "repeat", "2024-06", 1)},
			period: "2024-06", tw: "bb", ind: "repeat",
			want: Evaluation{Actual: num(1), Target: num(2), Expected: num(1), Pace: num(1), Status: StatusOnTrack, Score: num(10), Reported: true},
		},
		{
			name:   "lower direction above the paced ceiling is at_risk and still scores",
			obs:    []Observation{obs("bb", "repeat", "2024-02", 1)},
			period: "2024-03", tw: "bb", ind: "repeat",
			want: Evaluation{Actual: num(1), Target: num(2), Expected: num(0.5), Pace: num(2), Status: StatusAtRisk, Score: num(10)},
		},
		{
			name:   "lower direction over the target is behind and scores 0",
			obs:    []Observation{obs("bb", "repeat", "2024-02", 3)},
			period: "2024-03", tw: "bb", ind: "repeat",
			want: Evaluation{Actual: num(3), Target: num(2), Expected: num(0.5), Pace: num(6), Status: StatusBehind, Score: num(0)},
		},
		{
			name:   "lower direction within the target in December is met",
			obs:    []Observation{obs("bb", "repeat", "2024-02", 2)},
			period: "2024-12", tw: "bb", ind: "repeat",
			want: Evaluation{Actual: num(2), Target: num(2), Expected: num(2), Pace: num(1), Status: StatusMet, Score: num(10)},
		},
		{
			name:   "milestone not done before its due month is on_track",
			period: "2024-05", tw: "bb", ind: "plan",
			want: Evaluation{Actual: num(0), Target: num(1), Completion: num(0), Status: StatusOnTrack, Score: num(10)},
		},
		{
			name:   "milestone not done in its due month is behind",
			obs:    []Observation{obs("bb", "plan", "2024-03", 0)},
			period: "2024-06", tw: "bb", ind: "plan",
			want: Evaluation{Actual: num(0), Target: num(1), Completion: num(0), Status: StatusBehind, Score: num(0)},
		},
		{
			name:   "milestone done in any earlier month is met",
			obs:    []Observation{obs("bb", "plan", "2024-03", 1), obs("bb", "plan", "2024-04", 0)},
			period: "2024-08", tw: "bb", ind: "plan",
			want: Evaluation{Actual: num(1), Target: num(1), Completion: num(1), Status: StatusMet, Score: num(10)},
		},
		{
			name:   "custom pacing profile sets expected",
			obs:    []Observation{obs("bb", "lectures", "2024-01", 1), obs("bb", "lectures", "2024-02", 1)},
			period: "2024-03", tw: "bb", ind: "lectures",
			// expected = 12 × 0.2 = 2.4; 2 ≥ 0.9 × 2.4 = 2.16? no: 2 < 2.16 → behind
			want: Evaluation{Actual: num(2), Target: num(12), Expected: num(2.4), Completion: num(0.1667), Pace: num(0.8333), Status: StatusBehind, Score: num(16.67)},
		},
		{
			name:   "tracked-only count shows its actual, is not_applicable and scores nothing",
			obs:    []Observation{obs("bb", "received", "2024-01", 7), obs("bb", "received", "2024-02", 5)},
			period: "2024-02", tw: "bb", ind: "received",
			want: Evaluation{Actual: num(12), Status: StatusNotApplicable, Score: num(0), Reported: true},
		},
		{
			name:   "bonus sums months capped at max and has no status",
			obs:    []Observation{obs("bb", "honors", "2024-01", 3), obs("bb", "honors", "2024-02", 4)},
			period: "2024-02", tw: "bb", ind: "honors",
			want: Evaluation{Actual: num(5), Target: num(5), Reported: true},
		},
		{
			name:   "veto reported as 1 holds from then on",
			obs:    []Observation{obs("bb", "incident", "2024-02", 1), obs("bb", "incident", "2024-03", 0)},
			period: "2024-04", tw: "bb", ind: "incident",
			want: Evaluation{Actual: num(1)},
		},
		{
			name:   "no veto observation means no veto",
			period: "2024-04", tw: "bb", ind: "incident",
			want: Evaluation{Actual: num(0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dataset(t, a, tc.obs...)
			r := mustEvaluate(t, d, tc.period, late)
			got := findEval(t, r, tc.tw, tc.ind)
			ind, _ := a.Indicator(tc.ind)
			want := tc.want
			want.Township, want.Indicator, want.Kind = tc.tw, tc.ind, ind.Kind
			want.Weight = ind.Weight
			if tc.ind == "received" {
				want.Weight = 0
			}
			got.rawScore = 0
			if !evalEqual(got, want) {
				t.Errorf("got  %s\nwant %s", evalString(got), evalString(want))
			}
		})
	}
}

func evalEqual(a, b Evaluation) bool {
	numEq := func(x, y Num) bool { return x.Valid == y.Valid && (!x.Valid || math.Abs(x.V-y.V) < 1e-9) }
	ptrEq := func(x, y *Num) bool {
		if x == nil || y == nil {
			return x == y
		}
		return numEq(*x, *y)
	}
	return a.Township == b.Township && a.Indicator == b.Indicator && a.Kind == b.Kind &&
		numEq(a.Actual, b.Actual) && ptrEq(a.Numerator, b.Numerator) && ptrEq(a.Denominator, b.Denominator) &&
		numEq(a.Target, b.Target) && numEq(a.Expected, b.Expected) && numEq(a.Completion, b.Completion) &&
		numEq(a.Pace, b.Pace) && a.Status == b.Status && a.Weight == b.Weight && numEq(a.Score, b.Score) &&
		a.Reported == b.Reported
}

func evalString(e Evaluation) string {
	f := func(n Num) string {
		if !n.Valid {
			return "null"
		}
		return FormatNumber(n.V)
	}
	p := func(n *Num) string {
		if n == nil {
			return "-"
		}
		return f(*n)
	}
	return "actual=" + f(e.Actual) + " num=" + p(e.Numerator) + " den=" + p(e.Denominator) +
		" target=" + f(e.Target) + " expected=" + f(e.Expected) + " completion=" + f(e.Completion) +
		" pace=" + f(e.Pace) + " status=" + string(e.Status) + " weight=" + FormatNumber(e.Weight) +
		" score=" + f(e.Score) + " reported=" + map[bool]string{true: "yes", false: "no"}[e.Reported]
}

// A month Evaluate cannot take is said in Chinese, as the whole message (it reaches the
// clerk as it is), and unwraps to ErrBadPeriod.
func TestEvaluateRefusesOtherYears(t *testing.T) {
	a := mustAssessment(t, testConfig())
	for _, tc := range []struct {
		name string
		p    Period
		want string
	}{
		{"another year", MustPeriod("2023-12"), "月份 2023-12 不在考核年度 2024 内"},
		{"no such month", Period{Year: 2024, Month: 13}, "月份 2024-13 的月数 13 不对，应在 1 到 12 之间"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(NewDataset(a), tc.p, late)
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrBadPeriod) {
				t.Errorf("Evaluate(%s) = %v, want %q wrapping ErrBadPeriod", tc.p, err, tc.want)
			}
		})
	}
}

func TestDatasetRefusesForeignObservations(t *testing.T) {
	a := mustAssessment(t, testConfig())
	d := NewDataset(a)
	for _, o := range []Observation{obs("zz", "screenings", "2024-01", 1), obs("aa", "nope", "2024-01", 1), obs("aa", "screenings", "2025-01", 1)} {
		if err := d.Set(o); err == nil {
			t.Errorf("Set(%+v): got no error", o)
		}
	}
	if d.Len() != 0 {
		t.Errorf("Len = %d, want 0", d.Len())
	}
}

func TestPacingFractions(t *testing.T) {
	lin := LinearPacing()
	if got := lin.Fraction(6); got != 0.5 {
		t.Errorf("linear f(6) = %v, want 0.5", got)
	}
	if got := NoPacing().Fraction(1); got != 1 {
		t.Errorf("none f(1) = %v, want 1", got)
	}
}

func TestNoDataForStockAndRatio(t *testing.T) {
	a := mustAssessment(t, testConfig())
	r := mustEvaluate(t, NewDataset(a), "2024-05", late)
	for _, ind := range []string{"homes", "closure", "repeat"} {
		e := findEval(t, r, "aa", ind)
		if e.Status != StatusNoData || e.Actual.Valid || e.Score.V != 0 {
			t.Errorf("%s without reports: status %s actual %v score %v; want no_data, null, 0", ind, e.Status, e.Actual, e.Score)
		}
	}
}

func TestNothingExpectedYet(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - code: relief
    name: 两癌救助人数
    kind: count
    weight: 100
    target: 4
    pacing: [0, 0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 1]
`)
	d := dataset(t, a, obs("aa", "relief", "2024-01", 0))
	e := findEval(t, mustEvaluate(t, d, "2024-02", late), "aa", "relief")
	// expected(2) = 0: pace is undefined and the score is the full weight
	if !e.Expected.Valid || e.Expected.V != 0 || e.Pace.Valid || e.Score.V != 100 || e.Status != StatusOnTrack {
		t.Errorf("got %s; want expected 0, pace null, score 100, on_track", evalString(e))
	}
}

func TestBoundariesAreExactDecimals(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: x, name: 筛查, kind: count, weight: 50, target: 108}
  - {code: r, name: 办结率, kind: ratio, weight: 50, threshold: 0.8, margin: 0.1}
`)
	d := dataset(t, a, obs("aa", "x", "2024-07", 63), ratioObs("aa", "r", "2024-07", 7, 10))
	r := mustEvaluate(t, d, "2024-07", late)
	// 108 × 7/12 = 63 exactly: on pace, not at risk
	if e := findEval(t, r, "aa", "x"); e.Status != StatusOnTrack || e.Expected.V != 63 || e.Pace.V != 1 {
		t.Errorf("count at exactly its expected figure: %s", evalString(e))
	}
	// 7/10 against 0.8 − 0.1: at risk (a warning), not behind
	if e := findEval(t, r, "aa", "r"); e.Status != StatusAtRisk {
		t.Errorf("ratio at exactly threshold − margin: %s", evalString(e))
	}
	for _, al := range r.Alerts {
		if al.Alert == AlertBelowThreshold && al.Severity != SeverityWarning {
			t.Errorf("alert %+v: want a warning", al)
		}
	}
}

func TestScoreAtAgreesWithEvaluate(t *testing.T) {
	a := mustAssessment(t, testConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	d := NewDataset(a)
	for _, tw := range a.Townships {
		for _, ind := range a.Indicators {
			for m := 1; m <= 12; m++ {
				if rng.IntN(4) == 0 {
					continue // some months unreported
				}
				o := Observation{Township: tw.Code, Indicator: ind.Code, Period: Period{Year: 2024, Month: m}}
				switch ind.Kind {
				case KindRatio:
					o.Denominator = float64(rng.IntN(20))
					o.Numerator = float64(rng.IntN(int(o.Denominator) + 1))
				case KindMilestone, KindVeto:
					o.Value = float64(rng.IntN(5) / 4)
				default:
					o.Value = float64(rng.IntN(30))
				}
				if err := d.Set(o); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for ti, tw := range a.Townships {
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			var s series
			buildSeries(&s, ind, d.Cell(ti, i), 12)
			for k := 1; k <= 12; k++ {
				if got, want := scoreAt(ind, tw.Code, &s, k), evaluate(ind, tw.Code, &s, k).rawScore; got != want {
					t.Errorf("%s/%s month %d: scoreAt %v, evaluate %v", tw.Code, ind.Code, k, got, want)
				}
			}
		}
	}
}
