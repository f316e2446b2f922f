package main

import (
	"fmt"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

// A month given on the command line (--period, --to) is checked here, so that every
// command says the same, in Chinese, with what to type instead, and exits with status 2:
// a month that does not parse, a month outside the assessment's year, and — for commands
// that describe what happened — a month that has not begun yet in the assessment's time
// zone (the month in progress may be shown; a bulletin for next month is a slip).

// parsePeriodArg reads a month flag's value. Its error is a usage error naming the flag
// before kpi's Chinese message.
func parsePeriodArg(flagName, value string) (kpi.Period, error) {
	p, err := kpi.ParsePeriod(value)
	if err != nil {
		return p, usageError{msg: fmt.Sprintf("--%s 无效：%s", flagName, err)}
	}
	return p, nil
}

// periodArg reads a month flag of an assessment's command: it must parse and lie in the
// assessment's year; with notFuture, it must also have begun by now.
func periodArg(flagName, value string, a *kpi.Assessment, now time.Time, notFuture bool) (kpi.Period, error) {
	p, err := parsePeriodArg(flagName, value)
	if err != nil {
		return p, err
	}
	if p.Year != a.Year {
		return p, usageError{msg: outsideYear(flagName, p, a.Year)}
	}
	if cur := collector.CurrentMonth(a, now); notFuture && cur.Before(p) {
		return p, usageError{msg: fmt.Sprintf("--%s %s 还没有到（现在是 %s）：请指定 %s 或更早的月份", flagName, p, cur.Label(), cur)}
	}
	return p, nil
}

// outsideYear says that a month is not of the assessment's year.
func outsideYear(flagName string, p kpi.Period, year int) string {
	return fmt.Sprintf("--%s %s 不在考核年度 %d 内：应为 %d-01 至 %d-12 之间的月份", flagName, p, year, year, year)
}

// townshipArg resolves --township: an unknown name is a usage mistake answered with the
// nearest names, as a batch's rows are.
func townshipArg(a *kpi.Assessment, value string) (kpi.Township, error) {
	i, ok := a.ResolveTownship(value)
	if !ok {
		return kpi.Township{}, usageError{msg: "--township：" + collector.UnknownTownship(a, value)}
	}
	return a.Townships[i], nil
}
