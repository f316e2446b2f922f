package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/kpimon/kpimon/bulletin"
)

func runBulletin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bulletin", stderr)
	f := &reportFlags{}
	f.cf.register(fs, "考核配置文件（YAML）")
	dbFlag(fs, &f.db)
	fs.StringVar(&f.period, "period", "", "通报月份 YYYY-MM（默认：最近一个已结束且有报送数据的月份）")
	out := fs.String("out", "", "写出的文件：.xlsx 为 Excel 工作簿，.html 为可打印的网页（A4 横向）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon bulletin --config C… [--assessment 考核编号] --db D [--period YYYY-MM] --out 文件.xlsx|文件.html")
		fmt.Fprintln(fs.Output(), "生成月度通报：综合排名、各乡镇各指标完成情况（红黄绿灯）、预警和未报送情况。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", f.cf.String(), "db", f.db, "out", *out); err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".xlsx" && ext != ".html" && ext != ".htm" {
		fmt.Fprintf(stderr, "--out %q：通报须保存为 .xlsx 或 .html 文件\n", *out)
		return shownUsage("--out 须为 .xlsx 或 .html 文件")
	}
	if err := checkOutFile("out", *out); err != nil {
		return err
	}
	a, r, err := f.evaluate(ctx, stderr)
	if err != nil {
		return err
	}
	b := bulletin.New(a, r, time.Now())
	err = writeFileAtomic(*out, func(w io.Writer) error {
		if ext == ".xlsx" {
			return b.WriteXLSX(w)
		}
		return b.WriteHTML(w, bulletin.Links{})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已写出 %s：%s，%d 个%s，预警 %d 条，%s。\n", *out, b.Title(), len(r.Rankings), a.Units(), len(r.Alerts), reportsNote(b))
	fmt.Fprintf(stdout, "通报发布后，锁定该月以免数据再被改动：kpimon lock %s %s --period %s\n", dbArg(f.db), assessmentArgs(&f.cf, a.ID, false), r.Period)
	return nil
}

// reportsNote says how complete the month's reports are, as the bulletin does: the units
// whose own reports are missing (报表不全), and for a city or province the units whose sums
// lack some of their own units' reports (汇总不完整, Bulletin.Incomplete) — a city's counties
// report few figures themselves, so 报表不全 0 个 alone would hide a county's missing
// townships.
func reportsNote(b *bulletin.Bulletin) string {
	s := fmt.Sprintf("报表不全 %d 个", len(b.Missing))
	if b.Result.Data().Units() != nil {
		s += fmt.Sprintf("，有下级未报送、汇总数不完整 %d 个", len(b.Incomplete))
		var names []string
		for _, x := range b.Incomplete {
			names = append(names, x.Township.Name)
		}
		if len(names) > 0 {
			s += "（" + strings.Join(names, "、") + "）"
		}
	}
	return s
}
