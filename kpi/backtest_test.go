package kpi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// demoYear is the bundled demo's year of reports, loaded through the collector.
func demoYear(t *testing.T) *kpi.Dataset {
	t.Helper()
	a, err := demo.Assessment()
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	for _, r := range demo.Reports(a) {
		b := collector.NewBatch(a)
		b.AddCSV(r.Name, bytes.NewReader(r.CSV))
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Observations() {
			if err := d.Set(o); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// noisyYear is `kpimon gen --townships 40 --indicators 30 --noise 0.3 --seed 1`.
func noisyYear(t *testing.T) *kpi.Dataset {
	t.Helper()
	spec := synth.Spec{Townships: 40, Indicators: 30, Months: 12, Seed: 1, Noise: 0.3}
	cfg, err := synth.Config(spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	if err := synth.Generate(a, spec, d.Set); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBacktestTheForecastWins holds the forecast to what docs/forecast.md reports: on the
// demo's year and on a noisy generated one, kpimon's median error is no larger than the
// profile run rate's in any month 3 … 11, and low–high holds December's actual in 70–90% of
// cases.
func TestBacktestTheForecastWins(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(*testing.T) *kpi.Dataset
	}{{"demo", demoYear}, {"noisy year", noisyYear}} {
		t.Run(tc.name, func(t *testing.T) {
			bt, err := kpi.RunBacktest(tc.data(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(bt.Months) != 9 || bt.Months[0].Month != 3 || bt.Months[8].Month != 11 {
				t.Fatalf("months %+v, want 3 … 11", bt.Months)
			}
			for _, m := range bt.Months {
				if !m.MedianAPE.Valid || !m.RunRateMedianAPE.Valid || !m.Coverage.Valid {
					t.Fatalf("month %d: %+v", m.Month, m.BacktestLine)
				}
				if m.MedianAPE.V > m.RunRateMedianAPE.V {
					t.Errorf("month %d: median error %.5f, above the run rate's %.5f", m.Month, m.MedianAPE.V, m.RunRateMedianAPE.V)
				}
				if m.Coverage.V < 0.7 || m.Coverage.V > 0.9 {
					t.Errorf("month %d: coverage %.3f, want 0.7 … 0.9", m.Month, m.Coverage.V)
				}
			}
		})
	}
}

func TestBacktestOfAnExactYear(t *testing.T) {
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}, {code: bb, name: 乙镇}]
indicators:
  - {code: x, name: X, kind: count, weight: 50, target: 120}
  - {code: r, name: R, kind: ratio, weight: 50, threshold: 0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		d.Set(kpi.Observation{Township: "aa", Indicator: "x", Period: p, Value: 10})
		d.Set(kpi.Observation{Township: "bb", Indicator: "x", Period: p, Value: 0})
		d.Set(kpi.Observation{Township: "aa", Indicator: "r", Period: p, Numerator: 9, Denominator: 10})
	}
	bt, err := kpi.RunBacktest(d)
	if err != nil {
		t.Fatal(err)
	}
	// every month: aa's count runs at exactly 10 a month and its ratio at exactly 90%, so
	// both forecasts are exact; bb's count ends at 0 (no error to divide by) and is held
	for _, m := range bt.Months {
		if m.Cases != 3 || m.ZeroDecember != 1 || m.MedianAPE.V > 1e-12 || m.RunRateMedianAPE.V > 1e-12 || m.Coverage.V != 1 {
			t.Errorf("month %d: %+v", m.Month, m.BacktestLine)
		}
	}
	// the JSON has the figures, and null where a line has none
	b, err := json.Marshal(bt.Months[len(bt.Months)-1])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"month":11,"cases":3,"zero_december":1,"median_ape":0,"run_rate_median_ape":0,"coverage":1,"kinds":[{"kind":"count","cases":2,"zero_december":1,"median_ape":0,"run_rate_median_ape":0,"coverage":1},{"kind":"ratio","cases":1,"zero_december":0,"median_ape":0,"run_rate_median_ape":0,"coverage":1}]}`; string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}
