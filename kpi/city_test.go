package kpi

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// countyYAML is a county assessment of 2026 with the township codes given, as a city's
// counties have.
func countyYAML(id, level string, towns ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nlevel: %s\nname: %s\nyear: 2026\ntownships:\n", id, level, id)
	for _, t := range towns {
		fmt.Fprintf(&b, "  - {code: %s, name: %s镇}\n", t, t)
	}
	b.WriteString(`indicators:
  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 30, target: 100}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 30, threshold: 0.95}
  - {code: homes, name: 妇女之家数, unit: 个, kind: stock, weight: 20, target: 10}
  - {code: plan_review, name: 规划中期评估, kind: milestone, weight: 20, due: 6}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
`)
	return b.String()
}

// cityYAML is the spec's example city, with the counties beiliu-2026 and rongxian-2026.
const cityYAML = `id: yulin-2026
name: 玉林市妇联2026年度县（市、区）妇联工作目标考核
level: city
year: 2026
units:
  - {code: beiliu, name: 北流市, assessment: beiliu-2026}
  - {code: rongxian, name: 容县, assessment: rongxian-2026}
indicators:
  - {code: screenings, name: “两癌”检查人数, unit: 人, kind: count, weight: 30, target: 2000}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 20, threshold: 0.95}
  - {code: homes, name: 妇女之家数, unit: 个, kind: stock, weight: 10, target: 40}
  - {code: review_share, from: plan_review, name: 规划中期评估完成率, kind: stock, weight: 10, target: 1}
  - {code: county_training, name: 县级妇女干部培训, kind: milestone, weight: 10, due: 9}
  - {code: county_meetings, name: 县级议事会次数, unit: 次, kind: count, weight: 20, target: 12}
`

// cityFixture is the city with its two counties' data for January … March 2026: 北流市's
// b3 has not reported March.
type cityFixture struct {
	city, beiliu, rongxian *Assessment
	bl, rx                 *Dataset
	units                  *Units
}

func newCityFixture(t *testing.T) *cityFixture {
	t.Helper()
	f := &cityFixture{
		city:     mustAssessment(t, cityYAML),
		beiliu:   mustAssessment(t, countyYAML("beiliu-2026", "county", "b1", "b2", "b3")),
		rongxian: mustAssessment(t, countyYAML("rongxian-2026", "county", "r1", "r2")),
	}
	var bl, rx []Observation
	for m := 1; m <= 3; m++ {
		p := fmt.Sprintf("2026-%02d", m)
		for k, tw := range []string{"b1", "b2", "b3"} {
			if tw == "b3" && m == 3 {
				continue
			}
			bl = append(bl, obs(tw, "screenings", p, float64(10*(k+1)+m)), ratioObs(tw, "closure", p, float64(9+k%2), 10),
				obs(tw, "homes", p, float64(3+k+m/3)), obs(tw, "plan_review", p, b2f(tw == "b1" && m >= 2)))
		}
		for k, tw := range []string{"r1", "r2"} {
			rx = append(rx, obs(tw, "screenings", p, float64(7*(k+2)*m)+0.5), ratioObs(tw, "closure", p, float64(4+k), 5),
				obs(tw, "homes", p, float64(4+k)), obs(tw, "plan_review", p, b2f(m == 3)))
		}
	}
	f.bl, f.rx = dataset(t, f.beiliu, bl...), dataset(t, f.rongxian, rx...)
	u, err := LinkUnits(f.city, f.byID)
	if err != nil {
		t.Fatal(err)
	}
	f.units = u
	return f
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (f *cityFixture) byID(id string) (*Assessment, bool) {
	switch id {
	case f.beiliu.ID:
		return f.beiliu, true
	case f.rongxian.ID:
		return f.rongxian, true
	}
	return nil, false
}

// cityData derives both counties' rows into a city dataset holding the counties' own
// reports of the indicators they report themselves.
func (f *cityFixture) cityData(t *testing.T, own ...Observation) *Dataset {
	t.Helper()
	d := dataset(t, f.city, own...)
	for u, src := range []*Dataset{f.bl, f.rx} {
		if _, err := f.units.Derive(d, u, AggregateOf(src)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestCityFiguresByHand: every city figure of each county as of March, worked out by hand
// from the townships' reports, and equal to the county assessment's own county aggregate.
func TestCityFiguresByHand(t *testing.T) {
	f := newCityFixture(t)
	now := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC) // March's deadline (5 April) has passed
	d := f.cityData(t, obs("beiliu", "county_meetings", "2026-03", 4), obs("rongxian", "county_training", "2026-02", 1))
	r := mustEvaluate(t, d, "2026-03", now)
	// by hand, as of March: 北流市 b1 10+11+12+13 … (b1: 11, 12, 13; b2: 21, 22, 23; b3: 31, 32)
	type figs struct {
		screenings, closureNum, closureDen, homes, share float64
	}
	hand := map[string]figs{
		// b3's March is missing: its screenings stop at February, its homes at February's 3+2
		"beiliu": {screenings: (11 + 12 + 13) + (21 + 22 + 23) + (31 + 32), closureNum: 9*3 + 10*3 + 9*2, closureDen: 80,
			homes: (3 + 0 + 1) + (4 + 1) + (5 + 0), share: 1.0 / 3},
		// r1: 14.5, 28.5, 42.5; r2: 21.5, 42.5, 63.5
		"rongxian": {screenings: 14.5 + 28.5 + 42.5 + 21.5 + 42.5 + 63.5, closureNum: 4*3 + 5*3, closureDen: 30, homes: 4 + 5, share: 1},
	}
	for code, h := range hand {
		t.Run(code, func(t *testing.T) {
			tw := f.city.TownshipIndex(code)
			ev := func(ind string) Evaluation { return r.TownshipEvaluations(tw)[f.city.IndicatorIndex(ind)] }
			if e := ev("screenings"); e.Actual != num(h.screenings) {
				t.Errorf("screenings %v, want %v", e.Actual, h.screenings)
			}
			if e := ev("closure"); *e.Numerator != num(h.closureNum) || *e.Denominator != num(h.closureDen) || e.Actual != num(Round(h.closureNum/h.closureDen, 4)) {
				t.Errorf("closure %v/%v = %v, want %v/%v", *e.Numerator, *e.Denominator, e.Actual, h.closureNum, h.closureDen)
			}
			if e := ev("homes"); e.Actual != num(h.homes) {
				t.Errorf("homes %v, want %v", e.Actual, h.homes)
			}
			if e := ev("review_share"); e.Actual != num(Round(h.share, 4)) {
				t.Errorf("review_share %v, want %v", e.Actual, h.share)
			}
			// and the county's own 全县 figures of March are the same
			src, county := f.bl, f.beiliu
			if code == "rongxian" {
				src, county = f.rx, f.rongxian
			}
			cr := mustEvaluate(t, src, "2026-03", now)
			agg := func(ind string) CountyEvaluation { return cr.County[county.IndicatorIndex(ind)] }
			if ev("screenings").Actual != agg("screenings").Actual || ev("homes").Actual != agg("homes").Actual ||
				ev("closure").Actual != agg("closure").Actual || *ev("closure").Numerator != *agg("closure").Numerator ||
				ev("review_share").Actual != agg("plan_review").Actual {
				t.Errorf("the city's figures differ from the county's 全县 aggregate: %+v", cr.County)
			}
		})
	}
	// the city's own aggregate pools every township
	c := r.County[f.city.IndicatorIndex("closure")]
	if *c.Numerator != num(75+27) || *c.Denominator != num(110) {
		t.Errorf("全市 closure %v/%v, want 102/110", *c.Numerator, *c.Denominator)
	}
	// the share of every township done: b1 and r1, r2 of 5 townships, not 1/3 + 1
	if s := r.County[f.city.IndicatorIndex("review_share")]; s.Actual != num(0.6) || s.Target != num(1) {
		t.Errorf("全市 review_share %v of %v, want 3/5 of 1", s.Actual, s.Target)
	}
	if s := r.County[f.city.IndicatorIndex("screenings")]; s.Actual != num(hand["beiliu"].screenings+hand["rongxian"].screenings) || s.Target != num(4000) {
		t.Errorf("全市 screenings %v of %v", s.Actual, s.Target)
	}
	// indicators the counties report themselves are taken as reported
	if e := r.TownshipEvaluations(0)[f.city.IndicatorIndex("county_meetings")]; e.Actual != num(4) {
		t.Errorf("北流市's own county_meetings %v, want 4", e.Actual)
	}
	if e := r.TownshipEvaluations(1)[f.city.IndicatorIndex("county_training")]; e.Status != StatusMet {
		t.Errorf("容县's own county_training %v, want met", e.Status)
	}
	// a month: the city's March of 北流市's screenings is the difference of two months' sums
	bi, si := f.city.TownshipIndex("beiliu"), f.city.IndicatorIndex("screenings")
	if c := d.Cell(bi, si); !c.Has(3) || c.Value[2] != 13+23 || c.Value[0] != 11+21+31 {
		t.Errorf("北流市's monthly screenings %v", c.Value[:3])
	}

	// 北流市 lacks b3's March: every derived figure says so, and the alert names how many
	var missing []string
	for _, al := range r.Alerts {
		if al.Alert == AlertMissingReport {
			missing = append(missing, al.Township+"/"+al.Indicator+": "+al.Summary)
		}
	}
	wantMissing := []string{
		"beiliu/screenings: 北流市有1个乡镇未报送2026年3月", "beiliu/closure: 北流市有1个乡镇未报送", "beiliu/homes: 北流市有1个乡镇未报送",
		"rongxian/county_meetings: 容县未按时报送2026年3月“县级议事会次数”",
	}
	if len(missing) != len(wantMissing) {
		t.Errorf("missing_report alerts:\n%s\nwant %d", strings.Join(missing, "\n"), len(wantMissing))
	}
	for _, w := range wantMissing {
		found := false
		for _, got := range missing {
			found = found || strings.HasPrefix(got, w)
		}
		if !found {
			t.Errorf("no alert %q among\n%s", w, strings.Join(missing, "\n"))
		}
	}
	// a milestone share is whole though b3 sent nothing for March: milestones need no
	// monthly report
	if e := r.TownshipEvaluations(bi)[f.city.IndicatorIndex("review_share")]; e.Unreported != 0 || e.Status == StatusNoData {
		t.Errorf("北流市's review_share: unreported %d, status %s; want whole", e.Unreported, e.Status)
	}
	if e := r.TownshipEvaluations(bi)[si]; e.Unreported != 1 || r.TownshipEvaluations(1)[si].Unreported != 0 {
		t.Errorf("unreported %d and %d, want 1 for 北流市, 0 for 容县", e.Unreported, r.TownshipEvaluations(1)[si].Unreported)
	}
	// February was complete: no missing report then
	feb := mustEvaluate(t, d, "2026-02", now)
	for _, al := range feb.Alerts {
		if al.Alert == AlertMissingReport && al.Township == "beiliu" && al.Indicator == "screenings" {
			t.Errorf("February: %s", al.Summary)
		}
	}
}

// TestCityRederivesOneCounty: one township's correction changes its county's figures, the
// city's figures of that county and both rankings; re-deriving only that county and
// re-evaluating only its row equals deriving and evaluating everything again.
func TestCityRederivesOneCounty(t *testing.T) {
	f := newCityFixture(t)
	now := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	p := "2026-03"
	d := f.cityData(t)
	before := mustEvaluate(t, d, p, now)
	countyBefore := mustEvaluate(t, f.rx, p, now)
	if before.Rankings[0].Township != "rongxian" || countyBefore.Rankings[0].Township != "r2" {
		t.Fatalf("fixture: rankings %s, %s", before.Rankings[0].Township, countyBefore.Rankings[0].Township)
	}
	// r2's cases closed in March corrected from 5 of 5 to 0 of 5: 容县 falls behind 北流市,
	// r2 behind r1
	rx := f.rx.Clone()
	if err := rx.Set(ratioObs("r2", "closure", p, 0, 5)); err != nil {
		t.Fatal(err)
	}
	countyAfter := mustEvaluate(t, rx, p, now)
	next := d.Clone()
	changed, err := f.units.Derive(next, 1, AggregateOf(rx))
	if err != nil || !changed {
		t.Fatalf("re-derive: %v, changed %v", err, changed)
	}
	got, err := Reevaluate(before, next, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	f.rx = rx // from scratch
	scratch := mustEvaluate(t, f.cityData(t), p, now)
	if !reflect.DeepEqual(got.Evaluations(), scratch.Evaluations()) || !reflect.DeepEqual(got.Rankings, scratch.Rankings) ||
		!reflect.DeepEqual(got.County, scratch.County) || !reflect.DeepEqual(got.Alerts, scratch.Alerts) {
		t.Error("re-deriving one county and re-evaluating it differs from doing everything again")
	}
	ci := f.city.IndicatorIndex("closure")
	if a, b := before.TownshipEvaluations(1)[ci].Numerator.V, got.TownshipEvaluations(1)[ci].Numerator.V; math.Abs(a-b-5) > 1e-9 || before.TownshipEvaluations(1)[ci].Score == got.TownshipEvaluations(1)[ci].Score {
		t.Errorf("容县's cases closed %v → %v (score %v → %v), want 5 fewer and a lower score", a, b, before.TownshipEvaluations(1)[ci].Score, got.TownshipEvaluations(1)[ci].Score)
	}
	if got.Rankings[0].Township != "beiliu" || countyAfter.Rankings[0].Township != "r1" {
		t.Errorf("rankings after the correction: city %s first, county %s first; want beiliu and r1", got.Rankings[0].Township, countyAfter.Rankings[0].Township)
	}
	if &got.TownshipEvaluations(0)[0] != &before.TownshipEvaluations(0)[0] {
		t.Error("北流市's evaluations were done again")
	}
	// the earlier dataset still holds the earlier figures; deriving again changes nothing
	if was, is := d.Cell(1, ci).Value[2], next.Cell(1, ci).Value[2]; was != 9 || is != 4 {
		t.Errorf("容县's March cases closed %v in the earlier dataset and %v in the new one, want 9 and 4", was, is)
	}
	if again, _ := f.units.Derive(next, 1, AggregateOf(rx)); again {
		t.Error("deriving the same figures again reported a change")
	}
	// a derived cell cannot be reported
	if err := next.Set(obs("rongxian", "homes", p, 5)); !errors.Is(err, ErrDerived) {
		t.Errorf("Set of a derived figure: %v, want ErrDerived", err)
	}
}

func TestCityConfig(t *testing.T) {
	a := mustAssessment(t, cityYAML)
	if a.Level != LevelCity || a.Townships[0].Assessment != "beiliu-2026" || a.Indicators[3].From != "plan_review" || a.Indicators[3].Source() != "plan_review" || a.Indicators[0].Source() != "screenings" {
		t.Fatalf("city parsed as %+v", a)
	}
	county := "name: 县\nyear: 2026\ntownships: [{code: aa, name: 甲镇}]\nindicators:\n  - {code: x, name: X, kind: count, weight: 100, target: 10}\n"
	head := "name: 市\nlevel: city\nyear: 2026\nunits:\n  - {code: a, name: 甲县, assessment: a-2026}\n  - {code: b, name: 乙县, assessment: b-2026}\nindicators:\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"from on a county", strings.Replace(county, "target: 10}", "target: 10, from: y}", 1), []string{"test.yaml:5:", "from 只用于市级"}},
		{"assessment on a county's township", strings.Replace(county, "name: 甲镇}", "name: 甲镇, assessment: q}", 1), []string{"test.yaml:3:", "assessment 只用于市级"}},
		{"from on a milestone", head + "  - {code: m, name: M, kind: milestone, weight: 100, due: 6, from: plan}\n", []string{"test.yaml:8:", "节点任务，不能汇总", "声明为 stock"}},
		{"from on a bonus", head + "  - {code: x, name: X, kind: count, weight: 100, target: 1}\n  - {code: h, name: H, kind: bonus, max: 3, from: honors}\n", []string{"test.yaml:9:", "不能汇总"}},
		{"from with a unit naming no assessment", strings.Replace(head, ", assessment: b-2026}", "}", 1) + "  - {code: x, name: X, kind: count, weight: 100, target: 1, from: y}\n", []string{"test.yaml:8:", "乙县（b）没有写 assessment"}},
		{"one assessment for two units", strings.Replace(head, "b-2026", "a-2026", 1) + "  - {code: x, name: X, kind: count, weight: 100, target: 1}\n", []string{"test.yaml:6:", "考核 a-2026 被两个单位引用"}},
		{"townships and units both", head + "  - {code: x, name: X, kind: count, weight: 100, target: 1}\ntownships: [{code: c, name: 丙县}]\n", []string{"townships 和 units 只能写一个"}},
		{"an assessment id that is not a code", strings.Replace(head, "b-2026", "乙县 2026", 1) + "  - {code: x, name: X, kind: count, weight: 100, target: 1}\n", []string{"test.yaml:6:", "应为一项考核的 id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("test.yaml", []byte(tc.yaml))
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a config error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLinkUnitsErrors(t *testing.T) {
	city := mustAssessment(t, cityYAML)
	good := mustAssessment(t, countyYAML("beiliu-2026", "county", "b1"))
	tests := []struct {
		name  string
		city  *Assessment
		units map[string]*Assessment
		want  []string
	}{
		{"an unknown assessment", city, map[string]*Assessment{"beiliu-2026": good}, []string{"容县（rongxian）的考核 rongxian-2026不在本次部署中"}},
		{"another year", city, map[string]*Assessment{"beiliu-2026": good,
			"rongxian-2026": mustAssessment(t, strings.Replace(countyYAML("rongxian-2026", "county", "r1"), "year: 2026", "year: 2025", 1))},
			[]string{"rongxian-2026是 2025 年度的", "应为同一年度"}},
		{"a city as a county", city, map[string]*Assessment{"beiliu-2026": good,
			"rongxian-2026": mustAssessment(t, countyYAML("rongxian-2026", "city", "r1"))}, []string{"rongxian-2026是市级考核，不是县（市、区）的考核"}},
		{"an explicit source the county lacks", city, map[string]*Assessment{"beiliu-2026": good,
			"rongxian-2026": mustAssessment(t, strings.Replace(countyYAML("rongxian-2026", "district", "r1"), "code: plan_review", "code: plan", 1))},
			[]string{"指标 review_share 从 plan_review 汇总（from），但容县（rongxian）的考核 rongxian-2026没有这个指标"}},
		{"a kind it cannot be taken from", mustAssessment(t, strings.Replace(cityYAML, "code: homes, name: 妇女之家数, unit: 个, kind: stock, weight: 10, target: 40", "code: homes, name: 妇女之家数, unit: 个, kind: count, weight: 10, target: 40", 1)),
			map[string]*Assessment{"beiliu-2026": good, "rongxian-2026": good}, []string{"指标 homes 是累计量（count）", "中的 homes 是存量（stock），不能由它汇总"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LinkUnits(tc.city, func(id string) (*Assessment, bool) { a, ok := tc.units[id]; return a, ok })
			if err == nil {
				t.Fatal("linked")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
	// a city whose units name no assessment has nothing to link: every figure is reported
	plain := mustAssessment(t, "name: 市\nlevel: city\nyear: 2026\nunits: [{code: a, name: 甲县}]\nindicators: [{code: x, name: X, kind: count, weight: 100, target: 1}]\n")
	if u, err := LinkUnits(plain, func(string) (*Assessment, bool) { return nil, false }); u != nil || err != nil {
		t.Errorf("LinkUnits of a city without unit assessments = %v, %v", u, err)
	}
}

// TestShareForecastWithinOne: a county whose townships have all done the milestone by March
// is at a share of 1, and growing at a third a month; its 预计全年 and the interval stay at
// most 1 (no county has more than all its townships done), and so does the city's.
func TestShareForecastWithinOne(t *testing.T) {
	f := newCityFixture(t)
	now := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	r := mustEvaluate(t, f.cityData(t), "2026-03", now)
	i := f.city.IndicatorIndex("review_share")
	for tw := range f.city.Townships {
		e := r.TownshipEvaluations(tw)[i]
		if e.Forecast == nil {
			t.Fatalf("%s: no forecast of the share", f.city.Townships[tw].Code)
		}
		if fc := e.Forecast; fc.YearEnd > 1 || fc.High > 1 || fc.Low < 0 || fc.Low > fc.YearEnd || fc.YearEnd > fc.High {
			t.Errorf("%s's share forecast %+v: want 0 ≤ low ≤ year end ≤ high ≤ 1", f.city.Townships[tw].Code, *fc)
		}
	}
	if e := r.TownshipEvaluations(f.city.TownshipIndex("rongxian"))[i]; e.Forecast.YearEnd != 1 {
		t.Errorf("容县, every township done: year end %v, want 1", e.Forecast.YearEnd)
	}
	if c := r.County[i]; c.Forecast == nil || c.Forecast.YearEnd > 1 || c.Forecast.High > 1 {
		t.Errorf("全市 share forecast %+v: want at most 1", c.Forecast)
	}
}
