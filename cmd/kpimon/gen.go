package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen", stderr)
	var spec synth.Spec
	fs.IntVar(&spec.Townships, "townships", 10, "乡镇数")
	fs.IntVar(&spec.Indicators, "indicators", 30, "指标数（至少 6，含各类指标）")
	fs.IntVar(&spec.Months, "months", 12, "生成 1 至几月的报表")
	fs.Uint64Var(&spec.Seed, "seed", 1, "随机种子：同一种子生成同样的数据")
	fs.Float64Var(&spec.Noise, "noise", 0, "噪声（0 到 1，如 0.3）：乡镇之间、月份之间的差异，偶有漏报；用于检验预计全年（kpimon backtest）")
	out := fs.String("out", "", "输出目录：写入 config.yaml 和 observations.csv")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon gen --townships N --indicators M --months K --seed S [--noise 0.3] --out DIR")
		fmt.Fprintln(fs.Output(), "生成一个合成的考核方案和报表，用于性能测试。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "out", *out); err != nil {
		return err
	}
	if err := checkOutDir("out", *out); err != nil {
		return err
	}
	if err := spec.Validate(); err != nil {
		return usageError{msg: err.Error()}
	}
	cfg, err := synth.Config(spec)
	if err != nil {
		return err
	}
	a, err := kpi.ParseConfig("config.yaml", cfg)
	if err != nil {
		return fmt.Errorf("generated config: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "config.yaml"), cfg, 0o644); err != nil {
		return err
	}
	start := time.Now()
	path := filepath.Join(*out, "observations.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := synth.WriteCSV(&ctxWriter{ctx: ctx, w: f}, a, spec)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "已生成 %s/config.yaml（%d 个乡镇 × %d 项指标）和 observations.csv（%d 条，%.1f 秒）。\n",
		*out, spec.Townships, spec.Indicators, n, time.Since(start).Seconds())
	return nil
}

// ctxWriter stops a long write when the context is cancelled (Ctrl-C).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
