package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

// reportFlags are the flags eval, rank and alerts share.
type reportFlags struct {
	cf                 configFlags
	db, period, format string
}

func parseReportFlags(name string, args []string, stdout, stderr io.Writer, formats string) (*reportFlags, bool, error) {
	fs := newFlags(name, stderr)
	f := &reportFlags{}
	f.cf.register(fs, "考核配置文件（YAML）")
	dbFlag(fs, &f.db)
	fs.StringVar(&f.period, "period", "", "考核月份 YYYY-MM（默认：最近一个已结束且有报送数据的月份）")
	fs.StringVar(&f.format, "format", "table", "输出格式："+formats)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "用法: kpimon %s --config C… [--assessment 考核编号] --db D [--period YYYY-MM] [--format %s]\n", name, formats)
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return nil, help, err
	}
	if err := require(fs, "config", f.cf.String(), "db", f.db); err != nil {
		return nil, false, err
	}
	if f.period != "" {
		// a malformed month is told before any file is opened
		if _, err := parsePeriodArg("period", f.period); err != nil {
			return nil, false, err
		}
	}
	ok := false
	for _, x := range strings.Split(formats, "|") {
		ok = ok || x == f.format
	}
	if !ok {
		fmt.Fprintf(stderr, "--format %q 无效：可选 %s\n", f.format, formats)
		return nil, false, shownUsage("--format 无效")
	}
	return f, false, nil
}

// evaluate loads the assessment and evaluates the period flags name, within the
// deployment of every config given: so a city's figures of its counties come from their
// assessments, and with last year's config given the result carries 同比 (last_year) and
// `baseline: last_year` takes last year's levels.
func (f *reportFlags) evaluate(ctx context.Context, stderr io.Writer) (*kpi.Assessment, *kpi.Result, error) {
	a, all, db, err := f.cf.open(ctx, f.db, stderr, true)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	dep, err := monitor.NewDeployment(ctx, db, all, monitor.Options{})
	if err != nil {
		return nil, nil, err
	}
	m, _ := dep.Monitor(a.ID)
	var p kpi.Period
	if f.period == "" {
		latest, ok := m.ReportedPeriod() // the latest month with reports that has ended
		if !ok {
			return nil, nil, fmt.Errorf("数据库中还没有 %d 年度的报送数据：请先导入报表（kpimon ingest），或用 --period 指定月份", a.Year)
		}
		p = latest
	} else if p, err = periodArg("period", f.period, a, time.Now(), true); err != nil {
		return nil, nil, err
	}
	r, err := m.Evaluate(p)
	if err != nil {
		return nil, nil, err
	}
	return a, r, nil
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, help, err := parseReportFlags("eval", args, stdout, stderr, "table|json")
	if help || err != nil {
		return err
	}
	a, r, err := f.evaluate(ctx, stderr)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSONOut(stdout, r)
	}
	return writeEvalTable(stdout, a, r)
}

// writeEvalTable writes the evaluations for a terminal: a row per unit × indicator, then a
// row per indicator for the whole (全县, 全区, 全市: the result's county aggregate). With last
// year attached (the deployment holds last year's assessment) and some figure of it found,
// a 去年同期 column beside 实际 gives last year's actual as of the same month, written as 实际
// is; a unit or indicator last year did not have reads as a dash.
func writeEvalTable(w io.Writer, a *kpi.Assessment, r *kpi.Result) error {
	fmt.Fprintf(w, "%s  截至%s\n\n", a.Name, r.Period.Label())
	lastYear := false
	for t := range a.Townships {
		for i := range a.Indicators {
			lastYear = lastYear || r.LastYearOf(t, i) != nil
		}
	}
	for i := range r.County {
		lastYear = lastYear || r.County[i].LastYear != nil
	}
	header := []string{a.UnitsShort(), "指标", "实际"}
	if lastYear {
		header = append(header, "去年同期")
	}
	first := len(header) // 序时目标
	header = append(header, "序时目标", "年度目标", "完成率", "序时完成", "预计全年", "状态", "分值", "得分")
	t := newTable(header...).alignRight(2, first, first+1, first+2, first+3, first+4, first+6, first+7)
	if lastYear {
		t.alignRight(3)
	}
	for ti := range a.Townships {
		for ii, e := range r.TownshipEvaluations(ti) {
			tw, _ := a.Township(e.Township)
			ind, _ := a.Indicator(e.Indicator)
			row := []string{tw.Name, ind.Name, actualCell(ind, e.Actual)}
			if lastYear {
				last := kpi.Dash
				if ly := r.LastYearOf(ti, ii); ly != nil {
					last = actualCell(ind, ly.Actual)
				}
				row = append(row, last)
			}
			row = append(row, expectedCell(ind, e.Expected), targetCell(ind, e.Target), kpi.FormatPercent(e.Completion), kpi.FormatPercent(e.Pace),
				forecastCell(ind, e.Forecast), statusCell(e.Status), kpi.FormatNumber(e.Weight), kpi.FormatNum(e.Score, ""))
			t.add(row...)
		}
	}
	for i := range r.County {
		c := &r.County[i]
		ind, ok := a.Indicator(c.Indicator)
		if !ok {
			continue
		}
		row := []string{a.Whole(), ind.Name, countyActualCell(ind, c)}
		if lastYear {
			row = append(row, countyLastYearCell(ind, r, c))
		}
		// the whole has no weight and no score of its own
		row = append(row, expectedCell(ind, c.Expected), targetCell(ind, c.Target), kpi.FormatPercent(c.Completion), kpi.FormatPercent(c.Pace),
			forecastCell(ind, c.Forecast), statusCell(c.Status), kpi.Dash, kpi.Dash)
		t.add(row...)
	}
	return t.write(w)
}

// actualCell writes a unit's actual for the table: a ratio as a percentage, else the
// figure in the indicator's unit.
func actualCell(ind *kpi.Indicator, n kpi.Num) string {
	if ind.Kind == kpi.KindRatio {
		return kpi.FormatPercent(n)
	}
	return kpi.FormatNum(n, ind.Unit)
}

// targetCell writes a target for the table: a ratio's threshold as a percentage.
func targetCell(ind *kpi.Indicator, n kpi.Num) string { return actualCell(ind, n) }

// countyActualCell writes the whole's actual: a milestone's as how many units have done it
// (4/6 已完成), as the pages write it; others as a unit's.
func countyActualCell(ind *kpi.Indicator, c *kpi.CountyEvaluation) string {
	if ind.Kind == kpi.KindMilestone {
		return c.MilestoneText()
	}
	return actualCell(ind, c.Actual)
}

// countyLastYearCell writes the whole's actual as of the same month last year, as
// countyActualCell writes this year's (a milestone's count from last year's aggregate).
func countyLastYearCell(ind *kpi.Indicator, r *kpi.Result, c *kpi.CountyEvaluation) string {
	if c.LastYear == nil {
		return kpi.Dash
	}
	if ind.Kind == kpi.KindMilestone {
		if last := r.LastYear(); last != nil {
			for j := range last.County {
				if lc := &last.County[j]; lc.Indicator == c.Indicator && lc.Kind == c.Kind {
					return lc.MilestoneText()
				}
			}
		}
		return kpi.Dash
	}
	return actualCell(ind, c.LastYear.Actual)
}

// forecastCell writes an evaluation's 预计全年 for the table: the year-end estimate in the
// indicator's terms (a ratio as a percentage), or a dash where there is none.
func forecastCell(ind *kpi.Indicator, f *kpi.Forecast) string {
	switch {
	case f == nil:
		return kpi.Dash
	case ind.Kind == kpi.KindRatio:
		return kpi.FormatPercent(kpi.Some(f.YearEnd))
	}
	return kpi.FormatEstimate(f.YearEnd, ind.Unit)
}

// expectedCell writes 序时目标 for the table: a ratio's as a percentage; in a counting unit
// the least whole number that reaches it (kpi.FormatRequired: 87.5 人次 reads 88 人次, as
// the status judges a whole actual of 87 short).
func expectedCell(ind *kpi.Indicator, n kpi.Num) string {
	switch {
	case !n.Valid:
		return kpi.Dash
	case ind.Kind == kpi.KindRatio:
		return kpi.FormatPercent(n)
	}
	return kpi.FormatRequired(n.V, ind.Unit)
}

func statusCell(s kpi.Status) string {
	if s == "" {
		return "—"
	}
	return s.Label()
}

func runRank(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, help, err := parseReportFlags("rank", args, stdout, stderr, "table|json|csv")
	if help || err != nil {
		return err
	}
	a, r, err := f.evaluate(ctx, stderr)
	if err != nil {
		return err
	}
	switch f.format {
	case "json":
		return writeJSONOut(stdout, r.RankingsReport(a))
	case "csv":
		// the ranking page's CSV (/rankings.csv), byte for byte: Chinese headers, a
		// byte-order mark for Excel, names guarded against formulas (charts.SpreadsheetText)
		return charts.WriteRankingCSV(stdout, a, r)
	}
	fmt.Fprintf(stdout, "%s  %s排名\n\n", a.Name, r.Period.Label())
	// 去年同期 (the unit's rank as of the same month last year) only where the deployment
	// holds last year's assessment and some unit has a rank in it
	lastYear := false
	for _, x := range r.Rankings {
		lastYear = lastYear || x.LastYearRank != nil
	}
	header := []string{"名次", "较上月"}
	if lastYear {
		header = append(header, "去年同期")
	}
	header = append(header, a.UnitsShort())
	first := len(header) // the first category's column
	cats := a.Categories()
	header = append(header, cats...)
	header = append(header, "加分", "总分", "等次")
	t := newTable(header...)
	for i := 0; i < len(cats)+3; i++ { // the categories, 加分, 总分 and 等次
		t.alignRight(first + i)
	}
	t.alignRight(0)
	for _, x := range r.Rankings {
		rank := strconv.Itoa(x.Rank)
		if x.Tied {
			rank += "（并列）"
		}
		row := []string{rank, kpi.FormatRankChange(x.RankChange)}
		if lastYear {
			last := kpi.Dash
			if x.LastYearRank != nil {
				last = fmt.Sprintf("第%d名", *x.LastYearRank)
			}
			row = append(row, last)
		}
		row = append(row, x.Name)
		for _, c := range cats {
			row = append(row, kpi.FormatNumber(x.Categories[c]))
		}
		row = append(row, kpi.FormatNumber(x.Bonus), fmt.Sprintf("%.2f", x.Total), x.GradeLabel())
		t.add(row...)
	}
	return t.write(stdout)
}

func runAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, help, err := parseReportFlags("alerts", args, stdout, stderr, "table|json")
	if help || err != nil {
		return err
	}
	a, r, err := f.evaluate(ctx, stderr)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSONOut(stdout, r.AlertsReport())
	}
	fmt.Fprintf(stdout, "%s  截至%s 预警 %d 条\n\n", a.Name, r.Period.Label(), len(r.Alerts))
	t := newTable("级别", "预警", a.UnitsShort(), "指标", "起始", "说明")
	for _, al := range r.Alerts {
		t.add(kpi.SeverityLabel(al.Severity), kpi.AlertLabel(al.Alert), al.TownshipName, al.IndicatorName, al.ActiveSince.String(), al.Summary)
	}
	return t.write(stdout)
}
