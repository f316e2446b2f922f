package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kpimon/kpimon/store"
)

// Backup writes a consistent copy of the database to dst while it is in use (a server
// serving, writers writing): `VACUUM INTO` reads one snapshot in a read transaction, so the
// copy holds exactly the batches committed before it began and none half. dst must not
// exist; the copy is a single file in rollback-journal mode, ready to be restored.
func (db *DB) Backup(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("备份文件 %s 已存在：请换一个文件名（不会覆盖已有文件）", dst)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dst, err)
	}
	tmp := abs + ".partial"
	os.Remove(tmp)
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", dst, busy(err))
	}
	if err := checkpoint(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", dst, err)
	}
	return nil
}

// BackupInfo is what CheckBackup found in a backup file.
type BackupInfo struct {
	Schema      int      // the schema version it was written with
	Assessments []string // the assessments it holds records of ("" for records written before assessments existed)
	Batches     int64    // batches recorded
}

// CheckBackup checks that the file is a whole kpimon database this kpimon can open: a
// SQLite file that passes integrity_check, with kpimon's tables and a schema no newer than
// this kpimon's. It opens the file read-only and changes nothing.
func CheckBackup(ctx context.Context, path string) (BackupInfo, error) {
	var info BackupInfo
	if _, err := os.Stat(path); err != nil {
		return info, fmt.Errorf("备份文件 %s 不存在或无法读取", path)
	}
	ro, err := openReadOnly(path)
	if err != nil {
		return info, fmt.Errorf("open %s: %w", path, err)
	}
	defer ro.Close()
	var problems []string
	if err := ro.SelectContext(ctx, &problems, `PRAGMA integrity_check`); err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return info, fmt.Errorf("%s 不是 SQLite 数据库文件，不能用来恢复", path)
		}
		return info, fmt.Errorf("检查 %s 失败: %w", path, err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return info, fmt.Errorf("%s 已损坏（integrity_check：%s），不能用来恢复", path, strings.Join(problems, "；"))
	}
	var tables int
	if err := ro.GetContext(ctx, &tables, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'batches', 'observations')`); err != nil || tables != 3 {
		return info, fmt.Errorf("%s 不是 kpimon 的数据库（缺少 kpimon 的数据表），不能用来恢复", path)
	}
	if err := ro.GetContext(ctx, &info.Schema, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return info, fmt.Errorf("检查 %s 失败: %w", path, err)
	}
	if known := KnownSchema(); info.Schema > known {
		return info, &store.SchemaError{Database: path, Found: info.Schema, Known: known}
	}
	if err := ro.GetContext(ctx, &info.Batches, `SELECT COUNT(*) FROM batches`); err != nil {
		return info, fmt.Errorf("检查 %s 失败: %w", path, err)
	}
	q := `SELECT DISTINCT assessment FROM batches ORDER BY 1`
	if info.Schema < 4 {
		q = `SELECT '' WHERE EXISTS (SELECT 1 FROM batches)`
	}
	if err := ro.SelectContext(ctx, &info.Assessments, q); err != nil {
		return info, fmt.Errorf("检查 %s 失败: %w", path, err)
	}
	return info, nil
}

// Restore replaces the database file at dst with the backup at src, after CheckBackup: the
// backup is copied beside dst and renamed over it, so dst is either the old database or
// the whole backup, never a mix; dst's write-ahead log is removed with it. No server may
// have dst open (the caller stops it first).
func Restore(ctx context.Context, src, dst string) (BackupInfo, error) {
	info, err := CheckBackup(ctx, src)
	if err != nil {
		return info, err
	}
	if fi, err := os.Stat(dst + "-wal"); err == nil && fi.Size() > 0 {
		return info, fmt.Errorf("%s 似乎正被使用（存在未合并的 %s-wal）：请先停止使用它的 kpimon 服务再恢复", dst, filepath.Base(dst))
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return info, fmt.Errorf("读取备份 %s 失败: %w", src, err)
	}
	tmp := dst + ".restoring"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		os.Remove(tmp)
		return info, fmt.Errorf("写入 %s 失败: %w", tmp, err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		os.Remove(tmp)
		return info, fmt.Errorf("写入 %s 失败: %w", tmp, err)
	}
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dst + side); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return info, fmt.Errorf("删除 %s 失败: %w", dst+side, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return info, fmt.Errorf("恢复到 %s 失败: %w", dst, err)
	}
	return info, nil
}
