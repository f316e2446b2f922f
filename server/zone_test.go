package server

import (
	"context"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// TestAPITimesInTheAssessmentsZone: the audit trail's times (a batch's at, a lock's
// locked_at, a revision's at and superseded_at) are written with the assessment's offset
// (+08:00 for Asia/Shanghai), the clock the office reads, not in UTC (Z).
func TestAPITimesInTheAssessmentsZone(t *testing.T) {
	f := newAccessFixture(t) // the clock: 2024-04-03 09:00 UTC, 17:00 in 北京时间
	for _, body := range []string{"township,indicator,period,value\naa,screenings,2024-01,10\n", "township,indicator,period,value\naa,screenings,2024-01,12\n"} {
		if resp, b := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", body); resp.StatusCode != 200 {
			t.Fatalf("post: %d %s", resp.StatusCode, b)
		}
	}
	if _, _, err := f.db.LockPeriod(context.Background(), "test", kpi.MustPeriod("2024-01"), "县妇联办公室"); err != nil {
		t.Fatal(err)
	}
	const at = "2024-04-03T17:00:00+08:00"
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"batches", "/api/v1/batches", []string{`"at":"` + at + `"`}},
		{"locks", "/api/v1/locks", []string{`"locked_at":"` + at + `"`}},
		{"history", "/api/v1/history?township=aa&indicator=screenings", []string{`"at":"` + at + `"`, `"superseded_at":"` + at + `"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", tc.path, f.admin, "", "")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("got %s\nwant %s", body, w)
				}
			}
			if strings.Contains(body, "Z\"") {
				t.Errorf("a time in UTC: %s", body)
			}
		})
	}
}
