package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// benchRows is the size of the ingest benchmark: KPIMON_BENCH_ROWS observations (default
// 100,000; bench/run uses 1,000,000).
func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("KPIMON_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

// writeSynthetic writes a synthetic assessment with about rows observations to dir.
func writeSynthetic(tb testing.TB, dir string, rows int) (config, csvPath string) {
	tb.Helper()
	// 40 indicators × 12 months = 480 observations per township
	spec := synth.Spec{Townships: max(1, rows/480), Indicators: 40, Months: 12, Seed: 1}
	cfg, err := synth.Config(spec)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := kpi.ParseConfig("config.yaml", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	config, csvPath = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "observations.csv")
	if err := os.WriteFile(config, cfg, 0o644); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := synth.WriteCSV(&buf, a, spec); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(csvPath, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return config, csvPath
}

// BenchmarkIngestCSV ingests a synthetic CSV into a fresh database through the CLI path:
// parse, validate, write in one transaction.
func BenchmarkIngestCSV(b *testing.B) {
	dir := b.TempDir()
	config, csvPath := writeSynthetic(b, dir, benchRows())
	st, _ := os.Stat(csvPath)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := filepath.Join(dir, "bench"+strconv.Itoa(i)+".db")
		b.StartTimer()
		if err := run(context.Background(), []string{"ingest", "--config", config, "--db", db, csvPath}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(db)
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
		b.StartTimer()
	}
}
