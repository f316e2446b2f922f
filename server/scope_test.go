package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/store"
)

// TestTokensActInTheirAssessment: a token of another assessment (another county whose
// township has the same code) writes nothing here; a deployment admin's does; with a
// TokenScope (the years of one county) a token of the scope acts here too.
func TestTokensActInTheirAssessment(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	add := func(n store.NewToken) string {
		_, s, err := f.db.AddToken(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherCounty := add(store.NewToken{Assessment: "other-county", Name: "乙县甲镇妇联", Township: "aa"})
	otherAdmin := add(store.NewToken{Assessment: "other-county", Name: "乙县妇联", Admin: true})
	deployAdmin := add(store.NewToken{Assessment: store.AllAssessments, Name: "市妇联", Admin: true})
	lastYear := add(store.NewToken{Assessment: "test-last-year", Name: "甲镇妇联（去年）", Township: "aa"})
	body := "township,indicator,period,value\naa,screenings,2024-03,5\n"
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"another county's township token", otherCounty, http.StatusUnauthorized},
		{"another county's admin token", otherAdmin, http.StatusUnauthorized},
		{"last year's token without a scope", lastYear, http.StatusUnauthorized},
		{"the deployment's admin token", deployAdmin, http.StatusOK},
	} {
		resp, got := f.do(t, "POST", "/api/v1/observations", c.token, "text/csv", body)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, got, c.want)
		}
	}
	scoped := NewWithOptions(f.mon, Options{TokenScope: func(id string) bool { return id == "test-last-year" }})
	ts := httptest.NewServer(scoped)
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/observations", strings.NewReader("township,indicator,period,value\naa,screenings,2024-03,6\n"))
	req.Header.Set("Authorization", "Bearer "+lastYear)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("last year's township token within the scope: %d, want 200", resp.StatusCode)
	}
}
