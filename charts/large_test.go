package charts

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// cityOf300 is the city: 300 units (县区) × 40 indicators, January to November.
var cityOf300 = synth.Spec{Townships: 300, Indicators: 40, Months: 11, Seed: 1}

// TestLargeAssessmentPages: past manyUnits units, the ranking charts show the first and last
// topN with a gap and a search box; the heat map's compact cells read back as every cell's
// shown status and tooltip line, in rank order; the ranking and an indicator's units carry
// every row for the browser and render the first page; the alerts tables list the longest
// held; the unit index links every unit.
func TestLargeAssessmentPages(t *testing.T) {
	s := scaledSnapshot(t, cityOf300, kpi.LevelCity, provinceNow)
	a, r := s.Assessment, s.Result()
	l := liveLinks(s.Period)
	rend, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	page := func(v *view, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := rend.render(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	overview := page(buildOverview(s, l))

	// the unit index: every unit, its link made from the pattern
	m := regexp.MustCompile(`<script type="application/json" id="unit-index">(.*?)</script>`).FindStringSubmatch(overview)
	if m == nil {
		t.Fatal("no unit index")
	}
	var idx unitIndex
	if err := json.Unmarshal([]byte(m[1]), &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Names) != 300 || idx.Href[0]+idx.Codes[7]+idx.Href[1] != l.Township(a.Townships[7].Code) || idx.Names[7] != a.Townships[7].Name {
		t.Errorf("unit index: %d names, unit 7 links %s", len(idx.Names), idx.Href[0]+idx.Codes[7]+idx.Href[1])
	}

	sp := specs(t, overview)
	names := at(t, sp["overview-ranking"].Option, "yAxis.0.data").([]any)
	if len(names) != 2*topN+1 || names[0] != r.Rankings[0].Name || names[topN] != sepName || names[2*topN] != r.Rankings[299].Name {
		t.Errorf("ranking chart bars %v, want the first and last %d with %s between", names, topN, sepName)
	}
	if n := len(at(t, sp["overview-status"].Option, "yAxis.0.data").([]any)); n != 2*topN {
		t.Errorf("status chart has %d units, want %d", n, 2*topN)
	}
	if c := strings.Count(overview, `<input type="search" data-unit-search`); c != 2 {
		t.Errorf("%d search boxes on the overview, want 2 (the nav's and the ranking's)", c)
	}

	// the heat map, cell by cell
	h := sp["overview-heat"].Heat
	scored := scoredIndicators(a)
	if h == nil || len(h.Cells) != 300*len(scored) || len(h.Order) != 300 {
		t.Fatalf("heat map: %+v", h)
	}
	due := dueOf(s)
	statuses := kpi.AllStatuses()
	for x, tw := range h.Order {
		if a.Townships[tw].Code != r.Rankings[x].Township {
			t.Fatalf("heat map column %d is %s, want %s (rank order)", x, a.Townships[tw].Code, r.Rankings[x].Township)
		}
		for y, i := range scored {
			ind, e := &a.Indicators[i], r.Evaluation(tw, i, len(a.Indicators))
			kind := h.Kinds[h.Cells[x*len(scored)+y]-'a']
			st := statuses[int(kind[0].(float64))]
			line := kind[1].(string)
			if st != shownStatus(ind, e) || !strings.HasPrefix(line, "状态：") ||
				unreported(ind, e) != strings.Contains(line, "本月未报送（"+due.Note()+"）") {
				t.Fatalf("cell %s × %s reads %s %q, want %s", a.Townships[tw].Name, ind.Name, st, line, shownStatus(ind, e))
			}
		}
	}
	zoom := at(t, sp["overview-heat"].Option, "dataZoom").([]any)
	if len(zoom) != 2 || at(t, zoom[0], "xAxisIndex") != 0.0 || at(t, zoom[1], "yAxisIndex") != 0.0 || at(t, zoom[1], "endValue") != float64(heatRowsShown-1) {
		t.Errorf("heat map zoom %v, want sliders on both axes opening on %d indicators", zoom, heatRowsShown)
	}

	// the ranking: the first page in HTML, every row for the browser
	rankings := page(buildRankings(s, l))
	if n := strings.Count(section(t, rankings, "ranks", "</table>"), "<tr"); n != pageRows+1 {
		t.Errorf("the ranking table has %d rows, want a header and %d", n, pageRows)
	}
	var ranks struct {
		Kind string  `json:"kind"`
		Size int     `json:"size"`
		Rows [][]any `json:"rows"`
	}
	tableJSON := regexp.MustCompile(`<script type="application/json" data-table="ranks">(.*?)</script>`).FindStringSubmatch(rankings)
	if tableJSON == nil || json.Unmarshal([]byte(tableJSON[1]), &ranks) != nil {
		t.Fatal("no rows of the ranking for the browser")
	}
	if len(ranks.Rows) != 300 || ranks.Size != pageRows || ranks.Kind != "ranks" {
		t.Fatalf("ranking rows: %d of %s, pages of %d", len(ranks.Rows), ranks.Kind, ranks.Size)
	}
	for k, row := range ranks.Rows {
		x := r.Rankings[k]
		if a.Townships[int(row[0].(float64))].Code != x.Township || row[6] != x.Grade || row[8] != float64(b01(x.Veto)) {
			t.Fatalf("ranking row %d = %v, want %s %s", k, row, x.Township, x.Grade)
		}
	}
	if !strings.Contains(rankings, "共 300 个县区，每页 50 个。") {
		t.Error("the ranking does not say how many rows it pages over")
	}

	// an indicator's units: the first page, and every unit for the browser
	ind := page(buildIndicator(s, l, a.Indicators[0].Code))
	if n := strings.Count(section(t, ind, "evals", "</table>"), "<tr"); n != pageRows+1 {
		t.Errorf("the indicator's table has %d rows, want a header and %d", n, pageRows)
	}
	if !strings.Contains(ind, `<script type="application/json" data-table="evals">`) {
		t.Error("no rows of the indicator's units for the browser")
	}
	if n := len(at(t, specs(t, ind)["indicator-townships"].Option, "yAxis.0.data").([]any)); n != 2*topN+1 {
		t.Errorf("the indicator's chart has %d bars, want %d", n, 2*topN+1)
	}

	// alerts: at most maxAlertRows a table, the longest held first, and how many there are
	alerts := page(buildAlerts(s, l))
	var crit int
	for _, al := range r.Alerts {
		if al.Severity == kpi.SeverityCritical {
			crit++
		}
	}
	if crit <= maxAlertRows {
		t.Fatalf("fixture changed: %d critical alerts", crit)
	}
	table := section(t, alerts, "critical", "</section>")
	if n := listedInTable(table); n != maxAlertRows || !strings.Contains(table, "共 "+thousands(float64(crit), 0)+" 条，这里列出持续最久的 100 条") {
		t.Errorf("the critical alerts list %d of %d", n, crit)
	}
}

// TestSmallAssessmentsAreListedInFull: at manyUnits units the pages list every unit as before:
// no unit index, no search box, no pager, every bar and every row.
func TestSmallAssessmentsAreListedInFull(t *testing.T) {
	spec := cityOf300
	spec.Townships = manyUnits
	s := scaledSnapshot(t, spec, kpi.LevelCity, provinceNow)
	l := liveLinks(s.Period)
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pageKinds(s) {
		v, err := k.build()
		if err != nil {
			t.Fatal(err)
		}
		body, err := r.render(v)
		if err != nil {
			t.Fatal(err)
		}
		html := string(body)
		for _, bad := range []string{`id="unit-index"`, "data-unit-search", `data-table=`, sepName} {
			if strings.Contains(html, bad) {
				t.Errorf("%s of %d units carries %s", k.name, manyUnits, bad)
			}
		}
	}
	v, err := buildRankings(s, l)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.Data.(*rankingsData).Rows); n != manyUnits {
		t.Errorf("the ranking lists %d rows, want %d", n, manyUnits)
	}
}

// hostileLargeConfig is hostileConfig's names on 31 units: a large assessment, whose unit
// index, compact heat map and paged tables carry the names as JSON for the browser.
func hostileLargeConfig() string {
	var b strings.Builder
	b.WriteString("name: \"</script><script>alert(1)</script>妇联考核\"\nyear: 2024\ntownships:\n")
	for t := range manyUnits + 1 {
		name, _ := json.Marshal(hostileNames[t%len(hostileNames)] + itoa(t))
		b.WriteString("  - {code: u" + itoa(t) + ", name: " + string(name) + "}\n")
	}
	b.WriteString(`indicators:
  - {code: screenings, name: "</script><script>alert(1)</script>筛查", category: "\"><img src=x onerror=alert(1)>", unit: "<b>人</b>", kind: count, weight: 50, target: 100}
  - {code: closure, name: "\"><img src=x onerror=alert(1)>办结率", kind: ratio, weight: 50, threshold: 0.98}
`)
	return b.String()
}

// TestHostileNamesStayTextInALargeAssessment: the JSON a large assessment's pages carry for
// the browser (the unit index, the heat map, the paged tables) cannot end its script
// element and reads back the exact names.
func TestHostileNamesStayTextInALargeAssessment(t *testing.T) {
	var reports []kpi.Observation
	for u := range manyUnits + 1 {
		reports = append(reports, obs("u"+itoa(u), "screenings", "2024-01", float64(u)), ratio("u"+itoa(u), "closure", "2024-01", 9, 10))
	}
	mon := newMonitor(t, hostileLargeConfig(), []batch{{"x", "x.csv", fixedNow.Add(-30 * 24 * time.Hour), reports}}, fixedNow)
	a := mon.Assessment()
	dataRE := regexp.MustCompile(`(?s)<script type="application/json"[^>]*>(.*?)</script>`)
	for name, page := range renderPages(t, mon, kpi.MustPeriod("2024-01"), false) {
		for _, h := range hostileNames[:2] {
			if strings.Contains(page, h) {
				t.Errorf("%s: %q appears unescaped", name, h)
			}
		}
		if strings.Count(page, "</script>") != strings.Count(page, "<script") {
			t.Errorf("%s: a name closed a script element", name)
		}
		for _, m := range dataRE.FindAllStringSubmatch(page, -1) {
			if strings.ContainsAny(m[1], "<>&") || !json.Valid([]byte(m[1])) {
				t.Errorf("%s: data %.80q carries a raw < > or & or is not JSON", name, m[1])
			}
		}
		idx := regexp.MustCompile(`<script type="application/json" id="unit-index">(.*?)</script>`).FindStringSubmatch(page)
		var u unitIndex
		if idx == nil || json.Unmarshal([]byte(idx[1]), &u) != nil || len(u.Names) != len(a.Townships) {
			t.Fatalf("%s: no unit index", name)
		}
		for k, tw := range a.Townships {
			if u.Names[k] != tw.Name {
				t.Errorf("%s: unit %d reads %q, want %q", name, k, u.Names[k], tw.Name)
			}
		}
	}
}
