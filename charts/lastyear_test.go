package charts

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// smallLastYear is smallConfig's assessment a year earlier (small-2023), the previous year
// of small-2024 in a deployment: the same townships and indicators.
func smallLastYear() deployed {
	cfg := "id: small-2023\n" + strings.Replace(smallConfig, "year: 2024", "year: 2023", 1)
	var o []kpi.Observation
	for m := 1; m <= 12; m++ {
		p := fmt.Sprintf("2023-%02d", m)
		o = append(o, obs("aa", "screenings", p, 100), obs("bb", "screenings", p, 30),
			ratio("aa", "closure", p, 9, 10), ratio("bb", "closure", p, 10, 10), obs("aa", "received", p, 10), obs("bb", "received", p, 10))
	}
	o = append(o, obs("aa", "review", "2023-03", 1), obs("aa", "honors", "2023-02", 3))
	return deployed{cfg: cfg, batches: []batch{{"县妇联办公室", "2023.csv", time.Date(2024, 1, 3, 10, 0, 0, 0, time.UTC), o}}}
}

// smallThisYear is smallConfig as small-2024 with its quarter of reports.
func smallThisYear() deployed {
	return deployed{cfg: "id: small-2024\n" + smallConfig, batches: smallBatches()}
}

// lastYearCellRE reads a 较去年同期 cell: the difference, its class, last year's figure and state.
var lastYearCellRE = regexp.MustCompile(`<td class="num ly">(?:<span class="ly-diff(?: (ly-better|ly-worse))?">([^<]*)</span>)?<span class="ly-then">([^<]*)</span>(?:<span class="ly-then">([^<]*)</span>)?</td>`)

// lastYearOf reads the 较去年同期 cell of a table's row: [class, diff, then, state].
func lastYearOf(t *testing.T, page, table, name string) [4]string {
	t.Helper()
	m := lastYearCellRE.FindStringSubmatch(rowOf(t, page, table, name))
	if m == nil {
		t.Fatalf("table %s: the row of %s has no 较去年同期 cell", table, name)
	}
	return [4]string{m[1], html.UnescapeString(m[2]), html.UnescapeString(m[3]), html.UnescapeString(m[4])}
}

// headers lists a table's column headers.
func headers(t *testing.T, page, table string) []string {
	t.Helper()
	head := section(t, page, table, "</thead>")
	var out []string
	for _, m := range regexp.MustCompile(`<th[^>]*>([^<]*)</th>`).FindAllStringSubmatch(head, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestLastYearOnThePages: with last year in the deployment, each figure stands beside the
// same unit's figure as of the same month of last year (the difference, last year's figure,
// completion and status), on the township's page, the indicator's page and the overview's
// county table, right after 累计实际; the ranking shows last year's rank; the trends draw
// last year's line. The figures are the fixture's: 甲镇 screened 100 a month in 2023
// (target 1,200) and 330 in the first quarter of 2024, 乙镇 30 a month (target 600) and 70.
func TestLastYearOnThePages(t *testing.T) {
	dep := newDeployment(t, fixedNow, smallLastYear(), smallThisYear())
	mon := monitorOf(t, dep, "small-2024")
	p := kpi.MustPeriod("2024-03")
	pages := renderPages(t, mon, p, false)
	last, err := monitorOf(t, dep, "small-2023").Evaluate(kpi.MustPeriod("2023-03"))
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, page, table string
	}{
		{"a township's indicators", "townships/aa.html", "evals"},
		{"an indicator's townships", "indicators/screenings.html", "evals"},
		{"the county", "index.html", "county"},
	} {
		t.Run(c.name+" has 较去年同期 after 累计实际", func(t *testing.T) {
			h := headers(t, pages[c.page], c.table)
			i := strings.Index(strings.Join(h, "|"), "累计实际|较去年同期|")
			if i < 0 {
				t.Errorf("headers %v, want 较去年同期 right after 累计实际", h)
			}
		})
	}
	for _, c := range []struct {
		name, page, table, row string
		want                   [4]string
	}{
		{"甲镇 screened 30 more", "townships/aa.html", "evals", "两癌筛查人数", [4]string{"ly-better", "+30 人", "去年 300 人", "完成 25.0% · 序时达标"}},
		{"甲镇's closure rose 10 points (90% of 98% last year: 滞后)", "townships/aa.html", "evals", "信访办结率", [4]string{"ly-better", "+10.0 个百分点", "去年 90.0%", "完成 91.8% · 滞后"}},
		{"a milestone is last year's word", "townships/aa.html", "evals", "规划中期评估", [4]string{"", "", "去年 已完成", "已完成"}},
		{"a bonus in points", "townships/aa.html", "evals", "荣誉加分", [4]string{"ly-worse", "-1 分", "去年 3 分", ""}},
		{"乙镇 screened 20 fewer", "indicators/screenings.html", "evals", "乙镇", [4]string{"ly-worse", "-20 人", "去年 90 人", "完成 15.0% · 滞后"}},
		{"the county screened 10 more (390 of 1,800 by March: 滞后)", "index.html", "county", "两癌筛查人数", [4]string{"ly-better", "+10 人", "去年 390 人", "完成 21.7% · 滞后"}},
		{"the county's milestone as the share done", "index.html", "county", "规划中期评估", [4]string{"", "持平", "去年 50.0% 已完成", "滞后"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := lastYearOf(t, pages[c.page], c.table, c.row); got != c.want {
				t.Errorf("较去年同期 = %q, want %q", got, c.want)
			}
		})
	}

	t.Run("the ranking shows last year's rank", func(t *testing.T) {
		h := headers(t, pages["rankings.html"], "ranks")
		if strings.Join(h[:6], "|") != "名次|乡镇|总分|等次|较上月|去年同期" {
			t.Errorf("headers %v, want 去年同期 after 较上月", h)
		}
		for _, x := range last.Rankings {
			row := rowOf(t, pages["rankings.html"], "ranks", x.Name)
			if want := fmt.Sprintf(`<td class="ly-rank">第%d名</td>`, x.Rank); !strings.Contains(row, want) {
				t.Errorf("%s's row lacks %s: %s", x.Name, want, row)
			}
		}
	})

	t.Run("the ranking's CSV has last year's rank", func(t *testing.T) {
		var b bytes.Buffer
		r, err := mon.Evaluate(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteRankingCSV(&b, mon.Assessment(), r); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0][:5], "|") != "月份|名次|较上月|去年同期名次|乡镇代码" {
			t.Errorf("header %v, want 去年同期名次 after 较上月", rows[0])
		}
		for _, row := range rows[1:] {
			if want := fmt.Sprint(rankOf(last, row[4])); row[3] != want {
				t.Errorf("%s's 去年同期名次 = %q, want %s", row[4], row[3], want)
			}
		}
	})

	t.Run("the township's trend draws last year's line of each indicator", func(t *testing.T) {
		sp := specs(t, pages["townships/aa.html"])["township-trend"]
		series := sp.Option["series"].([]any)
		if sp.FollowAll != "去年同期" || len(sp.Follows) != 1 {
			t.Fatalf("follows %v of %q, want one line of last year following 两癌筛查人数", sp.Follows, sp.FollowAll)
		}
		k := int(sp.Follows[0][0].(float64))
		if sp.Follows[0][1] != "两癌筛查人数" || at(t, series[k], "name") != "去年同期" || at(t, series[k], "lineStyle.type") != "dashed" {
			t.Errorf("series %d: %v, want the dashed 去年同期 of 两癌筛查人数", k, series[k])
		}
		for m := 1; m <= 12; m++ { // 100 a month of 1,200, all year
			want := kpi.Round(float64(100*m)/1200*100, 1)
			if got := at(t, series[k], fmt.Sprintf("data.%d.value", m-1)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("last year's completion in month %d = %v, want %v", m, got, want)
			}
		}
		if tip := sp.Tips[k][2]; tip != "两癌筛查人数 去年同期：完成 25.0%（300 人）" {
			t.Errorf("March's tip = %q", tip)
		}
		legend := fmt.Sprint(at(t, sp.Option, "legend.data"))
		if !strings.Contains(legend, "name:去年同期") {
			t.Errorf("the legend %s has no 去年同期", legend)
		}
	})

	t.Run("the indicator's county trend draws last year's line", func(t *testing.T) {
		sp := specs(t, pages["indicators/screenings.html"])["indicator-county"]
		var ly map[string]any
		for _, x := range sp.Option["series"].([]any) {
			if x.(map[string]any)["name"] == "去年同期" {
				ly = x.(map[string]any)
			}
		}
		if ly == nil {
			t.Fatal("no 去年同期 series")
		}
		for m := 1; m <= 12; m++ { // 130 a month for the county
			if got := at(t, ly, fmt.Sprintf("data.%d.value", m-1)); fmt.Sprint(got) != fmt.Sprint(130*m) {
				t.Errorf("last year's county in month %d = %v, want %d", m, got, 130*m)
			}
		}
	})

	t.Run("the township's rank tile names last year's rank", func(t *testing.T) {
		_, _, note := tileOf(t, pages["townships/aa.html"], "名次")
		want := "去年同期第" + fmt.Sprint(rankOf(last, "aa")) + "名"
		if !strings.Contains(note, want) {
			t.Errorf("名次's note %q lacks %s", note, want)
		}
	})
}

// rankOf is a township's rank in a result.
func rankOf(r *kpi.Result, code string) int {
	for _, x := range r.Rankings {
		if x.Township == code {
			return x.Rank
		}
	}
	return 0
}

// TestNoLastYearNoColumns: an assessment without last year in its deployment shows no
// 较去年同期 column, no 去年同期 rank or line, and says neither word.
func TestNoLastYearNoColumns(t *testing.T) {
	dep := newDeployment(t, fixedNow, smallThisYear())
	pages := renderPages(t, monitorOf(t, dep, "small-2024"), kpi.MustPeriod("2024-03"), false)
	for name, html := range pages {
		for _, w := range []string{"较去年同期", "去年同期", `class="num ly"`, "ly-rank"} {
			if strings.Contains(html, w) {
				t.Errorf("%s says %q without a last year", name, w)
			}
		}
	}
}

// TestProvincePageSizesWithLastYear: a province's pages (2,000 units × 40 indicators) stay
// under maxPageBytes with last year attached, though its tables carry 较去年同期 for every
// unit and its trends last year's lines.
func TestProvincePageSizesWithLastYear(t *testing.T) {
	if testing.Short() {
		t.Skip("province scale: a few seconds")
	}
	s := scaledSnapshot(t, provinceSpec, kpi.LevelProvince, provinceNow)
	lastSpec := provinceSpec
	lastSpec.Year, lastSpec.Months, lastSpec.Seed = 2023, 12, 2
	last := scaledSnapshot(t, lastSpec, kpi.LevelProvince, provinceNow)
	for k, r := range s.Months {
		withLY, err := r.WithLastYear(last.Months[k])
		if err != nil {
			t.Fatal(err)
		}
		s.Months[k] = withLY
	}
	s.LastYear = NewLastYearMonths(s.Assessment, last.Months)
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pageKinds(s) {
		v, err := k.build()
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		body, err := r.render(v)
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		t.Logf("%s: %d bytes", k.name, len(body))
		if k.name != "alerts" && !strings.Contains(string(body), "去年同期") {
			t.Errorf("%s does not show last year", k.name)
		}
		if len(body) >= maxPageBytes {
			t.Errorf("%s is %d bytes of HTML with last year, want under %d", k.name, len(body), maxPageBytes)
		}
	}
}
