package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/metrics"
)

// servedFixture is the access fixture served as `kpimon serve` does: the API, the pages at
// "/" and /metrics.
func servedFixture(t *testing.T, opt Options) (*accessFixture, *Server, *httptest.Server) {
	t.Helper()
	f := newAccessFixture(t)
	srv := NewWithOptions(f.mon, opt)
	pages, err := charts.NewHandler(f.mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("/", pages)
	exp, err := metrics.New(context.Background(), f.mon, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(exp); err != nil {
		t.Fatal(err)
	}
	srv.Handle("GET /metrics", exp.Handler(reg))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return f, srv, ts
}

func TestWrongMethodsAre405WithAllow(t *testing.T) {
	_, srv, ts := servedFixture(t, Options{})
	// the pages' routes (package charts), by an example path each
	pages := map[string]string{"/": "/", "/townships/{code}": "/townships/aa", "/indicators/{code}": "/indicators/screenings",
		"/rankings": "/rankings", "/rankings.csv": "/rankings.csv", "/alerts": "/alerts", "/assets/{name}": "/assets/kpimon.js"}
	type route struct {
		path    string   // an example path
		methods []string // the methods it takes
	}
	var all []route
	for p := range pages {
		all = append(all, route{pages[p], []string{"GET"}})
	}
	// every route the server registered, whatever it is: none can be left out of this test
	srv.routes.mu.Lock()
	for p, ms := range srv.routes.methods {
		ex := strings.NewReplacer("{secret}", "kpl_x", "{code}", "aa").Replace(p)
		all = append(all, route{ex, slices.Clone(ms)})
	}
	srv.routes.mu.Unlock()
	if len(all) < 27 {
		t.Fatalf("only %d routes found", len(all))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, rt := range all {
		want := slices.Clone(rt.methods)
		if slices.Contains(want, "GET") {
			want = append(want, "HEAD")
		}
		slices.Sort(want)
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"} {
			if slices.Contains(want, m) {
				continue
			}
			t.Run(m+" "+rt.path, func(t *testing.T) {
				req, _ := http.NewRequest(m, ts.URL+rt.path, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Fatalf("status %d, want 405", resp.StatusCode)
				}
				if got := resp.Header.Get("Allow"); got != strings.Join(want, ", ") {
					t.Errorf("Allow %q, want %q", got, strings.Join(want, ", "))
				}
				if m != "HEAD" && !strings.Contains(string(body), "不支持 "+m+" 请求") {
					t.Errorf("body %q is not the Chinese message", body)
				}
			})
		}
	}
}

func TestUnknownPathsAre404InChinese(t *testing.T) {
	f := newAccessFixture(t) // the API alone, no pages mounted
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/nothing", "没有这个接口"},
		{"/nothing", "找不到这个页面"},
	} {
		resp, body := f.do(t, "GET", tc.path, "", "", "")
		if resp.StatusCode != 404 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d %q, want 404 with %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}
}

// trickle sends a request whose body arrives a byte a second, and returns the status line
// of the answer and how long it took.
func trickle(t *testing.T, addr, head string, bodyLen int) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n", head, bodyLen)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for range bodyLen {
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(status), time.Since(start)
}

func TestTricklingBodyIsCut(t *testing.T) {
	f, _, ts := servedFixture(t, Options{BodyTimeout: 2 * time.Second})
	addr := strings.TrimPrefix(ts.URL, "http://")
	br := newBrowser(t, ts.URL)
	sessionCookie(t, br, f.aa)
	u := ts.URL
	cookies := br.c.Jar.Cookies(mustURL(u))
	tests := []struct {
		name, head string
	}{
		{"API", "POST /api/v1/observations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.aa + "\r\nContent-Type: text/csv\r\n"},
		{"upload page", "POST /upload HTTP/1.1\r\nHost: x\r\nCookie: " + cookies[0].Name + "=" + cookies[0].Value + "\r\nContent-Type: multipart/form-data; boundary=b\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, took := trickle(t, addr, tc.head, 60)
			if !strings.Contains(status, "408") {
				t.Errorf("answer %q, want 408", status)
			}
			if took < 2*time.Second || took > 6*time.Second {
				t.Errorf("answered after %v, want soon after the 2 s limit", took)
			}
		})
	}
	// a body that arrives in time is read as before, on the same server
	resp, body := f.do(t, "POST", "/api/v1/observations", f.aa, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,10\n")
	if resp.StatusCode != 200 {
		t.Errorf("a prompt body: %d %s", resp.StatusCode, body)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
