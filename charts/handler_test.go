package charts

import (
	"compress/gzip"
	"context"
	"fmt"
	"github.com/kpimon/kpimon/kpi"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/server"
)

func get(t *testing.T, h http.Handler, url string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesEveryPage(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, err := NewHandler(mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url      string
		status   int
		contains string
	}{
		{"/", 200, "<h1>总览</h1>"},
		{"/?period=2024-02", 200, "数据截至2024年2月"},
		{"/townships/aa", 200, "<h1>甲镇</h1>"},
		{"/townships/aa?period=2024-01", 200, "数据截至2024年1月"},
		{"/indicators/screenings", 200, "<h1>两癌筛查人数</h1>"},
		{"/rankings", 200, "<h1>排名</h1>"},
		{"/alerts", 200, "<h1>预警</h1>"},
		{"/rankings.csv", 200, "名次"},
		{"/assets/echarts.min.js", 200, "echarts"},
		{"/assets/kpimon.js", 200, "data-chart"},
		{"/assets/kpimon.css", 200, "box-sizing"},
		{"/townships/zz", 404, "没有这个乡镇"},
		{"/indicators/zz", 404, "没有这个指标"},
		{"/nowhere", 404, "找不到这个页面"},
		{"/assets/nothing.js", 404, ""},
		{"/?period=2023-05", 400, "不在考核年度 2024 内"},
		{"/rankings?period=bad", 400, "YYYY-MM"},
		{"/?period=%00%3Cscript%3E", 400, "&lt;script&gt;"},
		{"/townships/%2e%2e", 404, ""},
		{"/indicators/a%2Fb", 404, "没有这个指标"},
		{"/assets/..%2fpage.go", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			rec := get(t, h, tt.url)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == 400 && !strings.Contains(rec.Body.String(), "月份有误") {
				t.Errorf("a month the pages cannot show is not headed 月份有误: %s", rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			if strings.Contains(rec.Body.String(), "bad period") {
				t.Error("the error page speaks English")
			}
		})
	}
	// The latest period with reports is the default.
	if a, b := get(t, h, "/").Body.String(), get(t, h, "/?period=2024-03").Body.String(); a != b {
		t.Error("/ is not the page of the latest period with reports (2024-03)")
	}
}

func TestPagesSendAStrictPolicy(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, _ := NewHandler(mon, nil)
	for _, url := range []string{"/", "/townships/bb", "/indicators/closure", "/rankings", "/alerts", "/nowhere"} {
		rec := get(t, h, url)
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("%s: Content-Security-Policy %q", url, csp)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", url, ct)
		}
	}
}

func TestPagesAreCachedUntilTheDataChange(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, _ := NewHandler(mon, nil)
	first := get(t, h, "/townships/bb?period=2024-03")
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	h.mu.Lock()
	cached := h.cache[pageKey{period: mustPeriod(t, "2024-03"), page: "township/bb"}]
	h.mu.Unlock()
	if cached == nil {
		t.Fatal("page not cached")
	}
	second := get(t, h, "/townships/bb?period=2024-03")
	h.mu.Lock()
	again := h.cache[pageKey{period: mustPeriod(t, "2024-03"), page: "township/bb"}]
	h.mu.Unlock()
	if again != cached || second.Body.String() != first.Body.String() {
		t.Error("an unchanged page was rendered again")
	}
	if rec := get(t, h, "/townships/bb?period=2024-03", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}

	// 乙镇 sends its missing March screenings: the page shows them at once.
	b := collector.NewBatch(mon.Assessment())
	b.AddCSV("2024-03-乙镇-补报.csv", strings.NewReader("township,indicator,period,value\nbb,screenings,2024-03,4321\n"))
	if _, err := mon.Ingest(context.Background(), b, "乙镇妇联"); err != nil {
		t.Fatal(err)
	}
	third := get(t, h, "/townships/bb?period=2024-03")
	if third.Body.String() == first.Body.String() || third.Header().Get("ETag") == etag {
		t.Fatal("the page did not change with the data")
	}
	if !strings.Contains(third.Body.String(), "本月各项均已报送") || !strings.Contains(third.Body.String(), "4,391 人") {
		t.Error("the new report is not on the page (cumulative 30+40+4,321 = 4,391 人)")
	}
}

func TestPagesAreGzippedForClientsThatTakeIt(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, _ := NewHandler(mon, nil)
	plain := get(t, h, "/")
	rec := get(t, h, "/", "Accept-Encoding", "gzip, deflate")
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("not gzipped")
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if string(body) != plain.Body.String() {
		t.Error("gzipped page differs from the plain one")
	}
	if plain.Header().Get("Content-Encoding") != "" {
		t.Error("a client that did not ask got gzip")
	}
}

func TestRankingCSVDownload(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, _ := NewHandler(mon, nil)
	rec := get(t, h, "/rankings.csv?period=2024-03")
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "rankings-2024-03.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header and 2 townships:\n%s", len(lines), rec.Body.String())
	}
	if lines[0] != "\uFEFF月份,名次,较上月,乡镇代码,乡镇,关爱帮扶,维权信访,组织建设,基础分,加分,总分,等次,一票否决" {
		t.Errorf("header %q", lines[0])
	}
	r, _ := mon.Evaluate(mustPeriod(t, "2024-03"))
	for i, x := range r.Rankings {
		if !strings.HasPrefix(lines[i+1], "2024-03,"+itoa(x.Rank)+","+kpi.FormatRankChange(x.RankChange)+","+x.Township+","+x.Name+",") {
			t.Errorf("line %d = %q, want %s at rank %d", i+1, lines[i+1], x.Name, x.Rank)
		}
	}
}

// TestMountedBesideTheAPI mounts the pages at / on the API server as serve does: the API
// and /healthz keep answering.
func TestMountedBesideTheAPI(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	srv := server.New(mon, nil)
	h, _ := NewHandler(mon, nil)
	srv.Handle("/", h)
	for url, want := range map[string]string{
		"/healthz":                           "ok",
		"/api/v1/rankings?period=2024-03":    `"rankings"`,
		"/api/v1/alerts":                     `"alerts"`,
		"/":                                  "<h1>总览</h1>",
		"/townships/aa?period=2024-03":       "<h1>甲镇</h1>",
		"/indicators/closure?period=2024-01": "<h1>信访办结率</h1>",
	} {
		rec := get(t, srv, url)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d, body lacks %q", url, rec.Code, want)
		}
	}
}

// TestConcurrentPagesAndIngests serves pages from many goroutines while reports arrive; run
// with -race. Every answer is a whole page, and the last answers show the last report.
func TestConcurrentPagesAndIngests(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, _ := NewHandler(mon, nil)
	urls := []string{"/", "/townships/aa", "/townships/bb", "/indicators/screenings", "/rankings", "/alerts", "/?period=2024-02"}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				rec := get(t, h, urls[(g+i)%len(urls)])
				if rec.Code != 200 || !strings.HasSuffix(strings.TrimSpace(rec.Body.String()), "</html>") {
					t.Errorf("%s: %d, not a whole page", urls[(g+i)%len(urls)], rec.Code)
					return
				}
			}
		}()
	}
	for v := 1; v <= 5; v++ {
		b := collector.NewBatch(mon.Assessment())
		b.AddCSV("补报.csv", strings.NewReader(fmt.Sprintf("township,indicator,period,value\nbb,screenings,2024-03,%d\n", 100*v)))
		if _, err := mon.Ingest(context.Background(), b, "乙镇妇联"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if body := get(t, h, "/indicators/screenings").Body.String(); !strings.Contains(body, "570 人") {
		t.Error("the page does not show the last report (30 + 40 + 500 = 570 人)")
	}
}

// TestEveryLiveLinkAnswers follows every link and asset of every served page through the
// server as `kpimon serve` mounts it, the bulletin downloads that the ranking page links
// included: each answers 200.
func TestEveryLiveLinkAnswers(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	srv := server.New(mon, nil)
	h, _ := NewHandler(mon, nil)
	srv.Handle("/", h)
	seen := map[string]bool{}
	for name, page := range renderPages(t, mon, mustPeriod(t, "2024-03"), false) {
		for _, m := range linkRE.FindAllStringSubmatch(page, -1) {
			link := html.UnescapeString(m[1])
			if seen[link] || (strings.HasPrefix(link, "data:image/png;base64,") && strings.Contains(page, `<link rel="icon" type="image/png" href="`+m[1]+`">`)) { // the inline icon
				continue
			}
			seen[link] = true
			if strings.HasPrefix(link, "#") { // an anchor on the same page: its id must be there
				if !strings.Contains(page, `id="`+link[1:]+`"`) {
					t.Errorf("%s links %s, which it does not have", name, link)
				}
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			if rec := get(t, srv, target); rec.Code != http.StatusOK {
				t.Errorf("%s links %s: %d", name, link, rec.Code)
			} else if anchor != "" && !strings.Contains(rec.Body.String(), `id="`+anchor+`"`) {
				t.Errorf("%s links %s, a page without that anchor", name, link)
			}
		}
	}
	for _, want := range []string{"/rankings/bulletin.xlsx?period=2024-03", "/rankings/bulletin.html?period=2024-03", "/rankings.csv?period=2024-03"} {
		if !seen[want] {
			t.Errorf("no page links %s", want)
		}
	}
}

func TestOverviewNamesAMonthOverdueWithNoReports(t *testing.T) {
	// reports for January to March; on 20 April March's deadline has passed and it was
	// reported, April's is not due yet: no note
	mon := newMonitor(t, smallConfig, smallBatches(), time.Date(2024, 4, 20, 0, 0, 0, 0, time.UTC))
	h, err := NewHandler(mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := get(t, h, "/").Body.String(); strings.Contains(body, `class="overdue"`) {
		t.Error("a note before any later deadline passed")
	}
	// on 10 May April's deadline (5 May) has passed and nobody reported April
	mon = newMonitor(t, smallConfig, smallBatches(), time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC))
	if h, err = NewHandler(mon, nil); err != nil {
		t.Fatal(err)
	}
	body := get(t, h, "/").Body.String()
	if !strings.Contains(body, "2024年4月的报表已过报送截止日（5月5日），尚无乡镇报送") || !strings.Contains(body, `href="/?period=2024-04"`) {
		t.Errorf("no overdue note for April:\n%.3000s", body)
	}
	if !strings.Contains(body, "2024年3月") {
		t.Error("the overview no longer shows the latest month with reports")
	}
}

func TestGzipAndPlainPagesHaveTheirOwnETags(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	h, err := NewHandler(mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := get(t, h, "/").Header().Get("ETag")
	zipped := get(t, h, "/", "Accept-Encoding", "gzip").Header().Get("ETag")
	if plain == "" || zipped == "" || plain == zipped {
		t.Fatalf("ETags plain %q, gzip %q: want two different ones", plain, zipped)
	}
	if code := get(t, h, "/", "Accept-Encoding", "gzip", "If-None-Match", zipped).Code; code != http.StatusNotModified {
		t.Errorf("If-None-Match with the gzip ETag: %d, want 304", code)
	}
}

func TestOverviewCountyCeilingSaysNotMoreThan(t *testing.T) {
	cfg := `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}, {code: bb, name: 乙镇}]
indicators: [{code: r, name: 重复访件数, unit: 件, kind: count, direction: lower, weight: 100, target: 2}]
`
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	mon := newMonitor(t, cfg, []batch{{"t", "t.csv", at, []kpi.Observation{obs("aa", "r", "2024-01", 1), obs("bb", "r", "2024-01", 0)}}}, fixedNow)
	h, err := NewHandler(mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := get(t, h, "/").Body.String(); !strings.Contains(body, "不超过 4") {
		t.Error("the county's ceiling (2 + 2) is not shown as 不超过 4")
	}
}
