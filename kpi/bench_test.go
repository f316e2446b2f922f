package kpi_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// scaledDataset builds a synthetic assessment of the given size with twelve months of data.
func scaledDataset(tb testing.TB, townships, indicators int) *kpi.Dataset {
	tb.Helper()
	spec := synth.Spec{Townships: townships, Indicators: indicators, Months: 12, Seed: 1}
	cfg, err := synth.Config(spec)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	d := kpi.NewDataset(a)
	if err := synth.Generate(a, spec, d.Set); err != nil {
		tb.Fatal(err)
	}
	return d
}

// BenchmarkEvaluatePeriod evaluates and ranks one period (June, so ranks change from May
// and alerts run back through earlier months) from warm state: the data in memory.
func BenchmarkEvaluatePeriod(b *testing.B) {
	for _, sc := range []struct {
		name                  string
		townships, indicators int
	}{
		{"county_10x30", 10, 30},
		{"province_2000x40", 2000, 40},
		{"national_38602x40", 38602, 40},
	} {
		b.Run(sc.name, func(b *testing.B) {
			if sc.townships > 10000 && os.Getenv("KPIMON_BENCH_NATIONAL") == "" {
				b.Skip("national scale takes minutes and gigabytes: set KPIMON_BENCH_NATIONAL=1 (bench/run does)")
			}
			d := scaledDataset(b, sc.townships, sc.indicators)
			p := kpi.Period{Year: 2024, Month: 6}
			now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
			// warm state, as in a running server: the data in memory and one evaluation done
			// (the first one also grows the heap to its working size)
			if _, err := kpi.Evaluate(d, p, now); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := kpi.Evaluate(d, p, now)
				if err != nil || len(r.Rankings) != sc.townships {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.Len()), "observations")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), "MB_sys")
		})
	}
}

func ExampleEvaluate() {
	a, _ := kpi.ParseConfig("example.yaml", []byte(`name: 示例
year: 2024
townships: [{code: lingxi, name: 灵溪镇}]
indicators: [{code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 300}]
`))
	d := kpi.NewDataset(a)
	d.Set(kpi.Observation{Township: "lingxi", Indicator: "screenings", Period: kpi.MustPeriod("2024-06"), Value: 140})
	r, _ := kpi.Evaluate(d, kpi.MustPeriod("2024-06"), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
	e := r.Evaluations()[0]
	fmt.Println(e.Actual.V, e.Expected.V, e.Status, e.Score.V, r.Rankings[0].Grade)
	// Output: 140 150 at_risk 93.33 优秀
}

// yearDataset is scaledDataset for another year (Seed differs, so the figures do).
func yearDataset(tb testing.TB, townships, indicators, year int) *kpi.Dataset {
	tb.Helper()
	spec := synth.Spec{Townships: townships, Indicators: indicators, Months: 12, Seed: uint64(year), Year: year}
	cfg, err := synth.Config(spec)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := kpi.ParseConfig("synth.yaml", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	d := kpi.NewDataset(a)
	if err := synth.Generate(a, spec, d.Set); err != nil {
		tb.Fatal(err)
	}
	return d
}

// BenchmarkLastYear measures 同比 at province scale (2,000 × 40): attaching last year's
// result to this year's (WithLastYear), and writing the JSON of every evaluation with and
// without it.
func BenchmarkLastYear(b *testing.B) {
	cur, prev := yearDataset(b, 2000, 40, 2025), yearDataset(b, 2000, 40, 2024)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	r, err := kpi.Evaluate(cur, kpi.Period{Year: 2025, Month: 6}, now)
	if err != nil {
		b.Fatal(err)
	}
	last, err := kpi.Evaluate(prev, kpi.Period{Year: 2024, Month: 6}, now)
	if err != nil {
		b.Fatal(err)
	}
	with, err := r.WithLastYear(last)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("attach", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.WithLastYear(last); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		r    *kpi.Result
	}{{"json_plain", r}, {"json_with_last_year", with}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.r.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
