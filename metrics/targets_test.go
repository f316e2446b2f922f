package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

// TestTargetsKeepAssessmentsApart serves two counties that share a township code (石角镇
// is "shijiao" in both) from one store and one registry: each assessment's scrape carries
// only its own series, figures and health alike, and the same township's figures differ.
func TestTargetsKeepAssessmentsApart(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	now := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	var exps []*Exporter
	for _, c := range []struct{ id, name, value string }{{"qingcheng-2026", "清城区", "10"}, {"fogang-2026", "佛冈县", "77"}} {
		a, err := kpi.ParseConfig(c.id+".yaml", []byte(fmt.Sprintf(`name: %s妇联2026年度考核
year: 2026
townships: [{code: shijiao, name: 石角镇}]
indicators: [{code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 120}]
`, c.name)))
		if err != nil {
			t.Fatal(err)
		}
		mon, err := monitor.New(ctx, a, db, monitor.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(ctx, mon, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := collector.NewBatch(a)
		b.AddCSV("r.csv", strings.NewReader("township,indicator,period,value\nshijiao,screenings,2026-02,"+c.value+"\n"))
		if _, err := mon.Ingest(ctx, b, "t"); err != nil {
			t.Fatal(err)
		}
		if err := e.Refresh(); err != nil {
			t.Fatal(err)
		}
		reg.MustRegister(e)
		exps = append(exps, e)
	}
	srv := httptest.NewServer(NewTargets(reg, exps[0], exps[1:]...))
	defer srv.Close()
	get := func(query string) (int, map[string]*model.Sample) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/metrics" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		dec := expfmt.SampleDecoder{Dec: expfmt.NewDecoder(strings.NewReader(string(body)), expfmt.NewFormat(expfmt.TypeTextPlain)), Opts: &expfmt.DecodeOptions{Timestamp: model.Now()}}
		var all model.Vector
		if err := dec.Decode(&all); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		for {
			var v model.Vector
			if err := dec.Decode(&v); err != nil {
				break
			}
			all = append(all, v...)
		}
		out := map[string]*model.Sample{}
		for _, s := range all {
			out[s.Metric.String()] = s
		}
		return resp.StatusCode, out
	}
	for _, c := range []struct {
		query, id, other string
		actual           float64
		process          bool
	}{
		{"?assessment=fogang-2026", "fogang-2026", "qingcheng-2026", 77, false},
		{"?assessment=qingcheng-2026", "qingcheng-2026", "fogang-2026", 10, false},
		{"", "qingcheng-2026", "fogang-2026", 10, true},
	} {
		status, series := get(c.query)
		if status != http.StatusOK {
			t.Fatalf("%q: status %d", c.query, status)
		}
		var actual, health, process bool
		for name, s := range series {
			id := string(s.Metric["assessment"])
			if id == c.other {
				t.Errorf("%q: a series of %s: %s", c.query, c.other, name)
			}
			if strings.HasPrefix(string(s.Metric[model.MetricNameLabel]), "go_") {
				process = true
			}
			if s.Metric[model.MetricNameLabel] == "kpimon_indicator_actual" && s.Metric["township"] == "shijiao" {
				actual = true
				if id != c.id || float64(s.Value) != c.actual {
					t.Errorf("%q: %s = %v, want %v of %s", c.query, name, s.Value, c.actual, c.id)
				}
			}
			if s.Metric[model.MetricNameLabel] == "kpimon_batches_accepted_total" && id == c.id && s.Value == 1 {
				health = true
			}
		}
		if !actual || !health {
			t.Errorf("%q: actual %v, health %v: want both of %s", c.query, actual, health, c.id)
		}
		if process != c.process {
			t.Errorf("%q: Go collector's series present = %v, want %v", c.query, process, c.process)
		}
	}
	if _, series := get("?target=process"); len(series) == 0 {
		t.Error("the process target is empty")
	} else {
		for name, s := range series {
			if s.Metric["assessment"] != "" {
				t.Errorf("the process target carries an assessment's series: %s", name)
			}
		}
	}
	if status, _ := get("?assessment=nowhere"); status != http.StatusNotFound {
		t.Errorf("an unknown assessment: status %d, want 404", status)
	}
}
