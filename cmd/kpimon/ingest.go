package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/sqlite"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	config := fs.String("config", "", "考核配置文件（YAML）")
	dbPath := fs.String("db", "", "数据库文件（SQLite）")
	actor := fs.String("actor", defaultActor(), "记入审计记录的操作人")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon ingest --config C --db D [--actor 名称] 文件…")
		fmt.Fprintln(fs.Output(), "所有文件作为一批导入：任何一行有错，全部不写入，并列出每一处错误。")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := require(fs, "config", *config, "db", *dbPath); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "没有要导入的文件")
		fs.Usage()
		return usageError{"no files"}
	}
	a, db, err := openAssessment(ctx, *config, *dbPath, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	b := collector.NewBatch(a)
	for _, f := range fs.Args() {
		if err := b.AddFile(ctx, f); err != nil {
			return err
		}
	}
	var be *collector.BatchError
	if errors.As(b.Err(), &be) {
		for _, e := range be.Errors {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "共 %d 处错误，未写入任何数据。\n", len(be.Errors))
		return errReported
	}
	// the CLI writes straight to the database: loading the whole year into memory, as the
	// server's monitor does, would only slow an ingest down
	res, err := db.Ingest(ctx, a, sqlite.Batch{Actor: *actor, Source: b.SourceName(), SHA256: b.SHA256(), Observations: b.Observations()})
	if err != nil {
		return err
	}
	if res.BatchID == 0 {
		fmt.Fprintf(stdout, "数据无变化：%d 条与已有数据相同，未写入。\n", res.Unchanged)
		return nil
	}
	fmt.Fprintf(stdout, "已写入批次 #%d：新增 %d 条，更正 %d 条，未变 %d 条（共 %d 条）。\n",
		res.BatchID, res.New, res.Corrected, res.Unchanged, res.Total)
	return nil
}

func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
