package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// accessFixture is a server on 127.0.0.1 with no token injected, and tokens of each kind.
type accessFixture struct {
	ts                  *httptest.Server
	srv                 *Server
	mon                 *monitor.Monitor
	db                  *sqlite.DB
	admin, aa, bb, gone string // secrets
	clock               time.Time
}

func newAccessFixture(t testing.TB) *accessFixture {
	t.Helper()
	ctx := context.Background()
	a, err := kpi.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &accessFixture{db: db, clock: time.Date(2024, 4, 3, 9, 0, 0, 0, time.UTC)}
	db.SetClock(func() time.Time { return f.clock })
	add := func(n store.NewToken) string {
		_, s, err := db.AddToken(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.admin = add(store.NewToken{Assessment: "test", Name: "县妇联办公室", Admin: true})
	f.aa = add(store.NewToken{Assessment: "test", Name: "甲镇妇联", Township: "aa"})
	f.bb = add(store.NewToken{Assessment: "test", Name: "乙镇妇联", Township: "bb"})
	f.gone = add(store.NewToken{Assessment: "test", Name: "旧令牌", Township: "aa"})
	list, _ := db.Tokens(ctx, "test")
	if _, err := db.RevokeToken(ctx, list[3].ID); err != nil {
		t.Fatal(err)
	}
	f.mon, err = monitor.New(ctx, a, db, monitor.Options{Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = New(f.mon, nil)
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

func (f *accessFixture) do(t *testing.T, method, path, token, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const twoTownships = `[{"township":"aa","indicator":"screenings","period":"2024-01","value":10},
  {"township":"bb","indicator":"screenings","period":"2024-01","value":7}]`

func TestWritesNeedAToken(t *testing.T) {
	f := newAccessFixture(t)
	for _, tc := range []struct {
		name, token string
	}{{"none", ""}, {"unknown", "kpm_" + strings.Repeat("0", 64)}, {"revoked", f.gone}, {"not a bearer", ""}} {
		req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/observations", strings.NewReader(twoTownships))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		if tc.name == "not a bearer" {
			req.Header.Set("Authorization", "Basic "+f.admin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s token: %d %q, want 401 with a Bearer challenge", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// a cookie is not enough for the API: only the upload page's forms, which carry CSRF values
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/observations", strings.NewReader(twoTownships))
	req.AddCookie(&http.Cookie{Name: CookieName, Value: f.admin})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("cookie on the API: %v %v", resp.StatusCode, err)
	}
	f.assertNothingWritten(t)
}

func (f *accessFixture) assertNothingWritten(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if bs, _ := f.db.Batches(ctx, "test", 10); len(bs) != 0 {
		t.Errorf("batches recorded: %+v", bs)
	}
	if f.mon.Dataset().Len() != 0 {
		t.Errorf("%d observations in memory", f.mon.Dataset().Len())
	}
	for _, tw := range []string{"aa", "bb"} {
		if h, _ := f.db.History(ctx, "test", tw, "screenings", kpi.Period{}); len(h) != 0 {
			t.Errorf("history of %s: %+v", tw, h)
		}
	}
}

func TestTownshipTokenWritesItsOwnTownshipOnly(t *testing.T) {
	f := newAccessFixture(t)
	resp, body := f.do(t, "POST", "/api/v1/observations", f.aa, "application/json", twoTownships)
	if resp.StatusCode != 403 {
		t.Fatalf("甲镇's token writing 乙镇: %d %s", resp.StatusCode, body)
	}
	var eb errorBody
	if err := json.Unmarshal([]byte(body), &eb); err != nil {
		t.Fatal(err)
	}
	if len(eb.Errors) != 1 || eb.Errors[0].Where != "api.json[1]" || !strings.Contains(eb.Errors[0].Message, "无权填报“乙镇”") {
		t.Errorf("403 body %+v", eb)
	}
	f.assertNothingWritten(t)

	// its own township: accepted, and the token's name is the actor
	resp, body = f.do(t, "POST", "/api/v1/observations?source=一月.json", f.aa, "application/json",
		`[{"township":"甲镇","indicator":"screenings","period":"2024-01","value":10}]`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"new":1`) {
		t.Fatalf("甲镇 writing 甲镇: %d %s", resp.StatusCode, body)
	}
	// an admin writes every township
	f.clock = f.clock.Add(26 * time.Hour)
	resp, body = f.do(t, "POST", "/api/v1/observations?source=更正.csv", f.admin, "text/csv",
		"township,indicator,period,value\naa,screenings,2024-01,12\nbb,screenings,2024-01,7\n")
	if resp.StatusCode != 200 || !strings.Contains(body, `"corrected":1`) || !strings.Contains(body, `"new":1`) {
		t.Fatalf("admin: %d %s", resp.StatusCode, body)
	}
	// the correction is in the history with who and when
	resp, body = f.do(t, "GET", "/api/v1/history?township=aa&indicator=screenings&period=2024-01", "", "", "")
	var hist struct {
		Revisions []store.Revision `json:"revisions"`
	}
	if err := json.Unmarshal([]byte(body), &hist); err != nil || resp.StatusCode != 200 {
		t.Fatalf("history: %d %s", resp.StatusCode, body)
	}
	if len(hist.Revisions) != 2 {
		t.Fatalf("history %+v", hist.Revisions)
	}
	cur, old := hist.Revisions[0], hist.Revisions[1]
	if cur.Value != 12 || cur.Actor != "县妇联办公室" || cur.Source != "更正.csv" || !cur.At.Equal(f.clock) {
		t.Errorf("current %+v", cur)
	}
	if old.Value != 10 || old.Actor != "甲镇妇联" || old.Source != "一月.json" || old.SupersededBy != "县妇联办公室" || old.SupersededAt == nil || !old.SupersededAt.Equal(f.clock) {
		t.Errorf("old %+v", old)
	}
	// the audit trail lists both batches with their digests
	resp, body = f.do(t, "GET", "/api/v1/batches?limit=10", "", "", "")
	var bs struct {
		Batches []store.BatchInfo `json:"batches"`
	}
	if err := json.Unmarshal([]byte(body), &bs); err != nil || resp.StatusCode != 200 || len(bs.Batches) != 2 {
		t.Fatalf("batches: %d %s", resp.StatusCode, body)
	}
	if b := bs.Batches[0]; b.Actor != "县妇联办公室" || b.Source != "更正.csv" || len(b.SHA256) != 64 || b.New != 1 || b.Corrected != 1 {
		t.Errorf("latest batch %+v", b)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/batches?limit=0", "", "", ""); resp.StatusCode != 400 {
		t.Errorf("limit=0: %d", resp.StatusCode)
	}
}

func TestLockedMonthRefusesACorrectionOverHTTP(t *testing.T) {
	f := newAccessFixture(t)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.aa, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,10\n"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if _, _, err := f.db.LockPeriod(context.Background(), "test", kpi.MustPeriod("2024-01"), "县妇联办公室"); err != nil {
		t.Fatal(err)
	}
	v := f.mon.Version()
	resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", "township,indicator,period,value\naa,screenings,2024-02,5\naa,screenings,2024-01,11\n")
	if resp.StatusCode != 409 || !strings.Contains(body, "2024-01 已锁定") {
		t.Fatalf("correction of a locked month: %d %s", resp.StatusCode, body)
	}
	if f.mon.Version() != v {
		t.Error("a refused batch changed the data")
	}
	if h, _ := f.db.History(context.Background(), "test", "aa", "screenings", kpi.Period{}); len(h) != 1 || h[0].Value != 10 {
		t.Errorf("history after a refused correction: %+v", h)
	}
	resp, body = f.do(t, "GET", "/api/v1/locks", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"period":"2024-01"`) || !strings.Contains(body, `"locked_by":"县妇联办公室"`) {
		t.Errorf("locks: %d %s", resp.StatusCode, body)
	}
}

func TestViewerToken(t *testing.T) {
	f := newAccessFixture(t)
	f.srv.SetViewerToken("看板-2024")
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/rankings", "", 401},
		{"/api/v1/rankings", "wrong", 401},
		{"/api/v1/rankings", "看板-2024", 200},
		{"/api/v1/rankings", f.bb, 200},
		{"/api/v1/rankings", f.gone, 401},
		{"/rankings/bulletin.html", "", 303},
		{"/healthz", "", 200},
		{"/login", "", 200},
	} {
		resp, body := f.do(t, "GET", tc.path, tc.token, "", "")
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s with %q: %d, want %d (%s)", tc.path, tc.token, resp.StatusCode, tc.want, body)
		}
		if tc.want == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("redirected to %q", resp.Header.Get("Location"))
		}
	}
	// the viewer token reads but does not write
	if resp, _ := f.do(t, "POST", "/api/v1/observations", "看板-2024", "application/json", twoTownships); resp.StatusCode != 401 {
		t.Errorf("viewer writing: %d", resp.StatusCode)
	}
	f.assertNothingWritten(t)
}

func TestBulletinDownloads(t *testing.T) {
	f := newAccessFixture(t)
	f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,10\nbb,screenings,2024-02,3\n")
	resp, body := f.do(t, "GET", "/rankings/bulletin.xlsx?period=2024-02", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''%E6%9C%88%E5%BA%A6%E9%80%9A%E6%8A%A5-2024-02.xlsx") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="test-bulletin-2024-02.xlsx"`) {
		t.Fatalf("xlsx: %d %v", resp.StatusCode, resp.Header)
	}
	wb, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	rows, _ := wb.GetRows("综合排名")
	wb.Close()
	if len(rows) != 6 { // title, subtitle, blank, header, two townships
		t.Errorf("ranking sheet rows %q", rows)
	}
	resp, body = f.do(t, "GET", "/rankings/bulletin.html", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "2024年2月") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
		!strings.Contains(body, `href="/rankings/bulletin.xlsx?period=2024-02"`) {
		t.Errorf("html: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := f.do(t, "GET", "/rankings/bulletin.xlsx?period=2023-02", "", "", ""); resp.StatusCode != 400 {
		t.Errorf("another year: %d", resp.StatusCode)
	}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.send(req)
}

func (b *browser) postForm(path string, v url.Values, origin string) (*http.Response, string) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.send(req)
}

func (b *browser) upload(name, content, csrf string) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+"/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(req)
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	idRE   = regexp.MustCompile(`name="id" value="([0-9a-f]+)"`)
)

func find(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in\n%s", re, body)
	}
	return m[1]
}

func TestUploadPage(t *testing.T) {
	f := newAccessFixture(t)
	br := newBrowser(t, f.ts.URL)
	if resp, body := br.get("/upload"); resp.StatusCode != 401 || !strings.Contains(body, "输入填报令牌") {
		t.Fatalf("upload before login: %d", resp.StatusCode)
	}
	if resp, _ := br.postForm("/login", url.Values{"token": {"kpm_nope"}}, ""); resp.StatusCode != 401 {
		t.Errorf("bad login: %d", resp.StatusCode)
	}
	if resp, _ := br.postForm("/login", url.Values{"token": {f.aa}}, "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-site login: %d", resp.StatusCode)
	}
	resp, _ := br.postForm("/login", url.Values{"token": {f.aa}, "next": {"//evil.example/x"}}, "")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/upload" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{CookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	resp, body := br.get("/upload")
	if resp.StatusCode != 200 || !strings.Contains(body, "甲镇妇联") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("upload page: %d", resp.StatusCode)
	}
	csrf := find(t, csrfRE, body)

	// no CSRF value: refused before anything is read
	if resp, _ := br.upload("一月.csv", "township,indicator,period,value\naa,screenings,2024-01,10\n", ""); resp.StatusCode != 403 {
		t.Errorf("upload without csrf: %d", resp.StatusCode)
	}
	// errors are listed with their places
	resp, body = br.upload(`C:\Users\妇联\一月.csv`, "township,indicator,period,value\naa,screenings,2024-01,10\naa,nope,2024-01,1\n", csrf)
	if resp.StatusCode != 400 || !strings.Contains(body, "一月.csv:3") || !strings.Contains(body, "未知的指标“nope”") || strings.Contains(body, `name="id"`) {
		t.Errorf("invalid file: %d\n%s", resp.StatusCode, body)
	}
	// another township's figures: refused
	resp, body = br.upload("乙镇.csv", "township,indicator,period,value\nbb,screenings,2024-01,10\n", csrf)
	if resp.StatusCode != 403 || !strings.Contains(body, "无权填报“乙镇”") {
		t.Errorf("other township: %d", resp.StatusCode)
	}
	f.assertNothingWritten(t)

	// a valid file: a preview, nothing written yet
	resp, body = br.upload("一月.csv", "township,indicator,period,value,numerator,denominator\naa,screenings,2024-01,10,,\naa,closure,2024-01,,9,10\n", csrf)
	if resp.StatusCode != 200 || !strings.Contains(body, "新增 2") || !strings.Contains(body, "9/10") {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	f.assertNothingWritten(t)
	id := find(t, idRE, body)
	// a made-up id, a cross-site post and a post without CSRF are all refused
	if resp, _ := br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {strings.Repeat("0", 32)}}, ""); resp.StatusCode != 409 {
		t.Errorf("made-up id: %d", resp.StatusCode)
	}
	if resp, _ := br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {id}}, "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-site confirm: %d", resp.StatusCode)
	}
	if resp, _ := br.postForm("/upload/confirm", url.Values{"id": {id}}, ""); resp.StatusCode != 403 {
		t.Errorf("confirm without csrf: %d", resp.StatusCode)
	}
	// another township's staff cannot confirm this preview even with their own CSRF value
	other := newBrowser(t, f.ts.URL)
	other.postForm("/login", url.Values{"token": {f.bb}}, "")
	_, ob := other.get("/upload")
	if resp, _ := other.postForm("/upload/confirm", url.Values{"csrf": {find(t, csrfRE, ob)}, "id": {id}}, ""); resp.StatusCode != 409 {
		t.Errorf("someone else's preview: %d", resp.StatusCode)
	}
	f.assertNothingWritten(t)
	resp, body = br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {id}}, f.ts.URL)
	if resp.StatusCode != 200 || !strings.Contains(body, "新增 2 条") {
		t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
	}
	h, _ := f.db.History(context.Background(), "test", "aa", "closure", kpi.Period{})
	if len(h) != 1 || h[0].Actor != "甲镇妇联" || h[0].Source != "一月.csv" || h[0].Value != 9 {
		t.Errorf("history after upload: %+v", h)
	}
	// a preview is confirmed once
	if resp, _ := br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {id}}, ""); resp.StatusCode != 409 {
		t.Errorf("second confirm: %d", resp.StatusCode)
	}

	// a stale preview: the figure it corrects changes before the confirm
	resp, body = br.upload("更正.csv", "township,indicator,period,value\naa,screenings,2024-01,11\n", csrf)
	if resp.StatusCode != 200 || !strings.Contains(body, "更正 1") {
		t.Fatalf("correction preview: %d\n%s", resp.StatusCode, body)
	}
	stale := find(t, idRE, body)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,15\n"); resp.StatusCode != 200 {
		t.Fatalf("admin: %d %s", resp.StatusCode, body)
	}
	resp, body = br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {stale}}, "")
	if resp.StatusCode != 409 || !strings.Contains(body, "已被修改") || find(t, idRE, body) == stale {
		t.Errorf("stale confirm: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := f.mon.Dataset().Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01")}); got.Value != 15 {
		t.Errorf("a stale preview wrote %v", got.Value)
	}

	// a locked month: the preview says so and offers no confirm
	f.db.LockPeriod(context.Background(), "test", kpi.MustPeriod("2024-01"), "县妇联办公室")
	resp, body = br.upload("更正.csv", "township,indicator,period,value\naa,screenings,2024-01,16\n", csrf)
	if resp.StatusCode != 409 || !strings.Contains(body, "2024-01 已锁定") || strings.Contains(body, "确认写入") {
		t.Errorf("locked preview: %d\n%s", resp.StatusCode, body)
	}

	// the template download is the township's own form
	resp, body = br.get("/upload/template.xlsx?period=2024-03")
	if resp.StatusCode != 200 {
		t.Fatalf("template: %d %s", resp.StatusCode, body)
	}
	wb, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := wb.GetSheetList(); sheets[0] != "甲镇" || len(sheets) != 2 {
		t.Errorf("template sheets %v", sheets)
	}
	wb.Close()
	// named in UTF-8, and by the township's code for a browser that reads only filename=
	if cd, want := resp.Header.Get("Content-Disposition"), `attachment; filename="aa-2024-03.xlsx"; filename*=UTF-8''%E7%94%B2%E9%95%87-2024-03-%E6%9C%88%E6%8A%A5%E8%A1%A8.xlsx`; cd != want {
		t.Errorf("template's Content-Disposition\ngot  %s\nwant %s", cd, want)
	}

	// logging out clears the cookie
	resp, _ = br.postForm("/logout", url.Values{"csrf": {csrf}}, "")
	if resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	if resp, _ := br.get("/upload"); resp.StatusCode != 401 {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func TestPostXLSX(t *testing.T) {
	f := newAccessFixture(t)
	book := func(value any) string {
		wb := excelize.NewFile()
		defer wb.Close()
		for i, row := range [][]any{{"乡镇", "指标", "月份", "数值"}, {"甲镇", "两癌筛查人数", "2024-03", value}} {
			for j, v := range row {
				ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
				wb.SetCellValue("Sheet1", ref, v)
			}
		}
		var buf bytes.Buffer
		wb.Write(&buf)
		return buf.String()
	}
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	resp, body := f.do(t, "POST", "/api/v1/observations?source=三月", f.aa, xlsx, book("三十"))
	if resp.StatusCode != 400 || !strings.Contains(body, `"where":"三月.xlsx:Sheet1!D2"`) {
		t.Errorf("bad workbook: %d %s", resp.StatusCode, body)
	}
	f.assertNothingWritten(t)
	resp, body = f.do(t, "POST", "/api/v1/observations?source=三月", f.aa, xlsx, book(30))
	if resp.StatusCode != 200 || !strings.Contains(body, `"new":1`) {
		t.Errorf("workbook: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "POST", "/api/v1/observations?source=三月", f.bb, xlsx, book(31)); resp.StatusCode != 403 {
		t.Errorf("乙镇 sending 甲镇's workbook: %d %s", resp.StatusCode, body)
	}
}

func TestTokenOfATownshipThatLeftTheConfigWritesNothing(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	// the county merges 乙镇 away: the same database under a config without bb
	smaller, err := kpi.ParseConfig("test.yaml", []byte(strings.Replace(testConfig, "  - {code: bb, name: 乙镇}\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(ctx, smaller, f.db, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(mon, nil))
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/observations", strings.NewReader(`[{"township":"aa","indicator":"screenings","period":"2024-01","value":1}]`))
	req.Header.Set("Authorization", "Bearer "+f.bb)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token of a township no longer assessed: %d, want 401", resp.StatusCode)
	}
}

func TestBulletinIsWrittenOncePerEvaluation(t *testing.T) {
	f := newAccessFixture(t)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "application/json",
		`[{"township":"aa","indicator":"screenings","period":"2024-03","value":5}]`); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	_, first := f.do(t, "GET", "/rankings/bulletin.html?period=2024-03", "", "", "")
	f.clock = f.clock.Add(10 * time.Minute) // the same evaluation: the same bulletin, 生成于 unchanged
	_, again := f.do(t, "GET", "/rankings/bulletin.html?period=2024-03", "", "", "")
	if first != again || !strings.Contains(first, "生成于 2024年4月3日 17:00") {
		t.Errorf("the bulletin was written again for the same evaluation (or its time is wrong)")
	}
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "application/json",
		`[{"township":"aa","indicator":"screenings","period":"2024-03","value":6}]`); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	if _, after := f.do(t, "GET", "/rankings/bulletin.html?period=2024-03", "", "", ""); after == first {
		t.Error("a correction did not produce a new bulletin")
	}
}
