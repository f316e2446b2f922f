package charts

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai resolves on machines without zoneinfo

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// smallConfig is a two-township assessment with one indicator of each kind.
const smallConfig = `name: 测试县妇联2024年度考核
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, category: 关爱帮扶, unit: 人, kind: count, weight: 40, target: 1200, targets: {bb: 600}}
  - {code: closure, name: 信访办结率, category: 维权信访, unit: "%", kind: ratio, weight: 30, threshold: 0.98}
  - {code: review, name: 规划中期评估, category: 组织建设, kind: milestone, weight: 30, due: 2}
  - {code: received, name: 信访受理件数, category: 维权信访, unit: 件, kind: count, weight: 0}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
  - {code: incident, name: 重大责任事故, kind: veto}
`

// hostileConfig puts markup, script and go-echarts' formatter marker into every name a
// config lets people write.
const hostileConfig = `name: "</script><script>alert(1)</script>妇联考核"
year: 2024
grades:
  - {name: "<i>优秀</i>", min: 90}
  - {name: "\"><img src=x onerror=alert(1)>", min: 0}
townships:
  - {code: aa, name: "</script><script>alert(1)</script>"}
  - {code: bb, name: "\"><img src=x onerror=alert(1)>"}
  - {code: cc, name: "__f__function(){alert(1)}__f__"}
indicators:
  - {code: screenings, name: "</script><script>alert(1)</script>筛查", category: "\"><img src=x onerror=alert(1)>", unit: "<b>人</b>", kind: count, weight: 50, target: 100}
  - {code: closure, name: "\"><img src=x onerror=alert(1)>办结率", category: "__f__function(){alert(1)}__f__", kind: ratio, weight: 50, threshold: 0.98}
  - {code: honors, name: "'-alert(1)-'", kind: bonus, max: 5}
`

// hostileNames are the strings that must never become markup or script.
var hostileNames = []string{
	"</script><script>alert(1)</script>",
	`"><img src=x onerror=alert(1)>`,
	"__f__function(){alert(1)}__f__",
}

// fixedNow is the clock of the small fixtures: after the deadline of March 2024's reports.
var fixedNow = time.Date(2024, 4, 10, 9, 0, 0, 0, time.UTC)

func obs(t, ind, p string, v float64) kpi.Observation {
	return kpi.Observation{Township: t, Indicator: ind, Period: kpi.MustPeriod(p), Value: v}
}

func ratio(t, ind, p string, n, d float64) kpi.Observation {
	return kpi.Observation{Township: t, Indicator: ind, Period: kpi.MustPeriod(p), Numerator: n, Denominator: d}
}

// batch is one ingest of a fixture: who sent it, when, and what.
type batch struct {
	actor, source string
	at            time.Time
	obs           []kpi.Observation
}

// smallBatches is a quarter of reports: 甲镇 ahead, 乙镇 behind, 乙镇's March report of
// screenings missing, a correction of 甲镇's February screenings by the county office.
func smallBatches() []batch {
	jan := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	feb := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	mar := time.Date(2024, 4, 5, 10, 0, 0, 0, time.UTC)
	return []batch{
		{"甲镇妇联", "2024-01-甲镇.csv", jan, []kpi.Observation{
			obs("aa", "screenings", "2024-01", 110), ratio("aa", "closure", "2024-01", 10, 10), obs("aa", "received", "2024-01", 10)}},
		{"乙镇妇联", "2024-01-乙镇.csv", jan, []kpi.Observation{
			obs("bb", "screenings", "2024-01", 30), ratio("bb", "closure", "2024-01", 9, 10), obs("bb", "received", "2024-01", 10)}},
		{"甲镇妇联", "2024-02-甲镇.csv", feb, []kpi.Observation{
			obs("aa", "screenings", "2024-02", 1000), ratio("aa", "closure", "2024-02", 8, 8), obs("aa", "review", "2024-02", 1),
			obs("aa", "received", "2024-02", 8), obs("aa", "honors", "2024-02", 2)}},
		{"乙镇妇联", "2024-02-乙镇.csv", feb, []kpi.Observation{
			obs("bb", "screenings", "2024-02", 40), ratio("bb", "closure", "2024-02", 10, 10), obs("bb", "received", "2024-02", 10)}},
		{"县妇联办公室", "更正-2024-02.csv", feb.Add(48 * time.Hour), []kpi.Observation{
			obs("aa", "screenings", "2024-02", 100)}},
		{"甲镇妇联", "2024-03-甲镇.csv", mar, []kpi.Observation{
			obs("aa", "screenings", "2024-03", 120), ratio("aa", "closure", "2024-03", 12, 12), obs("aa", "received", "2024-03", 12)}},
		{"乙镇妇联", "2024-03-乙镇.csv", mar, []kpi.Observation{
			ratio("bb", "closure", "2024-03", 10, 11), obs("bb", "received", "2024-03", 11)}},
	}
}

// hostileBatches reports for every township of hostileConfig.
func hostileBatches() []batch {
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	var o []kpi.Observation
	for i, t := range []string{"aa", "bb", "cc"} {
		o = append(o, obs(t, "screenings", "2024-01", float64(4+3*i)), ratio(t, "closure", "2024-01", float64(8+i), 10))
	}
	o = append(o, obs("aa", "honors", "2024-01", 1))
	// the last batch carries several files, so that 报送记录 folds hostile names into a list
	many := strings.Join([]string{"</script><script>alert(1)</script>.csv", "\"><img src=x onerror=alert(1)>.xlsx", "a.csv", "__f__function(){alert(1)}__f__.csv"}, ", ")
	return []batch{{"</script><script>alert(1)</script>", "\"><img src=x onerror=alert(1)>.csv", at, o},
		{"<b>县</b>", "fix.csv", at.Add(time.Hour), []kpi.Observation{obs("bb", "screenings", "2024-01", 8)}},
		{"<i>镇</i>", many, at.Add(2 * time.Hour), []kpi.Observation{obs("cc", "screenings", "2024-01", 12)}}}
}

// newMonitor opens a fresh database in a temp dir, ingests the batches with their times and
// returns a monitor on it whose clock is now.
func newMonitor(tb testing.TB, cfg string, batches []batch, now time.Time) *monitor.Monitor {
	tb.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		tb.Fatal(err)
	}
	return monitorFor(tb, a, batches, now)
}

func monitorFor(tb testing.TB, a *kpi.Assessment, batches []batch, now time.Time) *monitor.Monitor {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "kpimon.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	for _, b := range batches {
		at := b.at
		db.SetClock(func() time.Time { return at })
		if _, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: b.actor, Source: b.source}, Observations: b.obs}); err != nil {
			tb.Fatalf("ingest %s: %v", b.source, err)
		}
	}
	db.SetClock(func() time.Time { return now })
	mon, err := monitor.New(ctx, a, db, monitor.Options{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return mon
}

// demoNow is a moment after the demo year's last deadline.
var demoNow = time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)

// demoMonitor loads the bundled demo (清城区, 8 townships, a year of reports) as
// `kpimon demo` does.
func demoMonitor(tb testing.TB) *monitor.Monitor {
	tb.Helper()
	a, err := demo.Assessment()
	if err != nil {
		tb.Fatal(err)
	}
	var batches []batch
	for _, r := range demo.Reports(a) {
		b := collector.NewBatch(a)
		b.AddCSV(r.Name, strings.NewReader(string(r.CSV)))
		if err := b.Err(); err != nil {
			tb.Fatalf("demo report %s: %v", r.Name, err)
		}
		batches = append(batches, batch{r.Actor, r.Name, r.At, b.Observations()})
	}
	return monitorFor(tb, a, batches, demoNow)
}

func mustPeriod(tb testing.TB, s string) kpi.Period {
	tb.Helper()
	p, err := kpi.ParsePeriod(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func itoa(n int) string { return strconv.Itoa(n) }
