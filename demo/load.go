package demo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Store is what Load needs of a store: to write batches, with the clock that stamps them
// set to each report's time.
type Store interface {
	Ingest(ctx context.Context, a *kpi.Assessment, b store.Batch) (store.IngestResult, error)
	SetClock(now func() time.Time)
}

// Load ingests the demo's reports into db in the order they arrived, each batch stamped
// with the time it was submitted, through the collector like any report. It returns how
// many reports it loaded; db's clock is the wall clock again afterwards.
func Load(ctx context.Context, db Store, a *kpi.Assessment) (int, error) {
	return load(ctx, db, a, Reports(a))
}

// LoadUntil is Load of the reports that have arrived by now (ReportsUntil): a year under
// way is loaded up to the current month.
func LoadUntil(ctx context.Context, db Store, a *kpi.Assessment, now time.Time) (int, error) {
	return load(ctx, db, a, ReportsUntil(a, now))
}

func load(ctx context.Context, db Store, a *kpi.Assessment, reports []Report) (int, error) {
	defer db.SetClock(time.Now)
	for _, r := range reports {
		b := collector.NewBatch(a)
		b.AddCSV(r.Name, bytes.NewReader(r.CSV))
		if err := b.Err(); err != nil {
			return 0, fmt.Errorf("demo report %s: %w", r.Name, err)
		}
		at := r.At
		db.SetClock(func() time.Time { return at })
		if _, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: r.Actor, Source: r.Name, SHA256: b.SHA256()}, Observations: b.Observations()}); err != nil {
			return 0, fmt.Errorf("demo report %s: %w", r.Name, err)
		}
	}
	return len(reports), nil
}
