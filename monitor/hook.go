package monitor

import (
	"time"

	"github.com/kpimon/kpimon/store"
)

// IngestOutcome is what became of one batch: handed to Ingest and accepted (whether or not
// it changed anything) or refused, or written elsewhere (another server, the command line)
// and found by Refresh. Metrics count batches and observations from it.
type IngestOutcome struct {
	At     time.Time          // when Ingest returned, by the monitor's clock; for a batch written elsewhere, when it was written
	Result store.IngestResult // what was written; zero when refused
	Err    error              // why the batch was refused; nil when accepted

	Elsewhere bool // written by another process and found by Refresh
}

// Accepted reports whether the batch was accepted.
func (o IngestOutcome) Accepted() bool { return o.Err == nil }

// OnIngest calls f after every batch handed to Ingest, accepted or refused, outside the
// monitor's locks. Unlike Subscribe it also sees refused batches and batches that changed
// nothing.
func (m *Monitor) OnIngest(f func(IngestOutcome)) {
	m.mu.Lock()
	m.ingestHooks = append(m.ingestHooks, f)
	m.mu.Unlock()
}

// ingested tells the OnIngest hooks what became of a batch.
func (m *Monitor) ingested(res store.IngestResult, err error) {
	m.mu.RLock()
	hooks := append([]func(IngestOutcome){}, m.ingestHooks...)
	m.mu.RUnlock()
	if len(hooks) == 0 {
		return
	}
	o := IngestOutcome{At: m.now(), Result: res, Err: err}
	if err != nil {
		o.Result = store.IngestResult{Total: res.Total}
	}
	for _, f := range hooks {
		f(o)
	}
}

// ingestedElsewhere tells the OnIngest hooks of a batch another process wrote.
func (m *Monitor) ingestedElsewhere(b store.BatchInfo) {
	m.mu.RLock()
	hooks := append([]func(IngestOutcome){}, m.ingestHooks...)
	m.mu.RUnlock()
	o := IngestOutcome{At: b.At, Result: store.IngestResult{BatchID: b.ID, Total: b.Total, New: b.New, Corrected: b.Corrected,
		Unchanged: b.Total - b.New - b.Corrected}, Elsewhere: true}
	for _, f := range hooks {
		f(o)
	}
}
