package kpi

import "fmt"

// RankingsReport is the JSON shape of a period's ranking (the CLI's and the API's).
type RankingsReport struct {
	Period     Period    `json:"period"`
	Categories []string  `json:"categories"`
	Rankings   []Ranking `json:"rankings"`
}

// AlertsReport is the JSON shape of a period's alerts.
type AlertsReport struct {
	Period Period  `json:"period"`
	Alerts []Alert `json:"alerts"`
}

// RankingsReport returns the ranking in its JSON shape.
func (r *Result) RankingsReport(a *Assessment) RankingsReport {
	return RankingsReport{Period: r.Period, Categories: a.Categories(), Rankings: r.Rankings}
}

// AlertsReport returns the alerts in their JSON shape; no alerts is an empty list, not null.
func (r *Result) AlertsReport() AlertsReport {
	al := r.Alerts
	if al == nil {
		al = []Alert{}
	}
	return AlertsReport{Period: r.Period, Alerts: al}
}

// FormatRankChange writes a rank change for people: ↑2 (up two places), ↓1, 持平 (no
// change), or — when there is no previous month (January).
func FormatRankChange(c *int) string {
	switch {
	case c == nil:
		return "—"
	case *c > 0:
		return fmt.Sprintf("↑%d", *c)
	case *c < 0:
		return fmt.Sprintf("↓%d", -*c)
	}
	return "持平"
}

// GradeLabel is the grade as bulletins show it, marking a veto: 不称职（一票否决）.
func (s TownshipScore) GradeLabel() string {
	if s.Veto {
		return s.Grade + "（一票否决）"
	}
	return s.Grade
}
