package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
		CreatedAt: db.now().UTC().Truncate(time.Microsecond), CreatedBy: n.CreatedBy}
	if err := db.queryRow(ctx, `INSERT INTO tokens (assessment, name, township, admin, prefix, hash, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, t.Assessment, t.Name, t.Township, t.Admin, t.Prefix, store.HashToken(secret),
		t.CreatedAt, t.CreatedBy).Scan(&t.ID); err != nil {
		return store.Token{}, "", fmt.Errorf("add token: %w", err)
	}
	return t, secret, nil
}

const tokenColumns = `id, assessment, name, township, admin, prefix, created_at, created_by, revoked_at`

// scanToken reads the tokenColumns of a row, and any more destinations after them.
func scanToken(r pgx.Row, more ...any) (store.Token, error) {
	var t store.Token
	err := r.Scan(append([]any{&t.ID, &t.Assessment, &t.Name, &t.Township, &t.Admin, &t.Prefix, &t.CreatedAt, &t.CreatedBy, &t.RevokedAt}, more...)...)
	t.CreatedAt, t.RevokedAt = utc(t.CreatedAt), utcPtr(t.RevokedAt)
	return t, err
}

// Tokens lists the assessment's tokens (every token when assessment is empty), revoked
// ones too, oldest first. Tokens valid in every assessment are listed with each.
func (db *DB) Tokens(ctx context.Context, assessment string) ([]store.Token, error) {
	var out []store.Token
	err := db.query(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE $1::text = '' OR assessment = $1 OR assessment = $2 ORDER BY id`,
		[]any{assessment, store.AllAssessments}, func(r pgx.Rows) error {
			t, err := scanToken(r)
			out = append(out, t)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// LookupToken finds the valid token whose secret this is, or returns store.ErrUnknownToken.
func (db *DB) LookupToken(ctx context.Context, secret string) (store.Token, error) {
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) > 200 {
		return store.Token{}, store.ErrUnknownToken
	}
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 AND revoked_at IS NULL`, store.HashToken(secret)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Token{}, store.ErrUnknownToken
	case err != nil:
		return store.Token{}, fmt.Errorf("look up token: %w", err)
	}
	return t, nil
}

// RevokeToken revokes the token with the id and ends its sessions; it is store.ErrNotFound
// when there is no such token or it was already revoked.
func (db *DB) RevokeToken(ctx context.Context, id int64) (store.Token, error) {
	var t store.Token
	err := db.writeTx(ctx, "", "", func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING `+tokenColumns,
			db.now().UTC(), id))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE token_id = $1`, id)
		return err
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	return t, nil
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
	err = db.writeTx(ctx, "", "", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			store.HashToken(id), tokenID, now, expires)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// LookupSession returns the session with the secret id while it lasts and its token is
// valid; store.ErrUnknownToken otherwise.
func (db *DB) LookupSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	if !strings.HasPrefix(id, sessionPrefix) || len(id) > 200 {
		return store.Session{}, store.ErrUnknownToken
	}
	var s store.Session
	var err error
	s.Token, err = scanToken(db.queryRow(ctx, `SELECT t.id, t.assessment, t.name, t.township, t.admin, t.prefix, t.created_at, t.created_by, t.revoked_at,
		s.created_at, s.expires_at
		FROM sessions s JOIN tokens t ON t.id = s.token_id
		WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`, store.HashToken(id), now), &s.CreatedAt, &s.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Session{}, store.ErrUnknownToken
	case err != nil:
		return store.Session{}, fmt.Errorf("look up session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.ExpiresAt)
	return s, nil
}

// EndSession ends the session with the secret id; ending an unknown one changes nothing.
func (db *DB) EndSession(ctx context.Context, id string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE hash = $1`, store.HashToken(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// linkPrefix starts every login link's secret.
const linkPrefix = "kpl_"

// CreateLoginLink makes a one-time login link for the token, valid until expires, and
// returns its secret; the database keeps only its hash. A revoked or unknown token gets
// store.ErrNotFound.
func (db *DB) CreateLoginLink(ctx context.Context, tokenID int64, now, expires time.Time) (string, error) {
	secret, err := newSecret(linkPrefix)
	if err != nil {
		return "", fmt.Errorf("create login link: %w", err)
	}
	tag, err := db.exec(ctx, `INSERT INTO login_links (hash, token_id, created_at, expires_at)
		SELECT $1, id, $2, $3 FROM tokens WHERE id = $4 AND revoked_at IS NULL`, store.HashToken(secret), now, expires, tokenID)
	if err != nil {
		return "", fmt.Errorf("create login link: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("create login link for token %d: %w", tokenID, store.ErrNotFound)
	}
	return secret, nil
}

// UseLoginLink spends the link with the secret and returns its token: once only
// (store.ErrLinkUsed after; of two servers asked at once, one succeeds), before it expires
// (store.ErrLinkExpired), while its token is valid (store.ErrUnknownToken otherwise).
func (db *DB) UseLoginLink(ctx context.Context, secret string, now time.Time) (store.Token, error) {
	if !strings.HasPrefix(secret, linkPrefix) || len(secret) > 200 {
		return store.Token{}, store.ErrUnknownToken
	}
	var t store.Token
	err := db.writeTx(ctx, "", "", func(tx pgx.Tx) error {
		var expires time.Time
		var used *time.Time
		var err error
		// FOR UPDATE: a second use waits for the first and then sees it used
		t, err = scanToken(tx.QueryRow(ctx, `SELECT t.id, t.assessment, t.name, t.township, t.admin, t.prefix, t.created_at, t.created_by, t.revoked_at,
			l.expires_at, l.used_at
			FROM login_links l JOIN tokens t ON t.id = l.token_id WHERE l.hash = $1 FOR UPDATE OF l`, store.HashToken(secret)), &expires, &used)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrUnknownToken
		case err != nil:
			return err
		case t.RevokedAt != nil:
			return store.ErrUnknownToken
		case used != nil:
			return store.ErrLinkUsed
		case !now.Before(expires):
			return store.ErrLinkExpired
		}
		_, err = tx.Exec(ctx, `UPDATE login_links SET used_at = $1 WHERE hash = $2`, now, store.HashToken(secret))
		return err
	})
	switch {
	case errors.Is(err, store.ErrUnknownToken), errors.Is(err, store.ErrLinkUsed), errors.Is(err, store.ErrLinkExpired):
		return store.Token{}, err
	case err != nil:
		return store.Token{}, fmt.Errorf("use login link: %w", err)
	}
	return t, nil
}
