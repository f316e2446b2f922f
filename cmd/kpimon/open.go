package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

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
			msg := fmt.Sprintf("数据库文件 %s 不存在或无法读取：请检查 --db（新的考核请先用 kpimon ingest 导入数据）", dsn)
			if errors.Is(err, fs.ErrPermission) {
				return nil, errors.New(msg)
			}
			// a mistyped --db is a command-line mistake (status 2)
			return nil, usageError{msg: msg}
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
// mistyped --db does not go unnoticed (tokens, a server or a batch on a new database);
// empty says the database holds no reports (tokens, a server), not a batch just ingested.
func newDatabaseNote(dsn string, empty bool) string {
	if empty {
		return fmt.Sprintf("数据库 %s 原先不存在，已新建（空的）。如果应使用已有的数据库，请检查 --db。", dsn)
	}
	return fmt.Sprintf("数据库 %s 原先不存在，已新建。如果应导入已有的数据库，请检查 --db。", dsn)
}
