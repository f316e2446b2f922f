package kpi

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
