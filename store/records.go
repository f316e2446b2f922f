package store

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// BatchMeta says where a batch came from, for the audit trail.
type BatchMeta struct {
	Actor  string // who: a token's name, or the user running the CLI
	Source string // file names, or "api"
	SHA256 string // digest of the bytes received
}

// Batch is one valid batch to write.
type Batch struct {
	BatchMeta
	Observations []kpi.Observation
}

// IngestResult says what a batch changed.
type IngestResult struct {
	BatchID   int64 // 0 when nothing changed and no batch was recorded
	Total     int   // observations in the batch
	New       int   // keys reported for the first time
	Corrected int   // keys whose value changed (the old value kept as a revision)
	Unchanged int   // keys re-reported with the same value

	// PreviousBatch is the assessment's latest batch before this one was written (read
	// while the batch held the assessment's write turn): a reader whose data reflect
	// exactly PreviousBatch can apply Written and be up to date with BatchID.
	PreviousBatch int64

	// Written lists the new and corrected observations, for Ingest (whose caller publishes
	// them at once); a Writer fed in chunks leaves it empty.
	Written []kpi.Observation
}

// Changed reports whether the batch wrote anything.
func (r IngestResult) Changed() bool { return r.New+r.Corrected > 0 }

// LoadStats says what LoadDataset read.
type LoadStats struct {
	Loaded    int   // observations held in the dataset
	Skipped   int   // observations of townships or indicators the config no longer has
	LastBatch int64 // the id of the latest batch of the assessment the data reflect; 0 when none
}

// Changes are the current figures that batches after a given one wrote (ChangedSince).
type Changes struct {
	Observations []kpi.Observation // current values of the keys those batches wrote
	LastBatch    int64             // the latest batch id of the assessment; the next "after"
}

// Revision is one value a township × indicator × period has had.
type Revision struct {
	Period       kpi.Period `json:"period"`
	Value        float64    `json:"value"`                 // a ratio's numerator
	Denominator  *float64   `json:"denominator,omitempty"` // ratios only
	Current      bool       `json:"current"`
	BatchID      int64      `json:"batch_id"`
	At           time.Time  `json:"at"` // when the value was written
	Actor        string     `json:"actor"`
	Source       string     `json:"source"`
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
	SupersededBy string     `json:"superseded_by,omitempty"` // who replaced it
}

// IndicatorRevision is a Revision of one of a township's indicators.
type IndicatorRevision struct {
	Indicator string // code
	Revision
}

// BatchInfo is one accepted batch, for the audit trail.
type BatchInfo struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Source    string    `json:"source"`
	SHA256    string    `json:"sha256"`
	Total     int       `json:"rows_total"`
	New       int       `json:"rows_new"`
	Corrected int       `json:"rows_corrected"`
}

// Lock is a locked month: who locked it and when.
type Lock struct {
	Period kpi.Period `json:"period"`
	At     time.Time  `json:"locked_at"`
	By     string     `json:"locked_by"`
}

// AllAssessments is the assessment of a token valid in every assessment of the deployment
// (an administrator of the whole deployment).
const AllAssessments = "*"

// TokenPrefix starts every token kpimon issues, so a leaked one is recognisable.
const TokenPrefix = "kpm_"

// TokenListPrefix is how many characters of a token are kept in clear for listing.
const TokenListPrefix = len(TokenPrefix) + 8

// Token is an API token as stored: never the secret itself, only its hash and prefix.
type Token struct {
	ID         int64      `json:"id"`
	Assessment string     `json:"assessment"` // the assessment it belongs to; AllAssessments for a deployment admin
	Name       string     `json:"name"`       // the actor of every batch sent with it
	Township   string     `json:"township"`   // the unit code it may write; empty for admin
	Admin      bool       `json:"admin"`
	Prefix     string     `json:"prefix"` // the first characters of the token, for listing
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// NewToken says what token to create.
type NewToken struct {
	Assessment string // required: an assessment id, or AllAssessments with Admin
	Name       string // required
	Township   string // a unit code; empty with Admin
	Admin      bool
	CreatedBy  string
}

// HashToken is the stored form of a token, a session id or a login link: the hex SHA-256
// of the whole secret. Each carries 256 random bits, so a fast hash is enough (no salt or
// stretching needed).
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Session is a login on the upload pages: the browser holds a random session id in its
// cookie, the store only its hash. It ends when it expires, when its holder logs out, or
// when its token is revoked.
type Session struct {
	Token     Token     // the token the session acts for
	CreatedAt time.Time // when it began
	ExpiresAt time.Time // when it ends
}

// Preview is an upload awaiting confirmation: what was uploaded and what the preview
// showed, held by the store so that a preview made through one server confirms through
// another. Data is the server's own encoding; the store keeps it opaque.
type Preview struct {
	ID        string // random; the store keeps it as given
	TokenID   int64  // the token whose session made it; only that token may confirm it
	CreatedAt time.Time
	ExpiresAt time.Time
	Data      []byte
}

// Preview limits every backend enforces: a token keeps at most PreviewsPerToken previews
// and the store at most PreviewsInAll; saving one more drops the oldest.
const (
	PreviewsPerToken = 3
	PreviewsInAll    = 64
	// PreviewMaxBytes bounds one preview's Data.
	PreviewMaxBytes = 8 << 20
)

// AlertRecord is one run of an alert in the lifecycle store: when kpimon first saw it hold
// and, once it stopped holding, when. The embedded kpi.Alert carries the latest severity,
// summary and active_since; TownshipName and IndicatorName are filled only when the alert
// came from an evaluation (the store keeps codes).
type AlertRecord struct {
	ID int64
	kpi.Alert
	Period     kpi.Period // the latest evaluated period in which it held
	StartedAt  time.Time  // when it started firing
	UpdatedAt  time.Time  // when its severity, summary or period last changed
	ResolvedAt *time.Time // when it resolved; nil while firing
}

// Firing reports whether the alert still holds.
func (r AlertRecord) Firing() bool { return r.ResolvedAt == nil }
