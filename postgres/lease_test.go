package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/kpimon/kpimon/postgres/pgtest"
)

// Two servers (two stores on one schema) compete for a lease: one holds it while its
// connection lives; when the holder's process dies (its session ends), the other takes it
// at its next attempt, and the old holder learns it lost it.
func TestLeasePassesWhenTheHolderDies(t *testing.T) {
	ctx := context.Background()
	var raw [4]byte
	rand.Read(raw[:])
	app := "kpimon-test-" + hex.EncodeToString(raw[:])
	url := pgtest.URL(t)
	one := openURL(t, pgtest.WithParam(t, url, "application_name", app))
	two := openURL(t, url)
	now := time.Now()
	acquire := func(db *DB, holder string) bool {
		t.Helper()
		ok, err := db.AcquireLease(ctx, "sender", holder, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire(one, "server-1") {
		t.Fatal("the first server did not get a free lease")
	}
	for range 3 {
		if acquire(two, "server-2") {
			t.Fatal("the second server took a held lease")
		}
		if !acquire(one, "server-1") {
			t.Fatal("the holder lost its lease while its connection lives")
		}
	}
	// the holder's process dies: its lease connection ends
	pgtest.Exec(t, url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app+" lease sender server-1")
	deadline := time.Now().Add(5 * time.Second)
	for !acquire(two, "server-2") {
		if time.Now().After(deadline) {
			t.Fatal("the lease did not pass to the second server within 5 s of the holder's death")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if acquire(one, "server-1") {
		t.Error("the old holder still believes it holds the lease")
	}
	if err := two.ReleaseLease(ctx, "sender", "server-2"); err != nil {
		t.Fatal(err)
	}
	if !acquire(one, "server-1") {
		t.Error("a released lease could not be taken")
	}
}

// A holder that stops renewing loses the lease ttl after its last renewal.
func TestLeaseLapsesWithoutRenewal(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	one, two := openURL(t, url), openURL(t, url)
	ttl := 300 * time.Millisecond
	if ok, err := one.AcquireLease(ctx, "sender", "server-1", ttl, time.Now()); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	time.Sleep(ttl / 2)
	if ok, _ := one.AcquireLease(ctx, "sender", "server-1", ttl, time.Now()); !ok {
		t.Fatal("renewal failed")
	}
	time.Sleep(ttl / 2)
	if ok, _ := two.AcquireLease(ctx, "sender", "server-2", ttl, time.Now()); ok {
		t.Fatal("the lease lapsed although it was renewed within ttl")
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if ok, _ := two.AcquireLease(ctx, "sender", "server-2", ttl, time.Now()); !ok {
		t.Error("the lease did not lapse ttl after the last renewal")
	}
}

// Two deployments in two schemas of one database have leases of their own.
func TestLeasesOfTwoSchemasAreApart(t *testing.T) {
	ctx := context.Background()
	x, y := mustOpen(t), mustOpen(t)
	for _, db := range []*DB{x, y} {
		if ok, err := db.AcquireLease(ctx, "sender", "server-1", time.Minute, time.Now()); err != nil || !ok {
			t.Errorf("%s: %v %v; want its own lease", db.Schema(), ok, err)
		}
	}
}
