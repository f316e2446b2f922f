package charts

import (
	"fmt"

	"github.com/kpimon/kpimon/kpi"
)

// A city's pages (a province's too) assess units that have assessments of their own: a
// city's counties (kpi.Units). Besides the level's words, they differ from a county's pages
// in three ways:
//
//   - every unit links to its own assessment's pages (进入清城区考核 →, /qingcheng-2026/ at the
//     deployment's root, the same month), on the overview under the heat map, in the
//     ranking, in the alerts and on the unit's page within the city;
//   - a figure that is a share of a county's townships done (kpi.Units.ShareOf) reads as a
//     percentage (measure);
//   - a county's figure aggregated while some of its townships had not reported the month
//     (kpi.Evaluation.Unreported) says so: 汇总不完整：2 个乡镇未报, in tables and tooltips.

// unitLink is a unit's link to its own assessment's pages.
type unitLink struct {
	Name  string // the unit: 清城区
	Text  string // 进入清城区考核 →
	Href  string
	Below string // what the unit's own assessment assesses: 乡镇
}

// unitLinkOf is unit t's link to its own assessment's pages, or nil when it names none in
// the deployment (or the pages are exported files, which have no other assessment to open).
func unitLinkOf(s *Snapshot, l links, t int) *unitLink {
	u := s.Units()
	if u == nil || t < 0 || t >= len(s.Assessment.Townships) || u.Of(t) == nil {
		return nil
	}
	href := l.Assessment(u.Of(t).ID)
	if href == "" {
		return nil
	}
	name := s.Assessment.Townships[t].Name
	return &unitLink{Name: name, Text: "进入" + name + "考核 →", Href: href, Below: u.Of(t).UnitsShort()}
}

// unitLinks are the links of every unit that has an assessment of its own, in config order.
func unitLinks(s *Snapshot, l links) []unitLink {
	var out []unitLink
	for t := range s.Assessment.Townships {
		if ul := unitLinkOf(s, l, t); ul != nil {
			out = append(out, *ul)
		}
	}
	return out
}

// incompleteNote says that unit t's figure e is aggregated from its own assessment while
// some of that assessment's units had not reported the month: 汇总不完整：2 个乡镇未报. Empty
// for a complete or reported figure.
func incompleteNote(s *Snapshot, t int, e *kpi.Evaluation) string {
	if e.Unreported <= 0 {
		return ""
	}
	noun := "乡镇"
	if u := s.Units(); u != nil && u.Of(t) != nil {
		noun = u.Of(t).UnitsShort()
	}
	return fmt.Sprintf("汇总不完整：%d 个%s未报", e.Unreported, noun)
}
