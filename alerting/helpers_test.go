package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// Webhook lines for countyConfig; %[1]s is the receiver's address.
const (
	hookWeCom = `{name: 区妇联工作群, type: wecom, url: "%[1]s/cgi-bin/webhook/send?key=wecom-key"%[2]s}`
	hookDing  = `{name: 钉钉群, type: dingtalk, url: "%[1]s/robot/send?access_token=ding-token", secret: ` + dingSecret + `%[2]s}`
	hookJSON  = `{name: 办公系统, type: json, url: "%[1]s/hooks/kpimon"%[2]s}`
)

// countyConfig is the two-township assessment of fixture with the webhooks given (each a
// hook… line), taking the events given (e.g. ", events: [alerts]"; empty: all).
func countyConfig(rc *receiver, events string, hooks ...string) string {
	var b strings.Builder
	b.WriteString(`name: 测试县妇联2024年度考核
year: 2024
timezone: Asia/Shanghai
report_deadline_day: 5
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 120, unit: 人}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
notify:
  base_url: http://kpimon.example/
  remind_days_left: 2
`)
	if len(hooks) > 0 {
		b.WriteString("  webhooks:\n")
	}
	for _, h := range hooks {
		fmt.Fprintf(&b, "    - %s\n", fmt.Sprintf(h, rc.srv.URL, events))
	}
	return b.String()
}

// open makes a monitor of the config on the SQLite file at path (a new handle each time,
// as a restarted server or a second server would have).
func open(t *testing.T, cfg, path string, clk *clock) *monitor.Monitor {
	t.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mon, err := monitor.New(context.Background(), a, db, monitor.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return mon
}

// dbPath is a new database file for a test.
func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "kpimon.db") }

// mustSync runs one Sync and sends what it queued (Flush), failing the test on an error.
func mustSync(t *testing.T, e *Engine) {
	t.Helper()
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	flush(t, e)
}

// flush sends what Syncs queued.
func flush(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// markdownOf is the markdown text of a WeCom or DingTalk body.
func markdownOf(t *testing.T, body []byte) string {
	t.Helper()
	var m struct {
		Markdown struct {
			Content string `json:"content"`
			Text    string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m.Markdown.Content + m.Markdown.Text
}

// texts is markdownOf every body received on path.
func texts(t *testing.T, rc *receiver, path string) []string {
	t.Helper()
	var out []string
	for _, b := range rc.bodies(path) {
		out = append(out, markdownOf(t, b))
	}
	return out
}

// counts says how many messages each path received.
func counts(rc *receiver, paths ...string) map[string]int {
	out := map[string]int{}
	for _, p := range paths {
		out[p] = len(rc.bodies(p))
	}
	return out
}

// wantCounts fails unless each path received as many messages as said.
func wantCounts(t *testing.T, rc *receiver, when string, want map[string]int) {
	t.Helper()
	for p, n := range want {
		if got := len(rc.bodies(p)); got != n {
			t.Errorf("%s: %s got %d messages, want %d", when, p, got, n)
		}
	}
}

// jsonOf decodes a body.
func jsonOf(b []byte, v any) error { return json.Unmarshal(b, v) }

// syncFlush is Sync followed by Flush.
func syncFlush(t *testing.T, e *Engine) (store.AlertChanges, error) {
	t.Helper()
	ch, err := e.Sync(context.Background())
	if err == nil {
		flush(t, e)
	}
	return ch, err
}

// release gives up e's lease, as a server stopped gracefully does, so that the next engine
// on the database (a restarted server) sends at once.
func release(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}
