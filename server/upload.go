package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// The upload page (填报上传) for township staff: log in once with the token, choose a file,
// see every error (FILE:LINE or FILE:SHEET!CELL) or a preview of what will be written (new,
// corrected, unchanged), then confirm. The parsed batch is held on the server under a
// random id between preview and confirm, bound to the token that made it, for at most
// pendingTTL and one use, so a confirm cannot write anything but what was previewed; if the
// figures it would replace changed in between, the confirm shows a fresh preview instead.

//go:embed templates/upload.html
var uploadFS embed.FS

// pendingTTL is how long a preview can be confirmed.
const pendingTTL = 15 * time.Minute

// maxPending bounds the previews held at once, and maxPendingPerToken those of one token
// (a township re-uploading its form replaces its own previews, never another's); the oldest
// go first.
const (
	maxPending         = 64
	maxPendingPerToken = 3
)

// pending is a previewed batch awaiting confirmation.
type pending struct {
	id      string
	tokenID int64
	batch   *collector.Batch
	preview []previewRow
	expires time.Time
}

func (p *pendingStore) put(x *pending, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.order[:0]
	for _, id := range p.order {
		if it, ok := p.items[id]; ok && now.Before(it.expires) {
			keep = append(keep, id)
		} else {
			delete(p.items, id)
		}
	}
	p.order = keep
	mine := 0
	for _, id := range p.order {
		if p.items[id].tokenID == x.tokenID {
			mine++
		}
	}
	for i := 0; mine >= maxPendingPerToken && i < len(p.order); {
		if id := p.order[i]; p.items[id].tokenID == x.tokenID {
			delete(p.items, id)
			p.order = append(p.order[:i], p.order[i+1:]...)
			mine--
			continue
		}
		i++
	}
	for len(p.order) >= maxPending {
		delete(p.items, p.order[0])
		p.order = p.order[1:]
	}
	p.items[x.id] = x
	p.order = append(p.order, x.id)
}

// take removes and returns the preview with the id if the token made it and it has not
// expired.
func (p *pendingStore) take(id string, tokenID int64, now time.Time) (*pending, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x, ok := p.items[id]
	if !ok || x.tokenID != tokenID {
		return nil, false
	}
	delete(p.items, id)
	return x, now.Before(x.expires)
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// previewRow is one row of the preview.
type previewRow struct {
	Where, Township, Indicator, Period string
	Figure, Old                        string
	State                              string // new, corrected, unchanged
	Label                              string // 新增, 更正, 未变
	Locked                             bool   // would change a locked month
}

type previewView struct {
	ID, Source, SHA256        string
	Rows                      []previewRow
	New, Corrected, Unchanged int
	Locked                    []string
	Stale                     bool
}

type whoView struct {
	Name, Scope string
	Admin       bool
}

type uploadPage struct {
	Title      string
	Assessment string
	Who        *whoView
	CSRF       string
	Next       string
	Message    string
	Error      string
	Errors     []rowError
	Omitted    string // "另有 N 处错误未列出" under a capped list
	Preview    *previewView
	Result     *ingestResponse
	Periods    []string
	Period     string
}

func (s *Server) routeUploads() {
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /upload", s.uploadPage)
	s.mux.HandleFunc("POST /upload", s.upload)
	s.mux.HandleFunc("POST /upload/confirm", s.confirmUpload)
	s.mux.HandleFunc("GET /upload/template.xlsx", s.uploadTemplate)
}

func (s *Server) render(w http.ResponseWriter, status int, p uploadPage) {
	p.Assessment = s.mon.Assessment().Name
	if p.Title == "" {
		p.Title = "报表上传"
	}
	var buf bytes.Buffer
	if err := s.acc.page.Execute(&buf, p); err != nil {
		s.log.Error("upload page", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// loggedIn returns the caller of a page request by its cookie, with a write token.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	c, err := s.identify(r, true)
	if err != nil {
		s.log.Error("identify", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return nil, false
	}
	if !c.canWrite() {
		p := uploadPage{Title: "登录", Next: "/upload"}
		if c != nil && c.viewer {
			p.Error = "查看令牌只能浏览，不能上传：请输入本乡镇的填报令牌。"
		}
		s.render(w, http.StatusUnauthorized, p)
		return nil, false
	}
	return c, true
}

func (s *Server) who(c *caller) *whoView {
	v := &whoView{Name: c.token.Name, Admin: c.token.Admin, Scope: "管理员（可填报所有乡镇）"}
	if !c.token.Admin {
		t, _ := s.mon.Assessment().Township(c.token.Township)
		v.Scope = t.Name
	}
	return v
}

// reportPeriods lists the months of the year for the template drop-down, and the month to
// report now (the month before this one, within the assessment year).
func (s *Server) reportPeriods() ([]string, string) {
	a := s.mon.Assessment()
	var ps []string
	for m := 1; m <= 12; m++ {
		ps = append(ps, kpi.Period{Year: a.Year, Month: m}.String())
	}
	now := s.mon.Now()
	if a.Location != nil {
		now = now.In(a.Location)
	}
	p := kpi.Period{Year: now.Year(), Month: int(now.Month())}.Prev()
	switch {
	case p.Year < a.Year:
		p = kpi.Period{Year: a.Year, Month: 1}
	case p.Year > a.Year:
		p = kpi.Period{Year: a.Year, Month: 12}
	}
	return ps, p.String()
}

func (s *Server) formPage(c *caller) uploadPage {
	ps, p := s.reportPeriods()
	return uploadPage{Who: s.who(c), CSRF: csrfValue(c.secret), Periods: ps, Period: p}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, uploadPage{Title: "登录", Next: localPath(r.URL.Query().Get("next"))})
}

// localPath keeps a redirect target on this site: a path, not a URL or //host. Control
// characters are refused outright, since browsers drop tabs and newlines from URLs
// ("/\t/evil.example" would become "//evil.example"), and the target is rebuilt from the
// parsed path and query only.
func localPath(p string) string {
	const fallback = "/upload"
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
			return fallback
		}
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return fallback
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	next := localPath(r.PostFormValue("next"))
	if !sameOrigin(r) {
		s.render(w, http.StatusForbidden, uploadPage{Title: "登录", Next: next, Error: "请求来源不符，请从本站页面登录。"})
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	c, err := s.identifySecret(r.Context(), secret)
	if err != nil {
		s.log.Error("login", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	if c == nil || secret == "" {
		s.render(w, http.StatusUnauthorized, uploadPage{Title: "登录", Next: next, Error: "令牌无效或已停用：请核对后重新输入，或向县（区）妇联索取。"})
		return
	}
	setLoginCookie(w, r, secret, cookieMaxAge)
	if c.viewer && next == "/upload" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c, err := s.identify(r, true)
	if err == nil && c != nil && !checkForm(r, c) {
		http.Error(w, "请求无效", http.StatusForbidden)
		return
	}
	setLoginCookie(w, r, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, s.formPage(c))
}

// uploadName is the name the browser gave the file, without any folder (old browsers on
// Windows send the whole path), bounded in length.
func uploadName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "upload"
	}
	if r := []rune(name); len(r) > 100 {
		name = string(r[len(r)-100:])
	}
	return name
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	// the file and the form's few fields; a larger request is refused without reading on
	const limit = MaxUploadBytes + 1<<20
	var err error
	if r.ContentLength > limit {
		err = &tooLargeError{limit}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if perr := r.ParseMultipartForm(8 << 20); perr != nil {
			err = bodyError(perr, limit)
		}
	}
	if err != nil {
		p := s.formPage(c)
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrTooLarge):
			status, p.Error = http.StatusRequestEntityTooLarge, fmt.Sprintf("文件过大：网页上传最大 %s，未写入任何数据。请把数据拆成几个文件分别上传。", formatBytes(MaxUploadBytes))
		case errors.Is(err, errBodyTimeout):
			status, p.Error = http.StatusRequestTimeout, bodyTimeoutMessage
		default:
			p.Error = "上传不完整，未写入任何数据，请重试。"
		}
		s.render(w, status, p)
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !checkForm(r, c) {
		http.Error(w, "请求无效：请刷新上传页面后重试", http.StatusForbidden)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		p := s.formPage(c)
		p.Error = "请先选择要上传的文件。"
		s.render(w, http.StatusBadRequest, p)
		return
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil {
		p := s.formPage(c)
		p.Error = "读取上传的文件失败，请重试。"
		s.render(w, http.StatusBadRequest, p)
		return
	}
	b := collector.NewBatch(s.mon.Assessment())
	b.RefuseAfter(collector.CurrentMonth(s.mon.Assessment(), s.mon.Now()))
	b.AddBytes(uploadName(hdr.Filename), data)
	s.previewBatch(w, r, c, b, false)
}

// previewBatch shows a batch's errors, or its preview with a confirm button.
func (s *Server) previewBatch(w http.ResponseWriter, r *http.Request, c *caller, b *collector.Batch, stale bool) {
	p := s.formPage(c)
	var fe *ForbiddenError
	if err := s.authorize(c, b); errors.As(err, &fe) {
		p.Error = fe.Error()
		listed := fe.Errors[:min(len(fe.Errors), MaxListedErrors)]
		p.Errors, p.Omitted = rowErrors(listed), omittedNote(len(fe.Errors)-len(listed))
		s.render(w, http.StatusForbidden, p)
		return
	}
	var be *collector.BatchError
	if errors.As(b.Err(), &be) {
		listed, total := batchErrors(be)
		p.Error = fmt.Sprintf("文件中有 %d 处错误，未写入任何数据。请改正后重新上传：", total)
		p.Errors, p.Omitted = rowErrors(listed), omittedNote(total-len(listed))
		s.render(w, http.StatusBadRequest, p)
		return
	}
	rows, err := s.preview(r.Context(), b)
	if err != nil {
		s.log.Error("preview", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	id, err := randomID()
	if err != nil {
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	v := &previewView{ID: id, Source: b.SourceName(), SHA256: b.SHA256(), Rows: rows, Stale: stale}
	locked := map[string]bool{}
	for _, x := range rows {
		switch x.State {
		case "new":
			v.New++
		case "corrected":
			v.Corrected++
		default:
			v.Unchanged++
		}
		if x.Locked && !locked[x.Period] {
			locked[x.Period] = true
			v.Locked = append(v.Locked, x.Period)
		}
	}
	p.Preview = v
	status := http.StatusOK
	if len(v.Locked) > 0 {
		p.Error = fmt.Sprintf("%s 已锁定（月度通报已发布），不能再修改；如需更正，请联系县（区）妇联管理员解锁。", strings.Join(v.Locked, "、"))
		status = http.StatusConflict
	} else if v.New+v.Corrected > 0 {
		s.acc.pending.put(&pending{id: id, tokenID: c.token.ID, batch: b, preview: rows, expires: s.mon.Now().Add(pendingTTL)}, s.mon.Now())
	}
	if stale {
		status = http.StatusConflict
		p.Message = "预览之后这些数据已被修改，请核对下面的最新预览后再确认。"
	}
	s.render(w, status, p)
}

// preview compares a batch with the current figures.
func (s *Server) preview(ctx context.Context, b *collector.Batch) ([]previewRow, error) {
	locks, err := s.mon.Store().Locks(ctx, s.mon.Assessment().ID)
	if err != nil {
		return nil, err
	}
	locked := map[kpi.Period]bool{}
	for _, l := range locks {
		locked[l.Period] = true
	}
	return previewRows(s.mon.Assessment(), s.mon.Dataset(), b, locked), nil
}

// previewRows says what each row of the batch would do to the data d.
func previewRows(a *kpi.Assessment, d *kpi.Dataset, b *collector.Batch, locked map[kpi.Period]bool) []previewRow {
	out := make([]previewRow, 0, len(b.Rows()))
	for _, row := range b.Rows() {
		o := row.Observation
		ind, _ := a.Indicator(o.Indicator)
		tw, _ := a.Township(o.Township)
		x := previewRow{Where: row.Where(), Township: tw.Name, Indicator: ind.Name, Period: o.Period.String(), Figure: o.Figure(ind.Kind), State: "new", Label: "新增"}
		if old, ok := d.Get(o.Key()); ok {
			x.Old = old.Figure(ind.Kind)
			x.State, x.Label = "corrected", "更正"
			if old.Same(o) {
				x.State, x.Label = "unchanged", "未变"
			}
		}
		x.Locked = locked[o.Period] && x.State != "unchanged"
		out = append(out, x)
	}
	return out
}

// errPreviewStale is a confirm whose figures changed between preview and write.
var errPreviewStale = errors.New("the figures changed since the preview")

func (s *Server) confirmUpload(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if !checkForm(r, c) {
		http.Error(w, "请求无效：请刷新上传页面后重试", http.StatusForbidden)
		return
	}
	x, ok := s.acc.pending.take(r.PostFormValue("id"), c.token.ID, s.mon.Now())
	if !ok {
		p := s.formPage(c)
		p.Error = "预览已过期或无效（预览 15 分钟内有效，且只能确认一次）：请重新上传文件。"
		s.render(w, http.StatusConflict, p)
		return
	}
	rows, err := s.preview(r.Context(), x.batch)
	if err != nil {
		s.log.Error("preview", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	for i := range rows {
		if rows[i] != x.preview[i] {
			s.previewBatch(w, r, c, x.batch, true)
			return
		}
	}
	// the same comparison again under the monitor's write lock, so that no batch can slip in
	// between the check above and the write
	unchanged := func(d *kpi.Dataset) error {
		now := previewRows(s.mon.Assessment(), d, x.batch, nil)
		for i := range now {
			if now[i].Old != x.preview[i].Old || now[i].State != x.preview[i].State {
				return errPreviewStale
			}
		}
		return nil
	}
	res, err := s.mon.IngestIf(r.Context(), x.batch, c.token.Name, unchanged)
	if err != nil {
		p := s.formPage(c)
		var le *store.LockedError
		switch {
		case errors.Is(err, errPreviewStale):
			s.previewBatch(w, r, c, x.batch, true)
		case errors.As(err, &le):
			p.Error = le.Error()
			s.render(w, http.StatusConflict, p)
		default:
			s.log.Error("upload ingest", "err", err)
			p.Error = "写入失败，请稍后重试。"
			s.render(w, http.StatusInternalServerError, p)
		}
		return
	}
	p := s.formPage(c)
	p.Result = &ingestResponse{BatchID: res.BatchID, Total: res.Total, New: res.New, Corrected: res.Corrected, Unchanged: res.Unchanged}
	p.Message = fmt.Sprintf("已写入（批次 #%d）：新增 %d 条，更正 %d 条，未变 %d 条。", res.BatchID, res.New, res.Corrected, res.Unchanged)
	s.render(w, http.StatusOK, p)
}

// uploadTemplate serves the monthly form for the logged-in township (every township for an
// admin).
func (s *Server) uploadTemplate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	a := s.mon.Assessment()
	_, def := s.reportPeriods()
	q := r.URL.Query().Get("period")
	if q == "" {
		q = def
	}
	p, err := kpi.ParsePeriod(q)
	if err != nil || p.Year != a.Year {
		page := s.formPage(c)
		page.Error = fmt.Sprintf("月份“%s”无效：须为 %d 年的 YYYY-MM。", q, a.Year)
		s.render(w, http.StatusBadRequest, page)
		return
	}
	var towns []kpi.Township
	name := "全部乡镇"
	if !c.token.Admin {
		t, _ := a.Township(c.token.Township)
		towns, name = []kpi.Township{t}, t.Name
	}
	var buf bytes.Buffer
	if err := forms.Write(&buf, a, towns, p); err != nil {
		s.log.Error("write the monthly form", "err", err)
		page := s.formPage(c)
		page.Error = "生成报表模板失败，请稍后重试或联系县（区）妇联。"
		s.render(w, http.StatusInternalServerError, page)
		return
	}
	sendFile(w, fmt.Sprintf("%s-%s-月报表.xlsx", name, p), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// sendFile answers with a download, naming the file for every browser (RFC 6266 with an
// ASCII fallback).
func sendFile(w http.ResponseWriter, name, contentType string, data []byte) {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, name)
	if strings.Trim(ascii, ".-_ ") == "" || strings.HasPrefix(ascii, ".") {
		ascii = "kpimon" + path.Ext(name)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name)))
	h.Set("Cache-Control", "no-store")
	w.Write(data)
}
