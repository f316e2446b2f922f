package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// text is a page's text without tags, for looking for sentences.
func text(page string) string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(s), " ")
}

func TestMyPage(t *testing.T) {
	f := newAccessFixture(t) // 2024-04-03: March is due by April 5
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv",
		"township,indicator,period,value,numerator,denominator\naa,screenings,2024-01,10,,\naa,screenings,2024-02,10,,\nbb,screenings,2024-02,30,,\naa,closure,2024-01,,5,5\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	br := newBrowser(t, f.ts.URL)
	sessionCookie(t, br, f.aa)
	resp, page := br.get("/my")
	if resp.StatusCode != 200 {
		t.Fatalf("/my: %d\n%s", resp.StatusCode, page)
	}
	got := text(page)
	for _, want := range []string{
		"甲镇 · 我的填报",
		"2024年3月月报", "报送截止： 4月5日 还有 3 天",
		"0 已报 2 未报 2 本月应报",
		"两癌筛查人数 未报",
		// the month's own figures, with January's as the example, not the running total
		"信访办结率 分子、分母只填本月的数（1月为 5/5），不是全年累计（5/5） 未报",
		"2月：1 项未报（已逾期，请补报）",
		"第 1 共 2 个镇街 100 得分 优秀 等级 比上月：排名 持平",  // 乙镇 has not reported its closure rate
		"两癌筛查人数 现在 累计 20 要求 到2月应完成 20，全年 120", // on pace: not behind
		"下载2024年3月月报表（Excel）",
	} {
		if want == "两癌筛查人数 现在 累计 20 要求 到2月应完成 20，全年 120" {
			if strings.Contains(got, "两癌筛查人数 现在") {
				t.Errorf("an indicator on pace is listed as behind")
			}
			continue
		}
		if !strings.Contains(got, want) {
			t.Errorf("/my lacks %q\n%s", want, got)
		}
	}
	if !strings.Contains(page, `href="/upload/template.xlsx?period=2024-03"`) || !strings.Contains(page, `action="/upload"`) {
		t.Error("/my has no form download or upload")
	}

	// March reported: the items say so with their figures
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.aa, "text/csv",
		"township,indicator,period,value,numerator,denominator\naa,screenings,2024-03,4,,\naa,closure,2024-03,,11,12\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	_, page = br.get("/my")
	got = text(page)
	for _, want := range []string{
		"2 已报 0 未报", "两癌筛查人数： 4 已报", "信访办结率： 11/12（91.7%） 本月数；全年累计 16/17（94.1%） 已报", "88.02 得分 称职 等级 比上月：排名 持平 ，得分 −11.98", "本月应报的项目都已报送",
		// behind: 24 of the 30 due by March; 96 more over 9 months
		"落后的指标（2 项）",
		// both red (24 is below 90% of the 30 due), each with its alert
		"两癌筛查人数 现在 累计 24 要求 到3月应完成 30，全年 120 还需 每月还需 10.67（余下 9 个月） 预计 按目前进度预计全年 96（69.36～122.64） 预警 警告预警，自2024年3月 " +
			"信访办结率 现在 全年累计 16/17（94.1%） 要求 达标线 98% 预警 严重预警，自2024年3月",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/my lacks %q\n%s", want, got)
		}
	}
}

func TestMyPageOwnTownshipOnly(t *testing.T) {
	f := newAccessFixture(t)
	br := newBrowser(t, f.ts.URL)
	sessionCookie(t, br, f.aa)
	if resp, body := br.get("/my?township=bb"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "只能查看本乡镇") || strings.Contains(body, "乙镇 · 我的填报") {
		t.Errorf("甲镇's session on 乙镇's page: %d", resp.StatusCode)
	}
	_, page := br.get("/my")
	resp, body := br.upload("乙镇.csv", "township,indicator,period,value\nbb,screenings,2024-03,10\n", find(t, csrfRE, page))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "无权填报“乙镇”的数据") {
		t.Errorf("甲镇's session writing 乙镇's figures: %d", resp.StatusCode)
	}
	f.assertNothingWritten(t)
	// an admin picks any township
	admin := newBrowser(t, f.ts.URL)
	sessionCookie(t, admin, f.admin)
	if _, body := admin.get("/my"); !strings.Contains(body, `href="/my?township=bb"`) {
		t.Error("the admin's /my has no township picker")
	}
	if resp, body := admin.get("/my?township=bb"); resp.StatusCode != 200 || !strings.Contains(body, "乙镇 · 我的填报") {
		t.Errorf("the admin on 乙镇's page: %d", resp.StatusCode)
	}
	// nobody logged in: the login page, which points to the links
	if resp, body := newBrowser(t, f.ts.URL).get("/my"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "登录链接") {
		t.Errorf("/my without a login: %d", resp.StatusCode)
	}
}

func TestPreviewWarnsOfLightsAndBlanks(t *testing.T) {
	f := newAccessFixture(t)
	br := newBrowser(t, f.ts.URL)
	sessionCookie(t, br, f.aa)
	_, page := br.get("/my")
	csrf := find(t, csrfRE, page)
	tests := []struct {
		name, csv string
		want      []string
		not       []string
	}{
		{"red ratio, amber count", "township,indicator,period,value,numerator,denominator\naa,screenings,2024-03,28,,\naa,closure,2024-03,,11,12\n",
			[]string{"上传后将亮红灯或黄灯的指标", "信访办结率 全年累计 11/12 = 91.7%，低于达标线 98%，将显示为红色",
				"两癌筛查人数 累计 28，低于到3月应完成的 30（年度目标 120），将显示为黄色"},
			[]string{"SHA-256", "没有填写"}},
		{"a blank item", "township,indicator,period,value\naa,screenings,2024-03,40\n",
			[]string{"以下项目本次没有填写，上传后仍算未报送： 信访办结率"},
			[]string{"亮红灯", "SHA-256"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := br.upload("三月.csv", tc.csv, csrf)
			if resp.StatusCode != 200 {
				t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
			}
			got := text(body)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the preview lacks %q\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("the preview says %q", w)
				}
			}
		})
	}
	// the red figure's card is marked red, the amber one amber
	_, body := br.upload("三月.csv", "township,indicator,period,value,numerator,denominator\naa,screenings,2024-03,28,,\naa,closure,2024-03,,11,12\n", csrf)
	if !regexp.MustCompile(`class="card amber">\s*<div class="name">两癌筛查人数`).MatchString(body) ||
		!regexp.MustCompile(`class="card red">\s*<div class="name">信访办结率`).MatchString(body) {
		t.Error("the cards are not marked with their lights")
	}
	// an admin still sees the file's checksum
	admin := newBrowser(t, f.ts.URL)
	sessionCookie(t, admin, f.admin)
	_, page = admin.get("/upload")
	_, body = admin.upload("三月.csv", "township,indicator,period,value\nbb,screenings,2024-03,40\n", find(t, csrfRE, page))
	if !strings.Contains(body, "SHA-256") || !strings.Contains(text(body), "乙镇 信访办结率") {
		t.Errorf("the admin's preview: no checksum or unnamed blanks\n%s", text(body))
	}
	f.assertNothingWritten(t)
}

// TestMyFiguresOfPeople: an indicator counted in 人 says what is due and what each month
// must bring as whole people, rounded up (87.5 → 88, 300.5 → 301), and its 预计全年 rounded
// (125.03 → 125); a figure in a measure keeps its decimals.
func TestMyFiguresOfPeople(t *testing.T) {
	e := &kpi.Evaluation{Kind: kpi.KindCount, Actual: kpi.Some(80), Expected: kpi.Some(87.5), Target: kpi.Some(105),
		Forecast: &kpi.Forecast{YearEnd: 125.03, Low: 118.2, High: 131.6, NeededPerMonth: kpi.Some(300.5)}}
	for _, tc := range []struct {
		unit                   string
		line, needed, forecast string
	}{
		{"人", "到10月应完成 88人，全年 105人", "每月还需 301人（余下 2 个月）", "按目前进度预计全年 125人（118人～132人）"},
		{"小时", "到10月应完成 87.5小时，全年 105小时", "每月还需 300.5小时（余下 2 个月）", "按目前进度预计全年 125.03小时（118.2小时～131.6小时）"},
	} {
		t.Run(tc.unit, func(t *testing.T) {
			ind := &kpi.Indicator{Code: "x", Name: "培训", Kind: kpi.KindCount, Unit: tc.unit, Direction: kpi.Higher}
			b := behindOf(ind, e, kpi.Period{Year: 2026, Month: 10}, "amber")
			if b.Line != tc.line || b.Needed != tc.needed || b.Forecast != tc.forecast {
				t.Errorf("got %q / %q / %q\nwant %q / %q / %q", b.Line, b.Needed, b.Forecast, tc.line, tc.needed, tc.forecast)
			}
		})
	}
}

// TestMyFiguresOfOneUnitShareDecimals: /my writes every figure of a unit with the unit's
// decimals — money with two (累计 152.50万元 beside 到10月应完成 175.00万元，全年 210.00万元,
// and the month's reported 12.50万元) — keeping a decimal a township typed beyond them.
func TestMyFiguresOfOneUnitShareDecimals(t *testing.T) {
	money := &kpi.Indicator{Code: "loans", Name: "巾帼创业贷发放额", Kind: kpi.KindCount, Unit: "万元", Direction: kpi.Higher}
	e := &kpi.Evaluation{Kind: kpi.KindCount, Actual: kpi.Some(152.5), Expected: kpi.Some(175), Target: kpi.Some(210)}
	b := behindOf(money, e, kpi.Period{Year: 2026, Month: 10}, "amber")
	if want := "累计 152.50万元"; b.Now != want {
		t.Errorf("now: got %q, want %q", b.Now, want)
	}
	if want := "到10月应完成 175.00万元，全年 210.00万元"; b.Line != want {
		t.Errorf("line: got %q, want %q", b.Line, want)
	}
	if want := "每月还需 28.75万元（余下 2 个月）"; b.Needed != want {
		t.Errorf("needed: got %q, want %q", b.Needed, want)
	}
	people := &kpi.Indicator{Code: "trained", Name: "培训人次", Kind: kpi.KindCount, Unit: "人次", Direction: kpi.Higher}
	for _, tc := range []struct {
		name string
		ind  *kpi.Indicator
		v    float64
		want string
	}{
		{"money with two decimals", money, 12.5, "12.50万元"},
		{"whole money", money, 30, "30.00万元"},
		{"money typed finer keeps its decimals", money, 12.345, "12.345万元"},
		{"people", people, 1200, "1,200人次"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := myFigure(tc.ind, kpi.Observation{Value: tc.v}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
