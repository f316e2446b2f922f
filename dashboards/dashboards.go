// Package dashboards holds what kpimon ships for Prometheus and Grafana, embedded so tests
// and tools read exactly the files in the repository: the Grafana dashboard
// (grafana/kpimon.json, importable and provisionable) with its provisioning files, an
// example Prometheus configuration, the rule file `kpimon rules` writes
// (prometheus/kpimon-rules.yml) and its promtool unit tests.
//
// Metric names are an API: tests check that every query here names only metrics kpimon
// exposes.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Files are the shipped files, by their paths in this directory.
//
//go:embed grafana/kpimon.json grafana/provisioning prometheus
var Files embed.FS

// DashboardPath is the Grafana dashboard's path in Files.
const DashboardPath = "grafana/kpimon.json"

// Query is one PromQL query of the dashboard.
type Query struct {
	Where string // the panel's title and target, or the variable's name
	Expr  string // with Grafana variables replaced by values that match everything
}

// Dashboard is the part of a Grafana dashboard's JSON the checks read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// Panel is one panel (a row holds further panels).
type Panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []Panel `json:"panels"`
}

// LoadDashboard parses the shipped dashboard.
func LoadDashboard() (*Dashboard, error) {
	data, err := Files.ReadFile(DashboardPath)
	if err != nil {
		return nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", DashboardPath, err)
	}
	return &d, nil
}

// AllPanels lists the panels, those inside rows included.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

var grafanaVar = regexp.MustCompile(`\$\{[A-Za-z0-9_]+(?::[a-z]+)?\}|\[\[[A-Za-z0-9_]+\]\]|\$[A-Za-z0-9_]+`)

// Queries lists every PromQL query of the dashboard: panel targets, and variable queries
// (label_values(…) and query_result(…) reduced to their selector or expression).
func (d *Dashboard) Queries() []Query {
	var out []Query
	expand := func(s string) string {
		return grafanaVar.ReplaceAllStringFunc(s, func(v string) string {
			switch strings.Trim(v, "${}[]") {
			case "__interval", "__rate_interval", "__range":
				return "5m"
			}
			return ".*"
		})
	}
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			if t.Expr != "" {
				out = append(out, Query{Where: fmt.Sprintf("panel %q target %s", p.Title, t.RefID), Expr: expand(t.Expr)})
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			json.Unmarshal(v.Query, &q.Query) // older dashboards keep the query as a string
		}
		expr := q.Query
		for _, fn := range []string{"label_values(", "query_result("} {
			if strings.HasPrefix(expr, fn) && strings.HasSuffix(expr, ")") {
				expr = strings.TrimSuffix(strings.TrimPrefix(expr, fn), ")")
				if fn == "label_values(" {
					if i := strings.LastIndex(expr, ","); i > 0 {
						expr = expr[:i]
					}
				}
			}
		}
		out = append(out, Query{Where: fmt.Sprintf("variable %q", v.Name), Expr: expand(strings.TrimSpace(expr))})
	}
	return out
}

var (
	promString   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promBraces   = regexp.MustCompile(`\{[^{}]*\}`)
	promBrackets = regexp.MustCompile(`\[[^\[\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
	}
)

// MetricNames lists the metric names a PromQL expression selects, sorted: identifiers that
// are not functions, aggregations, keywords, numbers or durations, with strings, label
// matchers, ranges and grouping clauses removed first.
func MetricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promBraces.ReplaceAllString(s, " ")
	s = promBrackets.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 {
			if c := s[loc[0]-1]; c >= '0' && c <= '9' || c == '.' {
				continue // part of a number or duration: 5m, 1e3
			}
		}
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(name)] {
			continue
		}
		seen[name] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
