package bulletin

import (
	"bytes"
	"html"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/kpi"
)

const testConfig = `name: 测试县妇联2024年度目标管理考核
year: 2024
timezone: Asia/Shanghai
report_deadline_day: 5
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: "<script>alert(1)</script>镇"}
  - {code: cc, name: 丙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, category: 关爱帮扶, kind: count, weight: 50, target: 120, unit: 人}
  - {code: closure, name: "办结率\"><img src=x onerror=alert(2)>", category: 维权信访, kind: ratio, weight: 30, threshold: 0.98}
  - {code: plan, name: 规划中期评估, category: 组织建设, kind: milestone, weight: 20, due: 3}
  - {code: honors, name: 荣誉加分, kind: bonus, max: 5}
  - {code: incident, name: 重大责任事故, kind: veto}
`

func testBulletin(t *testing.T, now time.Time) *Bulletin {
	t.Helper()
	return testBulletinAt(t, now, "")
}

// testBulletinAt is testBulletin for an assessment of the level given ("" for the default,
// county).
func testBulletinAt(t *testing.T, now time.Time, level kpi.Level) *Bulletin {
	t.Helper()
	cfg := testConfig
	if level != "" {
		cfg = "level: " + string(level) + "\n" + cfg
	}
	return testBulletinOf(t, now, cfg)
}

// testBulletinOf is testBulletin of the config given (testConfig changed).
func testBulletinOf(t *testing.T, now time.Time, cfg string) *Bulletin {
	t.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	p := func(m string) kpi.Period { return kpi.MustPeriod("2024-" + m) }
	for _, o := range []kpi.Observation{
		{Township: "aa", Indicator: "screenings", Period: p("01"), Value: 10},
		{Township: "aa", Indicator: "screenings", Period: p("02"), Value: 30},
		{Township: "aa", Indicator: "closure", Period: p("02"), Numerator: 10, Denominator: 10},
		{Township: "aa", Indicator: "plan", Period: p("02"), Value: 1},
		{Township: "aa", Indicator: "honors", Period: p("02"), Value: 2},
		{Township: "bb", Indicator: "screenings", Period: p("02"), Value: 19}, // 19 of 20 expected: at risk
		{Township: "bb", Indicator: "closure", Period: p("02"), Numerator: 5, Denominator: 10},
		{Township: "cc", Indicator: "screenings", Period: p("01"), Value: 30},
		{Township: "cc", Indicator: "incident", Period: p("02"), Value: 1},
	} {
		if err := d.Set(o); err != nil {
			t.Fatal(err)
		}
	}
	r, err := kpi.Evaluate(d, p("02"), now)
	if err != nil {
		t.Fatal(err)
	}
	return New(a, r, now)
}

func TestMissingReportsAndSummary(t *testing.T) {
	before := testBulletin(t, time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)) // 20:00 on 5 March in Shanghai
	after := testBulletin(t, time.Date(2024, 3, 5, 16, 0, 0, 0, time.UTC))  // 00:00 on 6 March
	for _, tc := range []struct {
		b       *Bulletin
		overdue bool
	}{{before, false}, {after, true}} {
		if len(tc.b.Missing) != 1 {
			t.Fatalf("missing = %+v, want 丙镇 only", tc.b.Missing)
		}
		m := tc.b.Missing[0]
		if m.Township.Code != "cc" || len(m.Indicators) != 2 || m.Indicators[0] != "两癌筛查人数" || m.Overdue != tc.overdue || m.Deadline.Format("2006-01-02") != "2024-03-05" {
			t.Errorf("missing %+v, overdue want %v", m, tc.overdue)
		}
	}
	s := after.Summary()
	if s.Townships != 3 || s.Missing != 1 || len(s.Top) != 1 || s.Top[0] != "甲镇" {
		t.Errorf("summary %+v", s)
	}
	if text := s.Text(after.Result.Period); !strings.Contains(text, "截至2024年2月，全县 3 个乡镇（街道）参加考核") || !strings.Contains(text, "1 个乡镇（街道）本月报表不全") {
		t.Errorf("summary text %q", text)
	}
}

func TestWorkbookSheetsAndLights(t *testing.T) {
	b := testBulletin(t, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC))
	f := workbookOf(t, b)
	if got := strings.Join(f.GetSheetList(), ","); got != strings.Join([]string{SheetRanking, SheetIndicators, SheetAlerts, SheetMissing}, ",") {
		t.Fatalf("sheets %s", got)
	}
	rows, _ := f.GetRows(SheetRanking)
	header := rows[RankingHeaderRow-1]
	if strings.Join(header, "|") != "名次|较上月|乡镇（街道）|关爱帮扶|维权信访|组织建设|加分|总分|等次" {
		t.Errorf("ranking header %q", header)
	}
	if first := rows[RankingHeaderRow]; first[2] != "甲镇" || first[0] != "1" {
		t.Errorf("first ranking row %q", first)
	}
	// the vetoed township's grade is marked and lit red
	fill := func(sheet, ref string) string {
		id, err := f.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil || len(s.Fill.Color) == 0 {
			return ""
		}
		return s.Fill.Color[0]
	}
	for r, row := range rows[RankingHeaderRow:] {
		if row[2] == "丙镇" {
			ref, _ := excelize.CoordinatesToCellName(len(header), RankingHeaderRow+1+r)
			if !strings.Contains(row[len(header)-1], "一票否决") || fill(SheetRanking, ref) != lights["red"][0] {
				t.Errorf("丙镇's grade %q has fill %q", row[len(header)-1], fill(SheetRanking, ref))
			}
		}
	}
	// each status has its light
	ind, _ := f.GetRows(SheetIndicators)
	want := map[string]string{"已完成": "green", "序时达标": "green", "预警": "amber", "滞后": "red", "未报送": "grey", "一票否决": "red"}
	seen := map[string]bool{}
	for r, row := range ind[3:] {
		if len(row) < 11 {
			continue
		}
		light, ok := want[row[10]]
		if !ok {
			continue
		}
		seen[row[10]] = true
		ref, _ := excelize.CoordinatesToCellName(11, 4+r)
		if got := fill(SheetIndicators, ref); got != lights[light][0] {
			t.Errorf("%s/%s status %s has fill %s, want %s", row[0], row[2], row[10], got, lights[light][0])
		}
	}
	for s := range want {
		if s != "序时达标" && !seen[s] {
			t.Errorf("no %s row in the indicator sheet", s)
		}
	}
	// ratios are numbers formatted as percentages, not text
	for r, row := range ind[3:] {
		if row[0] == "甲镇" && strings.HasPrefix(row[2], "办结率") {
			ref, _ := excelize.CoordinatesToCellName(6, 4+r)
			if typ, _ := f.GetCellType(SheetIndicators, ref); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Errorf("ratio actual written as text")
			}
			if row[5] != "100.00%" {
				t.Errorf("ratio actual shows %q", row[5])
			}
		}
	}
	alerts, _ := f.GetRows(SheetAlerts)
	if len(alerts) < 4 || alerts[3][0] != "严重" {
		t.Errorf("alerts sheet %q", alerts)
	}
	missing, _ := f.GetRows(SheetMissing)
	if len(missing) != 4 || missing[3][0] != "丙镇" || missing[3][4] != "已逾期" {
		t.Errorf("missing sheet %q", missing)
	}
	layout, err := f.GetPageLayout(SheetRanking)
	if err != nil || layout.Orientation == nil || *layout.Orientation != "landscape" || layout.Size == nil || *layout.Size != 9 {
		t.Errorf("page layout %+v %v", layout, err)
	}
}

func TestHTMLEscapesAndPrintsA4Landscape(t *testing.T) {
	b := testBulletin(t, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	if err := b.WriteHTML(&buf, Links{XLSX: "/rankings/bulletin.xlsx?period=2024-02&x=\"><script>", Ranking: "javascript:alert(3)"}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert(1)", "<img src=x", "javascript:alert", "\"><script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;镇", "@page { size: A4 landscape", "一、总体情况", "三、红灯事项", "四、预警", "五、报表报送情况", "丙镇", "已逾期", "#ZgotmplZ"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the bulletin page has a script element")
	}
	var plain bytes.Buffer
	if err := b.WriteHTML(&plain, Links{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "下载 Excel 版") {
		t.Error("links shown without addresses")
	}
}

func TestFiguresUseTheOneFormatter(t *testing.T) {
	money := &kpi.Indicator{Kind: kpi.KindCount, Unit: "万元"}
	people := &kpi.Indicator{Kind: kpi.KindCount, Unit: "人"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"money keeps two decimals and 千分位", figure(money, kpi.Some(12345.5)), "12,345.50"},
		{"a count drops trailing zeros", figure(people, kpi.Some(12345.5)), "12,345.5"},
		{"no exponent", figure(people, kpi.Some(1e15)), "1,000,000,000,000,000"},
		{"undefined", figure(people, kpi.Num{}), "—"},
		{"the workbook's text keeps the row's unit", figureText(Row{Kind: kpi.KindCount, Unit: "万元"}, kpi.Some(300)), "300.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestWordsFollowTheLevel: the bulletin, as HTML and as a workbook, names the whole and the
// units as the assessment's level does, and no other level's words; milestones, bonuses and
// vetoes are never 未报 and a milestone's due month reads 3月底前完成.
func TestWordsFollowTheLevel(t *testing.T) {
	for _, tc := range []struct {
		level        kpi.Level
		whole, units string
		never        []string
	}{
		{kpi.LevelCounty, "全县", "乡镇（街道）", []string{"全区", "全市", "县（市、区）", "全县（区）"}},
		{kpi.LevelDistrict, "全区", "乡镇（街道）", []string{"全县", "全市", "县（市、区）"}},
		{kpi.LevelCity, "全市", "县（市、区）", []string{"全县", "全区", "乡镇"}},
		{kpi.LevelProvince, "全省", "市（州）", []string{"全县", "全区", "全市", "乡镇", "县（市、区）"}},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			b := testBulletinAt(t, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), tc.level)
			summary := "截至2024年2月，" + tc.whole + " 3 个" + tc.units + "参加考核"
			var page bytes.Buffer
			if err := b.WriteHTML(&page, Links{}); err != nil {
				t.Fatal(err)
			}
			html := page.String()
			for _, want := range []string{summary, "1 个" + tc.units + "本月报表不全", "<th>名次</th><th>较上月</th><th>" + tc.units + "</th>",
				"<h2>六、各" + tc.units + "指标完成情况</h2>", "<td>规划中期评估</td><td class=\"c\"></td><td class=\"c\">—</td>", "3月底前完成"} {
				if !strings.Contains(html, want) {
					t.Errorf("the HTML bulletin lacks %q", want)
				}
			}
			f := workbookOf(t, b)
			var text strings.Builder
			for _, sheet := range f.GetSheetList() {
				rows, err := f.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				hr := 3
				if sheet == SheetRanking {
					hr = RankingHeaderRow
				}
				if got := rows[hr-1]; !slices.Contains(got, tc.units) {
					t.Errorf("sheet %s: header %q has no %s column", sheet, got, tc.units)
				}
				for _, row := range rows {
					text.WriteString(strings.Join(row, "|") + "\n")
				}
			}
			if !strings.Contains(text.String(), summary) {
				t.Errorf("the workbook lacks %q", summary)
			}
			ind, _ := f.GetRows(SheetIndicators)
			for _, row := range ind[3:] {
				switch row[2] {
				case "规划中期评估", "荣誉加分", "重大责任事故":
					if row[4] != "—" {
						t.Errorf("%s of %s reads 本月报送 %q, want — (not reported monthly)", row[2], row[0], row[4])
					}
					if row[2] == "规划中期评估" && row[7] != "3月底前完成" {
						t.Errorf("the milestone's target reads %q, want 3月底前完成", row[7])
					}
				}
			}
			for _, bad := range tc.never {
				if strings.Contains(html, bad) {
					t.Errorf("the HTML bulletin says %q", bad)
				}
				if strings.Contains(text.String(), bad) {
					t.Errorf("the workbook says %q", bad)
				}
			}
		})
	}
}

// TestGeneratedInTheAssessmentsZone: the bulletin, as HTML and as a workbook, says when it
// was made in the assessment's time zone, with the zone's label, whatever the machine's.
func TestGeneratedInTheAssessmentsZone(t *testing.T) {
	now := time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, timezone, want string
	}{
		{"Beijing time", "Asia/Shanghai", "生成于 2024年3月10日 09:30（北京时间）"},
		{"another zone", "Asia/Urumqi", "生成于 2024年3月10日 07:30（Asia/Urumqi UTC+6）"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testBulletinOf(t, now, strings.Replace(testConfig, "timezone: Asia/Shanghai", "timezone: "+tc.timezone, 1))
			var page bytes.Buffer
			if err := b.WriteHTML(&page, Links{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(html.UnescapeString(page.String()), tc.want) { // + is written &#43;
				t.Errorf("the HTML bulletin lacks %q", tc.want)
			}
			f := workbookOf(t, b)
			rows, err := f.GetRows(SheetRanking)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, row := range rows[:RankingHeaderRow] {
				text.WriteString(strings.Join(row, "|") + "\n")
			}
			if !strings.Contains(text.String(), tc.want) {
				t.Errorf("the workbook's heading lacks %q:\n%s", tc.want, text.String())
			}
		})
	}
}

// cityBulletin is the bulletin of a city over two counties as of March 2024: 甲县 (two
// townships, 二镇 has not sent March) and 乙县 (three). The city takes 两癌筛查人数 as each
// county's 全县 sum and the share of its townships done with 规划中期评估.
func cityBulletin(t *testing.T) *Bulletin {
	t.Helper()
	parse := func(cfg string) *kpi.Assessment {
		a, err := kpi.ParseConfig("test.yaml", []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	county := func(id, name, towns string) *kpi.Assessment {
		return parse("id: " + id + "\nname: " + name + "\nyear: 2024\ntownships: [" + towns + "]\nindicators:\n" +
			"  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 50, target: 1200}\n" +
			"  - {code: review, name: 规划中期评估, kind: milestone, weight: 50, due: 6}\n")
	}
	ca := county("ca-2024", "甲县考核", "{code: t1, name: 一镇}, {code: t2, name: 二镇}")
	cb := county("cb-2024", "乙县考核", "{code: t1, name: 一镇}, {code: t2, name: 二镇}, {code: t3, name: 三镇}")
	city := parse(`id: city-2024
level: city
name: 测试市妇联2024年度考核
year: 2024
units:
  - {code: ca, name: 甲县, assessment: ca-2024}
  - {code: cb, name: 乙县, assessment: cb-2024}
indicators:
  - {code: screenings, name: 两癌筛查人数, unit: 人, kind: count, weight: 60, target: 2400}
  - {code: review_share, from: review, name: 规划中期评估完成率, kind: stock, weight: 40, target: 1, pacing: none}
`)
	u, err := kpi.LinkUnits(city, func(id string) (*kpi.Assessment, bool) {
		switch id {
		case ca.ID:
			return ca, true
		case cb.ID:
			return cb, true
		}
		return nil, false
	})
	if err != nil {
		t.Fatal(err)
	}
	da, db := kpi.NewDataset(ca), kpi.NewDataset(cb)
	set := func(d *kpi.Dataset, o kpi.Observation) {
		if err := d.Set(o); err != nil {
			t.Fatal(err)
		}
	}
	for m := 1; m <= 3; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		set(da, kpi.Observation{Township: "t1", Indicator: "screenings", Period: p, Value: 100})
		if m < 3 {
			set(da, kpi.Observation{Township: "t2", Indicator: "screenings", Period: p, Value: 100})
		}
		for _, tw := range []string{"t1", "t2", "t3"} {
			set(db, kpi.Observation{Township: tw, Indicator: "screenings", Period: p, Value: 50})
		}
	}
	set(da, kpi.Observation{Township: "t1", Indicator: "review", Period: kpi.MustPeriod("2024-02"), Value: 1})
	set(db, kpi.Observation{Township: "t1", Indicator: "review", Period: kpi.MustPeriod("2024-02"), Value: 1})
	set(db, kpi.Observation{Township: "t2", Indicator: "review", Period: kpi.MustPeriod("2024-03"), Value: 1})
	d := kpi.NewDataset(city)
	for t2, src := range []*kpi.Dataset{da, db} {
		if _, err := u.Derive(d, t2, kpi.AggregateOf(src)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2024, 4, 20, 9, 0, 0, 0, time.UTC)
	r, err := kpi.Evaluate(d, kpi.MustPeriod("2024-03"), now)
	if err != nil {
		t.Fatal(err)
	}
	return New(city, r, now)
}

// TestCityBulletin: a city's bulletin (全市通报) reads as the city's, in HTML and in Excel:
// 全市 and its 县（市、区） by name, never a county's words; a county's share of townships done
// is a percentage; a county whose sums lack a township's report says so, in the summary, in
// its rows (本月报送) and under 报表报送情况.
func TestCityBulletin(t *testing.T) {
	b := cityBulletin(t)
	if len(b.Incomplete) != 1 || b.Incomplete[0].Township.Name != "甲县" || b.Incomplete[0].Units != 1 || b.Incomplete[0].Noun != "乡镇" {
		t.Fatalf("incomplete = %+v, want 甲县 with 1 乡镇 not reported", b.Incomplete)
	}
	n := len(b.Incomplete[0].Indicators) // screenings only: the milestone's share needs no monthly report
	if n != 1 {
		t.Errorf("甲县 has %d incomplete sums, want 1 (两癌筛查人数)", n)
	}
	summary := b.Summary().Text(b.Result.Period)
	for _, w := range []string{"截至2024年3月，全市 2 个县（市、区）参加考核", "综合得分第一名：", "；最后一名：", "1 个县（市、区）有下级未报送，汇总数不完整"} {
		if !strings.Contains(summary, w) {
			t.Errorf("the summary %q lacks %q", summary, w)
		}
	}
	var page bytes.Buffer
	if err := b.WriteHTML(&page, Links{}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, w := range []string{
		"<th>名次</th><th>较上月</th><th>县（市、区）</th>", "<td>甲县</td>", "<td>乙县</td>", "<h2>六、各县（市、区）指标完成情况</h2>",
		// 甲县: 1 of 2 done, against 100%; complete though 二镇 sent nothing in March, for a
		// milestone needs no monthly report
		`<td>规划中期评估完成率</td><td class="c">%</td><td class="c">已报</td><td class="n">50.0%</td><td class="n">100.0%</td><td class="n">100.0%</td>`,
		`<td>两癌筛查人数</td><td class="c">人</td><td class="c">1 个乡镇未报</td><td class="n">500</td>`,
		`<td>两癌筛查人数</td><td class="c">人</td><td class="c">已报</td><td class="n">450</td>`, // 乙县, complete
		"<h3>汇总不完整（有下级未报送）</h3>", `<tr><td>甲县</td><td class="amber">1 个乡镇未报送，` + itoa(n) + ` 项汇总不完整</td>`,
	} {
		if !strings.Contains(html, w) {
			t.Errorf("the HTML bulletin lacks %s", w)
		}
	}
	if strings.Contains(html, "各县（市、区）本月报表齐全") {
		t.Error("the HTML bulletin says every county's reports are complete")
	}
	f := workbookOf(t, b)
	var all strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			all.WriteString(strings.Join(row, "|") + "\n")
		}
	}
	for _, w := range []string{"全市 2 个县（市、区）参加考核", "1 个县（市、区）有下级未报送，汇总数不完整",
		"甲县|其他|规划中期评估完成率|%|已报|50.00%|100.00%|100.00%", "甲县|" + itoa(n) + "|有 1 个乡镇未报送，以下汇总数不完整：两癌筛查人数"} {
		if !strings.Contains(all.String(), w) {
			t.Errorf("the workbook lacks %q:\n%s", w, all.String())
		}
	}
	for _, bad := range []string{"全县", "乡镇（街道）", "县（区）"} {
		if strings.Contains(html, bad) || strings.Contains(all.String(), bad) {
			t.Errorf("the city's bulletin says %q", bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestExpectedIsWholePeople: the bulletin writes 序时目标 of a count in people as the least
// whole number that reaches it, in HTML and as the workbook's number: 125 人 a year is 20.83
// by February, written 21 (乙镇's 19 is short of it, as its status says).
func TestExpectedIsWholePeople(t *testing.T) {
	cfg := strings.Replace(testConfig, "weight: 50, target: 120, unit: 人}", "weight: 50, target: 125, unit: 人}", 1)
	b := testBulletinOf(t, time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC), cfg)
	var found bool
	for _, r := range b.Rows() {
		if r.Indicator == "两癌筛查人数" {
			found = true
			if r.Expected != "21" {
				t.Errorf("%s's 序时目标 reads %q, want 21", r.Township, r.Expected)
			}
		}
	}
	if !found {
		t.Fatal("no row of 两癌筛查人数")
	}
	f := workbookOf(t, b)
	rows, err := f.GetRows(SheetIndicators, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, row := range rows {
		if len(row) > 6 && row[2] == "两癌筛查人数" {
			n++
			if row[6] != "21" {
				t.Errorf("the workbook's 序时目标 of %s is %q, want 21", row[0], row[6])
			}
		}
	}
	if n == 0 {
		t.Errorf("the workbook has no row of 两癌筛查人数: %v", rows)
	}
}

// workbookOf is the bulletin's Excel workbook, written and opened again; closed when the
// test ends.
func workbookOf(t *testing.T, b *Bulletin) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
