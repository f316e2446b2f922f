// Package bulletin builds the monthly bulletin (月度通报) of an assessment from one
// evaluation: the ranking with the score of every category, bonus, total and grade; every
// township × indicator with its actual, expected and target figures and a red-amber-green
// light; the active alerts; and the missing reports. It writes the bulletin as a formatted
// Excel workbook (WriteXLSX) and as a printable HTML page (WriteHTML, A4 landscape), both
// from the same Bulletin so they always agree.
package bulletin

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Bulletin is the content of one month's bulletin.
type Bulletin struct {
	Assessment *kpi.Assessment
	Result     *kpi.Result
	Generated  time.Time    // when it was made, in the assessment's time zone
	Missing    []Missing    // townships with reports missing for the period, in config order
	Incomplete []Incomplete // a city's counties whose figures are summed while some of their townships did not report, in config order
}

// Incomplete is a city's county (a province's city) whose figures, aggregated from its own
// assessment, lack the reports of some of its townships for the period (汇总不完整).
type Incomplete struct {
	Township   kpi.Township
	Units      int      // how many of its own units did not report (the most over its figures)
	Noun       string   // what they are: 乡镇
	Indicators []string // names of the figures summed without them
}

// Text says it: 1 个乡镇未报送，16 项汇总不完整.
func (x Incomplete) Text() string {
	return fmt.Sprintf("%d 个%s未报送，%d 项汇总不完整", x.Units, x.Noun, len(x.Indicators))
}

// Missing is a township whose report for the period lacks some indicators.
type Missing struct {
	Township   kpi.Township
	Indicators []string  // names of the count, stock and ratio indicators not reported
	Deadline   time.Time // the last day to report, in the assessment's time zone
	Overdue    bool      // the deadline has passed at Generated
}

// New builds the bulletin of an evaluation; now is when it is made.
func New(a *kpi.Assessment, r *kpi.Result, now time.Time) *Bulletin {
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	b := &Bulletin{Assessment: a, Result: r, Generated: now.In(loc)}
	due := r.Period.Deadline(a.ReportDeadlineDay, loc)
	n := len(a.Indicators)
	for t, tw := range a.Townships {
		m := Missing{Township: tw, Deadline: due.AddDate(0, 0, -1), Overdue: !now.Before(due)}
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			if !ind.Kind.ReportedMonthly() {
				continue // milestones, bonuses and vetoes are reported when they happen
			}
			if e := r.Evaluation(t, i, n); e != nil && !e.Reported {
				m.Indicators = append(m.Indicators, ind.Name)
			}
		}
		if len(m.Indicators) > 0 {
			b.Missing = append(b.Missing, m)
		}
		if u := r.Data().Units(); u != nil && u.Of(t) != nil {
			x := Incomplete{Township: tw, Noun: u.Of(t).UnitsShort()}
			for i := range a.Indicators {
				if e := r.Evaluation(t, i, n); e != nil && e.Unreported > 0 {
					x.Units = max(x.Units, e.Unreported)
					x.Indicators = append(x.Indicators, a.Indicators[i].Name)
				}
			}
			if len(x.Indicators) > 0 {
				b.Incomplete = append(b.Incomplete, x)
			}
		}
	}
	return b
}

// share reports whether every unit's figure of indicator i is its share of townships that
// have done a milestone (a city's, 0 … 1), which the bulletin writes as a percentage.
func (b *Bulletin) share(i int) bool { return b.Result.Data().Units().ShareOf(i) }

// Title is the bulletin's title, e.g. "XX县妇联2025年度目标管理考核 2025年6月 月度通报".
func (b *Bulletin) Title() string {
	return fmt.Sprintf("%s %s月度通报", b.Assessment.Name, b.Result.Period.Label())
}

// GradeCount is how many townships got a grade.
type GradeCount struct {
	Grade string
	N     int
}

// Summary is the bulletin's overview (总体情况) in figures.
type Summary struct {
	Level       kpi.Level // the assessment's level, which names its whole and its units (全县, 乡镇（街道）)
	Townships   int
	Grades      []GradeCount // in the assessment's grade order
	Top, Bottom []string     // names of the first and last three (fewer for small counties)
	Red, Amber  int          // township × indicator lights
	Alerts      int
	Critical    int
	Missing     int // townships with reports missing
	Incomplete  int // a city's counties whose figures lack some of their townships' reports
}

// Summary computes the overview.
func (b *Bulletin) Summary() Summary {
	a, r := b.Assessment, b.Result
	s := Summary{Level: a.Level, Townships: len(a.Townships), Alerts: len(r.Alerts), Missing: len(b.Missing), Incomplete: len(b.Incomplete)}
	count := map[string]int{}
	for _, x := range r.Rankings {
		count[x.Grade]++
	}
	for _, g := range a.Grades {
		s.Grades = append(s.Grades, GradeCount{g.Name, count[g.Name]})
	}
	k := min(3, len(r.Rankings)/2)
	for i := 0; i < k; i++ {
		s.Top = append(s.Top, r.Rankings[i].Name)
		s.Bottom = append(s.Bottom, r.Rankings[len(r.Rankings)-k+i].Name)
	}
	for _, e := range r.Evaluations() {
		switch e.Status.Light() {
		case "red":
			s.Red++
		case "amber":
			s.Amber++
		}
	}
	for _, al := range r.Alerts {
		if al.Severity == kpi.SeverityCritical {
			s.Critical++
		}
	}
	return s
}

// Text is the overview as the sentences a bulletin opens with, in the words of the
// assessment's level: 截至2025年6月，全县 8 个乡镇（街道）参加考核 (全市 … 县（市、区） for a city).
func (s Summary) Text(p kpi.Period) string {
	whole, units := s.Level.Whole(), s.Level.Units()
	var g []string
	for _, x := range s.Grades {
		g = append(g, fmt.Sprintf("%s %d 个", x.Grade, x.N))
	}
	t := fmt.Sprintf("截至%s，%s %d 个%s参加考核：%s。", p.Label(), whole, s.Townships, units, strings.Join(g, "、"))
	switch len(s.Top) {
	case 0:
	case 1:
		t += fmt.Sprintf("综合得分第一名：%s；最后一名：%s。", s.Top[0], s.Bottom[0])
	default:
		n := map[int]string{2: "两", 3: "三"}[len(s.Top)]
		t += fmt.Sprintf("综合得分前%s名：%s；后%s名：%s。", n, strings.Join(s.Top, "、"), n, strings.Join(s.Bottom, "、"))
	}
	t += fmt.Sprintf("亮红灯指标 %d 项、黄灯 %d 项；预警 %d 条，其中严重 %d 条", s.Red, s.Amber, s.Alerts, s.Critical)
	if s.Missing > 0 {
		t += fmt.Sprintf("；%d 个%s本月报表不全", s.Missing, units)
	}
	if s.Incomplete > 0 {
		t += fmt.Sprintf("；%d 个%s有下级未报送，汇总数不完整", s.Incomplete, units)
	}
	return t + "。"
}

// Row is one township × indicator line of the bulletin, with its figures written for people.
type Row struct {
	Township, Category, Indicator, Unit string
	Kind                                kpi.Kind
	Reported                            string // 已报 / 未报 / —
	Actual, Expected, Target            string
	Completion, Pace                    string
	Status                              string // in Chinese
	Light                               string // green, amber, red, grey
	Score, Weight                       string
	Share                               bool // a city's share of townships done (0 … 1): figures are percentages
	e                                   *kpi.Evaluation
	roundUp                             bool // 序时目标 is written as the least whole number that reaches it (kpi.Required)
}

// Rows lists every township × indicator, township by township in ranking order.
func (b *Bulletin) Rows() []Row {
	a, r := b.Assessment, b.Result
	n := len(a.Indicators)
	shares := make([]bool, n)
	for i := range shares {
		shares[i] = b.share(i)
	}
	var out []Row
	for _, x := range r.Rankings {
		t := a.TownshipIndex(x.Township)
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			e := r.Evaluation(t, i, n)
			if e == nil {
				continue
			}
			row := Row{Township: x.Name, Category: ind.Category, Indicator: ind.Name, Unit: ind.Unit, Kind: ind.Kind, e: e,
				Actual: figure(ind, e.Actual), Expected: figure(ind, e.Expected), Target: figure(ind, e.Target),
				roundUp:    (ind.Kind == kpi.KindCount || ind.Kind == kpi.KindStock) && ind.Direction != kpi.Lower && kpi.CountingUnit(ind.Unit),
				Completion: kpi.FormatPercent(e.Completion), Pace: kpi.FormatPercent(e.Pace),
				Status: e.Status.Label(), Light: e.Status.Light(), Score: "—", Weight: "—", Reported: "—", Share: shares[i]}
			if row.roundUp && e.Expected.Valid {
				// 583.33 人 by now reads 584: a whole actual of 583 is short of it
				row.Expected = kpi.FormatRequired(e.Expected.V, ind.Unit)
			}
			if row.Share {
				row.roundUp = false
				row.Unit = "%"
				row.Actual, row.Expected, row.Target = kpi.FormatPercent(e.Actual), kpi.FormatPercent(e.Expected), kpi.FormatPercent(e.Target)
			}
			if ind.Kind.ReportedMonthly() {
				row.Reported = "未报"
				if e.Reported {
					row.Reported = "已报"
				}
				if e.Unreported > 0 { // a city's county: summed without some of its townships
					row.Reported = fmt.Sprintf("%d 个%s未报", e.Unreported, r.Data().Units().Of(t).UnitsShort())
				}
			}
			if ind.Kind.Scored() {
				row.Weight = kpi.FormatNumber(e.Weight)
				if e.Score.Valid {
					row.Score = kpi.FormatNumber(e.Score.V)
				}
			}
			switch ind.Kind {
			case kpi.KindMilestone:
				row.Target = kpi.MilestoneDue(ind.Due)
			case kpi.KindBonus:
				row.Status, row.Light = "加分", "grey"
			case kpi.KindVeto:
				row.Status, row.Light = "未发生", "grey"
				if e.Actual.Valid && e.Actual.V > 0 {
					row.Status, row.Light = "一票否决", "red"
				}
			}
			out = append(out, row)
		}
	}
	return out
}

// figure writes an actual, expected or target figure of the indicator's kind, numbers by
// kpi's one formatter in the indicator's unit (12,345.50 for 万元).
func figure(ind *kpi.Indicator, n kpi.Num) string {
	if !n.Valid {
		return kpi.Dash
	}
	switch ind.Kind {
	case kpi.KindRatio:
		return kpi.FormatPercent(n)
	case kpi.KindMilestone:
		return kpi.MilestoneDone(n)
	case kpi.KindVeto:
		if n.V > 0 {
			return "发生"
		}
		return "未发生"
	}
	return kpi.FormatFigure(n.V, ind.Unit)
}

// Alerts returns the active alerts, critical first, then by township and indicator order.
func (b *Bulletin) Alerts() []kpi.Alert {
	a := b.Assessment
	al := append([]kpi.Alert(nil), b.Result.Alerts...)
	sev := func(s string) int {
		if s == kpi.SeverityCritical {
			return 0
		}
		return 1
	}
	sort.SliceStable(al, func(i, j int) bool {
		if sev(al[i].Severity) != sev(al[j].Severity) {
			return sev(al[i].Severity) < sev(al[j].Severity)
		}
		if ti, tj := a.TownshipIndex(al[i].Township), a.TownshipIndex(al[j].Township); ti != tj {
			return ti < tj
		}
		return a.IndicatorIndex(al[i].Indicator) < a.IndicatorIndex(al[j].Indicator)
	})
	return al
}

// FileName is the bulletin's file name with the extension given, e.g. 月度通报-2025-06.xlsx.
func (b *Bulletin) FileName(ext string) string {
	return "月度通报-" + b.Result.Period.String() + ext
}
