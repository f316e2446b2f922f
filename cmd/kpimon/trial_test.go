package main

// Tests of what a user trial of the README's walk-through found on the command line.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
)

// status is the exit status kpimon ends with for what run returned, and what main prints
// for it.
func status(err error) (int, string) {
	var b bytes.Buffer
	code := exitStatus(err, &b)
	return code, b.String()
}

// TestTokenCommandsTakeConfigFlags: token add, list and link take --config as the other
// commands do — several, or a folder — with --assessment to choose one; several without
// --assessment is the others' usage error; token list lists the tokens of every assessment
// given, or of --assessment.
func TestTokenCommandsTakeConfigFlags(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "demo", "--write", dir)
	configs := filepath.Join(dir, "configs")
	db := filepath.Join(t.TempDir(), "t.db")

	// several assessments and no --assessment: the words rank says, status 2, no database
	_, _, rankErr := cli(t, "rank", "--config", configs, "--db", db)
	var want usageError
	if !errors.As(rankErr, &want) || !strings.Contains(want.msg, "请用 --assessment 指明哪一项") {
		t.Fatalf("rank with several configs: %v", rankErr)
	}
	for _, args := range [][]string{
		{"token", "add", "--db", db, "--config", configs, "--township", "飞来峡镇"},
		{"token", "add", "--db", db, "--config", configs, "--admin"},
		{"token", "link", "--db", db, "--config", configs, "--township", "飞来峡镇", "--base-url", "https://kpimon.example.cn"},
	} {
		_, _, err := cli(t, args...)
		var ue usageError
		if code, said := status(err); code != 2 || !errors.As(err, &ue) || ue.msg != want.msg {
			t.Errorf("kpimon %s: status %d, said %q; want status 2 and %q", strings.Join(args, " "), code, said, want.msg)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("a refused token command created the database")
	}

	out := mustCLI(t, "token", "add", "--db", db, "--config", configs, "--assessment", "qingcheng-2026", "--township", "飞来峡镇")
	if !strings.Contains(out, "已创建令牌 #1「飞来峡镇妇联」：只能填报“清城区妇联2026年度镇（街道）妇联工作目标管理考核”中飞来峡镇的数据") {
		t.Errorf("token add --config DIR --assessment said:\n%s", out)
	}
	// several files, one chosen; an admin of that assessment
	out = mustCLI(t, "token", "add", "--db", db, "--config", filepath.Join(configs, "qingcheng-2026.yaml"),
		"--config", filepath.Join(configs, "fogang-2026.yaml"), "--assessment", "fogang-2026", "--admin", "--name", "佛冈县妇联办公室")
	if !strings.Contains(out, "已创建令牌 #2「佛冈县妇联办公室」：可填报“佛冈县妇联2026年度镇妇联工作目标管理考核”所有乡镇（街道）的数据") {
		t.Errorf("token add --config A --config B --assessment B --admin said:\n%s", out)
	}
	mustCLI(t, "token", "add", "--db", db, "--admin", "--name", "清远市妇联办公室")
	out = mustCLI(t, "token", "link", "--db", db, "--config", configs, "--assessment", "qingcheng-2026", "--township", "飞来峡镇", "--base-url", "https://kpimon.example.cn")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); !strings.HasPrefix(lines[len(lines)-1], "https://kpimon.example.cn/qingcheng-2026/login/link/kpl_") {
		t.Errorf("token link --config DIR --assessment said:\n%s", out)
	}
	if _, _, err := cli(t, "token", "add", "--db", db, "--assessment", "qingcheng-2026", "--admin"); err == nil || !strings.Contains(err.Error(), "--assessment qingcheng-2026 须与 --config 一起给出") {
		t.Errorf("token add --assessment without --config: %v", err)
	}

	// the list: #1 and #4 (the link token) are qingcheng-2026's, #2 fogang-2026's, #3 everyone's
	ids := func(args ...string) []string {
		t.Helper()
		out := mustCLI(t, append([]string{"token", "list", "--db", db}, args...)...)
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if m := regexp.MustCompile(`^\s*(\d+)\s`).FindStringSubmatch(line); m != nil {
				got = append(got, m[1])
			}
		}
		return got
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"every token", nil, "1 2 3 4"},
		{"the folder: every assessment in it", []string{"--config", configs}, "1 2 3 4"},
		{"the folder and --assessment", []string{"--config", configs, "--assessment", "fogang-2026"}, "2 3"},
		{"one file", []string{"--config", filepath.Join(configs, "qingcheng-2026.yaml")}, "1 3 4"},
		{"two files", []string{"--config", filepath.Join(configs, "qingxin-2026.yaml"), "--config", filepath.Join(configs, "fogang-2026.yaml")}, "2 3"},
		{"--assessment alone", []string{"--assessment", "qingcheng-2026"}, "1 3 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(ids(tc.args...), " "); got != tc.want {
				t.Errorf("token list %s: tokens %s, want %s", strings.Join(tc.args, " "), got, tc.want)
			}
		})
	}
	if out := mustCLI(t, "token", "list", "--db", db, "--config", configs); !strings.Contains(out, "（表中时间为北京时间）") {
		t.Errorf("token list --config DIR does not write the assessments' time:\n%s", out)
	}
	_, _, err := cli(t, "token", "list", "--db", db, "--assessment", "qingcheng-2062")
	if code, said := status(err); code != 2 || !strings.Contains(said, "没有考核“qingcheng-2062”的令牌或数据") {
		t.Errorf("token list --assessment with a typo: status %d, said %q", code, said)
	}
	if out := mustCLI(t, "token", "-h"); !strings.Contains(out, "kpimon token list --db D [--config C…] [--assessment 考核编号]") ||
		!strings.Contains(out, "kpimon token link --db D --config C… [--assessment 考核编号] --township T") {
		t.Errorf("token's help does not show --config C… and --assessment:\n%s", out)
	}
}

// TestIngestSaysItMadeTheDatabase: an ingest into a database that did not exist says so in
// one line before what it wrote, so that a mistyped --db is noticed; the next does not.
func TestIngestSaysItMadeTheDatabase(t *testing.T) {
	config, db := cangnan("config.yaml"), filepath.Join(t.TempDir(), "new.db")
	out := mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("jan-may.csv"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := "数据库 " + db + " 原先不存在，已新建。如果应导入已有的数据库，请检查 --db。"; len(lines) != 2 || lines[0] != want || !strings.HasPrefix(lines[1], "已写入批次 #1") {
		t.Errorf("the first ingest said\n%s\nwant the line %q, then the batch", out, want)
	}
	if out := mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("june.json")); strings.Contains(out, "原先不存在") {
		t.Errorf("an ingest into an existing database said\n%s", out)
	}
}

// TestCommandLineMistakesExitWith2: a --config or a --db file that does not exist is a
// command-line mistake, status 2, said as before; a command that fails otherwise is 1.
func TestCommandLineMistakesExitWith2(t *testing.T) {
	config, db := loadCangnan(t)
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.db")
	out := func(name string) string { return filepath.Join(dir, name) }
	noDB := "kpimon: 数据库文件 " + typo + " 不存在或无法读取：请检查 --db（新的考核请先用 kpimon ingest 导入数据）\n"
	for _, tc := range []struct {
		name string
		args []string
		said string
	}{
		{"rank, a config that does not exist", []string{"rank", "--config", "nonexist", "--db", db}, "kpimon: 考核配置 nonexist 不存在：请检查 --config\n"},
		{"eval, a config folder without configs", []string{"eval", "--config", dir, "--db", db}, "kpimon: 目录 " + dir + " 中没有考核配置（.yaml 文件）：请检查 --config\n"},
		{"rank", []string{"rank", "--config", config, "--db", typo}, noDB},
		{"eval", []string{"eval", "--config", config, "--db", typo}, noDB},
		{"alerts", []string{"alerts", "--config", config, "--db", typo}, noDB},
		{"lock list", []string{"lock", "--config", config, "--db", typo}, noDB},
		{"lock list by --assessment", []string{"lock", "--assessment", "config", "--db", typo}, noDB},
		{"bulletin", []string{"bulletin", "--config", config, "--db", typo, "--out", out("b.html")}, noDB},
		{"render", []string{"render", "--config", config, "--db", typo, "--out", out("site")}, noDB},
		{"backtest", []string{"backtest", "--config", config, "--db", typo}, noDB},
		{"backfill", []string{"backfill", "--config", config, "--db", typo, "--out", out("b.om")}, noDB},
		{"token list", []string{"token", "list", "--db", typo}, noDB},
		{"backup", []string{"backup", "--db", typo, "--out", out("b.db")}, noDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := cli(t, tc.args...)
			code, said := status(err)
			if code != 2 || stderr+said != tc.said {
				t.Errorf("status %d, said %q; want status 2 and %q", code, stderr+said, tc.said)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
		})
	}
	if _, err := os.Stat(typo); err == nil {
		t.Error("a read-only command created the mistyped database")
	}
	// not a command-line mistake: an empty database has nothing to evaluate (1); an invalid
	// batch, reported row by row (1, nothing more said)
	empty := filepath.Join(dir, "empty.db")
	mustCLI(t, "token", "add", "--db", empty, "--admin")
	_, _, err := cli(t, "eval", "--config", config, "--db", empty)
	if code, said := status(err); code != 1 || !strings.Contains(said, "还没有 2024 年度的报送数据") {
		t.Errorf("eval on an empty database: status %d, said %q", code, said)
	}
	bad := out("bad.csv")
	writeFile(t, bad, "township,indicator,period,value\nlingxi,screenings,2024-06,很多\n")
	_, _, err = cli(t, "ingest", "--config", config, "--db", db, bad)
	if code, said := status(err); code != 1 || said != "" {
		t.Errorf("an invalid batch: status %d, said %q", code, said)
	}
	if code, said := status(nil); code != 0 || said != "" {
		t.Errorf("success: status %d, said %q", code, said)
	}
}

// TestUnknownFlagSuggests: an unknown flag is answered with the command's flag meant — one
// within an edit or two, or the flags it begins — and exits 2.
func TestUnknownFlagSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rank", "--perod", "2024-06"}, "未知参数 --perod：是不是 --period？"},
		{[]string{"rank", "--fromat", "csv"}, "未知参数 --fromat：是不是 --format？"},
		{[]string{"eval", "--assess", "x"}, "未知参数 --assess：是不是 --assessment？"},
		{[]string{"ingest", "-acter", "x"}, "未知参数 --acter：是不是 --actor？"},
		{[]string{"token", "add", "--twonship", "甲镇"}, "未知参数 --twonship：是不是 --township？"},
		{[]string{"serve", "--alert", "x"}, "未知参数 --alert：是不是 --alert-interval 或 --alertmanager-resend 或 --alertmanager-url？"},
		// nothing near: the flags are listed below instead
		{[]string{"rank", "--foo"}, "未知参数 --foo（这个命令的参数见下面的说明）"},
		// two letters are not two edits from --db
		{[]string{"rank", "--to", "2024-06"}, "未知参数 --to（这个命令的参数见下面的说明）"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, err := cli(t, tc.args...)
			code, _ := status(err)
			if first, _, _ := strings.Cut(stderr, "\n"); code != 2 || first != tc.want {
				t.Errorf("status %d, first line %q; want status 2 and %q", code, first, tc.want)
			}
		})
	}
	// the commands' suggestions use the same rule
	for _, tc := range []struct{ cmd, want string }{
		{"back", "是不是 kpimon backtest 或 kpimon backfill 或 kpimon backup？"},
		{"rnak", "是不是 kpimon rank？"},
	} {
		if _, stderr, _ := cli(t, tc.cmd); !strings.Contains(stderr, "未知命令“"+tc.cmd+"”："+tc.want) {
			t.Errorf("kpimon %s: stderr lacks %q:\n%s", tc.cmd, tc.want, stderr)
		}
	}
}

// TestUsageLinesNameEveryFlag: a command that takes --assessment shows it in its usage
// lines, with --config C… (several), wherever they name --config.
func TestUsageLinesNameEveryFlag(t *testing.T) {
	helps := map[string][]string{}
	for _, c := range commands() {
		helps[c.name] = []string{c.name, "-h"}
	}
	for _, sub := range []string{"add", "list", "link"} {
		helps["token "+sub] = []string{"token", sub, "-h"}
	}
	checked := 0
	for name, args := range helps {
		out, _, err := cli(t, args...)
		if err != nil {
			t.Fatalf("kpimon %s -h: %v", name, err)
		}
		if !strings.Contains(out, "\n  --assessment 考核编号\n") {
			continue
		}
		checked++
		for _, line := range strings.Split(out, "\n") {
			usage := strings.HasPrefix(line, "用法: kpimon") || strings.HasPrefix(line, "   或: kpimon") || strings.HasPrefix(line, "  kpimon ")
			if !usage || !strings.Contains(line, "--config") {
				continue
			}
			if !strings.Contains(line, "--config C…") || !strings.Contains(line, "--assessment 考核编号") {
				t.Errorf("kpimon %s: the usage line %q lacks --config C… or --assessment 考核编号", name, line)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d commands take --assessment", checked)
	}
}

// evalTable reads kpimon eval's table: the header and the rows, cell by cell.
func evalTable(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 5 {
		t.Fatalf("no table:\n%s", out)
	}
	// the header, the rule and the rows line up in display columns (Chinese is 2 wide)
	for _, l := range lines[3:] {
		if displayWidth(l) != displayWidth(lines[2]) {
			t.Errorf("the row %q is %d columns wide, the header %d", l, displayWidth(l), displayWidth(lines[2]))
		}
	}
	cells := regexp.MustCompile(`\s{2,}`)
	header = cells.Split(strings.TrimSpace(lines[2]), -1)
	for _, l := range lines[4:] {
		row := cells.Split(strings.TrimSpace(l), -1)
		if len(row) != len(header) {
			t.Fatalf("the row %q has %d cells, the header %d", l, len(row), len(header))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// TestEvalTableShowsTheWholeAndLastYear: kpimon eval's table ends with a row per indicator
// for the whole (全区, 全市: the JSON's county), and with last year's assessment given it has
// a 去年同期 column: each unit's and the whole's actual as of the same month last year,
// written as last year's own table writes its 实际, a dash where the JSON has no last_year.
func TestEvalTableShowsTheWholeAndLastYear(t *testing.T) {
	configs, db := loadDemoData(t)
	load := func(id string) *kpi.Assessment {
		a, err := kpi.LoadConfig(filepath.Join(configs, id+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cur, last := load("qingcheng-2026"), load("qingcheng-2025")
	header, rows := evalTable(t, mustCLI(t, "eval", "--config", configs, "--assessment", cur.ID, "--db", db, "--period", "2026-06"))
	if got := strings.Join(header[:5], " "); got != "乡镇 指标 实际 去年同期 序时目标" {
		t.Fatalf("header %q, want 去年同期 beside 实际", strings.Join(header, " "))
	}
	_, lastRows := evalTable(t, mustCLI(t, "eval", "--config", configs, "--assessment", last.ID, "--db", db, "--period", "2025-06"))
	lastActual := map[string]string{}
	for _, r := range lastRows {
		lastActual[r[0]+"|"+r[1]] = r[2]
	}
	var js struct {
		Evaluations []struct {
			Township, Indicator string
			LastYear            *kpi.LastYear `json:"last_year"`
		}
		County []struct {
			Indicator string
			LastYear  *kpi.LastYear `json:"last_year"`
		}
	}
	raw := mustCLI(t, "eval", "--config", configs, "--assessment", cur.ID, "--db", db, "--period", "2026-06", "--format", "json")
	if err := json.Unmarshal([]byte(raw), &js); err != nil || !strings.Contains(raw, `"last_year":`) {
		t.Fatalf("the JSON carries no last_year: %v", err)
	}
	if len(rows) != len(js.Evaluations)+len(js.County) || len(js.County) != len(cur.Indicators) {
		t.Fatalf("%d rows for %d evaluations and %d of the whole (%d indicators)", len(rows), len(js.Evaluations), len(js.County), len(cur.Indicators))
	}
	// last year's names of a unit and an indicator, by code (a name may change, the code not)
	lastName := func(township, indicator string) string {
		tw := last.Whole()
		if township != "" {
			x, ok := last.Township(township)
			if !ok {
				return ""
			}
			tw = x.Name
		}
		ind, ok := last.Indicator(indicator)
		if !ok {
			return ""
		}
		return tw + "|" + ind.Name
	}
	check := func(row []string, township, indicator string, ly *kpi.LastYear) {
		t.Helper()
		want := kpi.Dash
		if ly != nil {
			var ok bool
			if want, ok = lastActual[lastName(township, indicator)]; !ok {
				t.Fatalf("%s/%s: no row in last year's table", township, indicator)
			}
		}
		if row[3] != want {
			t.Errorf("%s·%s: 去年同期 %q, last year's 实际 %q", row[0], row[1], row[3], want)
		}
	}
	withLast := 0
	for x, e := range js.Evaluations {
		tw, _ := cur.Township(e.Township)
		ind, _ := cur.Indicator(e.Indicator)
		if rows[x][0] != tw.Name || rows[x][1] != ind.Name {
			t.Fatalf("row %d is %s·%s, the JSON's %s·%s", x, rows[x][0], rows[x][1], tw.Name, ind.Name)
		}
		check(rows[x], e.Township, e.Indicator, e.LastYear)
		if e.LastYear != nil {
			withLast++
		}
	}
	for i, c := range js.County {
		row := rows[len(js.Evaluations)+i]
		ind, _ := cur.Indicator(c.Indicator)
		if row[0] != cur.Whole() || row[1] != ind.Name {
			t.Fatalf("the whole's row %d is %s·%s, want %s·%s", i, row[0], row[1], cur.Whole(), ind.Name)
		}
		check(row, "", c.Indicator, c.LastYear)
		if row[len(row)-1] != kpi.Dash || row[len(row)-2] != kpi.Dash {
			t.Errorf("the whole's %s has a weight or a score: %q", ind.Name, row)
		}
	}
	if withLast < len(js.Evaluations)/2 {
		t.Errorf("only %d of %d evaluations have last year's figure", withLast, len(js.Evaluations))
	}

	// without last year's config: no 去年同期, the whole still there
	header, rows = evalTable(t, mustCLI(t, "eval", "--config", filepath.Join(configs, "qingcheng-2026.yaml"), "--db", db, "--period", "2026-06"))
	if strings.Contains(strings.Join(header, " "), "去年同期") || rows[len(rows)-1][0] != cur.Whole() {
		t.Errorf("without last year: header %q, last row %q", header, rows[len(rows)-1])
	}
	// a city's whole is 全市
	city := load("qingyuan-2026")
	_, rows = evalTable(t, mustCLI(t, "eval", "--config", configs, "--assessment", city.ID, "--db", db, "--period", "2026-06"))
	n := 0
	for _, r := range rows {
		if r[0] == city.Whole() {
			n++
		}
	}
	if city.Whole() != "全市" || n != len(city.Indicators) {
		t.Errorf("the city's table has %d rows of %s, want one per indicator (%d)", n, city.Whole(), len(city.Indicators))
	}
}

// TestRankCSVIsThePagesCSV: kpimon rank --format csv writes exactly what the server's
// /rankings.csv serves, for a county and for a city.
func TestRankCSVIsThePagesCSV(t *testing.T) {
	configs, db := loadDemoData(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", configs, "--db", db, "--addr", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, errOut.String())
		}
	}()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no address; stdout %q stderr %q", out.String(), errOut.String())
		}
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
		}
	}
	for _, tc := range []struct{ id, period, header string }{
		{"qingcheng-2026", "2026-06", "\uFEFF月份,名次,较上月,去年同期名次,乡镇代码,乡镇,"}, // last year held: 去年同期名次
		{"qingcheng-2025", "2025-11", "\uFEFF月份,名次,较上月,乡镇代码,乡镇,"},
		{"qingyuan-2026", "2026-06", "\uFEFF月份,名次,较上月,县区代码,县区,"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			resp, err := http.Get(base + "/" + tc.id + "/rankings.csv?period=" + tc.period)
			if err != nil {
				t.Fatal(err)
			}
			served, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/rankings.csv: %d %s", resp.StatusCode, served)
			}
			got := mustCLI(t, "rank", "--config", configs, "--assessment", tc.id, "--db", db, "--period", tc.period, "--format", "csv")
			if got != string(served) {
				t.Errorf("kpimon rank --format csv:\n%s\n/rankings.csv:\n%s", got, served)
			}
			if !strings.HasPrefix(got, tc.header) || !strings.Contains(got, "一票否决\n") {
				t.Errorf("the CSV's header is not the page's Chinese one:\n%s", got)
			}
		})
	}
}

// TestBulletinNamesTheUnits: kpimon bulletin counts a city's units as 县（市、区）, a
// county's as 乡镇（街道）.
func TestBulletinNamesTheUnits(t *testing.T) {
	configs, db := loadDemoData(t)
	for _, tc := range []struct{ id, want string }{
		{"qingyuan-2026", "，3 个县（市、区），"},
		{"qingcheng-2026", "，8 个乡镇（街道），"},
	} {
		out := mustCLI(t, "bulletin", "--config", configs, "--assessment", tc.id, "--db", db, "--period", "2026-06", "--out", filepath.Join(t.TempDir(), "b.html"))
		if !strings.Contains(out, tc.want) {
			t.Errorf("bulletin of %s said %q, want %q", tc.id, out, tc.want)
		}
	}
}

// TestPostgresBackupPointsToTheGuide: backup on a PostgreSQL address points to sections that
// exist: README's Operations and docs/operations.md, which give pg_dump and pg_restore.
func TestPostgresBackupPointsToTheGuide(t *testing.T) {
	_, _, err := cli(t, "backup", "--db", "postgres://kpimon@127.0.0.1/kpimon", "--out", filepath.Join(t.TempDir(), "pg.dump"))
	if err == nil || !strings.Contains(err.Error(), "详见 README 的 Operations 一节和 docs/operations.md（pg_dump / pg_restore）") {
		t.Fatalf("backup of a PostgreSQL database: %v", err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "\n## Operations\n") {
		t.Error("README has no Operations section")
	}
	if !strings.Contains(string(guide), "pg_dump --format=custom") || !strings.Contains(string(guide), "pg_restore") {
		t.Error("docs/operations.md does not give pg_dump and pg_restore")
	}
}

// TestDemoSaysWhereItsTokensAre: with --db the demo's tokens stay in that file and the demo
// says so; only the temporary database takes them with it.
func TestDemoSaysWhereItsTokensAre(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	_, out := startDemoWith(t, "--db", db)
	var said string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if said = out.String(); strings.Contains(said, "示例令牌") {
			break
		}
	}
	if !strings.Contains(said, "示例令牌（仅供体验，保存在 "+db+" 中，示例停止后仍然有效）：") || strings.Contains(said, "一起删除") {
		t.Errorf("demo --db said:\n%s", said)
	}
	if got := demoTokenHeading(t, ""); got != "示例令牌（仅供体验，随示例数据库一起删除）：" {
		t.Errorf("the temporary demo's tokens: %q", got)
	}
}

// demoTokenHeading is the line demoTokens writes above the tokens, for the database kept.
func demoTokenHeading(t *testing.T, kept string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "d.db")
	st, err := openStore(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as, err := demo.Assessments()
	if err != nil {
		t.Fatal(err)
	}
	notes, err := demoTokens(context.Background(), st, as, kept)
	if err != nil {
		t.Fatal(err)
	}
	return notes("http://127.0.0.1:1")[0]
}

// TestDemoWriteKeepsAnEarlierDemo: demo --write into a folder that holds a demo's configs or
// reports already is refused (status 2, naming them) and changes nothing.
func TestDemoWriteKeepsAnEarlierDemo(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "demo", "--write", dir)
	edited := filepath.Join(dir, "configs", "qingcheng-2026.yaml")
	writeFile(t, edited, "# edited while practising\n")
	_, _, err := cli(t, "demo", "--write", dir)
	want := "--write " + dir + "：" + filepath.Join(dir, "configs") + "、" + filepath.Join(dir, "reports") + " 已存在，示例不会覆盖已有的文件：请换一个目录，或先删除它们"
	if code, said := status(err); code != 2 || said != "kpimon: "+want+"\n" {
		t.Errorf("demo --write again: status %d, said %q; want %q", code, said, want)
	}
	if b, _ := os.ReadFile(edited); string(b) != "# edited while practising\n" {
		t.Error("demo --write overwrote the edited config")
	}
	// only one of them there: named alone
	other := t.TempDir()
	if err := os.Mkdir(filepath.Join(other, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err = cli(t, "demo", "--write", other)
	if code, said := status(err); code != 2 || !strings.Contains(said, "："+filepath.Join(other, "reports")+" 已存在") || !strings.HasSuffix(said, "或先删除它\n") {
		t.Errorf("demo --write with reports/ there: status %d, said %q", code, said)
	}
	if _, err := os.Stat(filepath.Join(other, "configs")); err == nil {
		t.Error("a refused demo --write wrote configs")
	}
	// the README's walk-through writes demo-data at the repository's root: git ignores it
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	if err := exec.Command("git", "-C", filepath.Join("..", ".."), "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("the source is not a git checkout")
	}
	if err := exec.Command("git", "-C", filepath.Join("..", ".."), "check-ignore", "-q", "demo-data/configs/qingcheng-2026.yaml").Run(); err != nil {
		t.Errorf("git does not ignore demo-data/: %v", err)
	}
}

// TestVersionSaysWhereCommitAndDateComeFrom: a build that recorded no commit or date says
// that a release built by release/build carries them; one that did says nothing more.
func TestVersionSaysWhereCommitAndDateComeFrom(t *testing.T) {
	b := buildInfo{Version: "dev", Commit: unknown, Date: unknown, Go: "go1.26", Platform: "linux/amd64"}
	if got := versionText(b); !strings.Contains(got, "提交：未知\n构建日期：未知\n"+unknownBuildNote+"\n") || !strings.Contains(unknownBuildNote, "release/build") {
		t.Errorf("an unstamped build says\n%s", got)
	}
	b.Commit, b.Date = "2ede10e", "2026-11-30 07:00 UTC"
	if got := versionText(b); strings.Contains(got, unknownBuildNote) || !strings.Contains(got, "提交：2ede10e\n构建日期：2026-11-30 07:00 UTC\ngo1.26 linux/amd64\n") {
		t.Errorf("a stamped build says\n%s", got)
	}
	// this test binary records no commit: kpimon version says so
	if out := mustCLI(t, "version"); !strings.Contains(out, unknownBuildNote) {
		t.Errorf("kpimon version (unstamped) says\n%s", out)
	}
}
