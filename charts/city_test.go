package charts

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// A small city of two counties: 甲县 (ca-2024, two townships, 二镇 has not sent March) and
// 乙县 (cb-2024, three townships). The city takes 两癌筛查人数 as each county's 全县 sum, the
// share of its townships done with 规划中期评估 (a stock of 0 … 1), and the counties report
// 县级培训班 themselves.
const (
	cityCountyA = `id: ca-2024
name: 甲县妇联2024年度考核
year: 2024
townships:
  - {code: t1, name: 一镇}
  - {code: t2, name: 二镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 50, target: 1200}
  - {code: review, name: 规划中期评估, kind: milestone, weight: 50, due: 6}
`
	cityCountyB = `id: cb-2024
name: 乙县妇联2024年度考核
year: 2024
townships:
  - {code: t1, name: 一镇}
  - {code: t2, name: 二镇}
  - {code: t3, name: 三镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 50, target: 900}
  - {code: review, name: 规划中期评估, kind: milestone, weight: 50, due: 6}
`
	cityConfig = `id: city-2024
level: city
name: 测试市妇联2024年度考核
year: 2024
units:
  - {code: ca, name: 甲县, assessment: ca-2024}
  - {code: cb, name: 乙县, assessment: cb-2024}
indicators:
  - {code: screenings, name: 两癌筛查人数, category: 关爱帮扶, unit: 人, kind: count, weight: 40, target: 2400, targets: {cb: 1800}}
  - {code: review_share, from: review, name: 规划中期评估完成率, category: 组织建设, kind: stock, weight: 30, target: 1, pacing: none}
  - {code: training, name: 县级培训班, category: 组织建设, kind: milestone, weight: 30, due: 9}
`
)

// cityNow is after the deadline of March 2024's reports.
var cityNow = time.Date(2024, 4, 20, 9, 0, 0, 0, time.UTC)

func cityDeployment(tb testing.TB) []deployed {
	at := time.Date(2024, 4, 3, 10, 0, 0, 0, time.UTC)
	var a, b []kpi.Observation
	for m := 1; m <= 3; m++ {
		p := fmt.Sprintf("2024-%02d", m)
		a = append(a, obs("t1", "screenings", p, 100))
		if m < 3 {
			a = append(a, obs("t2", "screenings", p, 100))
		}
		for _, t := range []string{"t1", "t2", "t3"} {
			b = append(b, obs(t, "screenings", p, 50))
		}
	}
	a = append(a, obs("t1", "review", "2024-02", 1))
	b = append(b, obs("t1", "review", "2024-02", 1), obs("t2", "review", "2024-03", 1))
	return []deployed{
		{cityCountyA, []batch{{"甲县", "a.csv", at, a}}},
		{cityCountyB, []batch{{"乙县", "b.csv", at, b}}},
		{cityConfig, []batch{{"甲县妇联", "city.csv", at, []kpi.Observation{obs("ca", "training", "2024-03", 1)}}}},
	}
}

// cityPages renders the city's pages as of March, served under /city-2024 as a deployment
// serves them.
func cityPages(t *testing.T) map[string]string {
	t.Helper()
	dep := newDeployment(t, cityNow, cityDeployment(t)...)
	base := startDeployment(t, dep)
	out := map[string]string{}
	get := func(path string) {
		t.Helper()
		resp, err := http.Get(base + "/city-2024" + path + "?period=2024-03")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		out[path] = string(b)
	}
	for _, p := range []string{"/", "/rankings", "/alerts", "/townships/ca", "/townships/cb", "/indicators/screenings", "/indicators/review_share", "/indicators/training"} {
		get(p)
	}
	resp, err := http.Get(base + "/city-2024/townships/zz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out["404"] = fmt.Sprintf("%d %s", resp.StatusCode, b)
	return out
}

// text is a page's text with its tags dropped, entities read and spaces collapsed.
func text(page string) string {
	t := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))
	return strings.Join(strings.Fields(t), " ")
}

// rowHolding is the row of a table that holds s.
func rowHolding(t *testing.T, page, table, s string) string {
	t.Helper()
	body := section(t, page, table, "</table>")
	i := strings.Index(body, s)
	if i < 0 {
		t.Fatalf("table %s has no row holding %s", table, s)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}

// TestCityPages: the five pages of a city's assessment speak of 全市 and its 县区; every
// county links to its own assessment (/ca-2024/, the same month) on the overview, the ranking,
// the alerts and its page within the city; shares of townships done read as percentages; a
// county whose figures lack a township's report says so in tables and tooltips.
func TestCityPages(t *testing.T) {
	pages := cityPages(t)
	link := func(code, name string) string {
		return `<a class="own" href="/` + code + `-2024/?period=2024-03">进入` + name + `考核 →</a>`
	}
	t.Run("every county links to its own assessment", func(t *testing.T) {
		own := section(t, pages["/"], "own", "</section>")
		for _, c := range [][2]string{{"ca", "甲县"}, {"cb", "乙县"}} {
			if !strings.Contains(own, `<a href="/`+c[0]+`-2024/?period=2024-03">进入`+c[1]+`考核 →</a>`) {
				t.Errorf("the overview's list lacks %s's link: %s", c[1], own)
			}
			if row := rowHolding(t, pages["/rankings"], "ranks", ">"+c[1]+"</a>"); !strings.Contains(row, link(c[0], c[1])) {
				t.Errorf("the ranking's row of %s lacks its link: %s", c[1], row)
			}
		}
		if !strings.Contains(own, "甲县考核 →</a><span class=\"prior incomplete\">") {
			t.Errorf("the overview's list does not say 甲县's sums are incomplete: %s", own)
		}
		banner := pages["/townships/ca"][strings.Index(pages["/townships/ca"], `class="own-banner"`):]
		banner = banner[:strings.Index(banner, "</p>")]
		if !strings.Contains(banner, `<a href="/ca-2024/?period=2024-03">进入甲县考核 →</a>`) || !strings.Contains(banner, "各乡镇的明细见甲县自己的考核") {
			t.Errorf("甲县's page within the city: banner %q", banner)
		}
		alerts := section(t, pages["/alerts"], "warning", "</section>")
		if n := strings.Count(alerts, `class="c-link"><a href="/city-2024/townships/ca?period=2024-03">甲县</a>`+link("ca", "甲县")); n == 0 {
			t.Errorf("甲县's alerts do not link to its assessment: %s", alerts)
		}
		if strings.Contains(pages["/townships/ca"], link("ca", "甲县")) {
			t.Error("甲县's own page repeats the link in every alert")
		}
	})
	t.Run("shares of townships done are percentages", func(t *testing.T) {
		// 甲县 1 of 2 done, 乙县 2 of 3, the city 3 of 5
		for _, c := range []struct{ page, table, row, want string }{
			{"/townships/ca", "evals", "规划中期评估完成率", `<td class="num">50.0%</td>`},
			{"/indicators/review_share", "evals", "乙县", `<td class="num">66.7%</td>`},
			{"/", "county", "规划中期评估完成率", `<td class="num">60.0%</td>`},
		} {
			row := rowOf(t, pages[c.page], c.table, c.row)
			if !strings.Contains(row, c.want) || !strings.Contains(row, `<td class="num">100.0%</td>`) {
				t.Errorf("%s: the row of %s reads %s, want %s and the target 100.0%%", c.page, c.row, row, c.want)
			}
		}
		ind := pages["/indicators/review_share"]
		for _, w := range []string{"<dt>年度目标</dt><dd>100.0%</dd>", "<dt>数据来源</dt><dd>由各县区考核中的“规划中期评估”汇总：已完成的乡镇占比</dd>",
			`<div class="tile-label">全市完成比例</div>`} {
			if !strings.Contains(ind, w) {
				t.Errorf("the share's page lacks %s", w)
			}
		}
		trend := specs(t, ind)["indicator-county"]
		if got := at(t, trend.Option, "series.0.data.2.value"); fmt.Sprint(got) != "60" || at(t, trend.Option, "yAxis.0.axisLabel.formatter") != "{value}%" {
			t.Errorf("the share's trend plots March at %v on an axis of %v, want 60 on a %% axis", got, at(t, trend.Option, "yAxis.0.axisLabel.formatter"))
		}
		if got := at(t, trend.Option, "series.2.data.0.value"); fmt.Sprint(got) != "100" {
			t.Errorf("the share's target line is at %v, want 100 (%%)", got)
		}
		var tip string
		for _, tp := range specs(t, pages["/"])["overview-heat"].Tips[0] {
			if strings.HasPrefix(tp, "甲县 · 规划中期评估完成率") {
				tip = tp
			}
		}
		if !strings.Contains(tip, "实际：50.0%") || !strings.Contains(tip, "年度目标：100.0%") {
			t.Errorf("the heat map's tooltip of 甲县's share reads %q", tip)
		}
	})
	t.Run("a county missing a township's report says so", func(t *testing.T) {
		if row := rowOf(t, pages["/townships/ca"], "evals", "两癌筛查人数"); !strings.Contains(row, `<span class="prior incomplete">汇总不完整：1 个乡镇未报</span>`) {
			t.Errorf("甲县's screenings row: %s", row)
		}
		if row := rowOf(t, pages["/indicators/screenings"], "evals", "甲县"); !strings.Contains(row, "汇总不完整：1 个乡镇未报") {
			t.Errorf("the indicator's row of 甲县: %s", row)
		}
		if row := rowOf(t, pages["/indicators/screenings"], "evals", "乙县"); strings.Contains(row, "汇总不完整") {
			t.Errorf("乙县, complete, says it is not: %s", row)
		}
		var tip string
		for _, tp := range specs(t, pages["/"])["overview-heat"].Tips[0] {
			if strings.HasPrefix(tp, "甲县 · 两癌筛查人数") {
				tip = tp
			}
		}
		if !strings.HasSuffix(tip, "\n汇总不完整：1 个乡镇未报") {
			t.Errorf("the heat map's tooltip of 甲县's screenings: %q", tip)
		}
		if _, _, note := tileOf(t, pages["/townships/ca"], "本月报送"); !strings.Contains(note, "项汇总不完整（1 个乡镇未报）") {
			t.Errorf("甲县's 本月报送 tile: %q", note)
		}
		if inc := section(t, pages["/"], "incomplete", "</p>"); !strings.Contains(text(inc), "甲县 1 项（1 个乡镇未报）") { // screenings; the milestone's share needs no monthly report
			t.Errorf("the overview's line of incomplete sums: %q", text(inc))
		}
	})
	t.Run("the pages speak of the city and its counties", func(t *testing.T) {
		if !strings.HasPrefix(pages["404"], "404 ") || !strings.Contains(pages["404"], "没有这个县区。") {
			t.Errorf("an unknown county: %s", pages["404"])
		}
		// the counties' townships are named only where a county's own figures are meant
		allowed := regexp.MustCompile(`个乡镇未报|有乡镇未报|已完成的乡镇占比|各乡镇的明细|所辖乡镇|所辖全部乡镇|未报送的乡镇`)
		for name, page := range pages {
			body := allowed.ReplaceAllString(page, "")
			for _, bad := range []string{"乡镇", "全县", "全区", "县（区）"} {
				if i := strings.Index(body, bad); i >= 0 {
					t.Errorf("%s says %q: …%s…", name, bad, body[max(0, i-80):min(len(body), i+80)])
				}
			}
		}
	})
}

// largeCity is a city of n counties of two townships each (c000-2024 …), each county's
// 两癌筛查人数 its 全县 sum; the first county's second township has not sent March.
func largeCity(n int) []deployed {
	at := time.Date(2024, 4, 3, 10, 0, 0, 0, time.UTC)
	var out []deployed
	var units strings.Builder
	for c := range n {
		id := fmt.Sprintf("c%03d-2024", c)
		cfg := fmt.Sprintf("id: %s\nname: 县%03d妇联考核\nyear: 2024\ntownships:\n  - {code: t1, name: 一镇}\n  - {code: t2, name: 二镇}\n"+
			"indicators:\n  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 100, target: 1200}\n", id, c)
		var o []kpi.Observation
		for m := 1; m <= 3; m++ {
			p := fmt.Sprintf("2024-%02d", m)
			o = append(o, obs("t1", "screenings", p, float64(90+c)))
			if c > 0 || m < 3 {
				o = append(o, obs("t2", "screenings", p, 100))
			}
		}
		out = append(out, deployed{cfg, []batch{{"县", "x.csv", at, o}}})
		fmt.Fprintf(&units, "  - {code: c%03d, name: 县%03d, assessment: %s}\n", c, c, id)
	}
	city := "id: bigcity-2024\nlevel: city\nname: 大市妇联2024年度考核\nyear: 2024\nunits:\n" + units.String() +
		"indicators:\n  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 100, target: 2400}\n"
	return append(out, deployed{city, nil})
}

// TestLargeCityPages: a city of more than 30 counties lists them compactly; its heat map's
// tooltip still says which counties' figures are incomplete, and its unit index carries each
// county's own assessment, which the paged ranking links.
func TestLargeCityPages(t *testing.T) {
	dep := newDeployment(t, cityNow, largeCity(manyUnits+1)...)
	pages := renderPages(t, monitorOf(t, dep, "bigcity-2024"), kpi.MustPeriod("2024-03"), false)
	heat := specs(t, pages["index.html"])["overview-heat"].Heat
	if heat == nil {
		t.Fatal("the overview's heat map is not the compact one")
	}
	incomplete := -1
	for k, kind := range heat.Kinds {
		if strings.HasSuffix(kind[1].(string), "\n汇总不完整：有乡镇未报") {
			incomplete = k
		}
	}
	if incomplete < 0 || strings.Count(heat.Cells, string(rune('a'+incomplete))) != 1 {
		t.Errorf("the heat map's kinds %v and cells %q: want one cell (县000) of an incomplete kind", heat.Kinds, heat.Cells)
	}
	m := regexp.MustCompile(`<script type="application/json" id="unit-index">(.*?)</script>`).FindStringSubmatch(pages["index.html"])
	if m == nil || !strings.Contains(m[1], `"own":{"ids":["c000-2024","c001-2024"`) || !strings.Contains(m[1], `"href":["/","/?period=2024-03"],"text":["进入","考核 →"]`) {
		t.Errorf("the unit index does not carry the counties' own assessments: %.400s", m)
	}
}
