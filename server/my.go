package server

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// 我的填报 (/my): the township's own page, for its federation chair on a phone. It answers
// what she needs each month: what is due and by when, what she has reported and what not,
// what is overdue from earlier months; where the township stands (rank, score, grade and
// the change from last month); the indicators behind pace with what each month must still
// bring (每月还需); its alerts; the monthly form to download, already made out for the
// township and month; and the upload.
//
// A township's session sees its own township only: /my?township= naming another is
// refused. An admin picks any township.

// myView is the content of /my.
type myView struct {
	Township kpi.Township
	Picker   []kpi.Township // an admin's choice of townships, when none is chosen

	Period    string // the month to report now, 2024年3月
	PeriodKey string // 2024-03, for the form's address
	Deadline  string // 4月5日
	DueNote   string // 还有 3 天 / 今天截止 / 已逾期 2 天
	Overdue   bool   // the deadline passed
	Items     []myItem
	Reported  int
	Missing   int
	Earlier   []string // earlier months with items still unreported
	Pending   []myItem // milestones not done yet

	Standing   *myStanding
	Behind     []myBehind
	Unreported bool // the ranking is of the month to report, which the township has not fully reported
	Alerts     []myAlert
}

// myItem is one monthly item and whether it was reported.
type myItem struct {
	Name   string
	Figure string // the reported figure, with its unit
	Note   string // what a ratio's figures are: the month's own, not the year's running total
	State  string // done, due, overdue
	Label  string // 已报, 未报, 逾期未报
}

// myStanding is the township's place in the ranking.
type myStanding struct {
	Period      string // the month the ranking is of
	Rank, Of    int
	Tied        bool
	Score       string
	Grade       string
	RankChange  string // ↑2, ↓1, 持平, —
	ScoreChange string // +3.5, −1.2, "" in January
}

// myBehind is an indicator behind pace (or below its line) and what it still needs.
type myBehind struct {
	code     string
	Name     string
	Light    string // red or amber
	Now      string // where it stands
	Line     string // the line it misses
	Needed   string // 每月还需 …, for counts and stocks with an annual target
	Forecast string // 按目前进度预计全年 …, where the evaluation has a forecast
	Alert    string // its alert: 严重预警，自2025年7月
}

// myAlert is one of the township's alerts.
type myAlert struct {
	Severity string // 严重, 警告
	Critical bool
	Summary  string
	Since    string
}

func (s *Server) routeMy() {
	s.route("GET", "/my", s.myPage)
}

func (s *Server) myPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	a := s.mon.Assessment()
	p := s.formPage(c)
	p.Title, p.Back = "我的填报", nil
	code := r.URL.Query().Get("township")
	if !c.token.Admin {
		if code != "" && code != c.token.Township {
			p.Error = "只能查看本乡镇（街道）的填报情况。"
			s.render(w, http.StatusForbidden, "message", p)
			return
		}
		code = c.token.Township
	}
	if code == "" {
		p.My = &myView{Picker: a.Townships}
		s.render(w, http.StatusOK, "my", p)
		return
	}
	t, ok := a.Township(code)
	if !ok {
		p.Error = "没有这个乡镇（街道）。"
		s.render(w, http.StatusNotFound, "message", p)
		return
	}
	v, err := s.myView(t)
	if err != nil {
		s.failPage(w, r, "message", p, err)
		return
	}
	p.Title = t.Name + " · 我的填报"
	p.My = v
	s.render(w, http.StatusOK, "my", p)
}

// myView works out the township's page.
func (s *Server) myView(t kpi.Township) (*myView, error) {
	a := s.mon.Assessment()
	now := s.mon.Now()
	d := s.mon.Dataset()
	p := s.reportPeriod()
	dl := p.Deadline(a.ReportDeadlineDay, a.Location)
	last := dl.AddDate(0, 0, -1)
	v := &myView{Township: t, Period: p.Label(), PeriodKey: p.String(), Deadline: fmt.Sprintf("%d月%d日", int(last.Month()), last.Day())}
	v.Overdue, v.DueNote = dueNote(now, dl)

	ti := a.TownshipIndex(t.Code)
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		if !ind.Kind.ReportedMonthly() {
			continue
		}
		it := myItem{Name: ind.Name, State: "due", Label: "未报"}
		o, reported := d.Get(kpi.Key{Township: t.Code, Indicator: ind.Code, Period: p})
		if ind.Kind == kpi.KindRatio {
			it.Note = ratioNote(d.Cell(ti, i), p.Month, reported)
		}
		if reported {
			it.State, it.Label, it.Figure = "done", "已报", myFigure(ind, o)
			v.Reported++
		} else {
			v.Missing++
			if v.Overdue {
				it.State, it.Label = "overdue", "逾期未报"
			}
		}
		v.Items = append(v.Items, it)
	}
	for m := 1; m < p.Month; m++ {
		n := 0
		for i := range a.Indicators {
			if c := d.Cell(ti, i); a.Indicators[i].Kind.ReportedMonthly() && !c.Has(m) {
				n++
			}
		}
		if n > 0 {
			v.Earlier = append(v.Earlier, fmt.Sprintf("%d月：%d 项未报（已逾期，请补报）", m, n))
		}
	}

	// where the township stands: the ranking of the month the assessment is at (the latest
	// month with reports that has ended)
	q := s.mon.DefaultPeriod()
	res, err := s.mon.Evaluate(q)
	if err != nil {
		return nil, err
	}
	for _, rk := range res.Rankings {
		if rk.Township != t.Code {
			continue
		}
		st := &myStanding{Period: q.Label(), Rank: rk.Rank, Of: len(a.Townships), Tied: rk.Tied,
			Score: kpi.FormatNumber(rk.Total), Grade: rk.GradeLabel(), RankChange: kpi.FormatRankChange(rk.RankChange)}
		if q.Month > 1 {
			prev, err := s.mon.Evaluate(q.Prev())
			if err != nil {
				return nil, err
			}
			if delta := kpi.Round(rk.Total-prev.Townships[ti].Total, 2); delta > 0 {
				st.ScoreChange = "+" + kpi.FormatNumber(delta)
			} else if delta < 0 {
				st.ScoreChange = "−" + kpi.FormatNumber(-delta)
			} else {
				st.ScoreChange = "持平"
			}
		}
		v.Standing = st
	}
	evs := res.TownshipEvaluations(ti)
	for i := range a.Indicators {
		ind, e := &a.Indicators[i], &evs[i]
		if ind.Kind == kpi.KindMilestone && e.Actual.V != 1 && e.Status != kpi.StatusBehind {
			// one still to do in time; one past its month is among the indicators behind
			v.Pending = append(v.Pending, myItem{Name: ind.Name, State: "due", Label: fmt.Sprintf("%d月底前完成", ind.Due)})
		}
		if light := e.Status.Light(); light == "red" || light == "amber" {
			v.Behind = append(v.Behind, behindOf(ind, e, q, light))
		}
	}
	// red first; each card carries its alert's severity and since when, so the alerts
	// section lists only what the cards do not show (missing reports, a veto)
	slices.SortStableFunc(v.Behind, func(x, y myBehind) int { return cmpLight(x.Light) - cmpLight(y.Light) })
	for _, al := range res.Alerts {
		if al.Township != t.Code {
			continue
		}
		switch al.Alert {
		case kpi.AlertBehindPace, kpi.AlertBelowThreshold, kpi.AlertCeilingBreached:
			for i := range v.Behind {
				if v.Behind[i].code == al.Indicator {
					v.Behind[i].Alert = fmt.Sprintf("%s预警，自%s", kpi.SeverityLabel(al.Severity), al.ActiveSince.Label())
				}
			}
			continue
		}
		v.Alerts = append(v.Alerts, myAlert{Severity: kpi.SeverityLabel(al.Severity), Critical: al.Severity == kpi.SeverityCritical,
			Summary: al.Summary, Since: al.ActiveSince.Label()})
	}
	v.Unreported = q == p && v.Missing > 0
	return v, nil
}

// cmpLight orders lights red first.
func cmpLight(l string) int {
	if l == "red" {
		return 0
	}
	return 1
}

// dueNote says how the deadline (the moment a report becomes overdue) stands at now.
func dueNote(now, deadline time.Time) (overdue bool, note string) {
	if !now.Before(deadline) {
		days := int(now.Sub(deadline)/(24*time.Hour)) + 1
		return true, fmt.Sprintf("已逾期 %d 天", days)
	}
	left := deadline.Sub(now)
	if left <= 24*time.Hour {
		return false, "今天截止"
	}
	return false, fmt.Sprintf("还有 %d 天", int(math.Ceil(float64(left)/float64(24*time.Hour))))
}

// behindOf says where an indicator behind pace stands, the line it misses and, for counts
// and stocks with an annual target, what each remaining month must bring.
func behindOf(ind *kpi.Indicator, e *kpi.Evaluation, q kpi.Period, light string) myBehind {
	unit := ind.Unit
	// every figure of the unit with the unit's decimals (kpi.UnitDecimals): 152.50万元 beside
	// 175.00万元, never 152.5万元 beside 175.00万元
	num := func(v float64) string { return kpi.FormatFigure(v, unit) + unit }
	// a figure to reach, rounded up to whole people in a counting unit; an estimate, rounded
	required := func(v float64) string { return kpi.FormatRequired(v, unit) + unit }
	estimate := func(v float64) string { return kpi.FormatEstimate(v, unit) + unit }
	b := myBehind{code: ind.Code, Name: ind.Name, Light: light}
	switch ind.Kind {
	case kpi.KindRatio:
		// the year's running total, so that 75/81 is not read as 75 of 81 villages
		b.Now = "全年累计 " + pct(e.Actual.V)
		if rt := ratioText(e); rt != "" {
			b.Now = fmt.Sprintf("全年累计 %s（%s）", rt, pct(e.Actual.V))
		}
		b.Line = "达标线 " + pct(e.Target.V)
	case kpi.KindCount, kpi.KindStock:
		b.Now = "累计 " + num(e.Actual.V)
		if ind.Direction == kpi.Lower {
			b.Line = fmt.Sprintf("全年不超过 %s（到%d月控制在 %s）", num(e.Target.V), q.Month, num(e.Expected.V))
			break
		}
		b.Line = fmt.Sprintf("到%d月应完成 %s，全年 %s", q.Month, required(e.Expected.V), num(e.Target.V))
		switch left := 12 - q.Month; {
		case e.Target.V <= e.Actual.V:
		case left > 0 && e.Forecast != nil && e.Forecast.NeededPerMonth.Valid:
			b.Needed = fmt.Sprintf("每月还需 %s（余下 %d 个月）", required(e.Forecast.NeededPerMonth.V), left)
			b.Forecast = fmt.Sprintf("按目前进度预计全年 %s（%s～%s）", estimate(e.Forecast.YearEnd), estimate(e.Forecast.Low), estimate(e.Forecast.High))
		case left > 0:
			b.Needed = fmt.Sprintf("每月还需 %s（余下 %d 个月）", required(math.Ceil((e.Target.V-e.Actual.V)/float64(left)*100)/100), left)
		default:
			b.Needed = "全年还差 " + num(e.Target.V-e.Actual.V)
		}
	case kpi.KindMilestone:
		b.Now = "未完成"
		b.Line = "应" + kpi.MilestoneDue(ind.Due)
	}
	return b
}

// figureText is a reported figure as people read it: a count with its unit (12人), a ratio
// with its rate (11/12，91.7%), a milestone or veto as 是/否.
func figureText(ind *kpi.Indicator, o kpi.Observation) string {
	switch ind.Kind {
	case kpi.KindRatio:
		if o.Denominator > 0 {
			return o.Figure(ind.Kind) + "（" + pct(o.Numerator/o.Denominator) + "）"
		}
		return o.Figure(ind.Kind)
	case kpi.KindMilestone, kpi.KindVeto:
		if o.Value > 0 {
			return "是"
		}
		return "否"
	}
	return o.Figure(ind.Kind) + ind.Unit
}

// myFigure is a reported figure on 我的填报: as figureText, but a count, stock or bonus with
// its unit's decimals (kpi.FormatFigure: 12.50万元, as the cards below write 累计 152.50万元),
// unless that would hide a decimal the township typed (12.345万元 stays as typed).
func myFigure(ind *kpi.Indicator, o kpi.Observation) string {
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock, kpi.KindBonus:
		if d, _ := kpi.UnitDecimals(ind.Unit); kpi.Round(o.Value, d) == o.Value {
			return kpi.FormatFigure(o.Value, ind.Unit) + ind.Unit
		}
	}
	return figureText(ind, o)
}

// ratioNote says what a ratio's monthly figures are, beside the month's item: the month's
// own numerator and denominator (what the form asks for), not the year's running total that
// the card of an indicator behind shows. Before the month is reported it gives the latest
// earlier month's figures as the example to follow (9月为 9/9) and the running total not to
// type (75/81); once reported, the running total with it.
func ratioNote(c *kpi.Cell, month int, reported bool) string {
	var num, den float64
	last := 0
	for m := 1; m <= month; m++ {
		if !c.Has(m) {
			continue
		}
		num, den = num+c.Value[m-1], den+c.Denominator[m-1]
		if m < month {
			last = m
		}
	}
	total := kpi.FormatNumber(num) + "/" + kpi.FormatNumber(den)
	if reported {
		if den > 0 {
			total += "（" + pct(num/den) + "）"
		}
		return "本月数；全年累计 " + total
	}
	if last == 0 {
		return "分子、分母只填本月的数，不是全年累计"
	}
	return fmt.Sprintf("分子、分母只填本月的数（%d月为 %s/%s），不是全年累计（%s）", last,
		kpi.FormatNumber(c.Value[last-1]), kpi.FormatNumber(c.Denominator[last-1]), total)
}
