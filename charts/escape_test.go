package charts

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// attrRE finds attribute values, double-quoted as html/template writes them.
var attrRE = regexp.MustCompile(`\s[a-z-]+="([^"]*)"`)

// TestHostileNamesStayText renders every page of an assessment whose names carry markup,
// script and go-echarts' formatter marker, and checks each context: no element or attribute
// comes from a name (HTML), attribute values are closed where they should be (attribute),
// nothing ends a script element early and the chart options still read back the exact names
// (JSON inside a script), and no name reaches the options as code (JS).
func TestHostileNamesStayText(t *testing.T) {
	mon := newMonitor(t, hostileConfig, hostileBatches(), fixedNow)
	a := mon.Assessment()
	for _, static := range []bool{false, true} {
		for name, page := range renderPages(t, mon, kpi.MustPeriod("2024-01"), static) {
			// HTML: the only elements are kpimon's own.
			if strings.Contains(page, "<img") || strings.Contains(page, "<i>") || strings.Contains(page, "<b>") {
				t.Errorf("%s: a name became markup", name)
			}
			if n := strings.Count(strings.ToLower(page), "<script"); n != 2+len(specRE.FindAllString(page, -1)) {
				t.Errorf("%s: %d script elements, want the 2 assets and the chart options only", name, n)
			}
			if strings.Count(page, "</script>") != strings.Count(page, "<script") {
				t.Errorf("%s: a name closed a script element", name)
			}
			// The markup names never appear raw. (go-echarts' marker is plain text in HTML; it
			// only matters inside chart options, where it must stay a JSON string: below.)
			for _, h := range hostileNames[:2] {
				if strings.Contains(page, h) {
					t.Errorf("%s: %q appears unescaped", name, h)
				}
			}
			// Names are shown, escaped, as text.
			if !strings.Contains(page, html.EscapeString(hostileNames[0])) && !strings.Contains(page, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: the assessment's name is not shown as text", name)
			}
			// Attributes: no value carries a raw quote or angle bracket.
			for _, m := range attrRE.FindAllStringSubmatch(page, -1) {
				if strings.ContainsAny(m[1], `<>"`) {
					t.Errorf("%s: attribute value %q is not escaped", name, m[1])
				}
			}
			// JSON in a script: nothing in the options can end the element, they decode, and
			// they carry the names exactly, as data.
			for _, m := range specRE.FindAllStringSubmatch(page, -1) {
				if strings.ContainsAny(m[2], "<>&") {
					t.Errorf("%s %s: options carry a raw < > or &", name, m[1])
				}
			}
			found := map[string]bool{}
			for id, s := range specs(t, page) {
				raw, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hostileNames {
					if strings.Contains(string(raw), strings.ReplaceAll(strings.ReplaceAll(h, "<", `\u003c`), ">", `\u003e`)) ||
						containsString(s.Option, h) || containsTips(s, h) {
						found[h] = true
					}
				}
				if s.ValueFormat != "" && s.ValueFormat != "percent" && s.ValueFormat != "number" {
					t.Errorf("%s %s: value format %q is not one the script knows", name, id, s.ValueFormat)
				}
			}
			// A batch of several hostile file names folds into a list, each name as text.
			if strings.HasSuffix(name, "townships/cc.html") {
				if !strings.Contains(page, "等 4 个文件</summary><ul><li>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;.csv</li><li>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.xlsx</li>") {
					t.Errorf("%s: the hostile file names are not folded as text: %s", name, section(t, page, "submissions", "</table>"))
				}
			}
			if name == "index.html" {
				for _, h := range hostileNames {
					if !found[h] {
						t.Errorf("%s: the charts do not carry the name %q as data", name, h)
					}
				}
			}
		}
	}
	if a.Townships[2].Name != hostileNames[2] {
		t.Fatal("fixture changed")
	}
}

// containsString reports whether any string in decoded JSON contains s.
func containsString(v any, s string) bool {
	switch n := v.(type) {
	case string:
		return strings.Contains(n, s)
	case map[string]any:
		for _, x := range n {
			if containsString(x, s) {
				return true
			}
		}
	case []any:
		for _, x := range n {
			if containsString(x, s) {
				return true
			}
		}
	}
	return false
}

func containsTips(s chartSpec, h string) bool {
	for _, row := range s.Tips {
		for _, tip := range row {
			if strings.Contains(tip, h) {
				return true
			}
		}
	}
	return false
}

func TestHostileCSVStaysText(t *testing.T) {
	mon := newMonitor(t, hostileConfig, hostileBatches(), fixedNow)
	r, _ := mon.Evaluate(kpi.MustPeriod("2024-01"))
	var b strings.Builder
	if err := WriteRankingCSV(&b, mon.Assessment(), r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "\uFEFF月份,名次,较上月,乡镇代码,乡镇,") {
		t.Errorf("CSV header: %q", b.String()[:60])
	}
	if !strings.Contains(b.String(), `"""><img src=x onerror=alert(1)>"`) {
		t.Errorf("a name with quotes is not quoted as CSV: %s", b.String())
	}
}

func TestCSVCellsStartingAFormulaStayText(t *testing.T) {
	const cfg = `name: 公式测试
year: 2024
grades:
  - {name: "+1+1优秀", min: 90}
  - {name: "-1称职", min: 0}
townships:
  - {code: aa, name: "=HYPERLINK(\"http://evil.example\",\"点我\")"}
  - {code: bb, name: "@SUM(1)镇"}
indicators:
  - {code: x, name: 筛查, category: "=1+1组织", kind: count, weight: 100, target: 10}
`
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	mon := newMonitor(t, cfg, []batch{{"t", "t.csv", at, []kpi.Observation{obs("aa", "x", "2024-01", 9), obs("bb", "x", "2024-01", 1)}}}, fixedNow)
	r, _ := mon.Evaluate(kpi.MustPeriod("2024-01"))
	var b strings.Builder
	if err := WriteRankingCSV(&b, mon.Assessment(), r); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) && !isNumber(cell) {
				t.Errorf("cell %q would be a formula in Excel", cell)
			}
		}
	}
	if !strings.Contains(b.String(), "'=1+1组织") || !strings.Contains(b.String(), "'@SUM(1)镇") || !strings.Contains(b.String(), "'+1+1优秀") {
		t.Errorf("hostile cells not kept as text:\n%s", b.String())
	}
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
