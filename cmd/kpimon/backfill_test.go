package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/metrics"
)

// TestBackfillLoadsIntoPrometheus writes 苍南县's January … June as OpenMetrics, turns it
// into blocks with promtool, starts a real Prometheus on them and asks for a township's
// score at the end of March and of May: the answers are March's and May's scores as
// `kpimon rank` gives them.
func TestBackfillLoadsIntoPrometheus(t *testing.T) {
	promtool, promBin := needProgram(t, "promtool"), needProgram(t, "prometheus")
	config, db := loadCangnan(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "history.om")
	out := mustCLI(t, "backfill", "--config", config, "--db", db, "--out", file)
	if !strings.Contains(out, "1 月至 6 月") || !strings.Contains(out, "promtool tsdb create-blocks-from openmetrics") {
		t.Errorf("backfill said %q", out)
	}
	data := filepath.Join(dir, "prom")
	if b, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", file, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool create-blocks-from openmetrics: %v\n%s", err, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	promURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startProgram(t, ctx, dir, "prometheus", promBin, "--config.file=prometheus.yml", "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+strings.TrimPrefix(promURL, "http://"), "--log.level=warn")
	a, err := kpi.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, month := range []string{"2024-03", "2024-05"} {
		var rank struct {
			Rankings []struct {
				Township string  `json:"township"`
				Score    float64 `json:"score"`
			} `json:"rankings"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, "rank", "--config", config, "--db", db, "--period", month, "--format", "json")), &rank); err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{}
		for _, r := range rank.Rankings {
			want[r.Township] = r.Score
		}
		at := metrics.MonthEnd(kpi.MustPeriod(month), a.Location)
		q := promURL + "/api/v1/query?query=" + url.QueryEscape(`kpimon_township_score{township="lingxi"}`) + "&time=" + strconv.FormatInt(at.Unix(), 10)
		var got struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		poll(t, ctx, "Prometheus to answer from the backfilled blocks", func() bool {
			return getJSON(ctx, q, &got) && len(got.Data.Result) == 1
		})
		v, _ := strconv.ParseFloat(got.Data.Result[0].Value[1].(string), 64)
		if v != want["lingxi"] || got.Data.Result[0].Metric["assessment"] != a.ID {
			t.Errorf("score of lingxi at the end of %s = %v %v, want %v (kpimon rank --period %s)", month, v, got.Data.Result[0].Metric, want["lingxi"], month)
		}
	}
}
