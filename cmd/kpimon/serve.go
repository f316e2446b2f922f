package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server"
	"github.com/kpimon/kpimon/store"
	"github.com/kpimon/kpimon/web"
)

// serveOptions are the flags serve and demo share.
type serveOptions struct {
	addr      string
	logLevel  string
	logFormat string
	observe   observeOptions             // observe.go: /metrics and alert delivery
	viewer    string                     // the viewer token: reads need it (or any API token) when set
	notes     func(base string) []string // lines printed after the address (the demo's tokens)
}

func (o *serveOptions) register(fsAddr func(p *string, name, value, usage string)) {
	fsAddr(&o.addr, "addr", "127.0.0.1:8080", "监听地址 HOST:PORT（端口 0 表示任选空闲端口）")
	fsAddr(&o.logLevel, "log-level", "info", "日志级别：debug、info、warn、error")
	fsAddr(&o.logFormat, "log-format", "text", "日志格式：text（便于阅读）或 json（每行一个 JSON 对象，便于日志系统收集）；日志写到标准错误")
	o.observe.register(fsAddr)
	fsAddr(&o.viewer, "viewer-token", os.Getenv("KPIMON_VIEWER_TOKEN"), "查看令牌：设置后浏览页面和 API 须凭此令牌或任一填报令牌（也可用环境变量 KPIMON_VIEWER_TOKEN，避免令牌出现在进程列表中）")
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var cf configFlags
	fs.Var(&cf, "config", "考核配置文件（YAML）；可给出多次，或给出目录（其中所有 .yaml 文件）：一个服务同时提供多项考核")
	dbPath := new(string)
	dbFlag(fs, dbPath)
	var opt serveOptions
	opt.register(fs.StringVar)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon serve --config C [--config C2 …| --config 目录] --db D [--addr HOST:PORT]")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "db", *dbPath); err != nil {
		return err
	}
	logger, err := newLogger(stderr, opt.logLevel, opt.logFormat)
	if err != nil {
		return err
	}
	as, err := cf.load(stderr)
	if err != nil {
		return err
	}
	// every mistake is told before the database is opened (or created)
	if err := opt.observe.check(as); err != nil {
		return err
	}
	ln, err := listen(opt.addr)
	if err != nil {
		return err
	}
	created := sqliteMissing(*dbPath)
	db, err := openStore(ctx, *dbPath, false)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()
	if created {
		fmt.Fprintln(stdout, newDatabaseNote(*dbPath, true))
	}
	return serve(ctx, as, db, ln, opt, logger, stdout, "kpimon 已启动")
}

// serve runs the deployment's server on ln until ctx is done, printing the address it
// listens on and every assessment's, and 已停止 when it has stopped.
func serve(ctx context.Context, as []*kpi.Assessment, db store.Store, ln net.Listener, opt serveOptions, logger *slog.Logger, stdout io.Writer, banner string) error {
	dep, err := monitor.NewDeployment(ctx, db, as, monitor.Options{Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	rt, err := web.New(dep, web.Options{Logger: logger, ViewerToken: opt.viewer})
	if err != nil {
		ln.Close()
		return err
	}
	stop, err := observe(ctx, dep, rt, opt.observe, ln.Addr().String(), logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer stop()
	// data written by another server or by `kpimon ingest` while this one runs show at once
	// (the store tells) or within the watch interval
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); dep.Watch(watchCtx, reloadInterval) }()
	defer func() { stopWatch(); <-watched }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "%s：%s/\n", banner, base)
	if len(as) > 1 {
		for _, m := range dep.Monitors() {
			a := m.Assessment()
			fmt.Fprintf(stdout, "  %s：%s/%s/\n", a.Name, base, a.ID)
		}
	}
	if opt.notes != nil {
		for _, l := range opt.notes(base) {
			fmt.Fprintln(stdout, l)
		}
	}
	logger.Info("开始服务", "addr", ln.Addr().String(), "assessments", len(as), "db", db.Describe())
	if err := server.Serve(ctx, ln, rt, logger); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "kpimon 已停止。")
	return nil
}

// reloadInterval is how often the server looks for batches written by another process.
const reloadInterval = 5 * time.Second

// listen takes --addr's port. A mistake in the address is a usage mistake; a port in use
// or not allowed is said with what to do.
func listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return nil, usageError{msg: fmt.Sprintf("--addr“%s”无效：应为 主机:端口，如 127.0.0.1:8080（本机访问）或 0.0.0.0:8080（局域网访问），端口在 0 到 65535 之间", addr)}
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("地址 %s 已被占用（也许 kpimon 已在运行）：换一个端口，如 --addr %s（或端口 0 任选）", addr, net.JoinHostPort(host, "8081"))
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("没有权限使用端口 %s：1024 以下的端口须管理员权限，请换一个端口，如 --addr %s", port, net.JoinHostPort(host, "8080"))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("本机没有地址 %s：请用本机的地址，如 --addr 127.0.0.1:%s（本机访问）或 0.0.0.0:%s（局域网访问）", host, port, port)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return nil, fmt.Errorf("找不到主机 %s：--addr 请用本机的 IP 地址，如 127.0.0.1:%s", host, port)
	}
	return nil, fmt.Errorf("无法在 %s 上提供服务：%w", addr, err)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	dbPath := fs.String("db", "", "把示例数据库写到这个新文件（默认：临时文件，退出时删除）")
	write := fs.String("write", "", "不启动服务，把示例的考核配置和全年报表（CSV）写到这个目录，供 ingest 练习")
	var opt serveOptions
	opt.register(fs.StringVar)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "用法: kpimon demo [--addr HOST:PORT] [--db 新文件]")
		fmt.Fprintln(w, "   或: kpimon demo --write 目录")
		fmt.Fprintln(w, "载入内置的示例考核和到今天为止的月报，并启动服务；--write 则把它们写成文件（配置和 CSV 报表），供练习 ingest。")
		if as, err := demo.Assessments(); err == nil {
			fmt.Fprintln(w, "示例考核：")
			for _, a := range as {
				fmt.Fprintf(w, "  %s（%s，%d 个%s，%d 项指标）\n", a.Name, a.ID, len(a.Townships), a.Units(), len(a.Indicators))
			}
		}
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	logger, err := newLogger(stderr, opt.logLevel, opt.logFormat)
	if err != nil {
		return err
	}
	if *write != "" {
		return writeDemo(*write, time.Now(), stdout)
	}
	as, err := demo.Assessments()
	if err != nil {
		return err
	}
	// every mistake is told before the database is written or the port taken
	if err := opt.observe.check(as); err != nil {
		return err
	}
	path := *dbPath
	switch {
	case isPostgresURL(path):
		return usageError{msg: "--db：示例只能写入新的 SQLite 文件，如 --db demo.db"}
	case path != "":
		if _, err := os.Stat(path); err == nil {
			return usageError{msg: fmt.Sprintf("--db %s 已存在：示例总是写入一个新数据库，请换一个文件名", path)}
		}
		if err := checkOutFile("db", path); err != nil {
			return err
		}
	}
	ln, err := listen(opt.addr)
	if err != nil {
		return err
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "kpimon-demo-")
		if err != nil {
			ln.Close()
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.db")
	}
	st, err := openStore(ctx, path, false)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	db, ok := st.(demo.Store)
	if !ok {
		ln.Close()
		return fmt.Errorf("示例须写入 SQLite 文件")
	}
	now := time.Now()
	n := 0
	for _, a := range as {
		k, err := demo.LoadUntil(ctx, db, a, now)
		if err != nil {
			ln.Close()
			return err
		}
		n += k
	}
	logger.Info("示例已载入", "assessments", len(as), "reports", n, "db", path)
	if opt.notes, err = demoTokens(ctx, st, as, *dbPath); err != nil {
		ln.Close()
		return err
	}
	return serve(ctx, as, st, ln, opt, logger, stdout, "kpimon 示例（清远市各级妇联的考核）已启动")
}

// demoTokens makes a deployment admin's token and one township's token, so that a visitor
// can try the upload pages and the write API, and returns the lines that show them with a
// login link for the township. kept is the database file --db named, where the tokens stay
// after the demo stops; "" for the temporary database, deleted with them.
func demoTokens(ctx context.Context, db store.Tokens, as []*kpi.Assessment, kept string) (func(base string) []string, error) {
	var town *kpi.Assessment
	for _, a := range as {
		if a.ID == "qingcheng-2026" {
			town = a
		}
	}
	if town == nil {
		town = as[0]
	}
	_, admin, err := db.AddToken(ctx, store.NewToken{Assessment: store.AllAssessments, Name: "清远市妇联（示例）", Admin: true, CreatedBy: "demo"})
	if err != nil {
		return nil, err
	}
	_, tok, err := db.AddToken(ctx, store.NewToken{Assessment: town.ID, Name: "飞来峡镇妇联（示例）", Township: "feilaixia", CreatedBy: "demo"})
	if err != nil {
		return nil, err
	}
	return func(base string) []string {
		at := base + "/" + town.ID
		where := "随示例数据库一起删除"
		if kept != "" {
			where = "保存在 " + kept + " 中，示例停止后仍然有效"
		}
		lines := []string{
			"示例令牌（仅供体验，" + where + "）：",
			"  管理员（所有考核）：" + admin,
			"  飞来峡镇妇联（" + town.ID + "，也可更正上一年度的数据）：" + tok,
			"上传页面：" + at + "/upload",
		}
		// a login link, to try 我的填报 as a township chair would on her phone
		if ls, err := server.MakeLoginLinks(ctx, db, town, []string{"feilaixia"}, at, time.Now(), server.DefaultLinkTTL, "demo"); err == nil {
			lines = append(lines, "飞来峡镇的一次性登录链接（手机打开即进入“我的填报”）："+ls[0].URL)
		}
		return lines
	}, nil
}

// writeDemo writes the demo's configs (configs/ID.yaml) and the reports of each assessment
// up to now (reports/ID/*.csv) as files.
//
// An earlier demo there is not overwritten (a clerk may have edited its configs while
// practising): DIR/configs or DIR/reports existing is a usage mistake, and nothing is written.
func writeDemo(dir string, now time.Time, stdout io.Writer) error {
	if err := checkOutDir("write", dir); err != nil {
		return err
	}
	var there []string
	for _, sub := range []string{"configs", "reports"} {
		if _, err := os.Lstat(filepath.Join(dir, sub)); err == nil {
			there = append(there, filepath.Join(dir, sub))
		}
	}
	if len(there) > 0 {
		them := "它"
		if len(there) > 1 {
			them = "它们"
		}
		return usageError{msg: fmt.Sprintf("--write %s：%s 已存在，示例不会覆盖已有的文件：请换一个目录，或先删除%s", dir, strings.Join(there, "、"), them)}
	}
	as, err := demo.Assessments()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "configs"), 0o755); err != nil {
		return err
	}
	for _, a := range as {
		cfg, err := demo.ConfigYAML(a.ID)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "configs", a.ID+".yaml"), cfg, 0o644); err != nil {
			return err
		}
		reports := demo.ReportsUntil(a, now)
		if err := os.MkdirAll(filepath.Join(dir, "reports", a.ID), 0o755); err != nil {
			return err
		}
		for _, r := range reports {
			if err := os.WriteFile(filepath.Join(dir, "reports", a.ID, r.Name), r.CSV, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s：%s/configs/%s.yaml，%d 份报表（%s/reports/%s/）\n", a.Name, dir, a.ID, len(reports), dir, a.ID)
	}
	return nil
}
