package charts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestFoldSources(t *testing.T) {
	files := func(n int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("2025-%02d-飞来峡镇.xlsx", i+1)
		}
		return strings.Join(names, ", ")
	}
	for _, c := range []struct {
		name      string
		source    string
		wantShort string
		wantAll   int
	}{
		{"one file", "2025-10-飞来峡镇.csv", "2025-10-飞来峡镇.csv", 0},
		{"the API", "api", "api", 0},
		{"three files stay listed", files(3), "2025-01-飞来峡镇.xlsx、2025-02-飞来峡镇.xlsx、2025-03-飞来峡镇.xlsx", 0},
		{"thirteen files fold", files(13), "2025-01-飞来峡镇.xlsx、2025-02-飞来峡镇.xlsx 等 13 个文件", 13},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := foldSources(c.source)
			if got.Short != c.wantShort || len(got.All) != c.wantAll {
				t.Errorf("foldSources = %q with %d names in full, want %q with %d", got.Short, len(got.All), c.wantShort, c.wantAll)
			}
		})
	}
}

func TestMonthRanges(t *testing.T) {
	ps := func(s ...string) []kpi.Period {
		out := make([]kpi.Period, len(s))
		for i, x := range s {
			out[i] = kpi.MustPeriod(x)
		}
		return out
	}
	for _, c := range []struct {
		name string
		in   []kpi.Period
		want []string
	}{
		{"one month", ps("2025-03"), []string{"2025年3月"}},
		{"a run", ps("2025-01", "2025-02", "2025-03"), []string{"2025年1—3月"}},
		{"a run and a gap", ps("2025-01", "2025-02", "2025-03", "2025-05"), []string{"2025年1—3月", "5月"}},
		{"across a year", ps("2024-12", "2025-01"), []string{"2024年12月", "2025年1月"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := monthRanges(c.in); !slices.Equal(got, c.want) {
				t.Errorf("monthRanges = %q, want %q", got, c.want)
			}
		})
	}
}

// thirteenFiles is one upload of the county office carrying a month of reports in 13 files,
// the batch that made 报送记录 2,406 px wide on a phone.
func thirteenFiles() batch {
	names := make([]string, 13)
	for i := range names {
		names[i] = fmt.Sprintf("2024年3月补报-第%02d份-乙镇妇联工作月报.xlsx", i+1)
	}
	return batch{"县妇联办公室", strings.Join(names, ", "), time.Date(2024, 4, 8, 10, 0, 0, 0, time.UTC),
		[]kpi.Observation{obs("bb", "received", "2024-03", 12)}}
}

func TestSubmissionListsFold(t *testing.T) {
	mon := newMonitor(t, smallConfig, append(smallBatches(), thirteenFiles()), fixedNow)
	bb := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)["townships/bb.html"]
	subs := section(t, bb, "submissions", "</table>")
	want := `<td class="src"><details class="sources"><summary>2024年3月补报-第01份-乙镇妇联工作月报.xlsx、2024年3月补报-第02份-乙镇妇联工作月报.xlsx 等 13 个文件</summary><ul>`
	if !strings.Contains(subs, want) {
		t.Errorf("the 13 files do not fold: %s", subs)
	}
	if n := strings.Count(subs, "<li>2024年3月补报-第"); n != 13 {
		t.Errorf("the full list has %d names, want 13", n)
	}
}

// TestRankTableKeyColumnsFirst: 名次, 乡镇, 总分, 等次 lead the ranking table (what a phone
// shows without a swipe), a shared rank reads 并列 under the number, and a veto is marked
// under the grade.
func TestRankTableKeyColumnsFirst(t *testing.T) {
	const cfg = `name: 并列测试
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
  - {code: cc, name: 丙镇}
indicators:
  - {code: screenings, name: 筛查, category: 关爱帮扶, kind: count, weight: 100, target: 1200}
  - {code: incident, name: 事故, kind: veto}
`
	b := []batch{{"x", "x.csv", time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC), []kpi.Observation{
		obs("aa", "screenings", "2024-01", 100), obs("bb", "screenings", "2024-01", 100),
		obs("cc", "screenings", "2024-01", 50), obs("cc", "incident", "2024-01", 1)}}}
	mon := newMonitor(t, cfg, b, fixedNow)
	page := renderPages(t, mon, kpi.MustPeriod("2024-01"), false)["rankings.html"]
	table := section(t, page, "ranks", "</table>")
	if !strings.Contains(table, `<thead><tr><th class="num">名次</th><th>乡镇</th><th class="num">总分</th><th>等次</th><th>较上月</th><th class="num">关爱帮扶</th>`) {
		t.Errorf("ranking columns: %s", table[:strings.Index(table, "</thead>")])
	}
	for _, want := range []string{
		`<td class="num">1<span class="tie">并列</span></td>
    <td><a href="/townships/aa?period=2024-01">甲镇</a></td>`,
		`<td class="num">1<span class="tie">并列</span></td>
    <td><a href="/townships/bb?period=2024-01">乙镇</a></td>`,
		`<td class="num">3</td>
    <td><a href="/townships/cc?period=2024-01">丙镇</a></td>`,
		`<span class="grade last">不称职</span><span class="badge bad veto-mark">一票否决</span>`,
	} {
		if !strings.Contains(table, want) {
			t.Errorf("ranking lacks %s:\n%s", want, table)
		}
	}
}
