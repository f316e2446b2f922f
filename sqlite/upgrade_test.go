package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// The databases in testdata/upgrade were written by earlier kpimon releases (see the README
// there). Each is migrated to today's schema and must evaluate exactly like a fresh
// database into which the same reports were ingested in the same order at the same times:
// every month's evaluations, rankings and alerts, every figure's revision history, the
// batches, the locks and the tokens.
func TestUpgradeFromEveryEarlierSchema(t *testing.T) {
	dir := filepath.Join("testdata", "upgrade")
	a, err := kpi.LoadConfig(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file          string
		schema        []int
		locks, tokens int
		firing        int
	}{
		{"schema-1.db", []int{1}, 0, 0, 0},
		{"schema-1-3.db", []int{1, 3}, 0, 0, 0},
		{"schema-1-2-3.db", []int{1, 2, 3}, 1, 2, 62},
	} {
		t.Run(c.file, func(t *testing.T) {
			ctx := context.Background()
			path := copyFile(t, filepath.Join(dir, c.file))
			if got := appliedVersions(t, path); !slices.Equal(got, c.schema) {
				t.Fatalf("fixture has migrations %v, want %v", got, c.schema)
			}
			old, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("open %s: %v", c.file, err)
			}
			defer old.Close()
			if v, _ := old.SchemaVersion(ctx); v != KnownSchema() {
				t.Errorf("migrated to %d, want %d", v, KnownSchema())
			}
			if ok, err := old.ClaimLegacy(ctx, a.ID, a.Year); err != nil || !ok {
				t.Fatalf("claim legacy records = %v %v", ok, err)
			}
			if ok, err := old.ClaimLegacy(ctx, a.ID, a.Year); err != nil || ok {
				t.Errorf("a second claim found more legacy records: %v %v", ok, err)
			}
			fresh := replay(t, old, a, filepath.Join(dir, "reports"))

			dOld, stOld, err := old.LoadDataset(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			dNew, stNew, err := fresh.LoadDataset(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if stOld.Loaded != stNew.Loaded || stOld.Loaded == 0 {
				t.Fatalf("upgraded database holds %d figures, a fresh one %d", stOld.Loaded, stNew.Loaded)
			}
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			for m := 1; m <= 12; m++ {
				p := kpi.Period{Year: a.Year, Month: m}
				want, err := kpi.Evaluate(dNew, p, now)
				if err != nil {
					t.Fatal(err)
				}
				got, err := kpi.Evaluate(dOld, p, now)
				if err != nil {
					t.Fatal(err)
				}
				for _, pair := range [][2]any{{got, want}, {got.RankingsReport(a), want.RankingsReport(a)}, {got.AlertsReport(), want.AlertsReport()}} {
					g, _ := json.Marshal(pair[0])
					w, _ := json.Marshal(pair[1])
					if !bytes.Equal(g, w) {
						t.Fatalf("%s: the upgraded database evaluates differently from a fresh one", p)
					}
				}
			}
			for _, tw := range a.Townships {
				g, err := old.TownshipHistory(ctx, a.ID, tw.Code)
				if err != nil {
					t.Fatal(err)
				}
				w, _ := fresh.TownshipHistory(ctx, a.ID, tw.Code)
				if len(g) == 0 || !sameHistory(g, w) {
					t.Errorf("%s: history of %d revisions, a fresh database has %d", tw.Code, len(g), len(w))
				}
			}
			if locks, _ := old.Locks(ctx, a.ID); len(locks) != c.locks {
				t.Errorf("locks after the upgrade: %+v, want %d", locks, c.locks)
			}
			if toks, _ := old.Tokens(ctx, a.ID); len(toks) != c.tokens {
				t.Errorf("tokens after the upgrade: %d, want %d", len(toks), c.tokens)
			}
			if f, _ := old.FiringAlerts(ctx, a.ID); len(f) != c.firing {
				t.Errorf("firing alerts after the upgrade: %d, want %d", len(f), c.firing)
			}
			// a new batch goes on from the upgraded data as from the fresh one
			b := store.Batch{BatchMeta: store.BatchMeta{Actor: "t", Source: "s"}, Observations: []kpi.Observation{
				{Township: a.Townships[0].Code, Indicator: "family_edu_sessions", Period: kpi.Period{Year: a.Year, Month: 12}, Value: 99}}}
			g, err := old.Ingest(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := fresh.Ingest(ctx, a, b)
			if g.New != w.New || g.Corrected != w.Corrected {
				t.Errorf("a batch after the upgrade: %+v, on a fresh database %+v", g, w)
			}
		})
	}
}

func sameHistory(a, b []store.IndicatorRevision) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.BatchID, y.BatchID = 0, 0
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// replay ingests the reports into a fresh database in the order and at the times the
// upgraded database's batches were written.
func replay(t *testing.T, old *DB, a *kpi.Assessment, reports string) *DB {
	t.Helper()
	ctx := context.Background()
	batches, err := old.Batches(ctx, a.ID, 10000)
	if err != nil || len(batches) == 0 {
		t.Fatalf("batches of the upgraded database: %d, %v", len(batches), err)
	}
	fresh := MustOpen(t)
	for i := len(batches) - 1; i >= 0; i-- {
		bi := batches[i]
		data, err := os.ReadFile(filepath.Join(reports, bi.Source))
		if err != nil {
			t.Fatal(err)
		}
		b := collector.NewBatch(a)
		b.AddCSV(bi.Source, bytes.NewReader(data))
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		at := bi.At
		fresh.SetClock(func() time.Time { return at })
		if _, err := fresh.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: bi.Actor, Source: bi.Source, SHA256: b.SHA256()}, Observations: b.Observations()}); err != nil {
			t.Fatal(err)
		}
	}
	return fresh
}

func copyFile(t *testing.T, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func appliedVersions(t *testing.T, path string) []int {
	t.Helper()
	ro, err := openReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var v []int
	if err := ro.Select(&v, `SELECT version FROM schema_migrations ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestNewerSchemaIsRefusedUnchanged opens a database whose schema is newer than this
// kpimon: it is refused with a Chinese message naming both versions, and the file's bytes
// are the same afterwards.
func TestNewerSchemaIsRefusedUnchanged(t *testing.T) {
	ctx := context.Background()
	path := copyFile(t, filepath.Join("testdata", "upgrade", "schema-1-2-3.db"))
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	future := KnownSchema() + 7
	if _, err := db.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', '2030-01-01T00:00:00Z')`, future); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := checkpoint(path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	var se *store.SchemaError
	if !errors.Is(err, store.ErrSchemaTooNew) || !errors.As(err, &se) || se.Found != future || se.Known != KnownSchema() {
		t.Fatalf("open = %v, want a SchemaError naming %d and %d", err, future, KnownSchema())
	}
	for _, want := range []string{"更新版本的 kpimon", "请升级"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the refused database file changed")
	}
	for _, side := range []string{"-wal", "-journal"} {
		if fi, err := os.Stat(path + side); err == nil && fi.Size() > 0 {
			t.Errorf("opening the refused database left %s of %d bytes", side, fi.Size())
		}
	}
}
