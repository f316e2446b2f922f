package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kpimon/kpimon/store"
)

// newSecret is a prefixed random secret of 256 bits.
func newSecret(prefix string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(raw[:]), nil
}

// AddToken creates a token and returns it with its secret, which is not stored and cannot
// be shown again.
func (db *DB) AddToken(ctx context.Context, n store.NewToken) (store.Token, string, error) {
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case n.Name == "":
		return store.Token{}, "", errors.New("add token: a name is required")
	case n.Assessment == "":
		return store.Token{}, "", errors.New("add token: an assessment is required")
	case n.Assessment == store.AllAssessments && !n.Admin:
		return store.Token{}, "", errors.New("add token: only an admin token is valid in every assessment")
	case n.Admin && n.Township != "":
		return store.Token{}, "", errors.New("add token: an admin token has no township")
	case !n.Admin && n.Township == "":
		return store.Token{}, "", errors.New("add token: a township or admin is required")
	}
	secret, err := newSecret(store.TokenPrefix)
	if err != nil {
		return store.Token{}, "", fmt.Errorf("add token: %w", err)
	}
	t := store.Token{Assessment: n.Assessment, Name: n.Name, Township: n.Township, Admin: n.Admin, Prefix: secret[:store.TokenListPrefix],
		CreatedAt: db.now().UTC(), CreatedBy: n.CreatedBy}
	r, err := db.db.ExecContext(ctx, `INSERT INTO tokens (assessment, name, township, admin, prefix, hash, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.Assessment, t.Name, t.Township, t.Admin, t.Prefix, store.HashToken(secret),
		stamp(t.CreatedAt), t.CreatedBy)
	if err != nil {
		return store.Token{}, "", fmt.Errorf("add token: %w", busy(err))
	}
	if t.ID, err = r.LastInsertId(); err != nil {
		return store.Token{}, "", fmt.Errorf("add token: %w", err)
	}
	return t, secret, nil
}

type tokenRow struct {
	ID         int64          `db:"id"`
	Assessment string         `db:"assessment"`
	Name       string         `db:"name"`
	Township   string         `db:"township"`
	Admin      bool           `db:"admin"`
	Prefix     string         `db:"prefix"`
	CreatedAt  string         `db:"created_at"`
	CreatedBy  string         `db:"created_by"`
	RevokedAt  sql.NullString `db:"revoked_at"`
}

func (r tokenRow) token() store.Token {
	t := store.Token{ID: r.ID, Assessment: r.Assessment, Name: r.Name, Township: r.Township, Admin: r.Admin, Prefix: r.Prefix,
		CreatedAt: parseStamp(r.CreatedAt), CreatedBy: r.CreatedBy}
	if r.RevokedAt.Valid {
		at := parseStamp(r.RevokedAt.String)
		t.RevokedAt = &at
	}
	return t
}

const tokenColumns = `id, assessment, name, township, admin, prefix, created_at, created_by, revoked_at`

// Tokens lists the assessment's tokens (every token when assessment is empty), revoked
// ones too, oldest first. Tokens valid in every assessment are listed with each.
func (db *DB) Tokens(ctx context.Context, assessment string) ([]store.Token, error) {
	var rows []tokenRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT `+tokenColumns+` FROM tokens
		WHERE ? = '' OR assessment = ? OR assessment = ? ORDER BY id`, assessment, assessment, store.AllAssessments); err != nil {
		return nil, fmt.Errorf("list tokens: %w", busy(err))
	}
	out := make([]store.Token, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// LookupToken finds the valid token whose secret this is, or returns store.ErrUnknownToken.
func (db *DB) LookupToken(ctx context.Context, secret string) (store.Token, error) {
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) > 200 {
		return store.Token{}, store.ErrUnknownToken
	}
	var r tokenRow
	err := db.db.GetContext(ctx, &r, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ? AND revoked_at IS NULL`, store.HashToken(secret))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, store.ErrUnknownToken
	case err != nil:
		return store.Token{}, fmt.Errorf("look up token: %w", busy(err))
	}
	return r.token(), nil
}

// RevokeToken revokes the token with the id and ends its sessions; it is store.ErrNotFound
// when there is no such token or it was already revoked.
func (db *DB) RevokeToken(ctx context.Context, id int64) (store.Token, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, busy(err))
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, stamp(db.now()), id)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return store.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
		}
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_id = ?`, id); err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: end sessions: %w", id, err)
	}
	var row tokenRow
	if err := tx.GetContext(ctx, &row, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id); err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, busy(err))
	}
	return row.token(), nil
}

// sessionPrefix starts every session id, so that one is never mistaken for a token.
const sessionPrefix = "kps_"

// CreateSession starts a login session for the token until expires and returns its secret
// id; the database keeps only its hash. Expired sessions are dropped on the way.
func (db *DB) CreateSession(ctx context.Context, tokenID int64, now, expires time.Time) (string, error) {
	id, err := newSecret(sessionPrefix)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("create session: %w", busy(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, stamp(now)); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		store.HashToken(id), tokenID, stamp(now), stamp(expires)); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("create session: %w", busy(err))
	}
	return id, nil
}

// LookupSession returns the session with the secret id while it lasts and its token is
// valid; store.ErrUnknownToken otherwise.
func (db *DB) LookupSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	if !strings.HasPrefix(id, sessionPrefix) || len(id) > 200 {
		return store.Session{}, store.ErrUnknownToken
	}
	var row struct {
		tokenRow
		SessionCreated string `db:"session_created"`
		SessionExpires string `db:"session_expires"`
	}
	err := db.db.GetContext(ctx, &row, `SELECT t.id, t.assessment, t.name, t.township, t.admin, t.prefix, t.created_at, t.created_by, t.revoked_at,
		s.created_at AS session_created, s.expires_at AS session_expires
		FROM sessions s JOIN tokens t ON t.id = s.token_id
		WHERE s.hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL`, store.HashToken(id), stamp(now))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, store.ErrUnknownToken
	case err != nil:
		return store.Session{}, fmt.Errorf("look up session: %w", busy(err))
	}
	return store.Session{Token: row.token(), CreatedAt: parseStamp(row.SessionCreated), ExpiresAt: parseStamp(row.SessionExpires)}, nil
}

// EndSession ends the session with the secret id; ending an unknown one changes nothing.
func (db *DB) EndSession(ctx context.Context, id string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, store.HashToken(id)); err != nil {
		return fmt.Errorf("end session: %w", busy(err))
	}
	return nil
}

// linkPrefix starts every login link's secret.
const linkPrefix = "kpl_"

// CreateLoginLink makes a one-time login link for the token, valid until expires, and
// returns its secret; the database keeps only its hash.
func (db *DB) CreateLoginLink(ctx context.Context, tokenID int64, now, expires time.Time) (string, error) {
	secret, err := newSecret(linkPrefix)
	if err != nil {
		return "", fmt.Errorf("create login link: %w", err)
	}
	r, err := db.db.ExecContext(ctx, `INSERT INTO login_links (hash, token_id, created_at, expires_at)
		SELECT ?, id, ?, ? FROM tokens WHERE id = ? AND revoked_at IS NULL`, store.HashToken(secret), stamp(now), stamp(expires), tokenID)
	if err != nil {
		return "", fmt.Errorf("create login link: %w", busy(err))
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return "", fmt.Errorf("create login link for token %d: %w", tokenID, store.ErrNotFound)
	}
	return secret, nil
}

// UseLoginLink spends the link with the secret and returns its token: once only, before
// it expires, while its token is valid.
func (db *DB) UseLoginLink(ctx context.Context, secret string, now time.Time) (store.Token, error) {
	if !strings.HasPrefix(secret, linkPrefix) || len(secret) > 200 {
		return store.Token{}, store.ErrUnknownToken
	}
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return store.Token{}, fmt.Errorf("use login link: %w", busy(err))
	}
	defer tx.Rollback()
	var row struct {
		tokenRow
		Expires string         `db:"link_expires"`
		Used    sql.NullString `db:"link_used"`
	}
	err = tx.GetContext(ctx, &row, `SELECT t.id, t.assessment, t.name, t.township, t.admin, t.prefix, t.created_at, t.created_by, t.revoked_at,
		l.expires_at AS link_expires, l.used_at AS link_used
		FROM login_links l JOIN tokens t ON t.id = l.token_id WHERE l.hash = ?`, store.HashToken(secret))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, store.ErrUnknownToken
	case err != nil:
		return store.Token{}, fmt.Errorf("use login link: %w", err)
	case row.RevokedAt.Valid:
		return store.Token{}, store.ErrUnknownToken
	case row.Used.Valid:
		return store.Token{}, store.ErrLinkUsed
	case !now.Before(parseStamp(row.Expires)):
		return store.Token{}, store.ErrLinkExpired
	}
	if _, err := tx.ExecContext(ctx, `UPDATE login_links SET used_at = ? WHERE hash = ?`, stamp(now), store.HashToken(secret)); err != nil {
		return store.Token{}, fmt.Errorf("use login link: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Token{}, fmt.Errorf("use login link: %w", busy(err))
	}
	return row.token(), nil
}
