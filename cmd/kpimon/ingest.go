package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）")
	var dbPath string
	dbFlag(fs, &dbPath)
	actor := fs.String("actor", defaultActor(), "记入审计记录的操作人")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon ingest --config C --db D [--actor 名称] 文件…")
		fmt.Fprintln(fs.Output(), "所有文件作为一批导入：任何一行有错，全部不写入，并列出每一处错误。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := require(fs, "config", cf.String(), "db", dbPath); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "没有要导入的文件")
		fs.Usage()
		return shownUsage("没有要导入的文件")
	}
	a, _, db, err := cf.open(ctx, dbPath, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	res, be, err := ingestFiles(ctx, a, db, *actor, fs.Args())
	if be != nil {
		for _, e := range be.Errors {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "共 %d 处错误，未写入任何数据。\n", len(be.Errors))
		return errReported
	}
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

// ingestFiles reads the files as one batch and writes it while it is read: one goroutine
// parses and validates, the caller's writes chunks into one transaction. Any invalid row
// (or any error) rolls the whole batch back, so it is still all or nothing; the CLI writes
// straight to the database, since loading the year into memory as the server's monitor does
// would only slow an ingest down.
func ingestFiles(ctx context.Context, a *kpi.Assessment, db store.Store, actor string, files []string) (store.IngestResult, *collector.BatchError, error) {
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: actor})
	if err != nil {
		return store.IngestResult{}, nil, err
	}
	defer w.Abort()
	chunks := make(chan []kpi.Observation, 4)
	b := collector.NewBatch(a)
	b.RefuseAfter(collector.CurrentMonth(a, time.Now()))
	b.Stream(ingestChunk, func(obs []kpi.Observation) error {
		select {
		case chunks <- obs:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	readErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		for _, f := range files {
			if err := b.AddFile(ctx, f); err != nil {
				readErr <- err
				return
			}
		}
		b.Flush()
		readErr <- nil
	}()
	var writeErr error
	for c := range chunks {
		if writeErr == nil {
			writeErr = w.Write(c)
		}
	}
	if err := <-readErr; err != nil {
		return store.IngestResult{}, nil, err
	}
	var be *collector.BatchError
	if errors.As(b.Err(), &be) {
		return store.IngestResult{}, be, nil
	}
	for _, err := range []error{b.SinkErr(), writeErr} {
		if err != nil {
			return store.IngestResult{}, nil, err
		}
	}
	w.Describe(b.SourceName(), b.SHA256())
	res, err := w.Commit()
	return res, nil, err
}

// ingestChunk is how many observations the reader hands the writer at a time.
const ingestChunk = 16384
