// Command kpimon runs a county women's federation's annual target assessment of its
// townships: it ingests their monthly figures, evaluates them against targets and pace,
// scores, grades and ranks the townships, raises alerts, and serves all of it as pages, a
// JSON API and Prometheus metrics. `kpimon demo` serves a ready example.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // the configured time zone must resolve on machines without zoneinfo

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/postgres"
	"github.com/kpimon/kpimon/store"
)

func main() {
	if service, err := asWindowsService(os.Args[1:]); service || err != nil {
		if err != nil {
			fmt.Fprintln(os.Stderr, "kpimon:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// exitStatus is the process's exit status for what run returned — 0 for success, 2 for a
// command-line mistake (usageError), 1 for anything else — and says on stderr what went
// wrong where the command has not said it already.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		if !ue.shown && ue.msg != "" {
			fmt.Fprintln(stderr, "kpimon:", ue.msg)
		}
		return 2
	case !errors.Is(err, errReported):
		fmt.Fprintln(stderr, "kpimon:", err)
	}
	return 1
}

// usageError is a command line mistake (exit status 2). Its message is in Chinese; shown
// says it was already printed (with the usage), so main prints nothing more.
type usageError struct {
	msg   string
	shown bool
}

func (e usageError) Error() string { return e.msg }

// shownUsage is a usage error whose explanation has been printed.
func shownUsage(msg string) usageError { return usageError{msg: msg, shown: true} }

// errReported means the command already printed what went wrong (e.g. every invalid row).
var errReported = errors.New("reported")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "载入内置示例（清远市各级妇联的考核）并启动服务，或用 --write 写成文件练习", runDemo},
		{"serve", "启动服务：页面、JSON API 与 /metrics", runServe},
		{"ingest", "导入 CSV/JSON/XLSX 报表（整批校验，全部正确才写入）", runIngest},
		{"eval", "各乡镇各指标的考核评价", runEval},
		{"rank", "月度排名", runRank},
		{"alerts", "预警", runAlerts},
		{"backtest", "用已结束年度的数据回测“预计全年”", runBacktest},
		{"rules", "写出 Prometheus 规则文件（与内置预警等价）", runRules},
		{"backfill", "把逐月历史写成 OpenMetrics，供 Prometheus 导入", runBackfill},
		{"render", "把某月的页面导出为静态文件（可离线打开或发布）", runRender},
		{"template", "生成乡镇月报表 Excel 模板（可填写后导入）", runTemplate},
		{"bulletin", "生成月度通报（Excel 或可打印网页）", runBulletin},
		{"token", "管理填报令牌：add、list、revoke，乡镇登录链接：link", runToken},
		{"lock", "锁定（或解锁）已发布通报的月份", runLock},
		{"gen", "生成合成的考核方案和报表（性能测试用）", runGen},
		{"backup", "在线备份数据库（服务运行时也可）", runBackup},
		{"restore", "检查备份后恢复数据库", runRestore},
		{"version", "显示版本、提交和构建日期", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "kpimon — 妇联目标管理考核监测")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "用法: kpimon <命令> [参数]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "每个命令的参数: kpimon <命令> -h")
}

// run is the whole program, with its environment passed in so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return shownUsage("没有给出命令")
	}
	switch args[0] {
	case "-h", "--help", "help":
		// kpimon help ingest is kpimon ingest -h
		if len(args) > 1 && args[0] == "help" {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(ctx, append(args[2:], "-h"), stdout, stderr)
				}
			}
		}
		usage(stdout)
		return nil
	case "--version", "-v":
		return runVersion(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			var ce *postgres.ConnectError
			switch {
			case errors.Is(err, context.Canceled) && ctx.Err() != nil:
				// Ctrl-C or kill -TERM: the commands leave no half-written file behind
				return errors.New("已中断")
			case errors.Is(err, store.ErrUnavailable) && !errors.As(err, &ce):
				// a long ingest holds the database past the wait allowed, or PostgreSQL
				// went away in the middle: nothing was written
				return errors.New("数据库正忙或暂时不可用（也许另一个导入正在写入）：本次未写入任何数据，请稍后再试")
			}
			return err
		}
	}
	usage(stderr)
	msg := fmt.Sprintf("未知命令“%s”", args[0])
	if near := nearestCommand(args[0]); near != "" {
		msg += "：是不是 kpimon " + near + "？"
	}
	fmt.Fprintf(stderr, "\n%s\n", msg)
	return shownUsage(msg)
}

// commandSynonyms are words a clerk may type for a command.
var commandSynonyms = map[string]string{
	"import": "ingest", "load": "ingest", "upload": "ingest", "导入": "ingest",
	"export": "render", "html": "render",
	"report": "bulletin", "notice": "bulletin", "通报": "bulletin",
	"start": "serve", "run": "serve", "server": "serve", "web": "serve",
	"evaluate": "eval", "evaluation": "eval", "ranking": "rank", "rankings": "rank", "排名": "rank",
	"alert": "alerts", "预警": "alerts", "tokens": "token", "unlock": "lock --unlock", "form": "template", "模板": "template",
}

// nearestCommand is the command a mistyped one most likely means: a synonym, or a command
// nearestNames finds (ingset, servr); "" when none.
func nearestCommand(name string) string {
	name = strings.ToLower(name)
	if c, ok := commandSynonyms[name]; ok {
		return c
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(nearestNames(name, names), " 或 kpimon ")
}

// nearestNames are the names a mistyped one most likely means, for a command or a flag:
// the nearest within one edit (servr → serve, perod → period); else every name it is the
// beginning of, when it has two letters or more (back → backtest, backfill, backup); else
// the nearest within two edits (ingset → ingest). An edit distance must also be smaller
// than the mistyped name's length, so that a short one is not taken for an unrelated name
// (to → db). None when nothing is near.
func nearestNames(name string, names []string) []string {
	name = strings.ToLower(name)
	n := len([]rune(name))
	best, bestD := "", 3
	for _, x := range names {
		if d := editDistance(name, x); d < bestD && d < n {
			best, bestD = x, d
		}
	}
	if best != "" && bestD <= 1 {
		return []string{best}
	}
	var prefixed []string
	for _, x := range names {
		if n >= 2 && strings.HasPrefix(x, name) {
			prefixed = append(prefixed, x)
		}
	}
	if len(prefixed) > 0 || best == "" {
		return prefixed
	}
	return []string{best}
}

// editDistance is the Levenshtein distance between a and b, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// newFlags makes a subcommand's flag set that reports mistakes instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kpimon "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses a command's flags for a command that takes no other arguments: a word
// that is not a flag (a value whose flag name was forgotten, a stray file name) is a
// usage error rather than silently ignored. Flag errors become usage errors (-h is not an
// error); the flag package's own English messages are replaced by Chinese ones.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	if help, err = parseFlagsWithArgs(fs, args, stdout); help || err != nil {
		return help, err
	}
	if fs.NArg() > 0 {
		msg := "多余的参数：" + strings.Join(fs.Args(), " ") + "（这个命令不接受文件名等参数；参数名前要加 --" + strayExample(fs) + "）"
		fmt.Fprintln(fs.Output(), msg)
		fs.Usage()
		return false, shownUsage(msg)
	}
	return false, nil
}

// strayExample is the example of a flag that the stray-argument message gives: the month a
// stray argument names, as --period wants it (a month typed without --period is the common
// slip: 2026-03 → --period 2026-03), else --period YYYY-MM, for a command with --period; the
// command's first flag for one without; "" for one with no flags.
func strayExample(fs *flag.FlagSet) string {
	if fs.Lookup("period") != nil {
		for _, a := range fs.Args() {
			if p, err := kpi.ParsePeriod(a); err == nil {
				return "，如 --period " + p.String()
			}
		}
		return "，如 --period YYYY-MM"
	}
	first := ""
	fs.VisitAll(func(f *flag.Flag) {
		if first == "" {
			first = f.Name
		}
	})
	if first == "" {
		return ""
	}
	return "，如 --" + first
}

// parseFlagsWithArgs is parseFlags for a command that takes arguments (ingest's files, a
// token's number). Flags may come after the arguments as well as before them
// (kpimon ingest 六月.csv --config C --db D), as a clerk types them; after -- everything is
// an argument. Help asked for with -h goes to stdout.
func parseFlagsWithArgs(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		err = fs.Parse(args)
		rest := fs.Args()
		if err != nil || len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	fs.SetOutput(out)
	if err == nil {
		// leave the arguments as fs.Args(), the flags as parsed
		fs.Parse(append([]string{"--"}, positional...))
		return false, nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(out)
		return true, nil
	}
	msg := flagMessage(fs, err.Error())
	fmt.Fprintln(out, msg)
	fs.Usage()
	return false, shownUsage(msg)
}

// flagMessage says a flag package error in Chinese, naming flags as help does (--name)
// and, for a value that does not parse, what kind of value the flag takes.
func flagMessage(fs *flag.FlagSet, e string) string {
	dashed := func(name string) string { return "--" + strings.TrimLeft(name, "-") }
	switch {
	case strings.HasPrefix(e, "flag provided but not defined: "):
		typed := strings.TrimLeft(strings.TrimPrefix(e, "flag provided but not defined: "), "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := nearestNames(typed, names); len(near) > 0 {
			for i := range near {
				near[i] = dashed(near[i])
			}
			return "未知参数 " + dashed(typed) + "：是不是 " + strings.Join(near, " 或 ") + "？"
		}
		return "未知参数 " + dashed(typed) + "（这个命令的参数见下面的说明）"
	case strings.HasPrefix(e, "flag needs an argument: "):
		return "参数 " + dashed(strings.TrimPrefix(e, "flag needs an argument: ")) + " 需要一个值"
	case strings.HasPrefix(e, "invalid value "), strings.HasPrefix(e, "invalid boolean value "):
		// invalid value "x" for flag -n: parse error; invalid boolean value "x" for -b: parse error
		value, rest, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(e, "invalid boolean value "), "invalid value "), " for ")
		name, _, _ := strings.Cut(strings.TrimPrefix(rest, "flag "), ":")
		msg := fmt.Sprintf("参数 %s 的值 %s 无效", dashed(name), value)
		if f := fs.Lookup(strings.TrimLeft(name, "-")); f != nil {
			kind, _ := flag.UnquoteUsage(f)
			switch kind {
			case "int", "uint":
				msg += "：应为整数，如 10"
			case "float":
				msg += "：应为数，如 0.3"
			case "":
				msg += "：这个参数不带值，写 " + dashed(name) + " 即可（或 " + dashed(name) + "=false）"
			}
		}
		return msg
	}
	return "参数错误：" + e
}

// printFlags lists a command's flags in Chinese (flag's PrintDefaults writes English).
func printFlags(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + flagValueName(f.Name, kind, usage)
		}
		fmt.Fprintln(w, line)
		if def := shownDefault(f); def != "" {
			usage += "（默认：" + def + "）"
		}
		fmt.Fprintln(w, "        "+usage)
	})
}

// flagValueName is what help calls a flag's value: what it is for the flags every command
// shares (文件, YYYY-MM, 乡镇 …), else its type.
func flagValueName(name, kind, usage string) string {
	switch name {
	case "config":
		if kind == "value" {
			return "文件或目录"
		}
		return "文件"
	case "db":
		return "文件或地址"
	case "period", "to":
		return "YYYY-MM"
	case "out":
		if strings.Contains(usage, "目录") {
			return "目录"
		}
		return "文件"
	case "from", "qr", "write":
		if name == "write" {
			return "目录"
		}
		return "文件"
	case "township":
		return "乡镇"
	case "assessment":
		return "考核编号"
	case "addr":
		return "主机:端口"
	case "actor", "name":
		return "名称"
	case "base-url", "alertmanager-url":
		return "网址"
	case "ttl", "alert-interval", "alertmanager-resend":
		return "时长"
	case "viewer-token":
		return "令牌"
	}
	return map[string]string{"string": "文本", "int": "整数", "uint": "整数", "float": "数", "duration": "时长", "value": "值"}[kind]
}

// shownDefault is a flag's default as help shows it: none for an empty, false or zero
// default; a default taken from the environment that holds a secret is never printed — a
// viewer token is only said to be set, and a database address loses its password.
func shownDefault(f *flag.Flag) string {
	switch {
	case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
		return ""
	case f.Name == "viewer-token":
		return "已由环境变量 KPIMON_VIEWER_TOKEN 设置"
	case f.Name == "db":
		return redactDSN(f.DefValue)
	}
	return f.DefValue
}

// require reports a missing required flag.
func require(fs *flag.FlagSet, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			msg := "缺少参数 --" + pairs[i]
			if pairs[i] == "db" {
				msg += "：数据库文件，如 --db 考核.db（也可以设置环境变量 KPIMON_DB，以后的命令就不必再写）"
			}
			fmt.Fprintln(fs.Output(), msg)
			fs.Usage()
			return shownUsage(msg)
		}
	}
	return nil
}
