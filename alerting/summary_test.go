package alerting

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestARobotAddedLaterGetsTheFiringAlertsOnceAsOneSummary(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1)) // January's reports were due by 5 February
	path := dbPath(t)
	opt := Options{RetryWait: time.Millisecond}

	// the county starts with the WeCom group only; 乙镇 reported nothing for January
	mon := open(t, countyConfig(rc, ", events: [alerts]", hookWeCom), path, clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\n")
	e, err := New(mon, opt)
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)
	wantCounts(t, rc, "the first sync", map[string]int{pathWeCom: 1})
	release(t, e)

	// an hour later the operator adds a DingTalk robot and the OA system and restarts
	clk.Add(time.Hour)
	cfg := countyConfig(rc, ", events: [alerts]", hookWeCom, hookDing, hookJSON)
	for restart := range 2 {
		e, err := New(open(t, cfg, path, clk), opt)
		if err != nil {
			t.Fatal(err)
		}
		mustSync(t, e)
		mustSync(t, e)
		release(t, e)
		wantCounts(t, rc, "after the robots were added", map[string]int{pathWeCom: 1, pathDing: 1, pathJSON: 1})
		if restart > 0 {
			break
		}
		ding := texts(t, rc, pathDing)[0]
		for _, want := range []string{"【当前预警】", "共 2 条", "【警告】[乙镇](http://kpimon.example/townships/bb?period=2024-01)",
			"逾期未报送 2 项（两癌筛查人数、信访办结率）", "已持续2小时0分钟", "http://kpimon.example/alerts?period=2024-01"} {
			if !strings.Contains(ding, want) {
				t.Errorf("the summary lacks %q:\n%s", want, ding)
			}
		}
		var j struct {
			Event   string      `json:"event"`
			Summary bool        `json:"summary"`
			Firing  []alertItem `json:"firing"`
		}
		if err := json.Unmarshal(rc.bodies(pathJSON)[0], &j); err != nil || j.Event != "alerts" || !j.Summary || len(j.Firing) != 2 {
			t.Errorf("json summary = %+v (%v), want event alerts, summary true and 2 firing", j, err)
		}
	}

	// from then on every robot hears of the changes
	clk.Add(time.Hour)
	mon = open(t, cfg, path, clk)
	ingest(t, mon, "bb,closure,2024-01,,3,3\n")
	e, err = New(mon, opt)
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)
	wantCounts(t, rc, "after a report", map[string]int{pathWeCom: 2, pathDing: 2, pathJSON: 2})
	if last := texts(t, rc, pathDing)[1]; !strings.Contains(last, "已恢复") || strings.Contains(last, "当前预警") {
		t.Errorf("after the summary, DingTalk should get the change only:\n%s", last)
	}
}

func TestARobotAddedWhileNothingFiresHearsOfTheNextAlert(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 3, 9)) // before January's deadline: nothing can be missing
	path := dbPath(t)
	mon := open(t, countyConfig(rc, ", events: [alerts]", hookWeCom), path, clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)
	wantCounts(t, rc, "with nothing firing", map[string]int{pathWeCom: 0})
	clk.Set(shanghai(t, 2024, 2, 6, 0)) // 乙镇's closure rate is overdue
	mustSync(t, e)
	got := texts(t, rc, pathWeCom)
	if len(got) != 1 || !strings.Contains(got[0], "新增 1 条") || strings.Contains(got[0], "当前预警") {
		t.Errorf("the robot should hear of the new alert as a change: %q", got)
	}
}
