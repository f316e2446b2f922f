package monitor

import (
	"time"

	"github.com/kpimon/kpimon/sqlite"
)

// IngestOutcome is what became of one batch handed to Ingest: accepted (whether or not it
// changed anything) or refused. Metrics count batches and observations from it.
type IngestOutcome struct {
	At     time.Time           // when Ingest returned, by the monitor's clock
	Result sqlite.IngestResult // what was written; zero when refused
	Err    error               // why the batch was refused; nil when accepted
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
func (m *Monitor) ingested(res sqlite.IngestResult, err error) {
	m.mu.RLock()
	hooks := append([]func(IngestOutcome){}, m.ingestHooks...)
	m.mu.RUnlock()
	if len(hooks) == 0 {
		return
	}
	o := IngestOutcome{At: m.now(), Result: res, Err: err}
	if err != nil {
		o.Result = sqlite.IngestResult{Total: res.Total}
	}
	for _, f := range hooks {
		f(o)
	}
}
