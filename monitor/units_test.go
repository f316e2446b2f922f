package monitor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

var cityIDs = []string{"qingcheng-2026", "fogang-2026", "qingxin-2026", "qingyuan-2026"}

// derivations is how many times each unit's row of the city was derived.
func derivations(m *Monitor) []uint64 {
	out := make([]uint64, len(m.derivations))
	for t := range m.derivations {
		out[t] = m.derivations[t].Load()
	}
	return out
}

// TestCityFollowsItsCounties: the demo's city qingyuan-2026 takes each county's figures from
// the county's own evaluation (its 全县 aggregate, every month); one township's correction in
// 佛冈县 changes 佛冈县's figures, the city's figure of 佛冈县 and both rankings, and only 佛冈县's
// row of the city is derived and evaluated again.
func TestCityFollowsItsCounties(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) // October's reports overdue for the city (10 November)
	d, _ := demoDeployment(t, now, cityIDs...)
	city, _ := d.Monitor("qingyuan-2026")
	a := city.Assessment()
	u := city.Units()
	if u == nil {
		t.Fatal("the city is not linked to its counties")
	}
	for m := 1; m <= 10; m++ {
		p := kpi.Period{Year: 2026, Month: m}
		r, err := city.Evaluate(p)
		if err != nil {
			t.Fatal(err)
		}
		for tw, unit := range a.Townships {
			county, ok := city.UnitMonitor(tw)
			if !ok || county.Assessment().ID != unit.Assessment {
				t.Fatalf("unit %s's monitor is %v", unit.Code, county)
			}
			cr, err := county.Evaluate(p)
			if err != nil {
				t.Fatal(err)
			}
			for i, ind := range a.Indicators {
				if !u.Derived(tw, i) {
					continue
				}
				e := r.TownshipEvaluations(tw)[i]
				c := cr.County[county.Assessment().IndicatorIndex(ind.Source())]
				if e.Actual != c.Actual || (c.Numerator != nil && *e.Numerator != *c.Numerator) {
					t.Errorf("%s %s %s: the city's %v, the county's 全县 %v", p, unit.Name, ind.Code, e.Actual, c.Actual)
				}
			}
		}
	}
	// a share of townships done reads as a percentage
	jun, _ := city.Evaluate(kpi.Period{Year: 2026, Month: 6})
	found := false
	for _, al := range jun.Alerts {
		if al.Township == "fogang" && al.Indicator == "mediation_share" && al.Alert == kpi.AlertBehindPace {
			found = true
			if !strings.HasPrefix(al.Summary, "佛冈县“婚调室规范化建设完成率”为16.7%，低于序时进度100.0%") {
				t.Errorf("share behind pace: %s", al.Summary)
			}
		}
	}
	if !found {
		t.Error("佛冈县's share of 婚调室 done in June (1 of 6) is not behind pace")
	}
	if !u.ShareOf(a.IndicatorIndex("mediation_share")) || u.ShareOf(a.IndicatorIndex("committee_members")) {
		t.Error("ShareOf is wrong")
	}
	// 清城区's 飞来峡镇 never sent October: the city says so for 清城区's derived figures
	oct, _ := city.Evaluate(kpi.Period{Year: 2026, Month: 10})
	n := 0
	for _, al := range oct.Alerts {
		if al.Alert == kpi.AlertMissingReport {
			n++
			if al.Township != "qingcheng" || !strings.HasPrefix(al.Summary, "清城区有1个乡镇未报送2026年10月") {
				t.Errorf("missing report %s/%s: %s", al.Township, al.Indicator, al.Summary)
			}
		}
	}
	if n == 0 {
		t.Error("no missing_report on 清城区's incomplete October")
	}

	// 佛冈县's 汤塘镇 corrects its June screenings to 0
	p := kpi.Period{Year: 2026, Month: 6}
	fogang, _ := d.Monitor("fogang-2026")
	fi, si := a.TownshipIndex("fogang"), a.IndicatorIndex("cervical_screening_persons")
	before, _ := city.Evaluate(p)
	countyBefore, _ := fogang.Evaluate(p)
	counts := derivations(city)
	versions := map[string]uint64{}
	for _, id := range cityIDs {
		m, _ := d.Monitor(id)
		versions[id] = m.Version()
	}
	old := countyBefore.TownshipEvaluations(fogang.Assessment().TownshipIndex("tangtang"))[fogang.Assessment().IndicatorIndex("cervical_screening_persons")]
	june, _ := fogang.Dataset().Get(kpi.Key{Township: "tangtang", Indicator: "cervical_screening_persons", Period: p})
	if _, err := fogang.Ingest(ctx, batch(fogang, "tangtang,cervical_screening_persons,2026-06,0\n"), "t"); err != nil {
		t.Fatal(err)
	}
	after, err := city.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	countyAfter, _ := fogang.Evaluate(p)
	if got, want := after.TownshipEvaluations(fi)[si].Actual.V, before.TownshipEvaluations(fi)[si].Actual.V-june.Value; june.Value == 0 || got != want {
		t.Errorf("the city's 佛冈县 screenings %v after the correction, want %v", got, want)
	}
	if got := countyAfter.County[fogang.Assessment().IndicatorIndex("cervical_screening_persons")].Actual; got != after.TownshipEvaluations(fi)[si].Actual {
		t.Errorf("佛冈县's 全县 %v, the city's %v", got, after.TownshipEvaluations(fi)[si].Actual)
	}
	if e := countyAfter.TownshipEvaluations(fogang.Assessment().TownshipIndex("tangtang"))[fogang.Assessment().IndicatorIndex("cervical_screening_persons")]; e.Actual == old.Actual {
		t.Error("汤塘镇's own figure did not change")
	}
	if rankOf(countyAfter, "tangtang") == rankOf(countyBefore, "tangtang") {
		t.Errorf("汤塘镇 still ranks %d in 佛冈县", rankOf(countyAfter, "tangtang"))
	}
	if after.Townships[fi].Total >= before.Townships[fi].Total {
		t.Errorf("佛冈县's city score %v, was %v", after.Townships[fi].Total, before.Townships[fi].Total)
	}
	// only 佛冈县's row was derived again, and only it was evaluated again
	now2 := derivations(city)
	for tw := range a.Townships {
		want := counts[tw]
		if tw == fi {
			want++
		}
		if now2[tw] != want {
			t.Errorf("unit %s derived %d times after the correction, before %d", a.Townships[tw].Code, now2[tw], counts[tw])
		}
	}
	for tw := range a.Townships {
		same := &after.TownshipEvaluations(tw)[0] == &before.TownshipEvaluations(tw)[0]
		if same == (tw == fi) {
			t.Errorf("unit %s: evaluations shared with the earlier result %v", a.Townships[tw].Code, same)
		}
	}
	for _, id := range []string{"qingcheng-2026", "qingxin-2026"} {
		if m, _ := d.Monitor(id); m.Version() != versions[id] {
			t.Errorf("%s has a new version after 佛冈县's correction", id)
		}
	}
	if m, _ := d.Monitor("qingyuan-2026"); m.Version() != versions["qingyuan-2026"]+1 {
		t.Errorf("the city's version %d, want %d", m.Version(), versions["qingyuan-2026"]+1)
	}
}

func rankOf(r *kpi.Result, code string) int {
	for _, rk := range r.Rankings {
		if rk.Township == code {
			return rk.Rank
		}
	}
	return 0
}

// TestCityRankingMovesWithACounty: a county's correction large enough to reorder the city
// moves the city's ranking in the same step as the county's own.
func TestCityRankingMovesWithACounty(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 1, 20, 9, 0, 0, 0, time.UTC)
	d, _ := demoDeployment(t, now, cityIDs...)
	city, _ := d.Monitor("qingyuan-2026")
	p := kpi.Period{Year: 2026, Month: 6}
	before, _ := city.Evaluate(p)
	top := before.Rankings[0].Township
	county, _ := city.UnitMonitor(city.Assessment().TownshipIndex(top))
	// every township of the leading county reports no cases closed in June
	var rows []string
	for _, tw := range county.Assessment().Townships {
		rows = append(rows, fmt.Sprintf("%s,petition_closure_rate,2026-06,,0,40", tw.Code))
	}
	countyBefore, _ := county.Evaluate(p)
	b := collector.NewBatch(county.Assessment())
	b.AddCSV("fix.csv", strings.NewReader("township,indicator,period,value,numerator,denominator\n"+strings.Join(rows, "\n")+"\n"))
	if _, err := county.Ingest(ctx, b, "t"); err != nil {
		t.Fatal(err)
	}
	after, _ := city.Evaluate(p)
	countyAfter, _ := county.Evaluate(p)
	if after.Rankings[0].Township == top {
		t.Errorf("%s still leads the city after its townships' June closures fell to 0", top)
	}
	if fmt.Sprint(countyAfter.Rankings) == fmt.Sprint(countyBefore.Rankings) {
		t.Error("the county's own ranking did not move")
	}
}

// TestCityIngest: a county reports the city's figures it reports itself; a figure derived
// from its townships is refused, naming where it comes from, and nothing is written.
func TestCityIngest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	d, db := demoDeployment(t, now, cityIDs...)
	city, _ := d.Monitor("qingyuan-2026")
	v := city.Version()
	last, _ := db.LastBatch(ctx, "qingyuan-2026")
	_, err := city.Ingest(ctx, batch(city, "fogang,cervical_screening_persons,2026-10,5\nfogang,county_exec_meetings,2026-10,1\n"), "t")
	var be *collector.BatchError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &be) || len(be.Errors) != 1 || !errors.Is(be.Errors[0], kpi.ErrDerived) ||
		!strings.Contains(be.Errors[0].Error(), "t.csv:2: 佛冈县的“宫颈癌筛查动员参检人数”由其考核 fogang-2026 中各乡镇的数据汇总得出，不能直接报送") {
		t.Fatalf("ingest of a derived figure: %v", err)
	}
	if city.Version() != v {
		t.Error("a refused batch made a new version")
	}
	if n, _ := db.LastBatch(ctx, "qingyuan-2026"); n != last {
		t.Errorf("the refused batch was written: last batch %d, was %d", n, last)
	}
	p := kpi.Period{Year: 2026, Month: 11}
	if _, err := city.Ingest(ctx, batch(city, "fogang,county_exec_meetings,2026-11,2\n"), "t"); err != nil {
		t.Fatal(err)
	}
	r, _ := city.Evaluate(p)
	got := r.TownshipEvaluations(city.Assessment().TownshipIndex("fogang"))[city.Assessment().IndicatorIndex("county_exec_meetings")]
	if !got.Reported {
		t.Errorf("佛冈县's own November report is not in the city's figures: %+v", got)
	}
}

// TestCityDeploymentErrors: a city's units must name assessments of the deployment, of the
// same year and of a county or district.
func TestCityDeploymentErrors(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	load := func(id string) *kpi.Assessment {
		a, err := demo.AssessmentByID(id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	city := load("qingyuan-2026")
	opt := Options{Now: time.Now}
	_, err := NewDeployment(ctx, db, []*kpi.Assessment{load("qingcheng-2026"), load("fogang-2026"), city}, opt)
	if err == nil || !strings.Contains(err.Error(), "清新区（qingxin）的考核 qingxin-2026不在本次部署中") {
		t.Errorf("a county missing: %v", err)
	}
	old := load("qingcheng-2025")
	renamed := *old
	renamed.ID = "qingxin-2026"
	_, err = NewDeployment(ctx, db, []*kpi.Assessment{load("qingcheng-2026"), load("fogang-2026"), &renamed, city}, opt)
	if err == nil || !strings.Contains(err.Error(), "qingxin-2026是 2025 年度的") {
		t.Errorf("a county of another year: %v", err)
	}
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
