package kpi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The alerts (docs/semantics.md, "Alerts").
const (
	AlertBehindPace      = "behind_pace"      // a count/stock (higher) or milestone is behind
	AlertBelowThreshold  = "below_threshold"  // a ratio is at_risk or behind
	AlertCeilingBreached = "ceiling_breached" // a lower-direction count/stock exceeds its target
	AlertMissingReport   = "missing_report"   // a month's report is overdue
	AlertVeto            = "veto"             // a veto event was reported
	AlertForecastMiss    = "forecast_miss"    // a count/stock (higher) will not reach its target by December at this rate
)

// Severities of an alert.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// AlertNames lists every alert name.
func AlertNames() []string {
	return []string{AlertBehindPace, AlertBelowThreshold, AlertCeilingBreached, AlertMissingReport, AlertVeto, AlertForecastMiss}
}

// AlertLabel is the alert's Chinese name.
func AlertLabel(name string) string {
	switch name {
	case AlertBehindPace:
		return "未达序时进度"
	case AlertBelowThreshold:
		return "低于达标线"
	case AlertCeilingBreached:
		return "突破控制上限"
	case AlertMissingReport:
		return "逾期未报送"
	case AlertVeto:
		return "一票否决"
	case AlertForecastMiss:
		return "预计全年完不成"
	}
	return name
}

// SeverityLabel is the severity in Chinese.
func SeverityLabel(s string) string {
	if s == SeverityCritical {
		return "严重"
	}
	return "警告"
}

// Alert is a condition that holds as of a period. Its identity is (Alert, Township,
// Indicator); ActiveSince is the first month of the unbroken run of months up to the period
// in which it held (a change of severity does not start a new run).
type Alert struct {
	Alert         string `json:"alert"`
	Township      string `json:"township"`
	Indicator     string `json:"indicator"`
	Severity      string `json:"severity"`
	ActiveSince   Period `json:"active_since"`
	TownshipName  string `json:"township_name"`
	IndicatorName string `json:"indicator_name"`
	Summary       string `json:"summary"` // one Chinese sentence for people

	t, i int // positions in the config, for ordering
}

// AlertKey is an alert's identity.
type AlertKey struct {
	Alert, Township, Indicator string
}

// Key is the alert's identity.
func (al Alert) Key() AlertKey { return AlertKey{al.Alert, al.Township, al.Indicator} }

type alertEvaluator struct {
	a      *Assessment
	data   *Dataset // for a city's derived figures: how many townships each lacks
	p      Period
	now    time.Time
	chunks [][]Alert    // the alerts raised, in chunks that are never copied to grow
	n      int          // how many
	w      townshipWork // scratch for one township at a time
	buf    []byte       // scratch for summaries
}

// alertChunk is how many alerts a chunk holds.
const alertChunk = 1024

// push keeps an alert.
func (ev *alertEvaluator) push(al Alert) {
	if len(ev.chunks) == 0 || len(ev.chunks[len(ev.chunks)-1]) == alertChunk {
		ev.chunks = append(ev.chunks, make([]Alert, 0, alertChunk))
	}
	last := &ev.chunks[len(ev.chunks)-1]
	*last = append(*last, al)
	ev.n++
}

// collect returns the alerts of every evaluator in one slice of the exact size, in the
// evaluators' order.
func collect(evs ...*alertEvaluator) []Alert {
	n := 0
	for _, ev := range evs {
		n += ev.n
	}
	out := make([]Alert, 0, n)
	for _, ev := range evs {
		for _, c := range ev.chunks {
			out = append(out, c...)
		}
	}
	return out
}

// work is the evaluator's scratch space sized for n indicators.
func (ev *alertEvaluator) work(n int) *townshipWork {
	w := &ev.w
	if len(w.series) != n {
		w.series = make([]series, n)
		w.cells = make([]fcCell, n)
		w.prefixes = make([]growthPrefix, n)
		w.forecasts = make([]rawForecast, n)
	}
	return w
}

func newAlertEvaluator(a *Assessment, p Period, now time.Time) *alertEvaluator {
	return &alertEvaluator{a: a, p: p, now: now}
}

// overdue reports whether month k's report deadline has passed at now.
func (ev *alertEvaluator) overdue(k int) bool {
	dl := Period{Year: ev.a.Year, Month: k}.Deadline(ev.a.ReportDeadlineDay, ev.a.Location)
	return !ev.now.Before(dl)
}

// cell adds the alerts of one township × indicator; e is its unrounded evaluation at p, w
// the township's work (for the forecasts of earlier months).
func (ev *alertEvaluator) cell(t, i int, ind *Indicator, code string, c *Cell, s *series, e *Evaluation, w *townshipWork) {
	m := ev.p.Month
	statusAt := func(k int) Status { return evaluate(ind, code, s, k).Status }
	// since walks back from m while holds(k) and returns the first month of the run.
	since := func(holds func(k int) bool) Period {
		k := m
		for k > 1 && holds(k-1) {
			k--
		}
		return Period{Year: ev.p.Year, Month: k}
	}
	add := func(name, severity string, from Period, summary string) {
		ev.push(Alert{
			Alert: name, Township: code, Indicator: ind.Code, Severity: severity, ActiveSince: from,
			TownshipName: ev.a.Townships[t].Name, IndicatorName: ind.Name, Summary: summary, t: t, i: i,
		})
	}
	town := ev.a.Townships[t].Name
	share := ev.data != nil && ev.data.units.Share(t, i)
	switch ind.Kind {
	case KindCount, KindStock:
		if e.Status == StatusBehind && ind.Direction == Higher {
			behind := func(k int) bool { return statusAt(k) == StatusBehind }
			sev := SeverityWarning
			if m > 1 && behind(m-1) {
				sev = SeverityCritical
			}
			from := since(behind)
			msg := fmt.Sprintf("%s“%s”累计%s%s，低于序时进度%s%s（完成序时进度的%s）", town, ind.Name,
				FormatFigure(e.Actual.V, ind.Unit), ind.Unit, FormatFigure(e.Expected.V, ind.Unit), ind.Unit, FormatPercent(e.Pace))
			if CountingUnit(ind.Unit) {
				// whole people: the pace rounded up to the least whole number that reaches it, and
				// how many are still missing, so that the figures agree with each other (2 of 2.25
				// is 3 − 2 = 1 short; a percentage of 2.25 would not match the 3 written)
				need := Required(e.Expected.V, ind.Unit)
				msg = fmt.Sprintf("%s“%s”累计%s%s，低于序时进度%s%s（还差%s%s）", town, ind.Name,
					FormatFigure(e.Actual.V, ind.Unit), ind.Unit, FormatFigure(need, ind.Unit), ind.Unit,
					FormatFigure(max(need-e.Actual.V, 0), ind.Unit), ind.Unit)
			}
			if share {
				// a level of 0 … 1, not an accumulation
				msg = fmt.Sprintf("%s“%s”为%s，低于序时进度%s（完成序时进度的%s）", town, ind.Name,
					FormatPercent(e.Actual), FormatPercent(e.Expected), FormatPercent(e.Pace))
			}
			if n := m - from.Month + 1; n >= 2 {
				msg += fmt.Sprintf("，已连续%d个月滞后", n)
			}
			add(AlertBehindPace, sev, from, msg)
		}
		// as of m the status and forecast are at hand; earlier months are worked out
		if ind.Direction == Higher && e.Forecast != nil && m >= ev.a.ForecastFrom && m <= 11 &&
			e.Status != StatusMet && w.forecasts[i].high() < *ind.TargetFor(code) {
			ev.buf = forecastMissSummary(ev.buf[:0], town, ind, *ind.TargetFor(code), e.Forecast, share)
			add(AlertForecastMiss, SeverityWarning, since(func(k int) bool { return ev.forecastMisses(w, i, k, ind, code, s) }), string(ev.buf))
		}
		if e.Status == StatusBehind && ind.Direction == Lower {
			from := since(func(k int) bool { return statusAt(k) == StatusBehind })
			add(AlertCeilingBreached, SeverityCritical, from, fmt.Sprintf("%s“%s”累计%s%s，超过控制上限%s%s", town, ind.Name,
				FormatFigure(e.Actual.V, ind.Unit), ind.Unit, FormatFigure(e.Target.V, ind.Unit), ind.Unit))
		}
	case KindRatio:
		if e.Status == StatusAtRisk || e.Status == StatusBehind {
			sev := SeverityWarning
			if e.Status == StatusBehind {
				sev = SeverityCritical
			}
			from := since(func(k int) bool { st := statusAt(k); return st == StatusAtRisk || st == StatusBehind })
			add(AlertBelowThreshold, sev, from, fmt.Sprintf("%s“%s”为%s（%s/%s），低于达标线%s", town, ind.Name,
				FormatPercent(e.Actual), FormatNumber(e.rawNum), FormatNumber(e.rawDen), FormatPercent(e.Target)))
		}
	case KindMilestone:
		if e.Status == StatusBehind {
			behind := func(k int) bool { return statusAt(k) == StatusBehind }
			sev := SeverityWarning
			if m > 1 && behind(m-1) {
				sev = SeverityCritical
			}
			add(AlertBehindPace, sev, since(behind), fmt.Sprintf("%s“%s”应于%s，至今未完成", town, ind.Name, MilestoneDue(ind.Due)))
		}
	case KindVeto:
		if e.Actual.V > 0 {
			from := since(func(k int) bool { return s.actual[k] > 0 })
			add(AlertVeto, SeverityCritical, from, fmt.Sprintf("%s%s报告“%s”，本年度考核一票否决", town, from.Label(), ind.Name))
		}
	}
	if ind.Kind.ReportedMonthly() && ev.data != nil && ev.data.units.Derived(t, i) {
		// a county's figure aggregated from its townships' reports: missing while some of
		// them have not reported, after the deadline; the sentence says how many
		d := ev.data
		short := func(k int) bool { return d.Unreported(t, i, k) > 0 && ev.overdue(k) }
		if short(m) {
			from := since(short)
			msg := fmt.Sprintf("%s有%d个%s未报送%s“%s”（截止%d月%d日），汇总数不完整", town, d.Unreported(t, i, m), d.units.Of(t).UnitsShort(),
				ev.p.Label(), ind.Name, ev.p.Next().Month, ev.a.ReportDeadlineDay)
			if n := m - from.Month + 1; n >= 2 {
				msg += fmt.Sprintf("，已连续%d个月", n)
			}
			add(AlertMissingReport, SeverityWarning, from, msg)
		}
	} else if ind.Kind.ReportedMonthly() {
		missing := func(k int) bool { return !c.Has(k) && ev.overdue(k) }
		if missing(m) {
			from := since(missing)
			msg := fmt.Sprintf("%s未按时报送%s“%s”（截止%d月%d日）", town, ev.p.Label(), ind.Name, ev.p.Next().Month, ev.a.ReportDeadlineDay)
			if n := m - from.Month + 1; n >= 2 {
				msg += fmt.Sprintf("，已连续%d个月未报", n)
			}
			add(AlertMissingReport, SeverityWarning, from, msg)
		}
	}
}

// forecastMissSummary appends forecast_miss's sentence to b: built in one reused buffer, as
// a large assessment raises tens of thousands of these. share writes the figures of a
// city's share of townships done as percentages.
func forecastMissSummary(b []byte, town string, ind *Indicator, target float64, f *Forecast, share bool) []byte {
	u := ind.Unit
	// how each figure is written: the forecast as an estimate (whole people), what each month
	// must bring as a requirement (rounded up), the target as configured; a share as a
	// percentage
	type style int
	const (
		estimate style = iota
		required
		figure
	)
	fig := func(b []byte, v float64, unit string, st style) []byte {
		if share {
			return append(b, FormatPercent(Some(v))...)
		}
		switch st {
		case estimate:
			b = appendEstimate(b, v, u)
		case required:
			b = appendRequired(b, v, u)
		default:
			b = appendFigure(b, v, u)
		}
		return append(b, unit...)
	}
	b = append(b, town...)
	b = append(b, "“"...)
	b = append(b, ind.Name...)
	b = append(b, "”按目前进度预计全年"...)
	est, low, high := f.raw.estimate(), f.Low, f.High
	if !share {
		est, low, high = WholeRange(est, low, high, u) // a high end under the target stays under it
	}
	b = fig(b, est, u, estimate)
	b = append(fig(append(b, "（"...), low, "", estimate), "–"...)
	b = append(fig(b, high, "", estimate), "），低于目标"...)
	b = fig(b, target, u, figure)
	if f.NeededPerMonth.Valid {
		b = fig(append(b, "；余下每月需完成"...), f.NeededPerMonth.V, u, required)
	}
	return b
}

// forecastMisses reports whether forecast_miss holds for cell i of the township in w as of
// month k: k within forecast_from … 11, the indicator not yet met, and the forecast's upper
// bound under the target.
func (ev *alertEvaluator) forecastMisses(w *townshipWork, i, k int, ind *Indicator, code string, s *series) bool {
	if k < ev.a.ForecastFrom || k > 11 || k > ev.p.Month {
		return false
	}
	target := ind.TargetFor(code)
	if target == nil {
		return false
	}
	// the forecast first: it is at hand, and only a miss needs the month's status
	if rf := w.forecastAt(i, k, ev.p.Month); !rf.ok || rf.high() >= *target {
		return false
	}
	return evaluate(ind, code, s, k).Status != StatusMet
}

// sortAlerts returns the alerts ordered critical first, then by township and indicator in
// config order (then by name).
func sortAlerts(as []Alert) []Alert {
	// an order of indices is sorted rather than the alerts themselves: an Alert is a large
	// value, and a large assessment has tens of thousands of them
	order := make([]int32, len(as))
	for x := range order {
		order[x] = int32(x)
	}
	slices.SortStableFunc(order, func(x, y int32) int {
		a, b := &as[x], &as[y]
		if a.Severity != b.Severity {
			if a.Severity == SeverityCritical {
				return -1
			}
			if b.Severity == SeverityCritical {
				return 1
			}
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return strings.Compare(a.Alert, b.Alert)
	})
	// then moved into place cycle by cycle, without a second slice: position x receives
	// the alert at order[x]
	for x := range order {
		if order[x] < 0 {
			continue
		}
		tmp := as[x]
		at := x
		for {
			from := int(order[at])
			order[at] = -1
			if from == x {
				as[at] = tmp
				break
			}
			as[at] = as[from]
			at = from
		}
	}
	return as
}
