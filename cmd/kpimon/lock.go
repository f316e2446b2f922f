package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

func runLock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lock", stderr)
	var dbPath string
	dbFlag(fs, &dbPath)
	var cf configFlags
	cf.register(fs, "考核配置文件（YAML）：锁定其考核的月份，核对月份属于考核年度，时间按其时区显示")
	period := fs.String("period", "", "要锁定（或解锁）的月份 YYYY-MM；省略则列出已锁定的月份")
	unlock := fs.Bool("unlock", false, "解锁，允许再次修改该月数据")
	actor := fs.String("actor", defaultActor(), "记入审计记录的操作人")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon lock --db D --config C… [--assessment 考核编号] [--period YYYY-MM] [--unlock]")
		fmt.Fprintln(fs.Output(), "   或: kpimon lock --db D --assessment 考核编号 [--period YYYY-MM] [--unlock]")
		fmt.Fprintln(fs.Output(), "月度通报发布后锁定该月：此后任何改动该月数据的批次整批拒绝，直到管理员解锁。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if err := require(fs, "db", dbPath); err != nil {
		return err
	}
	if len(cf.paths) == 0 && cf.id == "" {
		fmt.Fprintln(stderr, "须指定 --config 或 --assessment：锁定哪一项考核的月份")
		fs.Usage()
		return shownUsage("须指定 --config 或 --assessment")
	}
	loc := time.Local
	var year int
	several := false // --config named several assessments
	aid := cf.id
	var db store.Store
	if len(cf.paths) > 0 {
		a, all, st, err := cf.open(ctx, dbPath, stderr, true)
		if err != nil {
			return err
		}
		loc, year, aid, db = a.Location, a.Year, a.ID, st
		several = len(all) > 1
	} else {
		st, err := openStore(ctx, dbPath, true)
		if err != nil {
			return err
		}
		db = st
		// without a config nothing says the id is right: one the database has never seen
		// (a typo) would lock a month of no assessment and list nothing, silently
		if known, err := assessmentInStore(ctx, st, aid); err != nil {
			st.Close()
			return err
		} else if !known {
			st.Close()
			return usageError{msg: fmt.Sprintf("数据库 %s 中没有考核“%s”的数据或锁定：请检查 --assessment（考核编号是配置文件中的 id），或改用 --config 配置文件", redactDSN(dbPath), aid)}
		}
	}
	defer db.Close()
	if *period == "" {
		if *unlock {
			// the example is the latest locked month, the one most likely meant
			example := "YYYY-MM"
			if locks, err := db.Locks(ctx, aid); err == nil && len(locks) > 0 {
				example = locks[len(locks)-1].Period.String()
			}
			msg := fmt.Sprintf("解锁须指定月份，如 kpimon lock --unlock %s %s --period %s（已锁定的月份见 kpimon lock %s %s）",
				dbArg(dbPath), assessmentArgs(&cf, aid, several), example, dbArg(dbPath), assessmentArgs(&cf, aid, several))
			fmt.Fprintln(stderr, msg)
			return shownUsage(msg)
		}
		locks, err := db.Locks(ctx, aid)
		if err != nil {
			return err
		}
		if len(locks) == 0 {
			fmt.Fprintln(stdout, "没有已锁定的月份。")
			return nil
		}
		t := newTable("月份", "锁定时间", "锁定人")
		for _, l := range locks {
			t.add(l.Period.String(), l.At.In(loc).Format("2006-01-02 15:04"), l.By)
		}
		if err := t.write(stdout); err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, zoneNote(loc, time.Now()))
		return err
	}
	p, err := parsePeriodArg("period", *period)
	if err != nil {
		return err
	}
	if year != 0 && p.Year != year {
		return usageError{msg: outsideYear("period", p, year)}
	}
	if now := time.Now().In(loc); !*unlock && (kpi.Period{Year: now.Year(), Month: int(now.Month())}).Before(p) {
		return usageError{msg: fmt.Sprintf("--period %s 还没有到（现在是 %d年%d月）：只能锁定已经发布通报的月份", p, now.Year(), now.Month())}
	}
	if *unlock {
		ok, err := db.UnlockPeriod(ctx, aid, p, *actor)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(stdout, "%s 未锁定，无需解锁。\n", p)
			return nil
		}
		fmt.Fprintf(stdout, "已解锁 %s：该月数据可以再次修改。\n", p)
		return nil
	}
	l, made, err := db.LockPeriod(ctx, aid, p, *actor)
	if err != nil {
		return err
	}
	if !made {
		fmt.Fprintf(stdout, "%s 已于 %s由 %s 锁定。\n", p, kpi.Clock(l.At, loc), l.By)
		return nil
	}
	fmt.Fprintf(stdout, "已锁定 %s：此后改动该月数据的批次将整批拒绝（解锁：kpimon lock --unlock %s %s --period %s）。\n", p, dbArg(dbPath), assessmentArgs(&cf, aid, several), p)
	return nil
}

// assessmentInStore reports whether the database holds a batch or a lock of the assessment.
func assessmentInStore(ctx context.Context, db store.Store, id string) (bool, error) {
	last, err := db.LastBatch(ctx, id)
	if err != nil || last > 0 {
		return last > 0, err
	}
	locks, err := db.Locks(ctx, id)
	return len(locks) > 0, err
}
