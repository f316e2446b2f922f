package charts

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server/builds"
)

// ContentSecurityPolicy is sent with every page: scripts only from kpimon itself (the pages
// have no inline script), nothing from anywhere else. Inline styles are allowed because
// ECharts styles its tooltips with style attributes.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// FaviconAsset is the pages' icon among the assets (Assets), served at /assets/favicon.png
// and /favicon.ico.
const FaviconAsset = "favicon.png"

// maxCachedPages bounds the page cache; beyond it an arbitrary page is dropped.
const maxCachedPages = 1024

// Handler serves the pages and their assets for one monitor. Rendered pages are cached per
// data version, period and page until the data change (or the monitor re-evaluates, which
// it does when the clock may have changed an evaluation). It is safe for concurrent use.
type Handler struct {
	mon     *monitor.Monitor
	base    string   // HandlerOptions.Base
	parents []Parent // HandlerOptions.Parents
	render  *Renderer
	log     *slog.Logger
	mux     *http.ServeMux
	assets  map[string]*asset

	// builds: a page not rendered since the data changed, and the CSV export, are built
	// once for all the requests that want them at the same time, and only a few builds run
	// at once (server/builds); snaps shares a period's snapshot between the pages built
	// from it at the same time
	gate  *builds.Gate
	snapf singleflight.Group

	mu      sync.RWMutex
	cache   map[pageKey]*renderedPage
	snaps   map[kpi.Period]*Snapshot // the latest snapshot of each period, shared by its pages
	reports lastReports              // the last report times of one data version
}

// lastReports are the times of the last report of every month, as of a data version.
type lastReports struct {
	version uint64
	times   map[kpi.Period]time.Time
}

// pageKey identifies a rendered page: the period and the page ("overview",
// "township/dongcheng", …).
type pageKey struct {
	period  kpi.Period
	page    string
	overdue kpi.Period // the month the overdue note names; zero when none
}

// renderedPage is a page's bytes, plain and gzipped, with what they were rendered from.
type renderedPage struct {
	result *kpi.Result // the evaluation of the period the page shows; a new one means re-render
	body   []byte
	gz     []byte
	etag   string
	// the response headers, made once: a cached page is served by copying them, with no
	// per-request formatting or header-key canonicalising
	plain, zipped http.Header
}

// pageHeaders are the headers of every page, plus its own: type, cache, ETag, encoding, length.
func pageHeaders(etag string, body []byte, gzipped bool) http.Header {
	h := http.Header{
		"Content-Security-Policy": {ContentSecurityPolicy},
		"Referrer-Policy":         {"same-origin"},
		"X-Frame-Options":         {"DENY"},
		"Content-Type":            {"text/html; charset=utf-8"},
		"Cache-Control":           {"no-cache"},
		"Etag":                    {etag},
		"Vary":                    {"Accept-Encoding"},
		"Content-Length":          {strconv.Itoa(len(body))},
	}
	if gzipped {
		h["Content-Encoding"] = []string{"gzip"}
	}
	return h
}

// asset is an embedded file ready to serve.
type asset struct {
	body, gz []byte
	etag     string
	ctype    string
}

// NewHandler builds the pages' handler. Mount it at "/": it serves /, /townships/{code},
// /indicators/{code}, /rankings, /rankings.csv, /alerts and /assets/….
func NewHandler(mon *monitor.Monitor, logger *slog.Logger) (*Handler, error) {
	return NewHandlerWithOptions(mon, HandlerOptions{Logger: logger})
}

// HandlerOptions tune a Handler.
type HandlerOptions struct {
	Logger *slog.Logger
	// Base is the path the pages are served under when a deployment serves several
	// assessments ("/qingcheng-2026"; the router strips it before the handler sees a
	// request): every link a page writes starts with it.
	Base string
	// Parents are the assessments served beside this one that rank it as one of their units
	// (a city's that holds this county): every page links up to them.
	Parents []Parent
}

// Parent is an assessment that ranks the handler's assessment as one of its units, served
// under /{ID}: a city's over one of its counties.
type Parent struct {
	ID    string // the parent's id: its pages are under /{ID}
	Name  string // its name, 清远市妇联2026年度县（市、区）妇联工作目标考核
	Whole string // its whole, 全市
	Year  int    // its year
	Unit  string // the code of the unit that is this assessment in it
}

// links are the addresses the handler's pages link to, for period p.
func (h *Handler) links(p kpi.Period) links { return liveLinks(p).under(h.base) }

// NewHandlerWithOptions builds the pages' routes.
func NewHandlerWithOptions(mon *monitor.Monitor, opt HandlerOptions) (*Handler, error) {
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	h := &Handler{mon: mon, base: strings.TrimRight(opt.Base, "/"), parents: slices.Clone(opt.Parents), render: r, log: logger, mux: http.NewServeMux(), gate: builds.New(builds.DefaultConcurrency, builds.DefaultWait),
		assets: map[string]*asset{}, cache: map[pageKey]*renderedPage{}, snaps: map[kpi.Period]*Snapshot{}}
	if err := h.loadAssets(); err != nil {
		return nil, err
	}
	// pages of an older data version are never served again: drop them at once rather
	// than when their period is next asked for
	mon.Subscribe(func(monitor.Change) {
		h.mu.Lock()
		h.cache = map[pageKey]*renderedPage{}
		h.snaps = map[kpi.Period]*Snapshot{}
		h.mu.Unlock()
	})
	// every page is read only: other methods are answered 405 with Allow (the bare pattern
	// beside each GET one; ServeMux would not, since "/" below matches every path)
	get := func(pattern string, fn http.HandlerFunc) {
		h.mux.HandleFunc("GET "+pattern, fn)
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			h.errorPage(w, http.StatusMethodNotAllowed, "不支持 "+r.Method+" 请求：此页面只能浏览（GET、HEAD）。")
		})
	}
	get("/{$}", h.overview)
	get("/townships/{code}", h.township)
	get("/indicators/{code}", h.indicator)
	get("/rankings", h.rankings)
	get("/rankings.csv", h.rankingsCSV)
	get("/alerts", h.alerts)
	get("/assets/{name}", h.asset)
	// browsers ask for /favicon.ico whatever the page says: the pages' icon
	get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		a := h.assets[FaviconAsset]
		serveBytes(w, r, a.ctype, "max-age=86400", a.etag, a.body, a.gz)
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, http.StatusNotFound, "找不到这个页面。")
	})
	return h, nil
}

// SetBuildGate makes the pages share g with the server's other expensive builds (the
// bulletin), so that the bound on builds running at once holds for all of them. Call it
// before serving.
func (h *Handler) SetBuildGate(g *builds.Gate) { h.gate = g }

// ServeHTTP serves a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) loadAssets() error {
	return fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(Assets(), p)
		if err != nil {
			return fmt.Errorf("asset %s: %w", p, err)
		}
		a := &asset{body: body, etag: etagOf(body), ctype: mime.TypeByExtension(path.Ext(p))}
		if strings.HasSuffix(p, ".js") {
			a.ctype = "text/javascript; charset=utf-8"
		}
		if a.gz, err = gzipBytes(body); err != nil {
			return fmt.Errorf("asset %s: %w", p, err)
		}
		h.assets[p] = a
		return nil
	})
}

// gzipETag is the ETag of a body's gzipped form.
func gzipETag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-gz"` }

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// period reads ?period=YYYY-MM, defaulting to the latest month with reports that has ended
// (monitor.DefaultPeriod).
func (h *Handler) period(r *http.Request) (kpi.Period, error) {
	q := r.URL.Query().Get("period")
	if q == "" {
		return h.mon.DefaultPeriod(), nil
	}
	p, err := kpi.ParsePeriod(q)
	if err != nil {
		return p, periodError(fmt.Sprintf("月份 %q 的格式应为 YYYY-MM，如 %d-06", q, h.mon.Assessment().Year))
	}
	if y := h.mon.Assessment().Year; p.Year != y {
		return p, periodError(fmt.Sprintf("月份 %s 不在考核年度 %d 内", p, y))
	}
	return p, nil
}

// periodError is a ?period= the pages cannot show, said in Chinese for the error page.
type periodError string

func (e periodError) Error() string { return string(e) }

// Unwrap makes errors.Is(err, kpi.ErrBadPeriod) hold.
func (e periodError) Unwrap() error { return kpi.ErrBadPeriod }

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	h.page(w, r, "overview", func(ctx context.Context, s *Snapshot) (*view, error) {
		return buildOverview(s, h.links(s.Period))
	})
}

func (h *Handler) rankings(w http.ResponseWriter, r *http.Request) {
	h.page(w, r, "rankings", func(ctx context.Context, s *Snapshot) (*view, error) {
		return buildRankings(s, h.links(s.Period))
	})
}

// alerts serves 预警. Its resolutions come from the alert lifecycle store, which changes
// when the alert engine syncs (after the data change, or when a deadline passes), so the
// page is cached per version of that store too.
func (h *Handler) alerts(w http.ResponseWriter, r *http.Request) {
	name := "alerts#" + strconv.FormatUint(h.mon.AlertsVersion(), 10)
	h.page(w, r, name, func(ctx context.Context, s *Snapshot) (*view, error) {
		res, err := LoadResolutions(ctx, h.mon.Store(), s.Assessment)
		if err != nil {
			return nil, err
		}
		withRes := *s // the snapshot is shared by every page: a copy carries the resolutions
		withRes.Resolved = res
		return buildAlerts(&withRes, h.links(s.Period))
	})
}

func (h *Handler) township(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if _, ok := h.mon.Assessment().Township(code); !ok {
		h.errorPage(w, http.StatusNotFound, "没有这个"+h.mon.Assessment().UnitsShort()+"。")
		return
	}
	h.page(w, r, "township/"+code, func(ctx context.Context, s *Snapshot) (*view, error) {
		hist, err := LoadHistory(ctx, h.mon.Store(), s.Assessment, code)
		if err != nil {
			return nil, err
		}
		return buildTownship(s, h.links(s.Period), code, hist)
	})
}

func (h *Handler) indicator(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if _, ok := h.mon.Assessment().Indicator(code); !ok {
		h.errorPage(w, http.StatusNotFound, "没有这个指标。")
		return
	}
	h.page(w, r, "indicator/"+code, func(ctx context.Context, s *Snapshot) (*view, error) {
		return buildIndicator(s, h.links(s.Period), code)
	})
}

// page serves a page from the cache, rendering it first when the data changed.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, name string, build func(context.Context, *Snapshot) (*view, error)) {
	p, err := h.period(r)
	if err != nil {
		h.errorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	current, err := h.mon.Evaluate(p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	key := pageKey{period: p, page: name, overdue: h.overdue()}
	h.mu.RLock()
	pg := h.cache[key]
	h.mu.RUnlock()
	if pg == nil || pg.result != current {
		// one build for every request of this page and evaluation arriving meanwhile
		v, err := h.gate.Do(r.Context(), fmt.Sprintf("page %s %s %s %p", p, name, key.overdue, current), func(ctx context.Context) (any, error) {
			return h.renderPage(ctx, p, current, key.overdue, build)
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		pg = v.(*renderedPage)
		h.mu.Lock()
		if len(h.cache) >= maxCachedPages {
			for k := range h.cache {
				delete(h.cache, k)
				break
			}
		}
		h.cache[key] = pg
		h.mu.Unlock()
	}
	if match := r.Header.Get("If-None-Match"); match != "" && (strings.Contains(match, pg.etag) || strings.Contains(match, gzipETag(pg.etag))) {
		hd := w.Header()
		hd.Set("Etag", pg.etag)
		hd.Set("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, headers := pg.body, pg.plain
	if pg.gz != nil && acceptsGzip(r) {
		body, headers = pg.gz, pg.zipped
	}
	hd := w.Header()
	for k, v := range headers {
		hd[k] = v // shared, never modified: net/http only reads them
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// overdue is the month the alert lifecycle works on when it is later than the latest month
// with reports: its deadline passed and nobody reported it. Zero otherwise.
func (h *Handler) overdue() kpi.Period {
	cur := h.mon.CurrentPeriod()
	latest, ok := h.mon.ReportedPeriod()
	if ok && !latest.Before(cur) {
		return kpi.Period{}
	}
	if !ok && cur.Month == 1 {
		return kpi.Period{} // nothing reported and January not yet due
	}
	return cur
}

// renderPage renders a page from the period's snapshot.
func (h *Handler) renderPage(ctx context.Context, p kpi.Period, current *kpi.Result, overdue kpi.Period, build func(context.Context, *Snapshot) (*view, error)) (*renderedPage, error) {
	// the pages of a period built at the same time share one snapshot
	sv, err, _ := h.snapf.Do(fmt.Sprintf("%s %p", p, current), func() (any, error) { return h.snapshot(ctx, p, current) })
	if err != nil {
		return nil, err
	}
	s := sv.(*Snapshot)
	v, err := build(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, up := range h.parents {
		pl := liveLinks(kpi.Period{Year: up.Year, Month: p.Month}).under("/" + up.ID) // the same month of the parent's year
		v.Up = append(v.Up, upLink{Name: up.Name, Whole: up.Whole, Href: pl.Overview(), Unit: pl.Township(up.Unit)})
	}
	if !overdue.IsZero() {
		a := h.mon.Assessment()
		dl := overdue.Deadline(a.ReportDeadlineDay, a.Location).AddDate(0, 0, -1)
		v.Overdue = &overdueNote{Label: overdue.Label(), Deadline: fmt.Sprintf("%d月%d日", int(dl.Month()), dl.Day()), Href: h.base + "/?period=" + overdue.String()}
	}
	body, err := h.render.render(v)
	if err != nil {
		return nil, err
	}
	gz, err := gzipBytes(body)
	if err != nil {
		return nil, err
	}
	pg := &renderedPage{result: s.Result(), body: body, gz: gz, etag: etagOf(body)}
	// the gzipped body is another representation: its own ETag, so caches keep them apart
	pg.plain, pg.zipped = pageHeaders(pg.etag, body, false), pageHeaders(gzipETag(pg.etag), gz, true)
	return pg, nil
}

// snapshot returns the period's snapshot, taking a new one when the evaluation changed.
// The last report times are read once per data version for all periods.
func (h *Handler) snapshot(ctx context.Context, p kpi.Period, current *kpi.Result) (*Snapshot, error) {
	h.mu.RLock()
	s, rep := h.snaps[p], h.reports
	h.mu.RUnlock()
	if s != nil && s.Result() == current {
		return s, nil
	}
	v := h.mon.Version()
	if rep.times == nil || rep.version != v {
		times, err := h.mon.Store().LastReports(ctx, h.mon.Assessment().ID, h.mon.Assessment().Year)
		if err != nil {
			return nil, err
		}
		rep = lastReports{version: v, times: times}
	}
	s, err := takeSnapshot(h.mon, p, rep.version, rep.times)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.snaps[p] = s
	if rep.version >= h.reports.version {
		h.reports = rep
	}
	h.mu.Unlock()
	return s, nil
}

// serveBytes writes a cached body, gzipped when the client takes it, answering a matching
// If-None-Match with 304.
func serveBytes(w http.ResponseWriter, r *http.Request, ctype, cacheControl, etag string, body, gz []byte) {
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", cacheControl)
	hd.Set("ETag", etag)
	hd.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func (h *Handler) rankingsCSV(w http.ResponseWriter, r *http.Request) {
	p, err := h.period(r)
	if err != nil {
		h.errorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.mon.Evaluate(p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.gate.Do(r.Context(), fmt.Sprintf("rankings.csv %s %p", p, res), func(context.Context) (any, error) {
		var b bytes.Buffer
		err := WriteRankingCSV(&b, h.mon.Assessment(), res)
		return b.Bytes(), err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rankings-%s.csv"`, p))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(v.([]byte))
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.PathValue("name")]
	if !ok {
		h.errorPage(w, http.StatusNotFound, "找不到这个文件。")
		return
	}
	serveBytes(w, r, a.ctype, "no-cache", a.etag, a.body, a.gz)
}

// fail answers an error: a bad period is the client's mistake, anything else is logged and
// shown without internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, kpi.ErrBadPeriod):
		h.errorPage(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotFound):
		h.errorPage(w, http.StatusNotFound, "找不到这个页面。")
	case errors.Is(err, builds.ErrBusy):
		w.Header().Set("Retry-After", builds.RetryAfterSeconds)
		h.errorPage(w, http.StatusServiceUnavailable, "访问的人较多，页面正在生成，请几秒后刷新。")
	case errors.Is(err, context.Canceled):
	default:
		h.log.Error("page failed", "path", r.URL.Path, "err", err)
		h.errorPage(w, http.StatusInternalServerError, "服务器内部错误，请稍后再试。")
	}
}

// errorPage answers with a small page in Chinese.
func (h *Handler) errorPage(w http.ResponseWriter, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	title := "出错了"
	switch status {
	case http.StatusNotFound:
		title = "找不到页面"
	case http.StatusBadRequest:
		title = "月份有误" // every 400 of the pages is a ?period= they cannot show
	case http.StatusServiceUnavailable:
		title = "请稍后再试"
	case http.StatusMethodNotAllowed:
		title = "不支持的请求"
	}
	h.render.errors.Execute(w, map[string]string{"Title": title, "Message": msg, "Home": h.base + "/"})
}
