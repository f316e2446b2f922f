package charts

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// demoPages are the served pages at the demo's scale: every kind, every township and
// indicator.
func demoPages(b *testing.B, h *Handler) []string {
	a := h.mon.Assessment()
	urls := []string{"/", "/rankings", "/alerts"}
	for _, t := range a.Townships {
		urls = append(urls, "/townships/"+t.Code)
	}
	for _, ind := range a.Indicators {
		urls = append(urls, "/indicators/"+ind.Code)
	}
	return urls
}

// reportLatency reports the 50th and 99th percentile and the maximum of the durations.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[min(len(d)-1, int(p*float64(len(d))))].Nanoseconds()) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(d[len(d)-1].Nanoseconds())/1e6, "max-ms")
}

// BenchmarkPages measures pages at the demo's scale (清城区: 8 townships × 34 indicators, a
// year of reports) through the handler, as a browser asks for them (gzip accepted):
//
//   - cached: the pages as served between two changes of the data;
//   - http: the same from a real server on 127.0.0.1 (httptest.NewServer), read whole;
//   - render: a page not yet rendered since the data changed (its cached page dropped
//     first): the charts built from the period's snapshot and the page rendered;
//   - change: the first page after a change of the data (every cache dropped first): the
//     snapshot taken too (the evaluations of months 1 … 12 from the monitor, the last report
//     times from the database).
//
// Each reports the 99th percentile latency of a request (p99-ms); the target is 20 ms.
func BenchmarkPages(b *testing.B) {
	mon := demoMonitor(b)
	h, err := NewHandler(mon, nil)
	if err != nil {
		b.Fatal(err)
	}
	urls := demoPages(b, h)
	serve := func(url string) {
		req := httptest.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", url, rec.Code)
		}
	}
	for _, u := range urls { // warm the monitor's evaluations
		serve(u)
	}
	b.Run("cached", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			serve(urls[i%len(urls)])
			d = append(d, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, d)
	})
	uncached := func(all bool) func(b *testing.B) {
		return func(b *testing.B) {
			d := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				h.mu.Lock()
				clear(h.cache)
				if all {
					clear(h.snaps)
					h.reports = lastReports{}
				}
				h.mu.Unlock()
				b.StartTimer()
				start := time.Now()
				serve(urls[i%len(urls)])
				d = append(d, time.Since(start))
			}
			b.StopTimer()
			reportLatency(b, d)
		}
	}
	// The same cached pages from a real server on loopback, over one kept-alive connection.
	b.Run("http", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := srv.Client()
		d := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+urls[i%len(urls)], nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", urls[i%len(urls)], resp.StatusCode)
			}
			d = append(d, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, d)
	})
	b.Run("render", uncached(false))
	b.Run("change", uncached(true))
	// The render cost by kind of page.
	all := urls
	for _, kind := range []struct{ name, prefix string }{
		{"overview", "/"}, {"township", "/townships/"}, {"indicator", "/indicators/"}, {"rankings", "/rankings"}, {"alerts", "/alerts"},
	} {
		urls = nil
		for _, u := range all {
			if u == kind.prefix || (strings.HasSuffix(kind.prefix, "/") && kind.prefix != "/" && strings.HasPrefix(u, kind.prefix)) {
				urls = append(urls, u)
			}
		}
		b.Run("render-"+kind.name, uncached(false))
	}
}
