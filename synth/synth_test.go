package synth

import (
	"bytes"
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
