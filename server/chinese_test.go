package server

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// englishRE finds the English status texts and messages net/http writes by itself.
var englishRE = regexp.MustCompile(`(?i)not found|method not allowed|bad request|see other|moved permanently|internal server error|unauthorized|forbidden|too large|invalid csrf|timeout`)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestEveryMessageIsChinese(t *testing.T) {
	f, srv, ts := servedFixture(t, Options{})
	br := newBrowser(t, ts.URL)
	sessionCookie(t, br, f.aa)
	viewerOnly := func() { srv.SetViewerToken("看板-2024") }
	tests := []struct {
		name, method, path, contentType, body string
		token                                 string
		browser                               bool   // with 甲镇's login session
		before                                func() // e.g. set the viewer token
		want                                  int
	}{
		{name: "unknown page", method: "GET", path: "/nothing", want: 404},
		{name: "unknown API", method: "GET", path: "/api/v1/nothing", want: 404},
		{name: "unknown asset", method: "GET", path: "/assets/nothing.js", want: 404},
		{name: "page, wrong method", method: "DELETE", path: "/rankings", want: 405},
		{name: "API, wrong method", method: "PUT", path: "/api/v1/observations", want: 405},
		{name: "page, bad month", method: "GET", path: "/?period=2024-13", want: 400},
		{name: "API, bad month", method: "GET", path: "/api/v1/rankings?period=June", want: 400},
		{name: "API write without a token", method: "POST", path: "/api/v1/observations", body: "[]", want: 401},
		{name: "API body too large", method: "POST", path: "/api/v1/observations", token: f.aa, contentType: "text/csv", body: strings.Repeat("x", MaxUploadBytes+1), want: 413},
		{name: "API bad batch", method: "POST", path: "/api/v1/observations", token: f.aa, contentType: "text/csv", body: "a,b\n1,2\n", want: 400},
		{name: "API other township", method: "POST", path: "/api/v1/observations", token: f.aa, body: twoTownships, want: 403},
		{name: "upload without login", method: "GET", path: "/upload", want: 401},
		{name: "upload without CSRF", method: "POST", path: "/upload", contentType: "multipart/form-data; boundary=b", body: "--b--\r\n", browser: true, want: 403},
		{name: "logout without CSRF", method: "POST", path: "/logout", contentType: "application/x-www-form-urlencoded", browser: true, want: 403},
		{name: "login with a bad token", method: "POST", path: "/login", contentType: "application/x-www-form-urlencoded", body: "token=kpm_x", want: 401},
		{name: "unclean path", method: "GET", path: "/api//v1/rankings", want: 301},
		{name: "history of an unknown township", method: "GET", path: "/api/v1/history?township=zz&indicator=screenings", want: 404},
		{name: "viewer token needed", method: "GET", path: "/rankings", before: viewerOnly, want: 303},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if tc.browser {
				client.Jar = br.c.Jar
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			if !hasHan(body) {
				t.Errorf("the answer has no Chinese: %q", body)
			}
			// the English words that remain must not be messages (a page's code, CSS or the
			// JSON keys are not read); look at the text with tags and keys removed
			text := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>|"[a-z_]+":`).ReplaceAllString(body, " ")
			if m := englishRE.FindString(text); m != "" {
				t.Errorf("the answer says %q in English:\n%s", m, text)
			}
		})
	}
}
