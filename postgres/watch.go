package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff between attempts to reconnect the watching connection.
const (
	watchRetryFirst = 200 * time.Millisecond
	watchRetryMax   = 5 * time.Second
)

// WatchBatches calls f with an assessment's id soon after a batch of it is committed by any
// process, until ctx is done. Every batch's transaction sends NOTIFY with its assessment's
// id on the schema's channel; this listens on a dedicated connection (not one of the
// pool's) with WaitForNotification. When the connection fails (a restart of the database,
// a network error) it reconnects with a growing pause; each time it (re)starts listening
// it calls f once for every assessment that has batches, so a batch committed while it
// was not listening is not missed (the receiver asks ChangedSince what changed).
func (db *DB) WatchBatches(ctx context.Context, f func(assessment string)) error {
	pause := watchRetryFirst
	for {
		// an error means the database went away or is not back yet: try again
		if listened, _ := db.listen(ctx, f); listened {
			pause = watchRetryFirst
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, watchRetryMax)
	}
}

// listen connects, listens, calls f for every assessment and then for each notification,
// until the connection fails or ctx is done. It reports whether it got as far as listening.
func (db *DB) listen(ctx context.Context, f func(assessment string)) (bool, error) {
	cfg := db.connCfg.Copy()
	cfg.RuntimeParams["application_name"] += " watch"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return false, err
	}
	var all []string
	if err := queryOn(ctx, conn, `SELECT DISTINCT assessment FROM batches`, nil, func(r pgx.Rows) error {
		var a string
		err := r.Scan(&a)
		all = append(all, a)
		return err
	}); err != nil {
		return true, fmt.Errorf("list assessments: %w", err)
	}
	for _, a := range all {
		f(a)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		f(n.Payload)
	}
}
