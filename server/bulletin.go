package server

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kpimon/kpimon/bulletin"
)

// The monthly bulletin (月度通报) as downloads linked from the ranking page, and the audit
// trail (batches, locked months) as JSON.

func (s *Server) routeBulletin() {
	s.mux.HandleFunc("GET /rankings/bulletin.xlsx", s.bulletinXLSX)
	s.mux.HandleFunc("GET /rankings/bulletin.html", s.bulletinHTML)
	s.mux.HandleFunc("GET /api/v1/batches", s.batches)
	s.mux.HandleFunc("GET /api/v1/locks", s.locks)
}

// bulletinOf builds the bulletin of ?period= (default: the latest month with reports).
func (s *Server) bulletinOf(w http.ResponseWriter, r *http.Request) (*bulletin.Bulletin, bool) {
	res, ok := s.result(w, r)
	if !ok {
		return nil, false
	}
	return bulletin.New(s.mon.Assessment(), res, s.mon.Now()), true
}

func (s *Server) bulletinXLSX(w http.ResponseWriter, r *http.Request) {
	b, ok := s.bulletinOf(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := b.WriteXLSX(&buf); err != nil {
		s.writeError(w, r, err)
		return
	}
	sendFile(w, b.FileName(".xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

func (s *Server) bulletinHTML(w http.ResponseWriter, r *http.Request) {
	b, ok := s.bulletinOf(w, r)
	if !ok {
		return
	}
	p := url.QueryEscape(b.Result.Period.String())
	var buf bytes.Buffer
	if err := b.WriteHTML(&buf, bulletin.Links{XLSX: "/rankings/bulletin.xlsx?period=" + p, Ranking: "/rankings?period=" + p}); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.Write(buf.Bytes())
}

// batches lists the accepted batches, newest first: who, when, source, SHA-256 and rows
// written. ?limit= (default 100, at most 1000).
func (s *Server) batches(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, errorf(ErrBadRequest, "limit 须为 1 到 1000 之间的整数"))
			return
		}
		limit = n
	}
	bs, err := s.mon.DB().Batches(r.Context(), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": nonNil(bs)})
}

// locks lists the locked months with who locked them and when.
func (s *Server) locks(w http.ResponseWriter, r *http.Request) {
	ls, err := s.mon.DB().Locks(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"locks": nonNil(ls)})
}
