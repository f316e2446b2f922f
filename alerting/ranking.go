package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Rankings and their corrections (更正).
//
// A month's ranking goes to every webhook that takes "rankings" once the month is complete
// (version 1). When a later report or a correction changes that month's ranking — the
// order, a total (to 2 decimals) or a grade — every webhook that was told the ranking gets
// one 更正 message saying what changed (version 2, 3, …), until the month is locked.
//
// What each webhook was told is kept in the notifications ledger, so a restart (or another
// server taking over) neither repeats nor misses a correction:
//
//	rankings         P          version 1 was sent (the ledger entry kpimon always kept)
//	ranking-version  P#n        version n was sent (n = 1, 2, …)
//	ranking-digest   P#n:D      version n's ranking had digest D (rankingDigest)
//
// The ledger keeps digests, not the rankings themselves, so the old side of "第3→第2" comes
// from the rankings this process has computed for the month (rankingMemory). After a
// restart that missed the change (the correction came while kpimon was down), the message
// still says the ranking changed and gives the corrected ranking in full.
//
// A webhook that was told a month's ranking by a kpimon from before corrections existed has
// no ranking-version entry: the ranking as it is at the first look is taken as the one it
// was told.

// Ledger kinds of ranking corrections (see above).
const (
	kindRankingVersion = "ranking-version"
	kindRankingDigest  = "ranking-digest"
)

// rankRow is what a ranking says of one township, as published.
type rankRow struct {
	Township string
	Name     string
	Rank     int
	Tied     bool
	Total    string // 2 decimals, as compared and shown
	Grade    string // with 一票否决 marked
}

// rankRows is the ranking of r as published.
func rankRows(r *kpi.Result) []rankRow {
	out := make([]rankRow, len(r.Rankings))
	for i, x := range r.Rankings {
		out[i] = rankRow{Township: x.Township, Name: x.Name, Rank: x.Rank, Tied: x.Tied,
			Total: fmt.Sprintf("%.2f", x.Total), Grade: x.GradeLabel()}
	}
	return out
}

// rankingDigest identifies a ranking by its order, ranks, totals and grades (not by the
// change against the month before, which a correction of an earlier month moves).
func rankingDigest(rows []rankRow) string {
	h := sha256.New()
	for _, r := range rows {
		fmt.Fprintf(h, "%s\x00%d\x00%t\x00%s\x00%s\n", r.Township, r.Rank, r.Tied, r.Total, r.Grade)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// rankingMemory keeps the rankings of each month this process has computed, by digest, for
// the old side of a correction, and what each webhook is known to have been told.
type rankingMemory struct {
	mu      sync.Mutex
	seen    map[kpi.Period]map[string][]rankRow // month → digest → ranking
	order   map[kpi.Period][]string             // digests of a month, oldest first
	told    map[string]toldRanking              // channel + month → what it was told
	checked uint64                              // the data version corrections were last looked for at
}

// toldRanking is the latest version of a month's ranking a webhook was told.
type toldRanking struct {
	version int
	digest  string // "" when this process does not know it
}

// rankingsKept bounds the rankings of one month kept in memory.
const rankingsKept = 8

func newRankingMemory() rankingMemory {
	return rankingMemory{seen: map[kpi.Period]map[string][]rankRow{}, order: map[kpi.Period][]string{}, told: map[string]toldRanking{}}
}

// see remembers a ranking of month p.
func (m *rankingMemory) see(p kpi.Period, digest string, rows []rankRow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[p] == nil {
		m.seen[p] = map[string][]rankRow{}
	}
	if _, ok := m.seen[p][digest]; ok {
		return
	}
	m.seen[p][digest] = rows
	m.order[p] = append(m.order[p], digest)
	if len(m.order[p]) > rankingsKept {
		delete(m.seen[p], m.order[p][0])
		m.order[p] = m.order[p][1:]
	}
}

// candidates are the digests of month p this process has seen, newest first.
func (m *rankingMemory) candidates(p kpi.Period) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.order[p]))
	for i := len(m.order[p]) - 1; i >= 0; i-- {
		out = append(out, m.order[p][i])
	}
	return out
}

// rows is the ranking of month p with the digest, if this process has seen it.
func (m *rankingMemory) rows(p kpi.Period, digest string) ([]rankRow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.seen[p][digest]
	return r, ok
}

// isChecked reports whether corrections were looked for at this data version.
func (m *rankingMemory) isChecked(version uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checked == version
}

func (m *rankingMemory) setChecked(version uint64) {
	m.mu.Lock()
	m.checked = version
	m.mu.Unlock()
}

// forgetTold forgets what the webhooks were told (read again from the ledger) and makes the
// next Sync look for corrections.
func (m *rankingMemory) forgetTold() {
	m.mu.Lock()
	m.told = map[string]toldRanking{}
	m.checked = 0
	m.mu.Unlock()
}

// forgetChecked makes the next Sync look for corrections again.
func (m *rankingMemory) forgetChecked() { m.setChecked(0) }

func (m *rankingMemory) toldKey(channel string, p kpi.Period) string {
	return channel + "\x00" + p.String()
}

func (m *rankingMemory) getTold(channel string, p kpi.Period) (toldRanking, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.told[m.toldKey(channel, p)]
	return t, ok
}

func (m *rankingMemory) setTold(channel string, p kpi.Period, t toldRanking) {
	m.mu.Lock()
	m.told[m.toldKey(channel, p)] = t
	m.mu.Unlock()
}

// versionKey and digestKey are the ledger keys of version n of month p's ranking.
func versionKey(p kpi.Period, n int) string { return fmt.Sprintf("%s#%d", p, n) }
func digestKey(p kpi.Period, n int, digest string) string {
	return fmt.Sprintf("%s#%d:%s", p, n, digest)
}

// rank sends the period's ranking once the period is complete: every township reported
// every monthly indicator, or the report deadline has passed.
func (e *Engine) rank(ctx context.Context, d *kpi.Dataset, r *kpi.Result, now time.Time) {
	if !e.wantsAny(eventRankings) {
		return
	}
	p := r.Period
	if latest, ok := d.LatestPeriod(); !ok || latest.Before(p) {
		return // nobody has reported the month: nothing to rank yet
	}
	complete := len(missingReports(e.a, d, p)) == 0 || !now.Before(p.Deadline(e.a.ReportDeadlineDay, e.a.Location))
	if !complete {
		return
	}
	rows := rankRows(r)
	digest := rankingDigest(rows)
	e.published.see(p, digest, rows)
	m := e.rankingMessage(r)
	for _, c := range e.channels {
		if !c.takes(eventRankings) || c.busy(topicRanking(p.String())) {
			continue
		}
		sent, err := e.notified(ctx, c.Name, eventRankings, p.String())
		if err != nil {
			e.log.Error("读取已发送消息记录失败", "err", err)
			continue
		}
		if sent {
			continue
		}
		c.enqueue(outgoing{event: eventRankings, topic: topicRanking(p.String()), msg: m,
			record: []ledgerEntry{{eventRankings, p.String()}, {kindRankingVersion, versionKey(p, 1)}, {kindRankingDigest, digestKey(p, 1, digest)}},
			sent:   func() { e.published.setTold(c.Name, p, toldRanking{version: 1, digest: digest}) }})
	}
}

// correct queues a 更正 for every webhook that was told a month's ranking which has
// changed since. It looks at the months up to the live one that are not locked, whenever
// the data changed (rankings do not move with the clock) or a correction could not be
// delivered.
func (e *Engine) correct(ctx context.Context, live *kpi.Result) {
	if !e.wantsAny(eventRankings) {
		return
	}
	version := e.mon.Version()
	if e.published.isChecked(version) {
		return
	}
	locks, err := e.db.Locks(ctx, e.a.ID)
	if err != nil {
		e.log.Error("读取已锁定月份失败", "err", err)
		return
	}
	locked := map[kpi.Period]bool{}
	for _, l := range locks {
		locked[l.Period] = true
	}
	var queue []func()
	complete := true
	for m := 1; m <= live.Period.Month; m++ {
		p := kpi.Period{Year: e.a.Year, Month: m}
		if locked[p] {
			continue
		}
		q, all, err := e.correctMonth(ctx, p, live)
		if err != nil {
			e.log.Error("排名更正失败", "period", p.String(), "err", err)
			return // looked at again at the next sync
		}
		queue = append(queue, q...)
		complete = complete && all
	}
	// checked before the messages are queued, so that a failed delivery (which forgets the
	// check) cannot come first; not checked while a webhook's ranking message of some month
	// was still on its way (looked at again once it is out)
	if complete {
		e.published.setChecked(version)
	}
	for _, q := range queue {
		q()
	}
}

// correctMonth works out month p's corrections, returned as the calls that queue them; all
// is false when a webhook was passed over because a ranking message of the month was still
// on its way to it.
func (e *Engine) correctMonth(ctx context.Context, p kpi.Period, live *kpi.Result) (queue []func(), all bool, err error) {
	var (
		r      *kpi.Result // evaluated when some webhook was told the month's ranking
		rows   []rankRow
		digest string
	)
	all = true
	for _, c := range e.channels {
		if !c.takes(eventRankings) {
			continue
		}
		if c.busy(topicRanking(p.String())) {
			all = false
			continue
		}
		sent, err := e.notified(ctx, c.Name, eventRankings, p.String())
		if err != nil {
			return nil, false, err
		}
		if !sent {
			continue // the month's ranking goes out whole (rank), or went before this month ended
		}
		if r == nil {
			if r = live; p != live.Period {
				if r, err = e.mon.Evaluate(p); err != nil {
					return nil, false, fmt.Errorf("evaluate %s: %w", p, err)
				}
			}
			rows = rankRows(r)
			digest = rankingDigest(rows)
			e.published.see(p, digest, rows)
		}
		told, err := e.told(ctx, c.Name, p, digest)
		if err != nil {
			return nil, false, err
		}
		if told.digest == digest {
			continue
		}
		next := told.version + 1
		old, known := e.published.rows(p, told.digest)
		out := outgoing{event: eventRankings, topic: topicRanking(p.String()), msg: e.correctionMessage(r, old, known),
			record: []ledgerEntry{{kindRankingVersion, versionKey(p, next)}, {kindRankingDigest, digestKey(p, next, digest)}},
			sent:   func() { e.published.setTold(c.Name, p, toldRanking{version: next, digest: digest}) },
			failed: e.published.forgetChecked}
		queue = append(queue, func() { c.enqueue(out) })
	}
	return queue, all, nil
}

// told is the latest version of month p's ranking the webhook was told, from memory or the
// ledger; current is the month's ranking now, the first digest tried.
func (e *Engine) told(ctx context.Context, channel string, p kpi.Period, current string) (toldRanking, error) {
	if t, ok := e.published.getTold(channel, p); ok {
		return t, nil
	}
	first, err := e.notified(ctx, channel, kindRankingVersion, versionKey(p, 1))
	if err != nil {
		return toldRanking{}, err
	}
	if !first {
		// told by a kpimon that kept no versions: take the ranking as it is now as told
		for _, l := range []ledgerEntry{{kindRankingVersion, versionKey(p, 1)}, {kindRankingDigest, digestKey(p, 1, current)}} {
			if err := e.record(ctx, channel, l); err != nil {
				return toldRanking{}, err
			}
		}
		t := toldRanking{version: 1, digest: current}
		e.published.setTold(channel, p, t)
		return t, nil
	}
	n := 1
	for {
		more, err := e.notified(ctx, channel, kindRankingVersion, versionKey(p, n+1))
		if err != nil {
			return toldRanking{}, err
		}
		if !more {
			break
		}
		n++
	}
	t := toldRanking{version: n}
	for _, d := range append([]string{current}, e.published.candidates(p)...) {
		hit, err := e.notified(ctx, channel, kindRankingDigest, digestKey(p, n, d))
		if err != nil {
			return toldRanking{}, err
		}
		if hit {
			t.digest = d
			break
		}
	}
	e.published.setTold(channel, p, t)
	return t, nil
}

// rankingMessage is the month's ranking (月度排名).
func (e *Engine) rankingMessage(r *kpi.Result) message {
	p := r.Period
	m := message{event: eventRankings, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【月度排名】%s %s", e.a.Name, p.Label())}
	m.head = []string{fmt.Sprintf("截至%s，%d 个%s得分与排名：", p.Label(), len(r.Rankings), unitWord(e.a))}
	e.rankingItems(&m, r)
	if e.baseURL != "" {
		m.more = e.baseURL + "/?period=" + p.String()
	}
	m.unit = "个" + unitWord(e.a)
	m.data = map[string]any{"rankings": e.rankingJSON(r)}
	return m
}

// rankingItems lists the whole ranking, one township a line.
func (e *Engine) rankingItems(m *message, r *kpi.Result) {
	for _, x := range r.Rankings {
		change := ""
		if x.RankChange != nil {
			switch c := *x.RankChange; {
			case c > 0:
				change = fmt.Sprintf("，较上月↑%d", c)
			case c < 0:
				change = fmt.Sprintf("，较上月↓%d", -c)
			default:
				change = "，与上月持平"
			}
		}
		m.add(1, "- %s [%s](%s)：%.2f 分，%s%s", rankLabel(x.Rank, x.Tied), x.Name, e.TownshipURL(x.Township, r.Period), x.Total, x.GradeLabel(), change)
	}
}

// rankLabel is 第3名, or 第3名（并列） for a shared rank.
func rankLabel(rank int, tied bool) string {
	if tied {
		return fmt.Sprintf("第%d名（并列）", rank)
	}
	return fmt.Sprintf("第%d名", rank)
}

// rankingRow is one line of a ranking in the JSON body.
type rankingRow struct {
	Rank         int     `json:"rank"`
	Township     string  `json:"township"`
	TownshipName string  `json:"township_name"`
	Score        float64 `json:"score"`
	Grade        string  `json:"grade"`
	Veto         bool    `json:"veto"`
	RankChange   *int    `json:"rank_change"`
	URL          string  `json:"url"`
}

func (e *Engine) rankingJSON(r *kpi.Result) []rankingRow {
	rows := make([]rankingRow, 0, len(r.Rankings))
	for _, x := range r.Rankings {
		rows = append(rows, rankingRow{Rank: x.Rank, Township: x.Township, TownshipName: x.Name, Score: x.Total, Grade: x.Grade,
			Veto: x.Veto, RankChange: x.RankChange, URL: e.TownshipURL(x.Township, r.Period)})
	}
	return rows
}

// rankingChange is one township's line of a correction in the JSON body.
type rankingChange struct {
	Township     string `json:"township"`
	TownshipName string `json:"township_name"`
	OldRank      int    `json:"old_rank,omitempty"` // 0: not in the ranking published
	Rank         int    `json:"rank"`
	OldScore     string `json:"old_score,omitempty"`
	Score        string `json:"score"`
	OldGrade     string `json:"old_grade,omitempty"`
	Grade        string `json:"grade"`
}

// correctionMessage says how month r.Period's ranking differs from the one published (old,
// when known): one line per township whose rank, total or grade changed, e.g.
// “[北流镇](…)：第3名→第2名，85.20→86.10 分，称职→优秀”. When the published ranking is not
// known, it gives the corrected ranking in full.
func (e *Engine) correctionMessage(r *kpi.Result, old []rankRow, known bool) message {
	p := r.Period
	m := message{event: eventRankings, assessment: e.a.Name, period: p,
		title: fmt.Sprintf("【排名更正】%s %s", e.a.Name, p.Label())}
	data := map[string]any{"correction": true, "rankings": e.rankingJSON(r)}
	if !known {
		m.head = []string{fmt.Sprintf("更正：%s排名有变（与此前发布的不同），更正后的排名如下：", p.Label())}
		e.rankingItems(&m, r)
	} else {
		was := map[string]rankRow{}
		for _, x := range old {
			was[x.Township] = x
		}
		var changes []rankingChange
		var lines []string
		for _, x := range rankRows(r) {
			o, ok := was[x.Township]
			if ok && o.Rank == x.Rank && o.Tied == x.Tied && o.Total == x.Total && o.Grade == x.Grade {
				continue
			}
			c := rankingChange{Township: x.Township, TownshipName: x.Name, Rank: x.Rank, Score: x.Total, Grade: x.Grade}
			var parts []string
			if !ok {
				parts = append(parts, "新列入排名，"+rankLabel(x.Rank, x.Tied), x.Total+" 分", x.Grade)
			} else {
				c.OldRank, c.OldScore, c.OldGrade = o.Rank, o.Total, o.Grade
				if o.Rank != x.Rank || o.Tied != x.Tied {
					parts = append(parts, rankLabel(o.Rank, o.Tied)+"→"+rankLabel(x.Rank, x.Tied))
				}
				if o.Total != x.Total {
					parts = append(parts, o.Total+"→"+x.Total+" 分")
				}
				if o.Grade != x.Grade {
					parts = append(parts, o.Grade+"→"+x.Grade)
				}
			}
			changes = append(changes, c)
			lines = append(lines, fmt.Sprintf("[%s](%s)：%s", x.Name, e.TownshipURL(x.Township, p), strings.Join(parts, "，")))
		}
		m.head = []string{fmt.Sprintf("更正：%s排名有变，%d 个%s的名次、得分或等次与此前发布的不同：", p.Label(), len(lines), unitWord(e.a))}
		for _, l := range lines {
			m.add(1, "- %s", l)
		}
		data["changes"] = changes
	}
	m.more, m.moreText, m.unit = e.pageURL("/rankings", p), "完整排名", "个"+unitWord(e.a)
	m.data = data
	return m
}
