package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/store"
)

// SavePreview keeps an upload awaiting confirmation. Expired previews are dropped, and
// past the limits (store.PreviewsPerToken for the token, store.PreviewsInAll in all) the
// oldest go first.
func (db *DB) SavePreview(ctx context.Context, p store.Preview, now time.Time) error {
	if len(p.Data) > store.PreviewMaxBytes {
		return fmt.Errorf("save preview: %d bytes, more than %d", len(p.Data), store.PreviewMaxBytes)
	}
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save preview: %w", busy(err))
	}
	defer tx.Rollback()
	steps := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM previews WHERE expires_at <= ?`, []any{stamp(now)}},
		{`DELETE FROM previews WHERE id IN (SELECT id FROM previews WHERE token_id = ? ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`,
			[]any{p.TokenID, store.PreviewsPerToken - 1}},
		{`DELETE FROM previews WHERE id IN (SELECT id FROM previews ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`,
			[]any{store.PreviewsInAll - 1}},
		{`INSERT INTO previews (id, token_id, created_at, expires_at, data) VALUES (?, ?, ?, ?, ?)`,
			[]any{p.ID, p.TokenID, stamp(p.CreatedAt), stamp(p.ExpiresAt), p.Data}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("save preview: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save preview: %w", busy(err))
	}
	return nil
}

// TakePreview removes and returns the preview with the id if the token made it and it has
// not expired; store.ErrNotFound otherwise. A preview is taken once.
func (db *DB) TakePreview(ctx context.Context, id string, tokenID int64, now time.Time) (store.Preview, error) {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return store.Preview{}, fmt.Errorf("take preview: %w", busy(err))
	}
	defer tx.Rollback()
	var row struct {
		ID        string `db:"id"`
		TokenID   int64  `db:"token_id"`
		CreatedAt string `db:"created_at"`
		ExpiresAt string `db:"expires_at"`
		Data      []byte `db:"data"`
	}
	err = tx.GetContext(ctx, &row, `SELECT id, token_id, created_at, expires_at, data FROM previews WHERE id = ? AND token_id = ?`, id, tokenID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Preview{}, fmt.Errorf("preview %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Preview{}, fmt.Errorf("take preview: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM previews WHERE id = ?`, id); err != nil {
		return store.Preview{}, fmt.Errorf("take preview: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Preview{}, fmt.Errorf("take preview: %w", busy(err))
	}
	p := store.Preview{ID: row.ID, TokenID: row.TokenID, CreatedAt: parseStamp(row.CreatedAt), ExpiresAt: parseStamp(row.ExpiresAt), Data: row.Data}
	if !now.Before(p.ExpiresAt) {
		return store.Preview{}, fmt.Errorf("preview %q expired: %w", id, store.ErrNotFound)
	}
	return p, nil
}
