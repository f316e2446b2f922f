package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/store/storetest"
)

// TestBackupDuringWritesAndRestore backs up while a writer keeps writing batches: the
// restored copy holds every batch acknowledged before the backup began, each whole.
func TestBackupDuringWritesAndRestore(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a := storetest.Assessment(t)
	var mu sync.Mutex
	var acked []int64 // batch ids, in the order their Ingest returned
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for k := 0; ; k++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			m := fmt.Sprintf("2024-%02d", 1+k%12)
			v := float64(k)
			res, err := db.Ingest(ctx, a, store.Batch{BatchMeta: store.BatchMeta{Actor: "w", Source: fmt.Sprint(k)}, Observations: []kpi.Observation{
				{Township: "aa", Indicator: "screenings", Period: kpi.MustPeriod(m), Value: v},
				{Township: "bb", Indicator: "screenings", Period: kpi.MustPeriod(m), Value: v}}})
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			acked = append(acked, res.BatchID)
			mu.Unlock()
		}
	}()
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the writer goes on after the backup
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "已存在") {
		t.Errorf("a backup over an existing file: %v", err)
	}
	info, err := CheckBackup(ctx, backup)
	if err != nil || info.Schema != KnownSchema() || info.Batches < int64(len(before)) {
		t.Fatalf("check = %+v, %v; want schema %d and at least %d batches", info, err, KnownSchema(), len(before))
	}
	dst := filepath.Join(t.TempDir(), "restored.db")
	if _, err := Restore(ctx, backup, dst); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	bs, err := restored.Batches(ctx, a.ID, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, b := range bs {
		have[b.ID] = true
	}
	for _, id := range before {
		if !have[id] {
			t.Fatalf("batch %d was acknowledged before the backup began and is not in it", id)
		}
	}
	d, _, err := restored.LoadDataset(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: 2024, Month: m}
		x, _ := d.Get(kpi.Key{Township: "aa", Indicator: "screenings", Period: p})
		y, _ := d.Get(kpi.Key{Township: "bb", Indicator: "screenings", Period: p})
		if x.Value != y.Value {
			t.Errorf("%s: aa %v and bb %v: a batch restored in half", p, x.Value, y.Value)
		}
	}
	t.Logf("%d batches acknowledged before the backup, %d in it", len(before), len(bs))
}

// TestRestoreRefusesWhatIsNotABackup: a file that is not a kpimon database, a damaged one,
// and a database in use are refused, and the target stays as it was.
func TestRestoreRefusesWhatIsNotABackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.db")
	os.WriteFile(notDB, []byte("这不是数据库"), 0o644)
	if _, err := Restore(ctx, notDB, filepath.Join(dir, "x.db")); err == nil || !strings.Contains(err.Error(), "不是 SQLite 数据库文件") {
		t.Errorf("restore from a text file: %v", err)
	}
	good := filepath.Join(dir, "good.db")
	db, err := Open(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, filepath.Join(dir, "b.db")); err != nil {
		t.Fatal(err)
	}
	// the target is open with a write-ahead log: refused
	if _, _, err := db.AddToken(ctx, store.NewToken{Assessment: "x", Name: "n", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, filepath.Join(dir, "b.db"), good); err == nil || !strings.Contains(err.Error(), "请先停止") {
		t.Errorf("restore over a database in use: %v", err)
	}
	db.Close()
	// damaged: a page overwritten in the middle
	bad := copyFile(t, filepath.Join(dir, "b.db"))
	data, _ := os.ReadFile(bad)
	for i := 4096 * 2; i < 4096*3 && i < len(data); i++ {
		data[i] = 0xFF
	}
	os.WriteFile(bad, data, 0o644)
	if _, err := CheckBackup(ctx, bad); err == nil {
		t.Error("a damaged backup passed the check")
	}
}
