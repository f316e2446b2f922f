package charts

import (
	"regexp"
	"strings"
	"testing"
)

// listedInTable counts the alerts an alert table's HTML lists: its rows, a folded row
// counted as the alerts inside it.
func listedInTable(html string) int {
	return strings.Count(html, `<td class="c-badge">`) - strings.Count(html, `<tr class="fold">`) + strings.Count(html, `<li class="member">`)
}

// TestFoldAlerts: a unit's alerts of one kind and severity fold into one row from foldMin
// on, where the first stood, since the earliest; fewer, other units', other kinds' and other
// severities' stay as they were.
func TestFoldAlerts(t *testing.T) {
	row := func(unit, kind, sev, ind string, months int) alertRow {
		return alertRow{Severity: sev, SeverityClass: sev, Name: kind, Township: unit, TownshipHref: "/townships/" + unit,
			Indicator: ind, IndHref: "/indicators/" + ind, Since: "since" + strings.Repeat("+", months), Months: months, Summary: unit + ind + kind}
	}
	for _, c := range []struct {
		name string
		rows []alertRow
		want []string // per row: the indicator, or "unit×n since" for a folded row
	}{
		{"two of a kind stay", []alertRow{row("a", "逾期未报送", "warning", "x", 1), row("a", "逾期未报送", "warning", "y", 1)}, []string{"x", "y"}},
		{"three of a kind fold where the first stood", []alertRow{
			row("b", "未达序时进度", "warning", "p", 2),
			row("a", "逾期未报送", "warning", "x", 1), row("a", "逾期未报送", "warning", "y", 3),
			row("b", "低于达标线", "warning", "q", 1), row("a", "逾期未报送", "warning", "z", 2)},
			[]string{"p", "a×3 since+++", "q"}},
		{"other units, kinds and severities apart", []alertRow{
			row("a", "逾期未报送", "warning", "x", 1), row("b", "逾期未报送", "warning", "y", 1), row("a", "逾期未报送", "critical", "z", 1),
			row("a", "未达序时进度", "warning", "w", 1), row("a", "逾期未报送", "warning", "v", 1)},
			[]string{"x", "y", "z", "w", "v"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := foldAlerts(c.rows)
			var names []string
			for _, r := range got {
				if len(r.Members) > 0 {
					names = append(names, r.Township+"×"+itoa(len(r.Members))+" "+r.Since)
				} else {
					names = append(names, r.Indicator)
				}
			}
			if strings.Join(names, ",") != strings.Join(c.want, ",") {
				t.Errorf("folded into %q, want %q", names, c.want)
			}
			if n := listedAlerts(got); n != len(c.rows) {
				t.Errorf("the rows stand for %d alerts, want %d", n, len(c.rows))
			}
		})
	}
}

var foldRE = regexp.MustCompile(`(?s)<tr class="fold">.*?</tr>`)

// TestDemoAlertsFold: on the demo city's alerts, 清城区's 逾期未报送 (one a county-level sum
// a township has not reported) are one row saying how many, which opens to each of them
// with its indicator's link; the table still lists every alert, as the tiles count them.
func TestDemoAlertsFold(t *testing.T) {
	get := servedDemo(t)
	for _, c := range []struct {
		name, path, section, unit string
		min                       int
	}{
		{"the city's alerts", "/qingyuan-2026/alerts", "warning", "清城区", 10},
		{"the city's page of 清城区", "/qingyuan-2026/townships/qingcheng", "alerts", "清城区", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, page := get(t, c.path)
			if code != 200 {
				t.Fatalf("%s: %d", c.path, code)
			}
			table := section(t, page, c.section, "</section>")
			folds := foldRE.FindAllString(table, -1)
			var found bool
			for _, f := range folds {
				if !strings.Contains(f, `<td class="c-title">逾期未报送</td>`) || !strings.Contains(f, ">"+c.unit+"</a>") {
					continue
				}
				found = true
				n := strings.Count(f, `<li class="member">`)
				if n < c.min || !strings.Contains(f, c.unit+"有 "+itoa(n)+" 项指标逾期未报送") || !strings.Contains(f, "<details class=\"members\">") {
					t.Errorf("%s: the folded row of %s's 逾期未报送 lists %d: %s", c.path, c.unit, n, f)
				}
				if links := strings.Count(f, `<a href="/qingyuan-2026/indicators/`); links != n {
					t.Errorf("%s: %d alerts folded, %d link to their indicator", c.path, n, links)
				}
			}
			if !found {
				t.Errorf("%s: %s's 逾期未报送 are not folded into one row: %s", c.path, c.unit, table)
			}
		})
	}
	// every alert is still listed: the alerts page's tables list as many as its tiles count
	for _, p := range []string{"/qingyuan-2026/alerts", "/qingcheng-2026/alerts"} {
		_, page := get(t, p)
		for _, sec := range []struct{ id, tile string }{{"critical", "严重"}, {"warning", "警告"}} {
			tile := regexp.MustCompile(`<div class="tile-label">` + sec.tile + `</div>\s*<div class="tile-value">([0-9,]+) 条`).FindStringSubmatch(page)
			if tile == nil {
				t.Fatalf("%s: no tile %s", p, sec.tile)
			}
			if n := listedInTable(section(t, page, sec.id, "</section>")); itoa(n) != strings.ReplaceAll(tile[1], ",", "") {
				t.Errorf("%s: the %s table lists %d alerts, the tile counts %s", p, sec.id, n, tile[1])
			}
		}
	}
}
