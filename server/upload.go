package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// The upload pages (填报上传) for township staff: log in, choose a file, see every error
// (FILE:LINE or FILE:SHEET!CELL) or a preview of what will be written (new, corrected,
// unchanged), then confirm.
//
// The preview is kept by the store (store.Previews), not in this process, so that a
// preview made through one server confirms through another behind the same load
// balancer. It holds the uploaded file itself (gzipped, within store.PreviewMaxBytes) and a
// digest of what each row would do; it is bound to the token whose session made it, lasts
// pendingTTL and is confirmed once. A confirm reads the same file again, so it writes
// exactly what was previewed, with the same source name and digest in the audit trail; if
// the figures it would replace changed in between (checked again under the monitor's write
// lock), it shows a fresh preview instead.

// pendingTTL is how long a preview can be confirmed.
const pendingTTL = 15 * time.Minute

// maxPreviewRows bounds the rows a preview page lists; the rest are counted.
const maxPreviewRows = 500

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
	Light                              string // red or amber: the figure will show so after the upload
	Unusual                            bool   // far above the township's earlier months (jumpWarnings)
	Place                              string // Where within the file the preview names (SHEET!CELL, line 3)
	PeriodLabel                        string // 2024年3月
}

// previewView is the preview part of the upload page.
type previewView struct {
	ID, Source, SHA256        string // SHA256 is shown to admins only
	Rows                      []previewRow
	MoreRows                  int  // rows not listed
	OneTownship               bool // every row is the caller's own township: no township on the cards
	New, Corrected, Unchanged int
	Locked                    []string
	Stale                     bool
	Warnings                  []string // figures that will show red or amber, with the line they miss
	Jumps                     []string // figures far above the township's earlier months (jumpWarnings)
	Blanks                    []string // monthly items the upload leaves unreported
}

// previewData is what a confirm needs, kept as a store.Preview's Data: the uploaded file
// and a digest of what the preview showed each row would do.
type previewData struct {
	Name   string
	File   []byte // gzipped
	Digest string // rowsDigest of the preview
}

func (p previewData) encode() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(p); err != nil {
		return nil, fmt.Errorf("encode preview: %w", err)
	}
	return buf.Bytes(), nil
}

func decodePreview(data []byte) (previewData, []byte, error) {
	var p previewData
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&p); err != nil {
		return p, nil, fmt.Errorf("decode preview: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(p.File))
	if err != nil {
		return p, nil, fmt.Errorf("decode preview: %w", err)
	}
	file, err := io.ReadAll(io.LimitReader(zr, MaxUploadBytes+1))
	if err != nil {
		return p, nil, fmt.Errorf("decode preview: %w", err)
	}
	return p, file, nil
}

func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rowsDigest sums up what each row of a preview would do, to tell whether a confirm would
// still do the same.
func rowsDigest(rows []previewRow) string {
	h := sha256.New()
	for _, x := range rows {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", x.Where, x.Township, x.Indicator, x.Period, x.Figure, x.Old, x.State)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) routeUploads() {
	s.route("GET", "/login", s.loginPage)
	s.route("POST", "/login", s.login)
	s.route("POST", "/logout", s.logout)
	s.route("GET", "/upload", s.uploadPage)
	s.route("POST", "/upload", s.upload)
	s.route("POST", "/upload/confirm", s.confirmUpload)
	s.route("GET", "/upload/template.xlsx", s.uploadTemplate)
}

// loggedIn returns the caller of a page request, by its login session (or header), with a
// write token; otherwise it answers with the login page and returns false.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	c, err := s.identify(r, true)
	if err != nil {
		s.failPage(w, r, "login", page{Title: "登录", Next: r.URL.Path}, err)
		return nil, false
	}
	if !c.canWrite() {
		p := page{Title: "登录", Next: r.URL.RequestURI()}
		if r.Method != http.MethodGet {
			p.Next = ""
		}
		if c != nil && c.viewer {
			p.Error = "查看令牌只能浏览，不能上传：请输入本" + s.mon.Assessment().UnitsShort() + "的填报令牌，或打开" + s.office() + "发来的登录链接。"
		}
		s.render(w, http.StatusUnauthorized, "login", p)
		return nil, false
	}
	return c, true
}

// who says who is logged in: the token's name (a link token's without its “（登录链接）”),
// and the township when the name does not say it.
func (s *Server) who(c *caller) *whoView {
	v := &whoView{Name: c.token.Name, Admin: c.token.Admin, Scope: "管理员"}
	if !c.token.Admin {
		t, _ := s.mon.Assessment().Township(c.token.Township)
		v.Name = strings.TrimSuffix(v.Name, "（登录链接）")
		if !strings.Contains(v.Name, t.Name) {
			v.Scope = t.Name
		} else {
			v.Scope = ""
		}
	}
	return v
}

// reportPeriod is the month to report now: the month before this one in the assessment's
// time zone, within the assessment year.
func (s *Server) reportPeriod() kpi.Period {
	a := s.mon.Assessment()
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
	return p
}

// reportPeriods lists the months of the year for the template drop-down, and the month to
// report now.
func (s *Server) reportPeriods() ([]string, string) {
	a := s.mon.Assessment()
	var ps []string
	for m := 1; m <= 12; m++ {
		ps = append(ps, kpi.Period{Year: a.Year, Month: m}.String())
	}
	return ps, s.reportPeriod().String()
}

// formPage is the upload page of a logged-in caller, before anything is added to it.
func (s *Server) formPage(c *caller) page {
	ps, p := s.reportPeriods()
	out := page{Who: s.who(c), CSRF: csrfValue(c.session), Periods: ps, Period: p}
	if !c.token.Admin {
		out.Back = &link{Href: s.base + "/my", Label: "返回我的填报"}
	}
	return out
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", page{Title: "登录", Next: r.URL.Query().Get("next")})
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

// landing is where a login goes when it names no page: a township's own page, the upload
// page for an admin, the overview for the viewer.
func landing(c *caller) string {
	switch {
	case c.viewer:
		return "/"
	case c.token.Admin:
		return "/upload"
	}
	return "/my"
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	rawNext := r.PostFormValue("next")
	lp := page{Title: "登录", Next: rawNext}
	if !sameOrigin(r) {
		lp.Error = "请求来源不符，请从本站页面登录。"
		s.render(w, http.StatusForbidden, "login", lp)
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	c, err := s.identifySecret(r.Context(), secret)
	if err != nil {
		s.failPage(w, r, "login", lp, err)
		return
	}
	if c == nil || secret == "" {
		lp.Error = "令牌无效或已停用：请核对后重新输入，或向" + s.office() + "索取。"
		s.render(w, http.StatusUnauthorized, "login", lp)
		return
	}
	if c.viewer {
		setCookie(w, r, viewerCookie, s.viewerCookieValue(s.mon.Now().Add(s.sessionTTL)), int(s.sessionTTL/time.Second))
		setCookie(w, r, CookieName, "", -1)
	} else if err := s.startSession(w, r, c.token); err != nil {
		s.failPage(w, r, "login", lp, err)
		return
	}
	next := landing(c)
	if rawNext != "" {
		next = localPath(rawNext)
	}
	if c.viewer && next == "/upload" {
		next = "/"
	}
	s.redirect(w, r, next)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	c, err := s.identify(r, true)
	if err != nil {
		s.failPage(w, r, "login", page{Title: "登录"}, err)
		return
	}
	if c != nil && !checkForm(r, c) {
		plainError(w, "请求无效：请刷新页面后重试。", http.StatusForbidden)
		return
	}
	if c != nil && !c.viewer && c.session != "" {
		if err := s.mon.Store().EndSession(r.Context(), c.session); err != nil {
			s.failPage(w, r, "login", page{Title: "登录"}, err)
			return
		}
	}
	setCookie(w, r, CookieName, "", -1)
	setCookie(w, r, viewerCookie, "", -1)
	s.redirect(w, r, "/login")
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "upload", s.formPage(c))
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

// newBatch starts a batch that refuses months that have not begun.
func (s *Server) newBatch() *collector.Batch {
	b := collector.NewBatch(s.mon.Assessment())
	b.RefuseAfter(collector.CurrentMonth(s.mon.Assessment(), s.mon.Now()))
	return b
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
		s.render(w, status, "upload", p)
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !checkForm(r, c) {
		plainError(w, "请求无效：请刷新上传页面后重试。", http.StatusForbidden)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		p := s.formPage(c)
		p.Error = "请先选择要上传的文件。"
		s.render(w, http.StatusBadRequest, "upload", p)
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, MaxUploadBytes+1))
	file.Close()
	if err != nil || len(data) > MaxUploadBytes {
		p := s.formPage(c)
		p.Error = "读取上传的文件失败，请重试。"
		s.render(w, http.StatusBadRequest, "upload", p)
		return
	}
	name := uploadName(hdr.Filename)
	b := s.newBatch()
	b.AddBytes(name, data)
	s.showPreview(w, r, c, name, data, b, false)
}

// showPreview shows a batch's errors, or its preview with a confirm button; a preview that
// can be confirmed is saved to the store first.
func (s *Server) showPreview(w http.ResponseWriter, r *http.Request, c *caller, name string, data []byte, b *collector.Batch, stale bool) {
	p := s.formPage(c)
	var fe *ForbiddenError
	if err := s.authorize(c, b); errors.As(err, &fe) {
		own, _ := s.mon.Assessment().Township(c.token.Township)
		p.Error = fmt.Sprintf("文件中有 %d 行是其他乡镇（街道）的数据，没有写入任何数据：只能填报%s的数据。", len(fe.Errors), own.Name)
		listed := fe.Errors[:min(len(fe.Errors), MaxListedErrors)]
		p.Errors, p.Omitted = rowErrors(listed), omittedNote(len(fe.Errors)-len(listed))
		s.render(w, http.StatusForbidden, "upload", p)
		return
	}
	var be *collector.BatchError
	if errors.As(b.Err(), &be) {
		listed, total := batchErrors(be)
		p.Error = fmt.Sprintf("文件中有 %d 处错误，未写入任何数据。请改正后重新上传：", total)
		p.Errors, p.Omitted = rowErrors(listed), omittedNote(total-len(listed))
		s.render(w, http.StatusBadRequest, "upload", p)
		return
	}
	rows, err := s.preview(r.Context(), b)
	if err != nil {
		s.failPage(w, r, "upload", p, err)
		return
	}
	id, err := randomID()
	if err != nil {
		s.failPage(w, r, "upload", p, err)
		return
	}
	v := &previewView{ID: id, Source: b.SourceName(), Stale: stale, OneTownship: !c.token.Admin}
	if c.token.Admin {
		v.SHA256 = b.SHA256() // for the office's records; a township chair has no use for it
	}
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
	if ol, err := s.outlookOf(b, c.token.Admin); err != nil {
		// the warnings help, but a preview without them still lets the chair check and confirm
		s.log.Warn("预览：计算上传数据的影响失败", "err", err)
	} else {
		for i, row := range b.Rows() {
			rows[i].Light = ol.lights[row.Key()]
		}
		v.Warnings, v.Blanks = ol.warnings, ol.blanks
	}
	months := map[kpi.Period]bool{}
	for _, row := range b.Rows() {
		months[row.Period] = true
	}
	// a figure already in the data as uploaded (未变) is not warned of again
	unchanged := map[kpi.Key]bool{}
	for i, row := range b.Rows() {
		unchanged[row.Key()] = rows[i].State == "unchanged"
	}
	unusual := map[kpi.Key]bool{}
	for _, j := range jumpWarnings(s.mon.Assessment(), s.mon.Dataset(), b, c.token.Admin, len(months) > 1, false) {
		if !unchanged[j.key] {
			unusual[j.key] = true
			v.Jumps = append(v.Jumps, j.text)
		}
	}
	v.Jumps = capWarnings(v.Jumps)
	for i, row := range b.Rows() {
		rows[i].Unusual = unusual[row.Key()]
	}
	v.Rows, v.MoreRows = rows[:min(len(rows), maxPreviewRows)], max(0, len(rows)-maxPreviewRows)
	p.Preview = v
	status := http.StatusOK
	if len(v.Locked) > 0 {
		p.Error = fmt.Sprintf("%s 已锁定（月度通报已发布），不能再修改；如需更正，请联系%s管理员解锁。", strings.Join(v.Locked, "、"), s.office())
		status = http.StatusConflict
	} else if v.New+v.Corrected > 0 {
		if err := s.savePreview(r.Context(), c, id, name, data, rows); err != nil {
			if errors.Is(err, ErrTooLarge) {
				p.Preview = nil
				p.Error = fmt.Sprintf("文件过大，无法在网页上预览（压缩后超过 %s）：请把数据拆成几个文件分别上传，或请%s用命令行导入。", formatBytes(store.PreviewMaxBytes), s.office())
				s.render(w, http.StatusRequestEntityTooLarge, "upload", p)
				return
			}
			s.failPage(w, r, "upload", p, err)
			return
		}
	}
	if stale {
		status = http.StatusConflict
		p.Message = "预览之后这些数据已被修改，请核对下面的最新预览后再确认。"
	}
	s.render(w, status, "upload", p)
}

// savePreview keeps what a confirm of the preview needs in the store.
func (s *Server) savePreview(ctx context.Context, c *caller, id, name string, data []byte, rows []previewRow) error {
	gz, err := gzipped(data)
	if err != nil {
		return fmt.Errorf("save preview: %w", err)
	}
	enc, err := previewData{Name: name, File: gz, Digest: rowsDigest(rows)}.encode()
	if err != nil {
		return err
	}
	if len(enc) > store.PreviewMaxBytes {
		return &tooLargeError{store.PreviewMaxBytes}
	}
	now := s.mon.Now()
	return s.mon.Store().SavePreview(ctx, store.Preview{ID: id, TokenID: c.token.ID, CreatedAt: now, ExpiresAt: now.Add(pendingTTL), Data: enc}, now)
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
		x := previewRow{Where: row.Where(), Township: tw.Name, Indicator: ind.Name, Period: o.Period.String(), Figure: figureText(ind, o), State: "new", Label: "新增",
			PeriodLabel: o.Period.Label()}
		x.Place = placeInFile(x.Where)
		if old, ok := d.Get(o.Key()); ok {
			x.Old = figureText(ind, old)
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
		plainError(w, "请求无效：请刷新上传页面后重试。", http.StatusForbidden)
		return
	}
	saved, err := s.mon.Store().TakePreview(r.Context(), r.PostFormValue("id"), c.token.ID, s.mon.Now())
	if errors.Is(err, store.ErrNotFound) {
		p := s.formPage(c)
		p.Error = "预览已过期或无效（预览 15 分钟内有效，且只能确认一次）：请重新上传文件。"
		s.render(w, http.StatusConflict, "upload", p)
		return
	}
	if err != nil {
		s.failPage(w, r, "upload", s.formPage(c), err)
		return
	}
	x, data, err := decodePreview(saved.Data)
	if err != nil {
		s.failPage(w, r, "upload", s.formPage(c), err)
		return
	}
	b := s.newBatch()
	b.AddBytes(x.Name, data)
	if b.Err() != nil || s.authorize(c, b) != nil {
		s.showPreview(w, r, c, x.Name, data, b, false) // the month turned or the config changed: say what is wrong now
		return
	}
	rows, err := s.preview(r.Context(), b)
	if err != nil {
		s.failPage(w, r, "upload", s.formPage(c), err)
		return
	}
	if rowsDigest(rows) != x.Digest {
		s.showPreview(w, r, c, x.Name, data, b, true)
		return
	}
	// the same comparison again under the monitor's write lock, so that no batch can slip in
	// between the check above and the write
	unchanged := func(d *kpi.Dataset) error {
		if rowsDigest(previewRows(s.mon.Assessment(), d, b, nil)) != x.Digest {
			return errPreviewStale
		}
		return nil
	}
	res, err := s.mon.IngestIf(r.Context(), b, c.token.Name, unchanged)
	if err != nil {
		p := s.formPage(c)
		var le *store.LockedError
		switch {
		case errors.Is(err, errPreviewStale):
			s.showPreview(w, r, c, x.Name, data, b, true)
		case errors.As(err, &le):
			p.Error = le.Error()
			s.render(w, http.StatusConflict, "upload", p)
		default:
			s.failPage(w, r, "upload", p, err)
		}
		return
	}
	p := s.formPage(c)
	p.Result = &ingestResponse{BatchID: res.BatchID, Total: res.Total, New: res.New, Corrected: res.Corrected, Unchanged: res.Unchanged}
	p.Message = fmt.Sprintf("已写入（批次 #%d）：新增 %d 条，更正 %d 条，未变 %d 条。", res.BatchID, res.New, res.Corrected, res.Unchanged)
	s.render(w, http.StatusOK, "upload", p)
}

// uploadTemplate serves the monthly form for the logged-in township (every township for an
// admin).
func (s *Server) uploadTemplate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return
	}
	a := s.mon.Assessment()
	q := r.URL.Query().Get("period")
	if q == "" {
		q = s.reportPeriod().String()
	}
	p, err := kpi.ParsePeriod(q)
	if err != nil || p.Year != a.Year {
		page := s.formPage(c)
		page.Error = fmt.Sprintf("月份“%s”无效：须为 %d 年的 YYYY-MM。", q, a.Year)
		s.render(w, http.StatusBadRequest, "upload", page)
		return
	}
	var towns []kpi.Township
	name, code := "全部乡镇", "all"
	if !c.token.Admin {
		t, _ := a.Township(c.token.Township)
		towns, name, code = []kpi.Township{t}, t.Name, t.Code
	}
	var buf bytes.Buffer
	if err := forms.Write(&buf, a, towns, p); err != nil {
		s.log.Error("生成月报表失败", "err", err)
		page := s.formPage(c)
		page.Error = "生成报表模板失败，请稍后重试或联系" + s.office() + "。"
		s.render(w, http.StatusInternalServerError, "upload", page)
		return
	}
	sendFile(w, fmt.Sprintf("%s-%s-月报表.xlsx", name, p), fmt.Sprintf("%s-%s.xlsx", code, p), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// sendFile answers with a download, naming the file for every browser: name in UTF-8
// (RFC 6266's filename*), and asciiName for a browser that reads only filename= — a name
// of codes (feilaixia-2026-10.xlsx), since a Chinese name without its Chinese characters
// says nothing (-2026-10-.xlsx).
func sendFile(w http.ResponseWriter, name, asciiName, contentType string, data []byte) {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, asciiName)
	if strings.Trim(ascii, ".-_ ") == "" || strings.HasPrefix(ascii, ".") {
		ascii = "kpimon" + path.Ext(name)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name)))
	h.Set("Cache-Control", "no-store")
	w.Write(data)
}

// placeInFile is a row's place without the file's name, which the preview's heading
// already gives: 飞来峡镇!G7 for a cell, 第 3 行 for a CSV line, [2] for a JSON item.
func placeInFile(where string) string {
	i := strings.LastIndex(where, ":")
	if i < 0 {
		if j := strings.LastIndex(where, "["); j > 0 {
			return "第 " + strings.Trim(where[j:], "[]") + " 项"
		}
		return where
	}
	rest := where[i+1:]
	if _, err := strconv.Atoi(rest); err == nil {
		return "第 " + rest + " 行"
	}
	return rest
}
