package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnknownToken is what looking up a token that does not exist or was revoked returns.
var ErrUnknownToken = errors.New("unknown or revoked token")

// ErrNotFound is what an operation on a record that does not exist returns.
var ErrNotFound = errors.New("not found")

// TokenPrefix starts every token kpimon issues, so a leaked one is recognisable.
const TokenPrefix = "kpm_"

// tokenListPrefix is how many characters of a token are kept in clear for listing.
const tokenListPrefix = len(TokenPrefix) + 8

// Token is an API token as stored: never the secret itself, only its hash and prefix.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`     // the actor of every batch sent with it
	Township  string     `json:"township"` // the township code it may write; empty for admin
	Admin     bool       `json:"admin"`
	Prefix    string     `json:"prefix"` // the first characters of the token, for listing
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewToken says what token to create.
type NewToken struct {
	Name      string // required
	Township  string // a township code; empty with Admin
	Admin     bool
	CreatedBy string
}

// HashToken is the stored form of a token: the hex SHA-256 of the whole token. The token
// carries 256 random bits, so a fast hash is enough (no salt or stretching needed).
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// AddToken creates a token and returns it with its secret, which is not stored and cannot
// be shown again.
func (db *DB) AddToken(ctx context.Context, n NewToken) (Token, string, error) {
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case n.Name == "":
		return Token{}, "", errors.New("add token: a name is required")
	case n.Admin && n.Township != "":
		return Token{}, "", errors.New("add token: an admin token has no township")
	case !n.Admin && n.Township == "":
		return Token{}, "", errors.New("add token: a township or admin is required")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("add token: %w", err)
	}
	secret := TokenPrefix + hex.EncodeToString(raw[:])
	t := Token{Name: n.Name, Township: n.Township, Admin: n.Admin, Prefix: secret[:tokenListPrefix],
		CreatedAt: db.now().UTC(), CreatedBy: n.CreatedBy}
	admin := 0
	if n.Admin {
		admin = 1
	}
	r, err := db.db.ExecContext(ctx, `INSERT INTO tokens (name, township, admin, prefix, hash, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Name, t.Township, admin, t.Prefix, HashToken(secret),
		stamp(t.CreatedAt), t.CreatedBy)
	if err != nil {
		return Token{}, "", fmt.Errorf("add token: %w", err)
	}
	if t.ID, err = r.LastInsertId(); err != nil {
		return Token{}, "", fmt.Errorf("add token: %w", err)
	}
	return t, secret, nil
}

type tokenRow struct {
	ID        int64          `db:"id"`
	Name      string         `db:"name"`
	Township  string         `db:"township"`
	Admin     bool           `db:"admin"`
	Prefix    string         `db:"prefix"`
	CreatedAt string         `db:"created_at"`
	CreatedBy string         `db:"created_by"`
	RevokedAt sql.NullString `db:"revoked_at"`
}

func (r tokenRow) token() Token {
	t := Token{ID: r.ID, Name: r.Name, Township: r.Township, Admin: r.Admin, Prefix: r.Prefix, CreatedBy: r.CreatedBy}
	t.CreatedAt, _ = time.Parse(time.RFC3339Nano, r.CreatedAt)
	if r.RevokedAt.Valid {
		at, _ := time.Parse(time.RFC3339Nano, r.RevokedAt.String)
		t.RevokedAt = &at
	}
	return t
}

const tokenColumns = `id, name, township, admin, prefix, created_at, created_by, revoked_at`

// Tokens lists every token, revoked ones too, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	var rows []tokenRow
	if err := db.db.SelectContext(ctx, &rows, `SELECT `+tokenColumns+` FROM tokens ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// LookupToken finds the valid token whose secret this is, or returns ErrUnknownToken.
func (db *DB) LookupToken(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return Token{}, ErrUnknownToken
	}
	var r tokenRow
	err := db.db.GetContext(ctx, &r, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ? AND revoked_at IS NULL`, HashToken(secret))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Token{}, ErrUnknownToken
	case err != nil:
		return Token{}, fmt.Errorf("look up token: %w", err)
	}
	return r.token(), nil
}

// RevokeToken revokes the token with the id; it is ErrNotFound when there is no such
// token or it was already revoked.
func (db *DB) RevokeToken(ctx context.Context, id int64) (Token, error) {
	r, err := db.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		stamp(db.now()), id)
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
		}
		return Token{}, fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	}
	var row tokenRow
	if err := db.db.GetContext(ctx, &row, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id); err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	return row.token(), nil
}
