package main

import (
	"context"
	"encoding/csv"
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
	fs.StringVar(&f.period, "period", "", "考核月份 YYYY-MM（默认：最近有报送数据的月份）")
	fs.StringVar(&f.format, "format", "table", "输出格式："+formats)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "用法: kpimon %s --config C --db D [--period YYYY-MM] [--format %s]\n", name, formats)
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
		latest, ok := m.LatestPeriod()
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
	fmt.Fprintf(stdout, "%s  截至%s\n\n", a.Name, r.Period.Label())
	t := newTable(a.UnitsShort(), "指标", "实际", "序时目标", "年度目标", "完成率", "序时完成", "预计全年", "状态", "分值", "得分").alignRight(2, 3, 4, 5, 6, 7, 9, 10)
	for _, e := range r.Evaluations() {
		tw, _ := a.Township(e.Township)
		ind, _ := a.Indicator(e.Indicator)
		actual, target, expected := kpi.FormatNum(e.Actual, ind.Unit), kpi.FormatNum(e.Target, ind.Unit), kpi.FormatNum(e.Expected, ind.Unit)
		if ind.Kind == kpi.KindRatio {
			actual, target = kpi.FormatPercent(e.Actual), kpi.FormatPercent(e.Target)
		}
		score := kpi.FormatNum(e.Score, "")
		t.add(tw.Name, ind.Name, actual, expected, target, kpi.FormatPercent(e.Completion), kpi.FormatPercent(e.Pace),
			forecastCell(ind, e.Forecast), statusCell(e.Status), kpi.FormatNumber(e.Weight), score)
	}
	return t.write(stdout)
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
	return kpi.FormatFigure(f.YearEnd, ind.Unit)
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
		return writeRankingCSV(stdout, a, r)
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

// writeRankingCSV writes the ranking with one column per category.
func writeRankingCSV(w io.Writer, a *kpi.Assessment, r *kpi.Result) error {
	cw := csv.NewWriter(w)
	cats := a.Categories()
	header := []string{"rank", "rank_change", "township", "township_name"}
	for _, c := range cats {
		header = append(header, charts.SpreadsheetText(c))
	}
	header = append(header, "base", "bonus", "score", "grade", "veto")
	cw.Write(header)
	for _, x := range r.Rankings {
		ch := ""
		if x.RankChange != nil {
			ch = strconv.Itoa(*x.RankChange)
		}
		// text cells are guarded as the ranking page's CSV is: a name starting with = + - @
		// is not a formula in the office's spreadsheet
		row := []string{strconv.Itoa(x.Rank), ch, charts.SpreadsheetText(x.Township), charts.SpreadsheetText(x.Name)}
		for _, c := range cats {
			row = append(row, strconv.FormatFloat(x.Categories[c], 'f', -1, 64))
		}
		row = append(row, strconv.FormatFloat(x.Base, 'f', -1, 64), strconv.FormatFloat(x.Bonus, 'f', -1, 64),
			strconv.FormatFloat(x.Total, 'f', -1, 64), charts.SpreadsheetText(x.Grade), strconv.FormatBool(x.Veto))
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
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
