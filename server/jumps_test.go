package server

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
)

// TestPreviewWarnsOfFiguresFarAboveEarlierMonths: a month's count or ratio denominator more
// than 3× the largest of the township's earlier months and at least 10 above it is named in
// the preview, with its place in the file and the earlier figures — a warning: the preview
// can still be confirmed, and confirming writes it.
func TestPreviewWarnsOfFiguresFarAboveEarlierMonths(t *testing.T) {
	f := newAccessFixture(t) // 2024-04-03: January to March can be reported
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv",
		"township,indicator,period,value,numerator,denominator\n"+
			"aa,screenings,2024-01,10,,\naa,screenings,2024-02,10,,\naa,closure,2024-01,,9,9\naa,closure,2024-02,,8,9\n"+
			"bb,screenings,2024-01,2,,\nbb,closure,2024-01,,1,1\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	br := newBrowser(t, f.ts.URL)
	sessionCookie(t, br, f.aa)
	_, page := br.get("/my")
	csrf := find(t, csrfRE, page)
	const head = "township,indicator,period,value,numerator,denominator\n"
	tests := []struct {
		name, csv string
		want      []string // sentences of the warning; none: no warning
	}{
		{"the running total typed as the month's ratio", head + "aa,closure,2024-03,,80,81\n",
			[]string{"以下数字远大于以前各月，请核对（1 项）",
				"信访办结率 本月分母 81（第 2 行），远大于以前各月（1—2月依次为 9、9）。请核对是否误填了全年累计数：分子、分母只填本月的数。如确实如此，可以确认写入。"}},
		{"a count far above", head + "aa,screenings,2024-03,45,,\n",
			[]string{"两癌筛查人数 本月数 45（第 2 行），远大于以前各月（1—2月依次为 10、10）。请核对是否误填了全年累计数：这里只填本月新增数"}},
		{"both, on their lines", head + "aa,screenings,2024-03,31,,\naa,closure,2024-03,,9,40\n",
			[]string{"请核对（2 项）", "两癌筛查人数 本月数 31（第 2 行）", "信访办结率 本月分母 40（第 3 行）"}},
		{"exactly three times is not far above", head + "aa,screenings,2024-03,30,,\naa,closure,2024-03,,20,27\n", nil},
		{"a usual month", head + "aa,screenings,2024-03,12,,\naa,closure,2024-03,,9,9\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := br.upload("三月.csv", tc.csv, csrf)
			if resp.StatusCode != 200 {
				t.Fatalf("preview: %d\n%s", resp.StatusCode, text(body))
			}
			got := text(body)
			if tc.want == nil {
				if strings.Contains(got, "远大于以前各月") {
					t.Errorf("the preview warns of a usual figure\n%s", got)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the preview lacks %q\n%s", w, got)
				}
			}
			if !strings.Contains(body, `action="/upload/confirm"`) {
				t.Error("a warning refused the upload: no confirm button")
			}
		})
	}

	// an admin's file of several months and townships: the file's own earlier months count,
	// and each sentence names the month and the township
	admin := newBrowser(t, f.ts.URL)
	sessionCookie(t, admin, f.admin)
	_, page = admin.get("/upload")
	_, body := admin.upload("全县.csv", head+"bb,screenings,2024-02,3,,\nbb,screenings,2024-03,40,,\nbb,closure,2024-02,,1,1\nbb,closure,2024-03,,11,12\n", find(t, csrfRE, page))
	got := text(body)
	if w := "2024年3月 乙镇 两癌筛查人数 本月数 40（第 3 行），远大于以前各月（1—2月依次为 2、3）"; !strings.Contains(got, w) {
		t.Errorf("the admin's preview lacks %q\n%s", w, got)
	}
	if w := "乙镇 信访办结率 本月分母 12（第 5 行）"; !strings.Contains(got, w) {
		t.Errorf("the admin's preview lacks %q (12 is 11 above 1) \n%s", w, got)
	}
	if bs, _ := f.db.Batches(context.Background(), "test", 10); len(bs) != 1 {
		t.Errorf("a preview wrote: %d batches", len(bs))
	}

	// the filled form names the cell, and the card of the figure is marked; confirming writes it
	_, xlsx := br.get("/upload/template.xlsx?period=2024-03")
	wb, err := excelize.OpenReader(strings.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the form: %v", err)
	}
	sheet := wb.GetSheetName(0)
	cells := map[string]string{}
	for row := forms.HeaderRow + 1; row <= forms.HeaderRow+2; row++ {
		code, _ := wb.GetCellValue(sheet, fmt.Sprintf("B%d", row))
		switch code {
		case "screenings":
			wb.SetCellValue(sheet, fmt.Sprintf("G%d", row), 12)
		case "closure":
			wb.SetCellValue(sheet, fmt.Sprintf("H%d", row), 80)
			wb.SetCellValue(sheet, fmt.Sprintf("I%d", row), 81)
			cells["closure"] = fmt.Sprintf("%s!H%d", sheet, row)
		}
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	_, body = br.upload("三月.xlsx", buf.String(), csrf)
	got = text(body)
	if w := "信访办结率 本月分母 81（" + cells["closure"] + "）"; cells["closure"] == "" || !strings.Contains(got, w) {
		t.Errorf("the form's preview lacks %q\n%s", w, got)
	}
	card := func(name string) string {
		return regexp.MustCompile(`(?s)<div class="name">` + name + `</div>.*?</dl>`).FindString(body)
	}
	if !strings.Contains(card("信访办结率"), "远大于以前各月") || strings.Contains(card("两癌筛查人数"), "远大于以前各月") {
		t.Errorf("the ratio's card is not marked, or the usual count's is:\n%s\n%s", card("信访办结率"), card("两癌筛查人数"))
	}
	resp, body := br.postForm("/upload/confirm", map[string][]string{"csrf": {csrf}, "id": {find(t, idRE, body)}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "已写入") {
		t.Fatalf("confirm after the warning: %d\n%s", resp.StatusCode, text(body))
	}
	// the same form again: the figure is in the data already (未变), no warning again
	_, body = br.upload("三月.xlsx", buf.String(), csrf)
	if got := text(body); !strings.Contains(got, "未变 2") || strings.Contains(got, "远大于以前各月") {
		t.Errorf("a figure already written is warned of again\n%s", got)
	}

	// the API writes such a figure and says so in its answer; the same figure sent again, or
	// a usual one, has no warnings
	for _, tc := range []struct{ name, csv, want string }{
		{"far above", head + "bb,screenings,2024-03,40,,\n", `"warnings":["乙镇 两癌筛查人数 本月数 40（x.csv:2），远大于以前各月（1月为 2）。请核对是否误填了全年累计数：这里只填本月新增数。已写入；如有误，请更正后重新报送。"]`},
		{"the same figure sent again", head + "bb,screenings,2024-03,40,,\n", ""},
		{"usual", head + "bb,screenings,2024-03,3,,\n", ""},
	} {
		t.Run("api "+tc.name, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/api/v1/observations?source=x.csv", f.admin, "text/csv", tc.csv)
			if resp.StatusCode != 200 {
				t.Fatalf("post: %d %s", resp.StatusCode, body)
			}
			if tc.want == "" && strings.Contains(body, "warnings") || tc.want != "" && !strings.Contains(body, tc.want) {
				t.Errorf("got %s, want %q", body, tc.want)
			}
		})
	}
}

// TestJumpRule: more than 3× the largest earlier month and at least 10 above it; months
// with gaps are named one by one.
func TestJumpRule(t *testing.T) {
	a, err := kpi.ParseConfig("test.yaml", []byte(strings.Replace(testConfig, "target: 120}", "target: 120, unit: 人}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	for _, o := range []kpi.Observation{
		{Township: "aa", Indicator: "screenings", Period: kpi.Period{Year: 2024, Month: 1}, Value: 2},
		{Township: "aa", Indicator: "screenings", Period: kpi.Period{Year: 2024, Month: 3}, Value: 1},
	} {
		if err := d.Set(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, csv string
		want      string
	}{
		{"ten times but only 8 more", "aa,screenings,2024-04,10\n", ""},
		{"12 is 10 above 2", "aa,screenings,2024-04,12\n", "两癌筛查人数 本月数 12人（第 2 行），远大于以前各月（1月 2、3月 1人）"},
		{"no earlier month", "bb,screenings,2024-04,500\n", ""},
		{"January has nothing before it", "aa,screenings,2024-01,500\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := collector.NewBatch(a)
			b.AddBytes("x.csv", []byte("township,indicator,period,value\n"+tc.csv))
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range jumpWarnings(a, d, b, false, false, false) {
				got = append(got, j.text)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("got %q, want no warning", got)
			case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.want)):
				t.Errorf("got %q, want %q…", got, tc.want)
			}
		})
	}
}
