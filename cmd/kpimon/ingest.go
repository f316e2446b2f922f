package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
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
		fmt.Fprintln(fs.Output(), "用法: kpimon ingest --config C… [--assessment 考核编号] --db D [--actor 名称] 文件…")
		fmt.Fprintln(fs.Output(), "所有文件作为一批导入：任何一行有错，全部不写入，并列出每一处错误。")
		printFlags(fs)
	}
	if help, err := parseFlagsWithArgs(fs, args, stdout); help || err != nil {
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
	// a file named by mistake is a usage mistake, told for every file before anything is
	// opened (and before a database is created)
	if bad := unreadableFiles(fs.Args()); len(bad) > 0 {
		for _, msg := range bad {
			fmt.Fprintln(stderr, msg)
		}
		return shownUsage(bad[0])
	}
	all, err := cf.load(stderr)
	if err != nil {
		return err
	}
	a, err := routeBatch(ctx, &cf, all, fs.Args())
	if err != nil {
		return err
	}
	_, statErr := os.Stat(dbPath)
	fresh := !isPostgresURL(dbPath) && errors.Is(statErr, os.ErrNotExist)
	db, err := openStore(ctx, dbPath, false)
	if err != nil {
		return err
	}
	for _, x := range all {
		if _, err := db.ClaimLegacy(ctx, x.ID, x.Year); err != nil {
			db.Close()
			return err
		}
	}
	res, blanks, be, err := ingestFiles(ctx, a, db, *actor, fs.Args())
	db.Close()
	if (be != nil || err != nil) && fresh {
		// a refused first batch leaves no empty database behind
		for _, side := range []string{"", "-wal", "-shm"} {
			os.Remove(dbPath + side)
		}
	}
	if be != nil {
		for _, e := range be.Errors {
			fmt.Fprintln(stderr, e.Error())
		}
		if be.More > 0 {
			fmt.Fprintf(stderr, "另有 %d 处错误未列出。\n", be.More)
		}
		fmt.Fprintf(stderr, "共 %d 处错误，未写入任何数据。\n", be.Count())
		return errReported
	}
	var le *store.LockedError
	if errors.As(err, &le) {
		// the hints name every flag: the database and the assessment as the clerk gave them
		which := dbArg(dbPath) + " " + assessmentArgs(&cf, a.ID, len(all) > 1)
		ps := make([]string, len(le.Periods))
		for i, p := range le.Periods {
			ps[i] = p.String()
		}
		fmt.Fprintf(stderr, "%s 已锁定（月度通报已发布），本批数据未写入。\n如需更正，请先解锁：\n", strings.Join(ps, "、"))
		for _, p := range ps {
			fmt.Fprintf(stderr, "  kpimon lock --unlock %s --period %s\n", which, p)
		}
		fmt.Fprintln(stderr, "解锁后重新导入本批数据，再锁定该月：")
		for _, p := range ps {
			fmt.Fprintf(stderr, "  kpimon lock %s --period %s\n", which, p)
		}
		return errReported
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return errors.New("已中断：本批数据未写入（数据库保持导入前的样子）")
		}
		return err
	}
	if fresh {
		// a mistyped --db is noticed: the batch went into a new database
		fmt.Fprintln(stdout, newDatabaseNote(dbPath, false))
	}
	if len(all) > 1 {
		fmt.Fprintf(stdout, "导入到考核 %s（%s）。\n", a.ID, a.Name)
	}
	if res.BatchID == 0 {
		fmt.Fprintf(stdout, "数据无变化：%d 条与已有数据相同，未写入。\n", res.Unchanged)
	} else {
		fmt.Fprintf(stdout, "已写入批次 #%d：新增 %d 条，更正 %d 条，未变 %d 条（共 %d 条）。\n",
			res.BatchID, res.New, res.Corrected, res.Unchanged, res.Total)
	}
	if len(blanks) > 0 {
		fmt.Fprintf(stdout, "未填 %d 项（视为未报送）：\n", len(blanks))
		for _, bl := range blanks {
			tw, _ := a.Township(bl.Township)
			ind, _ := a.Indicator(bl.Indicator)
			name := bl.Indicator
			if ind != nil {
				name = ind.Name
			}
			fmt.Fprintf(stdout, "  %s：%s·%s（%s）未填\n", bl.Cell, tw.Name, name, bl.Period.Label())
		}
	}
	return nil
}

// routeBatch chooses the assessment a command-line batch goes to: the one --assessment
// names, the only one given, or else the only one whose year the rows' months are of. When
// several assessments cover that year (a city and its counties), or the rows span years,
// it asks for --assessment.
func routeBatch(ctx context.Context, cf *configFlags, all []*kpi.Assessment, files []string) (*kpi.Assessment, error) {
	if cf.id != "" || len(all) == 1 {
		return cf.one(all)
	}
	probe := collector.NewBatch(all[0])
	for _, f := range files {
		if err := probe.AddFile(ctx, f); err != nil {
			return nil, err
		}
	}
	years := probe.Years()
	switch len(years) {
	case 0:
		return nil, usageError{msg: fmt.Sprintf("文件中没有可识别的月份，无法判断属于哪一项考核（%s）：请用 --assessment 指明", idList(all))}
	case 1:
	default:
		ys := make([]string, len(years))
		for i, y := range years {
			ys[i] = strconv.Itoa(y)
		}
		return nil, usageError{msg: fmt.Sprintf("本批数据跨 %s 年度：请按年度分开导入，或用 --assessment 指明", strings.Join(ys, "、"))}
	}
	var covering []*kpi.Assessment
	for _, a := range all {
		if a.Year == years[0] {
			covering = append(covering, a)
		}
	}
	switch len(covering) {
	case 1:
		return covering[0], nil
	case 0:
		return nil, usageError{msg: fmt.Sprintf("数据是 %d 年度的，给出的考核（%s）没有这一年度", years[0], idList(all))}
	}
	return nil, usageError{msg: fmt.Sprintf("%d 年度有 %d 项考核（%s）：请用 --assessment 指明导入哪一项", years[0], len(covering), idList(covering))}
}

// unreadableFiles says, for each file that does not exist, is a folder or may not be read,
// what is wrong with it.
func unreadableFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = &iofs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
			}
			f.Close()
		}
		switch {
		case err != nil && errors.Is(err, iofs.ErrNotExist) && strings.ContainsAny(p, "*?["):
			// the shell passes a pattern that matched nothing as it is
			out = append(out, fmt.Sprintf("没有与 %s 匹配的文件：请检查文件夹和文件名", p))
		case err != nil:
			out = append(out, (&collector.FileError{Path: p, Err: err}).Error())
		}
	}
	return out
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
func ingestFiles(ctx context.Context, a *kpi.Assessment, db store.Store, actor string, files []string) (store.IngestResult, []collector.Blank, *collector.BatchError, error) {
	w, err := db.NewWriter(ctx, a, store.BatchMeta{Actor: actor})
	if err != nil {
		return store.IngestResult{}, nil, nil, err
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
		return store.IngestResult{}, nil, nil, err
	}
	var be *collector.BatchError
	if errors.As(b.Err(), &be) {
		return store.IngestResult{}, nil, be, nil
	}
	for _, err := range []error{b.SinkErr(), writeErr} {
		if err != nil {
			return store.IngestResult{}, nil, nil, err
		}
	}
	w.Describe(b.SourceName(), b.SHA256())
	res, err := w.Commit()
	return res, b.Blanks(), nil, err
}

// ingestChunk is how many observations the reader hands the writer at a time.
const ingestChunk = 16384
