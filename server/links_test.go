package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
)

// makeLink makes a login link for the township on the fixture's server.
func (f *accessFixture) makeLink(t *testing.T, township string, ttl time.Duration) LoginLink {
	t.Helper()
	ls, err := MakeLoginLinks(context.Background(), f.db, f.mon.Assessment(), []string{township}, f.ts.URL, f.clock, ttl, "测试")
	if err != nil {
		t.Fatal(err)
	}
	return ls[0]
}

// openLink opens a login link as a phone does: the page, then its button.
func openLink(t *testing.T, br *browser, l LoginLink) (*http.Response, string) {
	t.Helper()
	u, _ := url.Parse(l.URL)
	resp, body := br.get(u.Path)
	if resp.StatusCode != 200 || !strings.Contains(body, "进入我的填报") {
		t.Fatalf("the link's page: %d\n%s", resp.StatusCode, body)
	}
	secret := find(t, regexp.MustCompile(`name="secret" value="([^"]+)"`), body)
	return br.postForm("/login/link", url.Values{"secret": {secret}}, "")
}

func TestLoginLinkLogsInOnce(t *testing.T) {
	f := newAccessFixture(t)
	l := f.makeLink(t, "甲镇", DefaultLinkTTL)
	if !strings.HasPrefix(l.URL, f.ts.URL+"/login/link/kpl_") || !l.Created || l.Token.Name != "甲镇妇联（登录链接）" || l.Token.Township != "aa" {
		t.Fatalf("link %+v", l)
	}
	br := newBrowser(t, f.ts.URL)
	// fetching the link (as a chat app drawing its preview does) spends nothing and logs nobody in
	u, _ := url.Parse(l.URL)
	for range 2 {
		resp, _ := br.get(u.Path)
		if resp.StatusCode != 200 || len(resp.Cookies()) != 0 {
			t.Fatalf("GET of the link: %d, cookies %v", resp.StatusCode, resp.Cookies())
		}
	}
	resp, _ := openLink(t, br, l)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/my" {
		t.Fatalf("the link's button: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := br.get("/my")
	if resp.StatusCode != 200 || !strings.Contains(body, "甲镇 · 我的填报") || !strings.Contains(text(body), "已登录： 甲镇妇联 退出") {
		t.Fatalf("/my after the link: %d\n%s", resp.StatusCode, body)
	}
	// once only
	other := newBrowser(t, f.ts.URL)
	resp, body = openLink(t, other, l)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "已经用过") || !strings.Contains(body, "请向县妇联索取新的登录链接") {
		t.Errorf("the link a second time: %d\n%s", resp.StatusCode, body)
	}
	// a second link reuses the township's link token
	l2 := f.makeLink(t, "aa", DefaultLinkTTL)
	if l2.Created || l2.Token.ID != l.Token.ID || l2.URL == l.URL {
		t.Errorf("second link %+v, want a new link on the same token", l2)
	}
}

func TestLoginLinksRefused(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration
		before func(f *accessFixture, l LoginLink)
		want   string
	}{
		{"expired", time.Hour, func(f *accessFixture, l LoginLink) { f.clock = f.clock.Add(2 * time.Hour) }, "已经过期"},
		{"revoked", DefaultLinkTTL, func(f *accessFixture, l LoginLink) {
			if n, err := RevokeLoginLinks(context.Background(), f.db, f.mon.Assessment(), "aa"); err != nil || n != 1 {
				panic(err)
			}
		}, "无效或已被撤销"},
		{"its token revoked", DefaultLinkTTL, func(f *accessFixture, l LoginLink) {
			if _, err := f.db.RevokeToken(context.Background(), l.Token.ID); err != nil {
				panic(err)
			}
		}, "无效或已被撤销"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccessFixture(t)
			l := f.makeLink(t, "aa", tc.ttl)
			tc.before(f, l)
			resp, body := openLink(t, newBrowser(t, f.ts.URL), l)
			if resp.StatusCode != http.StatusGone || !strings.Contains(body, tc.want) || !strings.Contains(body, "请向县妇联索取新的登录链接") {
				t.Errorf("%d, want 410 saying %q and what to do\n%s", resp.StatusCode, tc.want, body)
			}
			for _, c := range resp.Cookies() {
				if c.Name == CookieName && c.MaxAge > 0 {
					t.Error("a refused link set a login cookie")
				}
			}
		})
	}
}

func TestRevokingLinksEndsTheirSessions(t *testing.T) {
	f := newAccessFixture(t)
	phone := newBrowser(t, f.ts.URL)
	openLink(t, phone, f.makeLink(t, "aa", DefaultLinkTTL))
	if resp, _ := phone.get("/my"); resp.StatusCode != 200 {
		t.Fatalf("/my: %d", resp.StatusCode)
	}
	// the township's own API token, typed on /login, is not a link token: its session stays
	desk := newBrowser(t, f.ts.URL)
	sessionCookie(t, desk, f.aa)

	admin := newBrowser(t, f.ts.URL)
	sessionCookie(t, admin, f.admin)
	_, page := admin.get("/admin/links")
	resp, body := admin.postForm("/admin/links/revoke", url.Values{"csrf": {find(t, csrfRE, page)}, "township": {"aa"}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "已撤销甲镇的登录链接") {
		t.Fatalf("revoke: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := phone.get("/my"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the phone logged in by a revoked link: %d, want 401", resp.StatusCode)
	}
	if resp, _ := desk.get("/my"); resp.StatusCode != 200 {
		t.Errorf("the session of the township's API token: %d, want 200", resp.StatusCode)
	}
	// a new link works again, on a new link token
	l := f.makeLink(t, "aa", DefaultLinkTTL)
	if !l.Created {
		t.Error("the revoked link token was reused")
	}
	if resp, _ := openLink(t, newBrowser(t, f.ts.URL), l); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a new link after the revocation: %d", resp.StatusCode)
	}
}

func TestAdminLinkSheet(t *testing.T) {
	f := newAccessFixture(t)
	town := newBrowser(t, f.ts.URL)
	sessionCookie(t, town, f.aa)
	if resp, body := town.get("/admin/links"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "只有县妇联管理员") {
		t.Errorf("a township on /admin/links: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, f.ts.URL).get("/admin/links"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("nobody on /admin/links: %d", resp.StatusCode)
	}
	admin := newBrowser(t, f.ts.URL)
	sessionCookie(t, admin, f.admin)
	if _, up := admin.get("/upload"); !strings.Contains(up, `href="/admin/links"`) {
		t.Error("the admin's upload page does not lead to the login links")
	}
	if _, up := town.get("/upload"); strings.Contains(up, `href="/admin/links"`) {
		t.Error("a township's upload page leads to the login links")
	}
	resp, page := admin.get("/admin/links")
	if resp.StatusCode != 200 || !strings.Contains(page, "生成全部 2 个乡镇的登录链接") {
		t.Fatalf("/admin/links: %d\n%s", resp.StatusCode, page)
	}
	csrf := find(t, csrfRE, page)
	if resp, _ := admin.postForm("/admin/links", url.Values{"days": {"7"}}, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("making links without the CSRF value: %d", resp.StatusCode)
	}
	resp, sheet := admin.postForm("/admin/links", url.Values{"csrf": {csrf}, "days": {"7"}}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("make links: %d\n%s", resp.StatusCode, sheet)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data:") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q: want images from data: and no script at all", csp)
	}
	if strings.Contains(sheet, "<script") {
		t.Error("the sheet has a script")
	}
	for _, want := range []string{"甲镇", "乙镇", "有效期至 <strong>2024年4月10日 17:00（北京时间）</strong>", "生成于 2024年4月3日 17:00（北京时间）。", "@page { size: A4"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the sheet lacks %q", want)
		}
	}
	// attribute values are HTML-escaped (+ as &#43;), as a browser reads them
	imgs := regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(html.UnescapeString(sheet), -1)
	links := regexp.MustCompile(`>(http://127\.0\.0\.1:\d+/login/link/kpl_[0-9a-f]+)<`).FindAllStringSubmatch(sheet, -1)
	if len(imgs) != 2 || len(links) != 2 {
		t.Fatalf("%d QR codes and %d links on the sheet, want 2 each", len(imgs), len(links))
	}
	for _, m := range imgs {
		data, err := decodeBase64(m[1])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != 384 {
			t.Errorf("QR code: %v %v", err, img)
		}
	}
	// each link logs its own township in
	for i, want := range []string{"甲镇 · 我的填报", "乙镇 · 我的填报"} {
		u, _ := url.Parse(links[i][1])
		phone := newBrowser(t, f.ts.URL)
		openLink(t, phone, LoginLink{URL: f.ts.URL + u.Path})
		if _, body := phone.get("/my"); !strings.Contains(body, want) {
			t.Errorf("link %d did not land on %s", i, want)
		}
	}
	toks, _ := f.db.Tokens(context.Background(), "test")
	n := 0
	for _, tok := range toks {
		if strings.HasSuffix(tok.Name, "（登录链接）") && tok.RevokedAt == nil && tok.CreatedBy == "县妇联办公室" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d link tokens made by the admin, want one per township", n)
	}
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// A login link the store refuses to make is said in Chinese with the township (kpimon token
// link prints it as it is). The store fails for real: a trigger on the SQLite file, as
// another program might have left, aborts the insert.
func TestLoginLinkFailuresSayWhichTownship(t *testing.T) {
	for _, tc := range []struct {
		name, table, want string
	}{
		{"the link token", "tokens", "为甲镇创建登录链接令牌失败："},
		{"the link", "login_links", "为甲镇生成登录链接失败："},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, err := kpi.ParseConfig("test.yaml", []byte(testConfig))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "t.db")
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			other, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if _, err := other.ExecContext(ctx, "CREATE TRIGGER refuse BEFORE INSERT ON "+tc.table+" BEGIN SELECT RAISE(ABORT, 'refused'); END"); err != nil {
				t.Fatal(err)
			}
			_, err = MakeLoginLinks(ctx, db, a, []string{"aa"}, "https://kpimon.example.cn", time.Date(2024, 4, 3, 9, 0, 0, 0, time.UTC), time.Hour, "测试")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("MakeLoginLinks = %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

// TestRefusalsNameTheOffice: a page that sends its reader to the office names the
// federation that runs the assessment by its level (区妇联 for a district's), not a
// generic 县（区）妇联.
func TestRefusalsNameTheOffice(t *testing.T) {
	a, err := kpi.ParseConfig("test.yaml", []byte("level: district\n"+testConfig))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mon, err := monitor.New(context.Background(), a, db, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(mon, nil))
	t.Cleanup(ts.Close)
	status, body := getBody(t, ts.URL+"/login/link/not-a-link")
	if status != http.StatusNotFound || !strings.Contains(body, "请向区妇联索取新的登录链接") || strings.Contains(body, "县（区）") || strings.Contains(body, "县妇联") {
		t.Errorf("a bad link under a district's assessment: %d\n%s", status, body)
	}
}
