package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/server/builds"
)

// gatedFixture is the access fixture served with the pages, all sharing one build gate.
func gatedFixture(t *testing.T, concurrency int, wait time.Duration) (*accessFixture, *builds.Gate, *httptest.Server) {
	t.Helper()
	f := newAccessFixture(t)
	g := builds.New(concurrency, wait)
	srv := NewWithOptions(f.mon, Options{Builds: g})
	pages, err := charts.NewHandler(f.mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages.SetBuildGate(srv.BuildGate())
	srv.Handle("/", pages)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv",
		"township,indicator,period,value\naa,screenings,2024-01,10\nbb,screenings,2024-02,3\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	return f, g, ts
}

// holdSlots fills every slot of the gate with builds that last until the returned function
// is called.
func holdSlots(t *testing.T, g *builds.Gate, n int) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	before := g.Builds()
	for i := range n {
		go g.Do(context.Background(), fmt.Sprint("blocker ", i), func(context.Context) (any, error) { <-ch; return nil, nil })
	}
	for end := time.Now().Add(2 * time.Second); g.Builds() < before+int64(n); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the blockers did not start")
		}
	}
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}

func TestExpensiveBuildsAreBuiltOnce(t *testing.T) {
	_, g, ts := gatedFixture(t, 2, 10*time.Second)
	const n = 8
	for _, path := range []string{"/rankings/bulletin.xlsx?period=2024-02", "/rankings/bulletin.html?period=2024-02", "/rankings?period=2024-02", "/rankings.csv?period=2024-02", "/townships/aa"} {
		t.Run(path, func(t *testing.T) {
			release := holdSlots(t, g, 2) // the builds queue behind these, so the requests all overlap
			before, callers := g.Builds(), g.Callers()
			var wg sync.WaitGroup
			bodies := make([]string, n)
			for i := range n {
				wg.Go(func() {
					resp, err := http.Get(ts.URL + path)
					if err != nil {
						t.Error(err)
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("status %d", resp.StatusCode)
					}
					bodies[i] = string(b)
				})
			}
			for end := time.Now().Add(5 * time.Second); g.Callers() < callers+n; time.Sleep(time.Millisecond) {
				if time.Now().After(end) {
					t.Fatalf("%d requests waiting at the gate, want %d", g.Callers()-callers, n)
				}
			}
			release()
			wg.Wait()
			if built := g.Builds() - before; built != 1 {
				t.Errorf("%d builds for %d concurrent requests, want 1", built, n)
			}
			for i := range bodies {
				if bodies[i] != bodies[0] || bodies[i] == "" {
					t.Errorf("request %d got another answer", i)
				}
			}
		})
	}
}

func TestBuildsBeyondTheBoundAre503(t *testing.T) {
	_, g, ts := gatedFixture(t, 2, 100*time.Millisecond)
	holdSlots(t, g, 2)
	for _, tc := range []struct{ path, want string }{
		{"/rankings/bulletin.xlsx?period=2024-02", "请几秒后重试"},
		{"/rankings?period=2024-02", "请几秒后刷新"},
		{"/rankings.csv?period=2024-02", "请几秒后刷新"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			start := time.Now()
			resp, err := http.Get(ts.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), tc.want) {
				t.Errorf("status %d, Retry-After %q, body %s: want 503 with Retry-After and %q", resp.StatusCode, resp.Header.Get("Retry-After"), b, tc.want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refused after %v; the wait is 100ms", took)
			}
		})
	}
	if g.Peak() > 2 {
		t.Errorf("%d builds ran at once, want at most 2", g.Peak())
	}
}
