package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/store"
)

// sessionCookie logs in with the token and returns the login cookie the server set.
func sessionCookie(t *testing.T, br *browser, token string) *http.Cookie {
	t.Helper()
	resp, _ := br.postForm("/login", url.Values{"token": {token}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == CookieName && c.MaxAge > 0 {
			return c
		}
	}
	t.Fatalf("login set no %s cookie: %v", CookieName, resp.Header["Set-Cookie"])
	return nil
}

// withCookie requests path with only this cookie.
func withCookie(t *testing.T, f *accessFixture, path string, c *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+path, nil)
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestLoginCookieHoldsASessionNotTheToken(t *testing.T) {
	f := newAccessFixture(t)
	br := newBrowser(t, f.ts.URL)
	c := sessionCookie(t, br, f.aa)
	if c.Value == f.aa || strings.Contains(c.Value, f.aa[len(store.TokenPrefix):]) || strings.HasPrefix(c.Value, store.TokenPrefix) {
		t.Errorf("the cookie holds the token: %q", c.Value)
	}
	if c.MaxAge != int(DefaultSessionTTL/time.Second) || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Max-Age of 7 days", c)
	}
	if _, err := f.db.LookupSession(context.Background(), c.Value, f.clock); err != nil {
		t.Errorf("the cookie is not a session of the store: %v", err)
	}
	// the session is the token's: a page shows who is logged in
	resp, body := br.get("/upload")
	if resp.StatusCode != 200 || !strings.Contains(body, "甲镇妇联") {
		t.Errorf("upload page with the session: %d", resp.StatusCode)
	}
	// the CSRF value comes from the session: another session of the same token has another
	other := newBrowser(t, f.ts.URL)
	sessionCookie(t, other, f.aa)
	_, ob := other.get("/upload")
	if find(t, csrfRE, ob) == find(t, csrfRE, body) {
		t.Error("two sessions of one token share a CSRF value")
	}
	if resp, _ := other.upload("一月.csv", "township,indicator,period,value\naa,screenings,2024-01,10\n", find(t, csrfRE, body)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an upload with another session's CSRF value: %d, want 403", resp.StatusCode)
	}
}

func TestSessionsEnd(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, f *accessFixture, br *browser, c *http.Cookie)
	}{
		{"logged out", func(t *testing.T, f *accessFixture, br *browser, c *http.Cookie) {
			_, body := br.get("/upload")
			resp, _ := br.postForm("/logout", url.Values{"csrf": {find(t, csrfRE, body)}}, "")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", resp.StatusCode)
			}
		}},
		{"expired", func(t *testing.T, f *accessFixture, br *browser, c *http.Cookie) {
			f.clock = f.clock.Add(DefaultSessionTTL + time.Minute)
		}},
		{"token revoked", func(t *testing.T, f *accessFixture, br *browser, c *http.Cookie) {
			sess, err := f.db.LookupSession(context.Background(), c.Value, f.clock)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.RevokeToken(context.Background(), sess.Token.ID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccessFixture(t)
			br := newBrowser(t, f.ts.URL)
			c := sessionCookie(t, br, f.aa)
			if got := withCookie(t, f, "/upload", c); got != 200 {
				t.Fatalf("with the session: %d", got)
			}
			tc.end(t, f, br, c)
			// the old cookie, sent again as it was, is refused
			if got := withCookie(t, f, "/upload", c); got != http.StatusUnauthorized {
				t.Errorf("with the old cookie: %d, want 401", got)
			}
			if _, err := f.db.LookupSession(context.Background(), c.Value, f.clock); err == nil {
				t.Error("the store still has the session")
			}
		})
	}
}

func TestSessionTTLOption(t *testing.T) {
	f := newAccessFixture(t)
	srv := NewWithOptions(f.mon, Options{SessionTTL: time.Hour})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	br := newBrowser(t, ts.URL)
	c := sessionCookie(t, br, f.aa)
	if c.MaxAge != 3600 {
		t.Errorf("Max-Age %d, want 3600", c.MaxAge)
	}
	sess, err := f.db.LookupSession(context.Background(), c.Value, f.clock)
	if err != nil || !sess.ExpiresAt.Equal(f.clock.Add(time.Hour)) {
		t.Errorf("session %+v %v, want it to end in an hour", sess, err)
	}
}

func TestViewerCookieHoldsNoToken(t *testing.T) {
	f := newAccessFixture(t)
	f.srv.SetViewerToken("看板-2024")
	br := newBrowser(t, f.ts.URL)
	resp, _ := br.postForm("/login", url.Values{"token": {"看板-2024"}, "next": {"/rankings/bulletin.html"}}, "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/rankings/bulletin.html" {
		t.Fatalf("viewer login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var vc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == viewerCookie && c.MaxAge > 0 {
			vc = c
		}
	}
	if vc == nil || strings.Contains(vc.Value, "看板") || strings.Contains(vc.Value, url.QueryEscape("看板")) {
		t.Fatalf("viewer cookie %+v", vc)
	}
	if resp, _ := br.get("/api/v1/rankings"); resp.StatusCode != 200 {
		t.Errorf("reading with the viewer cookie: %d", resp.StatusCode)
	}
	if resp, _ := br.get("/upload"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the viewer on the upload page: %d, want 401", resp.StatusCode)
	}
	// a forged or expired viewer cookie reads nothing
	for name, v := range map[string]string{
		"forged":  "99999999999.0000",
		"expired": f.srv.viewerCookieValue(f.clock.Add(-time.Minute)),
	} {
		req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/rankings", nil)
		req.AddCookie(&http.Cookie{Name: viewerCookie, Value: v})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s viewer cookie: %d, want 401", name, resp.StatusCode)
		}
	}
	// a new viewer token makes the old cookie worthless
	f.srv.SetViewerToken("看板-2025")
	if resp, _ := br.get("/api/v1/rankings"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old viewer's cookie after the viewer token changed: %d", resp.StatusCode)
	}
}

func TestPreviewOnOneServerConfirmsOnAnother(t *testing.T) {
	f := newAccessFixture(t)
	// server B: another process on the same database file
	monB, err := monitor.New(context.Background(), f.mon.Assessment(), f.db, monitor.Options{Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	tsB := httptest.NewServer(New(monB, nil))
	defer tsB.Close()

	a := newBrowser(t, f.ts.URL)
	cookie := sessionCookie(t, a, f.aa)
	_, page := a.get("/upload")
	resp, body := a.upload("一月.csv", "township,indicator,period,value\naa,screenings,2024-01,10\n", find(t, csrfRE, page))
	if resp.StatusCode != 200 {
		t.Fatalf("preview on A: %d\n%s", resp.StatusCode, body)
	}
	id := find(t, idRE, body)

	// the same browser session, now routed to B
	b := newBrowser(t, tsB.URL)
	u, _ := url.Parse(tsB.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{cookie})
	resp, body = b.postForm("/upload/confirm", url.Values{"csrf": {find(t, csrfRE, page)}, "id": {id}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "新增 1 条") {
		t.Fatalf("confirm on B: %d\n%s", resp.StatusCode, body)
	}
	h, _ := f.db.History(context.Background(), "test", "aa", "screenings", kpi.Period{})
	if len(h) != 1 || h[0].Source != "一月.csv" || h[0].Actor != "甲镇妇联" {
		t.Errorf("history %+v: want the file's name and the token's name", h)
	}
	bs, _ := f.db.Batches(context.Background(), "test", 1)
	if len(bs) != 1 || len(bs[0].SHA256) != 64 {
		t.Errorf("batch %+v", bs)
	}
	// confirmed once, on either server
	for _, br := range []*browser{a, b} {
		if resp, _ := br.postForm("/upload/confirm", url.Values{"csrf": {find(t, csrfRE, page)}, "id": {id}}, ""); resp.StatusCode != http.StatusConflict {
			t.Errorf("second confirm: %d", resp.StatusCode)
		}
	}
}

func TestPreviewExpires(t *testing.T) {
	f := newAccessFixture(t)
	br := newBrowser(t, f.ts.URL)
	sessionCookie(t, br, f.aa)
	_, page := br.get("/upload")
	csrf := find(t, csrfRE, page)
	_, body := br.upload("一月.csv", "township,indicator,period,value\naa,screenings,2024-01,10\n", csrf)
	id := find(t, idRE, body)
	f.clock = f.clock.Add(pendingTTL + time.Second)
	resp, body := br.postForm("/upload/confirm", url.Values{"csrf": {csrf}, "id": {id}}, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "预览已过期或无效") {
		t.Errorf("a confirm after %v: %d", pendingTTL, resp.StatusCode)
	}
	f.assertNothingWritten(t)
}
