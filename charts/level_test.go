package charts

import (
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// levelWords are what pages of an assessment at a level say, and the words of the other
// levels they must never say.
var levelWords = []struct {
	level               kpi.Level
	whole, units, short string
	never               []string
}{
	{kpi.LevelCounty, "全县", "乡镇（街道）", "乡镇", []string{"全区", "全市", "全省", "县区", "县（市、区）"}},
	{kpi.LevelDistrict, "全区", "乡镇（街道）", "乡镇", []string{"全县", "全市", "全省", "县区", "县（市、区）"}},
	{kpi.LevelCity, "全市", "县（市、区）", "县区", []string{"全县", "全区", "全省", "乡镇", "市州"}},
	{kpi.LevelProvince, "全省", "市（州）", "市州", []string{"全县", "全区", "全市", "乡镇", "县区"}},
}

// TestPagesFollowTheLevel renders every page of the small assessment at each level: the
// whole is 全县, 全区, 全市 or 全省 and the units 乡镇, 县区 or 市州 wherever pages name them,
// and no page says another level's words.
func TestPagesFollowTheLevel(t *testing.T) {
	for _, lw := range levelWords {
		t.Run(string(lw.level), func(t *testing.T) {
			mon := newMonitor(t, "level: "+string(lw.level)+"\n"+smallConfig, smallBatches(), fixedNow)
			pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)
			want := map[string][]string{
				"index.html": {"<h2>" + lw.whole + "各指标</h2>", "<h2>指标状态（" + lw.short + " × 指标）</h2>",
					"个" + lw.short + "报齐", `aria-label="` + lw.short + ` × 指标状态"`,
					`aria-label="各` + lw.short + `指标状态分布"`, `aria-label="` + lw.whole + `各指标进度（占年度目标）"`, lw.whole + " · 两癌筛查人数"},
				"rankings.html":              {`<th class="num">名次</th><th>` + lw.short + `</th>`, "一票否决的" + lw.short + "等次定为最末等"},
				"alerts.html":                {"<th>说明</th><th>" + lw.short + "</th><th>指标</th>", `aria-label="各` + lw.short + `预警"`},
				"townships/aa.html":          {lw.whole + "平均", lw.whole + " 2 个" + lw.units + "，第1名在最上方。"},
				"townships/bb.html":          {"本" + lw.short + "的数据没有修订过"},
				"indicators/screenings.html": {`<div class="tile-label">` + lw.whole + "累计</div>", "<h2>各" + lw.short + "数据</h2>", `aria-label="各` + lw.short + `完成情况（按完成率排序）"`, `"name":"` + lw.whole + `累计"`, lw.whole + "年度目标 1,800 人（各" + lw.short + "目标之和）"},
			}
			for name, html := range pages {
				if !strings.Contains(html, "<summary>"+lw.short+"</summary>") && !strings.Contains(html, `aria-current="page">`+lw.short+"</summary>") {
					t.Errorf("%s: the nav's menu of units is not headed %s", name, lw.short)
				}
				for _, w := range want[name] {
					if !strings.Contains(html, w) {
						t.Errorf("%s lacks %q", name, w)
					}
				}
				for _, bad := range lw.never {
					if i := strings.Index(html, bad); i >= 0 {
						t.Errorf("%s says %q: …%s…", name, bad, html[max(0, i-80):min(len(html), i+80)])
					}
				}
			}
		})
	}
}

// TestMilestonesReadTheSameEverywhere: a milestone's due month reads 2月底前完成 (kpi.MilestoneDue)
// in the township's table, the indicator's facts and the tooltips, and the county's
// milestone reads 1/2 已完成 (MilestoneText), never 未完成, on the overview and the indicator page.
func TestMilestonesReadTheSameEverywhere(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	pages := renderPages(t, mon, kpi.MustPeriod("2024-03"), false)
	// 甲镇 did the review in February, 乙镇 has not
	county := section(t, pages["index.html"], "county", "</table>")
	row := county[strings.Index(county, "规划中期评估"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "1/2 已完成") || strings.Contains(row, "未完成") {
		t.Errorf("the overview's county row of the milestone reads %q, want 1/2 已完成", row)
	}
	var tip string
	for _, tp := range specs(t, pages["index.html"])["overview-county"].Tips[0] {
		if strings.HasPrefix(tp, "全县 · 规划中期评估") {
			tip = tp
		}
	}
	if !strings.Contains(tip, "实际：1/2 已完成") || !strings.Contains(tip, "要求：2月底前完成") || strings.Contains(tip, "未完成") {
		t.Errorf("the county milestone's tooltip is %q", tip)
	}
	review := pages["indicators/review.html"]
	if _, value, _ := tileOf(t, review, "全县累计"); value != "1/2 已完成" {
		t.Errorf("the indicator page's county tile reads %q, want 1/2 已完成", value)
	}
	if !strings.Contains(review, "<dt>完成时限</dt><dd>2月底前完成</dd>") {
		t.Error("the indicator's facts do not say 2月底前完成")
	}
	if !strings.Contains(specs(t, review)["indicator-county"].Option["series"].([]any)[0].(map[string]any)["name"].(string), "全县") {
		t.Error("the county trend is not named for the county")
	}
	evals := section(t, pages["townships/bb.html"], "evals", "</table>")
	if i := strings.Index(evals, "规划中期评估"); i < 0 || !strings.Contains(evals[i:i+600], "<td class=\"num\">2月底前完成</td>") {
		t.Errorf("the township's milestone row does not read 2月底前完成: %s", evals[max(0, i):min(len(evals), i+600)])
	}
	for _, tp := range specs(t, pages["townships/bb.html"])["township-progress"].Tips[0] {
		if strings.Contains(tp, "规划中期评估") && !strings.Contains(tp, "要求：2月底前完成") {
			t.Errorf("the township's milestone tooltip is %q", tp)
		}
	}
}
