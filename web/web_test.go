package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

func county(t *testing.T, id string, year int, towns string) *kpi.Assessment {
	t.Helper()
	a, err := kpi.ParseConfig(id+".yaml", []byte(fmt.Sprintf(`name: %s
year: %d
townships: [%s]
indicators: [{code: x, name: 筛查, kind: count, weight: 100, target: 120}]
`, id, year, towns)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type fixture struct {
	rt  *Router
	ts  *httptest.Server
	st  *sqlite.DB
	dep *monitor.Deployment
}

func newFixture(t *testing.T, as ...*kpi.Assessment) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	dep, err := monitor.NewDeployment(ctx, st, as, monitor.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := New(dep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(rt)
	t.Cleanup(ts.Close)
	return &fixture{rt: rt, ts: ts, st: st, dep: dep}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) do(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/csv")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestRouting: two counties of 2026 sharing a township code, and one of them in 2025.
func TestRouting(t *testing.T) {
	qc := "{code: dongcheng, name: 东城街道}, {code: shijiao, name: 石角镇}"
	fg := "{code: shijiao, name: 石角镇}, {code: tangtang, name: 汤塘镇}"
	f := newFixture(t, county(t, "qc-2025", 2025, qc), county(t, "qc-2026", 2026, qc), county(t, "fg-2026", 2026, fg))
	ctx := context.Background()
	tok := func(n store.NewToken) string {
		_, s, err := f.st.AddToken(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	qcShijiao := tok(store.NewToken{Assessment: "qc-2026", Name: "清城石角", Township: "shijiao"})
	fgShijiao := tok(store.NewToken{Assessment: "fg-2026", Name: "佛冈石角", Township: "shijiao"})

	// / is a chooser: two assessments share this year
	if resp, body := f.do(t, "GET", "/", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `href="/qc-2026/"`) || !strings.Contains(body, `href="/fg-2026/"`) {
		t.Errorf("/: %d, want the chooser linking every assessment", resp.StatusCode)
	}
	// each assessment's pages under its id, linking under it
	if resp, body := f.do(t, "GET", "/fg-2026/", "", ""); resp.StatusCode != 200 || !strings.Contains(body, "/fg-2026/townships/shijiao?period=") {
		t.Errorf("/fg-2026/: %d, or its links are not under /fg-2026/", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/fg-2026", "", ""); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/fg-2026/" {
		t.Errorf("/fg-2026 without the slash: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// a write of 2025 goes to the only assessment of 2025, with a 2026 token of the same county
	if resp, body := f.do(t, "POST", "/api/v1/observations", qcShijiao, "township,indicator,period,value\nshijiao,x,2025-03,7\n"); resp.StatusCode != 200 {
		t.Errorf("a 2025 batch with qc-2026's token: %d %s", resp.StatusCode, body)
	}
	// 2026: two assessments share the year, the token says which; each county keeps its own shijiao
	for _, c := range []struct{ token, value string }{{qcShijiao, "10"}, {fgShijiao, "77"}} {
		if resp, body := f.do(t, "POST", "/api/v1/observations", c.token, "township,indicator,period,value\nshijiao,x,2026-03,"+c.value+"\n"); resp.StatusCode != 200 {
			t.Fatalf("a 2026 batch: %d %s", resp.StatusCode, body)
		}
	}
	for id, want := range map[string]float64{"qc-2026": 10, "fg-2026": 77, "qc-2025": 7} {
		_, body := f.do(t, "GET", "/api/v1/evaluations?assessment="+id, "", "")
		var got struct {
			Evaluations []struct {
				Township string  `json:"township"`
				Actual   float64 `json:"actual"`
			} `json:"evaluations"`
		}
		json.Unmarshal([]byte(body), &got)
		found := false
		for _, e := range got.Evaluations {
			if e.Township == "shijiao" {
				found = true
				if e.Actual != want {
					t.Errorf("%s: shijiao = %v, want %v", id, e.Actual, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no shijiao in %s", id, body)
		}
	}
	// another county's token writes nothing here, even under this county's address
	if resp, _ := f.do(t, "POST", "/qc-2026/api/v1/observations", fgShijiao, "township,indicator,period,value\nshijiao,x,2026-04,1\n"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("佛冈's token writing 清城's shijiao: %d, want 401", resp.StatusCode)
	}
	// a batch with no token is refused before anything is routed or read
	if resp, body := f.do(t, "POST", "/api/v1/observations", "", "township,indicator,period,value\nshijiao,x,2026-04,1\n"); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("an anonymous 2026 batch: %d %s, want 401 with a challenge", resp.StatusCode, body)
	}
	// a batch of 2026 with a token of the whole deployment, which does not tell: asked for
	// ?assessment=, offered only the assessments of 2026
	admin := tok(store.NewToken{Assessment: store.AllAssessments, Admin: true, Name: "管理员"})
	resp, body := f.do(t, "POST", "/api/v1/observations", admin, "township,indicator,period,value\nshijiao,x,2026-04,1\n")
	var asked struct {
		Error       string   `json:"error"`
		Assessments []string `json:"assessments"`
	}
	json.Unmarshal([]byte(body), &asked)
	if resp.StatusCode != 400 || !strings.Contains(asked.Error, "?assessment=") || strings.Join(asked.Assessments, ",") != "qc-2026,fg-2026" {
		t.Errorf("an admin's 2026 batch: %d %s, want 400 offering qc-2026 and fg-2026", resp.StatusCode, body)
	}
	// the same admin's batch of a year no assessment has
	if resp, body := f.do(t, "POST", "/api/v1/observations", admin, "township,indicator,period,value\nshijiao,x,2024-04,1\n"); resp.StatusCode != 400 || !strings.Contains(body, "没有该年度的考核") {
		t.Errorf("an admin's 2024 batch: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "GET", "/api/v1/rankings?assessment=nowhere", "", ""); resp.StatusCode != 404 || !strings.Contains(body, "没有编号为") {
		t.Errorf("an unknown assessment: %d %s", resp.StatusCode, body)
	}
	// the list of assessments
	_, body = f.do(t, "GET", "/api/v1/assessments", "", "")
	for _, want := range []string{`"id":"qc-2025"`, `"last_year":"qc-2025"`, `"months":["2025-03"]`, `"code":"tangtang"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/api/v1/assessments lacks %s: %s", want, body)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := f.do(t, "GET", p, "", ""); resp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
			t.Errorf("%s: %d %q", p, resp.StatusCode, body)
		}
	}
}

// TestOldAddressesGoToTheDefault: with one assessment of this year, / and a single-
// assessment kpimon's addresses go to it.
func TestOldAddressesGoToTheDefault(t *testing.T) {
	qc := "{code: dongcheng, name: 东城街道}"
	f := newFixture(t, county(t, "qc-2025", 2025, qc), county(t, "qc-2026", 2026, qc))
	for path, want := range map[string]string{"/": "/qc-2026/", "/townships/dongcheng?period=2026-03": "/qc-2026/townships/dongcheng?period=2026-03",
		"/rankings": "/qc-2026/rankings", "/upload": "/qc-2026/upload"} {
		resp, _ := f.do(t, "GET", path, "", "")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d → %q, want 302 → %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp, _ := f.do(t, "POST", "/login", "", ""); resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/qc-2026/login" {
		t.Errorf("POST /login: %d → %q, want 307 to /qc-2026/login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := f.do(t, "GET", "/api/v1/rankings", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"period":"2026-01"`) {
		t.Errorf("/api/v1/rankings with no ?assessment=: %d %s, want the default's", resp.StatusCode, body)
	}
}

// TestRouterAnswersEveryAddress: a method a path does not take is 405 with Allow (JSON
// under /api/); a handler mounted with Handle (/metrics) is served under every
// assessment's prefix as ?assessment=ID; a first segment that is no assessment's id and no
// address of kpimon is 404 at once (JSON, listing the ids, under api/).
func TestRouterAnswersEveryAddress(t *testing.T) {
	qc := "{code: dongcheng, name: 东城街道}"
	f := newFixture(t, county(t, "qc-2026", 2026, qc), county(t, "fg-2026", 2026, qc))
	f.rt.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "metrics of %q", r.URL.Query().Get("assessment"))
	}))
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/healthz", "GET, HEAD"}, {"DELETE", "/readyz", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"}, {"PUT", "/api/v1/assessments", "GET, HEAD"},
	} {
		resp, body := f.do(t, c.method, c.path, "", "")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow || !strings.Contains(body, "不支持 "+c.method+" 请求") {
			t.Errorf("%s %s: %d Allow %q %s, want 405 Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body, c.allow)
		}
		if json := strings.HasPrefix(c.path, "/api/"); json != strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s answered as %s", c.method, c.path, resp.Header.Get("Content-Type"))
		}
	}
	for path, want := range map[string]string{"/metrics": `metrics of ""`, "/fg-2026/metrics": `metrics of "fg-2026"`} {
		if resp, body := f.do(t, "GET", path, "", ""); resp.StatusCode != 200 || body != want {
			t.Errorf("GET %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	if resp, body := f.do(t, "GET", "/nowhere/townships/dongcheng", "", ""); resp.StatusCode != 404 || !strings.Contains(body, `href="/qc-2026/"`) {
		t.Errorf("an unknown first segment: %d, want 404 with the chooser: %s", resp.StatusCode, body)
	}
	resp, body := f.do(t, "GET", "/nowhere/api/v1/rankings", "", "")
	var got struct {
		Error       string   `json:"error"`
		Assessments []string `json:"assessments"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 404 || !strings.Contains(got.Error, "没有编号为 nowhere 的考核") || len(got.Assessments) != 2 {
		t.Errorf("an unknown assessment's API: %d %s", resp.StatusCode, body)
	}
}
