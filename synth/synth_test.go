package synth

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

func TestGeneratedAssessmentIsValidAndDeterministic(t *testing.T) {
	s := Spec{Townships: 12, Indicators: 20, Months: 6, Seed: 7}
	cfg, err := Config(s)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings: %v", a.Warnings)
	}
	kinds := map[kpi.Kind]bool{}
	for _, ind := range a.Indicators {
		kinds[ind.Kind] = true
	}
	if len(kinds) != 6 {
		t.Errorf("kinds %v, want all six", kinds)
	}
	var one, two bytes.Buffer
	n, err := WriteCSV(&one, a, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSV(&two, a, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Error("the same seed gave different files")
	}
	var other bytes.Buffer
	WriteCSV(&other, a, Spec{Townships: 12, Indicators: 20, Months: 6, Seed: 8})
	if bytes.Equal(one.Bytes(), other.Bytes()) {
		t.Error("another seed gave the same file")
	}
	b := collector.NewBatch(a)
	b.AddCSV("synth.csv", strings.NewReader(one.String()))
	if err := b.Err(); err != nil {
		t.Fatalf("the generated CSV does not validate: %v", err)
	}
	if len(b.Observations()) != n || n != 12*20*6 {
		t.Errorf("collector read %d rows, generator wrote %d; want every township × indicator × month, %d", len(b.Observations()), n, 12*20*6)
	}
	d := kpi.NewDataset(a)
	for _, o := range b.Observations() {
		d.Set(o)
	}
	r, err := kpi.Evaluate(d, kpi.Period{Year: 2024, Month: 6}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[kpi.Status]int{}
	for _, e := range r.Evaluations() {
		statuses[e.Status]++
	}
	for _, st := range []kpi.Status{kpi.StatusMet, kpi.StatusOnTrack, kpi.StatusAtRisk, kpi.StatusBehind} {
		if statuses[st] == 0 {
			t.Errorf("no evaluation is %s: %v", st, statuses)
		}
	}
}

func TestNoisyYear(t *testing.T) {
	s := Spec{Townships: 20, Indicators: 20, Months: 12, Seed: 3, Noise: 0.3}
	cfg, err := Config(s)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	seasonal, baselines := 0, 0
	for _, ind := range a.Indicators {
		if ind.Pacing.Name == "custom" {
			seasonal++
		}
		if ind.Baseline > 0 {
			baselines++
		}
	}
	if seasonal == 0 || baselines == 0 {
		t.Errorf("a noisy config has %d seasonal counts and %d stocks with a baseline; want some of each", seasonal, baselines)
	}
	plain, _ := Config(Spec{Townships: 20, Indicators: 20, Months: 12, Seed: 3})
	if bytes.Contains(plain, []byte("baseline")) || bytes.Contains(plain, []byte("pacing")) {
		t.Error("the plain config changed: benchmarks compare against it")
	}
	d := kpi.NewDataset(a)
	var one, two bytes.Buffer
	if _, err := WriteCSV(&one, a, s); err != nil {
		t.Fatal(err)
	}
	WriteCSV(&two, a, s)
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Error("the same seed gave different noisy years")
	}
	if err := Generate(a, s, d.Set); err != nil {
		t.Fatal(err)
	}
	// the townships differ, and a few months are missed (reported with the next)
	if d.Len() >= 20*20*12 {
		t.Errorf("%d observations: no month was missed", d.Len())
	}
	r, err := kpi.Evaluate(d, kpi.Period{Year: 2024, Month: 12}, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range r.Rankings {
		lo, hi = min(lo, x.Total), max(hi, x.Total)
	}
	if hi-lo < 10 {
		t.Errorf("totals span %.1f … %.1f: the townships hardly differ", lo, hi)
	}
	if err := (Spec{Townships: 1, Indicators: 6, Months: 1, Noise: 1.5}).Validate(); err == nil {
		t.Error("noise 1.5 was accepted")
	}
}
