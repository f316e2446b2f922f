package bulletin

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

//go:embed templates/bulletin.html
var templateFS embed.FS

// page is parsed once per Bulletin render; html/template escapes every value for its
// context, so names from the config or reports cannot inject markup.
func page() (*template.Template, error) {
	return template.ParseFS(templateFS, "templates/bulletin.html")
}

// Links are the links the HTML bulletin shows; empty ones are left out.
type Links struct {
	XLSX    string // the Excel version
	Ranking string // the ranking page
}

type htmlRank struct {
	Rank                       int
	Tied                       bool
	Change, Name               string
	Categories                 []string
	Bonus, Total, Grade, Light string
}

type htmlAlert struct {
	Severity, Light, Alert, Township, Indicator, Since, Summary string
}

type htmlMissing struct {
	Township, Indicators, Deadline, State, Light string
}

type htmlIncomplete struct {
	Township, Text, Indicators string
}

type htmlTownship struct {
	Name string
	Rows []Row
}

type htmlData struct {
	Title                 string
	Units                 string // the level's noun for the units: 乡镇（街道）, 县（市、区）, 市（州）
	Period                kpi.Period
	Generated             string // when, in the assessment's time zone with its label
	XLSXLink, RankingLink string
	SummaryText           string
	Categories            []string
	Rankings              []htmlRank
	Red                   []Row
	Alerts                []htmlAlert
	Missing               []htmlMissing
	Incomplete            []htmlIncomplete
	Townships             []htmlTownship
}

// WriteHTML writes the bulletin as a printable HTML page (A4 landscape print styles, no
// scripts, no external resources).
func (b *Bulletin) WriteHTML(w io.Writer, links Links) error {
	t, err := page()
	if err != nil {
		return fmt.Errorf("bulletin template: %w", err)
	}
	a, r := b.Assessment, b.Result
	d := htmlData{Title: b.Title(), Units: a.Units(), Period: r.Period, Generated: a.Clock(b.Generated), XLSXLink: links.XLSX, RankingLink: links.Ranking,
		SummaryText: b.Summary().Text(r.Period), Categories: a.Categories()}
	last := a.Grades[len(a.Grades)-1].Name
	for _, x := range r.Rankings {
		hr := htmlRank{Rank: x.Rank, Tied: x.Tied, Change: kpi.FormatRankChange(x.RankChange), Name: x.Name,
			Bonus: kpi.FormatNumber(x.Bonus), Total: fmt.Sprintf("%.2f", x.Total), Grade: x.GradeLabel(), Light: "grey"}
		for _, c := range d.Categories {
			hr.Categories = append(hr.Categories, fmt.Sprintf("%.2f", x.Categories[c]))
		}
		switch {
		case x.Veto || x.Grade == last:
			hr.Light = "red"
		case x.Grade == a.Grades[0].Name:
			hr.Light = "green"
		}
		d.Rankings = append(d.Rankings, hr)
	}
	rows := b.Rows()
	for _, row := range rows {
		if row.Light == "red" {
			d.Red = append(d.Red, row)
		}
		if n := len(d.Townships); n == 0 || d.Townships[n-1].Name != row.Township {
			d.Townships = append(d.Townships, htmlTownship{Name: row.Township})
		}
		d.Townships[len(d.Townships)-1].Rows = append(d.Townships[len(d.Townships)-1].Rows, row)
	}
	for _, x := range b.Alerts() {
		light := "amber"
		if x.Severity == kpi.SeverityCritical {
			light = "red"
		}
		d.Alerts = append(d.Alerts, htmlAlert{Severity: kpi.SeverityLabel(x.Severity), Light: light, Alert: kpi.AlertLabel(x.Alert),
			Township: x.TownshipName, Indicator: x.IndicatorName, Since: x.ActiveSince.String(), Summary: x.Summary})
	}
	for _, m := range b.Missing {
		state, light := "未到截止日", "amber"
		if m.Overdue {
			state, light = "已逾期", "red"
		}
		d.Missing = append(d.Missing, htmlMissing{Township: m.Township.Name, Indicators: strings.Join(m.Indicators, "、"),
			Deadline: m.Deadline.Format("2006-01-02"), State: state, Light: light})
	}
	for _, x := range b.Incomplete {
		d.Incomplete = append(d.Incomplete, htmlIncomplete{Township: x.Township.Name, Text: x.Text(), Indicators: strings.Join(x.Indicators, "、")})
	}
	if err := t.Execute(w, d); err != nil {
		return fmt.Errorf("write bulletin page: %w", err)
	}
	return nil
}
