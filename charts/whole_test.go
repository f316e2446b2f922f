package charts

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// TestCountedFiguresAreWhole: where the pages work a figure out in a counting unit they
// write it as people count: 序时目标 rounded up to the least whole number that reaches it
// (1,000 人 a year is 583.33 by July: 584 人), 预计全年 and its interval rounded, in the
// tables and the tooltips; a reported figure is written as it was reported.
func TestCountedFiguresAreWhole(t *testing.T) {
	const cfg = `name: 测试县妇联2024年度考核
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, category: 关爱帮扶, unit: 人, kind: count, weight: 100, target: 1000}
`
	var b []batch
	at := time.Date(2024, 8, 3, 10, 0, 0, 0, time.UTC)
	for m := 1; m <= 7; m++ {
		p := "2024-0" + string(rune('0'+m))
		b = append(b, batch{"县妇联办公室", p + ".csv", at, []kpi.Observation{obs("aa", "screenings", p, 13), obs("bb", "screenings", p, 101)}})
	}
	mon := newMonitor(t, cfg, b, time.Date(2024, 8, 10, 9, 0, 0, 0, time.UTC))
	pages := renderPages(t, mon, kpi.MustPeriod("2024-07"), false)
	aa := pages["townships/aa.html"]
	row := rowOf(t, aa, "evals", "两癌筛查人数")
	if !strings.Contains(row, ">584 人<") {
		t.Errorf("甲镇's 序时目标 is not 584 人: %s", row)
	}
	if strings.Contains(row, "583") {
		t.Errorf("甲镇's row writes a fraction of a person: %s", row)
	}
	for _, page := range []string{aa, pages["indicators/screenings.html"], pages["index.html"]} {
		text := html.UnescapeString(page)
		for _, bad := range []string{"583.3", "序时目标：583"} {
			if strings.Contains(text, bad) {
				i := strings.Index(text, bad)
				t.Errorf("a page writes %q: …%s…", bad, text[max(0, i-120):min(len(text), i+60)])
			}
		}
		if !strings.Contains(text, "序时目标：584 人") {
			t.Error("a page's tooltip lacks 序时目标：584 人")
		}
	}
	// the forecast's figures are whole people: no "NNN.N 人" in the 预计全年 cells
	if m := fractionOfPeople.FindString(html.UnescapeString(row)); m != "" {
		t.Errorf("甲镇's 预计全年 writes %q: %s", m, row)
	}
}

// fractionOfPeople is a figure of people with a fraction: 173.1 人.
var fractionOfPeople = regexp.MustCompile(`\d\.\d+ 人`)
