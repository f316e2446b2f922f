package collector

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// syntheticCSV is a valid long-form CSV of about rows observations (40 indicators of every
// kind × 12 months per township) with its assessment, as the CLI's ingest benchmark uses.
func syntheticCSV(tb testing.TB, rows int) (*kpi.Assessment, []byte) {
	tb.Helper()
	spec := synth.Spec{Townships: max(1, rows/480), Indicators: 40, Months: 12, Seed: 1}
	cfg, err := synth.Config(spec)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := kpi.ParseConfig("config.yaml", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := synth.WriteCSV(&buf, a, spec); err != nil {
		tb.Fatal(err)
	}
	return a, buf.Bytes()
}

// BenchmarkAddCSV parses and validates a 100,000-row CSV in streaming mode, as `kpimon
// ingest` does, without a database.
func BenchmarkAddCSV(b *testing.B) {
	a, data := syntheticCSV(b, 100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		bt := NewBatch(a)
		n := 0
		bt.Stream(16384, func(obs []kpi.Observation) error { n += len(obs); return nil })
		bt.AddBytes("bench.csv", data)
		bt.Flush()
		if err := bt.Err(); err != nil || n == 0 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
}

// syntheticJSON is syntheticCSV's observations as a JSON array.
func syntheticJSON(tb testing.TB, rows int) (*kpi.Assessment, []byte) {
	tb.Helper()
	a, data := syntheticCSV(tb, rows)
	b := NewBatch(a)
	b.AddBytes("synthetic.csv", data)
	if err := b.Err(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, o := range b.Observations() {
		if i > 0 {
			buf.WriteString(",\n")
		}
		ind, _ := a.Indicator(o.Indicator)
		if ind.Kind == kpi.KindRatio {
			fmt.Fprintf(&buf, `{"township":%q,"indicator":%q,"period":%q,"numerator":%v,"denominator":%v}`, o.Township, o.Indicator, o.Period, o.Numerator, o.Denominator)
		} else {
			fmt.Fprintf(&buf, `{"township":%q,"indicator":%q,"period":%q,"value":%v}`, o.Township, o.Indicator, o.Period, o.Value)
		}
	}
	buf.WriteString("]")
	return a, buf.Bytes()
}

// BenchmarkAddJSON parses and validates the same observations as BenchmarkAddCSV sent as
// a JSON array, keeping the rows as the API does.
func BenchmarkAddJSON(b *testing.B) {
	a, data := syntheticJSON(b, 100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		bt := NewBatch(a)
		bt.AddBytes("bench.json", data)
		if err := bt.Err(); err != nil || bt.Len() == 0 {
			b.Fatalf("%d rows, %v", bt.Len(), err)
		}
	}
}
