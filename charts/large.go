package charts

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

// Large assessments. A city's or a province's assessment may have hundreds or thousands of
// units; a page that drew every one of them in every chart would be megabytes long, its bars
// a few pixels high and its heat map's cells a pixel wide. Beyond manyUnits units the pages
// change where the units are listed, and nowhere else:
//
//   - ranking charts show the first and last topN units, with a search box that finds any
//     unit by name (kpimon.js, over the page's unit index: names, codes and the link
//     pattern, once per page);
//   - the heat map carries one character per cell (its status, and for a figure not sent
//     its earlier months' status) in rank order, and zooms on both axes (ECharts dataZoom),
//     opening on as many units as the screen's width holds;
//   - long tables (the ranking, an indicator's units) show pageRows rows and page in the
//     browser, over their rows as compact JSON; the alerts tables list the maxAlertRows
//     alerts that have held longest, every unit's page listing all of its own.
//
// Assessments with at most manyUnits units (a county's, the demo's 8) look as before.

// manyUnits is the most units a page lists in full: about what a phone's screen holds as the
// bars of a ranking chart (30 bars of 30 px).
const manyUnits = 30

// topN is how many of the first and of the last units a ranking chart of a large assessment
// shows.
const topN = 10

// pageRows is how many rows a long table shows at once.
const pageRows = 50

// maxAlertRows is how many alerts (and resolutions) the alerts page lists per table.
const maxAlertRows = 100

// maxUnreportedNames is how many units the overview names as not having reported.
const maxUnreportedNames = 20

// large reports whether the assessment has more units than a page lists in full.
func large(a *kpi.Assessment) bool { return len(a.Townships) > manyUnits }

// unitIndex is a large assessment's units for the browser: names and path-escaped codes in
// config order, and the page's link to a unit as the text before and after its code.
type unitIndex struct {
	Names []string  `json:"names"`
	Codes []string  `json:"codes"`
	Href  [2]string `json:"href"`
	Own   *ownIndex `json:"own,omitempty"` // a city's (province's) units' own assessments; nil when none has one
}

// ownIndex is where each unit's own assessment's pages are (进入清城区考核 →): the path-escaped
// ids ("" for a unit without one), the link as the text before and after an id, and the
// link's words before and after the unit's name.
type ownIndex struct {
	IDs  []string  `json:"ids"`
	Href [2]string `json:"href"`
	Text [2]string `json:"text"`
}

// unitIndexJSON writes the assessment's unit index for a page with links l.
func unitIndexJSON(s *Snapshot, l links) (template.JS, error) {
	a := s.Assessment
	idx := unitIndex{Names: make([]string, len(a.Townships)), Codes: make([]string, len(a.Townships))}
	for t, tw := range a.Townships {
		idx.Names[t] = tw.Name
		idx.Codes[t] = pathCode(tw.Code)
	}
	idx.Href = hrefAround(l.Township)
	if u := s.Units(); u != nil && l.Assessment("x") != "" {
		own := &ownIndex{IDs: make([]string, len(a.Townships)), Href: hrefAround(l.Assessment), Text: [2]string{"进入", "考核 →"}}
		for t := range a.Townships {
			if u.Of(t) != nil {
				own.IDs[t] = pathCode(u.Of(t).ID)
			}
		}
		idx.Own = own
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return "", fmt.Errorf("unit index: %w", err)
	}
	return template.JS(b), nil
}

// hrefAround splits the link a function makes of a code into what comes before the code and
// what comes after it, by making the link of a code that cannot occur (NUL, escaped %00).
func hrefAround(link func(code string) string) [2]string {
	before, after, _ := strings.Cut(link("\x00"), pathCode("\x00"))
	return [2]string{before, after}
}

// topBottom keeps the first and the last n of rows when there are more than 2n + 1, with
// sep between them; it returns rows unchanged otherwise.
func topBottom[T any](rows []T, n int, sep T) []T {
	if len(rows) <= 2*n+1 {
		return rows
	}
	out := make([]T, 0, 2*n+1)
	out = append(out, rows[:n]...)
	out = append(out, sep)
	return append(out, rows[len(rows)-n:]...)
}

// sepName is the category of the gap between the first and the last units of a chart.
const sepName = "⋯"

// topBottomNote says what a ranking chart of a large assessment leaves out.
func topBottomNote(a *kpi.Assessment) string {
	return fmt.Sprintf("共 %s 个%s，图中为前 %d 名和后 %d 名；查找其他%s请用下面的搜索框。",
		thousands(float64(len(a.Townships)), 0), a.UnitsShort(), topN, topN, a.UnitsShort())
}

// pagedTable is a long table's rows for the browser: the page shows the first pageRows, and
// kpimon.js the others from Rows (compact JSON, every row).
type pagedTable struct {
	ID    string      // the table's id
	Total string      // rows in all, written for people: 2,000
	Size  int         // rows a page
	Unit  string      // what a row is, for the pager's line: 乡镇
	JSON  template.JS // {"kind", "size", "rows", …}
}

// newPagedTable makes the JSON of a paged table of the kind ("ranks" or "evals") from its
// rows and the fields every row shares.
func newPagedTable(id, kind, unit string, rows [][]any, shared map[string]any) (*pagedTable, error) {
	body := map[string]any{"kind": kind, "size": pageRows, "rows": rows}
	for k, v := range shared {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	return &pagedTable{ID: id, Total: thousands(float64(len(rows)), 0), Size: pageRows, Unit: unit, JSON: template.JS(b)}, nil
}

// b01 writes a flag of a compact row as 0 or 1.
func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}
