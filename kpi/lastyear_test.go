package kpi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// twoYears is a 2024 and a 2025 assessment: 2025 adds a township (dd) and an indicator
// (newcomer), and its `homes` is a count where 2024's was a stock.
func twoYears(t *testing.T) (last, cur *Dataset) {
	t.Helper()
	base := testConfig()
	y2024 := mustAssessment(t, base)
	y2025 := mustAssessment(t, strings.NewReplacer(
		"year: 2024", "year: 2025",
		"  - {code: cc, name: 丙街道}", "  - {code: cc, name: 丙街道}\n  - {code: dd, name: 丁镇}",
		"    kind: stock\n    weight: 10\n    target: 10\n    pacing: none", "    kind: count\n    weight: 10\n    target: 10",
		"  - code: honors", "  - code: newcomer\n    name: 新指标\n    kind: count\n  - code: honors",
	).Replace(base))
	if y2025.IndicatorIndex("newcomer") < 0 || y2025.TownshipIndex("dd") < 0 {
		t.Fatal("the 2025 fixture lacks its additions")
	}
	last = dataset(t, y2024,
		obs("aa", "screenings", "2024-03", 70), obs("bb", "screenings", "2024-03", 20), obs("cc", "screenings", "2024-02", 5),
		obs("aa", "homes", "2024-03", 8), ratioObs("aa", "closure", "2024-03", 9, 10), ratioObs("bb", "closure", "2024-03", 10, 10),
		obs("cc", "plan", "2024-02", 1), obs("bb", "honors", "2024-03", 2))
	cur = dataset(t, y2025,
		obs("aa", "screenings", "2025-03", 40), obs("bb", "screenings", "2025-03", 50), obs("dd", "screenings", "2025-03", 9),
		obs("aa", "homes", "2025-03", 3), ratioObs("cc", "closure", "2025-03", 1, 2))
	return last, cur
}

func TestWithLastYear(t *testing.T) {
	lastData, curData := twoYears(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	last, err := Evaluate(lastData, MustPeriod("2024-03"), now)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Evaluate(curData, MustPeriod("2025-03"), now)
	if err != nil {
		t.Fatal(err)
	}
	plainJSON, _ := json.Marshal(plain)
	r, err := plain.WithLastYear(last)
	if err != nil {
		t.Fatal(err)
	}
	a, b := curData.Assessment(), lastData.Assessment()

	var out struct {
		Evaluations []struct {
			Township, Indicator string
			LastYear            *LastYear `json:"last_year"`
		}
		County []struct {
			Indicator string
			LastYear  *LastYear `json:"last_year"`
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Evaluations) != len(a.Townships)*len(a.Indicators) {
		t.Fatalf("%d evaluations", len(out.Evaluations))
	}
	with := 0
	for x, e := range out.Evaluations {
		tw, i := x/len(a.Indicators), x%len(a.Indicators)
		var want *LastYear
		u, j := b.TownshipIndex(e.Township), b.IndicatorIndex(e.Indicator)
		if u >= 0 && j >= 0 && b.Indicators[j].Kind == a.Indicators[i].Kind {
			le := last.TownshipEvaluations(u)[j]
			want = &LastYear{Actual: le.Actual, Completion: le.Completion, Status: le.Status}
			with++
		}
		if !reflect.DeepEqual(e.LastYear, want) {
			t.Errorf("%s/%s: last_year %+v, want %+v", e.Township, e.Indicator, e.LastYear, want)
		}
		if got := r.LastYearOf(tw, i); !reflect.DeepEqual(got, want) {
			t.Errorf("LastYearOf(%s, %s) = %+v, want %+v", e.Township, e.Indicator, got, want)
		}
	}
	// aa, bb and cc × every indicator but homes (another kind) and newcomer (new)
	if with != 3*(len(a.Indicators)-2) {
		t.Errorf("%d evaluations with last_year, want %d", with, 3*(len(a.Indicators)-2))
	}
	if ly := r.LastYearOf(a.TownshipIndex("aa"), a.IndicatorIndex("screenings")); ly == nil || ly.Actual != Some(70) || ly.Status != StatusOnTrack {
		t.Errorf("aa screenings last year %+v, want 70, on track (3/12 of 240 is 60)", ly)
	}
	for i, c := range out.County {
		j := b.IndicatorIndex(c.Indicator)
		var want *LastYear
		if j >= 0 && b.Indicators[j].Kind == a.Indicators[i].Kind {
			lc := last.County[j]
			want = &LastYear{Actual: lc.Actual, Completion: lc.Completion, Status: lc.Status}
		}
		if !reflect.DeepEqual(c.LastYear, want) || !reflect.DeepEqual(r.CountyLastYear(i), want) {
			t.Errorf("county %s: last_year %+v, accessor %+v, want %+v", c.Indicator, c.LastYear, r.CountyLastYear(i), want)
		}
	}
	if c := r.CountyLastYear(a.IndicatorIndex("screenings")); c == nil || c.Actual != Some(95) {
		t.Errorf("county screenings last year %+v, want 95", c)
	}
	lastRank := map[string]int{}
	for _, rk := range last.Rankings {
		lastRank[rk.Township] = rk.Rank
	}
	for _, rk := range r.Rankings {
		t.Run("rank "+rk.Township, func(t *testing.T) {
			want, ok := lastRank[rk.Township]
			switch {
			case !ok && (rk.LastYearRank != nil || r.LastYearRank(a.TownshipIndex(rk.Township)) != nil):
				t.Errorf("a new township has last_year_rank %v", *rk.LastYearRank)
			case ok && (rk.LastYearRank == nil || *rk.LastYearRank != want):
				t.Errorf("last_year_rank %v, want %d", rk.LastYearRank, want)
			case ok && (r.LastYearRank(a.TownshipIndex(rk.Township)) == nil || *r.LastYearRank(a.TownshipIndex(rk.Township)) != want):
				t.Errorf("LastYearRank = %v, want %d", r.LastYearRank(a.TownshipIndex(rk.Township)), want)
			}
		})
	}
	rankJSON, _ := json.Marshal(r.Rankings)
	if !strings.Contains(string(rankJSON), `"last_year_rank":`) {
		t.Errorf("rankings JSON without last_year_rank: %s", rankJSON)
	}

	// the result it was made from is as it was: no last_year anywhere, and nothing moved
	again, _ := json.Marshal(plain)
	if string(again) != string(plainJSON) || strings.Contains(string(plainJSON), "last_year") {
		t.Error("WithLastYear changed the result it was given, or a plain result writes last_year")
	}
	if plain.LastYearOf(0, 0) != nil || plain.LastYearRank(0) != nil || plain.CountyLastYear(0) != nil || plain.LastYear() != nil {
		t.Error("a plain result answers last year")
	}
	if r.LastYear() != last {
		t.Error("LastYear is not the result attached")
	}
	// only the same month a year before
	if _, err := plain.WithLastYear(mustEvaluate(t, lastData, "2024-04", now)); err == nil {
		t.Error("April of last year attached to March")
	}
}

// TestLastYearJSONIsTheEncodersShape: last_year spliced into an evaluation's JSON reads
// back as encoding/json writes a LastYear, null figures included.
func TestLastYearJSONIsTheEncodersShape(t *testing.T) {
	for _, ly := range []LastYear{
		{Actual: Some(12.5), Completion: Some(0.3125), Status: StatusAtRisk},
		{Status: StatusNoData},
		{Actual: Some(2)},
	} {
		var b bytes.Buffer
		ly.appendJSON(&b)
		want, _ := json.Marshal(ly)
		if b.String() != string(want) {
			t.Errorf("appendJSON = %s, want %s", b.String(), want)
		}
	}
}
