package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// adminTokenRE finds the demo's admin token in what it prints.
var adminTokenRE = regexp.MustCompile(`管理员（所有考核）：(kpm_[0-9a-f]+)`)

// TestOneCorrectionReachesTheCity: one township's correction, POSTed to its county's
// assessment on the running demo, changes at once — on the next requests, without a
// restart or a wait — the county's 全县 figure, the township's and the county's scores, the
// city's figure of that county and its score in the city's ranking, the city's page of the
// county and the city's /metrics.
func TestOneCorrectionReachesTheCity(t *testing.T) {
	base, out := startDemoWith(t)
	// the tokens are printed after the address: wait for them
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = adminTokenRE.FindStringSubmatch(out.String())
	}
	if m == nil {
		t.Fatalf("the demo printed no admin token:\n%s", out.String())
	}
	token := m[1]
	const ind, period = "cervical_screening_persons", "2026-10"
	getJSON := func(path string, v any) {
		t.Helper()
		code, body := get(t, base+path)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	type evals struct {
		Evaluations []struct {
			Township, Indicator string
			Actual, Score       float64
		}
		County []struct {
			Indicator string
			Actual    float64
		}
	}
	type ranks struct {
		Rankings []struct {
			Township string
			Score    float64
		}
	}
	type figures struct {
		shijiao, shijiaoScore, county, city, cityScore, metric float64
		page                                                   string
	}
	read := func() figures {
		var f figures
		var fg, qy evals
		getJSON("/fogang-2026/api/v1/evaluations?period="+period, &fg)
		getJSON("/qingyuan-2026/api/v1/evaluations?period="+period, &qy)
		for _, e := range fg.Evaluations {
			if e.Township == "shijiao" && e.Indicator == ind {
				f.shijiao, f.shijiaoScore = e.Actual, e.Score
			}
		}
		for _, c := range fg.County {
			if c.Indicator == ind {
				f.county = c.Actual
			}
		}
		for _, e := range qy.Evaluations {
			if e.Township == "fogang" && e.Indicator == ind {
				f.city = e.Actual
			}
		}
		var r ranks
		getJSON("/qingyuan-2026/api/v1/rankings?period="+period, &r)
		for _, x := range r.Rankings {
			if x.Township == "fogang" {
				f.cityScore = x.Score
			}
		}
		_, metrics := get(t, base+"/qingyuan-2026/metrics")
		prefix := `kpimon_indicator_actual{assessment="qingyuan-2026",indicator="` + ind + `",`
		for _, line := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(line, prefix) && strings.Contains(line, `township="fogang"`) {
				v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
				if err != nil {
					t.Fatalf("metric line %q: %v", line, err)
				}
				f.metric = v
			}
		}
		_, f.page = get(t, base+"/qingyuan-2026/townships/fogang?period="+period)
		return f
	}
	before := read()
	if before.county == 0 || before.city != before.county || before.metric != before.city || before.shijiao == 0 {
		t.Fatalf("before the correction: %+v (the city's figure of 佛冈县 is its 全县 sum)", before)
	}
	var hist struct {
		Revisions []struct {
			Value   float64
			Current bool
		}
	}
	getJSON("/fogang-2026/api/v1/history?township=shijiao&indicator="+ind+"&period="+period, &hist)
	old := -1.0
	for _, r := range hist.Revisions {
		if r.Current {
			old = r.Value
		}
	}
	if old <= 0 {
		t.Fatalf("石角镇's %s figure of %s: %+v", ind, period, hist)
	}
	// 石角镇 corrects October to 0
	req, _ := http.NewRequest("POST", base+"/fogang-2026/api/v1/observations", strings.NewReader("township,indicator,period,value\nshijiao,"+ind+","+period+",0\n"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the correction: %d", resp.StatusCode)
	}
	after := read()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"石角镇's cumulative", after.shijiao, before.shijiao - old},
		{"佛冈县's 全县 sum", after.county, before.county - old},
		{"the city's figure of 佛冈县", after.city, before.city - old},
		{"the city's /metrics of 佛冈县", after.metric, before.metric - old},
	} {
		if c.got != c.want {
			t.Errorf("%s after the correction: %v, want %v", c.name, c.got, c.want)
		}
	}
	if after.shijiaoScore >= before.shijiaoScore || after.cityScore >= before.cityScore {
		t.Errorf("scores after the correction: 石角镇 %v (before %v), 佛冈县 in the city %v (before %v); both should fall", after.shijiaoScore, before.shijiaoScore, after.cityScore, before.cityScore)
	}
	figure := func(v float64) string { return kpi.FormatFigure(v, "人") + " 人" } // as the pages write it
	if !strings.Contains(after.page, figure(after.city)) || strings.Contains(after.page, figure(before.city)) {
		t.Errorf("the city's page of 佛冈县 does not show %s (it showed %s before)", figure(after.city), figure(before.city))
	}
}
