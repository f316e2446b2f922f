package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	out := mustCLI(t, "version")
	for _, want := range []string{"kpimon dev", "提交：", "构建日期：", "数据库结构版本：SQLite"} {
		if !strings.Contains(out, want) {
			t.Errorf("version said %q, lacking %q", out, want)
		}
	}
	if alias := mustCLI(t, "--version"); alias != out {
		t.Errorf("--version said %q, version %q", alias, out)
	}
}

// TestBackupAndRestoreCommands: a backup of 苍南县 restores into a new file that answers
// rank exactly as the original; restoring over an existing database needs --force; a
// PostgreSQL address gets the pg_dump commands.
func TestBackupAndRestoreCommands(t *testing.T) {
	config, db := loadCangnan(t)
	dir := t.TempDir()
	backup := filepath.Join(dir, "b.db")
	if out := mustCLI(t, "backup", "--db", db, "--out", backup); !strings.Contains(out, "已备份到") || !strings.Contains(out, "3 个批次") {
		t.Errorf("backup said %q", out)
	}
	restored := filepath.Join(dir, "r.db")
	if out := mustCLI(t, "restore", "--from", backup, "--db", restored); !strings.Contains(out, "已从") {
		t.Errorf("restore said %q", out)
	}
	want := mustCLI(t, "rank", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	if got := mustCLI(t, "rank", "--config", config, "--db", restored, "--period", "2024-06", "--format", "json"); got != want {
		t.Error("the restored database ranks differently from the original")
	}
	if _, _, err := cli(t, "restore", "--from", backup, "--db", restored); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over an existing database without --force: %v", err)
	}
	mustCLI(t, "restore", "--from", backup, "--db", restored, "--force")
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	if _, _, err := cli(t, "restore", "--from", notes, "--db", filepath.Join(dir, "n.db")); err == nil || !strings.Contains(err.Error(), "不是 SQLite 数据库文件") {
		t.Errorf("restore from a text file: %v", err)
	}
	if _, _, err := cli(t, "backup", "--db", "postgres://kpimon@127.0.0.1/kpimon", "--out", filepath.Join(dir, "pg.dump")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup of a PostgreSQL database: %v", err)
	}
}
