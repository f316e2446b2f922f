// Package web is the HTTP front of a deployment that serves several assessments (each
// year's of a county, several counties', a city's) from one address. It routes every
// request to the assessment it is for:
//
//   - /{id}/… is the assessment with that id: its pages, its upload and login pages, its
//     API; the prefix is stripped and the assessment's own server answers, writing links
//     under the same prefix;
//   - /api/v1/… takes ?assessment=ID; without it, a batch goes to the only assessment of
//     its rows' year (or, when several share it, the one its token belongs to), and
//     anything else to the default assessment;
//   - GET /api/v1/assessments lists the assessments: id, name, level, year, units and the
//     months that have data;
//   - / goes to the default assessment (this year's; else the latest; a city over its
//     counties when they share the year), or is a chooser when several share that year;
//   - the addresses of a single-assessment kpimon (/townships/x, /rankings, /upload …) go
//     to the default assessment's, so bookmarks and old links keep working;
//   - /healthz (liveness), /readyz (the database answers and every assessment is loaded),
//     /assets/…, and whatever else the caller mounts (/metrics).
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server"
	"github.com/kpimon/kpimon/server/builds"
	"github.com/kpimon/kpimon/store"
)

//go:embed templates/chooser.html
var templates embed.FS

// Options tune a Router.
type Options struct {
	Logger *slog.Logger
	// BaseURL is the address the deployment is served at (for login links); empty: the
	// address each request came to.
	BaseURL string
	// ViewerToken, when set, is needed (or any valid API token) to read pages and the API.
	ViewerToken string
}

// Router serves a deployment. It is an http.Handler.
type Router struct {
	dep     *monitor.Deployment
	st      store.Store
	log     *slog.Logger
	mux     *http.ServeMux
	servers map[string]*server.Server // by assessment id
	order   []string                  // ids in config order
	chooser *template.Template
}

// New builds a server and the pages of every assessment of the deployment, sharing one
// gate for expensive builds.
func New(dep *monitor.Deployment, opt Options) (*Router, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := &Router{dep: dep, log: log, mux: http.NewServeMux(), servers: map[string]*server.Server{}}
	gate := builds.New(builds.DefaultConcurrency, builds.DefaultWait)
	chains := yearChains(dep)
	for _, m := range dep.Monitors() {
		id := m.Assessment().ID
		rt.st = m.Store()
		base := "/" + id
		chain := chains[id]
		srv := server.NewWithOptions(m, server.Options{Logger: log, Builds: gate, Base: base, BaseURL: opt.BaseURL,
			TokenScope: func(tok string) bool { return chain[tok] }})
		srv.SetViewerToken(opt.ViewerToken)
		pages, err := charts.NewHandlerWithOptions(m, charts.HandlerOptions{Logger: log, Base: base})
		if err != nil {
			return nil, err
		}
		pages.SetBuildGate(gate)
		srv.Handle("/", pages)
		rt.servers[id] = srv
		rt.order = append(rt.order, id)
	}
	t, err := template.ParseFS(templates, "templates/chooser.html")
	if err != nil {
		return nil, err
	}
	rt.chooser = t
	first := rt.servers[rt.order[0]]
	rt.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { text(w, http.StatusOK, "ok") })
	rt.mux.HandleFunc("GET /readyz", rt.readyz)
	rt.mux.Handle("GET /api/v1/assessments", first.GateReads(http.HandlerFunc(rt.assessments)))
	rt.mux.Handle("/api/", http.HandlerFunc(rt.api))
	rt.mux.Handle("/assets/", first)
	rt.mux.Handle("GET /{$}", first.GateReads(http.HandlerFunc(rt.root)))
	rt.mux.HandleFunc("/", rt.route)
	return rt, nil
}

// Handle mounts another handler (/metrics) on the router.
func (rt *Router) Handle(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

// Server is the server of the assessment with the id.
func (rt *Router) Server(id string) (*server.Server, bool) {
	s, ok := rt.servers[id]
	return s, ok
}

// ServeHTTP routes a request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// yearChains gives each assessment the set of assessments of the same county in other
// years (linked by the deployment's last-year relation, both ways): a township's token
// carries over from one year to the next, so that a chair keeps her login in January and
// can still correct December.
func yearChains(dep *monitor.Deployment) map[string]map[string]bool {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		return x
	}
	for _, m := range dep.Monitors() {
		id := m.Assessment().ID
		if prev, ok := dep.LastYear(id); ok {
			parent[find(id)] = find(prev.Assessment().ID)
		}
	}
	groups := map[string]map[string]bool{}
	for _, m := range dep.Monitors() {
		id := m.Assessment().ID
		g := groups[find(id)]
		if g == nil {
			g = map[string]bool{}
			groups[find(id)] = g
		}
		g[id] = true
	}
	out := map[string]map[string]bool{}
	for _, m := range dep.Monitors() {
		id := m.Assessment().ID
		out[id] = groups[find(id)]
	}
	return out
}

// route serves /{id}/… by the assessment's server, and the addresses of a single-assessment
// kpimon by the default assessment's (a redirect under its prefix).
func (rt *Router) route(w http.ResponseWriter, r *http.Request) {
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if srv, ok := rt.servers[first]; ok {
		if rest == "" && !strings.HasSuffix(r.URL.Path, "/") {
			to := r.URL.Path + "/"
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		}
		http.StripPrefix("/"+first, srv).ServeHTTP(w, r)
		return
	}
	def, _, ok := rt.dep.Default()
	if !ok {
		rt.servers[rt.order[0]].GateReads(http.HandlerFunc(rt.root)).ServeHTTP(w, r)
		return
	}
	to := "/" + def.Assessment().ID + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	code := http.StatusFound
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusTemporaryRedirect // a form's POST stays a POST
	}
	w.Header().Set("Location", to)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<a href=\"%s\">请点此继续</a>\n", template.HTMLEscapeString(to))
	}
}

// root is /: the default assessment's overview, or the chooser.
func (rt *Router) root(w http.ResponseWriter, r *http.Request) {
	if def, _, ok := rt.dep.Default(); ok && r.URL.Path == "/" {
		to := "/" + def.Assessment().ID + "/"
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	rt.choose(w, r)
}

// api serves /api/v1/… by the assessment ?assessment= names, the one a write's token
// belongs to, or the default.
func (rt *Router) api(w http.ResponseWriter, r *http.Request) {
	if id := r.URL.Query().Get("assessment"); id != "" {
		srv, ok := rt.servers[id]
		if !ok {
			apiError(w, http.StatusNotFound, fmt.Sprintf("没有编号为 %q 的考核：可选 %s", id, strings.Join(rt.order, "、")))
			return
		}
		srv.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/observations" {
		rt.postObservations(w, r)
		return
	}
	if def, _, ok := rt.dep.Default(); ok {
		rt.servers[def.Assessment().ID].ServeHTTP(w, r)
		return
	}
	if len(rt.order) == 1 {
		rt.servers[rt.order[0]].ServeHTTP(w, r)
		return
	}
	apiError(w, http.StatusBadRequest, fmt.Sprintf("本系统有多项考核，请用 ?assessment= 指明：%s", strings.Join(rt.order, "、")))
}

// postObservations sends a batch that names no assessment to the one it is for: the only
// assessment whose year its rows' months are of, or, when several share that year, the one
// its token belongs to; otherwise it asks for ?assessment=.
func (rt *Router) postObservations(w http.ResponseWriter, r *http.Request) {
	if len(rt.order) == 1 {
		rt.servers[rt.order[0]].ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, server.MaxUploadBytes))
	if err != nil {
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("请求体超过 %d MB 或读取失败，未写入任何数据", server.MaxUploadBytes>>20))
		return
	}
	tokenID, hasToken := rt.tokenAssessment(r)
	probeOf := rt.order[0]
	if hasToken {
		probeOf = tokenID
	}
	m, _ := rt.dep.Monitor(probeOf)
	probe := collector.NewBatch(m.Assessment())
	probe.AddBytes("api", body)
	years := probe.Years()
	var covering []string
	if len(years) == 1 {
		for _, id := range rt.order {
			if mm, _ := rt.dep.Monitor(id); mm.Assessment().Year == years[0] {
				covering = append(covering, id)
			}
		}
	}
	target := ""
	switch {
	case len(covering) == 1:
		target = covering[0]
	case hasToken && (len(covering) == 0 || slices.Contains(covering, tokenID)):
		target = tokenID // the token's own assessment says what is wrong with the batch, if anything
	case len(years) > 1:
		apiError(w, http.StatusBadRequest, "本批数据跨多个年度：请按年度分开提交，或用 ?assessment= 指明考核")
		return
	default:
		apiError(w, http.StatusBadRequest, fmt.Sprintf("本系统有多项考核，请用 ?assessment= 指明：%s", strings.Join(rt.order, "、")))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rt.servers[target].ServeHTTP(w, r)
}

// tokenAssessment is the assessment the request's bearer token belongs to, when it is one
// of the deployment's.
func (rt *Router) tokenAssessment(r *http.Request) (string, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok, err := rt.st.LookupToken(r.Context(), strings.TrimSpace(secret))
	if err != nil {
		return "", false
	}
	_, ok = rt.servers[tok.Assessment]
	return tok.Assessment, ok
}

// assessmentInfo is one line of GET /api/v1/assessments.
type assessmentInfo struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Level    kpi.Level   `json:"level"`
	Year     int         `json:"year"`
	Units    []unitInfo  `json:"units"`
	Months   []string    `json:"months"` // YYYY-MM of every month that has reports
	LastYear string      `json:"last_year,omitempty"`
	Default  bool        `json:"default"`
	Links    linkSetInfo `json:"links"`
}

type unitInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type linkSetInfo struct {
	Pages string `json:"pages"`
	API   string `json:"api"`
}

func (rt *Router) list() []assessmentInfo {
	def, _, hasDef := rt.dep.Default()
	var out []assessmentInfo
	for _, id := range rt.order {
		m, _ := rt.dep.Monitor(id)
		a := m.Assessment()
		info := assessmentInfo{ID: id, Name: a.Name, Level: a.Level, Year: a.Year, Months: []string{},
			Default: hasDef && def == m, Links: linkSetInfo{Pages: "/" + id + "/", API: "/api/v1/evaluations?assessment=" + url.QueryEscape(id)}}
		for _, t := range a.Townships {
			info.Units = append(info.Units, unitInfo{Code: t.Code, Name: t.Name})
		}
		for _, p := range reportedMonths(m.Dataset()) {
			info.Months = append(info.Months, p.String())
		}
		if p, ok := rt.dep.LastYear(id); ok {
			info.LastYear = p.Assessment().ID
		}
		out = append(out, info)
	}
	return out
}

// reportedMonths lists the months of the year that have any report.
func reportedMonths(d *kpi.Dataset) []kpi.Period {
	a := d.Assessment()
	var all uint16
	for t := range a.Townships {
		for i := range a.Indicators {
			all |= d.Cell(t, i).Reported
		}
	}
	var out []kpi.Period
	for m := 1; m <= 12; m++ {
		if all&(1<<(m-1)) != 0 {
			out = append(out, kpi.Period{Year: a.Year, Month: m})
		}
	}
	return out
}

func (rt *Router) assessments(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.Encode(map[string]any{"assessments": rt.list()})
}

// choose serves the chooser: every assessment, this year's first.
func (rt *Router) choose(w http.ResponseWriter, r *http.Request) {
	_, current, _ := rt.dep.Default()
	isCurrent := map[string]bool{}
	for _, m := range current {
		isCurrent[m.Assessment().ID] = true
	}
	type row struct {
		ID, Name, Level string
		Year, Units     int
		UnitsWord       string
		Current         bool
	}
	var rows []row
	for _, info := range rt.list() {
		m, _ := rt.dep.Monitor(info.ID)
		a := m.Assessment()
		rows = append(rows, row{ID: info.ID, Name: info.Name, Level: a.Level.Label(), Year: info.Year, Units: len(info.Units),
			UnitsWord: a.UnitsShort(), Current: isCurrent[info.ID]})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Current != rows[j].Current {
			return rows[i].Current
		}
		return rows[i].Year > rows[j].Year
	})
	status := http.StatusOK
	if r.URL.Path != "/" {
		status = http.StatusNotFound
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := rt.chooser.Execute(w, map[string]any{"Rows": rows, "NotFound": status == http.StatusNotFound}); err != nil {
		rt.log.Error("考核选择页渲染失败", "err", err)
	}
}

// readyz is ready when the database answers through every assessment's server.
func (rt *Router) readyz(w http.ResponseWriter, r *http.Request) {
	for _, id := range rt.order {
		if err := rt.servers[id].Ready(r.Context()); err != nil {
			w.Header().Set("Retry-After", "5")
			text(w, http.StatusServiceUnavailable, "未就绪："+err.Error())
			return
		}
	}
	text(w, http.StatusOK, "ok")
}

func text(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
