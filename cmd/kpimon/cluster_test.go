package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kpimon/kpimon/postgres/pgtest"
)

// clusterConfig is the assessment two servers share: a count with a target, and a veto
// whose report raises a critical alert at once; alerts go to a JSON robot.
const clusterConfig = `id: cluster
name: 集群测试县妇联考核
year: 2026
townships:
%s
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 1200}
  - {code: incident, name: 重大责任事故, kind: veto}
notify:
  base_url: http://kpimon.example
  webhooks:
    - {name: 测试群, type: json, url: %s, events: [alerts]}
`

// robot records the alert messages a JSON webhook receives.
type robot struct {
	mu    sync.Mutex
	fired map[string]int // alert/township/indicator → times announced as fired
	n     int
}

func (r *robot) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Event string `json:"event"`
		Fired []struct {
			Alert, Township, Indicator string
		} `json:"fired"`
	}
	json.NewDecoder(req.Body).Decode(&body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	for _, f := range body.Fired {
		r.fired[f.Alert+"/"+f.Township+"/"+f.Indicator]++
	}
	w.Write([]byte(`{}`))
}

func (r *robot) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fired[key]
}

// node is one `kpimon serve` process.
type node struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	done   chan error
}

// TestTwoServersOnOnePostgreSQL runs two `kpimon serve` processes on one PostgreSQL of the
// test's own: a batch posted to one shows on the other's API within a second; an upload
// previewed on one is confirmed on the other; a robot hears each alert exactly once, also
// after the server that sends them is killed with SIGKILL and the other takes over; and a
// PostgreSQL restart in the middle of a stream of POSTs loses no acknowledged write.
func TestTwoServersOnOnePostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kpimon and runs two servers for about a minute")
	}
	pg := pgtest.StartServer(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "kpimon")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rb := &robot{fired: map[string]int{}}
	robotSrv := httptest.NewServer(rb)
	defer robotSrv.Close()
	var towns strings.Builder
	for i := range 30 {
		fmt.Fprintf(&towns, "  - {code: t%02d, name: 测试镇%02d}\n", i, i)
	}
	config := filepath.Join(dir, "cluster.yaml")
	writeFile(t, config, fmt.Sprintf(clusterConfig, towns.String(), robotSrv.URL))
	db := pg.URL()
	out := mustCLI(t, "token", "add", "--db", db, "--config", config, "--admin", "--name", "县妇联办公室")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]

	start := func(name string) *node {
		t.Helper()
		n := &node{stderr: &syncBuffer{}, done: make(chan error, 1)}
		n.cmd = exec.Command(bin, "serve", "--config", config, "--db", db, "--addr", "127.0.0.1:0", "--alert-interval", "1s", "--log-level", "info")
		n.cmd.Stderr = n.stderr
		stdout, _ := n.cmd.StdoutPipe()
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { n.done <- n.cmd.Wait() }()
		t.Cleanup(func() {
			n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.done:
			case <-time.After(10 * time.Second):
				n.cmd.Process.Kill()
			}
		})
		sc := bufio.NewScanner(stdout)
		addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		for sc.Scan() {
			if m := addr.FindString(sc.Text()); m != "" {
				n.base = m
				break
			}
		}
		go io.Copy(io.Discard, stdout)
		if n.base == "" {
			t.Fatalf("server %s printed no address; stderr:\n%s", name, n.stderr.String())
		}
		return n
	}
	a, b := start("A"), start("B")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	post := func(n *node, csv string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", n.base+"/api/v1/observations", strings.NewReader(csv))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	actual := func(n *node, township, period string) (float64, bool) {
		var r struct {
			Evaluations []struct {
				Township, Indicator string
				Actual              *float64
			} `json:"evaluations"`
		}
		if !getJSON(ctx, n.base+"/api/v1/evaluations?period="+period, &r) {
			return 0, false
		}
		for _, e := range r.Evaluations {
			if e.Township == township && e.Indicator == "screenings" && e.Actual != nil {
				return *e.Actual, true
			}
		}
		return 0, false
	}

	// 1. a batch posted to A is on B's API within a second (LISTEN/NOTIFY, not polling)
	if code, body := post(a, "township,indicator,period,value\nt00,screenings,2026-01,41\n"); code != 200 {
		t.Fatalf("post to A: %d %s", code, body)
	}
	posted := time.Now()
	poll(t, ctx, "A's batch on B's API", func() bool { v, ok := actual(b, "t00", "2026-01"); return ok && v == 41 })
	if took := time.Since(posted); took > time.Second {
		t.Errorf("A's batch reached B's API after %v, want within 1 s", took)
	}

	// 2. an upload previewed on A is confirmed on B (previews and sessions live in the database)
	jar, _ := cookiejar.New(nil) // cookies of 127.0.0.1 go to every port, as behind one address
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(n *node, path string, v url.Values) (int, string) {
		resp, err := browser.PostForm(n.base+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := form(a, "/cluster/login", url.Values{"token": {token}}); code != http.StatusSeeOther {
		t.Fatalf("login on A: %d", code)
	}
	resp, err := browser.Get(a.base + "/cluster/upload")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	if csrf == nil {
		t.Fatalf("no CSRF value on A's upload page:\n%.500s", page)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf[1])
	fw, _ := mw.CreateFormFile("file", "二月.csv")
	fw.Write([]byte("township,indicator,period,value\nt01,screenings,2026-02,52\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", a.base+"/cluster/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	preview, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := regexp.MustCompile(`name="id" value="([0-9a-f]+)"`).FindStringSubmatch(string(preview))
	if id == nil {
		t.Fatalf("no preview on A: %d\n%.800s", resp.StatusCode, preview)
	}
	if code, body := form(b, "/cluster/upload/confirm", url.Values{"csrf": {csrf[1]}, "id": {id[1]}}); code != 200 || !strings.Contains(body, "已写入") {
		t.Fatalf("confirm on B of A's preview: %d\n%.800s", code, body)
	}
	poll(t, ctx, "the confirmed upload on A's API", func() bool { v, ok := actual(a, "t01", "2026-02"); return ok && v == 52 })

	// 3. each alert reaches the robot once; the sender dies, the other takes over
	leader := func() (*node, *node) {
		for _, n := range []*node{a, b} {
			if strings.Contains(n.stderr.String(), "本服务负责发送该考核的消息") {
				if n == a {
					return a, b
				}
				return b, a
			}
		}
		return nil, nil
	}
	if code, body := post(a, "township,indicator,period,value\nt02,incident,2026-02,1\n"); code != 200 {
		t.Fatalf("veto report: %d %s", code, body)
	}
	const veto2 = "veto/t02/incident"
	poll(t, ctx, "the veto alert at the robot", func() bool { return rb.count(veto2) > 0 })
	sender, other := leader()
	if sender == nil {
		t.Fatal("no server says it sends the messages")
	}
	if err := sender.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-sender.done
	killed := time.Now()
	if code, body := post(other, "township,indicator,period,value\nt03,incident,2026-02,1\n"); code != 200 {
		t.Fatalf("veto report to the survivor: %d %s", code, body)
	}
	const veto3 = "veto/t03/incident"
	poll(t, ctx, "the survivor to take over and send the next alert", func() bool { return rb.count(veto3) > 0 })
	if took := time.Since(killed); took > 30*time.Second {
		t.Errorf("the survivor took over after %v, want within 30 s", took)
	}
	time.Sleep(3 * time.Second) // a few more syncs: nothing is sent twice
	for _, k := range []string{veto2, veto3} {
		if n := rb.count(k); n != 1 {
			t.Errorf("%s announced %d times, want once", k, n)
		}
	}

	// 4. PostgreSQL restarts in the middle of a stream of POSTs: every acknowledged write stays
	type write struct {
		township, period string
		value            int
	}
	var acked []write
	var mu sync.Mutex
	stream := make(chan struct{})
	go func() {
		defer close(stream)
		for k := range 120 {
			w := write{fmt.Sprintf("t%02d", 4+k%26), fmt.Sprintf("2026-%02d", 3+k/26), 100 + k}
			code, _ := post(other, fmt.Sprintf("township,indicator,period,value\n%s,screenings,%s,%d\n", w.township, w.period, w.value))
			if code == 200 {
				mu.Lock()
				acked = append(acked, w)
				mu.Unlock()
			} else if code != http.StatusServiceUnavailable {
				t.Errorf("a POST during the restart answered %d, want 200 or 503", code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	pg.Stop(t)
	time.Sleep(2 * time.Second)
	pg.Start(t)
	<-stream
	if len(acked) < 40 {
		t.Fatalf("only %d of 120 writes acknowledged around the restart", len(acked))
	}
	for _, w := range acked {
		var v float64
		var ok bool
		poll(t, ctx, "an acknowledged write", func() bool { v, ok = monthValue(ctx, other, w.township, w.period); return ok })
		if int(v) != w.value {
			t.Errorf("%s %s: %v after the restart, want the acknowledged %d", w.township, w.period, v, w.value)
		}
	}
	t.Logf("%d of 120 writes acknowledged around a restart, every one kept", len(acked))
}

// monthValue is a township's reported screenings of one month, by the history API.
func monthValue(ctx context.Context, n *node, township, period string) (float64, bool) {
	var r struct {
		Revisions []struct {
			Value   float64 `json:"value"`
			Current bool    `json:"current"`
		} `json:"revisions"`
	}
	if !getJSON(ctx, n.base+"/api/v1/history?township="+township+"&indicator=screenings&period="+period, &r) {
		return 0, false
	}
	for _, x := range r.Revisions {
		if x.Current {
			return x.Value, true
		}
	}
	return 0, false
}
