package alerting

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// message is one grouped notification, rendered as markdown for the robots (cut to their
// size limits) and as JSON for plain webhooks.
type message struct {
	event      string
	assessment string
	period     kpi.Period
	title      string         // one line
	head       []string       // markdown lines always shown
	items      []item         // markdown list items, cut to fit
	more       string         // a link shown under the items
	data       map[string]any // the event's own fields in the JSON body
}

// item is one line of a message and how many things (alerts, townships) it stands for, so
// that a cut message can say how many it left out.
type item struct {
	text string
	n    int
}

// add appends a line standing for n things.
func (m *message) add(n int, format string, args ...any) {
	m.items = append(m.items, item{text: fmt.Sprintf(format, args...), n: n})
}

// markdown renders the message within limit bytes: the title and head, as many items as
// fit, and a line saying how many were left out.
func (m message) markdown(limit int) string {
	var b strings.Builder
	b.WriteString("### " + m.title + "\n")
	for _, l := range m.head {
		b.WriteString(l + "\n")
	}
	tail := ""
	if m.more != "" {
		tail = "\n[查看详情](" + m.more + ")"
	}
	left := 0
	for _, it := range m.items {
		left += it.n
	}
	for i, it := range m.items {
		line := it.text + "\n"
		left -= it.n
		reserve := len(tail)
		if i < len(m.items)-1 {
			reserve += len(fmt.Sprintf("……另有 %d 条未列出\n", left))
		}
		if b.Len()+len(line)+reserve > limit {
			fmt.Fprintf(&b, "……另有 %d 条未列出\n", left+it.n)
			break
		}
		b.WriteString(line)
	}
	b.WriteString(tail)
	return truncateUTF8(strings.TrimRight(b.String(), "\n"), limit)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// jsonBody is the plain JSON webhook's body: event, assessment, period, title, the whole
// markdown text, when it was sent, and the event's own fields.
func (m message) jsonBody(now time.Time) map[string]any {
	out := map[string]any{
		"event": m.event, "assessment": m.assessment, "period": m.period.String(),
		"title": m.title, "text": m.markdown(1 << 30), "sent_at": now.UTC().Format(time.RFC3339),
	}
	for k, v := range m.data {
		out[k] = v
	}
	return out
}

// alertItem is one alert in the JSON body.
type alertItem struct {
	Alert         string     `json:"alert"`
	AlertName     string     `json:"alert_name"` // in Chinese
	Township      string     `json:"township"`
	TownshipName  string     `json:"township_name"`
	Indicator     string     `json:"indicator"`
	IndicatorName string     `json:"indicator_name"`
	Severity      string     `json:"severity"`
	ActiveSince   kpi.Period `json:"active_since"`
	Summary       string     `json:"summary"`
	StartedAt     time.Time  `json:"started_at"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	URL           string     `json:"url"`
}

func (e *Engine) alertItems(rs []store.AlertRecord, p kpi.Period) []alertItem {
	out := make([]alertItem, 0, len(rs))
	for _, r := range rs {
		out = append(out, alertItem{
			Alert: r.Alert.Alert, AlertName: kpi.AlertLabel(r.Alert.Alert), Township: r.Township, TownshipName: r.TownshipName,
			Indicator: r.Indicator, IndicatorName: r.IndicatorName, Severity: r.Severity, ActiveSince: r.ActiveSince,
			Summary: r.Summary, StartedAt: r.StartedAt, ResolvedAt: r.ResolvedAt, URL: e.TownshipURL(r.Township, p),
		})
	}
	return out
}

// alertsMessage groups one sync's changes into a single message.
func (e *Engine) alertsMessage(p kpi.Period, ch store.AlertChanges) message {
	m := message{event: eventAlerts, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【考核预警】%s（截至%s）", e.a.Name, p.Label())}
	var counts []string
	if n := len(ch.Fired); n > 0 {
		counts = append(counts, fmt.Sprintf("新增 %d 条", n))
	}
	if n := len(ch.Escalated); n > 0 {
		counts = append(counts, fmt.Sprintf("升级为严重 %d 条", n))
	}
	if n := len(ch.Resolved); n > 0 {
		counts = append(counts, fmt.Sprintf("已恢复 %d 条", n))
	}
	m.head = []string{"预警变化：" + strings.Join(counts, "，")}
	line := func(r store.AlertRecord) string {
		return fmt.Sprintf("- 【%s】[%s](%s)·%s：%s", kpi.SeverityLabel(r.Severity), r.TownshipName,
			e.TownshipURL(r.Township, p), kpi.AlertLabel(r.Alert.Alert), r.Summary)
	}
	// critical first within each group, as kpi orders them
	for _, r := range e.sorted(ch.Fired) {
		m.add(1, "%s", line(r))
	}
	for _, r := range e.sorted(ch.Escalated) {
		m.add(1, "%s（升级）", line(r))
	}
	for _, r := range e.sorted(ch.Resolved) {
		m.add(1, "- 【已恢复】[%s](%s)·%s·%s（持续%s）", r.TownshipName, e.TownshipURL(r.Township, p),
			r.IndicatorName, kpi.AlertLabel(r.Alert.Alert), duration(r.ResolvedAt.Sub(r.StartedAt)))
	}
	m.data = map[string]any{
		"fired":     e.alertItems(ch.Fired, p),
		"escalated": e.alertItems(ch.Escalated, p),
		"resolved":  e.alertItems(ch.Resolved, p),
	}
	return m
}

// sorted orders records as kpi orders alerts: critical first, then by township and
// indicator in config order (codes the config no longer has last, by code).
func (e *Engine) sorted(rs []store.AlertRecord) []store.AlertRecord {
	out := append([]store.AlertRecord(nil), rs...)
	pos := func(code string, index func(string) int) int {
		if i := index(code); i >= 0 {
			return i
		}
		return 1 << 30
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity == kpi.SeverityCritical
		}
		if ta, tb := pos(a.Township, e.a.TownshipIndex), pos(b.Township, e.a.TownshipIndex); ta != tb || a.Township != b.Township {
			if ta != tb {
				return ta < tb
			}
			return a.Township < b.Township
		}
		if ia, ib := pos(a.Indicator, e.a.IndicatorIndex), pos(b.Indicator, e.a.IndicatorIndex); ia != ib {
			return ia < ib
		}
		if a.Indicator != b.Indicator {
			return a.Indicator < b.Indicator
		}
		return a.Alert.Alert < b.Alert.Alert
	})
	return out
}

// duration writes a span for people: 3天2小时, 2小时5分钟, 4分钟.
func duration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%d天%d小时", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%d小时%d分钟", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%d分钟", int(d/time.Minute))
	}
	return "不到1分钟"
}

// reminderMessage asks the townships that have not reported month p to report before the
// deadline.
func (e *Engine) reminderMessage(p kpi.Period, deadline time.Time, miss []townshipMissing) message {
	last := deadline.Add(-time.Nanosecond).In(e.a.Location)
	m := message{event: eventReminders, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【报送提醒】%s月报将于%d月%d日截止", p.Label(), int(last.Month()), last.Day())}
	m.head = []string{fmt.Sprintf("%s的月报须在 %d月%d日24时前报送，以下 %d 个%s尚未报齐：",
		p.Label(), int(last.Month()), last.Day(), len(miss), unitWord(e.a))}
	type town struct {
		Township     string   `json:"township"`
		TownshipName string   `json:"township_name"`
		Missing      []string `json:"missing"`       // indicator codes
		MissingNames []string `json:"missing_names"` // indicator names
		URL          string   `json:"url"`
	}
	var towns []town
	for _, tm := range miss {
		names := make([]string, len(tm.Missing))
		for i, c := range tm.Missing {
			names[i] = e.indicatorName(c)
		}
		shown := strings.Join(names[:min(3, len(names))], "、")
		if len(names) > 3 {
			shown += "等"
		}
		m.add(1, "- [%s](%s)：%d 项未报送（%s）", tm.Township.Name, e.TownshipURL(tm.Township.Code, p), len(names), shown)
		towns = append(towns, town{Township: tm.Township.Code, TownshipName: tm.Township.Name, Missing: tm.Missing,
			MissingNames: names, URL: e.TownshipURL(tm.Township.Code, p)})
	}
	m.data = map[string]any{"deadline": deadline.UTC().Format(time.RFC3339), "townships": towns}
	return m
}

// summaryMessage lists every firing alert, for a webhook that has not been told them: one
// line per severity and township (critical first, townships in config order), each kind of
// alert with its count and indicators, and since when the oldest has held.
func (e *Engine) summaryMessage(p kpi.Period, firing []store.AlertRecord, now time.Time) message {
	m := message{event: eventAlerts, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【当前预警】%s（截至%s）", e.a.Name, p.Label())}
	sorted := e.sorted(firing)
	critical, towns := 0, map[string]bool{}
	for _, r := range sorted {
		if r.Severity == kpi.SeverityCritical {
			critical++
		}
		towns[r.Township] = true
	}
	m.head = []string{fmt.Sprintf("本群此前未收到本考核的预警，现汇总当前预警：%s共 %d 条（严重 %d 条、警告 %d 条），涉及 %d 个%s。此后只推送变化。",
		scopeWord(e.a), len(sorted), critical, len(sorted)-critical, len(towns), unitWord(e.a))}
	for _, g := range groupRecords(sorted, func(r store.AlertRecord) string { return r.Severity + "/" + r.Township }) {
		first := g[0]
		oldest := first.StartedAt
		var kinds []string
		for _, k := range groupRecords(g, func(r store.AlertRecord) string { return r.Alert.Alert }) {
			names := make([]string, len(k))
			for i, r := range k {
				names[i] = r.IndicatorName
				if r.StartedAt.Before(oldest) {
					oldest = r.StartedAt
				}
			}
			kinds = append(kinds, fmt.Sprintf("%s %d 项（%s）", kpi.AlertLabel(k[0].Alert.Alert), len(k), compactNames(names)))
		}
		m.add(len(g), "- 【%s】[%s](%s)：%s；已持续%s", kpi.SeverityLabel(first.Severity), first.TownshipName,
			e.TownshipURL(first.Township, p), strings.Join(kinds, "、"), duration(now.Sub(oldest)))
	}
	m.more = e.pageURL("/alerts", p)
	m.data = map[string]any{"summary": true, "firing": e.alertItems(sorted, p)}
	return m
}

// groupRecords splits records into runs of the same key, in the order the keys first
// appear.
func groupRecords(rs []store.AlertRecord, key func(store.AlertRecord) string) [][]store.AlertRecord {
	var out [][]store.AlertRecord
	at := map[string]int{}
	for _, r := range rs {
		k := key(r)
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// compactNames lists up to three names and says 等 when there are more.
func compactNames(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, "、")
	}
	return strings.Join(names[:3], "、") + "等"
}
