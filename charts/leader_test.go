package charts

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// pageGetter fetches pages of a deployment served by startDeployment.
type pageGetter func(t *testing.T, path string) (int, string)

// servedDemo serves the demo's deployment (demoDeployment) and returns how to fetch its pages.
func servedDemo(t *testing.T) pageGetter {
	t.Helper()
	base := startDeployment(t, demoDeployment(t))
	return func(t *testing.T, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
}

var asOfRE = regexp.MustCompile(`<p class="asof">([^<]*)</p>`)

// TestTownshipAsOfIsItsOwn: a township's page says when that township last reported for the
// month, or that it has not, never the whole assessment's latest report.
func TestTownshipAsOfIsItsOwn(t *testing.T) {
	get := servedDemo(t)
	_, overview := get(t, "/qingcheng-2026/")
	whole := asOfRE.FindStringSubmatch(overview)
	if whole == nil || !strings.Contains(whole[1], "最后报送于") {
		t.Fatalf("the overview's as-of line: %q", whole)
	}
	for _, c := range []struct {
		name, path, want, notWant string
	}{
		{"a township that sent nothing in October", "/qingcheng-2026/townships/feilaixia", "数据截至2026年10月 · 飞来峡镇本月尚未报送", "最后报送于"},
		{"a township that reported", "/qingcheng-2026/townships/fengcheng", "凤城街道本月数据最后报送于 2026-", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, page := get(t, c.path)
			m := asOfRE.FindStringSubmatch(page)
			if code != 200 || m == nil {
				t.Fatalf("%s: %d, as-of line %q", c.path, code, m)
			}
			if !strings.Contains(m[1], c.want) || (c.notWant != "" && strings.Contains(m[1], c.notWant)) {
				t.Errorf("%s says %q, want %q", c.path, m[1], c.want)
			}
			if _, at, _ := strings.Cut(whole[1], "最后报送于"); strings.Contains(m[1], at) {
				t.Errorf("%s says %q: the assessment's latest report, not the township's", c.path, m[1])
			}
		})
	}
}

// TestRankingMarksUnreported: the ranking marks a unit that sent nothing this month (本月未报送)
// and one that sent part (缺报 N 项), and no unit that sent everything.
func TestRankingMarksUnreported(t *testing.T) {
	get := servedDemo(t)
	_, page := get(t, "/qingcheng-2026/rankings")
	if got := rowHolding(t, page, "ranks", ">飞来峡镇<"); !strings.Contains(got, `<span class="badge warn unrep">本月未报送</span>`) {
		t.Errorf("飞来峡镇 (0 / 29 reported in October) ranks without 本月未报送: %s", text(got))
	}
	marks := regexp.MustCompile(`class="badge warn unrep">([^<]*)<`).FindAllStringSubmatch(page, -1)
	rows := strings.Count(section(t, page, "ranks", "</table>"), "<tr")
	if len(marks) == 0 || len(marks) >= rows-1 {
		t.Errorf("%d of %d ranking rows carry a mark, want some but not all: %q", len(marks), rows-1, marks)
	}
}

// TestIncompleteSumsAreNotComplete: a city whose counties' figures all arrived but some are
// sums with townships missing does not show its 报送率 as complete (green), and a county's
// page within it does not say 本月各项均已报送 without 汇总不完整 beside it.
func TestIncompleteSumsAreNotComplete(t *testing.T) {
	get := servedDemo(t)
	_, overview := get(t, "/qingyuan-2026/")
	if class, _, note := tileOf(t, overview, "报送率"); class != "warn" || !strings.Contains(tileText(t, overview, "报送率"), "汇总不完整") {
		t.Errorf("the city's 报送率 tile is %q (%s), want warn and 汇总不完整 in it", class, note)
	}
	_, county := get(t, "/qingyuan-2026/townships/qingcheng")
	if class, _, _ := tileOf(t, county, "本月报送"); class != "warn" || !strings.Contains(tileText(t, county, "本月报送"), "汇总不完整") {
		t.Errorf("清城区's 本月报送 tile is %q, want warn with 汇总不完整", class)
	}
	missing := text(section(t, county, "missing", "</section>"))
	if strings.Contains(missing, "本月各项均已报送") || !strings.Contains(missing, "汇总不完整 ：各项都有数字，但 14 项汇总不完整") {
		t.Errorf("清城区's 本月未报送 says %q, want 汇总不完整 and not 本月各项均已报送", missing)
	}
	// a county whose sums are complete keeps the green tile's words
	_, own := get(t, "/qingcheng-2026/")
	if strings.Contains(tileText(t, own, "报送率"), "汇总不完整") {
		t.Errorf("清城区's own 报送率 speaks of 汇总不完整: %s", tileText(t, own, "报送率"))
	}
}

// tileText is the text of the first tile with the label.
func tileText(t *testing.T, page, label string) string {
	t.Helper()
	i := strings.Index(page, `<div class="tile-label">`+label+`</div>`)
	if i < 0 {
		t.Fatalf("no tile %s", label)
	}
	end := strings.Index(page[i:], "\n  </div>")
	return text(page[i : i+end])
}

// TestIndicatorSaysWhoseTarget: an indicator's page names a per-unit target as each unit's
// (各乡镇年度目标) and gives the whole's (全区年度目标, their sum) beside it and under the whole's
// figure, so 125 achieved does not read against a township's 16.
func TestIndicatorSaysWhoseTarget(t *testing.T) {
	get := servedDemo(t)
	for _, c := range []struct {
		name, path string
		want       []string
	}{
		{"a county", "/qingcheng-2026/indicators/spring_bud_supported",
			[]string{"各乡镇年度目标 16 人", "全区年度目标 128 人（各乡镇目标之和）", "全区累计 125 人 全区年度目标 128 人 · 状态："}},
		{"a city with targets set for some counties", "/qingyuan-2026/indicators/spring_bud_supported",
			[]string{"其余各县区年度目标 120 人", "全市年度目标 338 人（各县区目标之和）", "分县区目标 2 个县区单独设定", "全市年度目标 338 人 · 状态："}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, page := get(t, c.path)
			got := text(page)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s lacks %q", c.path, w)
				}
			}
		})
	}
}
