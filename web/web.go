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
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

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

	chains map[string]map[string]bool // yearChains: the assessments a token of each may act in

	mu      sync.Mutex
	methods map[string][]string // the methods of each path the router serves itself, for 405 answers
	mounted map[string]bool     // paths mounted with Handle: also served under /{id}/ with ?assessment=ID
}

// New builds a server and the pages of every assessment of the deployment, sharing one
// gate for expensive builds.
func New(dep *monitor.Deployment, opt Options) (*Router, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := &Router{dep: dep, log: log, mux: http.NewServeMux(), servers: map[string]*server.Server{},
		methods: map[string][]string{}, mounted: map[string]bool{}}
	gate := builds.New(builds.DefaultConcurrency, builds.DefaultWait)
	chains := yearChains(dep)
	rt.chains = chains
	for _, m := range dep.Monitors() {
		id := m.Assessment().ID
		rt.st = m.Store()
		base := "/" + id
		chain := chains[id]
		srv := server.NewWithOptions(m, server.Options{Logger: log, Builds: gate, Base: base, BaseURL: opt.BaseURL,
			TokenScope: func(tok string) bool { return chain[tok] }})
		srv.SetViewerToken(opt.ViewerToken)
		pages, err := charts.NewHandlerWithOptions(m, charts.HandlerOptions{Logger: log, Base: base, Parents: parentsOf(dep, id)})
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
	rt.handle("GET", "/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { text(w, http.StatusOK, "ok") }))
	rt.handle("GET", "/readyz", http.HandlerFunc(rt.readyz))
	rt.handle("GET", "/api/v1/assessments", first.GateReads(http.HandlerFunc(rt.assessments)))
	rt.mux.Handle("/api/", http.HandlerFunc(rt.api))
	rt.mux.Handle("/assets/", first)
	rt.handle("GET", "/favicon.ico", first)
	rt.handle("GET", "/{$}", first.GateReads(http.HandlerFunc(rt.root)))
	rt.mux.HandleFunc("/", rt.route)
	return rt, nil
}

// Handle mounts another handler on the router: "GET /metrics". The path is also served
// under every assessment's prefix as the path with ?assessment=ID (/qingcheng-2026/metrics
// is /metrics?assessment=qingcheng-2026, Prometheus' multi-target pattern), and a method
// the pattern does not name is answered 405 with an Allow header.
func (rt *Router) Handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	path = strings.TrimSpace(path)
	rt.mu.Lock()
	rt.mounted[path] = true
	rt.mu.Unlock()
	if method == "" {
		rt.mux.Handle(path, h)
		return
	}
	rt.handle(method, path, h)
}

// handle registers a handler for method and path, and, the first time the path is seen,
// the 405 answer for its other methods. (ServeMux would answer 405 itself only when no
// pattern matches the path, and "/" matches every path.)
func (rt *Router) handle(method, path string, h http.Handler) {
	rt.mux.Handle(method+" "+path, h)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ms, seen := rt.methods[path]
	if !slices.Contains(ms, method) {
		rt.methods[path] = append(ms, method)
	}
	if !seen {
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { rt.methodNotAllowed(w, r, path) })
	}
}

// methodNotAllowed answers a method a path of the router does not take: 405 with the
// path's methods (HEAD where GET is) in Allow, in Chinese, as JSON under /api/.
func (rt *Router) methodNotAllowed(w http.ResponseWriter, r *http.Request, path string) {
	rt.mu.Lock()
	ms := slices.Clone(rt.methods[path])
	rt.mu.Unlock()
	if slices.Contains(ms, http.MethodGet) && !slices.Contains(ms, http.MethodHead) {
		ms = append(ms, http.MethodHead)
	}
	slices.Sort(ms)
	allow := strings.Join(ms, ", ")
	w.Header().Set("Allow", allow)
	msg := "不支持 " + r.Method + " 请求：此地址只接受 " + allow
	if strings.HasPrefix(path, "/api/") {
		apiError(w, http.StatusMethodNotAllowed, msg)
		return
	}
	text(w, http.StatusMethodNotAllowed, msg)
}

// isMounted reports whether path was mounted with Handle.
func (rt *Router) isMounted(path string) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.mounted[path]
}

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
		if rt.isMounted("/" + rest) {
			rt.serveMounted(w, r, first, "/"+rest)
			return
		}
		http.StripPrefix("/"+first, srv).ServeHTTP(w, r)
		return
	}
	if !singleAssessmentPath(first) {
		rt.servers[rt.order[0]].GateReads(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt.unknownAssessment(w, r, first, strings.HasPrefix(rest, "api/"))
		})).ServeHTTP(w, r)
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

// singleAssessmentPath reports whether first is the first segment of an address of a
// single-assessment kpimon: the server's routes (server.NewWithOptions: the API, /healthz,
// /readyz, the upload, login and admin pages, /my, the bulletin under /rankings/), the
// pages' (charts.NewHandlerWithOptions: /townships/, /indicators/, /rankings,
// /rankings.csv, /alerts, /assets/) and the router's own (/metrics). Such an address goes
// to the default assessment's; any other first segment that is no assessment's id is
// answered 404 at once.
func singleAssessmentPath(first string) bool {
	switch first {
	case "townships", "indicators", "rankings", "rankings.csv", "alerts",
		"upload", "login", "logout", "my", "admin",
		"api", "assets", "metrics", "healthz", "readyz":
		return true
	}
	return false
}

// serveMounted serves /{id}/path, where path was mounted with Handle, as path?assessment=id.
func (rt *Router) serveMounted(w http.ResponseWriter, r *http.Request, id, path string) {
	u := *r.URL
	u.Path, u.RawPath = path, ""
	q := u.Query()
	q.Set("assessment", id)
	u.RawQuery = q.Encode()
	r2 := r.Clone(r.Context())
	r2.URL = &u
	rt.mux.ServeHTTP(w, r2)
}

// unknownAssessment answers an address whose first segment names no assessment of the
// deployment and no address of a single-assessment kpimon: 404, as JSON listing the
// assessments when the rest of the address is the API's, else the chooser saying 没有这个页面.
func (rt *Router) unknownAssessment(w http.ResponseWriter, r *http.Request, id string, api bool) {
	if !api {
		rt.choose(w, r)
		return
	}
	apiErrorList(w, http.StatusNotFound, unknownAssessmentMessage(id, rt.order), rt.order)
}

// unknownAssessmentMessage says that no assessment has the id, listing those there are.
func unknownAssessmentMessage(id string, ids []string) string {
	return fmt.Sprintf("没有编号为 %s 的考核：可选 %s", id, strings.Join(ids, "、"))
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
			rt.unknownAssessment(w, r, id, true)
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
// its token belongs to (or carries over to: another year of its county); otherwise it asks
// for ?assessment=, listing the assessments of the rows' year. The token is checked first:
// without a valid one the batch is refused 401 before its body is read.
func (rt *Router) postObservations(w http.ResponseWriter, r *http.Request) {
	if len(rt.order) == 1 {
		rt.servers[rt.order[0]].ServeHTTP(w, r)
		return
	}
	tokenID, ok, err := rt.tokenAssessment(r)
	if err != nil || !ok {
		// no token, an unknown or revoked one, one of no assessment here, or the database
		// failing: any assessment's server refuses it as it would under /{id}/ (401 with its
		// challenge, or 503), before reading the body
		rt.servers[rt.defaultID()].ServeHTTP(w, r)
		return
	}
	anywhere := tokenID == store.AllAssessments // an admin token of the whole deployment
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, server.MaxUploadBytes))
	if err != nil {
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("请求体超过 %d MB 或读取失败，未写入任何数据", server.MaxUploadBytes>>20))
		return
	}
	probeOf := rt.order[0]
	if !anywhere {
		probeOf = tokenID
	}
	m, _ := rt.dep.Monitor(probeOf)
	probe := collector.NewBatch(m.Assessment())
	probe.AddBytes(server.BatchName(r, body), body)
	years := probe.Years()
	var covering, ofToken []string
	if len(years) == 1 {
		for _, id := range rt.order {
			if mm, _ := rt.dep.Monitor(id); mm.Assessment().Year == years[0] {
				covering = append(covering, id)
				if !anywhere && rt.chains[tokenID][id] {
					ofToken = append(ofToken, id)
				}
			}
		}
	}
	target := ""
	switch {
	case len(covering) == 1:
		target = covering[0]
	case !anywhere && len(covering) == 0:
		target = tokenID // the token's own assessment says what is wrong with the batch
	case len(ofToken) == 1:
		target = ofToken[0] // its own, or its county's of the rows' year
	case len(years) > 1:
		apiError(w, http.StatusBadRequest, "本批数据跨多个年度：请按年度分开提交，或用 ?assessment= 指明考核")
		return
	case len(years) == 1 && len(covering) == 0:
		apiErrorList(w, http.StatusBadRequest, fmt.Sprintf("本批数据是 %d 年度的，本系统没有该年度的考核：现有 %s", years[0], strings.Join(rt.order, "、")), rt.order)
		return
	case len(years) == 1:
		apiErrorList(w, http.StatusBadRequest, fmt.Sprintf("本系统有多项 %d 年度的考核，请用 ?assessment= 指明：%s", years[0], strings.Join(covering, "、")), covering)
		return
	default:
		apiErrorList(w, http.StatusBadRequest, fmt.Sprintf("本系统有多项考核，请用 ?assessment= 指明：%s", strings.Join(rt.order, "、")), rt.order)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rt.servers[target].ServeHTTP(w, r)
}

// defaultID is the default assessment's id, or the first's when there is no default.
func (rt *Router) defaultID() string {
	if def, _, ok := rt.dep.Default(); ok {
		return def.Assessment().ID
	}
	return rt.order[0]
}

// tokenAssessment is the assessment the request's bearer token belongs to, when it is one
// of the deployment's or store.AllAssessments; false when the request has no bearer token
// or it is unknown, revoked or of no assessment here.
func (rt *Router) tokenAssessment(r *http.Request) (string, bool, error) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	tok, err := rt.st.LookupToken(r.Context(), strings.TrimSpace(secret))
	if errors.Is(err, store.ErrUnknownToken) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if tok.Assessment == store.AllAssessments && tok.Admin {
		return tok.Assessment, true, nil
	}
	_, ok = rt.servers[tok.Assessment]
	return tok.Assessment, ok, nil
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

// apiErrorList answers an error with the ids of the assessments to choose from.
func apiErrorList(w http.ResponseWriter, status int, msg string, ids []string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error       string   `json:"error"`
		Assessments []string `json:"assessments"`
	}{msg, ids})
}

// parentsOf lists the deployment's assessments that rank the assessment with the id as one
// of their units (a city's over this county), for its pages' links up.
func parentsOf(dep *monitor.Deployment, id string) []charts.Parent {
	var out []charts.Parent
	for _, m := range dep.Monitors() {
		a := m.Assessment()
		for _, tw := range a.Townships {
			if tw.Assessment == id && a.ID != id {
				out = append(out, charts.Parent{ID: a.ID, Name: a.Name, Whole: a.Whole(), Year: a.Year, Unit: tw.Code})
			}
		}
	}
	return out
}
