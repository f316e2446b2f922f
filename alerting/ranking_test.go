package alerting

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAChangedRankingIsCorrectedOncePerChange(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 2, 9))
	path := dbPath(t)
	cfg := countyConfig(rc, ", events: [rankings]", hookWeCom, hookDing, hookJSON)
	opt := Options{RetryWait: time.Millisecond}
	all := []string{pathWeCom, pathDing, pathJSON}
	var running *Engine
	start := func() (*Engine, func(rows string)) { // a (re)started server
		if running != nil {
			release(t, running)
		}
		mon := open(t, cfg, path, clk)
		e, err := New(mon, opt)
		if err != nil {
			t.Fatal(err)
		}
		running = e
		return e, func(rows string) { ingest(t, mon, rows) }
	}
	want := func(when string, n int) {
		t.Helper()
		for _, p := range all {
			if got := len(rc.bodies(p)); got != n {
				t.Errorf("%s: %s got %d messages, want %d", when, p, got, n)
			}
		}
	}
	lastText := func() string { ts := texts(t, rc, pathWeCom); return ts[len(ts)-1] }

	// January complete: 甲镇 100 分 (1st, 优秀), 乙镇 90.82 分 (2nd, 优秀)
	e, report := start()
	report("aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,12,,\nbb,closure,2024-01,,4,5\n")
	mustSync(t, e)
	want("the ranking", 1)
	if c := lastText(); !strings.Contains(c, "【月度排名】") || !strings.Contains(c, "第1名 [甲镇]") {
		t.Fatalf("ranking message:\n%s", c)
	}

	// 甲镇 corrects its screenings to 5: 75 分, 称职, and 乙镇 moves up
	clk.Add(time.Hour)
	report("aa,screenings,2024-01,5,,\n")
	for range 3 {
		mustSync(t, e)
	}
	want("the correction", 2)
	c := lastText()
	for _, s := range []string{"【排名更正】", "更正：2024年1月排名有变", "[乙镇](http://kpimon.example/townships/bb?period=2024-01)：第2名→第1名",
		"[甲镇](http://kpimon.example/townships/aa?period=2024-01)：第1名→第2名，100.00→75.00 分，优秀→称职",
		"http://kpimon.example/rankings?period=2024-01"} {
		if !strings.Contains(c, s) {
			t.Errorf("the correction lacks %q:\n%s", s, c)
		}
	}
	var j struct {
		Event      string          `json:"event"`
		Correction bool            `json:"correction"`
		Changes    []rankingChange `json:"changes"`
	}
	if err := json.Unmarshal(rc.bodies(pathJSON)[1], &j); err != nil || j.Event != "rankings" || !j.Correction || len(j.Changes) != 2 ||
		j.Changes[0].Township != "bb" || j.Changes[0].OldRank != 2 || j.Changes[0].Rank != 1 {
		t.Errorf("json correction = %+v (%v)", j, err)
	}

	// a report that changes no rank, total or grade (乙镇's rate is the same 80%) says nothing
	report("bb,closure,2024-01,,8,10\n")
	mustSync(t, e)
	want("a report that leaves the ranking as it was", 2)

	// a restart repeats nothing
	e, report = start()
	mustSync(t, e)
	want("a restart", 2)

	// the correction is taken back: the ranking as first published is a change again
	report("aa,screenings,2024-01,10,,\n")
	mustSync(t, e)
	want("the correction taken back", 3)
	if c := lastText(); !strings.Contains(c, "第2名→第1名，75.00→100.00 分，称职→优秀") {
		t.Errorf("second correction:\n%s", c)
	}

	// a correction made while kpimon was down is sent at the next start, once, with the
	// corrected ranking in full (the old one is not in this process' memory)
	_, report = start()
	report("bb,screenings,2024-01,6,,\n") // 乙镇 falls to 70.82 分
	e, _ = start()
	mustSync(t, e)
	mustSync(t, e)
	want("a correction made while kpimon was down", 4)
	if c := lastText(); !strings.Contains(c, "更正后的排名如下") || !strings.Contains(c, "第2名 [乙镇]") || !strings.Contains(c, "70.82 分") {
		t.Errorf("correction after a restart:\n%s", c)
	}
	e, _ = start()
	mustSync(t, e)
	want("another restart", 4)
}

func TestACorrectionOfAnEarlierMonthIsSentWhileTheNextIsUnderWay(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 2, 9))
	mon := open(t, countyConfig(rc, ", events: [rankings]", hookWeCom), dbPath(t), clk)
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,12,,\nbb,closure,2024-01,,4,5\n")
	mustSync(t, e)
	// February is being reported (the live month is February, not yet complete) when
	// 甲镇 corrects January
	clk.Set(shanghai(t, 2024, 2, 20, 9))
	ingest(t, mon, "aa,screenings,2024-02,10,,\n")
	mustSync(t, e)
	ingest(t, mon, "aa,screenings,2024-01,5,,\n")
	mustSync(t, e)
	mustSync(t, e)
	got := texts(t, rc, pathWeCom)
	if len(got) != 2 || !strings.Contains(got[1], "更正：2024年1月排名有变") || !strings.Contains(got[1], "第1名→第2名") {
		t.Errorf("messages = %q, want the January ranking and one correction of it", got)
	}
}
