package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// FuzzPostObservations posts any body with any content type to the observations endpoint:
// whatever arrives, the answer is never a 500 and nothing panics. The seeds (good and bad
// CSV and JSON, GBK, a broken workbook, an old .xls) are in testdata/fuzz; a filled monthly
// form is added here. Run it with
//
//	go test ./server -run '^$' -fuzz FuzzPostObservations -fuzztime 20s
func FuzzPostObservations(f *testing.F) {
	a, err := kpi.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		f.Fatal(err)
	}
	var form bytes.Buffer
	if err := forms.Write(&form, a, nil, kpi.MustPeriod("2024-05")); err != nil {
		f.Fatal(err)
	}
	f.Add("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", form.Bytes())

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	clock := time.Date(2024, 12, 20, 9, 0, 0, 0, time.UTC)
	mon, err := monitor.New(ctx, a, db, monitor.Options{Now: func() time.Time { return clock }})
	if err != nil {
		f.Fatal(err)
	}
	_, township, err := db.AddToken(ctx, store.NewToken{Assessment: a.ID, Name: "甲镇妇联", Township: "aa"})
	if err != nil {
		f.Fatal(err)
	}
	srv := New(mon, nil)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/observations?source=fuzz", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+township)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%q body %q: status %d\n%s", contentType, body, rec.Code, rec.Body)
		}
	})
}
