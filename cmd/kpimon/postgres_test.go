package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres/pgtest"
)

// runOut runs kpimon with args and returns its standard output, failing the test on an
// error.
func runOut(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("kpimon %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// demoFiles writes the demo with `kpimon demo --write` and returns its first assessment, the
// path of its config and where each of its reports is (the demo writes one config and its
// reports at the top, or a folder of configs and one folder of reports per assessment).
func demoFiles(t *testing.T) (a *kpi.Assessment, config string, report func(name string) string) {
	t.Helper()
	dir := t.TempDir()
	runOut(t, "demo", "--write", dir)
	a, err := demo.Assessment()
	if err != nil {
		t.Fatal(err)
	}
	first := func(paths ...string) string {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		t.Fatalf("the demo wrote none of %v", paths)
		return ""
	}
	config = first(filepath.Join(dir, "config.yaml"), filepath.Join(dir, "configs", a.ID+".yaml"))
	return a, config, func(name string) string {
		return first(filepath.Join(dir, "reports", name), filepath.Join(dir, "reports", a.ID, name))
	}
}

// The demo loaded through the command line, report by report in the order they arrived,
// into a SQLite file and into PostgreSQL: eval, rank and alerts answer byte for byte the
// same for every month, in every format. The PostgreSQL runs name the database through
// KPIMON_DB, as a deployment would.
func TestSameAnswersOnSQLiteAndPostgreSQL(t *testing.T) {
	pg := pgtest.URL(t)
	a, cfg, report := demoFiles(t)
	lite := filepath.Join(t.TempDir(), "demo.db")
	for _, r := range demo.Reports(a) {
		file := report(r.Name)
		l := runOut(t, "ingest", "--config", cfg, "--db", lite, "--actor", r.Actor, file)
		p := runOut(t, "ingest", "--config", cfg, "--db", pg, "--actor", r.Actor, file)
		// the batch numbers may differ (PostgreSQL's ids are shared by every assessment of
		// the database); what was written may not
		if strip(l) != strip(p) {
			t.Fatalf("ingest of %s: SQLite said %q, PostgreSQL %q", r.Name, l, p)
		}
	}
	t.Setenv("KPIMON_DB", pg)
	for _, c := range []struct {
		command string
		formats []string
	}{{"eval", []string{"table", "json"}}, {"rank", []string{"table", "json", "csv"}}, {"alerts", []string{"table", "json"}}} {
		for m := 1; m <= 12; m++ {
			period := kpi.Period{Year: a.Year, Month: m}.String()
			for _, format := range c.formats {
				args := []string{c.command, "--config", cfg, "--period", period, "--format", format}
				onSQLite := runOut(t, append(args, "--db", lite)...)
				onPostgres := runOut(t, args...) // --db from KPIMON_DB
				if onSQLite != onPostgres {
					t.Errorf("%s --period %s --format %s differs:\nSQLite:\n%s\nPostgreSQL:\n%s", c.command, period, format, onSQLite, onPostgres)
				}
				if len(onSQLite) < 100 {
					t.Errorf("%s --period %s --format %s: only %q", c.command, period, format, onSQLite)
				}
			}
		}
	}
}

// strip drops the batch number from ingest's report, and the note that the SQLite file was
// made by this batch (a PostgreSQL database exists before; the note is the first line).
func strip(s string) string {
	if first, rest, ok := strings.Cut(s, "\n"); ok && strings.Contains(first, "原先不存在，已新建") {
		s = rest
	}
	if i := strings.Index(s, "："); i >= 0 && strings.HasPrefix(s, "已写入批次") {
		return s[i:]
	}
	return s
}

// Wrong or unreachable PostgreSQL addresses give Chinese messages that name the server and
// never the password.
func TestPostgresAddressErrorsHideThePassword(t *testing.T) {
	a, cfg, report := demoFiles(t)
	for _, c := range []struct {
		name, db string
		want     []string
	}{
		{"nothing listens", "postgres://kpimon:s3cret-pw@127.0.0.1:1/kpimon", []string{"无法连接 PostgreSQL 数据库", "127.0.0.1:1", "服务器拒绝连接：PostgreSQL 没有启动，或 --db 地址中的主机、端口不对"}},
		{"not a port", "postgresql://kpimon:s3cret-pw@db.example:port/kpimon", []string{"PostgreSQL 地址无效", "postgres://用户名:密码@主机:端口/数据库名"}},
		{"a space in the password", "postgres://kpimon:s3cret pw@127.0.0.1:5432/kpimon", []string{"PostgreSQL 地址无效", "空格写作 %20"}},
		{"no such host", "postgres://kpimon:s3cret-pw@kpimon-db.invalid:5432/kpimon", []string{"找不到主机“kpimon-db.invalid”"}},
		{"password as a parameter", "postgres://kpimon@127.0.0.1:1/kpimon?password=s3cret-pw", []string{"127.0.0.1:1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"rank", "--config", cfg, "--db", c.db},
				{"ingest", "--config", cfg, "--db", c.db, report(demo.Reports(a)[0].Name)},
				{"token", "list", "--db", c.db},
			} {
				var out, errOut bytes.Buffer
				err := run(context.Background(), args, &out, &errOut)
				if err == nil {
					t.Fatalf("kpimon %s succeeded", args[0])
				}
				msg := err.Error() + errOut.String()
				if strings.Contains(msg, "s3cret-pw") {
					t.Errorf("kpimon %s shows the password: %s", args[0], msg)
				}
				for _, w := range c.want {
					if !strings.Contains(msg, w) {
						t.Errorf("kpimon %s: %q lacks %q", args[0], msg, w)
					}
				}
				saysNoPgEnglish(t, msg)
			}
		})
	}
}

// A read-only command on PostgreSQL has no file to find: on an empty database it says there
// are no reports yet, where a missing SQLite file is refused.
func TestReadOnlyCommandsOnAnEmptyPostgres(t *testing.T) {
	pg := pgtest.URL(t)
	a, cfg, _ := demoFiles(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"rank", "--config", cfg, "--db", pg}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("还没有 %d 年度的报送数据", a.Year)) {
		t.Errorf("rank on an empty PostgreSQL = %v, want 'no reports yet'", err)
	}
	err = run(context.Background(), []string{"rank", "--config", cfg, "--db", filepath.Join(t.TempDir(), "missing.db")}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "不存在") {
		t.Errorf("rank on a missing SQLite file = %v, want it refused", err)
	}
}

// saysNoPgEnglish fails when the driver's English reaches the clerk.
func saysNoPgEnglish(t *testing.T, msg string) {
	t.Helper()
	for _, e := range []string{"failed to connect", "database unavailable", "dial error", "cannot parse", "server error", "FATAL", "SQLSTATE"} {
		if strings.Contains(msg, e) {
			t.Errorf("English reaches the clerk (%q): %s", e, msg)
		}
	}
}

// A server that answers but refuses: each refusal is said in Chinese with what to do.
func TestPostgresRefusalsSayWhatToDo(t *testing.T) {
	server := pgtest.ServerURL(t)
	_, cfg, _ := demoFiles(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	noDB := *u
	noDB.Path = "/kpimon_no_such_database"
	noUser := *u
	noUser.User = url.UserPassword("kpimon_no_such_user", "s3cret-pw")
	for _, c := range []struct {
		name, db, want string
	}{
		{"no such database", noDB.String(), "服务器上没有这个数据库：请先创建它（CREATE DATABASE 库名 OWNER 用户名;）"},
		{"no such user", noUser.String(), "服务器上没有这个用户：请先创建它"},
		{"a misspelt parameter", pgtest.WithParam(t, server, "sslmod", "disable"), "地址中的参数“sslmod”服务器不认识"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"rank", "--config", cfg, "--db", c.db}, &out, &errOut)
			if err == nil {
				t.Fatal("rank succeeded")
			}
			msg := err.Error() + errOut.String()
			if !strings.Contains(msg, c.want) {
				t.Errorf("%q lacks %q", msg, c.want)
			}
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("the password shows: %s", msg)
			}
			saysNoPgEnglish(t, msg)
		})
	}
}
