package store

import (
	"context"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Observations keeps the reported figures with their full revision history and the
// batches that wrote them.
type Observations interface {
	// Ingest writes a batch of the assessment in one transaction (see the package doc).
	Ingest(ctx context.Context, a *kpi.Assessment, b Batch) (IngestResult, error)
	// NewWriter begins a batch that arrives in chunks (a large file read while it is
	// written), still all or nothing.
	NewWriter(ctx context.Context, a *kpi.Assessment, meta BatchMeta) (Writer, error)
	// LoadDataset reads the assessment's current figures of its year. Figures of townships
	// or indicators the config no longer has are skipped and counted.
	LoadDataset(ctx context.Context, a *kpi.Assessment) (*kpi.Dataset, LoadStats, error)
	// ChangedSince returns the current figures of every key that a batch of the assessment
	// after the batch id `after` wrote, and the latest batch id.
	ChangedSince(ctx context.Context, a *kpi.Assessment, after int64) (Changes, error)
	// LastBatch is the id of the assessment's latest batch, 0 when none: it grows with every
	// batch that changed something, whoever wrote it.
	LastBatch(ctx context.Context, assessment string) (int64, error)
	// History lists every value of township × indicator, by period, newest first within a
	// period. With a non-zero period only that month is listed.
	History(ctx context.Context, assessment, township, indicator string, p kpi.Period) ([]Revision, error)
	// TownshipHistory is History for every indicator of a township, by indicator code and
	// period.
	TownshipHistory(ctx context.Context, assessment, township string) ([]IndicatorRevision, error)
	// Batches lists the assessment's most recent accepted batches, newest first.
	Batches(ctx context.Context, assessment string, limit int) ([]BatchInfo, error)
	// LastReports says, for each month of the year that has current values, when the latest
	// batch holding one of them was written.
	LastReports(ctx context.Context, assessment string, year int) (map[kpi.Period]time.Time, error)
	// LastReport is when the latest batch that still holds a current value for period p was
	// written (any period when p is zero), and false when there is none.
	LastReport(ctx context.Context, assessment string, p kpi.Period) (time.Time, bool, error)
	// ClaimLegacy gives the assessment the records of its year that a kpimon from before
	// assessments existed wrote (they belong to no assessment). It reports whether there
	// were any.
	ClaimLegacy(ctx context.Context, assessment string, year int) (bool, error)
}

// Writer writes one batch in chunks; nothing is visible until Commit, and Abort (or a
// failed Write) leaves the database as it was.
type Writer interface {
	// Write classifies and writes a chunk; the batch must not hold one key twice.
	Write(obs []kpi.Observation) error
	// Describe sets the batch's source and digest, for a batch whose digest is known only
	// once its files are read.
	Describe(source, sha256 string)
	// Commit records the batch and commits; a batch that changed nothing is recorded
	// nowhere (BatchID 0).
	Commit() (IngestResult, error)
	// Abort rolls the batch back; after Commit it does nothing.
	Abort()
}

// Locks closes months once their bulletin is published.
type Locks interface {
	// LockPeriod locks month p of the assessment; locking a locked month changes nothing.
	// The lock in force is returned with whether this call made it.
	LockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (Lock, bool, error)
	// UnlockPeriod unlocks month p; it reports false when p was not locked.
	UnlockPeriod(ctx context.Context, assessment string, p kpi.Period, actor string) (bool, error)
	// Locks lists the assessment's locked months in order.
	Locks(ctx context.Context, assessment string) ([]Lock, error)
}

// Tokens keeps API tokens (hashed) and the login sessions made with them.
type Tokens interface {
	// AddToken creates a token and returns it with its secret, which is not stored.
	AddToken(ctx context.Context, n NewToken) (Token, string, error)
	// Tokens lists the tokens of the assessment (every token when assessment is empty),
	// revoked ones too, oldest first.
	Tokens(ctx context.Context, assessment string) ([]Token, error)
	// LookupToken finds the valid token whose secret this is, or returns ErrUnknownToken.
	LookupToken(ctx context.Context, secret string) (Token, error)
	// RevokeToken revokes the token with the id, and ends its sessions; ErrNotFound when
	// there is no such valid token.
	RevokeToken(ctx context.Context, id int64) (Token, error)

	// CreateSession starts a session for the token until expires and returns its secret
	// id, which is not stored.
	CreateSession(ctx context.Context, tokenID int64, now, expires time.Time) (string, error)
	// LookupSession returns the session with the secret id while it lasts and its token is
	// valid; ErrUnknownToken otherwise.
	LookupSession(ctx context.Context, id string, now time.Time) (Session, error)
	// EndSession ends the session with the secret id (logging out); ending an unknown one
	// changes nothing.
	EndSession(ctx context.Context, id string) error

	// CreateLoginLink makes a one-time login link for the token, valid until expires, and
	// returns its secret, which is not stored.
	CreateLoginLink(ctx context.Context, tokenID int64, now, expires time.Time) (string, error)
	// UseLoginLink spends the link with the secret and returns its token: once only
	// (ErrLinkUsed after), before it expires (ErrLinkExpired), while its token is valid
	// (ErrUnknownToken for a revoked token or an unknown link).
	UseLoginLink(ctx context.Context, secret string, now time.Time) (Token, error)
}

// Previews keeps uploads awaiting confirmation.
type Previews interface {
	// SavePreview keeps a preview, dropping expired ones and, past the limits
	// (PreviewsPerToken, PreviewsInAll), the oldest.
	SavePreview(ctx context.Context, p Preview, now time.Time) error
	// TakePreview removes and returns the preview with the id if the token made it and it
	// has not expired; ErrNotFound otherwise. A preview is taken once.
	TakePreview(ctx context.Context, id string, tokenID int64, now time.Time) (Preview, error)
}

// Alerts keeps the alert lifecycle and the messages sent once per occasion.
type Alerts interface {
	// SyncAlerts records, at now, that exactly the alerts in current hold as of p, by the
	// transition PlanAlerts (began as there), in one transaction.
	SyncAlerts(ctx context.Context, assessment string, now time.Time, p kpi.Period, current []kpi.Alert, began func(kpi.Alert) time.Time) (AlertChanges, error)
	// FiringAlerts lists the alerts that hold, oldest first.
	FiringAlerts(ctx context.Context, assessment string) ([]AlertRecord, error)
	// ResolvedAlerts lists the alerts that resolved at or after since, latest first.
	ResolvedAlerts(ctx context.Context, assessment string, since time.Time) ([]AlertRecord, error)
	// Notified reports whether a message of kind for the occasion key was sent to channel.
	Notified(ctx context.Context, assessment, channel, kind, key string) (bool, error)
	// RecordNotification notes that a message of kind for the occasion key was sent to
	// channel; recording it again changes nothing.
	RecordNotification(ctx context.Context, assessment, channel, kind, key string, at time.Time) error
}

// Leases elect the one server of a deployment that sends messages (alerts, reminders,
// rankings), so that a group chat never gets a message twice.
type Leases interface {
	// AcquireLease makes holder the holder of the named lease, or keeps it so, for ttl, if
	// no other holder has it; it reports whether holder holds it. A holder that stops
	// renewing (or whose process dies) loses it within ttl.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	// ReleaseLease gives the lease up if holder holds it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Store is everything a kpimon server needs from its database.
type Store interface {
	Observations
	Locks
	Tokens
	Previews
	Alerts
	Leases

	// WatchBatches calls f with an assessment's id, soon after a batch of it is committed by
	// any process (the server itself, another server, a command-line ingest), until ctx is
	// done. Calls may be merged or spurious: the receiver asks ChangedSince what changed.
	WatchBatches(ctx context.Context, f func(assessment string)) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// SchemaVersion is the highest migration applied.
	SchemaVersion(ctx context.Context) (int, error)
	// Describe names the database for logs and messages, without secrets.
	Describe() string
	// Close closes the database.
	Close() error
}
