package kpi

import (
	"fmt"
	"reflect"
	"testing"
)

// rankConfig has one count indicator worth 100 points and a bonus, so totals are easy to set.
func rankConfig(townships ...string) string {
	s := "name: 排名测试\nyear: 2024\ntownships:\n"
	for _, t := range townships {
		s += fmt.Sprintf("  - {code: %s, name: 镇%s}\n", t, t)
	}
	s += `indicators:
  - {code: work, name: 工作量, kind: count, weight: 100, target: 1200, pacing: none}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
  - {code: incident, name: 重大事故, kind: veto}
grades:
  - {name: 优秀, min: 90}
  - {name: 称职, min: 60}
  - {name: 不称职, min: 0}
`
	return s
}

func TestCompetitionRanking(t *testing.T) {
	a := mustAssessment(t, rankConfig("d", "c", "b", "a", "e"))
	// totals: a 96, b 84, c 84, d 84.001 (rounds to 84.00: tied), e 50
	d := dataset(t, a,
		obs("a", "work", "2024-01", 1080), obs("a", "honors", "2024-01", 6), // 90 + 5 (capped) + …
		obs("a", "honors", "2024-02", 0),
		obs("b", "work", "2024-01", 1008),
		obs("c", "work", "2024-01", 1008),
		obs("d", "work", "2024-01", 1008.012),
		obs("e", "work", "2024-01", 600),
	)
	r := mustEvaluate(t, d, "2024-01", late)
	var got []string
	for _, x := range r.Rankings {
		got = append(got, fmt.Sprintf("%d %s %.2f tied=%v", x.Rank, x.Township, x.Total, x.Tied))
	}
	want := []string{"1 a 95.00 tied=false", "2 b 84.00 tied=true", "2 c 84.00 tied=true", "2 d 84.00 tied=true", "5 e 50.00 tied=false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranking\n got %q\nwant %q", got, want)
	}
	for _, x := range r.Rankings {
		if x.RankChange != nil {
			t.Errorf("%s: rank_change in January = %d, want null", x.Township, *x.RankChange)
		}
	}
}

func TestRankChange(t *testing.T) {
	a := mustAssessment(t, rankConfig("a", "b", "c"))
	d := dataset(t, a,
		obs("a", "work", "2024-01", 1200), obs("b", "work", "2024-01", 600), obs("c", "work", "2024-01", 300),
		obs("a", "work", "2024-02", 0), obs("b", "work", "2024-02", 0), obs("c", "work", "2024-02", 1000),
	)
	r := mustEvaluate(t, d, "2024-02", late)
	got := map[string]string{}
	for _, x := range r.Rankings {
		got[x.Township] = fmt.Sprintf("rank %d change %d", x.Rank, *x.RankChange)
	}
	want := map[string]string{"a": "rank 1 change 0", "c": "rank 1 change 2", "b": "rank 3 change -1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestGrades(t *testing.T) {
	grades := DefaultGrades()
	tests := []struct {
		total float64
		veto  bool
		want  string
	}{
		{100, false, "优秀"}, {90, false, "优秀"}, {89.99, false, "称职"}, {60, false, "称职"},
		{59.99, false, "不称职"}, {0, false, "不称职"}, {100, true, "不称职"},
	}
	for _, tc := range tests {
		if got := GradeFor(grades, tc.total, tc.veto); got != tc.want {
			t.Errorf("GradeFor(%v, veto=%v) = %s, want %s", tc.total, tc.veto, got, tc.want)
		}
	}
	custom := []Grade{{"好", 80}, {"中", 50}}
	if got := GradeFor(custom, 10, false); got != "中" {
		t.Errorf("a total below every min: got %s, want the last grade 中", got)
	}
}

func TestVetoRanksLast(t *testing.T) {
	a := mustAssessment(t, rankConfig("a", "b", "c", "d", "e", "f"))
	// totals in March: a 100 (vetoed in March), b 90, c 80, d 70 (vetoed in January),
	// e 70 (vetoed in March), f 60; in February only d had a veto
	d := dataset(t, a,
		obs("a", "work", "2024-02", 1200), obs("a", "incident", "2024-03", 1),
		obs("b", "work", "2024-02", 1080),
		obs("c", "work", "2024-02", 960),
		obs("d", "work", "2024-02", 840), obs("d", "incident", "2024-01", 1),
		obs("e", "work", "2024-02", 840), obs("e", "incident", "2024-03", 1),
		obs("f", "work", "2024-02", 720),
	)
	r := mustEvaluate(t, d, "2024-03", late)
	var got []string
	for _, x := range r.Rankings {
		got = append(got, fmt.Sprintf("%d %s %.0f veto=%v tied=%v change=%d", x.Rank, x.Township, x.Total, x.Veto, x.Tied, *x.RankChange))
	}
	// February: a 1, b 2, c 3, e 4 (70), f 5, then the vetoed d 6.
	// March: the unvetoed b, c, f take 1–3; the vetoed follow by total from 4: a, then d
	// and e tied at 70 share 5 (listed by code), a vetoed and an unvetoed township never tie.
	want := []string{
		"1 b 90 veto=false tied=false change=1",
		"2 c 80 veto=false tied=false change=1",
		"3 f 60 veto=false tied=false change=2",
		"4 a 100 veto=true tied=false change=-3",
		"5 d 70 veto=true tied=true change=1",
		"5 e 70 veto=true tied=true change=-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranking\n got %q\nwant %q", got, want)
	}
}

func TestTotalsBonusAndVeto(t *testing.T) {
	a := mustAssessment(t, rankConfig("a", "b"))
	d := dataset(t, a,
		obs("a", "work", "2024-03", 1200), obs("a", "honors", "2024-02", 3), obs("a", "incident", "2024-03", 1),
		obs("b", "work", "2024-03", 600), obs("b", "honors", "2024-01", 2),
	)
	r := mustEvaluate(t, d, "2024-03", late)
	byCode := map[string]Ranking{}
	for _, x := range r.Rankings {
		byCode[x.Township] = x
	}
	ra, rb := byCode["a"], byCode["b"]
	if ra.Total != 103 || ra.Base != 100 || ra.Bonus != 3 || !ra.Veto || ra.Grade != "不称职" || ra.Rank != 2 {
		t.Errorf("a: got total %v base %v bonus %v veto %v grade %s rank %d; want 103 100 3 true 不称职 2 (veto forces the last grade and ranks last)",
			ra.Total, ra.Base, ra.Bonus, ra.Veto, ra.Grade, ra.Rank)
	}
	if rb.Total != 52 || rb.Grade != "不称职" || rb.Veto {
		t.Errorf("b: got total %v grade %s veto %v; want 52 不称职 false", rb.Total, rb.Grade, rb.Veto)
	}
	if got := ra.Categories["其他"]; got != 100 {
		t.Errorf("a: category 其他 = %v, want 100", got)
	}
}

func TestCounty(t *testing.T) {
	a := mustAssessment(t, testConfig())
	d := dataset(t, a,
		obs("aa", "screenings", "2024-01", 30), obs("bb", "screenings", "2024-01", 10),
		ratioObs("aa", "closure", "2024-01", 9, 10), ratioObs("bb", "closure", "2024-01", 30, 30), ratioObs("cc", "closure", "2024-01", 0, 0),
		obs("aa", "plan", "2024-01", 1), obs("bb", "plan", "2024-01", 1),
		obs("aa", "honors", "2024-01", 2), obs("cc", "incident", "2024-01", 1),
	)
	r := mustEvaluate(t, d, "2024-01", late)
	got := map[string]CountyEvaluation{}
	for _, c := range r.County {
		got[c.Indicator] = c
	}
	sc := got["screenings"]
	// targets 240 + 120 + 120 = 480; expected 40; actual 40
	if !evalEqual(Evaluation{Actual: sc.Actual, Target: sc.Target, Expected: sc.Expected, Completion: sc.Completion, Pace: sc.Pace, Status: sc.Status},
		Evaluation{Actual: num(40), Target: num(480), Expected: num(40), Completion: num(0.0833), Pace: num(1), Status: StatusOnTrack}) || sc.Reported != 2 || sc.Townships != 3 {
		t.Errorf("county screenings = %+v", sc)
	}
	cl := got["closure"]
	// (9 + 30 + 0) / (10 + 30 + 0) = 0.975, at risk — not the mean of 0.9 and 1
	if !cl.Actual.Valid || cl.Actual.V != 0.975 || cl.Numerator.V != 39 || cl.Denominator.V != 40 || cl.Status != StatusAtRisk {
		t.Errorf("county closure = %+v, want 39/40 = 0.975 at_risk", cl)
	}
	if pl := got["plan"]; pl.Actual.V != 0.6667 || pl.Status != StatusOnTrack {
		t.Errorf("county plan = %+v, want 2/3 done on_track", pl)
	}
	if h := got["honors"]; h.Actual.V != 2 {
		t.Errorf("county honors = %+v, want 2", h)
	}
	if v := got["incident"]; v.Actual.V != 1 {
		t.Errorf("county incident = %+v, want 1 township vetoed", v)
	}
	if h := got["homes"]; h.Status != StatusNoData {
		t.Errorf("county homes with no reports: status %s, want no_data", h.Status)
	}
}

func TestRankChangeAndGradeLabels(t *testing.T) {
	up, down, same := 2, -1, 0
	for _, tc := range []struct {
		c    *int
		want string
	}{{nil, "—"}, {&up, "↑2"}, {&down, "↓1"}, {&same, "持平"}} {
		if got := FormatRankChange(tc.c); got != tc.want {
			t.Errorf("FormatRankChange(%v) = %q, want %q", tc.c, got, tc.want)
		}
	}
	if got := (TownshipScore{Grade: "不称职", Veto: true}).GradeLabel(); got != "不称职（一票否决）" {
		t.Errorf("veto grade label %q", got)
	}
	if got := (TownshipScore{Grade: "优秀"}).GradeLabel(); got != "优秀" {
		t.Errorf("grade label %q", got)
	}
}
