package kpi

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func alertLines(r *Result) []string {
	var out []string
	for _, al := range r.Alerts {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", al.Alert, al.Township, al.Indicator, al.Severity, al.ActiveSince))
	}
	sort.Strings(out)
	return out
}

// filterAlerts keeps the alerts of one township.
func filterAlerts(lines []string, township string) []string {
	var out []string
	for _, l := range lines {
		var name, tw string
		fmt.Sscanf(l, "%s %s", &name, &tw)
		if tw == township {
			out = append(out, l)
		}
	}
	return out
}

func TestAlerts(t *testing.T) {
	a := mustAssessment(t, testConfig())
	// bb reports every scored indicator every month, so only the alerts under test fire.
	full := func(months int) []Observation {
		var os []Observation
		for m := 1; m <= months; m++ {
			p := fmt.Sprintf("2024-%02d", m)
			os = append(os, obs("bb", "screenings", p, 10), obs("bb", "homes", p, 10), ratioObs("bb", "closure", p, 10, 10),
				ratioObs("bb", "satisfaction", p, 10, 10), obs("bb", "repeat", p, 0), obs("bb", "lectures", p, 1), obs("bb", "received", p, 3))
		}
		return append(os, obs("bb", "plan", "2024-01", 1))
	}
	replace := func(os []Observation, with ...Observation) []Observation {
		out := append([]Observation(nil), os...)
		for _, w := range with {
			for i := range out {
				if out[i].Key() == w.Key() {
					out[i] = w
				}
			}
		}
		return out
	}
	tests := []struct {
		name   string
		obs    []Observation
		period string
		now    time.Time
		want   []string
	}{
		{
			name: "nothing fires when everything is on track", obs: full(4), period: "2024-04", now: late,
		},
		{
			name: "behind pace one month is a warning",
			obs:  replace(full(3), obs("bb", "screenings", "2024-03", 0)), period: "2024-03", now: late,
			// 20 < 0.9 × 30
			want: []string{"behind_pace bb screenings warning 2024-03"},
		},
		{
			name:   "behind pace two months running is critical, active since the first",
			obs:    replace(full(4), obs("bb", "screenings", "2024-02", 0), obs("bb", "screenings", "2024-03", 0), obs("bb", "screenings", "2024-04", 0)),
			period: "2024-04", now: late,
			// 10 done by April of 120: even the forecast's upper bound is short of the target,
			// and April is the first month forecast_miss looks at
			want: []string{"behind_pace bb screenings critical 2024-02", "forecast_miss bb screenings warning 2024-04"},
		},
		{
			name: "a ratio at risk warns, and the run continues when it turns critical",
			// Jan 10/10 met; Feb 39/40 = 0.975 at risk; Mar 39/45 = 0.867 behind
			obs:    replace(full(3), ratioObs("bb", "closure", "2024-02", 29, 30), ratioObs("bb", "closure", "2024-03", 0, 5)),
			period: "2024-03", now: late,
			want: []string{"below_threshold bb closure critical 2024-02"},
		},
		{
			name: "a ratio within the margin is a warning",
			obs:  replace(full(2), ratioObs("bb", "closure", "2024-02", 29, 30)),
			// 39/40 = 0.975
			period: "2024-02", now: late,
			want: []string{"below_threshold bb closure warning 2024-02"},
		},
		{
			name: "a ceiling breached is critical",
			obs:  replace(full(3), obs("bb", "repeat", "2024-02", 3)), period: "2024-03", now: late,
			want: []string{"ceiling_breached bb repeat critical 2024-02"},
		},
		{
			name: "a milestone past its due month is behind pace",
			obs:  full(7)[:len(full(7))-1], period: "2024-07", now: late,
			want: []string{"behind_pace bb plan critical 2024-06"},
		},
		{
			name: "a veto is critical from the month it was reported",
			obs:  append(full(5), obs("bb", "incident", "2024-03", 1)), period: "2024-05", now: late,
			want: []string{"veto bb incident critical 2024-03"},
		},
		{
			name: "missing reports after the deadline, including a tracked-only count",
			obs:  full(2), period: "2024-04", now: late,
			// with no reports after February the counts also fall behind their pace from March
			want: []string{
				"behind_pace bb lectures critical 2024-03", "behind_pace bb screenings critical 2024-03",
				"missing_report bb closure warning 2024-03", "missing_report bb homes warning 2024-03",
				"missing_report bb lectures warning 2024-03", "missing_report bb received warning 2024-03",
				"missing_report bb repeat warning 2024-03", "missing_report bb satisfaction warning 2024-03",
				"missing_report bb screenings warning 2024-03",
			},
		},
		{
			name: "no missing report before the deadline has passed",
			obs:  full(2), period: "2024-03",
			// the report for March is due by 5 April, Shanghai time; 5 April 23:00 Shanghai is 15:00 UTC
			now:  time.Date(2024, 4, 5, 15, 0, 0, 0, time.UTC),
			want: []string{"behind_pace bb lectures warning 2024-03", "behind_pace bb screenings warning 2024-03"},
		},
		{
			name: "a missing report becomes overdue with the clock, not with data",
			obs:  full(2), period: "2024-03",
			now: time.Date(2024, 4, 5, 16, 0, 0, 0, time.UTC), // 6 April 00:00 Shanghai
			want: []string{
				"behind_pace bb lectures warning 2024-03", "behind_pace bb screenings warning 2024-03",
				"missing_report bb closure warning 2024-03", "missing_report bb homes warning 2024-03",
				"missing_report bb lectures warning 2024-03", "missing_report bb received warning 2024-03",
				"missing_report bb repeat warning 2024-03", "missing_report bb satisfaction warning 2024-03",
				"missing_report bb screenings warning 2024-03",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dataset(t, a, tc.obs...)
			r := mustEvaluate(t, d, tc.period, tc.now)
			got := filterAlerts(alertLines(r), "bb")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("alerts\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAlertSummariesAndOrder(t *testing.T) {
	a := mustAssessment(t, testConfig())
	d := dataset(t, a, obs("aa", "incident", "2024-01", 1), ratioObs("cc", "closure", "2024-01", 97, 100))
	r := mustEvaluate(t, d, "2024-01", early)
	if len(r.Alerts) < 2 {
		t.Fatalf("got %d alerts, want at least 2", len(r.Alerts))
	}
	if r.Alerts[0].Severity != SeverityCritical {
		t.Errorf("first alert %+v: want critical ones first", r.Alerts[0])
	}
	for _, al := range r.Alerts {
		if al.Summary == "" || al.TownshipName == "" || al.IndicatorName == "" {
			t.Errorf("alert %+v lacks names or summary", al)
		}
	}
	for _, al := range r.Alerts {
		if al.Alert == AlertBelowThreshold && al.Summary != "丙街道“信访办结率”为97.0%（97/100），低于达标线98.0%" {
			t.Errorf("summary = %q", al.Summary)
		}
	}
}

func TestAlertSummariesWriteFiguresInWords(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: loans, name: 巾帼创业贷发放额, unit: 万元, kind: count, weight: 50, target: 300000}
  - {code: visits, name: 走访人次, unit: 人次, kind: count, direction: lower, weight: 50, target: 10000}
`)
	d := dataset(t, a, obs("aa", "loans", "2024-06", 12345.5), obs("aa", "visits", "2024-06", 12345.5))
	r := mustEvaluate(t, d, "2024-06", late)
	want := map[string]string{
		AlertBehindPace:      "甲镇“巾帼创业贷发放额”累计12,345.50万元，低于序时进度150,000.00万元（完成序时进度的8.2%）",
		AlertCeilingBreached: "甲镇“走访人次”累计12,345.5人次，超过控制上限10,000人次",
	}
	got := map[string]string{}
	for _, al := range r.Alerts {
		got[al.Alert] = al.Summary
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s summary\n got %q\nwant %q", name, got[name], w)
		}
	}
}

func TestSortAlertsOrder(t *testing.T) {
	mk := func(name, sev string, tw, ind int) Alert { return Alert{Alert: name, Severity: sev, t: tw, i: ind} }
	want := []Alert{
		mk(AlertVeto, SeverityCritical, 0, 5), mk(AlertBehindPace, SeverityCritical, 2, 1),
		mk(AlertBelowThreshold, SeverityCritical, 2, 3), mk(AlertBehindPace, SeverityWarning, 0, 1),
		mk(AlertForecastMiss, SeverityWarning, 0, 1), mk(AlertMissingReport, SeverityWarning, 0, 1),
		mk(AlertMissingReport, SeverityWarning, 1, 0), mk(AlertMissingReport, SeverityWarning, 3, 2),
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 50; trial++ {
		got := append([]Alert(nil), want...)
		rng.Shuffle(len(got), func(x, y int) { got[x], got[y] = got[y], got[x] })
		got = sortAlerts(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: got %+v\nwant %+v", trial, got, want)
		}
	}
}

// TestBehindPaceInWholePeople: behind_pace in a counting unit writes the pace as the least
// whole number that reaches it and how many are still missing, figures that agree with each
// other: 2 people against a pace of 2.25 is 3 − 2 = 1 short (a percentage of 2.25 would read
// 88.9% beside the 3 written).
func TestBehindPaceInWholePeople(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: spring, name: 春蕾计划资助人数, unit: 人, kind: count, weight: 100, target: 3}
`)
	d := dataset(t, a, obs("aa", "spring", "2024-09", 2))
	r := mustEvaluate(t, d, "2024-09", late)
	want := "甲镇“春蕾计划资助人数”累计2人，低于序时进度3人（还差1人）"
	for _, al := range r.Alerts {
		if al.Alert == AlertBehindPace {
			if !strings.HasPrefix(al.Summary, want) {
				t.Errorf("summary\n got %q\nwant %q…", al.Summary, want)
			}
			return
		}
	}
	t.Errorf("no behind_pace among %+v", r.Alerts)
}
