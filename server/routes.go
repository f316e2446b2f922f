package server

import (
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/kpimon/kpimon/kpi"
)

// Routes and the answers for requests no route takes.
//
// Every route is registered with its method (route, or Handle with a "METHOD /path"
// pattern). Beside it the bare path is registered once, answering 405 with an Allow header
// listing the path's methods (GET implies HEAD) and a Chinese message — Go's ServeMux would
// answer 405 itself only when no pattern at all matches the path, and the pages are
// mounted at "/", which matches every path. A path no route knows is handed to the
// handler mounted at "/" (the pages), or answered 404 in Chinese.

// routes remembers the methods registered for each path.
type routes struct {
	mu      sync.Mutex
	methods map[string][]string
}

// route registers a handler for method and path, and the 405 answer for the path's other
// methods.
func (s *Server) route(method, path string, h http.HandlerFunc) {
	s.mux.HandleFunc(method+" "+path, h)
	s.allow(method, path)
}

// allow records that path takes method, registering the path's 405 answer the first time.
func (s *Server) allow(method, path string) {
	s.routes.mu.Lock()
	defer s.routes.mu.Unlock()
	if s.routes.methods == nil {
		s.routes.methods = map[string][]string{}
	}
	ms, seen := s.routes.methods[path]
	if !slices.Contains(ms, method) {
		s.routes.methods[path] = append(ms, method)
	}
	if !seen {
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { s.methodNotAllowed(w, r, path) })
	}
}

// allowHeader is the Allow header of a path: its methods, with HEAD where GET is.
func (s *Server) allowHeader(path string) string {
	s.routes.mu.Lock()
	ms := slices.Clone(s.routes.methods[path])
	s.routes.mu.Unlock()
	if slices.Contains(ms, http.MethodGet) && !slices.Contains(ms, http.MethodHead) {
		ms = append(ms, http.MethodHead)
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}

// methodNotAllowed answers a method the path does not take.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request, path string) {
	allow := s.allowHeader(path)
	w.Header().Set("Allow", allow)
	msg := "不支持 " + r.Method + " 请求：此地址只接受 " + allow
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: msg})
		return
	}
	plainError(w, msg, http.StatusMethodNotAllowed)
}

// notFound answers a path no route takes: the mounted pages' handler if there is one, else
// a Chinese 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "没有这个接口：" + r.URL.Path})
		return
	}
	if s.fallback != nil {
		if readsPeriod(r) {
			if err := s.pagePeriodBegun(r); err != nil {
				s.badPeriodPage(w, r, err)
				return
			}
		}
		s.fallback.ServeHTTP(w, r)
		return
	}
	plainError(w, "找不到这个页面。", http.StatusNotFound)
}

// readsPeriod reports whether the request is for a page of the mounted pages that shows a
// month (?period=): 总览, 乡镇, 指标, 排名 (and its CSV) and 预警, read with GET or HEAD.
func readsPeriod(r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !r.URL.Query().Has("period") {
		return false
	}
	p := r.URL.Path
	switch p {
	case "/", "/rankings", "/rankings.csv", "/alerts":
		return true
	}
	for _, prefix := range []string{"/townships/", "/indicators/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}

// pagePeriodBegun checks the ?period= of a request for the mounted pages: a month that has
// not begun is refused here, before the pages see it (they check its form and its year
// themselves, with their own messages, and are left to do so).
func (s *Server) pagePeriodBegun(r *http.Request) error {
	p, err := kpi.ParsePeriod(r.URL.Query().Get("period"))
	if err != nil || p.Year != s.mon.Assessment().Year {
		return nil
	}
	return checkBegun(s.mon, p)
}

// cleanPath is p with . and .. segments and doubled slashes removed, keeping a trailing
// slash, as ServeMux cleans paths before matching them.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// redirectClean answers a path that is not clean ("/api//v1/rankings", "/a/../b") with a
// permanent redirect to its clean form, as ServeMux would, but with a Chinese body; it
// reports whether it answered.
func redirectClean(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodConnect {
		return false
	}
	clean := cleanPath(r.URL.Path)
	if clean == r.URL.Path {
		return false
	}
	u := *r.URL
	u.Path, u.RawPath = clean, ""
	to := u.EscapedPath()
	if u.RawQuery != "" {
		to += "?" + u.RawQuery
	}
	h := w.Header()
	h.Set("Location", to)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMovedPermanently)
	if r.Method != http.MethodHead {
		io.WriteString(w, "地址已规范化，请改用 "+to+"\n")
	}
	return true
}

// Handle mounts another handler: the pages at "/" (they get every path no route of the
// server takes), or a handler for one method and path ("GET /metrics"), whose other
// methods are then answered 405.
func (s *Server) Handle(pattern string, h http.Handler) {
	if pattern == "/" {
		s.fallback = h
		return
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		s.mux.Handle(pattern, h)
		return
	}
	s.mux.Handle(pattern, h)
	s.allow(method, strings.TrimSpace(path))
}
