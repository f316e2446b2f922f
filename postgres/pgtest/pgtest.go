// Package pgtest gives tests a fresh, empty PostgreSQL schema of their own on the server
// that the environment variable KPIMON_TEST_POSTGRES names (a URL such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without it, or when that
// server does not answer, tests that need it are skipped with a message saying so — except
// under CI=true, where they fail: CI starts a server (see .ci/run).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable naming the test server.
const Env = "KPIMON_TEST_POSTGRES"

// ServerURL is the test server's URL from the environment; it skips the test (fails it
// under CI=true) when there is none or the server does not answer.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(Env)
	if u == "" {
		unavailable(tb, Env+" is not set: no PostgreSQL to test against (e.g. "+Env+"=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		unavailable(tb, "the PostgreSQL in "+Env+" does not answer: "+err.Error())
	}
	conn.Close(ctx)
	return u
}

func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// URL creates a fresh schema on the test server and returns a URL whose search_path is
// that schema, so a store opened with it sees only its own tables; the schema is dropped
// when the test ends (after cleanups registered later, such as closing the store).
func URL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	var raw [6]byte
	rand.Read(raw[:])
	schema := "kpimon_test_" + hex.EncodeToString(raw[:])
	execSQL(tb, server, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() { execSQL(tb, server, `DROP SCHEMA `+schema+` CASCADE`) })
	return WithParam(tb, server, "search_path", schema)
}

// WithParam returns the URL with one query parameter set.
func WithParam(tb testing.TB, raw, key, value string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on the server at url.
func Exec(tb testing.TB, url, sql string, args ...any) {
	tb.Helper()
	execSQL(tb, url, sql, args...)
}

func execSQL(tb testing.TB, url, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
