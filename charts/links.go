package charts

import (
	"net/url"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

// links writes the addresses a page links to. Served pages use absolute paths with
// ?period=; exported pages use relative file names (townships/dongcheng.html) so they open
// from file:// and from any web server. Codes are ASCII by config validation and are
// path-escaped all the same.
type links struct {
	base   string // served pages: the path the assessment's pages are under ("/qingcheng-2026"), or ""
	static bool
	up     string // "" for pages at the top, "../" for pages one folder down
	period kpi.Period
}

func liveLinks(p kpi.Period) links { return links{period: p} }

// under is l with served addresses under base (a deployment's /{id}).
func (l links) under(base string) links {
	l.base = base
	return l
}

func staticLinks(p kpi.Period, depth int) links {
	l := links{static: true, period: p}
	for range depth {
		l.up += "../"
	}
	return l
}

// Static reports whether the links are for exported files.
func (l links) Static() bool { return l.static }

func (l links) q() string { return "?period=" + l.period.String() }

// Overview is the address of 总览.
func (l links) Overview() string {
	if l.static {
		return l.up + "index.html"
	}
	return l.base + "/" + l.q()
}

// Rankings is the address of 排名.
func (l links) Rankings() string {
	if l.static {
		return l.up + "rankings.html"
	}
	return l.base + "/rankings" + l.q()
}

// RankingsCSV is the address of the ranking as CSV.
func (l links) RankingsCSV() string {
	if l.static {
		return l.up + "rankings.csv"
	}
	return l.base + "/rankings.csv" + l.q()
}

// Bulletin is the address of the monthly bulletin (月度通报) in the format ext ("xlsx" or
// "html"), served by the bulletin handler; exported pages have none.
func (l links) Bulletin(ext string) string {
	if l.static {
		return ""
	}
	return l.base + "/rankings/bulletin." + ext + l.q()
}

// Alerts is the address of 预警.
func (l links) Alerts() string {
	if l.static {
		return l.up + "alerts.html"
	}
	return l.base + "/alerts" + l.q()
}

// Township is the address of a township's page.
func (l links) Township(code string) string {
	if l.static {
		return l.up + "townships/" + pathCode(code) + ".html"
	}
	return l.base + "/townships/" + pathCode(code) + l.q()
}

// Indicator is the address of an indicator's page.
func (l links) Indicator(code string) string {
	if l.static {
		return l.up + "indicators/" + url.PathEscape(code) + ".html"
	}
	return l.base + "/indicators/" + url.PathEscape(code) + l.q()
}

// Assessment is the address of another assessment's pages in the same deployment (a
// city's county: /qingcheng-2026/?period=…, beside this assessment's /{id}/), the same
// month; exported pages have none.
func (l links) Assessment(id string) string {
	if l.static {
		return ""
	}
	root := ""
	if i := strings.LastIndexByte(l.base, '/'); i > 0 {
		root = l.base[:i]
	}
	return root + "/" + url.PathEscape(id) + "/" + l.q()
}

// pathCode escapes a unit's or an indicator's code for a path.
func pathCode(code string) string { return url.PathEscape(code) }

// Asset is the address of an embedded asset.
func (l links) Asset(name string) string {
	if l.static {
		return l.up + "assets/" + name
	}
	return "/assets/" + name
}
