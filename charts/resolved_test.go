package charts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// TestAlertsPageListsResolutionsWithinTheMonth plays the trial's story on a real database:
// after March's deadline 乙镇 has not sent its screenings, the alert lifecycle store records
// its March alerts (逾期未报送, 未达序时进度); then 乙镇's late report arrives, the store sees
// both resolve, and 预警 for March lists them as resolved by March's data, with the time.
// The month-by-month evaluations alone never held March's 逾期未报送: without the store's
// resolutions the page leaves it out.
func TestAlertsPageListsResolutionsWithinTheMonth(t *testing.T) {
	ctx := context.Background()
	march := kpi.MustPeriod("2024-03")
	afterDeadline := time.Date(2024, 4, 6, 1, 0, 0, 0, time.UTC)
	late := time.Date(2024, 4, 8, 10, 0, 0, 0, time.UTC) // 18:00 in Asia/Shanghai
	mon := monitorFor(t, mustAssessment(t, smallConfig), smallBatches(), late.Add(time.Hour))
	db, a := mon.Store().(*sqlite.DB), mon.Assessment()

	before, err := mon.Evaluate(march)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SyncAlerts(ctx, a.ID, afterDeadline, march, before.Alerts, nil); err != nil {
		t.Fatal(err)
	}
	db.SetClock(func() time.Time { return late })
	if _, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: "乙镇妇联", Source: "2024-03-乙镇-补报.csv"},
		Observations: []kpi.Observation{obs("bb", "screenings", "2024-03", 200)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mon.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := mon.Evaluate(march)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := db.SyncAlerts(ctx, a.ID, late, march, after.Alerts, nil)
	if err != nil {
		t.Fatal(err)
	}
	resolvedNow := map[string]bool{}
	for _, r := range ch.Resolved {
		resolvedNow[r.Alert.Alert+"/"+r.Township+"/"+r.Indicator] = true
	}
	if !resolvedNow["missing_report/bb/screenings"] || !resolvedNow["behind_pace/bb/screenings"] || len(ch.Resolved) != 2 {
		t.Fatalf("fixture changed: the late report resolved %v", resolvedNow)
	}

	s, err := TakeSnapshot(ctx, mon, march)
	if err != nil {
		t.Fatal(err)
	}
	// From the evaluations alone: 未达序时进度 held as of February and no longer as of March
	// (the late report made up for it), so it is listed month over month; 逾期未报送 of March
	// never held in any of them.
	if without := section(t, renderAlerts(t, s), "resolved", "</section>"); strings.Contains(without, "逾期未报送") || !strings.Contains(without, "2024年3月已解除") || strings.Contains(without, "不再触发") {
		t.Fatalf("fixture changed: from the evaluations alone 近期解除 reads %s", without)
	}
	if s.Resolved, err = LoadResolutions(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	page := renderAlerts(t, s)
	resolved := section(t, page, "resolved", "</section>")
	for _, want := range []string{
		`<td class="c-title">逾期未报送</td><td class="c-when">自2024年3月起</td><td class="c-text">2024年3月数据更新后解除（2024-04-08 18:00 北京时间）</td><td class="c-link"><a href="/townships/bb?period=2024-03">乙镇</a></td><td class="c-link"><a href="/indicators/screenings?period=2024-03">两癌筛查人数</a></td>`,
		`<td class="c-title">未达序时进度</td><td class="c-when">自2024年1月起</td><td class="c-text">2024年3月数据更新后解除（2024-04-08 18:00 北京时间）</td><td class="c-link"><a href="/townships/bb?period=2024-03">乙镇</a></td>`,
	} {
		if !strings.Contains(resolved, want) {
			t.Errorf("近期解除 lacks %s:\n%s", want, resolved)
		}
	}
	if _, v, _ := tileOf(t, page, "近期解除"); v != "2 条" {
		t.Errorf("近期解除 tile = %s, want 2 条", v)
	}
	// February's page does not show what March's data resolved.
	feb, err := TakeSnapshot(ctx, mon, kpi.MustPeriod("2024-02"))
	if err != nil {
		t.Fatal(err)
	}
	feb.Resolved = s.Resolved
	if p := renderAlerts(t, feb); strings.Contains(section(t, p, "resolved", "</section>"), "数据更新后解除") {
		t.Errorf("February's 预警 lists March's resolutions")
	}
}

func TestLoadResolutionsKeepsTheYear(t *testing.T) {
	a := mustAssessment(t, smallConfig)
	at := time.Date(2024, 4, 8, 10, 0, 0, 0, time.UTC)
	recs := []store.AlertRecord{
		{Alert: kpi.Alert{Alert: "missing_report", Township: "bb"}, Period: kpi.MustPeriod("2024-03"), ResolvedAt: &at},
		{Alert: kpi.Alert{Alert: "missing_report", Township: "aa"}, Period: kpi.MustPeriod("2023-12"), ResolvedAt: &at},
		{Alert: kpi.Alert{Alert: "behind_pace", Township: "aa"}, Period: kpi.MustPeriod("2024-03")},
	}
	got := resolutionsFrom(a, recs)
	if len(got) != 1 || got[0].Alert.Township != "bb" || !got[0].ResolvedAt.Equal(at) || got[0].Period != kpi.MustPeriod("2024-03") {
		t.Errorf("resolutionsFrom = %+v, want only bb's of 2024", got)
	}
}

func mustAssessment(tb testing.TB, cfg string) *kpi.Assessment {
	tb.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// renderAlerts renders 预警 from the snapshot as the server does.
func renderAlerts(tb testing.TB, s *Snapshot) string {
	tb.Helper()
	r, err := NewRenderer()
	if err != nil {
		tb.Fatal(err)
	}
	v, err := buildAlerts(s, liveLinks(s.Period))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := r.render(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
