package charts

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Page kinds, also the names of their templates.
const (
	kindOverview  = "overview"
	kindTownship  = "township"
	kindIndicator = "indicator"
	kindRankings  = "rankings"
	kindAlerts    = "alerts"
)

// view is what the layout template shows around a page's own content.
type view struct {
	Kind       string
	Title      string // the page's heading, e.g. 总览
	Assessment string
	W          words // how the assessment's level names its whole and its units
	Period     kpi.Period
	L          links
	Months     []monthOption // the month picker
	AsOf       string        // 数据截至 …
	Overdue    *overdueNote  // a later month past its deadline that nobody has reported; live pages only
	Up         []upLink      // the assessments this one is a unit of (HandlerOptions.Parents); live pages only
	Townships  []navItem     // the nav's lists; empty when there are too many to list
	UnitIndex  template.JS   // a large assessment's units for the search box, the heat map and paged tables (unitIndex); empty otherwise
	Indicators []navItem
	Charts     []chart // every chart on the page, in order
	Data       any     // the page's own content
}

// overdueNote points at a month whose report deadline has passed with no report at all:
// the pages show the latest month with reports, the alerts and group messages that month.
type overdueNote struct {
	Label, Deadline, Href string
}

// words are the names the assessment's level gives its whole and its units (kpi.Level):
// 全县 and 乡镇（街道） for a county, 全市 and 县（市、区） for a city. Sentences use Units, table
// headers, chart titles and narrow labels UnitsShort (乡镇, 县区, 市州).
type words struct {
	Whole, Units, UnitsShort string
}

func wordsOf(a *kpi.Assessment) words {
	return words{Whole: a.Whole(), Units: a.Units(), UnitsShort: a.UnitsShort()}
}

type monthOption struct {
	Value    string // YYYY-MM
	Label    string // 2025年6月
	Selected bool
}

// upLink is a link from a county's pages up to the city's assessment that ranks it, and to
// the county's page within it.
type upLink struct {
	Name, Whole string
	Href        string // the parent's overview
	Unit        string // the county's page in the parent
}

type navItem struct {
	Name, Href string
}

// maxNav is how many indicators the nav lists before it stops listing them (units: manyUnits).
const maxNav = 80

// Renderer executes the page templates. Build one with NewRenderer and share it: it is
// safe for concurrent use and never changes.
type Renderer struct {
	pages  map[string]*template.Template
	errors *template.Template
}

// NewRenderer parses the embedded templates.
func NewRenderer() (*Renderer, error) {
	// the icon goes inline (data:, which the pages' CSP allows): no request for it, from the
	// server or from an exported folder
	png, err := fs.ReadFile(assetFS, "assets/"+FaviconAsset)
	if err != nil {
		return nil, fmt.Errorf("page icon: %w", err)
	}
	icon := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	base, err := template.New("layout.html").Funcs(template.FuncMap{"favicon": func() template.URL { return icon }}).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("page templates: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	if r.errors, err = template.New("error.html").ParseFS(templateFS, "templates/error.html"); err != nil {
		return nil, fmt.Errorf("page templates: %w", err)
	}
	for _, k := range []string{kindOverview, kindTownship, kindIndicator, kindRankings, kindAlerts} {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("page templates: %w", err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+k+".html"); err != nil {
			return nil, fmt.Errorf("page templates: %w", err)
		}
		r.pages[k] = t
	}
	return r, nil
}

// render executes the page's template into a new buffer.
func (r *Renderer) render(v *view) ([]byte, error) {
	t, ok := r.pages[v.Kind]
	if !ok {
		return nil, fmt.Errorf("no template for page %q", v.Kind)
	}
	var b bytes.Buffer
	b.Grow(64 << 10)
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return nil, fmt.Errorf("render %s page: %w", v.Kind, err)
	}
	return b.Bytes(), nil
}

// Assets is the embedded file system of the pages' assets (echarts.min.js, kpimon.js,
// kpimon.css), rooted at the assets folder.
func Assets() fs.FS {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// newView fills the parts of a view every page shares. The nav lists the units, or, for a
// large assessment, carries a search box over the page's unit index.
func newView(s *Snapshot, l links, kind, title string) (*view, error) {
	a := s.Assessment
	v := &view{Kind: kind, Title: title, Assessment: a.Name, W: wordsOf(a), Period: s.Period, L: l}
	last := s.Period.Month
	if s.Latest.Year == s.Period.Year && s.Latest.Month > last {
		last = s.Latest.Month
	}
	for m := 1; m <= last; m++ {
		p := kpi.Period{Year: a.Year, Month: m}
		v.Months = append(v.Months, monthOption{Value: p.String(), Label: p.Label(), Selected: p == s.Period})
	}
	v.AsOf = asOf(a, s.Period, "", s.LastReport)
	if large(a) {
		var err error
		if v.UnitIndex, err = unitIndexJSON(s, l); err != nil {
			return nil, err
		}
	} else {
		for _, t := range a.Townships {
			v.Townships = append(v.Townships, navItem{Name: t.Name, Href: l.Township(t.Code)})
		}
	}
	if len(a.Indicators) <= maxNav {
		for _, ind := range a.Indicators {
			v.Indicators = append(v.Indicators, navItem{Name: ind.Name, Href: l.Indicator(ind.Code)})
		}
	}
	return v, nil
}

// asOf is the line under a page's heading: the month shown and when its latest report came
// in (本月数据最后报送于 …), or that none came in. who names whose reports they are (a
// township's page: 飞来峡镇本月数据最后报送于 …), empty for the assessment's.
func asOf(a *kpi.Assessment, p kpi.Period, who string, last time.Time) string {
	if last.IsZero() {
		if who != "" {
			return "数据截至" + p.Label() + " · " + who + "本月尚未报送"
		}
		return "数据截至" + p.Label() + " · 本月尚无报送"
	}
	return "数据截至" + p.Label() + " · " + who + "本月数据最后报送于 " + clock(last, a.Location) + "（" + kpi.ZoneLabel(a.Location, last) + "）"
}

// tile is one figure in a page's summary strip.
type tile struct {
	Label string
	Value string
	Note  string
	Class string // ok, warn, bad or empty
	Href  string
	Alert string // a warning that qualifies the value, shown in amber under it (汇总不完整…)
}
