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
	more       string         // a link shown under the items, or in the cut line
	moreText   string         // its text; 查看详情 by default
	unit       string         // what an item's n counts, in the cut line; 项 by default
	data       map[string]any // the event's own fields in the JSON body
	mentions   []string       // mobiles to @-mention where the robot can (DingTalk)
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
// fit and, when some do not, “……等 N 项，详见 [link](…)” in place of the rest.
func (m message) markdown(limit int) string {
	var b strings.Builder
	b.WriteString("### " + m.title + "\n")
	for _, l := range m.head {
		b.WriteString(l + "\n")
	}
	tail := ""
	if m.more != "" {
		tail = "\n[" + m.moreLabel() + "](" + m.more + ")"
	}
	left := 0
	for _, it := range m.items {
		left += it.n
	}
	for i, it := range m.items {
		line := it.text + "\n"
		left -= it.n
		// room for the rest: the link at the end, or a cut line instead of it
		reserve := len(tail)
		if i < len(m.items)-1 {
			reserve = max(reserve, len(m.cut(left)))
		}
		if b.Len()+len(line)+reserve > limit {
			b.WriteString(m.cut(left + it.n))
			return truncateUTF8(b.String(), limit)
		}
		b.WriteString(line)
	}
	b.WriteString(tail)
	return truncateUTF8(strings.TrimRight(b.String(), "\n"), limit)
}

// cut is the line that stands for n things left out.
func (m message) cut(n int) string {
	unit := m.unit
	if unit == "" {
		unit = "项"
	}
	if m.more == "" {
		return fmt.Sprintf("……等 %d %s未列出", n, unit)
	}
	return fmt.Sprintf("……等 %d %s，详见[%s](%s)", n, unit, m.moreLabel(), m.more)
}

func (m message) moreLabel() string {
	if m.moreText != "" {
		return m.moreText
	}
	return "查看详情"
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
	// one line per township and kind of alert (and severity, for new ones): critical first,
	// townships and indicators in config order
	bySeverity := func(r store.AlertRecord) string { return r.Severity + "/" + r.Township + "/" + r.Alert.Alert }
	for _, g := range groupRecords(e.sorted(ch.Fired), bySeverity) {
		e.firedLine(&m, p, g, "")
	}
	for _, g := range groupRecords(e.sorted(ch.Escalated), bySeverity) {
		e.firedLine(&m, p, g, "（升级）")
	}
	for _, g := range groupRecords(e.sorted(ch.Resolved), func(r store.AlertRecord) string { return r.Township + "/" + r.Alert.Alert }) {
		e.resolvedLine(&m, p, g)
	}
	m.more, m.moreText = e.pageURL("/alerts", p), "预警列表"
	m.data = map[string]any{
		"fired":     e.alertItems(ch.Fired, p),
		"escalated": e.alertItems(ch.Escalated, p),
		"resolved":  e.alertItems(ch.Resolved, p),
	}
	return m
}

// firedLine adds the line of alerts of one severity, township and kind that fired (or
// changed severity, with a note): one alert with its summary, several with their count and
// indicators, e.g. “【警告】乙镇·逾期未报送 7 项：两癌筛查人数、信访办结率、…等”. The township
// links to its page; an overdue report also links to where the township reports.
func (e *Engine) firedLine(m *message, p kpi.Period, g []store.AlertRecord, note string) {
	r := g[0]
	head := fmt.Sprintf("- 【%s】[%s](%s)·%s", kpi.SeverityLabel(r.Severity), r.TownshipName, e.TownshipURL(r.Township, p), kpi.AlertLabel(r.Alert.Alert))
	report := "" // an overdue report: where to make it
	if r.Alert.Alert == kpi.AlertMissingReport {
		report = fmt.Sprintf("，[去补报](%s)", e.ReportURL())
	}
	if len(g) == 1 {
		m.add(1, "%s：%s%s%s", head, r.Summary, note, report)
		return
	}
	m.add(len(g), "%s %d 项%s：%s%s", head, len(g), note, compactNames(indicatorNames(g)), report)
}

// resolvedLine adds the line of one township's alerts of one kind that resolved together:
// for missing reports “乙镇补报7项，相关预警已解除”, for others the count and indicators;
// with how long they lasted (the longest, when they differ).
func (e *Engine) resolvedLine(m *message, p kpi.Period, g []store.AlertRecord) {
	r := g[0]
	var longest time.Duration
	same := true
	for _, x := range g {
		d := x.ResolvedAt.Sub(x.StartedAt)
		same = same && (longest == 0 || d == longest)
		longest = max(longest, d)
	}
	lasted := "持续" + duration(longest)
	if !same {
		lasted = "最长持续" + duration(longest)
	}
	town := fmt.Sprintf("[%s](%s)", r.TownshipName, e.TownshipURL(r.Township, p))
	switch {
	case r.Alert.Alert == kpi.AlertMissingReport:
		m.add(len(g), "- 【已恢复】%s补报%d项，相关预警已解除（%s；%s）", town, len(g), compactNames(indicatorNames(g)), lasted)
	case len(g) == 1:
		m.add(1, "- 【已恢复】%s·%s·%s（%s）", town, r.IndicatorName, kpi.AlertLabel(r.Alert.Alert), lasted)
	default:
		m.add(len(g), "- 【已恢复】%s·%s %d 项（%s；%s）", town, kpi.AlertLabel(r.Alert.Alert), len(g), compactNames(indicatorNames(g)), lasted)
	}
}

// indicatorNames are the records' indicator names.
func indicatorNames(rs []store.AlertRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.IndicatorName
	}
	return out
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
// deadline, each line with a link to where a township reports (ReportURL).
func (e *Engine) reminderMessage(p kpi.Period, deadline time.Time, miss []townshipMissing) message {
	last := deadline.Add(-time.Nanosecond).In(e.a.Location)
	m := message{event: eventReminders, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【报送提醒】%s月报将于%d月%d日截止", p.Label(), int(last.Month()), last.Day())}
	m.head = []string{fmt.Sprintf("%s的月报须在 %d月%d日24时前报送，以下 %d 个%s尚未报齐（点“去报送”，登录后填报）：",
		p.Label(), int(last.Month()), last.Day(), len(miss), unitWord(e.a))}
	type town struct {
		Township     string   `json:"township"`
		TownshipName string   `json:"township_name"`
		Contact      string   `json:"contact,omitempty"` // who reports for it (config)
		Missing      []string `json:"missing"`           // indicator codes
		MissingNames []string `json:"missing_names"`     // indicator names
		URL          string   `json:"url"`               // the township's page
		ReportURL    string   `json:"report_url"`        // where the township reports (/my)
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
		who := ""
		if tm.Township.Contact != "" {
			who = "（联系人：" + tm.Township.Contact + "）"
		}
		m.add(1, "- %s%s：%d 项未报送（%s），[去报送](%s)", tm.Township.Name, who, len(names), shown, e.ReportURL())
		if tm.Township.Mobile != "" {
			m.mentions = append(m.mentions, tm.Township.Mobile)
		}
		towns = append(towns, town{Township: tm.Township.Code, TownshipName: tm.Township.Name, Contact: tm.Township.Contact,
			Missing: tm.Missing, MissingNames: names, URL: e.TownshipURL(tm.Township.Code, p), ReportURL: e.ReportURL()})
	}
	m.unit = "个" + unitWord(e.a)
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
			for _, r := range k {
				if r.StartedAt.Before(oldest) {
					oldest = r.StartedAt
				}
			}
			kinds = append(kinds, fmt.Sprintf("%s %d 项（%s）", kpi.AlertLabel(k[0].Alert.Alert), len(k), compactNames(indicatorNames(k))))
		}
		m.add(len(g), "- 【%s】[%s](%s)：%s；已持续%s", kpi.SeverityLabel(first.Severity), first.TownshipName,
			e.TownshipURL(first.Township, p), strings.Join(kinds, "、"), duration(now.Sub(oldest)))
	}
	m.more, m.moreText = e.pageURL("/alerts", p), "预警列表"
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
