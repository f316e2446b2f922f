package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/kpimon/kpimon/kpi"
)

// runBacktest replays a finished year month by month and says how the forecast (预计全年)
// made in each month 3 … 11 compared with December's actual, beside the profile run rate.
func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backtest", stderr)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	var db, format string
	dbFlag(fs, &db)
	fs.StringVar(&format, "format", "table", "输出格式：table|json")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon backtest --config C… [--assessment 考核编号] --db D [--format table|json]")
		fmt.Fprintln(fs.Output(), "用已结束年度的数据回测“预计全年”：逐月（3–11 月）比较当时的预计与 12 月实际；数据库须有该年度 12 月的报送。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "db", db); err != nil {
		return err
	}
	if format != "table" && format != "json" {
		fmt.Fprintf(stderr, "--format %q 无效：可选 table|json\n", format)
		return shownUsage("--format 无效")
	}
	a, _, store, err := cf.open(ctx, db, stderr, true)
	if err != nil {
		return err
	}
	defer store.Close()
	d, _, err := store.LoadDataset(ctx, a)
	if err != nil {
		return err
	}
	if latest, ok := d.LatestPeriod(); !ok || latest.Month != 12 {
		return fmt.Errorf("数据库中 %d 年度还没有 12 月的报送：回测要用全年数据（12 月的实际）来检验各月的预计", a.Year)
	}
	bt, err := kpi.RunBacktest(d)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSONOut(stdout, bt)
	}
	return writeBacktestTable(stdout, a, bt)
}

// writeBacktestTable writes the backtest for a terminal: one line a month, then the same
// by kind of indicator.
func writeBacktestTable(w io.Writer, a *kpi.Assessment, bt *kpi.Backtest) error {
	fmt.Fprintf(w, "%s  预计全年回测（各月预计与 12 月实际比较）\n\n", a.Name)
	t := newTable("月份", "样本", "kpimon 误差中位数", "按序时外推误差中位数", "区间命中率").alignRight(0, 1, 2, 3, 4)
	for _, m := range bt.Months {
		t.add(strconv.Itoa(m.Month)+"月", strconv.Itoa(m.Cases), errorCell(m.MedianAPE), errorCell(m.RunRateMedianAPE), kpi.FormatPercent(m.Coverage))
	}
	if err := t.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	k := newTable("月份", "类型", "样本", "kpimon 误差中位数", "按序时外推误差中位数", "区间命中率").alignRight(0, 2, 3, 4, 5)
	for _, m := range bt.Months {
		for _, x := range m.Kinds {
			k.add(strconv.Itoa(m.Month)+"月", x.Kind.Label(), strconv.Itoa(x.Cases), errorCell(x.MedianAPE), errorCell(x.RunRateMedianAPE), kpi.FormatPercent(x.Coverage))
		}
	}
	if err := k.write(w); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n误差 = |预计 − 12 月实际| ÷ 12 月实际；区间命中率 = 12 月实际落在预计区间内的比例（区间按八成把握给出）。")
	return err
}

// errorCell writes a median error as a percentage with two decimals (0.99%), fine enough to
// tell the two methods apart in the late months; a dash when there is none.
func errorCell(n kpi.Num) string {
	if !n.Valid {
		return kpi.Dash
	}
	return kpi.FormatDecimal(n.V*100, 2, true) + "%"
}
