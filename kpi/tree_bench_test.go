package kpi_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// provinceTree is a province of cities of counties of townships, every county's year
// reported: the assessments, their data with every city's and the province's derived rows
// in place (as a running deployment holds them), and the links.
type provinceTree struct {
	counties []*kpi.Dataset // city c's county k at c*perCity+k
	cities   []*kpi.Dataset
	province *kpi.Dataset
	cityU    []*kpi.Units
	provU    *kpi.Units
	perCity  int
}

// aboveConfig writes the config of an assessment one level above (city or province) whose
// units are the assessments ids, with every indicator of the synthetic county taken from
// them: counts, ratios and stocks from their own codes, milestones as shares of townships
// done; a bonus and a veto of its own, which nobody reports.
func aboveConfig(id string, level kpi.Level, ids []string, below *kpi.Assessment, fromShares bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nlevel: %s\nname: %s\nyear: %d\nunits:\n", id, level, id, below.Year)
	for k, u := range ids {
		fmt.Fprintf(&b, "  - {code: u%02d, name: 单位%02d, assessment: %s}\n", k, k, u)
	}
	b.WriteString("indicators:\n")
	scored := 0
	for _, ind := range below.Indicators {
		if ind.Kind.Scored() {
			scored++
		}
	}
	w := 100 / float64(scored)
	for _, ind := range below.Indicators {
		switch ind.Kind {
		case kpi.KindCount, kpi.KindStock:
			fmt.Fprintf(&b, "  - {code: %s, name: %s, kind: %s, weight: %g, target: %g", ind.Code, ind.Name, ind.Kind, w, *ind.Target*float64(len(below.Townships)))
			if ind.Direction == kpi.Lower {
				b.WriteString(", direction: lower")
			}
			b.WriteString("}\n")
		case kpi.KindRatio:
			fmt.Fprintf(&b, "  - {code: %s, name: %s, kind: ratio, weight: %g, threshold: %g}\n", ind.Code, ind.Name, w, ind.Threshold)
		case kpi.KindMilestone:
			if fromShares {
				fmt.Fprintf(&b, "  - {code: %s_share, from: %s, name: %s完成率, kind: stock, weight: %g, target: 1}\n", ind.Code, ind.Code, ind.Name, w)
			} else {
				fmt.Fprintf(&b, "  - {code: %s, name: %s, kind: stock, weight: %g, target: %d}\n", ind.Code, ind.Name, w, len(below.Townships))
			}
		case kpi.KindBonus:
			fmt.Fprintf(&b, "  - {code: %s_bonus, name: %s加分, kind: bonus, max: 5}\n", level, level.Label())
		case kpi.KindVeto:
			fmt.Fprintf(&b, "  - {code: %s_veto, name: %s否决, kind: veto}\n", level, level.Label())
		}
	}
	return b.String()
}

func newProvinceTree(tb testing.TB, cities, perCity, townships, indicators int) *provinceTree {
	tb.Helper()
	tree := &provinceTree{perCity: perCity}
	byID := map[string]*kpi.Assessment{}
	lookup := func(id string) (*kpi.Assessment, bool) { a, ok := byID[id]; return a, ok }
	var cityIDs []string
	for c := 0; c < cities; c++ {
		var ids []string
		for k := 0; k < perCity; k++ {
			spec := synth.Spec{Townships: townships, Indicators: indicators, Months: 12, Seed: uint64(c*perCity + k + 1)}
			cfg, err := synth.Config(spec)
			if err != nil {
				tb.Fatal(err)
			}
			id := fmt.Sprintf("c%02d-k%02d", c, k)
			a, err := kpi.ParseConfig(id+".yaml", cfg)
			if err != nil {
				tb.Fatal(err)
			}
			d := kpi.NewDataset(a)
			if err := synth.Generate(a, spec, d.Set); err != nil {
				tb.Fatal(err)
			}
			byID[id] = a
			ids = append(ids, id)
			tree.counties = append(tree.counties, d)
		}
		id := fmt.Sprintf("city%02d", c)
		a, err := kpi.ParseConfig(id+".yaml", []byte(aboveConfig(id, kpi.LevelCity, ids, byID[ids[0]], true)))
		if err != nil {
			tb.Fatal(err)
		}
		u, err := kpi.LinkUnits(a, lookup)
		if err != nil {
			tb.Fatal(err)
		}
		byID[id] = a
		cityIDs = append(cityIDs, id)
		d := kpi.NewDataset(a)
		for k := range ids {
			if _, err := u.Derive(d, k, kpi.AggregateOf(tree.counties[c*perCity+k])); err != nil {
				tb.Fatal(err)
			}
		}
		tree.cities, tree.cityU = append(tree.cities, d), append(tree.cityU, u)
	}
	a, err := kpi.ParseConfig("province.yaml", []byte(aboveConfig("province", kpi.LevelProvince, cityIDs, byID[cityIDs[0]], false)))
	if err != nil {
		tb.Fatal(err)
	}
	u, err := kpi.LinkUnits(a, lookup)
	if err != nil {
		tb.Fatal(err)
	}
	tree.province, tree.provU = kpi.NewDataset(a), u
	for c := range tree.cities {
		if _, err := u.Derive(tree.province, c, kpi.AggregateOf(tree.cities[c])); err != nil {
			tb.Fatal(err)
		}
	}
	return tree
}

// evaluateAll evaluates every assessment of the tree as of p.
func (tree *provinceTree) evaluateAll(tb testing.TB, p kpi.Period, now time.Time) (counties, cities []*kpi.Result, province *kpi.Result) {
	for _, d := range tree.counties {
		r, err := kpi.Evaluate(d, p, now)
		if err != nil {
			tb.Fatal(err)
		}
		counties = append(counties, r)
	}
	for _, d := range tree.cities {
		r, err := kpi.Evaluate(d, p, now)
		if err != nil {
			tb.Fatal(err)
		}
		cities = append(cities, r)
	}
	province, err := kpi.Evaluate(tree.province, p, now)
	if err != nil {
		tb.Fatal(err)
	}
	return counties, cities, province
}

// TestProvinceTreeAddsUp: in a generated province, each city's figure of a county is that
// county's 全县 aggregate, and the province's figure of a city is the city's 全市 aggregate.
func TestProvinceTreeAddsUp(t *testing.T) {
	tree := newProvinceTree(t, 2, 3, 4, 12)
	p := kpi.Period{Year: 2024, Month: 7}
	counties, cities, province := tree.evaluateAll(t, p, time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC))
	check := func(above *kpi.Result, u *kpi.Units, unit int, below *kpi.Result) {
		a := above.Assessment()
		for i := range a.Indicators {
			if !u.Derived(unit, i) {
				continue
			}
			e := above.TownshipEvaluations(unit)[i]
			c := below.County[below.Assessment().IndicatorIndex(a.Indicators[i].Source())]
			if e.Actual != c.Actual {
				t.Errorf("%s's %s of %s: %v, the aggregate %v", a.ID, a.Indicators[i].Code, below.Assessment().ID, e.Actual, c.Actual)
			}
		}
	}
	for c := range cities {
		for k := 0; k < tree.perCity; k++ {
			check(cities[c], tree.cityU[c], k, counties[c*tree.perCity+k])
		}
		check(province, tree.provU, c, cities[c])
	}
	if len(province.Rankings) != 2 || province.Rankings[0].Total == 0 {
		t.Errorf("province ranking %+v", province.Rankings)
	}
}

// BenchmarkProvinceTree is a province of 14 cities × 8 counties × 15 townships × 30
// indicators (1,680 townships, 112 counties): every assessment of the tree evaluated for one
// month from warm state (data in memory, the cities' and the province's derived rows in
// place); the same with every derived row worked out again first; and one township's report,
// as the deployment handles it: its county brought up to date, that county's row of its city
// derived again and the city brought up to date, and the same one level up.
func BenchmarkProvinceTree(b *testing.B) {
	tree := newProvinceTree(b, 14, 8, 15, 30)
	p := kpi.Period{Year: 2024, Month: 6}
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	counties, cities, province := tree.evaluateAll(b, p, now)
	runtime.GC()
	b.Run("evaluate_whole_tree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tree.evaluateAll(b, p, now)
		}
		b.ReportMetric(float64(len(tree.counties)+len(tree.cities)+1), "assessments")
	})
	b.Run("derive_and_evaluate_whole_tree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for c, d := range tree.cities {
				next := d.Clone()
				for k := 0; k < tree.perCity; k++ {
					if _, err := tree.cityU[c].Derive(next, k, kpi.AggregateOf(tree.counties[c*tree.perCity+k])); err != nil {
						b.Fatal(err)
					}
				}
			}
			next := tree.province.Clone()
			for c := range tree.cities {
				if _, err := tree.provU.Derive(next, c, kpi.AggregateOf(tree.cities[c])); err != nil {
					b.Fatal(err)
				}
			}
			tree.evaluateAll(b, p, now)
		}
	})
	b.Run("one_township_report", func(b *testing.B) {
		c, k, tw := 5, 3, 7
		county := tree.counties[c*tree.perCity+k].Clone()
		a := county.Assessment()
		for _, ind := range a.Indicators {
			if ind.Kind == kpi.KindCount {
				county.Set(kpi.Observation{Township: a.Townships[tw].Code, Indicator: ind.Code, Period: p, Value: 1})
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kpi.Reevaluate(counties[c*tree.perCity+k], county, []int{tw}); err != nil {
				b.Fatal(err)
			}
			city := tree.cities[c].Clone()
			if _, err := tree.cityU[c].Derive(city, k, kpi.AggregateOf(county)); err != nil {
				b.Fatal(err)
			}
			if _, err := kpi.Reevaluate(cities[c], city, []int{k}); err != nil {
				b.Fatal(err)
			}
			prov := tree.province.Clone()
			if _, err := tree.provU.Derive(prov, c, kpi.AggregateOf(city)); err != nil {
				b.Fatal(err)
			}
			if _, err := kpi.Reevaluate(province, prov, []int{c}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
