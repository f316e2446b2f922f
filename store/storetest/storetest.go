// Package storetest is the conformance suite of the store contract: every rule of package
// store, checked the same way against every backend. A backend's tests call Run with a
// function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Backend is a store under test, with its clock replaceable (batches, locks and tokens are
// stamped with it).
type Backend interface {
	store.Store
	SetClock(now func() time.Time)
}

// Opener opens a fresh, empty store for one test and closes it when the test ends.
type Opener func(t *testing.T) Backend

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(*testing.T, Backend)
	}{
		{"IngestCorrectionsAndIdempotence", testIngestCorrectionsAndIdempotence},
		{"LargeBatch", testLargeBatch},
		{"LoadDatasetSkipsWhatTheConfigNoLongerHas", testLoadSkips},
		{"WriterInChunksIsOneTransaction", testWriterChunks},
		{"LockedMonthRefusesChanges", testLocks},
		{"TokensAreStoredHashedAndRevocable", testTokens},
		{"Sessions", testSessions},
		{"Previews", testPreviews},
		{"LoginLinks", testLoginLinks},
		{"AlertLifecycle", testAlertLifecycle},
		{"NotificationsAreRecordedOnce", testNotifications},
		{"LastReportsAgreesWithLastReport", testLastReports},
		{"TownshipHistoryAgreesWithHistory", testTownshipHistory},
		{"AssessmentsStayApart", testAssessmentsApart},
		{"ChangedSince", testChangedSince},
		{"ConcurrentBatchesAreWholeAndOrdered", testConcurrentBatches},
		{"Leases", testLeases},
		{"WatchBatches", testWatchBatches},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// Assessment is the two-township assessment most tests use (id "test").
func Assessment(tb testing.TB) *kpi.Assessment { return assessmentNamed(tb, "test", 2024) }

func assessmentNamed(tb testing.TB, id string, year int) *kpi.Assessment {
	tb.Helper()
	a, err := kpi.ParseConfig(id+".yaml", []byte(fmt.Sprintf(`name: 测试
year: %d
townships:
  - {code: aa, name: 甲镇}
  - {code: bb, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 100}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
`, year)))
	if err != nil {
		tb.Fatal(err)
	}
	if a.ID != id {
		tb.Fatalf("assessment id %q, want %q", a.ID, id)
	}
	return a
}

func o(tw, ind, p string, v float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Value: v}
}

func r(tw, ind, p string, n, d float64) kpi.Observation {
	return kpi.Observation{Township: tw, Indicator: ind, Period: kpi.MustPeriod(p), Numerator: n, Denominator: d}
}

func batch(actor, source, sha string, obs ...kpi.Observation) store.Batch {
	return store.Batch{BatchMeta: store.BatchMeta{Actor: actor, Source: source, SHA256: sha}, Observations: obs}
}

func testIngestCorrectionsAndIdempotence(t *testing.T, db Backend) {
	ctx := context.Background()
	a := Assessment(t)
	clock := time.Date(2024, 2, 3, 9, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return clock })

	first := batch("甲镇妇联", "jan.csv", "aaa", o("aa", "screenings", "2024-01", 10), r("aa", "closure", "2024-01", 9, 10), o("bb", "screenings", "2024-01", 4))
	res, err := db.Ingest(ctx, a, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.Corrected != 0 || res.Unchanged != 0 || res.BatchID == 0 || len(res.Written) != 3 {
		t.Errorf("first ingest: %+v", res)
	}
	again, err := db.Ingest(ctx, a, first)
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Corrected != 0 || again.Unchanged != 3 || again.BatchID != 0 || len(again.Written) != 0 || again.Changed() {
		t.Errorf("second ingest of the same batch: %+v", again)
	}
	if batches, _ := db.Batches(ctx, a.ID, 10); len(batches) != 1 {
		t.Errorf("batches after re-ingest: %d, want 1", len(batches))
	}
	clock = clock.Add(48 * time.Hour)
	fix := batch("县妇联办公室", "fix.json", "bbb", o("aa", "screenings", "2024-01", 12), r("aa", "closure", "2024-01", 9, 10))
	res, err = db.Ingest(ctx, a, fix)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 0 || res.Corrected != 1 || res.Unchanged != 1 || len(res.Written) != 1 || res.Written[0].Value != 12 {
		t.Errorf("correction: %+v", res)
	}
	d, st, err := db.LoadDataset(ctx, a)
	if err != nil || st.Loaded != 3 || st.LastBatch != res.BatchID {
		t.Fatalf("load: %+v %v (want 3 loaded, last batch %d)", st, err, res.BatchID)
	}
	got, _ := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01")})
	if got.Value != 12 {
		t.Errorf("current value %v, want the corrected 12", got.Value)
	}
	ratio, _ := d.Get(kpi.Key{Township: "aa", Indicator: "closure", Period: kpi.MustPeriod("2024-01")})
	if ratio.Numerator != 9 || ratio.Denominator != 10 {
		t.Errorf("ratio loaded as %+v", ratio)
	}
	hist, err := db.History(ctx, a.ID, "aa", "screenings", kpi.Period{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("history has %d revisions, want 2: %+v", len(hist), hist)
	}
	cur, old := hist[0], hist[1]
	if !cur.Current || cur.Value != 12 || cur.Actor != "县妇联办公室" || cur.Source != "fix.json" || !cur.At.Equal(clock) {
		t.Errorf("current revision %+v", cur)
	}
	if old.Current || old.Value != 10 || old.Actor != "甲镇妇联" || old.Source != "jan.csv" || old.SupersededAt == nil || !old.SupersededAt.Equal(clock) || old.SupersededBy != "县妇联办公室" {
		t.Errorf("old revision %+v", old)
	}
	if h, _ := db.History(ctx, a.ID, "aa", "closure", kpi.MustPeriod("2024-01")); len(h) != 1 || h[0].Denominator == nil || *h[0].Denominator != 10 {
		t.Errorf("ratio history %+v", h)
	}
	last, ok, err := db.LastReport(ctx, a.ID, kpi.MustPeriod("2024-01"))
	if err != nil || !ok || !last.Equal(clock) {
		t.Errorf("LastReport = %v %v %v, want %v", last, ok, err, clock)
	}
	if _, ok, _ := db.LastReport(ctx, a.ID, kpi.MustPeriod("2024-05")); ok {
		t.Error("LastReport for a month without reports: got one")
	}
	bs, err := db.Batches(ctx, a.ID, 10)
	if err != nil || len(bs) != 2 || bs[0].Actor != "县妇联办公室" || bs[0].SHA256 != "bbb" || bs[0].Corrected != 1 || bs[1].New != 3 || !bs[1].At.Equal(clock.Add(-48*time.Hour)) {
		t.Errorf("batches %+v %v", bs, err)
	}
}

func testLargeBatch(t *testing.T, db Backend) {
	ctx := context.Background()
	cfg := "name: 大批量\nyear: 2024\ntownships:\n"
	for i := 0; i < 200; i++ {
		cfg += fmt.Sprintf("  - {code: t%03d, name: 镇%03d}\n", i, i)
	}
	cfg += "indicators:\n  - {code: screenings, name: 筛查, kind: count, weight: 100, target: 100}\n"
	a, err := kpi.ParseConfig("big.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	build := func(months int, bump string) []kpi.Observation {
		var obs []kpi.Observation
		for i := 0; i < 200; i++ {
			for m := 1; m <= months; m++ {
				x := o(fmt.Sprintf("t%03d", i), "screenings", kpi.Period{Year: 2024, Month: m}.String(), float64(i*m))
				if x.Township+"/"+x.Period.String() == bump {
					x.Value++
				}
				obs = append(obs, x)
			}
		}
		return obs
	}
	if _, err := db.Ingest(ctx, a, batch("t", "s", "x", build(10, "")...)); err != nil {
		t.Fatal(err)
	}
	res, err := db.Ingest(ctx, a, batch("t", "s2", "y", build(12, "t007/2024-03")...)) // 2,000 old keys, one changed, 400 new
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 400 || res.Corrected != 1 || res.Unchanged != 1999 {
		t.Errorf("got %+v, want 400 new, 1 corrected, 1999 unchanged", res)
	}
	d, st, err := db.LoadDataset(ctx, a)
	if err != nil || st.Loaded != 2400 {
		t.Fatalf("loaded %+v %v", st, err)
	}
	if g, _ := d.Get(kpi.Key{Township: "t007", Indicator: "screenings", Period: kpi.MustPeriod("2024-03")}); g.Value != 22 {
		t.Errorf("t007/2024-03 = %v, want 22", g.Value)
	}
}

func testLoadSkips(t *testing.T, db Backend) {
	ctx := context.Background()
	wide, err := kpi.ParseConfig("test.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}, {code: gone, name: 已撤并镇}]
indicators: [{code: screenings, name: 筛查, kind: count, weight: 50, target: 100}, {code: closure, name: 办结率, kind: ratio, weight: 50, threshold: 0.98}]
`))
	if err != nil {
		t.Fatal(err)
	}
	obs := []kpi.Observation{o("aa", "screenings", "2024-01", 5), o("gone", "screenings", "2024-01", 7), r("aa", "closure", "2024-02", 3, 4),
		o("aa", "screenings", "2023-12", 9)} // another year: not loaded for 2024
	if _, err := db.Ingest(ctx, wide, batch("t", "s", "x", obs...)); err != nil {
		t.Fatal(err)
	}
	d, st, err := db.LoadDataset(ctx, Assessment(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Loaded != 2 || st.Skipped != 1 {
		t.Errorf("loaded %d, skipped %d; want 2 and 1", st.Loaded, st.Skipped)
	}
	got, ok := d.Get(kpi.Key{Township: "aa", Indicator: "closure", Period: kpi.MustPeriod("2024-02")})
	if !ok || got.Numerator != 3 || got.Denominator != 4 {
		t.Errorf("ratio loaded as %+v %v", got, ok)
	}
}

func testWriterChunks(t *testing.T, db Backend) {
	ctx := context.Background()
	a := Assessment(t)
	chunks := [][]kpi.Observation{
		{o("aa", "screenings", "2024-01", 1), o("bb", "screenings", "2024-01", 2)},
		{r("aa", "closure", "2024-01", 1, 2), o("aa", "screenings", "2024-02", 3)},
	}
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: "t", Source: "s", SHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(chunks[0]); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if d, st, _ := db.LoadDataset(ctx, a); st.Loaded != 0 || d.Len() != 0 {
		t.Fatalf("an aborted batch left %d observations", st.Loaded)
	}
	if b, _ := db.Batches(ctx, a.ID, 5); len(b) != 0 {
		t.Fatalf("an aborted batch was recorded: %+v", b)
	}
	w, err = db.NewWriter(ctx, a, store.BatchMeta{Actor: "t", Source: "s", SHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	w.Describe("two.csv", "digest")
	res, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 4 || res.Total != 4 || res.Written != nil {
		t.Errorf("result %+v, want 4 new and no Written list", res)
	}
	b, _ := db.Batches(ctx, a.ID, 5)
	if len(b) != 1 || b[0].Total != 4 || b[0].New != 4 || b[0].Source != "two.csv" || b[0].SHA256 != "digest" {
		t.Errorf("batches %+v", b)
	}
	if err := w.Write(chunks[0]); err == nil {
		t.Error("a write after commit was accepted")
	}
}

func testLocks(t *testing.T, db Backend) {
	ctx := context.Background()
	a := Assessment(t)
	clock := time.Date(2024, 4, 10, 8, 0, 0, 0, time.UTC)
	db.SetClock(func() time.Time { return clock })
	march := []kpi.Observation{o("aa", "screenings", "2024-03", 10), r("aa", "closure", "2024-03", 9, 10)}
	if _, err := db.Ingest(ctx, a, batch("甲镇", "mar.csv", "1", march...)); err != nil {
		t.Fatal(err)
	}
	l, made, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-03"), "县妇联办公室")
	if err != nil || !made || l.By != "县妇联办公室" || !l.At.Equal(clock) {
		t.Fatalf("lock = %+v %v %v", l, made, err)
	}
	if _, made, _ := db.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-03"), "someone"); made {
		t.Error("locking a locked month made a second lock")
	}
	fix := batch("甲镇", "fix.csv", "2", o("aa", "screenings", "2024-04", 5), o("aa", "screenings", "2024-03", 12))
	_, err = db.Ingest(ctx, a, fix)
	var le *store.LockedError
	if !errors.Is(err, store.ErrLocked) || !errors.As(err, &le) || len(le.Periods) != 1 || le.Periods[0] != kpi.MustPeriod("2024-03") {
		t.Fatalf("ingest into a locked month = %v, want a LockedError for 2024-03", err)
	}
	if !strings.Contains(err.Error(), "2024-03 已锁定") || !strings.Contains(err.Error(), "--assessment test") {
		t.Errorf("message %q", err)
	}
	if hist, _ := db.History(ctx, a.ID, "aa", "screenings", kpi.Period{}); len(hist) != 1 || hist[0].Value != 10 {
		t.Errorf("history after a refused batch: %+v", hist)
	}
	if bs, _ := db.Batches(ctx, a.ID, 10); len(bs) != 1 {
		t.Errorf("%d batches recorded, want 1", len(bs))
	}
	same := batch("甲镇", "apr.csv", "3", append(march, o("aa", "screenings", "2024-04", 5))...)
	if res, err := db.Ingest(ctx, a, same); err != nil || res.New != 1 || res.Unchanged != 2 {
		t.Errorf("unchanged re-report of a locked month: %+v %v", res, err)
	}
	if locks, err := db.Locks(ctx, a.ID); err != nil || len(locks) != 1 || locks[0].Period != kpi.MustPeriod("2024-03") {
		t.Errorf("locks = %+v %v", locks, err)
	}
	if locks, _ := db.Locks(ctx, "other"); len(locks) != 0 {
		t.Errorf("another assessment sees the locks: %+v", locks)
	}
	if _, _, err := db.LockPeriod(ctx, a.ID, kpi.MustPeriod("2024-04"), "县妇联办公室"); err != nil {
		t.Fatal(err)
	}
	both := batch("甲镇", "both.csv", "4", o("aa", "screenings", "2024-03", 13), o("aa", "screenings", "2024-04", 6))
	if _, err := db.Ingest(ctx, a, both); !errors.As(err, &le) || len(le.Periods) != 2 || !strings.Contains(err.Error(), "2024-03、2024-04 已锁定") {
		t.Errorf("a batch into two locked months: %v", err)
	}
	for _, p := range []string{"2024-04", "2024-03"} {
		if ok, err := db.UnlockPeriod(ctx, a.ID, kpi.MustPeriod(p), "admin"); err != nil || !ok {
			t.Fatalf("unlock %s = %v %v", p, ok, err)
		}
	}
	if ok, _ := db.UnlockPeriod(ctx, a.ID, kpi.MustPeriod("2024-03"), "admin"); ok {
		t.Error("unlocking an unlocked month reported a change")
	}
	if _, err := db.Ingest(ctx, a, fix); err != nil {
		t.Errorf("ingest after unlock: %v", err)
	}
}

func testTokens(t *testing.T, db Backend) {
	ctx := context.Background()
	tok, secret, err := db.AddToken(ctx, store.NewToken{Assessment: "test", Name: "甲镇妇联", Township: "aa", CreatedBy: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) != len(store.TokenPrefix)+64 {
		t.Errorf("secret %q does not look like a 256-bit token", secret)
	}
	if !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) >= len(secret)/2 {
		t.Errorf("prefix %q of %q", tok.Prefix, secret)
	}
	got, err := db.LookupToken(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Township != "aa" || got.Admin || got.Name != "甲镇妇联" || got.Assessment != "test" {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "kpm_", secret + "x", secret[:len(secret)-1] + "0", "Bearer " + secret, store.HashToken(secret)} {
		if bad == secret {
			continue
		}
		if _, err := db.LookupToken(ctx, bad); !errors.Is(err, store.ErrUnknownToken) {
			t.Errorf("lookup %q = %v, want ErrUnknownToken", bad, err)
		}
	}
	admin, adminSecret, err := db.AddToken(ctx, store.NewToken{Assessment: store.AllAssessments, Name: "市妇联办公室", Admin: true})
	if err != nil || !admin.Admin || admin.Township != "" || admin.Assessment != store.AllAssessments {
		t.Fatalf("admin token %+v %v", admin, err)
	}
	if adminSecret == secret {
		t.Fatal("two tokens with the same secret")
	}
	other, _, err := db.AddToken(ctx, store.NewToken{Assessment: "other", Name: "乙县甲镇", Township: "aa"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := db.Tokens(ctx, "test"); err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].ID != admin.ID {
		t.Errorf("tokens of test = %+v, %v; want its own and the deployment admin", list, err)
	}
	if _, err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupToken(ctx, secret); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("revoked token still accepted: %v", err)
	}
	if _, err := db.RevokeToken(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second revoke = %v, want ErrNotFound", err)
	}
	if _, err := db.RevokeToken(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke of a missing id = %v, want ErrNotFound", err)
	}
	list, err := db.Tokens(ctx, "")
	if err != nil || len(list) != 3 || list[0].RevokedAt == nil || list[1].RevokedAt != nil || list[2].ID != other.ID {
		t.Errorf("list = %+v, %v", list, err)
	}
	for _, bad := range []store.NewToken{{Assessment: "test", Name: ""}, {Assessment: "test", Name: "x"}, {Assessment: "test", Name: "x", Admin: true, Township: "aa"},
		{Name: "x", Township: "aa"}, {Assessment: store.AllAssessments, Name: "x", Township: "aa"}} {
		if _, _, err := db.AddToken(ctx, bad); err == nil {
			t.Errorf("AddToken(%+v) accepted", bad)
		}
	}
}

func testSessions(t *testing.T, db Backend) {
	ctx := context.Background()
	tok, _, err := db.AddToken(ctx, store.NewToken{Assessment: "test", Name: "甲镇妇联", Township: "aa"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	id, err := db.CreateSession(ctx, tok.ID, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(id, store.TokenPrefix) || len(id) < 64 {
		t.Errorf("session id %q: want a long random id that is not a token", id)
	}
	s, err := db.LookupSession(ctx, id, now.Add(30*time.Minute))
	if err != nil || s.Token.ID != tok.ID || s.Token.Township != "aa" || !s.ExpiresAt.Equal(now.Add(time.Hour)) || !s.CreatedAt.Equal(now) {
		t.Fatalf("lookup = %+v, %v", s, err)
	}
	if _, err := db.LookupSession(ctx, id, now.Add(time.Hour)); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("an expired session = %v, want ErrUnknownToken", err)
	}
	if _, err := db.LookupToken(ctx, id); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("a session id used as a token = %v, want ErrUnknownToken", err)
	}
	if _, err := db.LookupSession(ctx, store.HashToken(id), now); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("the stored hash used as a session id = %v", err)
	}
	second, err := db.CreateSession(ctx, tok.ID, now, now.Add(time.Hour))
	if err != nil || second == id {
		t.Fatalf("second session %q %v", second, err)
	}
	if err := db.EndSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupSession(ctx, id, now); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("a session after logout = %v", err)
	}
	if _, err := db.LookupSession(ctx, second, now); err != nil {
		t.Errorf("logging out one session ended another: %v", err)
	}
	if err := db.EndSession(ctx, "kps_unknown"); err != nil {
		t.Errorf("ending an unknown session: %v", err)
	}
	if _, err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupSession(ctx, second, now); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("a session of a revoked token = %v, want ErrUnknownToken", err)
	}
}

func testPreviews(t *testing.T, db Backend) {
	ctx := context.Background()
	now := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	save := func(id string, token int64, at time.Time) {
		t.Helper()
		if err := db.SavePreview(ctx, store.Preview{ID: id, TokenID: token, CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute), Data: []byte("data " + id)}, at); err != nil {
			t.Fatal(err)
		}
	}
	save("p1", 1, now)
	if _, err := db.TakePreview(ctx, "p1", 2, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another token took the preview: %v", err)
	}
	p, err := db.TakePreview(ctx, "p1", 1, now.Add(time.Minute))
	if err != nil || string(p.Data) != "data p1" || p.TokenID != 1 || !p.CreatedAt.Equal(now) {
		t.Fatalf("take = %+v, %v", p, err)
	}
	if _, err := db.TakePreview(ctx, "p1", 1, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a preview taken twice: %v", err)
	}
	save("late", 1, now)
	if _, err := db.TakePreview(ctx, "late", 1, now.Add(15*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired preview was taken: %v", err)
	}
	// per token: the oldest beyond the limit go first; other tokens' stay
	save("other", 2, now)
	for i := range store.PreviewsPerToken + 1 {
		save(fmt.Sprintf("mine%d", i), 3, now.Add(time.Duration(i)*time.Second))
	}
	if _, err := db.TakePreview(ctx, "mine0", 3, now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the oldest preview beyond the per-token limit was kept: %v", err)
	}
	for i := 1; i <= store.PreviewsPerToken; i++ {
		if _, err := db.TakePreview(ctx, fmt.Sprintf("mine%d", i), 3, now.Add(time.Minute)); err != nil {
			t.Errorf("preview mine%d: %v", i, err)
		}
	}
	// in all
	for i := range store.PreviewsInAll + 5 {
		save(fmt.Sprintf("many%03d", i), int64(100+i), now.Add(time.Duration(i)*time.Second))
	}
	if _, err := db.TakePreview(ctx, "other", 2, now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the store kept more than %d previews", store.PreviewsInAll)
	}
	last := store.PreviewsInAll + 4
	if _, err := db.TakePreview(ctx, fmt.Sprintf("many%03d", last), int64(100+last), now.Add(time.Minute)); err != nil {
		t.Errorf("the newest preview was dropped: %v", err)
	}
	big := store.Preview{ID: "big", TokenID: 1, CreatedAt: now, ExpiresAt: now.Add(time.Minute), Data: make([]byte, store.PreviewMaxBytes+1)}
	if err := db.SavePreview(ctx, big, now); err == nil {
		t.Error("a preview over the size limit was kept")
	}
}

func alertOf(name, tw, ind, sev, since string) kpi.Alert {
	return kpi.Alert{Alert: name, Township: tw, Indicator: ind, Severity: sev, ActiveSince: kpi.MustPeriod(since), Summary: tw + ind + sev}
}

func testAlertLifecycle(t *testing.T, db Backend) {
	ctx := context.Background()
	t0 := time.Date(2024, 4, 6, 0, 0, 1, 0, time.UTC)
	p := kpi.MustPeriod("2024-03")
	missing := alertOf(kpi.AlertMissingReport, "aa", "screenings", kpi.SeverityWarning, "2024-03")
	behind := alertOf(kpi.AlertBehindPace, "bb", "screenings", kpi.SeverityWarning, "2024-03")
	deadline := time.Date(2024, 4, 5, 16, 0, 0, 0, time.UTC)
	began := func(al kpi.Alert) time.Time {
		if al.Alert == kpi.AlertMissingReport {
			return deadline
		}
		return time.Time{}
	}
	ch, err := db.SyncAlerts(ctx, "test", t0, p, []kpi.Alert{missing, behind}, began)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 2 || len(ch.Resolved) != 0 || len(ch.Escalated) != 0 {
		t.Fatalf("first sync: %+v, want 2 fired", ch)
	}
	if !ch.Fired[0].StartedAt.Equal(deadline) || ch.Fired[0].ID == 0 || !ch.Fired[1].StartedAt.Equal(t0) {
		t.Errorf("fired = %+v, want the missing report started at its deadline %v, the other at %v, with ids", ch.Fired, deadline, t0)
	}
	// another assessment's alerts are its own
	if och, err := db.SyncAlerts(ctx, "other", t0, p, []kpi.Alert{missing}, nil); err != nil || len(och.Fired) != 1 {
		t.Fatalf("other assessment: %+v %v", och, err)
	}
	t1 := t0.Add(time.Minute)
	if ch, err = db.SyncAlerts(ctx, "test", t1, p, []kpi.Alert{missing, behind}, began); err != nil || !ch.Empty() {
		t.Errorf("second sync with the same alerts changed %+v %v", ch, err)
	}
	t2 := t0.Add(30 * 24 * time.Hour)
	p2 := kpi.MustPeriod("2024-04")
	behind2 := behind
	behind2.Severity, behind2.Summary = kpi.SeverityCritical, "已连续2个月滞后"
	ch, err = db.SyncAlerts(ctx, "test", t2, p2, []kpi.Alert{behind2}, began)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 0 || len(ch.Resolved) != 1 || len(ch.Escalated) != 1 {
		t.Fatalf("third sync: %+v, want 1 resolved and 1 escalated", ch)
	}
	if r := ch.Resolved[0]; r.Key() != missing.Key() || r.ResolvedAt == nil || !r.ResolvedAt.Equal(t2) || !r.StartedAt.Equal(deadline) {
		t.Errorf("resolved = %+v", r)
	}
	if e := ch.Escalated[0]; e.Severity != kpi.SeverityCritical || !e.StartedAt.Equal(t0) || e.Period != p2 {
		t.Errorf("escalated = %+v, want critical, still started at %v", e, t0)
	}
	firing, err := db.FiringAlerts(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(firing) != 1 || firing[0].Key() != behind.Key() || firing[0].Summary != "已连续2个月滞后" || !firing[0].Firing() || firing[0].Period != p2 {
		t.Errorf("firing = %+v, want the escalated behind_pace", firing)
	}
	if of, _ := db.FiringAlerts(ctx, "other"); len(of) != 1 {
		t.Errorf("the other assessment's alert was resolved by this one's sync: %+v", of)
	}
	resolved, err := db.ResolvedAlerts(ctx, "test", t2.Add(-time.Second))
	if err != nil || len(resolved) != 1 || resolved[0].Key() != missing.Key() || resolved[0].Firing() {
		t.Errorf("resolved since = %+v %v", resolved, err)
	}
	if later, _ := db.ResolvedAlerts(ctx, "test", t2.Add(time.Second)); len(later) != 0 {
		t.Errorf("resolved after the resolution time: %+v", later)
	}
	t3 := t2.Add(time.Hour)
	ch, err = db.SyncAlerts(ctx, "test", t3, p2, []kpi.Alert{behind2, missing}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Fired) != 1 || !ch.Fired[0].StartedAt.Equal(t3) || ch.Fired[0].ID == resolved[0].ID {
		t.Errorf("refire = %+v, want a new run from %v", ch.Fired, t3)
	}
	if all, _ := db.ResolvedAlerts(ctx, "test", time.Time{}); len(all) != 1 {
		t.Errorf("history has %d resolved runs, want 1", len(all))
	}
	if f, _ := db.FiringAlerts(ctx, "test"); len(f) != 2 {
		t.Errorf("%d firing, want 2", len(f))
	}
	if _, err := db.SyncAlerts(ctx, "test", t3, p2, []kpi.Alert{missing, missing}, nil); err == nil {
		t.Error("the same alert listed twice was accepted")
	}
}

func testNotifications(t *testing.T, db Backend) {
	ctx := context.Background()
	at := time.Date(2024, 4, 3, 9, 0, 0, 0, time.UTC)
	if ok, err := db.Notified(ctx, "test", "wecom", "reminders", "2024-03"); err != nil || ok {
		t.Fatalf("before: notified = %v, %v", ok, err)
	}
	for range 2 {
		if err := db.RecordNotification(ctx, "test", "wecom", "reminders", "2024-03", at); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := db.Notified(ctx, "test", "wecom", "reminders", "2024-03"); err != nil || !ok {
		t.Errorf("after: notified = %v, %v", ok, err)
	}
	for _, other := range [][4]string{{"test", "dingtalk", "reminders", "2024-03"}, {"test", "wecom", "rankings", "2024-03"},
		{"test", "wecom", "reminders", "2024-04"}, {"other", "wecom", "reminders", "2024-03"}} {
		if ok, _ := db.Notified(ctx, other[0], other[1], other[2], other[3]); ok {
			t.Errorf("%v counted as notified", other)
		}
	}
}

func testLastReports(t *testing.T, db Backend) {
	a := Assessment(t)
	ctx := context.Background()
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	for _, b := range []struct {
		at  time.Time
		obs []kpi.Observation
	}{
		{at, []kpi.Observation{o("aa", "screenings", "2024-01", 10), o("bb", "screenings", "2024-01", 5)}},
		{at.AddDate(0, 1, 0), []kpi.Observation{o("aa", "screenings", "2024-02", 10)}},
		{at.AddDate(0, 1, 2), []kpi.Observation{o("bb", "screenings", "2024-01", 6)}}, // a correction of January
	} {
		db.SetClock(func() time.Time { return b.at })
		if _, err := db.Ingest(ctx, a, batch("t", "s", "", b.obs...)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LastReports(ctx, a.ID, 2024)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("%d months, want 2: %v", len(got), got)
	}
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		want, ok, err := db.LastReport(ctx, a.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		if g, has := got[p]; has != ok || !g.Equal(want) {
			t.Errorf("%s: LastReports %v (%v), LastReport %v (%v)", p, g, has, want, ok)
		}
	}
	if !got[kpi.MustPeriod("2024-01")].Equal(at.AddDate(0, 1, 2)) {
		t.Errorf("January's last report is the correction: %v", got[kpi.MustPeriod("2024-01")])
	}
	if any, ok, _ := db.LastReport(ctx, a.ID, kpi.Period{}); !ok || !any.Equal(at.AddDate(0, 1, 2)) {
		t.Errorf("LastReport of any month = %v %v", any, ok)
	}
}

func testTownshipHistory(t *testing.T, db Backend) {
	a := Assessment(t)
	ctx := context.Background()
	at := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	for k, obs := range [][]kpi.Observation{
		{o("aa", "screenings", "2024-01", 10), r("aa", "closure", "2024-01", 9, 10), o("bb", "screenings", "2024-01", 5)},
		{o("aa", "screenings", "2024-02", 12), r("aa", "closure", "2024-02", 10, 10)},
		{o("aa", "screenings", "2024-01", 11), o("bb", "screenings", "2024-01", 6)},
		{o("aa", "screenings", "2024-01", 12)},
	} {
		db.SetClock(func() time.Time { return at.Add(time.Duration(k) * time.Hour) })
		if _, err := db.Ingest(ctx, a, batch("t", "s", "", obs...)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.TownshipHistory(ctx, a.ID, "aa")
	if err != nil {
		t.Fatal(err)
	}
	var want []store.IndicatorRevision
	for _, ind := range []string{"closure", "screenings"} { // by code
		revs, err := db.History(ctx, a.ID, "aa", ind, kpi.Period{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rv := range revs {
			want = append(want, store.IndicatorRevision{Indicator: ind, Revision: rv})
		}
	}
	if len(got) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("TownshipHistory:\n%+v\nHistory:\n%+v", got, want)
	}
}

// testAssessmentsApart writes the same township codes in two assessments (two counties of
// one year): figures, batches, history and locks stay apart.
func testAssessmentsApart(t *testing.T, db Backend) {
	ctx := context.Background()
	x, y := assessmentNamed(t, "county-x", 2024), assessmentNamed(t, "county-y", 2024)
	if _, err := db.Ingest(ctx, x, batch("x", "x.csv", "1", o("aa", "screenings", "2024-01", 10))); err != nil {
		t.Fatal(err)
	}
	res, err := db.Ingest(ctx, y, batch("y", "y.csv", "2", o("aa", "screenings", "2024-01", 77)))
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 1 {
		t.Errorf("the same key in another assessment counted as %+v, want new", res)
	}
	for _, c := range []struct {
		a    *kpi.Assessment
		want float64
	}{{x, 10}, {y, 77}} {
		d, st, err := db.LoadDataset(ctx, c.a)
		if err != nil || st.Loaded != 1 {
			t.Fatalf("%s: %+v %v", c.a.ID, st, err)
		}
		if g, _ := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod("2024-01")}); g.Value != c.want {
			t.Errorf("%s: aa = %v, want %v", c.a.ID, g.Value, c.want)
		}
		if h, _ := db.History(ctx, c.a.ID, "aa", "screenings", kpi.Period{}); len(h) != 1 || h[0].Value != c.want {
			t.Errorf("%s: history %+v", c.a.ID, h)
		}
		if bs, _ := db.Batches(ctx, c.a.ID, 10); len(bs) != 1 {
			t.Errorf("%s: batches %+v", c.a.ID, bs)
		}
	}
	if _, _, err := db.LockPeriod(ctx, x.ID, kpi.MustPeriod("2024-01"), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ingest(ctx, y, batch("y", "y2.csv", "3", o("aa", "screenings", "2024-01", 78))); err != nil {
		t.Errorf("a lock of county-x refused a batch of county-y: %v", err)
	}
	if _, err := db.Ingest(ctx, x, batch("x", "x2.csv", "4", o("aa", "screenings", "2024-01", 11))); !errors.Is(err, store.ErrLocked) {
		t.Errorf("county-x's own lock: %v", err)
	}
	// another year of the same county is another assessment too
	next := assessmentNamed(t, "county-x-2025", 2025)
	if _, err := db.Ingest(ctx, next, batch("x", "x25.csv", "5", o("aa", "screenings", "2025-01", 3))); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := db.LoadDataset(ctx, x); st.Loaded != 1 {
		t.Errorf("county-x loads %d figures after county-x-2025's batch, want 1", st.Loaded)
	}
}

func testChangedSince(t *testing.T, db Backend) {
	ctx := context.Background()
	a, other := Assessment(t), assessmentNamed(t, "other", 2024)
	if n, err := db.LastBatch(ctx, a.ID); err != nil || n != 0 {
		t.Fatalf("LastBatch of an empty store = %d %v", n, err)
	}
	first, err := db.Ingest(ctx, a, batch("t", "1", "", o("aa", "screenings", "2024-01", 1), o("bb", "screenings", "2024-01", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ingest(ctx, other, batch("t", "o", "", o("aa", "screenings", "2024-01", 50))); err != nil {
		t.Fatal(err)
	}
	second, err := db.Ingest(ctx, a, batch("t", "2", "", o("aa", "screenings", "2024-01", 5), r("aa", "closure", "2024-02", 1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if second.BatchID <= first.BatchID {
		t.Fatalf("batch ids %d then %d do not grow", first.BatchID, second.BatchID)
	}
	if first.PreviousBatch != 0 || second.PreviousBatch != first.BatchID {
		t.Errorf("previous batches %d and %d, want 0 and %d (the other assessment's batch in between is not this one's)",
			first.PreviousBatch, second.PreviousBatch, first.BatchID)
	}
	if n, _ := db.LastBatch(ctx, a.ID); n != second.BatchID {
		t.Errorf("LastBatch = %d, want %d", n, second.BatchID)
	}
	ch, err := db.ChangedSince(ctx, a, first.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[kpi.Key]kpi.Observation{}
	for _, x := range []kpi.Observation{o("aa", "screenings", "2024-01", 5), r("aa", "closure", "2024-02", 1, 2)} {
		want[x.Key()] = x
	}
	if ch.LastBatch != second.BatchID || len(ch.Observations) != len(want) {
		t.Fatalf("changes since %d = %+v, want %d observations up to %d", first.BatchID, ch, len(want), second.BatchID)
	}
	for _, g := range ch.Observations {
		if w, ok := want[g.Key()]; !ok || !g.Same(w) {
			t.Errorf("changed %+v, want %+v", g, w)
		}
	}
	if all, _ := db.ChangedSince(ctx, a, 0); len(all.Observations) != 3 {
		t.Errorf("changes since 0 = %+v, want every current figure (3)", all.Observations)
	}
	if none, _ := db.ChangedSince(ctx, a, second.BatchID); len(none.Observations) != 0 || none.LastBatch != second.BatchID {
		t.Errorf("changes since the latest = %+v", none)
	}
}

// testConcurrentBatches writes batches of one assessment from several goroutines, each a
// whole month for every township: every batch is written whole, and a reader that follows
// ChangedSince batch by batch in id order sees each batch's figures complete.
func testConcurrentBatches(t *testing.T, db Backend) {
	ctx := context.Background()
	a := Assessment(t)
	const writers, rounds = 4, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for k := range rounds {
				v := float64(w*100 + k)
				m := fmt.Sprintf("2024-%02d", 1+(w*rounds+k)%12)
				_, err := db.Ingest(ctx, a, batch(fmt.Sprintf("w%d", w), "s", "", o("aa", "screenings", m, v), o("bb", "screenings", m, v)))
				for errors.Is(err, store.ErrUnavailable) {
					time.Sleep(10 * time.Millisecond)
					_, err = db.Ingest(ctx, a, batch(fmt.Sprintf("w%d", w), "s", "", o("aa", "screenings", m, v), o("bb", "screenings", m, v)))
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	d, _, err := db.LoadDataset(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		x, okx := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: p})
		y, oky := d.Get(kpi.Key{Township: "bb", Indicator: "screenings", Period: p})
		if okx != oky || x.Value != y.Value {
			t.Errorf("%s: aa %v (%v) and bb %v (%v) come from different batches", p, x.Value, okx, y.Value, oky)
		}
	}
	bs, err := db.Batches(ctx, a.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].ID >= bs[i-1].ID || bs[i].At.After(bs[i-1].At) {
			t.Errorf("batch %d (%v) listed after %d (%v): ids and times must grow together", bs[i].ID, bs[i].At, bs[i-1].ID, bs[i-1].At)
		}
	}
}

func testLeases(t *testing.T, db Backend) {
	ctx := context.Background()
	now := time.Now()
	ok, err := db.AcquireLease(ctx, "sender", "server-1", 10*time.Second, now)
	if err != nil || !ok {
		t.Fatalf("first acquire = %v %v", ok, err)
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "server-2", 10*time.Second, now.Add(time.Second)); ok {
		t.Error("a second holder took a held lease")
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "server-1", 10*time.Second, now.Add(2*time.Second)); !ok {
		t.Error("the holder could not renew its lease")
	}
	if ok, _ := db.AcquireLease(ctx, "other", "server-2", 10*time.Second, now); !ok {
		t.Error("a lease of another name was not free")
	}
	if err := db.ReleaseLease(ctx, "sender", "server-2"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "server-2", 10*time.Second, now.Add(3*time.Second)); ok {
		t.Error("a release by a non-holder freed the lease")
	}
	if err := db.ReleaseLease(ctx, "sender", "server-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "server-2", 10*time.Second, now.Add(4*time.Second)); !ok {
		t.Error("a released lease could not be taken")
	}
}

func testWatchBatches(t *testing.T, db Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := Assessment(t)
	seen := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- db.WatchBatches(ctx, func(id string) { seen <- id }) }()
	time.Sleep(200 * time.Millisecond) // let the watch begin
	if _, err := db.Ingest(ctx, a, batch("t", "s", "", o("aa", "screenings", "2024-01", 1))); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case id := <-seen:
			if id == a.ID {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("WatchBatches ended with %v", err)
				}
				return
			}
		case <-deadline:
			t.Fatal("no notice of the batch within 5 s")
		}
	}
}

func testLoginLinks(t *testing.T, db Backend) {
	ctx := context.Background()
	tok, _, err := db.AddToken(ctx, store.NewToken{Assessment: "test", Name: "甲镇妇联", Township: "aa"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	link, err := db.CreateLoginLink(ctx, tok.ID, now, now.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(link, store.TokenPrefix) || len(link) < 64 {
		t.Errorf("link secret %q: want a long random secret that is not a token", link)
	}
	if _, err := db.LookupToken(ctx, link); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("a link used as a token = %v", err)
	}
	got, err := db.UseLoginLink(ctx, link, now.Add(time.Hour))
	if err != nil || got.ID != tok.ID || got.Township != "aa" {
		t.Fatalf("use = %+v, %v", got, err)
	}
	if _, err := db.UseLoginLink(ctx, link, now.Add(2*time.Hour)); !errors.Is(err, store.ErrLinkUsed) {
		t.Errorf("a used link = %v, want ErrLinkUsed", err)
	}
	late, _ := db.CreateLoginLink(ctx, tok.ID, now, now.Add(time.Hour))
	if _, err := db.UseLoginLink(ctx, late, now.Add(time.Hour)); !errors.Is(err, store.ErrLinkExpired) {
		t.Errorf("an expired link = %v, want ErrLinkExpired", err)
	}
	if _, err := db.UseLoginLink(ctx, "kpl_"+strings.Repeat("0", 64), now); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("an unknown link = %v, want ErrUnknownToken", err)
	}
	revoked, _ := db.CreateLoginLink(ctx, tok.ID, now, now.Add(time.Hour))
	if _, err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseLoginLink(ctx, revoked, now); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("a link of a revoked token = %v, want ErrUnknownToken", err)
	}
	if _, err := db.CreateLoginLink(ctx, tok.ID, now, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a link for a revoked token = %v, want ErrNotFound", err)
	}
}
