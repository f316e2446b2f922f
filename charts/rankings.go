package charts

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	ec "github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/kpimon/kpimon/kpi"
)

// rankingsData is the content of 排名.
type rankingsData struct {
	W          words
	Categories []string
	Rows       []rankRow   // every row; for a large assessment the first page's
	Paged      *pagedTable // a large assessment's rows for the browser's pages; nil otherwise
	Chart      chart
	CSV        string
	BulletinX  string // the bulletin workbook; empty on exported pages
	BulletinH  string // the printable bulletin
	LastYear   bool   // the rows carry last year's rank (去年同期)
}

// buildRankings builds 排名 for the snapshot's period.
func buildRankings(s *Snapshot, l links) (*view, error) {
	a, r := s.Assessment, s.Result()
	v, err := newView(s, l, kindRankings, "排名")
	if err != nil {
		return nil, err
	}
	d := &rankingsData{W: v.W, Categories: a.Categories(), Rows: rankRows(s, l), CSV: l.RankingsCSV(),
		BulletinX: l.Bulletin("xlsx"), BulletinH: l.Bulletin("html"), LastYear: r.LastYear() != nil}
	if large(a) {
		rows := make([][]any, len(d.Rows))
		for k, x := range d.Rows {
			row := []any{x.unit, x.Rank, b01(x.Tied), x.Change, x.ChangeDir, x.Total, x.Grade, x.GradeClass, b01(x.Veto), x.Unreported}
			for _, c := range x.Categories {
				row = append(row, c)
			}
			row = append(row, x.Base, x.Bonus)
			if d.LastYear {
				row = append(row, x.LastYear)
			}
			rows[k] = row
		}
		shared := map[string]any{"tie": "并列", "veto": "一票否决"}
		if d.LastYear {
			shared["ly"] = 1
		}
		if d.Paged, err = newPagedTable("ranks", "ranks", a.UnitsShort(), rows, shared); err != nil {
			return nil, err
		}
		d.Rows = d.Rows[:min(len(d.Rows), pageRows)]
	}
	if d.Chart, err = categoryChart("rankings-categories", a, r, l); err != nil {
		return nil, err
	}
	if large(a) {
		d.Chart.Title += fmt.Sprintf("（前 %d 名、后 %d 名）", topN, topN)
		d.Chart.Note, d.Chart.Search = topBottomNote(a), a.UnitsShort()
	}
	v.Charts = []chart{d.Chart}
	v.Data = d
	return v, nil
}

// categoryChart stacks each township's score by category, plus its bonus, in rank order;
// for a large assessment the first and the last topN.
func categoryChart(id string, a *kpi.Assessment, r *kpi.Result, l links) (chart, error) {
	order := make([]int, len(r.Rankings))
	for k := range order {
		order[k] = k
	}
	if large(a) {
		order = topBottom(order, topN, -1)
	}
	names := make([]string, len(order))
	hrefs := make([]string, len(order))
	for k, x := range order {
		if x < 0 {
			names[k] = sepName
			continue
		}
		names[k], hrefs[k] = r.Rankings[x].Name, l.Township(r.Rankings[x].Township)
	}
	bar := ec.NewBar()
	bar.SetGlobalOptions(
		ec.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		ec.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		ec.WithGridOpts(opts.Grid{Left: "8", Right: "24", Top: "8", Bottom: "64", ContainLabel: opts.Bool(true)}),
		ec.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0}),
		ec.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	var tips, links [][]string
	add := func(name string, val func(x kpi.Ranking) float64, color string) {
		data := make([]opts.BarData, len(order))
		tip := make([]string, len(order))
		for k, o := range order {
			if o < 0 {
				data[k] = opts.BarData{Value: "-"}
				continue
			}
			x := r.Rankings[o]
			data[k] = opts.BarData{Value: kpi.Round(val(x), 2)}
			tip[k] = fmt.Sprintf("%s\n%s：%s 分\n总分 %.2f", x.Name, name, points(val(x)), x.Total)
		}
		so := []ec.SeriesOpts{ec.WithBarChartOpts(opts.BarChart{Stack: "score"})}
		if color != "" {
			so = append(so, ec.WithItemStyleOpts(opts.ItemStyle{Color: color}))
		}
		bar.AddSeries(name, data, so...)
		tips, links = append(tips, tip), append(links, hrefs)
	}
	for _, c := range a.Categories() {
		add(c, func(x kpi.Ranking) float64 { return x.Categories[c] }, "")
	}
	add("加分", func(x kpi.Ranking) float64 { return x.Bonus }, colorBonus)
	return newChart(id, "各类别得分与加分", rowsHeight(len(names), 30, 60, 180), bar,
		chartSpec{Tips: tips, Links: links},
		set("yAxis.0.axisLabel", map[string]any{"width": 100, "overflow": "truncate"}))
}

// WriteRankingCSV writes the ranking as CSV for Excel: a UTF-8 byte-order mark, Chinese
// headers, one column per category, and 去年同期名次 after 较上月 where the result carries
// last year (同比). Text cells that a spreadsheet would read as a formula (=, +, -, @) are
// prefixed with an apostrophe.
func WriteRankingCSV(w io.Writer, a *kpi.Assessment, r *kpi.Result) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cats := a.Categories()
	ly := r.LastYear() != nil
	header := []string{"月份", "名次", "较上月"}
	if ly {
		header = append(header, "去年同期名次")
	}
	header = append(header, a.UnitsShort()+"代码", a.UnitsShort())
	for _, c := range cats {
		header = append(header, cellText(c))
	}
	header = append(header, "基础分", "加分", "总分", "等次", "一票否决")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, x := range r.Rankings {
		rank := strconv.Itoa(x.Rank)
		if x.Tied {
			rank += "（并列）"
		}
		row := []string{r.Period.String(), rank, kpi.FormatRankChange(x.RankChange)}
		if ly {
			then := ""
			if x.LastYearRank != nil {
				then = strconv.Itoa(*x.LastYearRank)
			}
			row = append(row, then)
		}
		row = append(row, cellText(x.Township), cellText(x.Name))
		for _, c := range cats {
			row = append(row, strconv.FormatFloat(x.Categories[c], 'f', -1, 64))
		}
		veto := "否"
		if x.Veto {
			veto = "是"
		}
		row = append(row, strconv.FormatFloat(x.Base, 'f', -1, 64), strconv.FormatFloat(x.Bonus, 'f', -1, 64),
			strconv.FormatFloat(x.Total, 'f', 2, 64), cellText(x.Grade), veto)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cellText keeps a spreadsheet from reading a name as a formula.
func cellText(s string) string { return SpreadsheetText(s) }

// SpreadsheetText keeps a spreadsheet from reading a text cell of a CSV file as a formula
// (CSV injection): a text starting with = + - @, a tab or a carriage return is written with
// a leading apostrophe. Numbers must not go through it (-2 is a number).
func SpreadsheetText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
