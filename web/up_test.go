package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
)

// TestCountyPagesLinkUpToTheCity: in the demo's deployment a county's pages (清城区 2026)
// link up to the city's assessment that ranks it (清远市) and to the county's page in it, for
// the same month; a county no city ranks (清城区 2025) and the city itself link up nowhere.
func TestCountyPagesLinkUpToTheCity(t *testing.T) {
	ctx := context.Background()
	as, err := demo.Assessments()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, a := range as {
		if _, err := demo.LoadUntil(ctx, st, a, now); err != nil {
			t.Fatal(err)
		}
	}
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
	f := &fixture{rt: rt, ts: ts, st: st, dep: dep}
	for _, c := range []struct {
		name, path string
		want       []string // the links up; none when empty
	}{
		{"a county's overview", "/qingcheng-2026/", []string{`<a href="/qingyuan-2026/?period=2026-10">返回全市考核 ↑</a>`, `<a href="/qingyuan-2026/townships/qingcheng?period=2026-10">在全市的得分和排名</a>`}},
		{"another county's ranking, another month", "/fogang-2026/rankings?period=2026-07", []string{`<a href="/qingyuan-2026/?period=2026-07">返回全市考核 ↑</a>`, `<a href="/qingyuan-2026/townships/fogang?period=2026-07">`}},
		{"last year's county", "/qingcheng-2025/", nil},
		{"the city", "/qingyuan-2026/", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", c.path, "", "")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", c.path, resp.StatusCode)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %s", c.path, w)
				}
			}
			if c.want == nil && strings.Contains(body, `class="up-banner"`) {
				t.Errorf("%s links up though no assessment ranks it", c.path)
			}
		})
	}
}
