package kpi_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestReevaluateEqualsAFullEvaluation(t *testing.T) {
	d := scaledDataset(t, 60, 30)
	a := d.Assessment()
	p := kpi.Period{Year: 2024, Month: 7}
	now := time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC)
	prev, err := kpi.Evaluate(d, p, now)
	if err != nil {
		t.Fatal(err)
	}
	// two townships report again: a correction, a new month, a veto
	next := d.Clone()
	var changed []int
	for _, tw := range []int{3, 41} {
		changed = append(changed, tw)
		code := a.Townships[tw].Code
		for i, ind := range a.Indicators {
			o := kpi.Observation{Township: code, Indicator: ind.Code, Period: kpi.Period{Year: 2024, Month: 1 + i%7}}
			switch ind.Kind {
			case kpi.KindRatio:
				o.Numerator, o.Denominator = 1, 4
			case kpi.KindMilestone, kpi.KindVeto:
				o.Value = 1
			default:
				o.Value = float64(500 * (i + 1))
			}
			if err := next.Set(o); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := kpi.Reevaluate(prev, next, changed)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kpi.Evaluate(next, p, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Evaluations(), want.Evaluations()) {
		t.Error("evaluations differ")
	}
	if !reflect.DeepEqual(got.Rankings, want.Rankings) || !reflect.DeepEqual(got.Townships, want.Townships) {
		t.Error("scores or rankings differ")
	}
	if !reflect.DeepEqual(got.County, want.County) {
		t.Error("county differs")
	}
	if !reflect.DeepEqual(got.Alerts, want.Alerts) {
		t.Errorf("alerts differ: %d vs %d", len(got.Alerts), len(want.Alerts))
	}
	// the townships that did not report share their evaluations with the earlier result
	if &got.TownshipEvaluations(0)[0] != &prev.TownshipEvaluations(0)[0] {
		t.Error("an untouched township's evaluations were copied, not shared")
	}
	if &got.TownshipEvaluations(3)[0] == &prev.TownshipEvaluations(3)[0] {
		t.Error("a changed township's evaluations are the earlier result's")
	}
	if reflect.DeepEqual(prev.Rankings, want.Rankings) {
		t.Error("the change did not change the ranking; the test proves nothing")
	}
	// the earlier result and data are untouched
	again, _ := kpi.Evaluate(d, p, now)
	if !reflect.DeepEqual(prev.Evaluations(), again.Evaluations()) || !reflect.DeepEqual(prev.Alerts, again.Alerts) {
		t.Error("Reevaluate or Clone+Set modified the earlier version")
	}
}

// BenchmarkReevaluateOneTownship measures the work after one township's monthly report at
// province scale, beside BenchmarkEvaluatePeriod's full evaluation.
func BenchmarkReevaluateOneTownship(b *testing.B) {
	d := scaledDataset(b, 2000, 40)
	a := d.Assessment()
	p := kpi.Period{Year: 2024, Month: 6}
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	prev, err := kpi.Evaluate(d, p, now)
	if err != nil {
		b.Fatal(err)
	}
	next := d.Clone()
	code := a.Townships[777].Code
	for _, ind := range a.Indicators {
		if ind.Kind == kpi.KindCount {
			next.Set(kpi.Observation{Township: code, Indicator: ind.Code, Period: p, Value: 3})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := kpi.Reevaluate(prev, next, []int{777}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParallelEvaluationEqualsOneTownshipAtATime(t *testing.T) {
	// enough townships for several workers; Reevaluate of every township runs them one by one
	d := scaledDataset(t, 1100, 12)
	p := kpi.Period{Year: 2024, Month: 9}
	now := time.Date(2024, 10, 20, 0, 0, 0, 0, time.UTC)
	par, err := kpi.Evaluate(d, p, now)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, len(d.Assessment().Townships))
	for i := range all {
		all[i] = i
	}
	seq, err := kpi.Reevaluate(par, d, all)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(par.Evaluations(), seq.Evaluations()) || !reflect.DeepEqual(par.Rankings, seq.Rankings) ||
		!reflect.DeepEqual(par.Alerts, seq.Alerts) || !reflect.DeepEqual(par.County, seq.County) {
		t.Error("the parallel evaluation differs from a township-by-township one")
	}
	if len(par.Alerts) == 0 {
		t.Error("no alerts: the comparison proves little")
	}
}
