package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestTokensAreStoredHashedAndRevocable(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	tok, secret, err := db.AddToken(ctx, NewToken{Name: "甲镇妇联", Township: "aa", CreatedBy: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+64 {
		t.Errorf("secret %q does not look like a 256-bit token", secret)
	}
	if !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) >= len(secret)/2 {
		t.Errorf("prefix %q of %q", tok.Prefix, secret)
	}
	// the secret is nowhere in the database, its hash is
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM tokens WHERE hash = ? OR prefix = ? OR name = ?`, secret, secret, secret); err != nil || n != 0 {
		t.Errorf("secret stored in clear (%d rows, %v)", n, err)
	}
	if err := db.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM tokens WHERE hash = ?`, HashToken(secret)); err != nil || n != 1 {
		t.Errorf("hash not stored (%d rows, %v)", n, err)
	}
	got, err := db.LookupToken(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Township != "aa" || got.Admin || got.Name != "甲镇妇联" {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "kpm_", secret + "x", secret[:len(secret)-1] + "0", "Bearer " + secret} {
		if bad == secret {
			continue
		}
		if _, err := db.LookupToken(ctx, bad); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("lookup %q = %v, want ErrUnknownToken", bad, err)
		}
	}
	admin, adminSecret, err := db.AddToken(ctx, NewToken{Name: "县妇联办公室", Admin: true})
	if err != nil || !admin.Admin || admin.Township != "" {
		t.Fatalf("admin token %+v %v", admin, err)
	}
	if adminSecret == secret {
		t.Fatal("two tokens with the same secret")
	}
	if _, err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupToken(ctx, secret); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("revoked token still accepted: %v", err)
	}
	if _, err := db.RevokeToken(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke = %v, want ErrNotFound", err)
	}
	if _, err := db.RevokeToken(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke of a missing id = %v, want ErrNotFound", err)
	}
	list, err := db.Tokens(ctx)
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
		t.Errorf("list = %+v, %v", list, err)
	}
	for _, bad := range []NewToken{{Name: ""}, {Name: "x"}, {Name: "x", Admin: true, Township: "aa"}} {
		if _, _, err := db.AddToken(ctx, bad); err == nil {
			t.Errorf("AddToken(%+v) accepted", bad)
		}
	}
}

func TestLockedMonthRefusesChanges(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	a := testAssessment(t)
	clock := time.Date(2024, 4, 10, 8, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return clock })
	march := []kpi.Observation{o("aa", "screenings", "2024-03", 10), r("aa", "closure", "2024-03", 9, 10)}
	if _, err := db.Ingest(ctx, a, Batch{Actor: "甲镇", Source: "mar.csv", SHA256: "1", Observations: march}); err != nil {
		t.Fatal(err)
	}
	l, made, err := db.LockPeriod(ctx, kpi.MustPeriod("2024-03"), "县妇联办公室")
	if err != nil || !made || l.By != "县妇联办公室" || !l.At.Equal(clock) {
		t.Fatalf("lock = %+v %v %v", l, made, err)
	}
	if _, made, _ := db.LockPeriod(ctx, kpi.MustPeriod("2024-03"), "someone"); made {
		t.Error("locking a locked month made a second lock")
	}
	// a correction to March together with new April figures: all refused, nothing written
	fix := Batch{Actor: "甲镇", Source: "fix.csv", SHA256: "2", Observations: []kpi.Observation{
		o("aa", "screenings", "2024-04", 5), o("aa", "screenings", "2024-03", 12),
	}}
	_, err = db.Ingest(ctx, a, fix)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || len(le.Periods) != 1 || le.Periods[0] != kpi.MustPeriod("2024-03") {
		t.Fatalf("ingest into a locked month = %v, want a LockedError for 2024-03", err)
	}
	if !strings.Contains(err.Error(), "2024-03 已锁定") {
		t.Errorf("message %q", err)
	}
	if hist, _ := db.History(ctx, "aa", "screenings", kpi.Period{}); len(hist) != 1 || hist[0].Value != 10 {
		t.Errorf("history after a refused batch: %+v", hist)
	}
	if bs, _ := db.Batches(ctx, 10); len(bs) != 1 {
		t.Errorf("%d batches recorded, want 1", len(bs))
	}
	// re-reporting March unchanged with April is allowed: nothing in March changes
	same := Batch{Actor: "甲镇", Source: "apr.csv", SHA256: "3", Observations: append(march, o("aa", "screenings", "2024-04", 5))}
	res, err := db.Ingest(ctx, a, same)
	if err != nil || res.New != 1 || res.Unchanged != 2 {
		t.Errorf("unchanged re-report of a locked month: %+v %v", res, err)
	}
	locks, err := db.Locks(ctx)
	if err != nil || len(locks) != 1 || locks[0].Period != kpi.MustPeriod("2024-03") {
		t.Errorf("locks = %+v %v", locks, err)
	}
	// after unlocking the correction goes through
	// a batch changing two locked months names both at once
	if _, _, err := db.LockPeriod(ctx, kpi.MustPeriod("2024-04"), "县妇联办公室"); err != nil {
		t.Fatal(err)
	}
	both := Batch{Actor: "甲镇", Source: "both.csv", SHA256: "4", Observations: []kpi.Observation{
		o("aa", "screenings", "2024-03", 13), o("aa", "screenings", "2024-04", 6),
	}}
	if _, err := db.Ingest(ctx, a, both); !errors.As(err, &le) || len(le.Periods) != 2 || !strings.Contains(err.Error(), "2024-03、2024-04 已锁定") {
		t.Errorf("a batch into two locked months: %v", err)
	}
	if ok, err := db.UnlockPeriod(ctx, kpi.MustPeriod("2024-04"), "admin"); err != nil || !ok {
		t.Fatalf("unlock = %v %v", ok, err)
	}
	if ok, err := db.UnlockPeriod(ctx, kpi.MustPeriod("2024-03"), "admin"); err != nil || !ok {
		t.Fatalf("unlock = %v %v", ok, err)
	}
	if ok, _ := db.UnlockPeriod(ctx, kpi.MustPeriod("2024-03"), "admin"); ok {
		t.Error("unlocking an unlocked month reported a change")
	}
	if _, err := db.Ingest(ctx, a, fix); err != nil {
		t.Errorf("ingest after unlock: %v", err)
	}
	var events int
	if err := db.db.GetContext(ctx, &events, `SELECT COUNT(*) FROM lock_events`); err != nil || events != 4 {
		t.Errorf("lock events = %d %v, want 4 (two locks, two unlocks)", events, err)
	}
}
