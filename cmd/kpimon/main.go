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
	if err != nil {
		var ue usageError
		switch {
		case errors.As(err, &ue):
			if !ue.shown && ue.msg != "" {
				fmt.Fprintln(os.Stderr, "kpimon:", ue.msg)
			}
			os.Exit(2)
		case !errors.Is(err, errReported):
			fmt.Fprintln(os.Stderr, "kpimon:", err)
		}
		os.Exit(1)
	}
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
		{"demo", "载入内置示例（清城区 2025 年度考核）并启动服务", runDemo},
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
		usage(stdout)
		return nil
	case "--version", "-v":
		return runVersion(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	fmt.Fprintf(stderr, "\n未知命令 %q\n", args[0])
	return shownUsage("未知命令 " + args[0])
}

// newFlags makes a subcommand's flag set that reports mistakes instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kpimon "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and turns flag errors into usage errors (-h is not an error). The flag
// package's own English messages are replaced by Chinese ones.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err = fs.Parse(args)
	fs.SetOutput(out)
	if err == nil {
		return false, nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return true, nil
	}
	msg := flagMessage(err.Error())
	fmt.Fprintln(out, msg)
	fs.Usage()
	return false, shownUsage(msg)
}

// flagMessage says a flag package error in Chinese.
func flagMessage(e string) string {
	switch {
	case strings.HasPrefix(e, "flag provided but not defined: "):
		return "未知参数 " + strings.TrimPrefix(e, "flag provided but not defined: ")
	case strings.HasPrefix(e, "flag needs an argument: "):
		return "参数 " + strings.TrimPrefix(e, "flag needs an argument: ") + " 需要一个值"
	case strings.HasPrefix(e, "invalid value "), strings.HasPrefix(e, "invalid boolean value "):
		// invalid value "x" for flag -n: parse error
		value, rest, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(e, "invalid boolean value "), "invalid value "), " for flag ")
		name, _, _ := strings.Cut(rest, ":")
		return fmt.Sprintf("参数 %s 的值 %s 无效", name, value)
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
			line += " " + map[string]string{"string": "文本", "int": "整数", "uint": "整数", "float": "数", "duration": "时长", "value": "值"}[kind]
		}
		fmt.Fprintln(w, line)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += "（默认：" + f.DefValue + "）"
		}
		fmt.Fprintln(w, "        "+usage)
	})
}

// require reports a missing required flag.
func require(fs *flag.FlagSet, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			fmt.Fprintf(fs.Output(), "缺少参数 --%s\n", pairs[i])
			fs.Usage()
			return shownUsage("缺少参数 --" + pairs[i])
		}
	}
	return nil
}
