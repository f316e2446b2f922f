package charts

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// deployed is one assessment of a test deployment and the batches written for it.
type deployed struct {
	cfg     string
	batches []batch
}

// newDeployment writes every assessment's batches to one fresh database and loads them as
// one deployment (last year's 同比, a city's counties), its clock at now.
func newDeployment(tb testing.TB, now time.Time, as ...deployed) *monitor.Deployment {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "kpimon.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	var list []*kpi.Assessment
	for _, d := range as {
		a, err := kpi.ParseConfig("test.yaml", []byte(d.cfg))
		if err != nil {
			tb.Fatal(err)
		}
		for _, b := range d.batches {
			at := b.at
			db.SetClock(func() time.Time { return at })
			if _, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: b.actor, Source: b.source}, Observations: b.obs}); err != nil {
				tb.Fatalf("ingest %s into %s: %v", b.source, a.ID, err)
			}
		}
		list = append(list, a)
	}
	db.SetClock(func() time.Time { return now })
	dep, err := monitor.NewDeployment(ctx, db, list, monitor.Options{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return dep
}

// demoDeploymentNow is the clock of the demo's deployment in tests: November 2026, after
// October's deadlines, so that qingcheng-2026 and the city show 2026年10月.
var demoDeploymentNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// demoDeployment loads the demo's five assessments (清城区 2025 and 2026, 佛冈县, 清新区 and
// the city 清远市) as `kpimon demo` does, as of demoDeploymentNow.
func demoDeployment(tb testing.TB) *monitor.Deployment {
	tb.Helper()
	ctx := context.Background()
	as, err := demo.Assessments()
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "demo.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	for _, a := range as {
		if _, err := demo.LoadUntil(ctx, db, a, demoDeploymentNow); err != nil {
			tb.Fatal(err)
		}
	}
	db.SetClock(func() time.Time { return demoDeploymentNow })
	dep, err := monitor.NewDeployment(ctx, db, as, monitor.Options{Now: func() time.Time { return demoDeploymentNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return dep
}

// startDeployment serves every assessment of the deployment under /{id}/ as the web router
// does (its pages write their links under that prefix), on 127.0.0.1 until the test ends.
func startDeployment(tb testing.TB, dep *monitor.Deployment) string {
	tb.Helper()
	mux := http.NewServeMux()
	assets := false
	for _, m := range dep.Monitors() {
		base := "/" + m.Assessment().ID
		h, err := NewHandlerWithOptions(m, HandlerOptions{Base: base})
		if err != nil {
			tb.Fatal(err)
		}
		srv := server.NewWithOptions(m, server.Options{Base: base})
		srv.Handle("/", h)
		mux.Handle(base+"/", http.StripPrefix(base, srv))
		if !assets {
			mux.Handle("/assets/", h) // pages load their assets from the root, as the web router serves them
			assets = true
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, mux, slog.New(slog.DiscardHandler)) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// monitorOf is the deployment's monitor of the assessment with the id.
func monitorOf(tb testing.TB, dep *monitor.Deployment, id string) *monitor.Monitor {
	tb.Helper()
	m, ok := dep.Monitor(id)
	if !ok {
		tb.Fatalf("no assessment %s in the deployment", id)
	}
	return m
}
