package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenCommands(t *testing.T) {
	config := cangnan("config.yaml")
	db := filepath.Join(t.TempDir(), "t.db")
	out := mustCLI(t, "token", "add", "--db", db, "--config", config, "--township", "灵溪镇")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "kpm_") || len(secret) != 68 || strings.Contains(secret, " ") {
		t.Fatalf("last line %q is not the token alone:\n%s", secret, out)
	}
	if !strings.Contains(out, "灵溪镇妇联") || !strings.Contains(out, "中灵溪镇的数据") {
		t.Errorf("add said %q", out)
	}
	admin := mustCLI(t, "token", "add", "--db", db, "--admin", "--name", "县妇联办公室")
	if !strings.Contains(admin, "可填报全部考核、所有乡镇") {
		t.Errorf("admin add said %q", admin)
	}
	list := mustCLI(t, "token", "list", "--db", db)
	if strings.Contains(list, secret) || !strings.Contains(list, secret[:12]+"…") || !strings.Contains(list, "乡镇 lingxi") || !strings.Contains(list, "管理员") {
		t.Errorf("list shows\n%s", list)
	}
	if out := mustCLI(t, "token", "revoke", "--db", db, "1"); !strings.Contains(out, "已停用令牌 #1") {
		t.Errorf("revoke said %q", out)
	}
	if list := mustCLI(t, "token", "list", "--db", db); !strings.Contains(list, "已停用") {
		t.Errorf("list after revoke\n%s", list)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "revoke", "--db", db, "1"}, "没有编号为 1 的有效令牌"},
		{[]string{"token", "add", "--db", db, "--config", config, "--township", "桥墩镇"}, "未知的乡镇“桥墩镇”"},
		{[]string{"token", "add", "--db", db, "--admin", "--township", "lingxi"}, "须指定 --township 或 --admin 之一"},
		{[]string{"token", "add", "--db", db, "--township", "lingxi"}, "缺少参数 --config"},
		{[]string{"token", "frobnicate"}, "kpimon token add"},
	} {
		_, stderr, err := cli(t, tc.args...)
		if err == nil || !strings.Contains(err.Error()+stderr, tc.want) {
			t.Errorf("%v: %v %s; want %q", tc.args, err, stderr, tc.want)
		}
	}
}

func TestLockCommand(t *testing.T) {
	config, db := loadCangnan(t)
	if _, stderr, err := cli(t, "lock", "--db", db); err == nil || !strings.Contains(stderr, "须指定 --config 或 --assessment") {
		t.Errorf("lock without naming the assessment: %v %s", err, stderr)
	}
	if out := mustCLI(t, "lock", "--db", db, "--config", config); !strings.Contains(out, "没有已锁定的月份") {
		t.Errorf("lock list said %q", out)
	}
	if _, _, err := cli(t, "lock", "--db", db, "--config", config, "--period", "2019-06"); err == nil || !strings.Contains(err.Error(), "不在考核年度 2024 内") {
		t.Errorf("locking a month of another year: %v", err)
	}
	if out := mustCLI(t, "lock", "--db", db, "--config", config, "--period", "2024-06", "--actor", "县妇联办公室"); !strings.Contains(out, "已锁定 2024-06") || !strings.Contains(out, "kpimon lock --unlock --db "+db+" --config "+config+" --period 2024-06") {
		t.Errorf("lock said %q", out)
	}
	if out := mustCLI(t, "lock", "--db", db, "--assessment", "config"); !strings.Contains(out, "2024-06") || !strings.Contains(out, "县妇联办公室") {
		t.Errorf("lock list said %q", out)
	}
	before := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json")
	// june.json again with one figure changed: refused whole
	fix := filepath.Join(t.TempDir(), "fix.csv")
	writeFile(t, fix, "township,indicator,period,value\nlingxi,screenings,2024-05,1\nlingxi,screenings,2024-06,999\n")
	_, stderr, err := cli(t, "ingest", "--config", config, "--db", db, fix)
	if err == nil || !strings.Contains(err.Error()+stderr, "2024-06 已锁定") {
		t.Errorf("ingest into a locked month: %v %s", err, stderr)
	}
	if after := mustCLI(t, "eval", "--config", config, "--db", db, "--period", "2024-06", "--format", "json"); after != before {
		t.Error("a refused batch changed the evaluation")
	}
	if out := mustCLI(t, "lock", "--db", db, "--assessment", "config", "--unlock", "--period", "2024-06"); !strings.Contains(out, "已解锁 2024-06") {
		t.Errorf("unlock said %q", out)
	}
	if out := mustCLI(t, "ingest", "--config", config, "--db", db, fix); !strings.Contains(out, "已写入") {
		t.Errorf("ingest after unlock said %q", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
