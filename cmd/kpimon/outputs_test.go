package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// english is what the system says in English about files; none of it may reach the clerk.
var english = []string{"no such file", "is a directory", "not a directory", "permission denied", "open ", "write ", "mkdir ", "unable to open"}

func saysNoEnglish(t *testing.T, said string) {
	t.Helper()
	for _, e := range english {
		if strings.Contains(said, e) {
			t.Errorf("English reaches the clerk (%q): %s", e, said)
		}
	}
}

// TestIngestFileMistakes: files that do not exist or are folders are all named, in Chinese,
// as a usage mistake (status 2), before a database is created.
func TestIngestFileMistakes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	missing1, missing2 := filepath.Join(dir, "六月.csv"), filepath.Join(dir, "七月.csv")
	pattern := filepath.Join(dir, "reports", "*.csv")
	_, stderr, err := cli(t, "ingest", "--config", cangnan("config.yaml"), "--db", db, cangnan("jan-may.csv"), missing1, dir, missing2, pattern)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a usage error (status 2)", err)
	}
	for _, want := range []string{
		"文件 " + missing1 + " 不存在：请检查文件名和所在的文件夹",
		"文件 " + missing2 + " 不存在",
		dir + " 是文件夹，不是文件：请给出其中的报表文件，如 " + filepath.Join(dir, "*.csv"),
		"没有与 " + pattern + " 匹配的文件：请检查文件夹和文件名",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	saysNoEnglish(t, stderr+err.Error())
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused ingest created the database")
	}
}

// TestOutputMistakes: an output in a folder that does not exist, or a folder where a file is
// wanted (and the reverse), is a usage mistake said in Chinese before any work, and writes
// nothing.
func TestOutputMistakes(t *testing.T) {
	config, db := loadCangnan(t)
	dir := t.TempDir()
	nodir := filepath.Join(dir, "通报")
	file := filepath.Join(dir, "a.txt")
	writeFile(t, file, "x")
	folder := filepath.Join(dir, "六月.html")
	os.Mkdir(folder, 0o755)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bulletin into a missing folder", []string{"bulletin", "--config", config, "--db", db, "--out", filepath.Join(nodir, "六月.xlsx")}, "文件夹 " + nodir + " 不存在，请先创建这个文件夹，或换一个路径"},
		{"bulletin onto a folder", []string{"bulletin", "--config", config, "--db", db, "--out", folder}, "--out " + folder + " 是文件夹：请给出文件名"},
		{"template into a missing folder", []string{"template", "--config", config, "--period", "2024-06", "--out", filepath.Join(nodir, "t.xlsx")}, "不存在，请先创建这个文件夹"},
		{"backfill into a missing folder", []string{"backfill", "--config", config, "--db", db, "--out", filepath.Join(nodir, "h.om")}, "不存在，请先创建这个文件夹"},
		{"backup into a missing folder", []string{"backup", "--db", db, "--out", filepath.Join(nodir, "b.db")}, "不存在，请先创建这个文件夹"},
		{"backup over a file", []string{"backup", "--db", db, "--out", file}, "备份文件 " + file + " 已存在：请换一个文件名"},
		{"rules into a missing folder", []string{"rules", "--out", filepath.Join(nodir, "r.yml")}, "不存在，请先创建这个文件夹"},
		{"render into a file", []string{"render", "--config", config, "--db", db, "--out", file}, "--out " + file + " 是文件，不是文件夹"},
		{"gen into a file", []string{"gen", "--out", file}, "是文件，不是文件夹"},
		{"a QR code into a missing folder", []string{"token", "link", "--db", db, "--config", config, "--township", "灵溪镇", "--base-url", "https://kpimon.example.cn", "--qr", filepath.Join(nodir, "q.png")}, "不存在，请先创建这个文件夹"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := cli(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error (status 2); stdout %q", err, out)
			}
			if !strings.Contains(ue.msg+stderr, tc.want) {
				t.Errorf("said %q, want %q", ue.msg+stderr, tc.want)
			}
			saysNoEnglish(t, ue.msg+stderr)
		})
	}
	if _, err := os.Stat(nodir); err == nil {
		t.Error("a refused command created the folder")
	}
	if out := mustCLI(t, "token", "list", "--db", db); !strings.Contains(out, "还没有令牌") {
		t.Errorf("a refused token link made a token:\n%s", out)
	}
}

// TestInterruptedIngest: an ingest stopped by Ctrl-C or kill -TERM says so in Chinese and
// writes nothing.
func TestInterruptedIngest(t *testing.T) {
	config, db := loadCangnan(t)
	before := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"ingest", "--config", config, "--db", db, cangnan("correction.csv")}, &out, &errOut)
	if err == nil || !strings.HasPrefix(err.Error(), "已中断") {
		t.Errorf("an interrupted ingest said %v", err)
	}
	saysNoEnglish(t, errOut.String())
	if strings.Contains(err.Error(), "context canceled") {
		t.Errorf("English reaches the clerk: %v", err)
	}
	if after := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json"); after != before {
		t.Error("an interrupted ingest changed the data")
	}
	err = run(ctx, []string{"gen", "--out", t.TempDir(), "--townships", "3"}, &out, &errOut)
	if err == nil || err.Error() != "已中断" {
		t.Errorf("an interrupted gen said %v", err)
	}
}

// TestBusyDatabase: while another process holds the database's write lock past the wait
// allowed (a long ingest), a write says so in Chinese and what to do, and writes nothing.
func TestBusyDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for sqlite.BusyTimeout")
	}
	config, db := loadCangnan(t)
	holder, err := sql.Open("sqlite3", "file:"+db+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin() // BEGIN IMMEDIATE: the write lock, as a long ingest holds it
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, _, err = cli(t, "lock", "--db", db, "--config", config, "--period", "2024-03")
	if err == nil || err.Error() != "数据库正忙或暂时不可用（也许另一个导入正在写入）：本次未写入任何数据，请稍后再试" {
		t.Errorf("lock on a busy database said %v", err)
	}
	tx.Rollback()
	if out := mustCLI(t, "lock", "--db", db, "--config", config); !strings.Contains(out, "没有已锁定的月份") {
		t.Errorf("the refused lock was written:\n%s", out)
	}
}
