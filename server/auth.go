package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/store"
)

// Access control.
//
// Writes (POST /api/v1/observations and the upload pages) need an API token issued with
// `kpimon token add`: sent as "Authorization: Bearer <token>" by programs, or — on the
// pages — through a login session. Tokens are stored hashed; each request looks its token
// up, so a revoked token stops working at once. A township token writes its own township's
// figures only; an admin token writes all.
//
// A login (the token typed once on /login, or a one-time login link opened on a phone)
// starts a session kept by the store: the browser's cookie holds only the session's random
// id, never the token, and the store only its hash. A session lasts SessionTTL (7 days by
// default: a write credential left on a shared office computer or a lost phone should not
// outlive a week), ends when its holder logs out, and ends with its token when the token is
// revoked.
//
// Reads are open unless a viewer token is set (SetViewerToken): then every page and API
// read needs that token or any valid API token, by header, by a login session, or by the
// viewer cookie that logging in with the viewer token sets. The viewer cookie holds an
// expiry and an HMAC of it keyed by the viewer token's hash, not the viewer token.
//
// Cookies are HttpOnly and SameSite=Strict (Secure behind TLS). Every form that changes
// something carries a CSRF value derived from the session id with HMAC, which a page on
// another site cannot compute; an Origin header naming another host is refused.

// CookieName is the login session's cookie: it holds the session id.
const CookieName = "kpimon_session"

// viewerCookie is the cookie that logging in with the viewer token sets.
const viewerCookie = "kpimon_view"

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 7 * 24 * time.Hour

// access holds the server's access state.
type access struct {
	viewer  [32]byte // SHA-256 of the viewer token
	hasView bool
}

// SetViewerToken makes every read need this token or any valid API token. An empty token
// leaves reading open. Call it before serving.
func (s *Server) SetViewerToken(token string) {
	token = strings.TrimSpace(token)
	if token == "" {
		s.acc.hasView = false
		return
	}
	s.acc.viewer, s.acc.hasView = sha256.Sum256([]byte(token)), true
}

// caller is who a request comes from.
type caller struct {
	token   store.Token // a valid API token (zero when viewer)
	viewer  bool        // the viewer token: reads only
	session string      // the login session's id, or the viewer cookie's value; "" by header
}

func (c *caller) canWrite() bool { return c != nil && !c.viewer && c.token.ID != 0 }

// bearer returns the token of an Authorization: Bearer header, and whether the request has
// an Authorization header at all.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok), true
	}
	return "", true
}

// identify resolves a request's credential, or returns nil when it has none that is valid:
// the Authorization header if there is one, else (with fromCookie) the login session's or
// the viewer's cookie. Errors other than an unknown credential (the database failing) are
// returned.
func (s *Server) identify(r *http.Request, fromCookie bool) (*caller, error) {
	if tok, has := bearer(r); has {
		if tok == "" {
			return nil, nil
		}
		return s.identifySecret(r.Context(), tok)
	}
	if !fromCookie {
		return nil, nil
	}
	if ck, err := r.Cookie(CookieName); err == nil && ck.Value != "" {
		sess, err := s.mon.Store().LookupSession(r.Context(), ck.Value, s.mon.Now())
		switch {
		case errors.Is(err, store.ErrUnknownToken):
			// ended, expired or its token revoked: as if there were no cookie
		case err != nil:
			return nil, err
		case s.tokenValidHere(sess.Token):
			return &caller{token: sess.Token, session: ck.Value}, nil
		}
	}
	if ck, err := r.Cookie(viewerCookie); err == nil && s.validViewerCookie(ck.Value) {
		return &caller{viewer: true, session: ck.Value}, nil
	}
	return nil, nil
}

// identifySecret resolves a token: the viewer token, a valid API token, or nil.
func (s *Server) identifySecret(ctx context.Context, secret string) (*caller, error) {
	if s.acc.hasView {
		sum := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(sum[:], s.acc.viewer[:]) == 1 {
			return &caller{viewer: true}, nil
		}
	}
	tok, err := s.mon.Store().LookupToken(ctx, secret)
	if errors.Is(err, store.ErrUnknownToken) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !s.tokenValidHere(tok) {
		return nil, nil
	}
	return &caller{token: tok}, nil
}

// tokenValidHere reports whether a valid token may act in this assessment: it belongs to
// this assessment, to the whole deployment (store.AllAssessments, admins only), or to one
// the deployment lets it carry over from (TokenScope: another year of the same county);
// and a township token's township is still in the config.
func (s *Server) tokenValidHere(tok store.Token) bool {
	own := tok.Assessment == s.mon.Assessment().ID || (tok.Admin && tok.Assessment == store.AllAssessments)
	if !own && (s.tokenScope == nil || !s.tokenScope(tok.Assessment)) {
		return false
	}
	if tok.Admin {
		return true
	}
	if _, ok := s.mon.Assessment().Township(tok.Township); !ok {
		// the township left the config (merged, renamed): its token writes nothing
		s.log.Warn("已拒绝配置中没有的乡镇的令牌", "token", tok.ID, "township", tok.Township)
		return false
	}
	return true
}

// writer authenticates a write request by its bearer token; it answers 401 itself and
// returns false when there is no valid token.
func (s *Server) writer(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	c, err := s.identify(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if !c.canWrite() {
		s.writeError(w, r, ErrUnauthorized)
		return nil, false
	}
	return c, true
}

// publicPath says whether a path is served without the viewer token: the health check,
// and the pages that do their own authentication (login, login links, upload, /my, admin).
func publicPath(p string) bool {
	switch {
	case p == "/healthz", p == "/readyz", p == "/login", p == "/logout", p == "/upload", p == "/my", p == "/admin/links":
		return true
	}
	for _, prefix := range []string{"/upload/", "/login/", "/my/", "/admin/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// allowRead gates reads when a viewer token is set; it answers itself and returns false
// when the request may not read.
func (s *Server) allowRead(w http.ResponseWriter, r *http.Request) bool {
	if !s.acc.hasView || publicPath(r.URL.Path) {
		return true
	}
	c, err := s.identify(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	if c != nil {
		return true
	}
	if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/metrics") {
		s.redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
		return false
	}
	s.writeError(w, r, ErrUnauthorized)
	return false
}

// csrfValue is the CSRF value of a login: an HMAC of a fixed label keyed by the session id,
// so only a page that was served to the session's holder can know it.
func csrfValue(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("kpimon csrf v2"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// sameOrigin refuses a request whose Origin header names another host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// checkForm verifies a form post of a logged-in caller: same origin and the CSRF value of
// its session. A caller by Authorization header (a program) needs no CSRF value: a page on
// another site cannot make a browser send that header.
func checkForm(r *http.Request, c *caller) bool {
	if !sameOrigin(r) {
		return false
	}
	if c.session == "" {
		return true
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(csrfValue(c.session)))
}

// secureCookie says whether cookies should be Secure: the request came over TLS, directly
// or through a proxy that says so.
func secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) an HttpOnly, SameSite=Strict cookie.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureCookie(r),
	})
}

// startSession starts a login session for the token and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	now := s.mon.Now()
	id, err := s.mon.Store().CreateSession(r.Context(), tok.ID, now, now.Add(s.sessionTTL))
	if err != nil {
		return fmt.Errorf("start a session for token %d: %w", tok.ID, err)
	}
	setCookie(w, r, CookieName, id, int(s.sessionTTL/time.Second))
	setCookie(w, r, viewerCookie, "", -1)
	return nil
}

// viewerCookieValue is the viewer cookie's value, valid until expires: the expiry and an
// HMAC of it keyed by the viewer token's hash. Changing the viewer token invalidates it.
func (s *Server) viewerCookieValue(expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	m := hmac.New(sha256.New, s.acc.viewer[:])
	m.Write([]byte("kpimon viewer v1 " + exp))
	return exp + "." + hex.EncodeToString(m.Sum(nil))
}

// validViewerCookie checks a viewer cookie's HMAC and expiry.
func (s *Server) validViewerCookie(v string) bool {
	if !s.acc.hasView {
		return false
	}
	exp, _, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !s.mon.Now().Before(time.Unix(n, 0)) {
		return false
	}
	return hmac.Equal([]byte(v), []byte(s.viewerCookieValue(time.Unix(n, 0))))
}

// ForbiddenError is a batch refused because its token may not write some of its rows.
type ForbiddenError struct {
	Token  string // the token's name
	Errors []*collector.RowError
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("令牌“%s”无权写入其中 %d 行（只能填报本乡镇的数据），本批数据未写入", e.Token, len(e.Errors))
}

// Unwrap makes errors.Is(err, ErrForbidden) hold.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// authorize checks that the caller may write every row of the batch: an admin token may
// write all, a township token only its own township's. Rows that failed validation are not
// rows of any township yet and are left to the batch's own errors.
func (s *Server) authorize(c *caller, b *collector.Batch) error {
	if c.token.Admin {
		return nil
	}
	a := s.mon.Assessment()
	own, _ := a.Township(c.token.Township)
	var errs []*collector.RowError
	for _, row := range b.Rows() {
		if row.Township == c.token.Township {
			continue
		}
		other, _ := a.Township(row.Township)
		errs = append(errs, &collector.RowError{Where: row.Where(), Field: "township", Value: row.Township, Err: ErrForbidden,
			Msg: fmt.Sprintf("无权填报“%s”的数据：只能填报%s的数据", other.Name, own.Name)})
	}
	if len(errs) > 0 {
		return &ForbiddenError{Token: c.token.Name, Errors: errs}
	}
	return nil
}

// errorf wraps a sentinel with a message for people.
func errorf(kind error, msg string) error { return fmt.Errorf("%w: %s", kind, msg) }
