package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/kpimon/kpimon/monitor"
)

func TestOneOfTwoServersSendsAndTheOtherTakesOverWhenItDies(t *testing.T) {
	const ttl = time.Second
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1))
	path := dbPath(t)
	cfg := countyConfig(rc, ", events: [alerts]", hookWeCom, hookDing, hookJSON)
	all := []string{pathWeCom, pathDing, pathJSON}

	// two servers on one database file; 乙镇 has not reported its January closure rate
	monA, monB := open(t, cfg, path, clk), open(t, cfg, path, clk)
	ingest(t, monA, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	opt := Options{Interval: 50 * time.Millisecond, LeaseTTL: ttl, RetryWait: time.Millisecond}
	ea, err := New(monA, opt)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := New(monB, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctxA, killA := context.WithCancel(ctx)
	ctxB, stopB := context.WithCancel(ctx)
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { doneA <- ea.Run(ctxA) }()
	go func() { doneB <- eb.Run(ctxB) }()
	defer func() {
		killA()
		stopB()
		<-doneA
		<-doneB
	}()
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	received := func(n int) func() bool {
		return func() bool {
			for _, p := range all {
				if len(rc.bodies(p)) < n {
					return false
				}
			}
			return true
		}
	}
	settle := func(when string, n int) {
		t.Helper()
		time.Sleep(ttl / 2) // ten intervals of both servers syncing
		for _, p := range all {
			if got := len(rc.bodies(p)); got != n {
				t.Errorf("%s: %s got %d messages, want %d", when, p, got, n)
			}
		}
	}

	waitUntil("the first message", received(1))
	settle("the missing report", 1)
	leader, follower, monL, kill := ea, eb, monA, killA
	if eb.Leads() {
		leader, follower, monL, kill = eb, ea, monB, stopB
	}
	if leader.Leads() == follower.Leads() {
		t.Fatalf("leads: %v and %v, want exactly one", leader.Leads(), follower.Leads())
	}
	if n := follower.syncs.Load(); n != 0 {
		t.Errorf("the server that does not hold the lease synced the lifecycle %d times", n)
	}

	// a report through the follower (its data are the only ones that have it): the leader
	// loads it and sends the resolution, once
	monF := monA
	if monL == monA {
		monF = monB
	}
	ingest(t, monF, "bb,closure,2024-01,,3,3\n")
	waitUntil("the resolution", received(2))
	settle("the report", 2)

	// the leader dies without giving up the lease; then 甲镇's rate is corrected below the
	// line (written by the dead server's process, as `kpimon ingest` would)
	kill()
	died := time.Now()
	ingest(t, monL, "aa,closure,2024-01,,4,5\n")
	waitUntil("the other server to take over", received(3))
	if took := time.Since(died); took > ttl+ttl/3+ttl/2 {
		t.Errorf("the other server took over after %v, want within the ttl (%v) and one renewal", took, ttl)
	}
	if !follower.Leads() {
		t.Errorf("the survivor does not hold the lease")
	}
	settle("after the takeover", 3)
	if last := texts(t, rc, pathWeCom)[2]; !strings.Contains(last, "甲镇") || !strings.Contains(last, "低于达标线") {
		t.Errorf("the survivor's message:\n%s", last)
	}
}

// logLines decodes the JSON log lines a server wrote.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// The operator reads the log on the terminal: the server that takes over the messages
// says so in Chinese, and the alerts' changes too, with ASCII keys for log systems.
func TestTheServerThatTakesOverSaysSoInChinese(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1))
	path := dbPath(t)
	cfg := countyConfig(rc, ", events: [alerts]", hookJSON)
	monA, monB := open(t, cfg, path, clk), open(t, cfg, path, clk)
	ingest(t, monA, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	var logA, logB bytes.Buffer
	engine := func(mon *monitor.Monitor, buf *bytes.Buffer) *Engine {
		e, err := New(mon, Options{RetryWait: time.Millisecond, Logger: slog.New(slog.NewJSONHandler(buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ea, eb := engine(monA, &logA), engine(monB, &logB)
	mustSync(t, ea)
	mustSync(t, eb) // A holds the lease: B stays quiet
	release(t, ea)  // A stops; B takes over
	mustSync(t, eb)

	const takeover = "本服务负责发送该考核的消息"
	for _, tc := range []struct {
		name string
		buf  *bytes.Buffer
		want []string
	}{
		{"the first server", &logA, []string{takeover, "预警有变化"}},
		{"the server that took over", &logB, []string{takeover}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var msgs []string
			for _, l := range logLines(t, tc.buf) {
				msg, _ := l["msg"].(string)
				msgs = append(msgs, msg)
				if strings.ContainsFunc(strings.ReplaceAll(msg, "Alertmanager", ""), func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }) {
					t.Errorf("English on the operator's terminal: %q", msg)
				}
				if msg == takeover && l["lease"] == nil {
					t.Errorf("%q without its ASCII key lease: %v", msg, l)
				}
			}
			for _, w := range tc.want {
				if !slices.Contains(msgs, w) {
					t.Errorf("log messages = %q, want %q among them", msgs, w)
				}
			}
		})
	}
}
