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
