package kpi

import (
	"math"
	"strings"
	"testing"
)

// forecastConfig has one indicator per case: a linear count, a seasonal count, stocks with
// and without a baseline, and a ratio. Each test reports only the indicators it is about, so
// no township has three counts to pool and every count is forecast by its own pace.
func forecastConfig() string {
	return `name: 预计全年测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: linear, name: 线性, unit: 人, kind: count, weight: 20, target: 120}
  - {code: seasonal, name: 季节, unit: 场, kind: count, weight: 20, target: 100, pacing: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1]}
  - {code: homes, name: 妇女之家, unit: 个, kind: stock, weight: 20, target: 10, baseline: 4}
  - {code: members, name: 执委, unit: 人, kind: stock, weight: 20, target: 130, pacing: none}
  - {code: closure, name: 办结率, kind: ratio, weight: 20, threshold: 0.9}
`
}

func TestForecastHandComputed(t *testing.T) {
	a := mustAssessment(t, forecastConfig())
	tests := []struct {
		name   string
		obs    []Observation
		period string
		ind    string
		want   Forecast
		rr     float64 // the profile run rate
	}{
		{
			// 8, 12, 10, 10 of 120 on a linear profile: pace 40 / (120 × 4/12) = 1, year end
			// 40 + 120 × 8/12 × 1 = 120. The months' departures from the pace, −0.2 0.2 0 0,
			// give σ² = 0.08 / 3; var(pace) = σ² × Σ(1/12)² × 4 / (4/12)² = 0.0066667; the
			// variance 120² × (8/12)² × 0.0066667 + 120² × σ² × 8 × (1/12)² = 42.667 + 21.333
			// = 64: sd 8, so 120 ∓ 1.2816 × 8. Needed: (120 − 40) / 8 = 10 a month.
			name:   "a linear township",
			obs:    []Observation{obs("aa", "linear", "2024-01", 8), obs("aa", "linear", "2024-02", 12), obs("aa", "linear", "2024-03", 10), obs("aa", "linear", "2024-04", 10)},
			period: "2024-04", ind: "linear", rr: 120,
			want: Forecast{YearEnd: 120, Low: 109.7476, High: 130.2524, NeededPerMonth: num(10)},
		},
		{
			// 4, 5, 9 = 18 by March, when the profile expects 20% of 100: run rate 18 / 0.2 =
			// 90 (a linear run rate would say 72). Departures −0.1 0.1 0: σ² = 0.01 / 0.81;
			// var(pace) = 0.81 σ² (0.05² + 0.05² + 0.1²) / 0.2² = 0.00375; the rest of the
			// profile's squared steps sum to 0.075: variance 100² 0.8² 0.00375 + 100² 0.81 σ²
			// 0.075 = 24 + 7.5 = 31.5.
			name:   "a seasonal profile",
			obs:    []Observation{obs("aa", "seasonal", "2024-01", 4), obs("aa", "seasonal", "2024-02", 5), obs("aa", "seasonal", "2024-03", 9)},
			period: "2024-03", ind: "seasonal", rr: 90,
			want: Forecast{YearEnd: 90, Low: 90 - forecastZ*math.Sqrt(31.5), High: 90 + forecastZ*math.Sqrt(31.5), NeededPerMonth: num(82.0 / 9)},
		},
		{
			// from the baseline 4: growth 0.5 a month, exactly the 6 / 12 the target asks, so
			// the year ends at 4 + 6 = 10 with nothing uncertain about it (the floor:
			// 5.5 + 0.5 × 9)
			name:   "a stock with a baseline",
			obs:    []Observation{obs("aa", "homes", "2024-01", 4.5), obs("aa", "homes", "2024-02", 5), obs("aa", "homes", "2024-03", 5.5)},
			period: "2024-03", ind: "homes", rr: 10,
			want: Forecast{YearEnd: 10, Low: 10, High: 10, NeededPerMonth: num(0.5)},
		},
		{
			// 100, 103, 104: growth (104 − 100) / 2 = 2 a month, year end 104 + 2 × 9 = 122;
			// the steps 3 and 1 are 1 off the average each: 2 per month of variance, so
			// 2 × 9 + 9² × 2 / 2 = 99
			name:   "a stock without a baseline",
			obs:    []Observation{obs("aa", "members", "2024-01", 100), obs("aa", "members", "2024-02", 103), obs("aa", "members", "2024-03", 104)},
			period: "2024-03", ind: "members", rr: 122,
			want: Forecast{YearEnd: 122, Low: 122 - forecastZ*math.Sqrt(99), High: 122 + forecastZ*math.Sqrt(99), NeededPerMonth: num(26.0 / 9)},
		},
		{
			// losing 4 a month: the run rate says 2 − 4 × 9 = −34, the estimate stops at 0
			name:   "a stock in decline ends at 0",
			obs:    []Observation{obs("aa", "members", "2024-01", 10), obs("aa", "members", "2024-02", 6), obs("aa", "members", "2024-03", 2)},
			period: "2024-03", ind: "members", rr: -34,
			want: Forecast{YearEnd: 0, Low: 0, High: 0, NeededPerMonth: num(128.0 / 9)},
		},
		{
			// 10/10, 10/10, 7/10: the actual 27/30 = 0.9 is the estimate; the monthly rates'
			// dispersion Σ D (r − 0.9)² / 2 = 0.3 (above the binomial's); 90 more cases to come:
			// variance (90/120)² × 0.3 × (1/90 + 1/30) = 0.0075; the top is capped at 100%
			name:   "a ratio",
			obs:    []Observation{ratioObs("aa", "closure", "2024-01", 10, 10), ratioObs("aa", "closure", "2024-02", 10, 10), ratioObs("aa", "closure", "2024-03", 7, 10)},
			period: "2024-03", ind: "closure", rr: 0.9,
			want: Forecast{YearEnd: 0.9, Low: 0.9 - forecastZ*math.Sqrt(0.0075), High: 1},
		},
		{
			// nothing for April and May: those months are not taken as zeros, the forecast
			// runs from March (30 / (3/12) = 120, not 30 / (5/12) = 72); what is needed is
			// spread over the seven months left: 90 / 7
			name:   "a township that reported nothing for two months",
			obs:    []Observation{obs("aa", "linear", "2024-01", 10), obs("aa", "linear", "2024-02", 10), obs("aa", "linear", "2024-03", 10)},
			period: "2024-05", ind: "linear", rr: 120,
			want: Forecast{YearEnd: 120, Low: 120, High: 120, NeededPerMonth: num(90.0 / 7)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustEvaluate(t, dataset(t, a, tc.obs...), tc.period, late)
			e := findEval(t, r, "aa", tc.ind)
			if e.Forecast == nil {
				t.Fatal("no forecast")
			}
			got, want := *e.Forecast, tc.want
			want.YearEnd, want.Low, want.High, want.NeededPerMonth = Round(want.YearEnd, 4), Round(want.Low, 4), Round(want.High, 4), round4(want.NeededPerMonth)
			if got.YearEnd != want.YearEnd || got.Low != want.Low || got.High != want.High || got.NeededPerMonth != want.NeededPerMonth {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if rr := got.RunRate(); math.Abs(rr-tc.rr) > 1e-9 {
				t.Errorf("run rate %v, want %v", rr, tc.rr)
			}
		})
	}
}

func TestForecastWhereThereIsNone(t *testing.T) {
	a := mustAssessment(t, testConfig())
	d := dataset(t, a,
		obs("bb", "screenings", "2024-01", 10), obs("bb", "repeat", "2024-01", 1), obs("bb", "received", "2024-01", 3),
		obs("bb", "plan", "2024-01", 1), obs("bb", "honors", "2024-01", 1), obs("bb", "incident", "2024-01", 0),
		obs("bb", "screenings", "2024-12", 10))
	nov := mustEvaluate(t, d, "2024-11", late)
	for _, ind := range []string{"repeat", "received", "plan", "honors", "incident"} {
		if e := findEval(t, nov, "bb", ind); e.Forecast != nil {
			t.Errorf("%s (a ceiling, tracked only or not a count, stock or ratio) has a forecast %+v", ind, *e.Forecast)
		}
	}
	if e := findEval(t, nov, "aa", "screenings"); e.Forecast != nil {
		t.Errorf("a count with no report has a forecast %+v", *e.Forecast)
	}
	if e := findEval(t, nov, "bb", "screenings"); e.Forecast == nil {
		t.Error("a count with reports has no forecast in November")
	}
	if e := findEval(t, mustEvaluate(t, d, "2024-12", late), "bb", "screenings"); e.Forecast != nil {
		t.Errorf("December has a forecast %+v: the year is over", *e.Forecast)
	}
}

func TestForecastLeansOnTheTownshipsOtherCounts(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: a, name: A, kind: count, weight: 25, target: 120}
  - {code: b, name: B, kind: count, weight: 25, target: 120}
  - {code: c, name: C, kind: count, weight: 25, target: 120}
  - {code: d, name: D, kind: count, weight: 25, target: 120}
`)
	var os []Observation
	for m := 1; m <= 3; m++ {
		p := Period{Year: 2024, Month: m}.String()
		// a, b and c keep pace with some noise; d has had a slow quarter
		os = append(os, obs("aa", "a", p, float64(8+2*m)), obs("aa", "b", p, float64(14-2*m)), obs("aa", "c", p, 10), obs("aa", "d", p, float64(3+m)))
	}
	r := mustEvaluate(t, dataset(t, a, os...), "2024-03", late)
	d := findEval(t, r, "aa", "d").Forecast
	// d's own run rate: 15 / (3/12) = 60; the others run at 120
	if d.RunRate() != 60 {
		t.Fatalf("run rate %v, want 60", d.RunRate())
	}
	if !(d.YearEnd > 60 && d.YearEnd < 120) {
		t.Errorf("d's estimate %v is not between its own run rate 60 and the township's 120", d.YearEnd)
	}
	if c := findEval(t, r, "aa", "c").Forecast; c.YearEnd >= 120 || c.YearEnd <= 60 {
		t.Errorf("c, exactly on pace, is pulled a little toward d: got %v", c.YearEnd)
	}
}

func TestForecastMissAlert(t *testing.T) {
	a := mustAssessment(t, forecastConfig())
	behind := func(months int) []Observation {
		var os []Observation
		for m := 1; m <= months; m++ {
			os = append(os, obs("aa", "linear", Period{Year: 2024, Month: m}.String(), 5)) // half the pace
		}
		return os
	}
	tests := []struct {
		name   string
		obs    []Observation
		period string
		want   []string
	}{
		{"not before forecast_from", behind(3), "2024-03", []string{"behind_pace aa linear critical 2024-01"}},
		{"from forecast_from, active since the first month it held", behind(5), "2024-05",
			[]string{"behind_pace aa linear critical 2024-01", "forecast_miss aa linear warning 2024-04"}},
		{"not once the target is met", append(behind(5), obs("aa", "linear", "2024-06", 100)), "2024-06", nil},
		{"not in December", behind(12), "2024-12", []string{"behind_pace aa linear critical 2024-01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range alertLines(mustEvaluate(t, dataset(t, a, tc.obs...), tc.period, late)) {
				if strings.Contains(l, " aa linear ") && !strings.HasPrefix(l, "missing_report") {
					got = append(got, l)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("alerts %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("alerts %q, want %q", got, tc.want)
				}
			}
		})
	}
	// the summary, in words by the one formatter
	r := mustEvaluate(t, dataset(t, a, behind(5)...), "2024-05", late)
	for _, al := range r.Alerts {
		if al.Alert == AlertForecastMiss {
			want := "甲镇“线性”按目前进度预计全年60人（60–60），低于目标120人；余下每月需完成14人"
			if al.Summary != want {
				t.Errorf("summary\n got %q\nwant %q", al.Summary, want)
			}
		}
	}
}

func TestForecastFromConfig(t *testing.T) {
	a := mustAssessment(t, "forecast_from: 6\n"+forecastConfig())
	var os []Observation
	for m := 1; m <= 5; m++ {
		os = append(os, obs("aa", "linear", Period{Year: 2024, Month: m}.String(), 5))
	}
	for _, al := range mustEvaluate(t, dataset(t, a, os...), "2024-05", late).Alerts {
		if al.Alert == AlertForecastMiss {
			t.Errorf("forecast_miss in May with forecast_from: 6: %+v", al)
		}
	}
	if a.ForecastFrom != 6 || mustAssessment(t, forecastConfig()).ForecastFrom != 4 {
		t.Errorf("forecast_from %d, default %d; want 6 and 4", a.ForecastFrom, mustAssessment(t, forecastConfig()).ForecastFrom)
	}
}

func TestCountyForecastSumsTheTownships(t *testing.T) {
	a := mustAssessment(t, forecastConfig())
	d := dataset(t, a,
		obs("aa", "linear", "2024-01", 8), obs("aa", "linear", "2024-02", 12), obs("aa", "linear", "2024-03", 10), obs("aa", "linear", "2024-04", 10),
		obs("bb", "linear", "2024-01", 5), obs("bb", "linear", "2024-02", 5), obs("bb", "linear", "2024-03", 5), obs("bb", "linear", "2024-04", 5),
	)
	r := mustEvaluate(t, d, "2024-04", late)
	var c *Forecast
	for _, x := range r.County {
		if x.Indicator == "linear" {
			c = x.Forecast
		}
	}
	if c == nil {
		t.Fatal("no county forecast")
	}
	// aa: 120 ± sd 8 (TestForecastHandComputed); bb: exactly 60. The county: 180, sd 8;
	// needed (240 − 60) / 8 = 22.5
	want := Forecast{YearEnd: 180, Low: Round(180-forecastZ*8, 4), High: Round(180+forecastZ*8, 4), NeededPerMonth: num(22.5)}
	if c.YearEnd != want.YearEnd || c.Low != want.Low || c.High != want.High || c.NeededPerMonth != want.NeededPerMonth {
		t.Errorf("county forecast\n got %+v\nwant %+v", *c, want)
	}
}

// TestForecastMissSummaryStaysUnderTheTarget: the sentence of forecast_miss writes whole
// people, and an interval whose high end is under the target (127.51 against 128) reads
// under it (127), not as the target itself.
func TestForecastMissSummaryStaysUnderTheTarget(t *testing.T) {
	ind := &Indicator{Name: "春蕾计划资助人数", Unit: "人", Kind: KindCount}
	f := &Forecast{YearEnd: 125.03, Low: 125, High: 127.51, NeededPerMonth: Some(1.5), raw: rawForecast{ok: true, yearEnd: 125.03, ceiling: math.Inf(1)}}
	got := string(forecastMissSummary(nil, "清城区", ind, 128, f, false))
	want := "清城区“春蕾计划资助人数”按目前进度预计全年125人（125–127），低于目标128人；余下每月需完成2人"
	if got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	// an interval between two whole numbers, just under a whole target: it reads under it
	ind = &Indicator{Name: "示范点", Unit: "个", Kind: KindCount}
	f = &Forecast{YearEnd: 4.5, Low: 4.2, High: 4.8, NeededPerMonth: Some(1.5), raw: rawForecast{ok: true, yearEnd: 4.5, ceiling: math.Inf(1)}}
	got = string(forecastMissSummary(nil, "甲镇", ind, 5, f, false))
	if want := "甲镇“示范点”按目前进度预计全年4个（4–4），低于目标5个；余下每月需完成2个"; got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}
