package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var addrRE = regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)

// startDemo runs `kpimon demo` on a free port and returns its base URL; the server stops
// when the test ends.
func startDemo(t *testing.T) string {
	t.Helper()
	base, _ := startDemoWith(t)
	return base
}

// startDemoWith is startDemo with more flags (--db FILE), returning what the demo printed
// too.
func startDemoWith(t *testing.T, flags ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--log-level", "warn"}, flags...), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo exited with %v; stderr:\n%s", err, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("demo did not shut down within 15 s")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			return "http://" + m[1], &out
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited early: %v\nstderr:\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("demo printed no address within 30 s; stdout %q stderr %q", out.String(), errOut.String())
	return "", nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoServesTheAPI(t *testing.T) {
	base := startDemo(t)
	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	code, body := get(t, base+"/api/v1/rankings?assessment=qingcheng-2025")
	if code != 200 {
		t.Fatalf("/api/v1/rankings: %d %s", code, body)
	}
	var rk struct {
		Period   string `json:"period"`
		Rankings []struct {
			Township string  `json:"township"`
			Score    float64 `json:"score"`
			Grade    string  `json:"grade"`
		} `json:"rankings"`
	}
	if err := json.Unmarshal([]byte(body), &rk); err != nil {
		t.Fatal(err)
	}
	if rk.Period != "2025-12" || len(rk.Rankings) != 8 {
		t.Errorf("demo ranking: period %s, %d townships; want 2025-12 and 8", rk.Period, len(rk.Rankings))
	}
	code, body = get(t, base+"/api/v1/alerts?assessment=qingcheng-2025&period=2025-12")
	if code != 200 || !strings.Contains(body, `"missing_report"`) || !strings.Contains(body, `"feilaixia"`) {
		t.Errorf("demo alerts lack 飞来峡镇's missing December report: %d", code)
	}
	if code, _ := get(t, base+"/api/v1/evaluations?assessment=qingcheng-2025&period=2025-06"); code != 200 {
		t.Errorf("evaluations for June: %d", code)
	}
	if code, body := get(t, base+"/api/v1/evaluations?assessment=qingcheng-2025&period=2024-06"); code != 400 || !strings.Contains(body, "不在考核年度") {
		t.Errorf("a period outside the year: %d %s", code, body)
	}
	// every assessment of the deployment, listed and served under its id
	code, body = get(t, base+"/api/v1/assessments")
	var list struct {
		Assessments []struct {
			ID       string   `json:"id"`
			Year     int      `json:"year"`
			Months   []string `json:"months"`
			LastYear string   `json:"last_year"`
		} `json:"assessments"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 {
		t.Fatalf("/api/v1/assessments: %d %v", code, err)
	}
	ids := map[string]bool{}
	for _, x := range list.Assessments {
		ids[x.ID] = true
		if code, page := get(t, base+"/"+x.ID+"/"); code != 200 || !strings.Contains(page, "/"+x.ID+"/rankings?period=") {
			t.Errorf("/%s/: %d, or its links are not under /%s/", x.ID, code, x.ID)
		}
		if x.ID == "qingcheng-2025" && (len(x.Months) != 12 || x.Year != 2025) {
			t.Errorf("qingcheng-2025 listed with months %v", x.Months)
		}
		if x.ID == "qingcheng-2026" && x.LastYear != "qingcheng-2025" {
			t.Errorf("qingcheng-2026's last year = %q", x.LastYear)
		}
	}
	// / goes to this year's assessment: the city over its counties
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/qingyuan-2026/" {
		t.Errorf("/ went to %s, want the city's /qingyuan-2026/", resp.Request.URL.Path)
	}
	// the old address of a page goes to the default's
	if resp, err := http.Get(base + "/rankings"); err != nil || resp.Request.URL.Path != "/qingyuan-2026/rankings" {
		t.Errorf("/rankings went to %v (%v)", resp.Request.URL, err)
	} else {
		resp.Body.Close()
	}
	for _, id := range []string{"qingcheng-2025", "qingcheng-2026", "fogang-2026", "qingxin-2026", "qingyuan-2026"} {
		if !ids[id] {
			t.Errorf("/api/v1/assessments lacks %s", id)
		}
	}
}

func TestDemoPrintsTokensThatWrite(t *testing.T) {
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--log-level", "warn"}, &out, &errOut)
	}()
	defer func() { cancel(); <-done }()
	tokenRE := regexp.MustCompile(`飞来峡镇妇联（[a-z0-9-]+，也可更正上一年度的数据）：(\S+)`)
	var base, token string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && token == ""; time.Sleep(20 * time.Millisecond) {
		if m := tokenRE.FindStringSubmatch(out.String()); m != nil {
			token, base = m[1], "http://"+addrRE.FindStringSubmatch(out.String())[1]
		}
	}
	if token == "" {
		t.Fatalf("no township token printed: %q", out.String())
	}
	post := func(body string) int {
		// no ?assessment=: a batch of 2025 goes to the only assessment of 2025 (the 2026
		// township token carries over to its county's 2025), one of 2026 to the token's
		req, _ := http.NewRequest("POST", base+"/api/v1/observations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`[{"township":"feilaixia","indicator":"wechat_posts","period":"2025-12","value":5}]`); code != 200 {
		t.Errorf("the township token writing its own figures: %d", code)
	}
	if code := post(`[{"township":"dongcheng","indicator":"wechat_posts","period":"2025-12","value":5}]`); code != 403 {
		t.Errorf("the township token writing another township's figures: %d, want 403", code)
	}
	if code := post(`[{"township":"feilaixia","indicator":"wechat_posts","period":"2026-10","value":4}]`); code != 200 {
		t.Errorf("the township token writing its 2026 figures: %d", code)
	}
}
