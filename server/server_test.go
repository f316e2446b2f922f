package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

const testConfig = `name: 测试县
year: 2024
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 120}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
`

func newTestServer(t *testing.T) (*httptest.Server, *monitor.Monitor) {
	t.Helper()
	a, err := kpi.ParseConfig("test.yaml", []byte(testConfig))
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
	// writes need a token (auth.go): these tests act as an admin client that always sends one
	_, secret, err := db.AddToken(context.Background(), store.NewToken{Assessment: "test", Name: "测试管理员", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(mon, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+secret)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, mon
}

func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPostObservationsAndReadBack(t *testing.T) {
	ts, _ := newTestServer(t)
	code, body := post(t, ts.URL+"/api/v1/observations", "application/json",
		`[{"township":"aa","indicator":"screenings","period":"2024-01","value":10},
		  {"township":"乙镇","indicator":"信访办结率","period":"2024-01","numerator":9,"denominator":10}]`)
	if code != 200 {
		t.Fatalf("POST: %d %s", code, body)
	}
	var res ingestResponse
	json.Unmarshal([]byte(body), &res)
	if res.New != 2 || res.BatchID == 0 {
		t.Errorf("POST answered %+v", res)
	}
	code, body = post(t, ts.URL+"/api/v1/observations?source=二月.csv", "text/csv; charset=utf-8",
		"township,indicator,period,value\naa,screenings,2024-02,30\naa,screenings,2024-01,12\n")
	if code != 200 || !strings.Contains(body, `"corrected":1`) {
		t.Fatalf("POST CSV: %d %s", code, body)
	}
	code, body = getBody(t, ts.URL+"/api/v1/evaluations")
	if code != 200 {
		t.Fatalf("GET evaluations: %d", code)
	}
	var ev struct {
		Period      string           `json:"period"`
		Evaluations []map[string]any `json:"evaluations"`
	}
	json.Unmarshal([]byte(body), &ev)
	if ev.Period != "2024-02" {
		t.Errorf("default period %s, want the latest with reports, 2024-02", ev.Period)
	}
	if a := ev.Evaluations[0]; a["township"] != "aa" || a["actual"] != 42.0 {
		t.Errorf("aa/screenings = %v, want actual 42 (corrected 12 + 30)", a)
	}
	code, body = getBody(t, ts.URL+"/api/v1/history?township=aa&indicator=screenings&period=2024-01")
	if code != 200 || !strings.Contains(body, `"source":"二月.csv"`) || !strings.Contains(body, `"source":"api.json"`) {
		t.Errorf("history: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/rankings?period=2024-02", "/api/v1/alerts?period=2024-02"} {
		if code, body := getBody(t, ts.URL+path); code != 200 || !json.Valid([]byte(body)) {
			t.Errorf("%s: %d", path, code)
		}
	}
}

func TestPostInvalidBatchWritesNothing(t *testing.T) {
	ts, mon := newTestServer(t)
	v := mon.Version()
	code, body := post(t, ts.URL+"/api/v1/observations", "application/json",
		`[{"township":"aa","indicator":"screenings","period":"2024-01","value":10},
		  {"township":"zz","indicator":"screenings","period":"2024-01","value":1},
		  {"township":"aa","indicator":"closure","period":"2024-01","numerator":11,"denominator":10}]`)
	if code != 400 {
		t.Fatalf("invalid batch: %d %s", code, body)
	}
	var eb errorBody
	json.Unmarshal([]byte(body), &eb)
	if len(eb.Errors) != 2 || eb.Errors[0].Where != "api.json[1]" || eb.Errors[1].Where != "api.json[2]" {
		t.Errorf("errors = %+v", eb.Errors)
	}
	if mon.Version() != v || mon.Dataset().Len() != 0 {
		t.Error("a refused batch changed the data")
	}
	batches, _ := mon.Store().Batches(context.Background(), "test", 10)
	if len(batches) != 0 {
		t.Errorf("a refused batch was recorded: %+v", batches)
	}
}

func TestAPIErrors(t *testing.T) {
	ts, _ := newTestServer(t)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/evaluations?period=2024-13", "", 400},
		{"GET", "/api/v1/rankings?period=2023-12", "", 400},
		{"GET", "/api/v1/history?township=zz&indicator=screenings", "", 404},
		{"POST", "/api/v1/observations", "{not json", 400},
		{"GET", "/api/v1/observations", "", 405},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.want, b)
		}
		if tc.want == 400 && !json.Valid(b) {
			t.Errorf("%s %s: error body is not JSON: %s", tc.method, tc.path, b)
		}
	}
}

func TestAPIErrorsAreChinese(t *testing.T) {
	ts, _ := newTestServer(t)
	for _, path := range []string{"/api/v1/evaluations?period=2024-13", "/api/v1/rankings?period=2023-12", "/api/v1/history?township=zz&indicator=screenings"} {
		_, body := getBody(t, ts.URL+path)
		var eb errorBody
		if err := json.Unmarshal([]byte(body), &eb); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if strings.Contains(eb.Error, "bad request") || strings.Contains(eb.Error, "not found") || strings.Contains(eb.Error, "period") || !strings.ContainsAny(eb.Error, "月乡") {
			t.Errorf("%s: error %q is not plain Chinese", path, eb.Error)
		}
	}
}
