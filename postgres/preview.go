package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpimon/kpimon/store"
)

// SavePreview keeps an upload awaiting confirmation. Expired previews are dropped, and
// past the limits (store.PreviewsPerToken for the token, store.PreviewsInAll in all) the
// oldest go first.
func (db *DB) SavePreview(ctx context.Context, p store.Preview, now time.Time) error {
	if len(p.Data) > store.PreviewMaxBytes {
		return fmt.Errorf("save preview: %d bytes, more than %d", len(p.Data), store.PreviewMaxBytes)
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM previews WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM previews WHERE id IN (SELECT id FROM previews WHERE token_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2)`,
			[]any{p.TokenID, store.PreviewsPerToken - 1}},
		{`DELETE FROM previews WHERE id IN (SELECT id FROM previews ORDER BY created_at DESC, id DESC OFFSET $1)`,
			[]any{store.PreviewsInAll - 1}},
		{`INSERT INTO previews (id, token_id, created_at, expires_at, data) VALUES ($1, $2, $3, $4, $5)`,
			[]any{p.ID, p.TokenID, p.CreatedAt, p.ExpiresAt, p.Data}},
	}
	err := db.writeTx(ctx, "", "", func(tx pgx.Tx) error {
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save preview: %w", err)
	}
	return nil
}

// TakePreview removes and returns the preview with the id if the token made it and it has
// not expired; store.ErrNotFound otherwise. A preview is taken once: of two servers asked
// for it at once, one gets it.
func (db *DB) TakePreview(ctx context.Context, id string, tokenID int64, now time.Time) (store.Preview, error) {
	p := store.Preview{}
	err := db.queryRow(ctx, `DELETE FROM previews WHERE id = $1 AND token_id = $2 RETURNING id, token_id, created_at, expires_at, data`,
		id, tokenID).Scan(&p.ID, &p.TokenID, &p.CreatedAt, &p.ExpiresAt, &p.Data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Preview{}, fmt.Errorf("preview %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Preview{}, fmt.Errorf("take preview: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = utc(p.CreatedAt), utc(p.ExpiresAt)
	if !now.Before(p.ExpiresAt) {
		return store.Preview{}, fmt.Errorf("preview %q expired: %w", id, store.ErrNotFound)
	}
	return p, nil
}
