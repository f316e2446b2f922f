// Package store is kpimon's storage contract: the records every backend keeps (batches and
// the revision history of reported figures, locked months, API tokens, login sessions,
// upload previews, the alert lifecycle, notifications sent once per occasion) and the small
// interfaces the rest of kpimon depends on. The backends live in their own packages —
// sqlite (the embedded default) and postgres — and only cmd chooses one.
//
// Everything is kept per assessment (an assessment's id, kpi.Assessment.ID): two counties,
// or two years of one county, never see each other's figures, locks, alerts or tokens, and
// the same township code may exist in two of them.
//
// The rules every backend follows are written here once and checked against each backend
// by one conformance suite (package storetest):
//
//   - a batch is all or nothing; re-reporting a key with the same figures changes nothing;
//     a changed figure keeps the old one as a revision; a batch that changes nothing is
//     recorded nowhere;
//   - a batch that would change a figure of a locked month is refused whole (ErrLocked);
//   - batches of one assessment are written one at a time, and their ids grow in the order
//     they were committed, so a reader that remembers the last batch id it saw can ask for
//     exactly what changed since (ChangedSince) — this is how several servers, and a server
//     beside a command-line ingest, stay in step;
//   - the alert lifecycle is the pure transition in alert.go, applied in one transaction;
//   - when the database is briefly unavailable or busy, operations fail with ErrUnavailable
//     (the HTTP edge answers 503 with Retry-After), never with a half-done write.
package store
