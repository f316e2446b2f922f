package server

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/server/builds"
	"github.com/kpimon/kpimon/store"
)

// The server's own pages — login, login links, the upload pages, 我的填报 (/my), the admin's
// login-link sheet and the messages between them — share one layout (templates/layout.html)
// and one page struct. They are for phones first (390 px), in Chinese, with no script at all:
// their Content-Security-Policy allows no script, inline styles, and images only from the
// page itself (the QR codes are data: URIs).

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the page templates, each templates/NAME.html defining "content".
var pageNames = []string{"login", "upload", "my", "link", "links", "message"}

// parsePages parses every page with the layout. A broken template is a programming error
// that every server test would show, so it panics rather than failing each request.
func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		out[name] = template.Must(template.New(name).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// pageFuncs are the helpers the templates use.
var pageFuncs = template.FuncMap{
	// dataURI makes a PNG an image address the page's CSP allows (img-src data:)
	"dataURI": func(png []byte) template.URL {
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	},
}

// pageCSP is the Content-Security-Policy of the server's pages: no script at all.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page is what a page shows. Fields are used by the pages that need them.
type page struct {
	Base       string // the server's path prefix: every link and form starts with it
	Title      string
	Assessment string
	Office     string // who runs the assessment: 县妇联, 市妇联 (Server.office)
	Units      string // its units: 乡镇（街道）, 县（市、区）
	Who        *whoView
	CSRF       string
	Next       string
	Message    string
	Error      string
	Errors     []rowError
	Omitted    string // "另有 N 处错误未列出" under a capped list
	Back       *link  // a link onward from a message ("返回我的填报")
	Months     []link // the months a page can be asked for, after a month it cannot show

	Preview *previewView    // upload.go
	Result  *ingestResponse // a confirmed upload
	Periods []string        // the months of the template drop-down
	Period  string          // the month to report now

	My    *myView    // my.go
	Link  *linkView  // links.go: the page a login link opens
	Links *linksView // links.go: the admin's sheet

}

// link is a labelled address.
type link struct{ Href, Label string }

// whoView says who is logged in.
type whoView struct {
	Name, Scope string
	Admin       bool
}

// render writes a page with its status.
func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	p.Assessment = s.mon.Assessment().Name
	p.Office, p.Units = s.office(), s.mon.Assessment().Units()
	p.Base = s.base
	if p.Title == "" {
		p.Title = "报表上传"
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("页面渲染失败", "page", name, "err", err)
		plainError(w, "服务器内部错误，请稍后再试。", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// redirect sends the browser to a path of this server, under its base.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string) {
	if strings.HasPrefix(to, "/") {
		to = s.base + to
	}
	redirect(w, r, to)
}

// plainError answers with a line of Chinese text, as http.Error does.
func plainError(w http.ResponseWriter, msg string, status int) {
	http.Error(w, msg, status)
}

// redirect answers 303 See Other to a path of this site, with a Chinese line for the rare
// client that shows the body (http.Redirect would write "See Other").
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	h := w.Header()
	h.Set("Location", to)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<a href=\"%s\">请点此继续</a>\n", template.HTMLEscapeString(to))
	}
}

// busyMessage is what a person is told when the database is busy (a long command-line
// ingest holds it) or down.
const busyMessage = "系统正忙（可能正在导入数据），本次操作没有写入任何数据。请过一两分钟再试。"

// failPage answers a page request that failed: 503 with Retry-After when the database is
// busy or down (nothing was written; trying again shortly works), 503 when too many builds
// run, nothing when the client went away, else 500 with nothing internal shown. p is the
// page to show the message on; name its template.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, name string, p page, err error) {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		s.log.Warn("数据库不可用", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfterSeconds)
		p.Error = busyMessage
		s.render(w, http.StatusServiceUnavailable, name, p)
	case errors.Is(err, builds.ErrBusy):
		w.Header().Set("Retry-After", builds.RetryAfterSeconds)
		p.Error = "访问的人较多，请几秒后再试。"
		s.render(w, http.StatusServiceUnavailable, name, p)
	case errors.Is(err, context.Canceled):
	default:
		s.log.Error("页面请求失败", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Error = "服务器内部错误，请稍后再试；如果一直这样，请联系" + s.office() + "。"
		s.render(w, http.StatusInternalServerError, name, p)
	}
}

// badPeriodPage answers a page request whose ?period= cannot be shown (it does not parse,
// is of another year, or has not begun) with 400 and the message on a page headed 月份有误,
// offering the same page at each month that can be chosen (the latest first).
func (s *Server) badPeriodPage(w http.ResponseWriter, r *http.Request, err error) {
	p := page{Title: "月份有误", Error: userMessage(err.Error()), Back: &link{Href: s.base + "/", Label: "返回总览"}}
	a := s.mon.Assessment()
	last := collector.CurrentMonth(a, s.mon.Now())
	if last.Year > a.Year {
		last = kpi.Period{Year: a.Year, Month: 12}
	}
	if last.Year == a.Year {
		for m := last.Month; m >= 1; m-- {
			q := kpi.Period{Year: a.Year, Month: m}
			p.Months = append(p.Months, link{Href: s.base + r.URL.Path + "?period=" + q.String(), Label: q.Label()})
		}
	}
	s.render(w, http.StatusBadRequest, "message", p)
}

// office is the federation that runs the assessment, which the people who report to it
// are told to ask: 县妇联, 区妇联, 市妇联 or 省妇联 by its level.
func (s *Server) office() string { return s.mon.Assessment().Level.Label() + "妇联" }
