package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/store"
)

// Access control.
//
// Writes (POST /api/v1/observations and the upload page) need an API token issued with
// `kpimon token add`: sent as "Authorization: Bearer <token>" by programs, or kept in a
// cookie by the upload page after the token is entered once on /login. Tokens are stored
// hashed; each request looks its token up, so a revoked token stops working at once.
// A township token writes its own township's figures only; an admin token writes all.
//
// Reads are open unless a viewer token is set (SetViewerToken): then every page and API
// read needs that token or any valid API token, by header or by the login cookie.
//
// The login cookie is HttpOnly and SameSite=Strict (Secure behind TLS). Every form that
// changes something carries a CSRF value derived from the cookie's token with HMAC, which
// a page on another site cannot compute; an Origin header naming another host is refused.

// CookieName is the login cookie.
const CookieName = "kpimon_token"

// cookieMaxAge is how long the login cookie lasts, in seconds (30 days: township staff
// report monthly and should not have to paste the token every time).
const cookieMaxAge = 30 * 24 * 3600

// access holds the server's access state.
type access struct {
	viewer  [32]byte // SHA-256 of the viewer token
	hasView bool
	pending *pendingStore
	page    *template.Template // the login and upload page, parsed once
}

// newAccess parses the embedded page template; a broken template is a programming error
// that every server test would show, so it panics rather than failing each request.
func newAccess() *access {
	return &access{pending: newPendingStore(), page: template.Must(template.ParseFS(uploadFS, "templates/upload.html"))}
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
	token  store.Token // a valid API token (zero when viewer)
	viewer bool        // the viewer token: reads only
	secret string      // the credential presented, for the CSRF value
	cookie bool        // presented by cookie rather than header
}

func (c *caller) canWrite() bool { return c != nil && !c.viewer && c.token.ID != 0 }

// credential returns the token a request presents: the bearer token, else the cookie's.
func credential(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
		return "", false
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value, true
	}
	return "", false
}

// identify resolves a request's credential, or returns nil when it has none that is valid.
// Errors other than an unknown token (the database failing) are returned.
func (s *Server) identify(r *http.Request, fromCookie bool) (*caller, error) {
	secret, isCookie := credential(r)
	if secret == "" || (isCookie && !fromCookie) {
		return nil, nil
	}
	c, err := s.identifySecret(r.Context(), secret)
	if c != nil {
		c.cookie = isCookie
	}
	return c, err
}

// identifySecret resolves a token: the viewer token, a valid API token, or nil.
func (s *Server) identifySecret(ctx context.Context, secret string) (*caller, error) {
	if s.acc.hasView {
		sum := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(sum[:], s.acc.viewer[:]) == 1 {
			return &caller{viewer: true, secret: secret}, nil
		}
	}
	tok, err := s.mon.Store().LookupToken(ctx, secret)
	if errors.Is(err, store.ErrUnknownToken) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, ok := s.mon.Assessment().Township(tok.Township); !tok.Admin && !ok {
		// the township left the config (merged, renamed): its token writes nothing
		s.log.Warn("token of a township not in the config refused", "token", tok.ID, "township", tok.Township)
		return nil, nil
	}
	return &caller{token: tok, secret: secret}, nil
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
// and the login and upload pages, which do their own authentication.
func publicPath(p string) bool {
	return p == "/healthz" || p == "/login" || p == "/logout" || p == "/upload" || strings.HasPrefix(p, "/upload/")
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
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return false
	}
	s.writeError(w, r, ErrUnauthorized)
	return false
}

// csrfValue is the CSRF value of a credential: an HMAC of a fixed label keyed by the
// token, so only a page that was served to the token's holder can know it.
func csrfValue(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("kpimon csrf v1"))
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

// checkForm verifies a cookie-authenticated form post: same origin and the CSRF value.
func checkForm(r *http.Request, c *caller) bool {
	if !sameOrigin(r) {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(csrfValue(c.secret)))
}

// setLoginCookie keeps the token in an HttpOnly, SameSite=Strict cookie.
func setLoginCookie(w http.ResponseWriter, r *http.Request, secret string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: secret, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	})
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
			Msg: fmt.Sprintf("无权填报“%s”的数据：此令牌只能填报%s的数据", other.Name, own.Name)})
	}
	if len(errs) > 0 {
		return &ForbiddenError{Token: c.token.Name, Errors: errs}
	}
	return nil
}

// pendingStore holds parsed batches between the upload page's preview and its confirm,
// keyed by a random id, so what is confirmed is exactly what was previewed.
type pendingStore struct {
	mu    sync.Mutex
	items map[string]*pending
	order []string
}

func newPendingStore() *pendingStore { return &pendingStore{items: map[string]*pending{}} }

// errorf wraps a sentinel with a message for people.
func errorf(kind error, msg string) error { return fmt.Errorf("%w: %s", kind, msg) }
