package server

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// TestBusyDatabaseIs503 reproduces the trial: a long `kpimon ingest` holds the SQLite write
// lock (here another connection's batch, begun and not committed) while writes arrive on
// every path. Each waits for the busy timeout (10 s), then is refused with 503 and
// Retry-After, with nothing written; none is a 500.
func TestBusyDatabaseIs503(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the busy timeout")
	}
	f := newAccessFixture(t)
	ctx := context.Background()

	// before the lock: sessions, and a preview to confirm
	uploader, confirmer, leaver := newBrowser(t, f.ts.URL), newBrowser(t, f.ts.URL), newBrowser(t, f.ts.URL)
	for _, br := range []*browser{uploader, confirmer, leaver} {
		sessionCookie(t, br, f.aa)
	}
	csrfOf := func(br *browser) string { _, body := br.get("/upload"); return find(t, csrfRE, body) }
	upCSRF, confCSRF, leaveCSRF := csrfOf(uploader), csrfOf(confirmer), csrfOf(leaver)
	_, body := confirmer.upload("一月.csv", "township,indicator,period,value\naa,screenings,2024-01,10\n", confCSRF)
	id := find(t, idRE, body)

	other, err := sqlite.Open(ctx, f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	long, err := other.NewWriter(ctx, f.mon.Assessment(), store.BatchMeta{Actor: "kpimon ingest", Source: "大文件.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer long.Abort()

	multipartBody := func() (string, io.Reader) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", upCSRF)
		fw, _ := mw.CreateFormFile("file", "二月.csv")
		fw.Write([]byte("township,indicator,period,value\naa,screenings,2024-02,5\n"))
		mw.Close()
		return mw.FormDataContentType(), &buf
	}
	form := func(v url.Values) (string, io.Reader) {
		return "application/x-www-form-urlencoded", strings.NewReader(v.Encode())
	}
	tests := []struct {
		name string
		br   *browser
		path string
		auth string
		body func() (string, io.Reader)
	}{
		{"API POST", nil, "/api/v1/observations", f.aa, func() (string, io.Reader) {
			return "text/csv", strings.NewReader("township,indicator,period,value\naa,screenings,2024-03,7\n")
		}},
		{"upload preview", uploader, "/upload", "", multipartBody},
		{"upload confirm", confirmer, "/upload/confirm", "", func() (string, io.Reader) {
			return form(url.Values{"csrf": {confCSRF}, "id": {id}})
		}},
		{"login", newBrowser(t, f.ts.URL), "/login", "", func() (string, io.Reader) { return form(url.Values{"token": {f.bb}}) }},
		{"logout", leaver, "/logout", "", func() (string, io.Reader) { return form(url.Values{"csrf": {leaveCSRF}}) }},
	}
	type answer struct {
		status     int
		retryAfter string
		body       string
		cookies    []*http.Cookie
	}
	answers := make([]answer, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		wg.Go(func() {
			ct, body := tc.body()
			req, _ := http.NewRequest("POST", f.ts.URL+tc.path, body)
			req.Header.Set("Content-Type", ct)
			if tc.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tc.auth)
			}
			client := &http.Client{Timeout: 30 * time.Second} // the busy timeout is 10 s
			if tc.br != nil {
				client = &http.Client{Timeout: 30 * time.Second, Jar: tc.br.c.Jar, CheckRedirect: tc.br.c.CheckRedirect}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] = answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b), resp.Cookies()}
		})
	}
	wg.Wait()
	for i, tc := range tests {
		a := answers[i]
		if a.status != http.StatusServiceUnavailable || a.retryAfter == "" {
			t.Errorf("%s while the database is busy: %d, Retry-After %q, want 503 with Retry-After\n%s", tc.name, a.status, a.retryAfter, a.body)
		}
		want := busyMessage
		if tc.auth != "" {
			want = "数据库暂时繁忙或不可用，本次请求未写入任何数据，请稍后重试"
		}
		if !strings.Contains(a.body, want) || strings.Contains(a.body, "SQLITE") || strings.Contains(a.body, "database is locked") {
			t.Errorf("%s: the answer is not a Chinese message without internals: %s", tc.name, a.body)
		}
		for _, c := range a.cookies {
			if c.Name == CookieName && c.MaxAge > 0 {
				t.Errorf("%s set a login cookie though no session was stored", tc.name)
			}
		}
	}
	long.Abort()
	f.assertNothingWritten(t)
	// the database free again, the same preview confirms: the refused confirm did not spend it
	resp, body := confirmer.postForm("/upload/confirm", url.Values{"csrf": {confCSRF}, "id": {id}}, "")
	if resp.StatusCode != 200 {
		t.Errorf("confirm after the lock: %d\n%s", resp.StatusCode, body)
	}
	// and the session whose logout was refused is still there
	if resp, _ := leaver.get("/upload"); resp.StatusCode != 200 {
		t.Errorf("the session after a refused logout: %d", resp.StatusCode)
	}
}
