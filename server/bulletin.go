package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kpimon/kpimon/bulletin"
	"github.com/kpimon/kpimon/kpi"
)

// The monthly bulletin (月度通报) as downloads linked from the ranking page, and the audit
// trail (batches, locked months) as JSON.

func (s *Server) routeBulletin() {
	s.route("GET", "/rankings/bulletin.xlsx", s.bulletinXLSX)
	s.route("GET", "/rankings/bulletin.html", s.bulletinHTML)
	s.route("GET", "/api/v1/batches", s.batches)
	s.route("GET", "/api/v1/locks", s.locks)
}

// bulletinFile is a written bulletin, kept while the evaluation it was written from is
// current: the monitor keeps the same result until the data change or a deadline passes,
// so a bulletin is written once per change, not once per download.
type bulletinFile struct {
	result *kpi.Result
	name   string
	body   []byte
}

type bulletinKey struct {
	period kpi.Period
	ext    string // .xlsx or .html
}

// bulletinFor returns the bulletin of ?period= (default: the latest month with reports) in
// the format ext, written by write when the cached one is of another evaluation.
func (s *Server) bulletinFor(w http.ResponseWriter, r *http.Request, ext string, write func(*bulletin.Bulletin, *bytes.Buffer) error) (*bulletinFile, bool) {
	// the bulletin is a page (linked from 排名): a month it cannot show is said on a page
	p, err := PeriodParam(r, s.mon)
	if err != nil {
		s.badPeriodPage(w, r, err)
		return nil, false
	}
	res, err := s.mon.Evaluate(p)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	key := bulletinKey{res.Period, ext}
	s.bulletinMu.Lock()
	f := s.bulletins[key]
	s.bulletinMu.Unlock()
	if f != nil && f.result == res {
		return f, true
	}
	// one build for every request of this bulletin and evaluation arriving meanwhile, and
	// only a few builds of any kind at once (a province's bulletin takes hundreds of MB)
	v, err := s.gate.Do(r.Context(), fmt.Sprintf("bulletin %s %s %p", ext, res.Period, res), func(context.Context) (any, error) {
		b := bulletin.New(s.mon.Assessment(), res, s.mon.Now())
		var buf bytes.Buffer
		if err := write(b, &buf); err != nil {
			return nil, err
		}
		f := &bulletinFile{result: res, name: b.FileName(ext), body: buf.Bytes()}
		s.bulletinMu.Lock()
		s.bulletins[key] = f // one per period and format: the older evaluation's goes
		s.bulletinMu.Unlock()
		return f, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return v.(*bulletinFile), true
}

func (s *Server) bulletinXLSX(w http.ResponseWriter, r *http.Request) {
	f, ok := s.bulletinFor(w, r, ".xlsx", func(b *bulletin.Bulletin, buf *bytes.Buffer) error { return b.WriteXLSX(buf) })
	if !ok {
		return
	}
	sendFile(w, f.name, fmt.Sprintf("%s-bulletin-%s.xlsx", s.mon.Assessment().ID, f.result.Period), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f.body)
}

func (s *Server) bulletinHTML(w http.ResponseWriter, r *http.Request) {
	f, ok := s.bulletinFor(w, r, ".html", func(b *bulletin.Bulletin, buf *bytes.Buffer) error {
		p := url.QueryEscape(b.Result.Period.String())
		return b.WriteHTML(buf, bulletin.Links{XLSX: s.base + "/rankings/bulletin.xlsx?period=" + p, Ranking: s.base + "/rankings?period=" + p})
	})
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.Write(f.body)
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
	bs, err := s.mon.Store().Batches(r.Context(), s.mon.Assessment().ID, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range bs {
		bs[i].At = s.inZone(bs[i].At)
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": nonNil(bs)})
}

// locks lists the locked months with who locked them and when.
func (s *Server) locks(w http.ResponseWriter, r *http.Request) {
	ls, err := s.mon.Store().Locks(r.Context(), s.mon.Assessment().ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range ls {
		ls[i].At = s.inZone(ls[i].At)
	}
	writeJSON(w, http.StatusOK, map[string]any{"locks": nonNil(ls)})
}

// inZone is a time as the API writes it: in the assessment's time zone, so that its RFC 3339
// form carries the zone's offset (2026-11-03T09:15:00+08:00), the clock the office reads,
// rather than UTC's Z.
func (s *Server) inZone(t time.Time) time.Time {
	if loc := s.mon.Assessment().Location; loc != nil {
		return t.In(loc)
	}
	return t
}
