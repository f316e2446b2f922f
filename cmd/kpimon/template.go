package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
)

func runTemplate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("template", stderr)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	township := fs.String("township", "", "乡镇代码或名称（省略：每个乡镇一个工作表）")
	period := fs.String("period", "", "报表月份 YYYY-MM")
	out := fs.String("out", "", "写出的 Excel 文件（.xlsx）")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon template --config C… [--assessment 考核编号] [--township T] --period YYYY-MM --out 文件.xlsx")
		fmt.Fprintln(fs.Output(), "生成乡镇月报表模板：每项指标一行，只需填写黄色单元格；填好后用 ingest 或上传页面导入。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "period", *period, "out", *out); err != nil {
		return err
	}
	if ext := strings.ToLower(filepath.Ext(*out)); ext != ".xlsx" {
		fmt.Fprintf(stderr, "--out %q：模板须保存为 .xlsx 文件\n", *out)
		return shownUsage("--out 须为 .xlsx 文件")
	}
	if err := checkOutFile("out", *out); err != nil {
		return err
	}
	all, err := cf.load(stderr)
	if err != nil {
		return err
	}
	a, err := cf.one(all)
	if err != nil {
		return err
	}
	// a form may be made ahead of its month
	p, err := periodArg("period", *period, a, time.Now(), false)
	if err != nil {
		return err
	}
	var towns []kpi.Township
	if *township != "" {
		t, err := townshipArg(a, *township)
		if err != nil {
			return err
		}
		towns = []kpi.Township{t}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { return forms.Write(w, a, towns, p) }); err != nil {
		return err
	}
	n := len(towns)
	if n == 0 {
		n = len(a.Townships)
	}
	fmt.Fprintf(stdout, "已写出 %s：%s月报表，%d 个%s，每个 %d 项指标。\n", *out, p.Label(), n, a.Units(), len(a.Indicators))
	return nil
}

// writeFileAtomic writes a file through a temporary file in the same directory, so a failed
// write never leaves half a file behind under the final name.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return writeError(path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return writeError(path, err)
	}
	if err := tmp.Close(); err != nil {
		return writeError(path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return writeError(path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return writeError(path, err)
	}
	return nil
}
