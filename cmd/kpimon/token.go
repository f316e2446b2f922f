package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/server"
	"github.com/kpimon/kpimon/store"
)

func tokenUsage(w io.Writer) {
	fmt.Fprintln(w, "用法:")
	fmt.Fprintln(w, "  kpimon token add --db D --config C… [--assessment 考核编号] --township T [--name 名称]")
	fmt.Fprintln(w, "      乡镇填报令牌：只能填报该乡镇的数据")
	fmt.Fprintln(w, "  kpimon token add --db D --config C… [--assessment 考核编号] --admin [--name 名称]")
	fmt.Fprintln(w, "      管理员令牌：可填报该考核所有乡镇的数据")
	fmt.Fprintln(w, "  kpimon token add --db D --admin [--name 名称]")
	fmt.Fprintln(w, "      全部考核的管理员令牌")
	fmt.Fprintln(w, "  kpimon token list --db D [--config C…] [--assessment 考核编号]")
	fmt.Fprintln(w, "      列出令牌（只显示前缀）：给出考核配置时只列这些考核的令牌（有 --assessment 时只列这一项的）")
	fmt.Fprintln(w, "  kpimon token revoke --db D 编号")
	fmt.Fprintln(w, "      停用令牌")
	fmt.Fprintln(w, "  kpimon token link --db D --config C… [--assessment 考核编号] --township T [--ttl 7d] [--base-url U] [--qr F.png]")
	fmt.Fprintln(w, "      乡镇的一次性登录链接（和二维码）：手机打开即登录“我的填报”")
	fmt.Fprintln(w, "--config 可给出多次，或给出目录（其中所有 .yaml 文件）；给出多项考核时，add 和 link 须用 --assessment 指明哪一项。")
	fmt.Fprintln(w, "新令牌只显示一次（输出的最后一行），系统只保存其 SHA-256 摘要。")
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "缺少子命令：add、list、revoke 或 link")
		tokenUsage(stderr)
		return shownUsage("缺少子命令")
	}
	switch args[0] {
	case "add":
		return runTokenAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return runTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runTokenRevoke(ctx, args[1:], stdout, stderr)
	case "link":
		return runTokenLink(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		tokenUsage(stdout)
		return nil
	}
	msg := fmt.Sprintf("未知的子命令“%s”：可用 add、list、revoke、link", args[0])
	fmt.Fprintln(stderr, msg)
	tokenUsage(stderr)
	return shownUsage(msg)
}

// openTokenStore opens the database a token is written to, creating a SQLite file that is
// missing (and saying so, so that a mistyped --db does not go unnoticed), and lets the
// assessments given claim the records an older kpimon wrote.
func openTokenStore(ctx context.Context, dsn string, all []*kpi.Assessment, stdout io.Writer) (store.Store, error) {
	created := sqliteMissing(dsn)
	db, err := openStore(ctx, dsn, false)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintln(stdout, newDatabaseNote(dsn, true))
	}
	if err := claimAll(ctx, db, all); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// claimAll lets every assessment given claim the records an older kpimon wrote, as
// configFlags.open does.
func claimAll(ctx context.Context, db store.Store, all []*kpi.Assessment) error {
	for _, x := range all {
		if _, err := db.ClaimLegacy(ctx, x.ID, x.Year); err != nil {
			return err
		}
	}
	return nil
}

func runTokenAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token add", stderr)
	dbPath := new(string)
	dbFlag(fs, dbPath)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）：令牌属于其中一项考核，并据此核对 --township")
	township := fs.String("township", "", "乡镇代码或名称")
	admin := fs.Bool("admin", false, "管理员令牌（可填报所有乡镇）")
	name := fs.String("name", "", "令牌名称，记入每批数据的审计记录（默认：乡镇名称加“妇联”，或“管理员”）")
	fs.Usage = func() { tokenUsage(fs.Output()); printFlags(fs) }
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", *dbPath); err != nil {
		return err
	}
	if *admin == (*township != "") {
		fmt.Fprintln(stderr, "须指定 --township 或 --admin 之一")
		return shownUsage("须指定 --township 或 --admin 之一")
	}
	n := store.NewToken{Assessment: store.AllAssessments, Admin: *admin, Name: *name, CreatedBy: defaultActor()}
	scope := "可填报全部考核、所有乡镇的数据"
	if !*admin {
		if err := cf.require(fs); err != nil {
			return err
		}
	}
	if err := cf.requireWithID(); err != nil {
		return err
	}
	var a *kpi.Assessment
	var all []*kpi.Assessment
	if len(cf.paths) > 0 {
		var err error
		if all, err = cf.load(stderr); err != nil {
			return err
		}
		if a, err = cf.one(all); err != nil {
			return err
		}
		n.Assessment = a.ID
		scope = "可填报“" + a.Name + "”所有" + a.Units() + "的数据"
	}
	if !*admin {
		t, err := townshipArg(a, *township)
		if err != nil {
			return err
		}
		n.Township = t.Code
		if n.Name == "" {
			n.Name = t.Name + "妇联"
		}
		scope = "只能填报“" + a.Name + "”中" + t.Name + "的数据"
	} else if n.Name == "" {
		n.Name = "管理员"
	}
	db, err := openTokenStore(ctx, *dbPath, all, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, secret, err := db.AddToken(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建令牌 #%d「%s」：%s。\n", tok.ID, tok.Name, scope)
	fmt.Fprintf(stdout, "令牌只显示这一次，请立即交给使用人妥善保管；系统只保存其摘要，遗失后请停用（kpimon token revoke %s %d）再新建。\n", dbArg(*dbPath), tok.ID)
	fmt.Fprintln(stdout, secret)
	return nil
}

// runTokenList lists the tokens: every one in the database; with --config, those of the
// assessments given (and the tokens of every assessment); with --assessment, that one's.
// Times are in the assessments' time zone when they share one, else the machine's.
func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", stderr)
	dbPath := new(string)
	dbFlag(fs, dbPath)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）：只列这些考核的令牌，时间按其时区显示")
	fs.Usage = func() { tokenUsage(fs.Output()); printFlags(fs) }
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", *dbPath); err != nil {
		return err
	}
	var ids []string // the assessments listed; none: every token
	var chosen *kpi.Assessment
	several := false
	loc := time.Local
	var all []*kpi.Assessment
	if len(cf.paths) > 0 {
		var err error
		if all, err = cf.load(stderr); err != nil {
			return err
		}
		listed := all
		if cf.id != "" {
			if chosen, err = cf.one(all); err != nil {
				return err
			}
			listed = []*kpi.Assessment{chosen}
		} else if len(all) == 1 {
			chosen = all[0]
		}
		several = len(all) > 1
		loc = listed[0].Location
		for _, a := range listed {
			ids = append(ids, a.ID)
			if a.Location.String() != loc.String() {
				loc = time.Local
			}
		}
	} else if cf.id != "" {
		ids = []string{cf.id}
	}
	db, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := claimAll(ctx, db, all); err != nil {
		return err
	}
	toks, err := listTokens(ctx, db, ids)
	if err != nil {
		return err
	}
	if len(cf.paths) == 0 && cf.id != "" {
		// without a config nothing says the id is right: one the database has never seen
		// (a typo) would list only the tokens of every assessment, silently
		known, err := assessmentInStore(ctx, db, cf.id)
		if err != nil {
			return err
		}
		for _, x := range toks {
			known = known || x.Assessment == cf.id
		}
		if !known {
			return usageError{msg: fmt.Sprintf("数据库 %s 中没有考核“%s”的令牌或数据：请检查 --assessment（考核编号是配置文件中的 id），或改用 --config 配置文件", redactDSN(*dbPath), cf.id)}
		}
	}
	if len(toks) == 0 {
		which := "--config 考核配置"
		if chosen != nil {
			which = assessmentArgs(&cf, chosen.ID, several)
		}
		fmt.Fprintf(stdout, "还没有令牌：用 kpimon token add %s %s --township 乡镇 创建（管理员令牌用 --admin 代替 --township）。\n", dbArg(*dbPath), which)
		return nil
	}
	t := newTable("编号", "名称", "考核", "范围", "前缀", "创建时间", "创建人", "状态").alignRight(0)
	for _, x := range toks {
		scope := "乡镇 " + x.Township
		if x.Admin {
			scope = "管理员"
		}
		state := "有效"
		if x.RevokedAt != nil {
			state = "已停用 " + x.RevokedAt.In(loc).Format("2006-01-02 15:04")
		}
		assessment := x.Assessment
		if assessment == store.AllAssessments {
			assessment = "全部"
		}
		t.add(strconv.FormatInt(x.ID, 10), x.Name, assessment, scope, x.Prefix+"…", x.CreatedAt.In(loc).Format("2006-01-02 15:04"), x.CreatedBy, state)
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, zoneNote(loc, time.Now()))
	return err
}

// listTokens lists the tokens of the assessments (each with the tokens of every
// assessment), each token once, in the order they were made; every token when ids is empty.
func listTokens(ctx context.Context, db store.Tokens, ids []string) ([]store.Token, error) {
	if len(ids) == 0 {
		return db.Tokens(ctx, "")
	}
	seen := map[int64]bool{}
	var out []store.Token
	for _, id := range ids {
		toks, err := db.Tokens(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, x := range toks {
			if !seen[x.ID] {
				seen[x.ID] = true
				out = append(out, x)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Token) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", stderr)
	dbPath := new(string)
	dbFlag(fs, dbPath)
	fs.Usage = func() { tokenUsage(fs.Output()); printFlags(fs) }
	if help, err := parseFlagsWithArgs(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", *dbPath); err != nil {
		return err
	}
	list := "kpimon token list " + dbArg(*dbPath)
	if fs.NArg() != 1 {
		msg := "须给出一个令牌编号，如 kpimon token revoke " + dbArg(*dbPath) + " 3（编号见 " + list + "）"
		fmt.Fprintln(stderr, msg)
		return shownUsage(msg)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil {
		msg := fmt.Sprintf("令牌编号“%s”不是数字：请给出 %s 列出的编号", fs.Arg(0), list)
		fmt.Fprintln(stderr, msg)
		return shownUsage(msg)
	}
	db, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := db.RevokeToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// a number mistyped is a command-line mistake, as a number that is no number is
		return usageError{msg: fmt.Sprintf("没有编号为 %d 的有效令牌（可能已停用）：用 %s 查看令牌的编号和状态", id, list)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已停用令牌 #%d「%s」：此后凭它提交的数据一律拒绝。\n", tok.ID, tok.Name)
	return nil
}

// runTokenLink prints a one-time login link for a township, and writes its QR code with
// --qr. The link acts for the township's link token (server.LinkTokenName), created the
// first time; revoking that token (kpimon token revoke) revokes its links and ends the
// sessions opened with them.
func runTokenLink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token link", stderr)
	dbPath := new(string)
	dbFlag(fs, dbPath)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	township := fs.String("township", "", "乡镇代码或名称")
	ttl := fs.String("ttl", "7d", "有效期，如 7d（天）、12h（小时）；最长 90d")
	base := fs.String("base-url", "", "kpimon 对外的网址，如 https://kpimon.example.cn（默认：配置中的 notify.base_url）；链接指向其中这项考核的页面")
	qr := fs.String("qr", "", "把二维码写成这个 PNG 文件，可打印或发给乡镇")
	fs.Usage = func() { tokenUsage(fs.Output()); printFlags(fs) }
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", *dbPath, "config", cf.String(), "township", *township); err != nil {
		return err
	}
	if *qr != "" {
		if err := checkOutFile("qr", *qr); err != nil {
			return err
		}
	}
	d, err := parseTTL(*ttl)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return shownUsage(err.Error())
	}
	all, err := cf.load(stderr)
	if err != nil {
		return err
	}
	a, err := cf.one(all)
	if err != nil {
		return err
	}
	baseFrom := "--base-url"
	if *base == "" {
		*base, baseFrom = a.Notify.BaseURL, cf.source(a.ID)+" 中的 notify.base_url"
	}
	if *base == "" {
		msg := "须给出 --base-url（kpimon 对外的网址，如 https://kpimon.example.cn），或在配置的 notify.base_url 中设置"
		fmt.Fprintln(stderr, msg)
		return shownUsage(msg)
	}
	// mistakes are told before the database is opened (or created)
	if !strings.HasPrefix(*base, "http://") && !strings.HasPrefix(*base, "https://") {
		return usageError{msg: fmt.Sprintf("%s“%s”须以 http:// 或 https:// 开头，如 https://%s", baseFrom, *base, strings.TrimLeft(*base, "/:"))}
	}
	t, err := townshipArg(a, *township)
	if err != nil {
		return err
	}
	db, err := openTokenStore(ctx, *dbPath, all, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	// the server serves each assessment under /{id}/ (as /admin/links makes its links): a
	// link without the prefix would land in the deployment's default assessment
	linkBase := strings.TrimRight(strings.TrimSpace(*base), "/")
	if !strings.HasSuffix(linkBase, "/"+a.ID) {
		linkBase += "/" + a.ID
	}
	links, err := server.MakeLoginLinks(ctx, db, a, []string{t.Code}, linkBase, time.Now(), d, defaultActor())
	if err != nil {
		return err
	}
	l := links[0]
	if *qr != "" {
		png, err := server.QRCode(l.URL, 512)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*qr, png, 0o644); err != nil {
			return writeError(*qr, err)
		}
	}
	if l.Created {
		fmt.Fprintf(stdout, "已为%s创建登录链接专用令牌 #%d「%s」。\n", l.Township.Name, l.Token.ID, l.Token.Name)
	}
	if *qr != "" {
		fmt.Fprintf(stdout, "二维码已写入 %s。\n", *qr)
	}
	fmt.Fprintf(stdout, "撤销：kpimon token revoke %s %d（该乡镇的登录链接和用它登录的会话一并作废）\n", dbArg(*dbPath), l.Token.ID)
	// the link last, right under the line that says what it is, as token add prints its token
	fmt.Fprintf(stdout, "%s的一次性登录链接，有效期至 %s，只能使用一次：\n", l.Township.Name, a.Clock(l.Expires))
	fmt.Fprintln(stdout, l.URL)
	return nil
}

// parseTTL reads a link's lifetime: a number of days (7d) or a Go duration (12h, 90m).
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 90 {
			return 0, fmt.Errorf("--ttl %q 无效：天数须为 1 到 90，如 7d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 90*24*time.Hour {
		return 0, fmt.Errorf("--ttl %q 无效：应为 7d、12h 这样的时长，最短 1 分钟，最长 90 天", s)
	}
	return d, nil
}
