package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

// runRender exports a month's pages as static files (kpimon render).
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("render", stderr)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	dbPath := new(string)
	dbFlag(fs, dbPath)
	period := fs.String("period", "", "考核月份 YYYY-MM（默认：最近一个已结束且有报送数据的月份）")
	out := fs.String("out", "", "输出目录（不存在则创建；同名文件会被覆盖）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon render --config C… [--assessment 考核编号] --db D [--period YYYY-MM] --out DIR")
		fmt.Fprintln(fs.Output(), "把该月的总览、乡镇、指标、排名、预警页面导出为静态文件，可直接用浏览器打开（file://）或放到任何网站上。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "db", *dbPath, "out", *out); err != nil {
		return err
	}
	if err := checkOutDir("out", *out); err != nil {
		return err
	}
	a, _, db, err := cf.open(ctx, *dbPath, stderr, true)
	if err != nil {
		return err
	}
	defer db.Close()
	mon, err := monitor.New(ctx, a, db, monitor.Options{})
	if err != nil {
		return err
	}
	var p kpi.Period
	if *period == "" {
		latest, ok := mon.ReportedPeriod() // the latest month with reports that has ended
		if !ok {
			return fmt.Errorf("数据库中还没有 %d 年度的报送数据：请先导入报表（kpimon ingest），或用 --period 指定月份", a.Year)
		}
		p = latest
	} else if p, err = periodArg("period", *period, a, time.Now(), true); err != nil {
		return err
	}
	res, err := charts.Export(ctx, mon, p, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已导出%s的页面：%d 个文件，共 %.1f MB，在 %s\n用浏览器打开 %s\n",
		p.Label(), len(res.Files), float64(res.Bytes)/(1<<20), *out, filepath.Join(*out, "index.html"))
	return nil
}
