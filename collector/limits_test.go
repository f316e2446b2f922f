package collector

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// badRowsCSV is about size bytes of CSV in which every row is wrong, each in its own way
// (a misspelt township seen once, a word for a number, a month that does not exist, a
// negative count), and no two alike, so that no two errors can be told as one. It returns the text and the
// number of rows.
func badRowsCSV(size int) ([]byte, int) {
	var buf bytes.Buffer
	buf.Grow(size + 64)
	buf.WriteString("township,indicator,period,value\n")
	n := 0
	for buf.Len() < size {
		switch n % 4 {
		case 0:
			fmt.Fprintf(&buf, "zz%07d,screenings,2024-01,1\n", n)
		case 1:
			fmt.Fprintf(&buf, "aa,screenings,2024-02,x%d\n", n)
		case 2:
			fmt.Fprintf(&buf, "bb,screenings,2024-%d,1\n", 13+n)
		case 3:
			fmt.Fprintf(&buf, "aa,screenings,2024-03,-%d\n", n)
		}
		n++
	}
	return buf.Bytes(), n
}

// heapCost runs f and reports the peak of the heap's object bytes (live or not yet
// collected) above what was there before, sampled every millisecond, the bytes f
// allocated in all, and how long it took.
func heapCost(f func()) (peak, allocated uint64, elapsed time.Duration) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := heap()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var mu sync.Mutex
	top := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				h := heap()
				mu.Lock()
				top = max(top, h)
				mu.Unlock()
			}
		}
	}()
	start := time.Now()
	f()
	elapsed = time.Since(start)
	close(done)
	wg.Wait()
	top = max(top, heap())
	runtime.ReadMemStats(&after)
	return top - base, after.TotalAlloc - before.TotalAlloc, elapsed
}

// A trial upload of 31 MB of bad rows once held 13 GB and answered 1.9 GB of JSON: the
// errors are capped, and the rest of the file is only counted.
func TestLargeFileOfBadRowsIsCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 31 MB")
	}
	a := testAssessment(t)
	data, rows := badRowsCSV(31 << 20)
	var err error
	peak, allocated, elapsed := heapCost(func() {
		b := NewBatch(a)
		b.AddBytes("bad.csv", data)
		err = b.Err()
	})
	t.Logf("%d bad rows (%d MB): peak heap +%d MB, %d MB allocated, %v", rows, len(data)>>20, peak>>20, allocated>>20, elapsed.Round(time.Millisecond))
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a BatchError", err)
	}
	if len(be.Errors) != MaxListedErrors || be.Count() != rows || be.More != rows-MaxListedErrors {
		t.Errorf("listed %d, more %d, count %d; want %d listed of %d", len(be.Errors), be.More, be.Count(), MaxListedErrors, rows)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, fmt.Sprintf("%d 处错误，本批数据未写入\n", rows)) ||
		!strings.HasSuffix(msg, fmt.Sprintf("\n另有 %d 处错误未列出", rows-MaxListedErrors)) || len(msg) > 200_000 {
		t.Errorf("message of %d bytes: %.200s … %s", len(msg), msg, msg[max(0, len(msg)-100):])
	}
	if peak > 100<<20 {
		t.Errorf("peak heap grew by %d MB, want well under 200 MB (at most 100)", peak>>20)
	}
	if elapsed > 20*time.Second {
		t.Errorf("took %v, want a few seconds", elapsed)
	}
}

// The same for JSON: the document is checked whole, then its items are cut out of it one
// at a time, not decoded into a slice of copies.
func TestLargeJSONOfBadRowsIsCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 31 MB")
	}
	a := testAssessment(t)
	var buf bytes.Buffer
	buf.WriteString("[")
	rows := 0
	for buf.Len() < 31<<20 {
		if rows > 0 {
			buf.WriteString(",\n")
		}
		fmt.Fprintf(&buf, `{"township":"zz%07d","indicator":"screenings","period":"2024-01","value":"x%d"}`, rows, rows)
		rows++
	}
	buf.WriteString("]")
	data := buf.Bytes()
	var err error
	peak, allocated, elapsed := heapCost(func() {
		b := NewBatch(a)
		b.AddBytes("bad.json", data)
		err = b.Err()
	})
	t.Logf("%d bad objects (%d MB): peak heap +%d MB, %d MB allocated, %v", rows, len(data)>>20, peak>>20, allocated>>20, elapsed.Round(time.Millisecond))
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errors) != MaxListedErrors || be.Count() != 2*rows {
		t.Fatalf("got %d errors listed of %d, want %d of %d (two per object)", len(be.Errors), be.Count(), MaxListedErrors, 2*rows)
	}
	if peak > 100<<20 {
		t.Errorf("peak heap grew by %d MB, want well under 200 MB (at most 100)", peak>>20)
	}
}

func TestStreamedBatchCapsErrorsToo(t *testing.T) {
	a := testAssessment(t)
	data, rows := badRowsCSV(200_000)
	b := NewBatch(a)
	streamed := 0
	b.Stream(100, func(obs []kpi.Observation) error { streamed += len(obs); return nil })
	b.AddBytes("bad.csv", data)
	b.Flush()
	var be *BatchError
	if !errors.As(b.Err(), &be) || len(be.Errors) != MaxListedErrors || be.Count() != rows || streamed != 0 {
		t.Errorf("streamed %d; errors %d listed of %d, want %d of %d", streamed, len(be.Errors), be.Count(), MaxListedErrors, rows)
	}
}

// BenchmarkAddCSVBadRows reads 31 MB of bad rows and reports the heap's peak growth.
func BenchmarkAddCSVBadRows(b *testing.B) {
	a := testAssessment(b)
	data, _ := badRowsCSV(31 << 20)
	b.SetBytes(int64(len(data)))
	var worst uint64
	for b.Loop() {
		peak, _, _ := heapCost(func() {
			bt := NewBatch(a)
			bt.AddBytes("bad.csv", data)
			if bt.Err() == nil {
				b.Fatal("no error")
			}
		})
		worst = max(worst, peak)
	}
	b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MB")
}
