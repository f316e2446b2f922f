package sqlite

import (
	"context"
	"fmt"
	"time"
)

// AcquireLease makes holder the holder of the named lease for ttl when it is free, expired
// or already holder's, in one statement; it reports whether holder holds it now. A holder
// that stops renewing loses the lease when ttl has passed.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	_, err := db.db.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`, name, holder, stamp(now.Add(ttl)), stamp(now))
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, busy(err))
	}
	var got string
	if err := db.db.GetContext(ctx, &got, `SELECT holder FROM leases WHERE name = ?`, name); err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, busy(err))
	}
	return got == holder, nil
}

// ReleaseLease gives the lease up if holder holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, busy(err))
	}
	return nil
}
