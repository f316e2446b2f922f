package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/charts"
)

// pagesFixture is the access fixture served with the pages mounted, as kpimon serves it.
func pagesFixture(t *testing.T) (*accessFixture, *httptest.Server) {
	t.Helper()
	f := newAccessFixture(t)
	pages, err := charts.NewHandler(f.mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Handle("/", pages)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv",
		"township,indicator,period,value\naa,screenings,2024-01,10\nbb,screenings,2024-02,3\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	return f, f.ts
}

// TestMonthsThatHaveNotBegun: the fixture's clock is 3 April 2024; April may be asked for,
// May may not, on the API (JSON) and on the pages and downloads (a page headed 月份有误 that
// offers the same page at January … April), as the command line refuses it.
func TestMonthsThatHaveNotBegun(t *testing.T) {
	f, _ := pagesFixture(t)
	const notBegun = "2024年5月尚未开始，请选择已开始的月份"
	tests := []struct {
		name, path string
		json       bool
	}{
		{"evaluations", "/api/v1/evaluations", true},
		{"rankings", "/api/v1/rankings", true},
		{"alerts", "/api/v1/alerts", true},
		{"overview", "/", false},
		{"rankings page", "/rankings", false},
		{"rankings CSV", "/rankings.csv", false},
		{"alerts page", "/alerts", false},
		{"township page", "/townships/aa", false},
		{"indicator page", "/indicators/screenings", false},
		{"bulletin HTML", "/rankings/bulletin.html", false},
		{"bulletin Excel", "/rankings/bulletin.xlsx", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", tc.path+"?period=2024-05", "", "", "")
			if resp.StatusCode != 400 {
				t.Fatalf("May: %d, want 400 (%.200s)", resp.StatusCode, body)
			}
			if tc.json {
				var eb errorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error != notBegun {
					t.Errorf("May: error %q (%v), want %q", eb.Error, err, notBegun)
				}
			} else if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, notBegun) || !strings.Contains(body, "<h1>月份有误</h1>") ||
				!strings.Contains(body, `href="`+tc.path+`?period=2024-04">2024年4月</a>`) || !strings.Contains(body, `href="`+tc.path+`?period=2024-01">2024年1月</a>`) || strings.Contains(body, "?period=2024-05\"") {
				t.Errorf("May: %s page %.300s, want an HTML page saying %q", ct, body, notBegun)
			}
			if resp, body := f.do(t, "GET", tc.path+"?period=2024-04", "", "", ""); resp.StatusCode != 200 {
				t.Errorf("April, the month in progress: %d, want 200 (%.200s)", resp.StatusCode, body)
			}
		})
	}
	// a month of another year or in the wrong form is still the pages' own 400
	if resp, body := f.do(t, "GET", "/rankings?period=2023-05", "", "", ""); resp.StatusCode != 400 || !strings.Contains(body, "不在考核年度") {
		t.Errorf("another year's month: %d %.200s", resp.StatusCode, body)
	}
	// a path the pages do not have is still 404, whatever its month
	if resp, _ := f.do(t, "GET", "/nosuch?period=2024-05", "", "", ""); resp.StatusCode != 404 {
		t.Errorf("an unknown page with a future month: %d, want 404", resp.StatusCode)
	}
}

// TestMonthBegunInTheAssessmentsZone: at 04:00 on 1 May in Beijing (20:00 UTC on 30
// April) May has begun.
func TestMonthBegunInTheAssessmentsZone(t *testing.T) {
	f, _ := pagesFixture(t)
	for _, tc := range []struct {
		name  string
		clock time.Time
		want  int
	}{
		{"30 April in Beijing", time.Date(2024, 4, 30, 15, 0, 0, 0, time.UTC), 400},
		{"1 May in Beijing, still April in UTC", time.Date(2024, 4, 30, 20, 0, 0, 0, time.UTC), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock = tc.clock
			for _, path := range []string{"/api/v1/rankings?period=2024-05", "/rankings?period=2024-05"} {
				if resp, body := f.do(t, "GET", path, "", "", ""); resp.StatusCode != tc.want {
					t.Errorf("%s: %d, want %d (%.200s)", path, resp.StatusCode, tc.want, body)
				}
			}
		})
	}
}
