package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

// openAssessment loads the config and opens the database, printing config warnings. The
// database is created when missing (ingest, serve); read-only commands use
// openExistingAssessment so that a mistyped --db is not silently a new, empty database.
func openAssessment(ctx context.Context, configPath, dbPath string, stderr io.Writer) (*kpi.Assessment, *sqlite.DB, error) {
	return openConfigAndDB(ctx, configPath, dbPath, stderr, false)
}

// openExistingAssessment is openAssessment for commands that only read: the database file
// must exist.
func openExistingAssessment(ctx context.Context, configPath, dbPath string, stderr io.Writer) (*kpi.Assessment, *sqlite.DB, error) {
	return openConfigAndDB(ctx, configPath, dbPath, stderr, true)
}

// openExistingDB opens a database file that must exist.
func openExistingDB(ctx context.Context, dbPath string) (*sqlite.DB, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("数据库文件 %s 不存在或无法读取：请检查 --db（新的考核请先用 kpimon ingest 导入数据）: %w", dbPath, err)
	}
	return sqlite.Open(ctx, dbPath)
}

func openConfigAndDB(ctx context.Context, configPath, dbPath string, stderr io.Writer, mustExist bool) (*kpi.Assessment, *sqlite.DB, error) {
	a, err := kpi.LoadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range a.Warnings {
		fmt.Fprintf(stderr, "%s:%d: 提示：%s\n", configPath, w.Line, w.Message)
	}
	open := sqlite.Open
	if mustExist {
		open = openExistingDB
	}
	db, err := open(ctx, dbPath)
	if err != nil {
		return nil, nil, err
	}
	return a, db, nil
}

// newLogger logs text to w at the level named.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{msg: fmt.Sprintf("--log-level %q 无效：可选 debug、info、warn、error", level)}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
