// Package server is kpimon's HTTP edge: the JSON API of the spec, /healthz, and the mounts
// for the pages and /metrics that other packages build. Errors are mapped to HTTP statuses
// in one place (writeError); no SQL text ever reaches a client.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server/builds"
	"github.com/kpimon/kpimon/store"
)

// Server serves one monitor over HTTP.
type Server struct {
	mon *monitor.Monitor
	log *slog.Logger
	mux *http.ServeMux
	acc *access // the viewer token (auth.go)

	routes   routes       // routes.go: each path's methods, for 405 answers
	fallback http.Handler // the pages, mounted at "/"

	pages       map[string]*template.Template // pages.go: the server's own pages
	sessionTTL  time.Duration
	bodyTimeout time.Duration
	baseURL     string
	base        string                       // the path the server is mounted under, "" or "/qingcheng-2026"
	tokenScope  func(assessment string) bool // whether a token of that assessment acts here (Options.TokenScope)

	nosniff []string // the X-Content-Type-Options value every response carries; never modified

	gate       *builds.Gate // expensive builds: one per key at a time, a few at once
	bulletinMu sync.Mutex
	bulletins  map[bulletinKey]*bulletinFile // bulletin.go
}

// Options tune a Server; the zero value is what `kpimon serve` uses.
type Options struct {
	Logger *slog.Logger
	// Builds bounds the expensive builds (bulletins here, pages and exports when the pages
	// share it through charts.Handler.SetBuildGate); a gate with the package's defaults
	// when nil.
	Builds *builds.Gate
	// SessionTTL is how long a login lasts; DefaultSessionTTL (7 days) when zero.
	SessionTTL time.Duration
	// BodyTimeout bounds how long a request body may take to arrive; DefaultBodyTimeout
	// (30 s) when zero. A body that trickles is cut off and answered 408.
	BodyTimeout time.Duration
	// BaseURL is the address login links start with (notify.base_url, or the address
	// served); when empty, the address the admin's request came to.
	BaseURL string
	// Base is the path the server is mounted under when a deployment serves several
	// assessments ("/qingcheng-2026"; the router strips it before the server sees a
	// request): every link, form and redirect the server writes starts with it.
	Base string
	// TokenScope says whether a token that belongs to the assessment with the id may act in
	// this one. Nil: only its own assessment's tokens and the deployment's (store.
	// AllAssessments). A deployment lets a township token carry over between the years of
	// one county.
	TokenScope func(assessment string) bool
}

// DefaultBodyTimeout bounds how long a request body may take to arrive.
const DefaultBodyTimeout = 30 * time.Second

// retryAfterSeconds is the Retry-After of a 503: how long a client should wait before it
// tries a write again.
const retryAfterSeconds = "5"

// MaxUploadBytes bounds a POSTed batch (the API's body, the upload page's file): a larger
// one is answered 413 without being read past the limit.
const MaxUploadBytes = 32 << 20

// New builds the server's routes with the default options. Handle mounts further handlers
// (pages, /metrics).
func New(mon *monitor.Monitor, logger *slog.Logger) *Server {
	return NewWithOptions(mon, Options{Logger: logger})
}

// NewWithOptions builds the server's routes.
func NewWithOptions(mon *monitor.Monitor, opt Options) *Server {
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	gate := opt.Builds
	if gate == nil {
		gate = builds.New(builds.DefaultConcurrency, builds.DefaultWait)
	}
	s := &Server{mon: mon, log: logger, mux: http.NewServeMux(), acc: &access{}, nosniff: []string{"nosniff"},
		pages: parsePages(), sessionTTL: opt.SessionTTL, bodyTimeout: opt.BodyTimeout, baseURL: strings.TrimRight(opt.BaseURL, "/"),
		base: strings.TrimRight(opt.Base, "/"), tokenScope: opt.TokenScope,
		gate: gate, bulletins: map[bulletinKey]*bulletinFile{}}
	if s.sessionTTL <= 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = DefaultBodyTimeout
	}
	s.mux.HandleFunc("/", s.notFound)
	s.route("GET", "/healthz", s.healthz)
	s.route("GET", "/readyz", s.readyz)
	s.route("GET", "/api/v1/evaluations", s.evaluations)
	s.route("GET", "/api/v1/rankings", s.rankings)
	s.route("GET", "/api/v1/alerts", s.alerts)
	s.route("GET", "/api/v1/history", s.history)
	s.route("POST", "/api/v1/observations", s.postObservations)
	s.routeUploads()  // upload.go
	s.routeLinks()    // links.go
	s.routeMy()       // my.go
	s.routeBulletin() // bulletin.go
	return s
}

// BuildGate is the gate of the server's expensive builds, to share with the pages
// (charts.Handler.SetBuildGate).
func (s *Server) BuildGate() *builds.Gate { return s.gate }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = s.nosniff
	if r.Body != nil && r.Body != http.NoBody {
		// a body must arrive within bodyTimeout: one that trickles (a byte a second) would
		// otherwise hold a connection and a handler for as long as the client likes. Once the
		// body is read to its end, net/http clears the deadline, so a long ingest after it
		// and a slow download of the answer are not cut off.
		if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.log.Warn("设置请求体读取期限失败", "err", err)
		}
	}
	if redirectClean(w, r) { // routes.go
		return
	}
	if !s.allowRead(w, r) { // auth.go: reads need a token when a viewer token is set
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve serves on the listener until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
}

// Error kinds the API maps to statuses.
var (
	ErrBadRequest   = errors.New("bad request")
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrConflict     = errors.New("conflict")
)

// errorBody is the JSON of an error response. Errors lists at most MaxListedErrors rows;
// Omitted counts the rest.
type errorBody struct {
	Error   string     `json:"error"`
	Errors  []rowError `json:"errors,omitempty"`
	Omitted int        `json:"omitted,omitempty"`
}

type rowError struct {
	Where   string `json:"where"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// writeError maps an error to its status in one place: invalid input 400, unauthorized 401,
// forbidden 403, not found 404, conflict 409, anything else 500 with no internals shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	body := errorBody{Error: "服务器内部错误"}
	var be *collector.BatchError
	var fe *ForbiddenError
	switch {
	// a refused batch first: it may wrap millions of row errors, which every other test
	// below would walk one by one
	case errors.As(err, &be):
		status = http.StatusBadRequest
		listed, total := batchErrors(be)
		body.Errors, body.Omitted = rowErrors(listed), total-len(listed)
		body.Error = fmt.Sprintf("%d 处错误，本批数据未写入", total)
		if body.Omitted > 0 {
			body.Error += fmt.Sprintf("（列出前 %d 处，%s）", len(listed), omittedNote(body.Omitted))
		}
	case errors.As(err, &fe):
		status, body.Error = http.StatusForbidden, fe.Error()
		listed := fe.Errors[:min(len(fe.Errors), MaxListedErrors)]
		body.Errors, body.Omitted = rowErrors(listed), len(fe.Errors)-len(listed)
		if body.Omitted > 0 {
			body.Error += "（" + omittedNote(body.Omitted) + "）"
		}
	case errors.Is(err, ErrTooLarge):
		status, body.Error = http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, errBodyTimeout):
		status, body.Error = http.StatusRequestTimeout, bodyTimeoutMessage
	case errors.Is(err, store.ErrLocked):
		status, body.Error = http.StatusConflict, err.Error()
	case errors.Is(err, store.ErrUnavailable):
		// the database is restarting or another process holds it for a long write: nothing
		// was written, and the same request will work shortly
		status, body.Error = http.StatusServiceUnavailable, "数据库暂时繁忙或不可用，本次请求未写入任何数据，请稍后重试"
		w.Header().Set("Retry-After", retryAfterSeconds)
		s.log.Warn("数据库不可用", "method", r.Method, "path", r.URL.Path, "err", err)
	case errors.Is(err, ErrBadRequest), errors.Is(err, kpi.ErrBadPeriod):
		status, body.Error = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrUnauthorized):
		status, body.Error = http.StatusUnauthorized, "需要有效的访问令牌（Authorization: Bearer …）"
		w.Header().Set("WWW-Authenticate", `Bearer realm="kpimon"`)
	case errors.Is(err, ErrForbidden):
		status, body.Error = http.StatusForbidden, err.Error()
	case errors.Is(err, ErrNotFound):
		status, body.Error = http.StatusNotFound, err.Error()
	case errors.Is(err, ErrConflict):
		status, body.Error = http.StatusConflict, err.Error()
	case errors.Is(err, builds.ErrBusy):
		status, body.Error = http.StatusServiceUnavailable, "访问的人较多，正在生成的文件已达上限，请几秒后重试"
		w.Header().Set("Retry-After", builds.RetryAfterSeconds)
	case errors.Is(err, context.Canceled):
		return
	default:
		s.log.Error("请求处理失败", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body.Error = userMessage(body.Error)
	if h := (*hintedError)(nil); errors.As(err, &h) {
		body.Error += "；" + h.hint
	}
	writeJSON(w, status, body)
}

// userMessage drops the English sentinels ("bad request: ", "invalid assessment config: ")
// that wrap a Chinese message for errors.Is, leaving what a person should read.
func userMessage(msg string) string {
	for _, sentinel := range []error{ErrBadRequest, ErrNotFound, ErrForbidden, ErrConflict, store.ErrLocked} {
		for strings.HasPrefix(msg, sentinel.Error()+": ") {
			msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
		}
	}
	return msg
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// PeriodParam reads ?period=YYYY-MM, defaulting to the latest month with reports that has
// ended (monitor.DefaultPeriod). A
// month must be of the assessment's year and have begun by the monitor's clock in the
// assessment's time zone (the month in progress may be asked for): December evaluated in
// November would show grades of a month nobody has reported yet.
func PeriodParam(r *http.Request, mon *monitor.Monitor) (kpi.Period, error) {
	q := r.URL.Query().Get("period")
	if q == "" {
		return mon.DefaultPeriod(), nil
	}
	p, err := kpi.ParsePeriod(q)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if p.Year != mon.Assessment().Year {
		return p, fmt.Errorf("%w: 月份 %s 不在考核年度 %d 内", ErrBadRequest, p, mon.Assessment().Year)
	}
	if err := checkBegun(mon, p); err != nil {
		return p, err
	}
	return p, nil
}

// checkBegun refuses a month after the current one (by the monitor's clock, in the
// assessment's time zone) with ErrBadRequest and a Chinese message.
func checkBegun(mon *monitor.Monitor, p kpi.Period) error {
	if cur := collector.CurrentMonth(mon.Assessment(), mon.Now()); cur.Before(p) {
		return fmt.Errorf("%w: %s", ErrBadRequest, notBegunMessage(p))
	}
	return nil
}

// notBegunMessage says that a month has not begun.
func notBegunMessage(p kpi.Period) string {
	return p.Label() + "尚未开始，请选择已开始的月份"
}

func (s *Server) result(w http.ResponseWriter, r *http.Request) (*kpi.Result, bool) {
	p, err := PeriodParam(r, s.mon)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	res, err := s.mon.Evaluate(p)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return res, true
}

// healthz is the liveness check: the process serves. It does not look at the database, so
// that an orchestrator does not restart kpimon while the database restarts (readyz does).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz is the readiness check: the database answers and the assessment's data are
// loaded (they are from New on; Ready says so for a deployment of several).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.Ready(r.Context()); err != nil {
		s.log.Warn("服务未就绪", "err", err)
		w.Header().Set("Retry-After", retryAfterSeconds)
		plainError(w, "未就绪："+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// Ready reports whether the server can answer: its database answers. (The data were
// loaded when its monitor was made.)
func (s *Server) Ready(ctx context.Context) error {
	if err := s.mon.Store().Ping(ctx); err != nil {
		return fmt.Errorf("数据库不可用")
	}
	return nil
}

// GateReads applies the server's read rule (a viewer token, when one is set) to another
// handler: the deployment's own pages (the chooser, the list of assessments).
func (s *Server) GateReads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.allowRead(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}

func (s *Server) evaluations(w http.ResponseWriter, r *http.Request) {
	if res, ok := s.result(w, r); ok {
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) rankings(w http.ResponseWriter, r *http.Request) {
	if res, ok := s.result(w, r); ok {
		writeJSON(w, http.StatusOK, res.RankingsReport(s.mon.Assessment()))
	}
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	if res, ok := s.result(w, r); ok {
		writeJSON(w, http.StatusOK, res.AlertsReport())
	}
}

// history lists every value a key (township, indicator and, with ?period=, month) has had,
// with who wrote it and when. The answer names the township and indicator by code.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := s.mon.Assessment()
	// a township and an indicator are named by code or by name, as in a batch's rows; an
	// unknown one is answered with the nearest names
	ti, ok := a.ResolveTownship(strings.TrimSpace(q.Get("township")))
	if !ok {
		s.writeError(w, r, fmt.Errorf("%w: %s", ErrNotFound, collector.UnknownTownship(a, q.Get("township"))))
		return
	}
	ii, ok := a.ResolveIndicator(strings.TrimSpace(q.Get("indicator")))
	if !ok {
		s.writeError(w, r, fmt.Errorf("%w: %s", ErrNotFound, collector.UnknownIndicator(a, q.Get("indicator"))))
		return
	}
	tw, ind := a.Townships[ti].Code, a.Indicators[ii].Code
	var p kpi.Period
	if q.Get("period") != "" {
		var err error
		if p, err = kpi.ParsePeriod(q.Get("period")); err != nil {
			s.writeError(w, r, fmt.Errorf("%w: %v", ErrBadRequest, err))
			return
		}
	}
	revs, err := s.mon.Store().History(r.Context(), a.ID, tw, ind, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range revs {
		revs[i].At = s.inZone(revs[i].At)
		if at := revs[i].SupersededAt; at != nil {
			in := s.inZone(*at)
			revs[i].SupersededAt = &in
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"township": tw, "indicator": ind, "revisions": nonNil(revs)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ingestResponse is the JSON answer to an accepted batch: which assessment took it (a
// deployment of several routes a batch that names none by its rows' year and its token),
// and what it wrote.
type ingestResponse struct {
	Assessment     string `json:"assessment"`      // the assessment's id
	AssessmentName string `json:"assessment_name"` // its name
	BatchID        int64  `json:"batch_id"`
	Total          int    `json:"total"`
	New            int    `json:"new"`
	Corrected      int    `json:"corrected"`
	Unchanged      int    `json:"unchanged"`
	// Warnings names figures far above their township's earlier months (jumpWarnings):
	// written all the same, for the sender to check.
	Warnings []string `json:"warnings,omitempty"`
}

// postObservations takes a batch as JSON (the default), CSV (Content-Type text/csv) or an
// Excel workbook, sniffing a body sent without a Content-Type (BatchName); ?source= names
// it in the audit trail and in error messages.
func (s *Server) postObservations(w http.ResponseWriter, r *http.Request) {
	c, ok := s.writer(w, r) // auth.go: a bearer token is required; its name is the actor
	if !ok {
		return
	}
	actor := c.token.Name
	data, err := readBody(w, r, MaxUploadBytes) // limits.go: 413 past the limit, never read further
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, declaredJSON := batchName(r, data)
	a := s.mon.Assessment()
	b := collector.NewBatch(a)
	b.RefuseAfter(collector.CurrentMonth(a, s.mon.Now()))
	b.AddBytes(name, data)
	if err := s.authorize(c, b); err != nil { // a township token writes its own township only
		s.writeError(w, r, err)
		return
	}
	months := map[kpi.Period]bool{}
	for _, row := range b.Rows() {
		months[row.Period] = true
	}
	var warnings []string
	d := s.mon.Dataset()
	if jumps := jumpWarnings(a, d, b, true, len(months) > 1, true); len(jumps) > 0 {
		unchanged := unchangedRows(d, b) // a figure already in the data as sent is not warned of again
		for _, j := range jumps {
			if !unchanged[j.key] {
				warnings = append(warnings, j.text)
			}
		}
	}
	warnings = capWarnings(warnings)
	res, err := s.mon.Ingest(r.Context(), b, actor)
	if err != nil {
		var be *collector.BatchError
		if declaredJSON && looksLikeCSV(data) && errors.As(err, &be) {
			err = &hintedError{err: err, hint: "若上传的是 CSV，请设置 Content-Type: text/csv"}
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ingestResponse{Assessment: a.ID, AssessmentName: a.Name,
		BatchID: res.BatchID, Total: res.Total, New: res.New, Corrected: res.Corrected, Unchanged: res.Unchanged, Warnings: warnings})
}

// hintedError is an error with advice that its answer's message ends with.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }

// Unwrap gives the error the advice is for.
func (e *hintedError) Unwrap() error { return e.err }

// BatchName names a posted batch, and so says how collector.Batch.AddBytes reads its body
// (by the name's extension): ?source= if given (with the body's extension when it has
// none), else api.json, api.csv or api.xlsx. The body's format is its Content-Type's:
// text/csv is CSV, a spreadsheetml type Excel, any other type JSON. A body sent without a
// Content-Type — or as application/octet-stream, or as application/x-www-form-urlencoded,
// which curl sends for --data-binary unless told otherwise — is sniffed: a ZIP
// (PK\x03\x04) is Excel, a body whose first byte other than spaces is [ or { is JSON,
// anything else CSV.
func BatchName(r *http.Request, body []byte) string {
	name, _ := batchName(r, body)
	return name
}

// batchName is BatchName, also reporting whether the body is read as JSON because its
// Content-Type said so (not sniffed, not named by ?source=): a CSV body sent so is
// answered with a hint to set Content-Type: text/csv.
func batchName(r *http.Request, body []byte) (name string, declaredJSON bool) {
	ext := ".json"
	switch ct := mediaType(r); {
	case ct == "", ct == "application/octet-stream", ct == "application/x-www-form-urlencoded":
		ext = sniffExt(body)
	case ct == "text/csv":
		ext = ".csv"
	case strings.Contains(ct, "spreadsheetml"):
		ext = ".xlsx"
	default:
		declaredJSON = true
	}
	name = strings.TrimSpace(r.URL.Query().Get("source"))
	if name == "" {
		return "api" + ext, declaredJSON
	}
	if strings.Contains(name, ".") {
		return name, false // the name's extension says how the body is read
	}
	return name + ext, declaredJSON
}

// mediaType is the request's Content-Type without its parameters, in lower case; "" when
// it has none.
func mediaType(r *http.Request) string {
	v := r.Header.Get("Content-Type")
	if ct, _, err := mime.ParseMediaType(v); err == nil {
		return ct
	}
	ct, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// sniffExt is the extension of a body by its first bytes: .xlsx for a ZIP, .json for a
// body that starts with [ or { (after a byte-order mark and spaces), else .csv.
func sniffExt(body []byte) string {
	if bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		return ".xlsx"
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
		return ".json"
	}
	return ".csv"
}

// looksLikeCSV reports whether a body looks like a CSV table rather than JSON: it does not
// start with [ or {, has no NUL byte, and its first line has a comma (or a tab or
// semicolon, which the collector also takes as separators).
func looksLikeCSV(body []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 || t[0] == '[' || t[0] == '{' || bytes.IndexByte(t, 0) >= 0 {
		return false
	}
	first, _, _ := bytes.Cut(t, []byte("\n"))
	return bytes.ContainsAny(first, ",\t;")
}

// unchangedRows are the keys of the batch's rows whose figures d already holds.
func unchangedRows(d *kpi.Dataset, b *collector.Batch) map[kpi.Key]bool {
	out := map[kpi.Key]bool{}
	for _, row := range b.Rows() {
		if old, ok := d.Get(row.Key()); ok && old.Same(row.Observation) {
			out[row.Key()] = true
		}
	}
	return out
}
