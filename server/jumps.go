package server

import (
	"fmt"
	"strings"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

// Figures far above a township's own earlier months (远大于以前各月): a chair who types the
// year's running total where the form asks for the month's own figure — 80/81 for a ratio
// whose earlier months were 9/9 — writes a figure that passes every check of its kind. The
// preview warns of it, naming the place in the file and the earlier months' figures, and
// still lets her confirm: a campaign month can be that large. The rule: a month's count,
// stock or ratio denominator more than jumpFactor times the largest figure of the
// township's earlier months of the year, and at least jumpMargin above it. The earlier
// months are the data as they will be after the upload (the batch's own earlier months
// included); a month with no earlier month has nothing to compare with.
const (
	jumpFactor = 3
	jumpMargin = 10
)

// jump is a figure far above its township's earlier months: its row's key and the sentence.
type jump struct {
	key  kpi.Key
	text string
}

// jumpWarnings lists the batch's figures far above the township's earlier months in d. named says whether sentences name the township, months
// whether they name the month; written that the batch is written without a confirm (the
// API), so that a sentence names the whole place (FILE:LINE) and asks for a correction
// rather than a confirm.
func jumpWarnings(a *kpi.Assessment, d *kpi.Dataset, b *collector.Batch, named, months, written bool) []jump {
	type tiKey struct{ t, i int }
	batch := map[tiKey]*[12]float64{}
	in := map[tiKey]uint16{}
	figure := func(ind *kpi.Indicator, o kpi.Observation) float64 {
		if ind.Kind == kpi.KindRatio {
			return o.Denominator
		}
		return o.Value
	}
	for _, row := range b.Rows() {
		k := tiKey{a.TownshipIndex(row.Township), a.IndicatorIndex(row.Indicator)}
		if k.t < 0 || k.i < 0 || row.Period.Year != a.Year {
			continue
		}
		if batch[k] == nil {
			batch[k] = new([12]float64)
		}
		batch[k][row.Period.Month-1] = figure(&a.Indicators[k.i], row.Observation)
		in[k] |= 1 << (row.Period.Month - 1)
	}
	var out []jump
	for _, row := range b.Rows() {
		k := tiKey{a.TownshipIndex(row.Township), a.IndicatorIndex(row.Indicator)}
		if k.t < 0 || k.i < 0 || row.Period.Year != a.Year {
			continue
		}
		ind := &a.Indicators[k.i]
		switch ind.Kind {
		case kpi.KindCount, kpi.KindStock, kpi.KindRatio:
		default:
			continue
		}
		var cell *kpi.Cell
		if d != nil {
			cell = d.Cell(k.t, k.i)
		}
		var earlier []int
		var figures []float64
		top := 0.0
		for m := 1; m < row.Period.Month; m++ {
			var v float64
			switch {
			case in[k]&(1<<(m-1)) != 0:
				v = batch[k][m-1]
			case cell != nil && cell.Has(m):
				v = cell.Value[m-1]
				if ind.Kind == kpi.KindRatio {
					v = cell.Denominator[m-1]
				}
			default:
				continue
			}
			earlier, figures = append(earlier, m), append(figures, v)
			top = max(top, v)
		}
		v := figure(ind, row.Observation)
		if len(earlier) == 0 || v <= jumpFactor*top || v-top < jumpMargin {
			continue
		}
		out = append(out, jump{row.Key(), jumpSentence(a, ind, row, v, earlier, figures, named, months, written)})
	}
	return out
}

// jumpSentence says which figure is far above the earlier months, where it is in the file,
// what the earlier months were, and what the form asks for.
func jumpSentence(a *kpi.Assessment, ind *kpi.Indicator, row collector.Row, v float64, earlier []int, figures []float64, named, months, written bool) string {
	unit := ind.Unit
	what, ask := "本月数", "请核对是否误填了全年累计数：这里只填本月新增数"
	switch ind.Kind {
	case kpi.KindRatio:
		unit = ""
		what, ask = "本月分母", "请核对是否误填了全年累计数：分子、分母只填本月的数"
	case kpi.KindStock:
		what, ask = "月末实有数", "请核对是否填错"
	}
	fig := func(x float64) string { return kpi.FormatFigure(x, unit) }
	var sb strings.Builder
	if months {
		sb.WriteString(row.Period.Label() + " ")
	}
	if named {
		tw, _ := a.Township(row.Township)
		sb.WriteString(tw.Name + " ")
	}
	place, then := placeInFile(row.Where()), "如确实如此，可以确认写入。"
	if written {
		place, then = row.Where(), "已写入；如有误，请更正后重新报送。"
	}
	fmt.Fprintf(&sb, "%s %s %s（%s），远大于以前各月（%s）。%s。%s",
		ind.Name, what, fig(v)+unit, place, monthFigures(earlier, figures, fig)+unit, ask, then)
	return sb.String()
}

// monthFigures writes earlier months' figures, for the unit to follow once: 1—9月依次为
// 9、9、…、9 when the months run without a gap, 1月 9、3月 8 otherwise.
func monthFigures(months []int, figures []float64, fig func(float64) string) string {
	parts := make([]string, len(months))
	gap := false
	for i, m := range months {
		parts[i] = fig(figures[i])
		if i > 0 && m != months[i-1]+1 {
			gap = true
		}
	}
	switch {
	case len(months) == 1:
		return fmt.Sprintf("%d月为 %s", months[0], parts[0])
	case !gap:
		return fmt.Sprintf("%d—%d月依次为 %s", months[0], months[len(months)-1], strings.Join(parts, "、"))
	}
	for i, m := range months {
		parts[i] = fmt.Sprintf("%d月 %s", m, parts[i])
	}
	return strings.Join(parts, "、")
}
