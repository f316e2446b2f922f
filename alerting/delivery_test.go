package alerting

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestASlowRobotDelaysNeitherSyncNorTheOtherRobots(t *testing.T) {
	const slow = 2 * time.Second
	rc := newReceiver(t)
	rc.wecomDelay = slow
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1))
	mon, _ := fixture(t, rc, ", events: [alerts]", clk)
	ingest(t, mon, "aa,screenings,2024-01,10,,\naa,closure,2024-01,,5,5\nbb,screenings,2024-01,10,,\n")
	e, err := New(mon, Options{Interval: time.Hour, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Run's first Sync fired 乙镇's missing report; DingTalk has it while WeCom still sleeps
	waitUntil("DingTalk's message", func() bool { return len(rc.bodies(pathDing)) == 1 })
	if n := len(rc.bodies(pathWeCom)); n != 0 {
		t.Fatalf("WeCom answered within %v", slow)
	}
	// the report comes in: the next Sync records the resolution at once
	ingest(t, mon, "bb,closure,2024-01,,3,3\n")
	for i := range 3 {
		start := time.Now()
		if _, err := e.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > slow/4 {
			t.Errorf("Sync %d took %v while a robot was sleeping %v", i, took, slow)
		}
	}
	if f, err := mon.Store().FiringAlerts(ctx, mon.Assessment().ID); err != nil || len(f) != 0 {
		t.Errorf("firing after the report: %v (%v)", f, err)
	}
	waitUntil("DingTalk's second message", func() bool { return len(rc.bodies(pathDing)) == 2 })
	// WeCom gets both, in order, once each
	waitUntil("WeCom's two messages", func() bool { return len(rc.bodies(pathWeCom)) == 2 })
	time.Sleep(100 * time.Millisecond)
	got := texts(t, rc, pathWeCom)
	if len(got) != 2 || !strings.Contains(got[0], "新增 1 条") || !strings.Contains(got[1], "已恢复 1 条") {
		t.Errorf("WeCom got %q, want the new alert then its resolution", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
