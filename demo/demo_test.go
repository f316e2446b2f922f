package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

func TestDemoConfigIsTheQingchengAssessment(t *testing.T) {
	a, err := Assessment()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tw := range a.Townships {
		names = append(names, tw.Name)
	}
	if got := strings.Join(names, "、"); got != "东城街道、凤城街道、洲心街道、横荷街道、源潭镇、龙塘镇、石角镇、飞来峡镇" {
		t.Errorf("townships = %s", got)
	}
	if n := len(a.Indicators); n < 25 || n > 35 {
		t.Errorf("%d indicators, want 25–35", n)
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings: %v (the weights must sum to 100)", a.Warnings)
	}
}

// loaded applies every report in order, as the demo does, and evaluates December.
func loaded(t *testing.T) (*kpi.Assessment, *kpi.Dataset, []Report) {
	t.Helper()
	a, err := Assessment()
	if err != nil {
		t.Fatal(err)
	}
	reports := Reports(a)
	d := kpi.NewDataset(a)
	for _, r := range reports {
		b := collector.NewBatch(a)
		b.AddCSV(r.Name, bytes.NewReader(r.CSV))
		if err := b.Err(); err != nil {
			t.Fatalf("report %s is invalid: %v", r.Name, err)
		}
		for _, o := range b.Observations() {
			d.Set(o)
		}
	}
	return a, d, reports
}

func TestReportsAreDeterministicAndInOrder(t *testing.T) {
	a, _ := Assessment()
	one, two := Reports(a), Reports(a)
	if len(one) != len(two) {
		t.Fatal("two runs gave different numbers of reports")
	}
	for i := range one {
		if one[i].Name != two[i].Name || !bytes.Equal(one[i].CSV, two[i].CSV) || !one[i].At.Equal(two[i].At) {
			t.Fatalf("report %d differs between runs", i)
		}
		if i > 0 && one[i].At.Before(one[i-1].At) && one[i].Name[:7] != one[i-1].Name[:7] {
			t.Errorf("report %s arrives before the previous month's %s", one[i].Name, one[i-1].Name)
		}
	}
}

func TestDemoTellsItsStory(t *testing.T) {
	a, d, reports := loaded(t)
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, a.Location)
	r, err := kpi.Evaluate(d, kpi.Period{Year: 2025, Month: 12}, now)
	if err != nil {
		t.Fatal(err)
	}
	// some ahead, some behind: the grades are not all alike
	grades := map[string]int{}
	for _, x := range r.Rankings {
		grades[x.Grade]++
		if x.Veto {
			t.Errorf("%s is vetoed; the demo has no veto", x.Township)
		}
	}
	if len(grades) < 2 {
		t.Errorf("every township has the same grade: %v", grades)
	}
	var bonus, missing, behind int
	for _, x := range r.Rankings {
		if x.Bonus > 0 {
			bonus++
		}
	}
	for _, al := range r.Alerts {
		switch al.Alert {
		case kpi.AlertMissingReport:
			missing++
			if al.Township != "feilaixia" {
				t.Errorf("unexpected missing report: %+v", al)
			}
		case kpi.AlertBehindPace:
			behind++
		}
	}
	if bonus == 0 || missing == 0 || behind == 0 {
		t.Errorf("bonus %d, missing reports %d, behind pace %d: want each > 0", bonus, missing, behind)
	}
	// the typo (820 for 82) is corrected by the district office
	var fix *Report
	for i := range reports {
		if strings.Contains(reports[i].Name, "更正") {
			fix = &reports[i]
		}
	}
	if fix == nil || fix.Actor != "清城区妇联办公室" {
		t.Fatalf("no correction by the district office: %+v", fix)
	}
	o, _ := d.Get(kpi.Key{Township: "henghe", Indicator: "cervical_screening_persons", Period: kpi.Period{Year: 2025, Month: 5}})
	if o.Value >= 500 {
		t.Errorf("the corrected May figure is %v", o.Value)
	}
}

func TestLoadStampsEachReportWithItsTime(t *testing.T) {
	a, err := Assessment()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := Load(context.Background(), db, a)
	if err != nil || n != len(Reports(a)) {
		t.Fatalf("Load = %d, %v", n, err)
	}
	batches, err := db.Batches(context.Background(), a.ID, 1000)
	if err != nil || len(batches) != n {
		t.Fatalf("%d batches recorded, %v; want %d", len(batches), err, n)
	}
	last := Reports(a)[n-1]
	if !batches[0].At.Equal(last.At) || batches[0].Actor != last.Actor {
		t.Errorf("newest batch %+v, want the last report's time %v and actor %s", batches[0], last.At, last.Actor)
	}
}

// TestAssessmentsOfTheDeployment: the five assessments parse with their ids; a year under
// way has the reports that have arrived by now and no later; the 2025 year is whole.
func TestAssessmentsOfTheDeployment(t *testing.T) {
	as, err := Assessments()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.ID)
		if len(a.Warnings) != 0 {
			t.Errorf("%s: warnings %v", a.ID, a.Warnings)
		}
	}
	if strings.Join(got, ",") != "qingcheng-2025,qingcheng-2026,fogang-2026,qingxin-2026,qingyuan-2026" {
		t.Errorf("assessments %v", got)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, as[1].Location)
	if n := len(ReportsUntil(as[0], now)); n != len(Reports(as[0])) || n != 96 {
		t.Errorf("2025 until now: %d reports, want the whole year's 96", n)
	}
	rs := ReportsUntil(as[1], now)
	last := rs[len(rs)-1]
	for _, r := range rs {
		if r.At.After(now) {
			t.Errorf("%s arrives %v, after now", r.Name, r.At)
		}
	}
	if !strings.HasPrefix(last.Name, "2026-10-") || len(rs) != 10*8-1 {
		t.Errorf("2026 until 30 November: %d reports, the last %s; want January … October, 飞来峡镇's October missing", len(rs), last.Name)
	}
	// 石角镇 is shijiao in 清城区 and in 佛冈县, with figures of its own in each
	fg := ReportsUntil(as[2], now)
	if bytes.Equal(fg[0].CSV, rs[0].CSV) {
		t.Error("佛冈县's first report is 清城区's")
	}
}

// TestTheCityReportsOnlyWhatItsCountiesReport: qingyuan-2026 links to the demo's three
// counties; its generated reports are the counties' own monthly reports of the figures
// they report themselves, never of a figure derived from their townships.
func TestTheCityReportsOnlyWhatItsCountiesReport(t *testing.T) {
	city, err := AssessmentByID("qingyuan-2026")
	if err != nil {
		t.Fatal(err)
	}
	if city.Level != kpi.LevelCity || len(city.Warnings) != 0 {
		t.Fatalf("level %s, warnings %v", city.Level, city.Warnings)
	}
	u := unitsOf(city)
	if u == nil {
		t.Fatal("the city does not link to the demo's counties")
	}
	var derived, reported []string
	for i, ind := range city.Indicators {
		if u.Derived(0, i) {
			derived = append(derived, ind.Code)
		} else {
			reported = append(reported, ind.Code)
		}
		if u.Share(0, i) != (ind.From != "") {
			t.Errorf("%s: share %v", ind.Code, u.Share(0, i))
		}
	}
	if got := strings.Join(reported, ","); got != "county_exec_meetings,county_training,city_honors" {
		t.Errorf("reported by the counties: %s", got)
	}
	if len(derived) < 12 {
		t.Errorf("only %d figures derived: %v", len(derived), derived)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, city.Location)
	rs := ReportsUntil(city, now)
	if len(rs) != 10*3 {
		t.Fatalf("%d reports until 30 November, want January … October of three counties", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		b := collector.NewBatch(city)
		b.AddCSV(r.Name, bytes.NewReader(r.CSV))
		if err := b.Err(); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		for _, o := range b.Observations() {
			if u.Derived(city.TownshipIndex(o.Township), city.IndicatorIndex(o.Indicator)) {
				t.Errorf("%s reports the derived %s", r.Name, o.Indicator)
			}
			seen[o.Indicator] = true
		}
		if r.Actor != "清城区妇联" && r.Actor != "佛冈县妇联" && r.Actor != "清新区妇联" {
			t.Errorf("report %s by %s, want a county's federation", r.Name, r.Actor)
		}
	}
	if !seen["county_exec_meetings"] || !seen["county_training"] || !seen["city_honors"] {
		t.Errorf("indicators reported: %v", seen)
	}
}
