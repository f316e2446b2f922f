package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFlagsAfterFiles: a clerk types the file first and the flags after it; the batch is
// ingested as if the flags came first, and a token's number may come before --db.
func TestFlagsAfterFiles(t *testing.T) {
	config, db := cangnan("config.yaml"), filepath.Join(t.TempDir(), "c.db")
	out := mustCLI(t, "ingest", cangnan("jan-may.csv"), "--config", config, "--db", db)
	if !strings.Contains(out, "新增 15 条") {
		t.Errorf("ingest FILE --config C --db D said %q", out)
	}
	// files on both sides of the flags are one batch
	out = mustCLI(t, "ingest", cangnan("june.json"), "--config", config, cangnan("correction.csv"), "--db", db)
	if !strings.Contains(out, "更正 1 条") {
		t.Errorf("ingest with files around the flags said %q", out)
	}
	tok := mustCLI(t, "token", "add", "--db", db, "--config", config, "--township", "灵溪镇")
	if !strings.Contains(tok, "#1") {
		t.Fatalf("token add said %q", tok)
	}
	if out := mustCLI(t, "token", "revoke", "1", "--db", db); !strings.Contains(out, "已停用令牌 #1") {
		t.Errorf("token revoke 1 --db D said %q", out)
	}
	// after -- a name that looks like a flag is a file
	_, stderr, err := cli(t, "ingest", "--config", config, "--db", db, "--", "--db")
	if err == nil || strings.Contains(stderr, "需要一个值") {
		t.Errorf("ingest -- --db: %v, stderr %q; want --db read as a file", err, stderr)
	}
}

// TestStrayArguments: a command that takes no arguments refuses one (a value whose flag
// name was forgotten) instead of ignoring it, with status 2.
func TestStrayArguments(t *testing.T) {
	config, db := loadCangnan(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a month without --period", []string{"rank", "--config", config, "--db", db, "2024-03"}, "多余的参数：2024-03"},
		{"a file after bulletin", []string{"bulletin", "--config", config, "--db", db, "--out", filepath.Join(t.TempDir(), "b.html"), "extra"}, "多余的参数：extra"},
		{"lock's month without --period", []string{"lock", "--db", db, "--config", config, "2024-03"}, "多余的参数：2024-03"},
		{"token list with a number", []string{"token", "list", "--db", db, "3"}, "多余的参数：3（这个命令不接受文件名等参数；参数名前要加 --，如 --"},
		// the example is the month typed, as --period wants it, or a neutral YYYY-MM; never
		// a month of another year
		{"the month typed is the example", []string{"rank", "--config", config, "--db", db, "2024-3"}, "参数名前要加 --，如 --period 2024-03）"},
		{"a neutral month otherwise", []string{"eval", "--config", config, "--db", db, "六月"}, "参数名前要加 --，如 --period YYYY-MM）"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := cli(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error (status 2); stdout %q", err, out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			if strings.Contains(stderr, "--period 2024-06") {
				t.Errorf("the example is a month nobody typed:\n%s", stderr)
			}
			if out != "" {
				t.Errorf("the command ran anyway: %q", out)
			}
		})
	}
}

// TestHelpCommand: kpimon help CMD and kpimon CMD -h are CMD's own help, on stdout (so that
// it pages with | less), status 0.
func TestHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "ingest"}, "用法: kpimon ingest"},
		{[]string{"ingest", "-h"}, "用法: kpimon ingest"},
		{[]string{"token", "add", "--help"}, "--township"},
		{[]string{"help", "token"}, "kpimon token revoke --db D 编号"},
		{[]string{"help", "token", "link"}, "--ttl"},
		{[]string{"help"}, "用法: kpimon <命令>"},
	} {
		out, _, err := cli(t, tc.args...)
		if err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("kpimon %s: err %v, stdout lacks %q:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
}

// TestTokenSubcommandMistakes: an unknown or missing subcommand says so, not only the usage.
func TestTokenSubcommandMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "remove", "3"}, "未知的子命令“remove”"},
		{[]string{"token"}, "缺少子命令"},
	} {
		_, stderr, err := cli(t, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(stderr, tc.want) {
			t.Errorf("kpimon %s: err %v; stderr lacks %q:\n%s", strings.Join(tc.args, " "), err, tc.want, stderr)
		}
	}
}

// TestTokenRevokeMistakes: every mistaken token number — none, not a number, no such token,
// one already revoked — is a command-line mistake (status 2) with a clear message.
func TestTokenRevokeMistakes(t *testing.T) {
	config := cangnan("config.yaml")
	db := filepath.Join(t.TempDir(), "t.db")
	mustCLI(t, "token", "add", "--db", db, "--config", config, "--township", "lingxi")
	mustCLI(t, "token", "revoke", "--db", db, "1")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no number", []string{"token", "revoke", "--db", db}, "须给出一个令牌编号"},
		{"not a number", []string{"token", "revoke", "--db", db, "灵溪镇"}, "令牌编号“灵溪镇”不是数字"},
		{"no such token", []string{"token", "revoke", "--db", db, "99"}, "kpimon: 没有编号为 99 的有效令牌（可能已停用）：用 kpimon token list --db " + db + " 查看令牌的编号和状态"},
		{"revoked already", []string{"token", "revoke", "--db", db, "1"}, "kpimon: 没有编号为 1 的有效令牌"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := cli(t, tc.args...)
			var said bytes.Buffer
			if status := exitStatus(err, &said); status != 2 {
				t.Errorf("exit status %d, want 2 (%v)", status, err)
			}
			if got := stderr + said.String(); !strings.Contains(got, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, got)
			}
		})
	}
}

// TestHelpHidesSecrets: defaults taken from the environment are shown in help without the
// secrets they hold — the viewer token not at all, a PostgreSQL address without its password.
func TestHelpHidesSecrets(t *testing.T) {
	t.Setenv("KPIMON_DB", "postgres://kpimon:s3cret@db.example:5432/kpimon?sslmode=require")
	t.Setenv("KPIMON_VIEWER_TOKEN", "viewer-s3cret")
	for _, cmd := range []string{"serve", "rank", "ingest", "lock", "backup"} {
		out, _, err := cli(t, cmd, "-h")
		if err != nil {
			t.Fatalf("%s -h: %v", cmd, err)
		}
		if strings.Contains(out, "s3cret") {
			t.Errorf("%s -h shows a secret:\n%s", cmd, out)
		}
		if !strings.Contains(out, "postgres://kpimon:xxxxx@db.example:5432/kpimon") {
			t.Errorf("%s -h does not show which database is the default:\n%s", cmd, out)
		}
	}
	if out := mustCLI(t, "serve", "-h"); !strings.Contains(out, "已由环境变量 KPIMON_VIEWER_TOKEN 设置") {
		t.Errorf("serve -h does not say the viewer token is set:\n%s", out)
	}
}

// TestPeriodMistakes: every command that takes a month says what is wrong with it in
// Chinese, without kpi's English sentinel, names the flag and what to type, and exits 2;
// a month that has not begun is refused where the command describes what happened.
func TestPeriodMistakes(t *testing.T) {
	config, db := loadCangnan(t)
	dir := t.TempDir()
	next := time.Now().AddDate(0, 2, 0).Format("2006-01")
	beiliu := filepath.Join(dir, "beiliu.yaml")
	// an assessment of the year of the month after next, so that the month is in its year
	raw, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, beiliu, strings.Replace(string(raw), "year: 2024", "year: "+next[:4], 1))
	thisYear := filepath.Join(dir, "this.db")
	mustCLI(t, "token", "add", "--db", thisYear, "--admin") // a database to read
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"eval, month 13", []string{"eval", "--config", config, "--db", db, "--period", "2024-13"}, "--period 无效：月份“2024-13”的月数 13 不对，应在 1 到 12 之间"},
		{"rank, a word", []string{"rank", "--config", config, "--db", db, "--period", "六月"}, "--period 无效：月份“六月”格式不对"},
		{"rank, another year", []string{"rank", "--config", config, "--db", db, "--period", "2023-06"}, "--period 2023-06 不在考核年度 2024 内：应为 2024-01 至 2024-12 之间的月份"},
		{"alerts, another year", []string{"alerts", "--config", config, "--db", db, "--period", "2025-01"}, "不在考核年度 2024 内"},
		{"bulletin, another year", []string{"bulletin", "--config", config, "--db", db, "--period", "2025-01", "--out", filepath.Join(dir, "b.html")}, "不在考核年度 2024 内"},
		{"template, another year", []string{"template", "--config", config, "--period", "2023-03", "--out", filepath.Join(dir, "t.xlsx")}, "不在考核年度 2024 内"},
		{"template, month 0", []string{"template", "--config", config, "--period", "2024-00", "--out", filepath.Join(dir, "t.xlsx")}, "--period 无效：月份“2024-00”"},
		{"backfill, month 13", []string{"backfill", "--config", config, "--db", db, "--to", "2024-13", "--out", filepath.Join(dir, "b.om")}, "--to 无效：月份“2024-13”"},
		{"lock, month 13", []string{"lock", "--config", config, "--db", db, "--period", "2024-13"}, "--period 无效："},
		{"serve, month 13", []string{"serve", "--config", config, "--db", db, "--addr", "127.0.0.1:0", "--period", "2024-13"}, "--period 无效："},
		{"rank, a month not begun", []string{"rank", "--config", beiliu, "--db", thisYear, "--period", next}, "--period " + next + " 还没有到"},
		{"bulletin, a month not begun", []string{"bulletin", "--config", beiliu, "--db", thisYear, "--period", next, "--out", filepath.Join(dir, "n.html")}, "还没有到"},
		{"lock, a month not begun", []string{"lock", "--config", beiliu, "--db", thisYear, "--period", next}, "还没有到"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := cli(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error (status 2)", err)
			}
			said := ue.msg + stderr
			if !strings.Contains(said, tc.want) {
				t.Errorf("said %q, want %q", said, tc.want)
			}
			if strings.Contains(said, "bad period") {
				t.Errorf("English reaches the clerk: %q", said)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "n.html")); err == nil {
		t.Error("a bulletin was written for a month not begun")
	}
}

// TestTownshipMistakes: a misspelt --township is a usage mistake answered with the nearest
// names, and a refused token command creates no database.
func TestTownshipMistakes(t *testing.T) {
	config := cangnan("config.yaml")
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"template", []string{"template", "--config", config, "--period", "2024-06", "--township", "灵溪", "--out", filepath.Join(dir, "t.xlsx")}, "--township：未知的乡镇“灵溪”，是否为“灵溪镇”？"},
		{"token add", []string{"token", "add", "--db", db, "--config", config, "--township", "宜山"}, "是否为“宜山镇”？"},
		{"token link", []string{"token", "link", "--db", db, "--config", config, "--township", "钱库", "--base-url", "https://kpimon.example.cn"}, "是否为“钱库镇”？"},
		{"token link without a scheme", []string{"token", "link", "--db", db, "--config", config, "--township", "钱库镇", "--base-url", "kpimon.example.cn"}, "--base-url“kpimon.example.cn”须以 http:// 或 https:// 开头，如 https://kpimon.example.cn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := cli(t, tc.args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error (status 2)", err)
			}
			if !strings.Contains(ue.msg+stderr, tc.want) {
				t.Errorf("said %q, want %q", ue.msg+stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused token command created the database")
	}
}

// TestFlagMistakesInChinese: the flag package's English is said in Chinese, naming flags as
// help does (--name) and what kind of value a flag takes.
func TestFlagMistakesInChinese(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "--townships", "x"}, "参数 --townships 的值 \"x\" 无效：应为整数，如 10"},
		{[]string{"gen", "--noise", "abc"}, "参数 --noise 的值 \"abc\" 无效：应为数，如 0.3"},
		{[]string{"lock", "--unlock=maybe"}, "参数 --unlock 的值 \"maybe\" 无效：这个参数不带值，写 --unlock 即可"},
		{[]string{"rank", "-foo"}, "未知参数 --foo"},
		{[]string{"rank", "--db"}, "参数 --db 需要一个值"},
		{[]string{"rules", "--base-url", "kpimon.example.cn"}, "--base-url“kpimon.example.cn”须以 http:// 或 https:// 开头"},
	} {
		_, stderr, err := cli(t, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error (status 2)", tc.args, err)
			continue
		}
		if said := ue.msg + stderr; !strings.Contains(said, tc.want) || strings.Contains(said, "parse error") {
			t.Errorf("%v said %q, want %q", tc.args, said, tc.want)
		}
	}
}

// TestUnknownCommandSuggests: a mistyped or synonymous command is answered with the one
// meant.
func TestUnknownCommandSuggests(t *testing.T) {
	for _, tc := range []struct {
		cmd, want string
	}{
		{"ingset", "未知命令“ingset”：是不是 kpimon ingest？"},
		{"import", "是不是 kpimon ingest？"},
		{"unlock", "是不是 kpimon lock --unlock？"},
		{"servr", "是不是 kpimon serve？"},
		{"frobnicate", "未知命令“frobnicate”\n"},
	} {
		_, stderr, err := cli(t, tc.cmd)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(stderr, tc.want) {
			t.Errorf("kpimon %s: %v, stderr lacks %q:\n%s", tc.cmd, err, tc.want, stderr)
		}
	}
}

// TestMissingDBSaysHow: a missing --db says what it is and that KPIMON_DB saves typing it.
func TestMissingDBSaysHow(t *testing.T) {
	t.Setenv("KPIMON_DB", "")
	_, stderr, err := cli(t, "ingest", "--config", cangnan("config.yaml"), cangnan("jan-may.csv"))
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(stderr, "缺少参数 --db：数据库文件，如 --db 考核.db（也可以设置环境变量 KPIMON_DB") {
		t.Errorf("ingest without --db: %v\n%s", err, stderr)
	}
}
