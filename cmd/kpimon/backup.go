package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kpimon/kpimon/sqlite"
)

// backuper is a store that can copy itself while in use (SQLite).
type backuper interface {
	Backup(ctx context.Context, dst string) error
}

// pgBackupHint is what the backup commands say for a PostgreSQL database.
const pgBackupHint = `PostgreSQL 数据库请用 PostgreSQL 自带的工具备份和恢复：
  备份：pg_dump --format=custom --file=kpimon.dump "postgres://用户@主机/库名"
  恢复：pg_restore --clean --if-exists --dbname="postgres://用户@主机/库名" kpimon.dump
恢复前先停止所有 kpimon 服务；详见 README 的 Operations 一节和 docs/operations.md（pg_dump / pg_restore）。`

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	var dbPath string
	dbFlag(fs, &dbPath)
	out := fs.String("out", "", "备份写到这个新文件（已存在则不覆盖）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon backup --db D --out 备份文件")
		fmt.Fprintln(fs.Output(), "在服务运行时也可备份：得到开始备份那一刻的完整副本（之前确认写入的每一批都在其中）。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", dbPath, "out", *out); err != nil {
		return err
	}
	if err := checkOutFile("out", *out); err != nil {
		return err
	}
	if _, err := os.Stat(*out); err == nil {
		return usageError{msg: fmt.Sprintf("备份文件 %s 已存在：请换一个文件名（备份不会覆盖已有文件），如 %s", *out, datedName(*out, time.Now()))}
	}
	if isPostgresURL(dbPath) {
		return errors.New(pgBackupHint)
	}
	st, err := openStore(ctx, dbPath, true)
	if err != nil {
		return err
	}
	defer st.Close()
	b, ok := st.(backuper)
	if !ok {
		return errors.New(pgBackupHint)
	}
	if err := b.Backup(ctx, *out); err != nil {
		return err
	}
	info, err := sqlite.CheckBackup(ctx, *out)
	if err != nil {
		return fmt.Errorf("备份已写出，但检查未通过：%w", err)
	}
	fi, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "已备份到 %s（%s，%d 个批次，结构版本 %d）。恢复：kpimon restore --from %s %s --force（先停止服务）\n",
		*out, byteSize(fi.Size()), info.Batches, info.Schema, shellArg(*out), dbArg(dbPath))
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	var dbPath string
	dbFlag(fs, &dbPath)
	from := fs.String("from", "", "备份文件（kpimon backup 写出的）")
	force := fs.Bool("force", false, "--db 已存在时用备份替换它（其中现有的数据将被备份取代）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon restore --from 备份文件 --db D [--force]")
		fmt.Fprintln(fs.Output(), "先检查备份完整、确是 kpimon 的数据库且不比本程序新，再整体替换 --db；须先停止使用 --db 的服务。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "from", *from, "db", dbPath); err != nil {
		return err
	}
	if isPostgresURL(dbPath) {
		return errors.New(pgBackupHint)
	}
	if _, err := os.Stat(dbPath); err == nil && !*force {
		return usageError{msg: fmt.Sprintf("%s 已存在：恢复将用备份取代其中的全部数据；确认无误请加 --force（并先停止使用它的服务）", dbPath)}
	}
	info, err := sqlite.Restore(ctx, *from, dbPath)
	if err != nil {
		return err
	}
	names := strings.Join(info.Assessments, "、")
	if names == "" {
		names = "（无）"
	}
	fmt.Fprintf(stdout, "已从 %s 恢复到 %s：%d 个批次，考核 %s，结构版本 %d。\n", *from, dbPath, info.Batches, names, info.Schema)
	return nil
}

// datedName suggests a backup's name with today's date: bl.db → bl-20261130.db.
func datedName(path string, now time.Time) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + now.Format("20060102") + ext
}

// byteSize writes a file size for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d 字节", n)
}
