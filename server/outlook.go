package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

// What an upload will do to the lights (亮灯): before a chair confirms, the preview evaluates
// the data as they would be with the upload applied — the monitor's current data cloned,
// the batch set into the copy, the touched townships evaluated again (kpi.Reevaluate) as of
// each month the upload is for — and warns of every uploaded figure that will show red or
// amber, with the line it misses: “信访案件办结率 11/12 = 91.7%，低于达标线 98%，将显示为红色”.
// It also lists the month's items the upload leaves unreported.

// outlook is what the preview says about the lights and the blanks.
type outlook struct {
	lights   map[kpi.Key]string // red or amber, by the uploaded figure's key
	warnings []string
	blanks   []string
}

// maxBlanksListed bounds the unreported items a preview lists.
const maxBlanksListed = 60

// outlookOf evaluates the batch's effect. named says whether sentences name the township
// (an admin's upload may hold several).
func (s *Server) outlookOf(b *collector.Batch, named bool) (outlook, error) {
	a := s.mon.Assessment()
	out := outlook{lights: map[kpi.Key]string{}}
	obs := b.Observations()
	var periods []kpi.Period
	touched := map[int]bool{}
	for _, o := range obs {
		if !slices.Contains(periods, o.Period) {
			periods = append(periods, o.Period)
		}
		touched[a.TownshipIndex(o.Township)] = true
	}
	slices.SortFunc(periods, func(x, y kpi.Period) int { return x.Month - y.Month })
	changed := make([]int, 0, len(touched))
	for t := range touched {
		changed = append(changed, t)
	}
	slices.Sort(changed)
	var current *kpi.Dataset
	for _, p := range periods {
		view, err := s.mon.EvaluateView(p)
		if err != nil {
			return out, err
		}
		current = view.Data
		next := s.mon.CloneData(view.Data)
		for _, o := range obs {
			if err := next.Set(o); err != nil {
				return out, fmt.Errorf("apply the previewed batch: %w", err)
			}
		}
		after, err := kpi.Reevaluate(view.Result, next, changed)
		if err != nil {
			return out, err
		}
		for _, o := range obs {
			if o.Period != p {
				continue
			}
			t, i := a.TownshipIndex(o.Township), a.IndicatorIndex(o.Indicator)
			e := &after.TownshipEvaluations(t)[i]
			light := e.Status.Light()
			if light != "red" && light != "amber" {
				continue
			}
			out.lights[o.Key()] = light
			msg := lightSentence(&a.Indicators[i], e, p)
			if named {
				msg = a.Townships[t].Name + " " + msg
			}
			if len(periods) > 1 {
				msg = p.Label() + " " + msg
			}
			out.warnings = append(out.warnings, msg)
		}
	}
	out.blanks = blanks(a, current, b, named, len(periods) > 1)
	return out, nil
}

// blanks lists the monthly items of each township and month the batch reports that it
// leaves blank and that were not reported before: they stay 未报送 after the upload. A
// filled form names its blank rows (Batch.Blanks, with the cell to fill); for a file that
// is not a form, the monthly items of its townships and months that it does not contain
// stand for them.
func blanks(a *kpi.Assessment, d *kpi.Dataset, b *collector.Batch, named, months bool) []string {
	if bl := b.Blanks(); len(bl) > 0 {
		var out []string
		for _, x := range bl {
			key := kpi.Key{Township: x.Township, Indicator: x.Indicator, Period: x.Period}
			if d != nil {
				if _, ok := d.Get(key); ok {
					continue
				}
			}
			if len(out) == maxBlanksListed {
				out = append(out, fmt.Sprintf("另有 %d 项未列出", len(bl)-maxBlanksListed))
				break
			}
			tw, _ := a.Township(x.Township)
			item := x.Indicator
			if ind, ok := a.Indicator(x.Indicator); ok {
				item = ind.Name
			}
			if months {
				item = x.Period.Label() + " " + item
			}
			if named {
				item = tw.Name + " " + item
			}
			if _, cell, ok := strings.Cut(x.Cell, "!"); ok {
				item += "（" + cell + "）"
			}
			out = append(out, item)
		}
		return out
	}
	type tp struct {
		t int
		p kpi.Period
	}
	var order []tp
	has := map[kpi.Key]bool{}
	for _, o := range b.Observations() {
		k := tp{a.TownshipIndex(o.Township), o.Period}
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		has[o.Key()] = true
	}
	var out []string
	more := 0
	for _, k := range order {
		tw := a.Townships[k.t]
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			key := kpi.Key{Township: tw.Code, Indicator: ind.Code, Period: k.p}
			if !ind.Kind.ReportedMonthly() || has[key] {
				continue
			}
			if d != nil {
				if _, ok := d.Get(key); ok {
					continue
				}
			}
			if len(out) == maxBlanksListed {
				more++
				continue
			}
			item := ind.Name
			if months {
				item = k.p.Label() + " " + item
			}
			if named {
				item = tw.Name + " " + item
			}
			out = append(out, item)
		}
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("另有 %d 项未列出", more))
	}
	return out
}

// lightSentence says why an evaluation shows red or amber, with the line it misses.
func lightSentence(ind *kpi.Indicator, e *kpi.Evaluation, p kpi.Period) string {
	color := "红色"
	if e.Status.Light() == "amber" {
		color = "黄色"
	}
	unit := ind.Unit
	num := func(v float64) string { return kpi.FormatNumber(kpi.Round(v, 2)) + unit }
	switch ind.Kind {
	case kpi.KindRatio:
		s := fmt.Sprintf("%s 全年累计 %s = %s，低于达标线 %s，将显示为%s", ind.Name, ratioText(e), pct(e.Actual.V), pct(e.Target.V), color)
		if e.Status == kpi.StatusAtRisk {
			s += fmt.Sprintf("（差距在 %s 个百分点以内）", kpi.FormatNumber(kpi.Round(ind.Margin*100, 2)))
		}
		return s
	case kpi.KindCount, kpi.KindStock:
		if ind.Direction == kpi.Lower {
			if e.Status == kpi.StatusBehind {
				return fmt.Sprintf("%s 累计 %s，超过全年上限 %s，将显示为%s", ind.Name, num(e.Actual.V), num(e.Target.V), color)
			}
			return fmt.Sprintf("%s 累计 %s，超过到%d月的控制线 %s，将显示为%s", ind.Name, num(e.Actual.V), p.Month, num(e.Expected.V), color)
		}
		return fmt.Sprintf("%s 累计 %s，低于到%d月应完成的 %s（年度目标 %s），将显示为%s", ind.Name, num(e.Actual.V), p.Month, kpi.FormatRequired(e.Expected.V, unit)+unit, num(e.Target.V), color)
	case kpi.KindMilestone:
		return fmt.Sprintf("%s 应于 %d 月底前完成，仍未完成，将显示为%s", ind.Name, ind.Due, color)
	}
	return fmt.Sprintf("%s 将显示为%s", ind.Name, color)
}

// ratioText is a ratio's cumulative numerator/denominator, 11/12.
func ratioText(e *kpi.Evaluation) string {
	if e.Numerator == nil || e.Denominator == nil {
		return ""
	}
	return kpi.FormatNumber(e.Numerator.V) + "/" + kpi.FormatNumber(e.Denominator.V)
}

// pct writes a fraction as a percentage with at most one decimal: 98%, 91.7%.
func pct(v float64) string {
	s := strconv.FormatFloat(kpi.Round(v*100, 1), 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}
