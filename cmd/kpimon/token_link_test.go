package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/sqlite"
)

func TestTokenLinkCommand(t *testing.T) {
	config := cangnan("config.yaml")
	dir := t.TempDir()
	db, qr := filepath.Join(dir, "t.db"), filepath.Join(dir, "灵溪镇.png")
	out := mustCLI(t, "token", "link", "--db", db, "--config", config, "--township", "灵溪镇", "--ttl", "3d",
		"--base-url", "https://kpimon.example.cn/", "--qr", qr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	link := lines[len(lines)-1]
	if !strings.HasPrefix(link, "https://kpimon.example.cn/config/login/link/kpl_") || strings.Contains(link, " ") {
		t.Fatalf("last line %q is not the link alone:\n%s", link, out)
	}
	// right under the line that says what it is
	if above := lines[len(lines)-2]; !strings.HasPrefix(above, "灵溪镇的一次性登录链接") || !strings.HasSuffix(above, "只能使用一次：") {
		t.Errorf("the line above the link is %q, not what the link is:\n%s", above, out)
	}
	for _, want := range []string{"已为灵溪镇创建登录链接专用令牌 #1「灵溪镇妇联（登录链接）」", "只能使用一次", "二维码已写入", "kpimon token revoke --db " + db + " 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(qr)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(data)); err != nil || img.Bounds().Dx() != 512 {
		t.Errorf("QR code: %v", err)
	}
	// the link works once, for three days, for 灵溪镇
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret := link[strings.LastIndex(link, "/")+1:]
	if _, err := st.UseLoginLink(context.Background(), secret, time.Now().Add(73*time.Hour)); err == nil {
		t.Error("the link works after three days")
	}
	tok, err := st.UseLoginLink(context.Background(), secret, time.Now())
	if err != nil || tok.Township != "lingxi" {
		t.Errorf("the link: %+v %v", tok, err)
	}
	// a second link reuses the link token
	out = mustCLI(t, "token", "link", "--db", db, "--config", config, "--township", "lingxi", "--base-url", "https://kpimon.example.cn")
	if strings.Contains(out, "创建登录链接专用令牌") || !strings.Contains(out, "kpimon token revoke --db "+db+" 1") {
		t.Errorf("second link:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "link", "--db", db, "--config", config, "--township", "lingxi"}, "须给出 --base-url"},
		{[]string{"token", "link", "--db", db, "--config", config, "--township", "lingxi", "--base-url", "kpimon.example.cn"}, "须以 http:// 或 https:// 开头"},
		{[]string{"token", "link", "--db", db, "--config", config, "--township", "桥墩镇", "--base-url", "https://x.cn"}, "未知的乡镇“桥墩镇”"},
		{[]string{"token", "link", "--db", db, "--config", config, "--township", "lingxi", "--ttl", "100d", "--base-url", "https://x.cn"}, "--ttl \"100d\" 无效"},
		{[]string{"token", "link", "--db", db, "--config", config}, "缺少参数 --township"},
	} {
		_, stderr, err := cli(t, tc.args...)
		if err == nil || !strings.Contains(err.Error()+stderr, tc.want) {
			t.Errorf("%v: %v %s; want %q", tc.args, err, stderr, tc.want)
		}
	}
}

// TestTokenLinkLandsInItsAssessment: on a server of two years, the login link of the
// earlier year opens that year's assessment, not the default (this year's).
func TestTokenLinkLandsInItsAssessment(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(cangnan("config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	early, late := filepath.Join(dir, "cangnan-2024.yaml"), filepath.Join(dir, "cangnan-2025.yaml")
	writeFile(t, early, string(raw))
	writeFile(t, late, strings.NewReplacer("year: 2024", "year: 2025", "2024年度", "2025年度").Replace(string(raw)))
	db := filepath.Join(dir, "c.db")
	mustCLI(t, "ingest", "--config", early, "--db", db, cangnan("jan-may.csv"))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", dir, "--db", db, "--addr", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for addrRE.FindStringSubmatch(out.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no address; stderr %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := "http://" + addrRE.FindStringSubmatch(out.String())[1]
	said := mustCLI(t, "token", "link", "--db", db, "--config", early, "--township", "灵溪镇", "--base-url", base)
	link := said[strings.LastIndex(strings.TrimSpace(said), "\n")+1:]
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(link, base+"/cangnan-2024/login/link/") {
		t.Fatalf("link %q is not under its assessment's prefix", link)
	}
	code, body := get(t, link)
	if code != 200 || !strings.Contains(body, "苍南县妇联2024年度") || strings.Contains(body, "2025年度") {
		t.Errorf("the 2024 link opened %d:\n%s", code, body)
	}
}
