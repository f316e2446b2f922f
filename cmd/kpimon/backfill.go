package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kpimon/kpimon/metrics"
)

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backfill", stderr)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	var dbPath string
	dbFlag(fs, &dbPath)
	out := fs.String("out", "", "写出的 OpenMetrics 文件")
	to := fs.String("to", "", "写到哪个月 YYYY-MM（默认：最近有报送数据的月份）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon backfill --config C… [--assessment 考核编号] --db D --out 文件 [--to YYYY-MM]")
		fmt.Fprintln(fs.Output(), "把考核的逐月历史写成 OpenMetrics，供 promtool tsdb create-blocks-from openmetrics 导入 Prometheus，")
		fmt.Fprintln(fs.Output(), "Grafana 的趋势图就能从 1 月开始显示，而不只是 Prometheus 开始抓取以后的月份。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "db", dbPath, "out", *out); err != nil {
		return err
	}
	if err := checkOutFile("out", *out); err != nil {
		return err
	}
	a, _, db, err := cf.open(ctx, dbPath, stderr, true)
	if err != nil {
		return err
	}
	defer db.Close()
	d, _, err := db.LoadDataset(ctx, a)
	if err != nil {
		return err
	}
	upTo, ok := d.LatestPeriod()
	if *to != "" {
		if upTo, err = periodArg("to", *to, a, time.Now(), true); err != nil {
			return err
		}
	} else if !ok {
		return fmt.Errorf("数据库中还没有“%s”的报送数据，没有可写的历史", a.Name)
	}
	f, err := os.Create(*out)
	if err != nil {
		return writeError(*out, err)
	}
	w := bufio.NewWriter(f)
	if err := metrics.Backfill(w, d, upTo, time.Now()); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(*out)
		return writeError(*out, err)
	}
	if err := f.Close(); err != nil {
		return writeError(*out, err)
	}
	fmt.Fprintf(stdout, "已写出“%s”1 月至 %d 月的历史：%s\n", a.Name, upTo.Month, *out)
	fmt.Fprintf(stdout, "导入 Prometheus：promtool tsdb create-blocks-from openmetrics %s <Prometheus 数据目录>\n", *out)
	fmt.Fprintln(stdout, "（Prometheus 默认只保留 15 天：导入历史须加大 --storage.tsdb.retention.time，如 5y）")
	return nil
}
