package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

// dbUsage is the --db flag's help, the same for every command.
const dbUsage = "数据库：SQLite 文件路径，或 PostgreSQL 地址 postgres://…（默认取环境变量 KPIMON_DB）"

// dbFlag registers --db, defaulting to $KPIMON_DB.
func dbFlag(fs interface {
	StringVar(p *string, name, value, usage string)
}, p *string) {
	fs.StringVar(p, "db", os.Getenv("KPIMON_DB"), dbUsage)
}

// openStore opens the store --db names: a postgres:// or postgresql:// URL is a
// PostgreSQL database, anything else a SQLite file. This is the only place that chooses a
// backend. A read-only command (mustExist) refuses a SQLite file that does not exist
// rather than creating an empty database; a PostgreSQL database is created by its
// administrator, and kpimon makes its tables in it on first use.
func openStore(ctx context.Context, dsn string, mustExist bool) (store.Store, error) {
	if isPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	if mustExist {
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("数据库文件 %s 不存在或无法读取：请检查 --db（新的考核请先用 kpimon ingest 导入数据）", dsn)
		}
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		var se *store.SchemaError
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("打开数据库 %s 失败: %w", dsn, err)
	}
	return db, nil
}

// isPostgresURL reports whether --db names a PostgreSQL database.
func isPostgresURL(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// openPostgres opens a PostgreSQL store. Its messages name the server (host, port,
// database) and never the password.
func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	db, err := postgres.Open(ctx, dsn)
	if err == nil {
		return db, nil
	}
	var se *store.SchemaError
	var ce *postgres.ConnectError
	switch {
	case errors.As(err, &se):
		return nil, se
	case errors.As(err, &ce) && ce.Reason == "":
		// a cause kpimon has no words for: say what to check
		return nil, fmt.Errorf("%w\n请检查 --db 地址中的主机、端口、数据库名、用户名和密码，以及 PostgreSQL 服务器是否已启动、网络是否可达", err)
	}
	return nil, err
}

// openAssessment loads the config and opens the store, printing config warnings, and lets
// the assessment claim records an older kpimon wrote. The database is created when missing
// (ingest, serve); read-only commands use openExistingAssessment so that a mistyped --db
// is not silently a new, empty database.
func openAssessment(ctx context.Context, configPath, dsn string, stderr io.Writer) (*kpi.Assessment, store.Store, error) {
	return openConfigAndStore(ctx, configPath, dsn, stderr, false)
}

// openExistingAssessment is openAssessment for commands that only read: a SQLite file
// must exist.
func openExistingAssessment(ctx context.Context, configPath, dsn string, stderr io.Writer) (*kpi.Assessment, store.Store, error) {
	return openConfigAndStore(ctx, configPath, dsn, stderr, true)
}

func openConfigAndStore(ctx context.Context, configPath, dsn string, stderr io.Writer, mustExist bool) (*kpi.Assessment, store.Store, error) {
	a, err := kpi.LoadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range a.Warnings {
		fmt.Fprintf(stderr, "%s:%d: 提示：%s\n", configPath, w.Line, w.Message)
	}
	st, err := openStore(ctx, dsn, mustExist)
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.ClaimLegacy(ctx, a.ID, a.Year); err != nil {
		st.Close()
		return nil, nil, err
	}
	return a, st, nil
}

// sqliteMissing reports whether --db names a SQLite file that does not exist yet (opening
// it creates an empty database).
func sqliteMissing(dsn string) bool {
	if isPostgresURL(dsn) {
		return false
	}
	_, err := os.Stat(dsn)
	return errors.Is(err, os.ErrNotExist)
}

// newDatabaseNote is what a command that created a SQLite database says, so that a
// mistyped --db does not go unnoticed (tokens or a server on an empty database).
func newDatabaseNote(dsn string) string {
	return fmt.Sprintf("数据库 %s 原先不存在，已新建（空的）。如果应使用已有的数据库，请检查 --db。", dsn)
}
