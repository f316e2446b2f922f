package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDBArg(t *testing.T) {
	t.Setenv("KPIMON_DB", "postgres://kpimon:env-secret@db.example/kpimon")
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"a plain path", "data/bl.db", "--db data/bl.db"},
		{"a Chinese path", "北流/考核.db", "--db 北流/考核.db"},
		{"a path with a space", "my data/bl.db", "--db 'my data/bl.db'"},
		{"a quote in the path", "it's.db", `--db 'it'\''s.db'`},
		{"a URL with a password", "postgres://kpimon:s3cret@127.0.0.1:5432/kpimon?sslmode=disable", "--db 'postgres://kpimon:xxxxx@127.0.0.1:5432/kpimon?sslmode=disable'"},
		{"a password as a parameter", "postgresql://kpimon@h/k?password=s3cret", "--db 'postgresql://kpimon@h/k?password=xxxxx'"},
		{"the address from KPIMON_DB", "postgres://kpimon:env-secret@db.example/kpimon", `--db "$KPIMON_DB"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dbArg(tc.dsn); got != tc.want {
				t.Errorf("dbArg(%q) = %s, want %s", tc.dsn, got, tc.want)
			}
		})
	}
}

// TestLockedMonthHint: a batch refused for a locked month says how to unlock it with every
// flag the command needs — the clerk's own --db and --config — and how to lock it again;
// it exits 1 (a refused batch) with nothing written.
func TestLockedMonthHint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "北流 考核")
	os.MkdirAll(dir, 0o755)
	config, db := cangnan("config.yaml"), filepath.Join(dir, "bl.db")
	mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("jan-may.csv"), cangnan("june.json"))
	out := mustCLI(t, "lock", "--db", db, "--config", config, "--period", "2024-03")
	quoted := "--db '" + db + "' --config " + config
	if !strings.Contains(out, "kpimon lock --unlock "+quoted+" --period 2024-03") {
		t.Errorf("lock's unlock hint does not name the flags as given:\n%s", out)
	}
	_, stderr, err := cli(t, "ingest", "--config", config, "--db", db, cangnan("correction.csv"))
	if err != errReported {
		t.Errorf("ingest into a locked month: %v, want the batch refused (status 1)", err)
	}
	for _, want := range []string{
		"2024-03 已锁定（月度通报已发布），本批数据未写入",
		"  kpimon lock --unlock " + quoted + " --period 2024-03\n",
		"  kpimon lock " + quoted + " --period 2024-03\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "--db …") {
		t.Errorf("the hint leaves --db for the clerk to guess:\n%s", stderr)
	}
}

// TestTokenHintsQuoteTheDatabase: the revoke hint of token add runs as printed.
func TestTokenHintsQuoteTheDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "my data.db")
	out := mustCLI(t, "token", "add", "--db", db, "--admin")
	if !strings.Contains(out, "kpimon token revoke --db '"+db+"' 1") {
		t.Errorf("token add's hint:\n%s", out)
	}
}

// TestNextStepHints: after a bulletin the command to lock its month, and token revoke's
// mistakes with the command that lists the numbers — each with every flag it needs.
func TestNextStepHints(t *testing.T) {
	config, db := loadCangnan(t)
	out := mustCLI(t, "bulletin", "--config", config, "--db", db, "--period", "2024-06", "--out", filepath.Join(t.TempDir(), "六月.html"))
	if !strings.Contains(out, "kpimon lock --db "+db+" --config "+config+" --period 2024-06") {
		t.Errorf("bulletin does not say how to lock the month:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "revoke", "--db", db, "灵溪镇"}, "令牌编号“灵溪镇”不是数字：请给出 kpimon token list --db " + db + " 列出的编号"},
		{[]string{"token", "revoke", "--db", db}, "如 kpimon token revoke --db " + db + " 3"},
		{[]string{"token", "revoke", "--db", db, "7"}, "没有编号为 7 的有效令牌（可能已停用）：用 kpimon token list --db " + db + " 查看"},
	} {
		_, stderr, err := cli(t, tc.args...)
		if err == nil || !strings.Contains(stderr+err.Error(), tc.want) {
			t.Errorf("%v: %v %s; want %q", tc.args, err, stderr, tc.want)
		}
	}
	if out := mustCLI(t, "rank", "-h"); !strings.Contains(out, "--config 文件或目录") || !strings.Contains(out, "--period YYYY-MM") || strings.Contains(out, " 值\n") {
		t.Errorf("help names values by type, not by what they are:\n%s", out)
	}
}

// TestUnlockWithoutMonth: unlock without --period shows the command with the latest
// locked month and how to list them.
func TestUnlockWithoutMonth(t *testing.T) {
	config, db := loadCangnan(t)
	mustCLI(t, "lock", "--db", db, "--config", config, "--period", "2024-05")
	_, stderr, err := cli(t, "lock", "--unlock", "--db", db, "--config", config)
	var ue usageError
	want := "解锁须指定月份，如 kpimon lock --unlock --db " + db + " --config " + config + " --period 2024-05（已锁定的月份见 kpimon lock --db " + db + " --config " + config + "）"
	if !errors.As(err, &ue) || !strings.Contains(stderr, want) {
		t.Errorf("unlock without a month: %v\n%s\nwant %s", err, stderr, want)
	}
}

// TestNoTokensHint: an empty token list says how to add one, with --db.
func TestNoTokensHint(t *testing.T) {
	_, db := loadCangnan(t)
	if out := mustCLI(t, "token", "list", "--db", db); !strings.Contains(out, "还没有令牌：用 kpimon token add --db "+db+" --config 考核配置 --township 乡镇 创建") {
		t.Errorf("token list on no tokens said %q", out)
	}
}
