package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

const dingSecret = "SEC0123456789abcdef"

// request is one request the receiver took.
type request struct {
	path  string
	query url.Values
	ctype string
	body  []byte
	at    time.Time
}

// receiver is a local 127.0.0.1 server that checks each payload against the format its
// path stands for (the documented shapes of WeCom and DingTalk group robots, kpimon's JSON
// webhook, Alertmanager's v2 API) and records it.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	got []request
	// wecomErrcode is what the WeCom robot answers; 0 accepts.
	wecomErrcode int
	// wecomDelay is how long the WeCom robot takes to answer.
	wecomDelay time.Duration
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) fail(w http.ResponseWriter, format string, args ...any) {
	rc.t.Errorf(format, args...)
	http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost {
		rc.fail(w, "%s: method %s, want POST", r.URL.Path, r.Method)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		rc.fail(w, "%s: Content-Type %q, want application/json", r.URL.Path, r.Header.Get("Content-Type"))
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/webhook/send": // WeCom: {"msgtype":"markdown","markdown":{"content":…}} ≤ 4096 bytes
		var m struct {
			MsgType  string `json:"msgtype"`
			Markdown *struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown == nil || m.Markdown.Content == "" {
			rc.fail(w, "wecom: bad body %s (%v)", body, err)
			return
		}
		if q.Get("key") != "wecom-key" {
			rc.fail(w, "wecom: key %q lost", q.Get("key"))
			return
		}
		if n := len(m.Markdown.Content); n > 4096 {
			rc.fail(w, "wecom: markdown.content is %d bytes, the limit is 4096", n)
			return
		}
		rc.mu.Lock()
		code, delay := rc.wecomErrcode, rc.wecomDelay
		rc.mu.Unlock()
		time.Sleep(delay)
		fmt.Fprintf(w, `{"errcode":%d,"errmsg":"%s"}`, code, map[bool]string{true: "ok", false: "invalid"}[code == 0])
	case "/robot/send": // DingTalk: markdown {title, text}, at {atMobiles}; signed with timestamp and sign
		var m struct {
			MsgType  string `json:"msgtype"`
			Markdown *struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"markdown"`
			At *struct {
				AtMobiles []string `json:"atMobiles"`
			} `json:"at"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown == nil || m.Markdown.Title == "" || m.Markdown.Text == "" {
			rc.fail(w, "dingtalk: bad body %s (%v)", body, err)
			return
		}
		if q.Get("access_token") != "ding-token" {
			rc.fail(w, "dingtalk: access_token %q lost", q.Get("access_token"))
			return
		}
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			rc.fail(w, "dingtalk: timestamp %q", q.Get("timestamp"))
			return
		}
		// DingTalk refuses a timestamp more than an hour off, and a sign that does not match
		if d := time.Since(time.UnixMilli(ts)); d > time.Hour || d < -time.Hour {
			fmt.Fprint(w, `{"errcode":310000,"errmsg":"sign not match, timestamp too far"}`)
			return
		}
		if q.Get("sign") != DingTalkSign(dingSecret, ts) {
			fmt.Fprint(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			rc.t.Errorf("dingtalk: sign %q does not match", q.Get("sign"))
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	case "/hooks/kpimon": // kpimon's plain JSON webhook
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			rc.fail(w, "json: %v", err)
			return
		}
		for _, k := range []string{"event", "assessment", "period", "title", "text", "sent_at"} {
			if _, ok := m[k].(string); !ok {
				rc.fail(w, "json: field %q missing or not a string in %s", k, body)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case "/am/api/v2/alerts": // Alertmanager v2: an array of postableAlert
		var as []struct {
			Labels       map[string]string `json:"labels"`
			Annotations  map[string]string `json:"annotations"`
			StartsAt     time.Time         `json:"startsAt"`
			EndsAt       time.Time         `json:"endsAt"`
			GeneratorURL string            `json:"generatorURL"`
		}
		if err := strictJSON(body, &as); err != nil || len(as) == 0 {
			rc.fail(w, "alertmanager: bad body %s (%v)", body, err)
			return
		}
		for _, a := range as {
			if a.Labels["alertname"] == "" || a.StartsAt.IsZero() || a.EndsAt.IsZero() || !strings.HasPrefix(a.GeneratorURL, "http") {
				rc.fail(w, "alertmanager: incomplete alert %+v", a)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	default:
		rc.fail(w, "unexpected path %s", r.URL.Path)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, request{path: r.URL.Path, query: q, ctype: r.Header.Get("Content-Type"), body: body, at: time.Now()})
	rc.mu.Unlock()
}

// strictJSON decodes and refuses unknown fields, so a payload with a misspelt field fails.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// bodies returns the bodies received on path so far.
func (rc *receiver) bodies(path string) [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out [][]byte
	for _, r := range rc.got {
		if r.path == path {
			out = append(out, r.body)
		}
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

const (
	pathWeCom = "/cgi-bin/webhook/send"
	pathDing  = "/robot/send"
	pathJSON  = "/hooks/kpimon"
	pathAM    = "/am/api/v2/alerts"
)

// fixture is an assessment with two townships whose notify section points at rc.
func fixture(t *testing.T, rc *receiver, events string, clk *clock) (*monitor.Monitor, *kpi.Assessment) {
	t.Helper()
	return fixtureWith(t, rc, "  - {code: aa, name: 甲镇}\n  - {code: bb, name: 乙镇}\n", events, clk)
}

// fixtureWith is fixture with the townships given as config lines.
func fixtureWith(t *testing.T, rc *receiver, towns, events string, clk *clock) (*monitor.Monitor, *kpi.Assessment) {
	t.Helper()
	cfg := fmt.Sprintf(`name: 测试县妇联2024年度考核
year: 2024
timezone: Asia/Shanghai
report_deadline_day: 5
townships:
%[4]sindicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 120, unit: 人}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
notify:
  base_url: http://kpimon.example/
  remind_days_left: 2
  webhooks:
    - {name: 区妇联工作群, type: wecom, url: "%[1]s/cgi-bin/webhook/send?key=wecom-key"%[2]s}
    - {name: 钉钉群, type: dingtalk, url: "%[1]s/robot/send?access_token=ding-token", secret: %[3]s%[2]s}
    - {name: 办公系统, type: json, url: "%[1]s/hooks/kpimon"%[2]s}
`, rc.srv.URL, events, dingSecret, towns)
	a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kpimon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mon, err := monitor.New(context.Background(), a, db, monitor.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return mon, a
}

func ingest(t *testing.T, mon *monitor.Monitor, rows string) {
	t.Helper()
	b := collector.NewBatch(mon.Assessment())
	b.AddCSV("t.csv", strings.NewReader("township,indicator,period,value,numerator,denominator\n"+rows))
	if _, err := mon.Ingest(context.Background(), b, "test"); err != nil {
		t.Fatal(err)
	}
}

func shanghai(t *testing.T, y, m, d, h int) time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, time.Month(m), d, h, 0, 0, 0, loc)
}

type amPosted struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func lastAM(t *testing.T, rc *receiver) map[string]amPosted {
	t.Helper()
	bs := rc.bodies(pathAM)
	if len(bs) == 0 {
		t.Fatal("nothing posted to Alertmanager")
	}
	var as []amPosted
	if err := json.Unmarshal(bs[len(bs)-1], &as); err != nil {
		t.Fatal(err)
	}
	out := map[string]amPosted{}
	for _, a := range as {
		out[a.Labels["alertname"]+"/"+a.Labels["township"]+"/"+a.Labels["indicator"]] = a
	}
	return out
}

func TestLifecycleDeliversFiringAndResolved(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1)) // January's reports were due by 5 February
	mon, _ := fixture(t, rc, ", events: [alerts]", clk)
	// 甲镇 reported January in full; 乙镇 reported screenings but not its closure rate
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	reg := prometheus.NewPedanticRegistry()
	e, err := New(mon, Options{AlertmanagerURL: rc.srv.URL + "/am/", Resend: time.Minute, Registerer: reg, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ch, err := syncFlush(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 1 || ch.Fired[0].Alert.Alert != kpi.AlertMissingReport || ch.Fired[0].Township != "bb" || ch.Fired[0].Indicator != "closure" {
		t.Fatalf("fired = %+v, want missing_report for bb/closure", ch.Fired)
	}
	// a missing report began at its deadline (00:00 on 6 February), an hour before kpimon
	// saw it: that is when it starts, and what "持续多久" counts from
	start := shanghai(t, 2024, 2, 6, 0)
	am := lastAM(t, rc)["missing_report/bb/closure"]
	wantLink := "http://kpimon.example/townships/bb?period=2024-01"
	switch {
	case am.GeneratorURL != wantLink || am.Annotations["link"] != wantLink:
		t.Errorf("link = %q / %q, want %q", am.GeneratorURL, am.Annotations["link"], wantLink)
	case !am.StartsAt.Equal(start) || !am.EndsAt.Equal(clk.Now().Add(4*time.Minute)):
		t.Errorf("startsAt %v endsAt %v, want %v and four re-send intervals after now", am.StartsAt, am.EndsAt, start)
	case am.Labels["severity"] != "warning" || am.Labels["township_name"] != "乙镇" || am.Labels["indicator_name"] != "信访办结率":
		t.Errorf("labels = %v", am.Labels)
	case !strings.Contains(am.Annotations["summary"], "乙镇未按时报送2024年1月“信访办结率”"):
		t.Errorf("summary = %q", am.Annotations["summary"])
	case !strings.Contains(am.Annotations["description"], "逾期未报送（警告）"):
		t.Errorf("description = %q", am.Annotations["description"])
	}
	for _, p := range []string{pathWeCom, pathDing, pathJSON} {
		if n := len(rc.bodies(p)); n != 1 {
			t.Errorf("%s got %d messages, want 1", p, n)
		}
	}
	// the overdue report links to the township's page and to where it reports
	if c, line := markdownOf(t, rc.bodies(pathWeCom)[0]), "- 【警告】[乙镇](http://kpimon.example/townships/bb?period=2024-01)·逾期未报送：乙镇未按时报送2024年1月“信访办结率”（截止2月5日），[去补报](http://kpimon.example/my)"; !strings.Contains(c, line) {
		t.Errorf("alert message lacks the line %q:\n%s", line, c)
	}
	var jb struct {
		Event string      `json:"event"`
		Fired []alertItem `json:"fired"`
	}
	if err := json.Unmarshal(rc.bodies(pathJSON)[0], &jb); err != nil || jb.Event != "alerts" || len(jb.Fired) != 1 || jb.Fired[0].URL != wantLink || jb.Fired[0].TownshipName != "乙镇" {
		t.Errorf("json webhook body = %+v (%v)", jb, err)
	}

	// nothing changed: nothing sent again, nothing fires twice
	clk.Add(time.Minute)
	if ch, err := syncFlush(t, e); err != nil || !ch.Empty() {
		t.Fatalf("second sync = %+v, %v", ch, err)
	}
	if n := len(rc.bodies(pathWeCom)); n != 1 {
		t.Errorf("wecom got %d messages after a sync without change, want 1", n)
	}

	// the late report arrives: the alert resolves, with its end time
	clk.Add(time.Hour)
	ingest(t, mon, "bb,closure,2024-01,,3,3\n")
	ch, err = syncFlush(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Resolved) != 1 || len(ch.Fired) != 0 {
		t.Fatalf("after the report: %+v, want 1 resolved", ch)
	}
	am = lastAM(t, rc)["missing_report/bb/closure"]
	if !am.EndsAt.Equal(clk.Now()) || !am.StartsAt.Equal(start) {
		t.Errorf("resolved alert: startsAt %v endsAt %v, want %v and %v", am.StartsAt, am.EndsAt, start, clk.Now())
	}
	wecom := rc.bodies(pathWeCom)
	if len(wecom) != 2 || !strings.Contains(string(wecom[1]), "已恢复") || !strings.Contains(string(wecom[1]), "持续2小时1分钟") {
		t.Errorf("wecom messages = %d, last %s; want a second one saying 已恢复", len(wecom), wecom[len(wecom)-1])
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP kpimon_notifications_total Deliveries attempted, by channel (alertmanager or the webhook's name), event (alerts, reminders, rankings) and result (ok, error).
# TYPE kpimon_notifications_total counter
kpimon_notifications_total{assessment="test",channel="alertmanager",event="alerts",result="ok"} 2
kpimon_notifications_total{assessment="test",channel="区妇联工作群",event="alerts",result="ok"} 2
kpimon_notifications_total{assessment="test",channel="钉钉群",event="alerts",result="ok"} 2
kpimon_notifications_total{assessment="test",channel="办公系统",event="alerts",result="ok"} 2
`), "kpimon_notifications_total"); err != nil {
		t.Error(err)
	}

	// once resolved for longer than ResolvedFor, it is no longer re-sent
	clk.Add(16 * time.Minute)
	if err := e.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.bodies(pathAM)); n != 2 {
		t.Errorf("%d Alertmanager posts, want 2 (nothing firing, nothing recently resolved)", n)
	}
}

func TestRunResendsAndFollowsTheClockAndIngests(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 5, 23)) // an hour before January's reports are overdue
	mon, _ := fixture(t, rc, ", events: [alerts]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	e, err := New(mon, Options{AlertmanagerURL: rc.srv.URL + "/am", Interval: 20 * time.Millisecond, Resend: 30 * time.Millisecond, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	firing := func() []store.AlertRecord {
		f, err := mon.Store().FiringAlerts(ctx, mon.Assessment().ID)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// the engine has looked (twice, so the timer runs too) and nothing is overdue yet
	waitFor("two syncs", func() bool { return e.syncs.Load() >= 2 })
	if f := firing(); len(f) != 0 {
		t.Fatalf("firing before the deadline: %+v", f)
	}
	// the clock passes the deadline: with no new data, the timer raises missing_report
	clk.Set(shanghai(t, 2024, 2, 6, 0))
	waitFor("missing_report to fire with the clock", func() bool { return len(firing()) == 1 })
	// and the alert is re-sent while it holds, keeping its start
	n0 := len(rc.bodies(pathAM))
	waitFor("three re-sends", func() bool { return len(rc.bodies(pathAM)) >= n0+3 })
	starts := map[time.Time]bool{}
	for _, b := range rc.bodies(pathAM)[n0:] {
		var as []amPosted
		json.Unmarshal(b, &as)
		for _, a := range as {
			starts[a.StartsAt] = true
		}
	}
	if len(starts) != 1 {
		t.Errorf("re-sends carried %d start times, want 1", len(starts))
	}
	// the report comes in: the ingest resolves it without waiting for the timer
	ingest(t, mon, "bb,closure,2024-01,,3,3\n")
	waitFor("the alert to resolve after the ingest", func() bool { return len(firing()) == 0 })
	resolved, err := mon.Store().ResolvedAlerts(ctx, mon.Assessment().ID, time.Time{})
	if err != nil || len(resolved) != 1 {
		t.Fatalf("resolved = %+v, %v", resolved, err)
	}
	// the resolution is recorded before it is delivered: wait for the message, then make
	// sure no third one follows
	waitFor("the resolution's message", func() bool { return len(rc.bodies(pathWeCom)) >= 2 })
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.bodies(pathWeCom)); n != 2 {
		t.Errorf("wecom got %d messages, want 2 (fired, resolved)", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestManyAlertsMakeOneMessageWithinTheRobotLimits(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 6, 20, 9))
	// 60 townships, none reported May: 120 missing_report alerts at once
	var towns strings.Builder
	for i := range 60 {
		fmt.Fprintf(&towns, "  - {code: t%02d, name: 第%02d镇}\n", i, i)
	}
	cfg := fmt.Sprintf(`name: 大县
year: 2024
townships:
%sindicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 120}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
notify:
  webhooks:
    - {name: wecom, type: wecom, url: "%[2]s/cgi-bin/webhook/send?key=wecom-key"}
    - {name: ding, type: dingtalk, url: "%[2]s/robot/send?access_token=ding-token", secret: %[3]s}
`, towns.String(), rc.srv.URL, dingSecret)
	a, err := kpi.ParseConfig("big.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mon, err := monitor.New(context.Background(), a, db, monitor.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(mon, Options{Period: kpi.MustPeriod("2024-05"), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := syncFlush(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 120 {
		t.Fatalf("fired %d, want 120", len(ch.Fired))
	}
	wecom, ding := rc.bodies(pathWeCom), rc.bodies(pathDing)
	if len(wecom) != 1 || len(ding) != 1 {
		t.Fatalf("messages: wecom %d, dingtalk %d; want one each (grouped)", len(wecom), len(ding))
	}
	var w wecomBody
	json.Unmarshal(wecom[0], &w)
	// one line per township (its two missing reports together), cut with 等 N 项，详见 …
	if !strings.Contains(w.Markdown.Content, "新增 120 条") || !strings.Contains(w.Markdown.Content, "·逾期未报送 2 项：两癌筛查人数、信访办结率，[去补报](/my)\n") {
		t.Errorf("wecom content should count 120 alerts and group each township's two:\n%s", w.Markdown.Content)
	}
	var d dingtalkBody
	json.Unmarshal(ding[0], &d)
	wl, dl := strings.Count(w.Markdown.Content, "\n- "), strings.Count(d.Markdown.Text, "\n- ")
	if len(d.Markdown.Text) > 20000 || dl <= wl {
		t.Errorf("dingtalk: %d bytes listing %d townships; want at most 20000 bytes and more than WeCom's %d", len(d.Markdown.Text), dl, wl)
	}
	for _, c := range []struct {
		text  string
		lines int
	}{{w.Markdown.Content, wl}, {d.Markdown.Text, dl}} {
		cut := fmt.Sprintf("……等 %d 项，详见[预警列表](/alerts?period=2024-05)", 120-2*c.lines)
		if c.lines < 60 && !strings.HasSuffix(c.text, cut) {
			t.Errorf("a message listing %d of 60 townships does not end with %q:\n%s", c.lines, cut, c.text)
		}
		if c.lines == 60 && strings.Contains(c.text, "……等") {
			t.Errorf("a message listing every township says some were left out:\n%s", c.text)
		}
	}
	if wl >= 60 {
		t.Errorf("WeCom's 4,096 bytes listed all 60 townships: the test no longer tests the cut")
	}
}

func TestRemindersGoOutOncePerMonthNearTheDeadline(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 2, 23)) // deadline for January: 5 February; remind from the 3rd
	mon, _ := fixture(t, rc, ", events: [reminders]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncFlush(t, e); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.bodies(pathWeCom)); n != 0 {
		t.Fatalf("reminder sent %d times before the reminder window", n)
	}
	clk.Set(shanghai(t, 2024, 2, 3, 9))
	for range 3 {
		if _, err := syncFlush(t, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{pathWeCom, pathDing, pathJSON} {
		if n := len(rc.bodies(p)); n != 1 {
			t.Errorf("%s: %d reminders, want exactly 1", p, n)
		}
	}
	var w wecomBody
	json.Unmarshal(rc.bodies(pathWeCom)[0], &w)
	if c := w.Markdown.Content; !strings.Contains(c, "乙镇") || strings.Contains(c, "甲镇") || !strings.Contains(c, "2月5日24时") || !strings.Contains(c, "信访办结率") {
		t.Errorf("reminder should name 乙镇 (and not 甲镇), its missing indicator and the deadline:\n%s", c)
	}
	// the township's line links to where it reports: /my asks its chair to log in
	if c, line := w.Markdown.Content, "- 乙镇：1 项未报送（信访办结率），[去报送](http://kpimon.example/my)"; !strings.Contains(c, line) {
		t.Errorf("reminder lacks the line %q:\n%s", line, c)
	}
	var j struct {
		Event     string `json:"event"`
		Townships []struct {
			Township  string   `json:"township"`
			Missing   []string `json:"missing"`
			ReportURL string   `json:"report_url"`
		} `json:"townships"`
	}
	if err := json.Unmarshal(rc.bodies(pathJSON)[0], &j); err != nil || j.Event != "reminders" || len(j.Townships) != 1 || j.Townships[0].Township != "bb" ||
		strings.Join(j.Townships[0].Missing, ",") != "closure" || j.Townships[0].ReportURL != "http://kpimon.example/my" {
		t.Errorf("json reminder = %+v (%v)", j, err)
	}
}

// TestRemindersNameTheContacts: a township's contact from the config is named in its
// reminder line, and DingTalk @-mentions her mobile (in the text and in at.atMobiles).
func TestRemindersNameTheContacts(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 3, 9))
	mon, _ := fixtureWith(t, rc, "  - {code: aa, name: 甲镇, contact: 王敏, mobile: 13900000001}\n  - {code: bb, name: 乙镇, contact: 李芳, mobile: 138-0000-0000}\n",
		", events: [reminders]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncFlush(t, e); err != nil {
		t.Fatal(err)
	}
	var w wecomBody
	json.Unmarshal(rc.bodies(pathWeCom)[0], &w)
	if line := "- 乙镇（联系人：李芳）：1 项未报送（信访办结率）"; !strings.Contains(w.Markdown.Content, line) || strings.Contains(w.Markdown.Content, "王敏") {
		t.Errorf("WeCom reminder lacks %q (and names only 乙镇's contact):\n%s", line, w.Markdown.Content)
	}
	var d dingtalkBody
	json.Unmarshal(rc.bodies(pathDing)[0], &d)
	if d.At == nil || len(d.At.AtMobiles) != 1 || d.At.AtMobiles[0] != "13800000000" || !strings.Contains(d.Markdown.Text, "@13800000000") {
		t.Errorf("DingTalk reminder mentions %+v, text %q; want @13800000000", d.At, d.Markdown.Text)
	}
}

func TestAFailedRobotIsCountedAndTriedAgainLater(t *testing.T) {
	rc := newReceiver(t)
	rc.wecomErrcode = 45009 // WeCom's "api freq out of limit"
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 4, 9))
	mon, _ := fixture(t, rc, ", events: [reminders]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\n")
	reg := prometheus.NewPedanticRegistry()
	e, err := New(mon, Options{RetryWait: time.Millisecond, Retries: 1, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncFlush(t, e); err != nil {
		t.Fatalf("a delivery failure failed the sync: %v", err)
	}
	if got := testutil.ToFloat64(e.deliveries.WithLabelValues("区妇联工作群", "reminders", "error")); got != 1 {
		t.Errorf("wecom errors counted %v, want 1", got)
	}
	if n := len(rc.bodies(pathWeCom)); n != 2 {
		t.Errorf("wecom tried %d times, want 2 (one retry)", n)
	}
	// the robot recovers: the next sync delivers the reminder the failed one could not
	rc.mu.Lock()
	rc.wecomErrcode = 0
	rc.mu.Unlock()
	if _, err := syncFlush(t, e); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(e.deliveries.WithLabelValues("区妇联工作群", "reminders", "ok")); got != 1 {
		t.Errorf("wecom reminders delivered %v, want 1", got)
	}
	if n := len(rc.bodies(pathDing)); n != 1 {
		t.Errorf("dingtalk got %d reminders, want 1 (sent once, not again)", n)
	}
}

func TestRankingIsSentOnceTheMonthIsComplete(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 2, 9))
	mon, _ := fixture(t, rc, ", events: [rankings]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,12,,\n")
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncFlush(t, e); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.bodies(pathWeCom)); n != 0 {
		t.Fatalf("ranking sent while 乙镇 had not reported in full and the deadline had not passed")
	}
	ingest(t, mon, "bb,closure,2024-01,,4,5\n")
	for range 2 {
		if _, err := syncFlush(t, e); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rc.bodies(pathWeCom)); n != 1 {
		t.Fatalf("wecom got %d rankings, want 1", n)
	}
	var w wecomBody
	json.Unmarshal(rc.bodies(pathWeCom)[0], &w)
	c := w.Markdown.Content
	if i, j := strings.Index(c, "甲镇"), strings.Index(c, "乙镇"); i < 0 || j < 0 || !strings.Contains(c, "第1名") || !strings.Contains(c, "2024年1月") {
		t.Errorf("ranking message:\n%s", c)
	}
	var j struct {
		Event    string `json:"event"`
		Rankings []struct {
			Rank     int     `json:"rank"`
			Township string  `json:"township"`
			Score    float64 `json:"score"`
		} `json:"rankings"`
	}
	if err := json.Unmarshal(rc.bodies(pathJSON)[0], &j); err != nil || j.Event != "rankings" || len(j.Rankings) != 2 || j.Rankings[0].Rank != 1 {
		t.Errorf("json ranking = %+v (%v)", j, err)
	}
	r, _ := kpi.Evaluate(mon.Dataset(), kpi.MustPeriod("2024-01"), clk.Now())
	if j.Rankings[0].Township != r.Rankings[0].Township || j.Rankings[0].Score != r.Rankings[0].Total {
		t.Errorf("json ranking leads with %+v, evaluation with %s %v", j.Rankings[0], r.Rankings[0].Township, r.Rankings[0].Total)
	}
}

func TestDingTalkSignMatchesTheDocumentedAlgorithm(t *testing.T) {
	// computed independently: base64(HMAC-SHA256(key "SECtest", "1700000000000\nSECtest"))
	if got := DingTalkSign("SECtest", 1700000000000); got != "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=" {
		t.Errorf("sign = %s", got)
	}
}

func TestBadAlertmanagerURLIsRefused(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 2, 9))
	mon, _ := fixture(t, rc, "", clk)
	for _, u := range []string{"127.0.0.1:9093", "ftp://x", "http://"} {
		if _, err := New(mon, Options{AlertmanagerURL: u}); err == nil {
			t.Errorf("Alertmanager URL %q accepted", u)
		}
	}
}
