package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

// demoDeployment loads the demo's assessments with the ids (their whole years' reports)
// into a new SQLite file and builds the deployment at now.
func demoDeployment(t testing.TB, now time.Time, ids ...string) (*Deployment, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var as []*kpi.Assessment
	for _, id := range ids {
		a, err := demo.AssessmentByID(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, db, a); err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	d, err := NewDeployment(ctx, db, as, Options{Now: func() time.Time { return now }, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return d, db
}

// apiShape is the part of a Result's JSON 同比 adds to.
type apiShape struct {
	Period      string
	Evaluations []struct {
		Township, Indicator string
		LastYear            *kpi.LastYear `json:"last_year"`
	}
	County []struct {
		Indicator string
		LastYear  *kpi.LastYear `json:"last_year"`
	}
}

// checkLastYear compares r's last_year (JSON and accessors) and last_year_rank with last,
// the previous year's evaluation of the same month computed on its own.
func checkLastYear(t *testing.T, r, last *kpi.Result) {
	t.Helper()
	a, b := r.Assessment(), last.Assessment()
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out apiShape
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for x, e := range out.Evaluations {
		tw, i := x/len(a.Indicators), x%len(a.Indicators)
		le := last.Evaluation(b.TownshipIndex(e.Township), b.IndicatorIndex(e.Indicator), len(b.Indicators))
		want := &kpi.LastYear{Actual: le.Actual, Completion: le.Completion, Status: le.Status}
		if !reflect.DeepEqual(e.LastYear, want) || !reflect.DeepEqual(r.LastYearOf(tw, i), want) {
			t.Errorf("%s %s/%s: last_year %+v (accessor %+v), want %+v", r.Period, e.Township, e.Indicator, e.LastYear, r.LastYearOf(tw, i), want)
			n++
		}
		if n > 5 {
			t.FailNow()
		}
	}
	for i, c := range out.County {
		lc := last.County[b.IndicatorIndex(c.Indicator)]
		want := &kpi.LastYear{Actual: lc.Actual, Completion: lc.Completion, Status: lc.Status}
		if !reflect.DeepEqual(c.LastYear, want) || !reflect.DeepEqual(r.CountyLastYear(i), want) {
			t.Errorf("%s county %s: last_year %+v, want %+v", r.Period, c.Indicator, c.LastYear, want)
		}
	}
	rankOf := map[string]int{}
	for _, rk := range last.Rankings {
		rankOf[rk.Township] = rk.Rank
	}
	for _, rk := range r.Rankings {
		if rk.LastYearRank == nil || *rk.LastYearRank != rankOf[rk.Township] {
			t.Errorf("%s %s: last_year_rank %v, want %d", r.Period, rk.Township, rk.LastYearRank, rankOf[rk.Township])
		}
	}
}

// TestLastYearEveryMonth: qingcheng-2026's evaluation of every month carries, for every
// township × indicator, the county and the ranking, qingcheng-2025's figures of the same
// month, as 2025's own evaluation gives them; a correction of last year's data shows at
// once in this year's cached evaluations.
func TestLastYearEveryMonth(t *testing.T) {
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	d, _ := demoDeployment(t, now, "qingcheng-2025", "qingcheng-2026")
	cur, _ := d.Monitor("qingcheng-2026")
	prev, _ := d.Monitor("qingcheng-2025")
	if ly, ok := cur.LastYear(); !ok || ly != prev {
		t.Fatalf("qingcheng-2026's last year is %v", ly)
	}
	for m := 1; m <= 12; m++ {
		t.Run(fmt.Sprint(m), func(t *testing.T) {
			r, err := cur.Evaluate(kpi.Period{Year: 2026, Month: m})
			if err != nil {
				t.Fatal(err)
			}
			last, err := kpi.Evaluate(prev.Dataset(), kpi.Period{Year: 2025, Month: m}, now)
			if err != nil {
				t.Fatal(err)
			}
			checkLastYear(t, r, last)
		})
	}
	// 2025 has no last year in this deployment: its JSON has no last_year at all
	r25, _ := prev.Evaluate(kpi.Period{Year: 2025, Month: 6})
	if js, _ := json.Marshal(r25); json.Valid(js) && containsKey(js, "last_year") {
		t.Error("an assessment without a last year writes last_year")
	}

	// 横荷街道's March 2025 screenings corrected: this year's cached March moves with it
	p := kpi.Period{Year: 2026, Month: 3}
	before, _ := cur.Evaluate(p)
	if again, _ := cur.Evaluate(p); again != before {
		t.Fatal("the same versions recomputed the evaluation")
	}
	ti, ii := before.Assessment().TownshipIndex("henghe"), before.Assessment().IndicatorIndex("cervical_screening_persons")
	was := before.LastYearOf(ti, ii).Actual.V
	if _, err := prev.Ingest(context.Background(), batch(prev, "henghe,cervical_screening_persons,2025-03,500\n"), "t"); err != nil {
		t.Fatal(err)
	}
	after, err := cur.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.LastYearOf(ti, ii).Actual.V; got <= was {
		t.Errorf("after last year's correction 横荷街道's last_year actual is %v (was %v)", got, was)
	}
	last, _ := kpi.Evaluate(prev.Dataset(), kpi.Period{Year: 2025, Month: 3}, now)
	checkLastYear(t, after, last)
	if !reflect.DeepEqual(after.Evaluations(), before.Evaluations()) {
		t.Error("last year's correction changed this year's own figures")
	}
}

func containsKey(js []byte, key string) bool {
	var v struct {
		Evaluations []map[string]json.RawMessage
		County      []map[string]json.RawMessage
	}
	if json.Unmarshal(js, &v) != nil {
		return false
	}
	for _, e := range append(v.Evaluations, v.County...) {
		if _, ok := e[key]; ok {
			return true
		}
	}
	return false
}

// TestLastYearBaselinesFollowLastYear: qingcheng-2026's 爱心妈妈结对 (baseline: last_year)
// starts every township from its December 2025 level in qingcheng-2025; a correction of
// that level moves the baseline, the expected level and the cached evaluations at once.
func TestLastYearBaselinesFollowLastYear(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	d, db := demoDeployment(t, now, "qingcheng-2025", "qingcheng-2026")
	cur, _ := d.Monitor("qingcheng-2026")
	prev, _ := d.Monitor("qingcheng-2025")
	a := cur.Assessment()
	i := a.IndicatorIndex("caring_mother_pairs")
	if ind := a.Indicators[i]; !ind.BaselineLastYear || ind.Target == nil {
		t.Fatalf("the demo's 爱心妈妈结对 does not take its baseline from last year: %+v", ind)
	}
	target := *a.Indicators[i].Target
	p := kpi.Period{Year: 2026, Month: 6}
	decLevel := func(code string) float64 {
		pd := prev.Dataset()
		v, _ := pd.Cell(pd.Assessment().TownshipIndex(code), pd.Assessment().IndicatorIndex("caring_mother_pairs")).Latest(12)
		return v
	}
	r, err := cur.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	for tw, town := range a.Townships {
		e := r.TownshipEvaluations(tw)[i]
		want := min(decLevel(town.Code), target)
		if want < 30 || e.Baseline != kpi.Some(want) || e.Expected != kpi.Some(want+(target-want)*6/12) {
			t.Errorf("%s: baseline %v, expected %v; want last December's %v and %v", town.Name, e.Baseline, e.Expected, want, want+(target-want)*6/12)
		}
	}
	if a.Indicators[i].BaselineFor("dongcheng") != 0 {
		t.Error("the config's assessment was changed")
	}

	// 东城街道's December 2025 level corrected to 20: its 2026 baseline is 20 at once
	v := cur.Version()
	if _, err := prev.Ingest(ctx, batch(prev, "dongcheng,caring_mother_pairs,2025-12,20\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if cur.Version() != v+1 {
		t.Errorf("version %d after last year's correction, want %d", cur.Version(), v+1)
	}
	after, err := cur.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	dc := a.TownshipIndex("dongcheng")
	if e := after.TownshipEvaluations(dc)[i]; e.Baseline != kpi.Some(20) || e.Expected != kpi.Some(20+(target-20)/2) {
		t.Errorf("东城街道 after the correction: baseline %v, expected %v; want 20 and %v", e.Baseline, e.Expected, 20+(target-20)/2)
	}
	// the same as evaluating the data bound to last year's new levels from scratch
	bound, err := cur.Dataset().CloneFor(a.WithLastYearBaselines(prev.Dataset()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kpi.Evaluate(bound, p, now)
	if !reflect.DeepEqual(after.Evaluations(), want.Evaluations()) || !reflect.DeepEqual(after.Rankings[0].TownshipScore, want.Rankings[0].TownshipScore) {
		t.Error("the evaluation after last year's correction differs from one from scratch")
	}
	// a correction elsewhere in last year leaves the baselines, and this year's figures, alone
	if _, err := prev.Ingest(ctx, batch(prev, "dongcheng,volunteer_events,2025-03,9\n"), "t"); err != nil {
		t.Fatal(err)
	}
	again, _ := cur.Evaluate(p)
	if !reflect.DeepEqual(again.Evaluations(), after.Evaluations()) || again.Assessment() != after.Assessment() {
		t.Error("a correction of another indicator last year changed this year's figures or goals")
	}

	// without last year in the deployment the baselines are 0
	alone, err := New(ctx, a, db, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := alone.Evaluate(p)
	if e := ra.TownshipEvaluations(dc)[i]; e.Baseline.Valid || e.Expected != kpi.Some(target/2) {
		t.Errorf("without last year: baseline %v, expected %v; want none and %v", e.Baseline, e.Expected, target/2)
	}
}
