package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMistakes: serve's mistakes are said in Chinese with what to do before the
// database is opened, so a refused serve leaves no empty database behind; a mistake in a
// flag's value is a usage mistake (status 2).
func TestServeMistakes(t *testing.T) {
	config := cangnan("config.yaml")
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"an address without a port", []string{"--addr", "8080x"}, true, "--addr“8080x”无效：应为 主机:端口，如 127.0.0.1:8080"},
		{"a port out of range", []string{"--addr", ":99999"}, true, "端口在 0 到 65535 之间"},
		{"a port in use", []string{"--addr", busy.Addr().String()}, false, "已被占用（也许 kpimon 已在运行）：换一个端口，如 --addr 127.0.0.1:8081"},
		{"an address not of this machine", []string{"--addr", "192.0.2.1:8080"}, false, "本机没有地址 192.0.2.1"},
		{"a month of another year", []string{"--period", "2025-06"}, true, "--period 2025-06 不在考核年度 2024 内"},
		{"an interval", []string{"--alert-interval", "5"}, true, "--alert-interval \"5\" 无效：应为正的时长"},
		{"an Alertmanager without http://", []string{"--alertmanager-url", "localhost:9093"}, true, "--alertmanager-url“localhost:9093”无效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".db")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut syncBuffer
			args := append([]string{"serve", "--config", config, "--db", db, "--log-level", "error"}, tc.args...)
			err := run(ctx, args, &out, &errOut)
			if err == nil {
				t.Fatal("served")
			}
			var ue usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tc.usage, tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("said %q, want %q", err, tc.want)
			}
			for _, e := range []string{"listen", "bind", "missing port", "alerting:"} {
				if strings.Contains(err.Error(), e) {
					t.Errorf("English reaches the clerk (%q): %v", e, err)
				}
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("a refused serve created the database")
			}
		})
	}
}

// TestServeSaysWhatItDid: serving a database that did not exist says it was created (a
// mistyped --db is noticed), and stopping says 已停止.
func TestServeSaysWhatItDid(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cangnan("config.yaml"), "--db", db, "--addr", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for addrRE.FindStringSubmatch(out.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no address; stdout %q stderr %q", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	said := out.String()
	if !strings.Contains(said, "数据库 "+db+" 原先不存在，已新建（空的）。如果应使用已有的数据库，请检查 --db。") {
		t.Errorf("serve did not say it created the database:\n%s", said)
	}
	if !strings.HasSuffix(said, "kpimon 已停止。\n") {
		t.Errorf("serve did not say it stopped:\n%s", said)
	}
	// a database that exists is not announced
	out2, _, _ := cli(t, "token", "add", "--db", db, "--admin")
	if strings.Contains(out2, "原先不存在") {
		t.Errorf("token add on an existing database:\n%s", out2)
	}
}

// TestDemoMistakes: demo refuses a --db that exists or is PostgreSQL as a usage mistake.
func TestDemoMistakes(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "demo.db")
	writeFile(t, existing, "")
	for _, tc := range []struct {
		db, want string
	}{
		{existing, "已存在：示例总是写入一个新数据库"},
		{"postgres://kpimon@127.0.0.1/kpimon", "示例只能写入新的 SQLite 文件"},
	} {
		_, _, err := cli(t, "demo", "--db", tc.db, "--addr", "127.0.0.1:0")
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, tc.want) {
			t.Errorf("demo --db %s: %v, want a usage error saying %q", tc.db, err, tc.want)
		}
	}
	if out := mustCLI(t, "demo", "-h"); !strings.Contains(out, "--write 目录") || !strings.Contains(out, "qingcheng-2026") {
		t.Errorf("demo -h does not describe the demo as it is:\n%s", out)
	}
}
