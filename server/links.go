package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// Login links (登录链接): a township chair opens a link (or scans its QR code) on her phone
// and is logged in, with no token to type.
//
// A link is one-time and expires (7 days by default). It acts for the township's link token,
// a township token named “<乡镇>妇联（登录链接）” that kpimon creates the first time a link is
// made for the township and reuses afterwards; the tokens given out for programs are never
// used for links. Revoking the link token (`kpimon token revoke`, or 撤销 on /admin/links)
// revokes every link made with it and ends every session opened with them; the next link
// made for the township creates a new link token.
//
// Opening a link shows a page with one button, 进入我的填报; the tap spends the link, starts a
// session and lands on /my. The link is not spent by merely fetching it, because chat apps
// (WeChat, DingTalk, iMessage) fetch a link to draw its preview before anyone taps it, which
// would use up a one-time link; the tap is also a navigation from this site, so the
// SameSite=Strict session cookie is sent to /my at once. A used, expired or revoked link is
// refused with a page saying to ask the office that runs the assessment (县妇联, 市妇联, …) for a
// new one.

// DefaultLinkTTL is how long a login link can be used.
const DefaultLinkTTL = 7 * 24 * time.Hour

// maxLinkTTL bounds how long a link may be made to last.
const maxLinkTTL = 90 * 24 * time.Hour

// LinkTokenName is the name of the token a township's login links act for.
func LinkTokenName(t kpi.Township) string { return t.Name + "妇联（登录链接）" }

// LoginLink is a one-time login link made for a township.
type LoginLink struct {
	Township kpi.Township
	URL      string    // {base}/login/link/{secret}
	Expires  time.Time // when it stops working
	Token    store.Token
	Created  bool // the link token was created for this link
}

// linkTokens returns each township's valid link token (the newest, should there be several).
func linkTokens(ctx context.Context, st store.Tokens, a *kpi.Assessment) (map[string]store.Token, error) {
	toks, err := st.Tokens(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("读取令牌失败：%w", err)
	}
	out := map[string]store.Token{}
	for _, tok := range toks {
		t, ok := a.Township(tok.Township)
		if tok.Admin || tok.RevokedAt != nil || tok.Assessment != a.ID || !ok || tok.Name != LinkTokenName(t) {
			continue
		}
		out[tok.Township] = tok // oldest first: the newest wins
	}
	return out, nil
}

// MakeLoginLinks makes a one-time login link, valid for ttl from now, for each of the
// townships (codes or names), creating a township's link token when it has none. base is
// the address the links start with, such as https://kpimon.example.cn.
func MakeLoginLinks(ctx context.Context, st store.Tokens, a *kpi.Assessment, townships []string, base string, now time.Time, ttl time.Duration, createdBy string) ([]LoginLink, error) {
	if ttl <= 0 || ttl > maxLinkTTL {
		return nil, fmt.Errorf("登录链接的有效期须在 1 分钟到 %d 天之间", int(maxLinkTTL/(24*time.Hour)))
	}
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("登录链接的网址“%s”须以 http:// 或 https:// 开头", base)
	}
	have, err := linkTokens(ctx, st, a)
	if err != nil {
		return nil, err
	}
	out := make([]LoginLink, 0, len(townships))
	for _, name := range townships {
		i, ok := a.ResolveTownship(name)
		if !ok {
			return nil, fmt.Errorf("未知的乡镇“%s”：须为考核方案中的乡镇代码或名称", name)
		}
		t := a.Townships[i]
		l := LoginLink{Township: t, Expires: now.Add(ttl)}
		tok, ok := have[t.Code]
		if !ok {
			if tok, _, err = st.AddToken(ctx, store.NewToken{Assessment: a.ID, Name: LinkTokenName(t), Township: t.Code, CreatedBy: createdBy}); err != nil {
				return nil, fmt.Errorf("为%s创建登录链接令牌失败：%w", t.Name, err)
			}
			have[t.Code], l.Created = tok, true
		}
		secret, err := st.CreateLoginLink(ctx, tok.ID, now, l.Expires)
		if err != nil {
			return nil, fmt.Errorf("为%s生成登录链接失败：%w", t.Name, err)
		}
		l.Token, l.URL = tok, base+"/login/link/"+secret
		out = append(out, l)
	}
	return out, nil
}

// RevokeLoginLinks revokes the township's link tokens: every link made for it stops
// working and every session opened with one ends. It returns how many tokens it revoked.
func RevokeLoginLinks(ctx context.Context, st store.Tokens, a *kpi.Assessment, township string) (int, error) {
	i, ok := a.ResolveTownship(township)
	if !ok {
		return 0, fmt.Errorf("未知的乡镇“%s”", township)
	}
	t := a.Townships[i]
	toks, err := st.Tokens(ctx, a.ID)
	if err != nil {
		return 0, fmt.Errorf("读取令牌失败：%w", err)
	}
	n := 0
	for _, tok := range toks {
		if tok.Admin || tok.RevokedAt != nil || tok.Assessment != a.ID || tok.Township != t.Code || tok.Name != LinkTokenName(t) {
			continue
		}
		if _, err := st.RevokeToken(ctx, tok.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, fmt.Errorf("撤销%s的登录链接令牌失败：%w", t.Name, err)
		}
		n++
	}
	return n, nil
}

// QRCode is a PNG QR code of text, size pixels square, with medium error correction (a
// printed code still scans when slightly smudged).
func QRCode(text string, size int) ([]byte, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("生成二维码失败：%w", err)
	}
	return png, nil
}

// linkView is the page a login link opens, or its refusal.
type linkView struct {
	Secret  string // the link's secret, for the button's form; empty on a refusal
	Refused bool
}

// linksView is the admin's page of login links.
type linksView struct {
	Townships []kpi.Township
	TTLDays   []int
	Sheet     []linkCard // the links just made, to print
	Made      string     // when they were made
}

// linkCard is one township's link on the printable sheet.
type linkCard struct {
	Township string
	URL      string
	QR       []byte
	Expires  string
}

func (s *Server) routeLinks() {
	s.route("GET", "/login/link/{secret}", s.linkPage)
	s.route("POST", "/login/link", s.useLink)
	s.route("GET", "/admin/links", s.adminLinks)
	s.route("POST", "/admin/links", s.makeLinks)
	s.route("POST", "/admin/links/revoke", s.revokeLinks)
}

// linkRefused says why a link did not log in, and what to do: ask office (县妇联, 市妇联:
// Server.office) for a new one.
func linkRefused(err error, office string) string {
	ask := "请向" + office + "索取新的登录链接（或二维码）。"
	switch {
	case errors.Is(err, store.ErrLinkUsed):
		return "这个登录链接已经用过了：每个链接只能使用一次。如果刚才已经用它登录，请直接打开“我的填报”；否则" + ask
	case errors.Is(err, store.ErrLinkExpired):
		return "这个登录链接已经过期。" + ask
	}
	return "这个登录链接无效或已被撤销。" + ask
}

// linkPage is what opening a login link shows: one button that spends it.
func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	secret := r.PathValue("secret")
	p := page{Title: "登录我的填报", Link: &linkView{Secret: secret}}
	if !strings.HasPrefix(secret, "kpl_") || len(secret) > 200 {
		p.Link, p.Error = &linkView{Refused: true}, linkRefused(store.ErrUnknownToken, s.office())
		s.render(w, http.StatusNotFound, "link", p)
		return
	}
	s.render(w, http.StatusOK, "link", p)
}

// useLink spends a login link: a session for its token, then /my.
func (s *Server) useLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<12)
	p := page{Title: "登录我的填报", Link: &linkView{Refused: true}}
	if !sameOrigin(r) {
		p.Error = "请求来源不符：请直接打开" + s.office() + "发来的链接。"
		s.render(w, http.StatusForbidden, "link", p)
		return
	}
	tok, err := s.mon.Store().UseLoginLink(r.Context(), r.PostFormValue("secret"), s.mon.Now())
	switch {
	case errors.Is(err, store.ErrLinkUsed), errors.Is(err, store.ErrLinkExpired), errors.Is(err, store.ErrUnknownToken):
		p.Error = linkRefused(err, s.office())
		s.render(w, http.StatusGone, "link", p)
		return
	case err != nil:
		s.failPage(w, r, "link", p, err)
		return
	case tok.Admin || !s.tokenValidHere(tok):
		p.Error = linkRefused(store.ErrUnknownToken, s.office())
		s.render(w, http.StatusGone, "link", p)
		return
	}
	if err := s.startSession(w, r, tok); err != nil {
		s.failPage(w, r, "link", p, err)
		return
	}
	s.log.Info("已通过登录链接登录", "token", tok.ID, "township", tok.Township)
	s.redirect(w, r, "/my")
}

// admin returns the caller of an admin page, answering itself when it is not an admin.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	c, ok := s.loggedIn(w, r)
	if !ok {
		return nil, false
	}
	if !c.token.Admin {
		p := s.formPage(c)
		p.Title, p.Error = "登录链接", "只有"+s.office()+"管理员可以生成登录链接。"
		s.render(w, http.StatusForbidden, "message", p)
		return nil, false
	}
	return c, true
}

func (s *Server) linksPage(c *caller) page {
	p := s.formPage(c)
	p.Title = "登录链接"
	p.Links = &linksView{Townships: s.mon.Assessment().Townships, TTLDays: []int{1, 3, 7, 14, 30}}
	return p
}

func (s *Server) adminLinks(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admin(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "links", s.linksPage(c))
}

// linkBase is the address links start with: the server's option, the config's
// notify.base_url, or the address the admin's request came to.
func (s *Server) linkBase(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL + s.base
	}
	if b := s.mon.Assessment().Notify.BaseURL; b != "" {
		return strings.TrimRight(b, "/") + s.base
	}
	scheme := "http"
	if secureCookie(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.base
}

// makeLinks makes a login link for every township and shows them as a printable sheet.
func (s *Server) makeLinks(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<12)
	p := s.linksPage(c)
	if !checkForm(r, c) {
		plainError(w, "请求无效：请刷新页面后重试。", http.StatusForbidden)
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil || days < 1 || days > int(maxLinkTTL/(24*time.Hour)) {
		p.Error = "请选择有效期（天数）。"
		s.render(w, http.StatusBadRequest, "links", p)
		return
	}
	a := s.mon.Assessment()
	codes := make([]string, len(a.Townships))
	for i, t := range a.Townships {
		codes[i] = t.Code
	}
	now := s.mon.Now()
	links, err := MakeLoginLinks(r.Context(), s.mon.Store(), a, codes, s.linkBase(r), now, time.Duration(days)*24*time.Hour, c.token.Name)
	if err != nil {
		s.failPage(w, r, "links", p, err)
		return
	}
	for _, l := range links {
		png, err := QRCode(l.URL, 384)
		if err != nil {
			s.failPage(w, r, "links", p, err)
			return
		}
		p.Links.Sheet = append(p.Links.Sheet, linkCard{Township: l.Township.Name, URL: l.URL, QR: png, Expires: s.formatTime(l.Expires)})
	}
	p.Links.Made = s.formatTime(now)
	p.Title = "登录链接（打印后发给各乡镇）"
	s.log.Info("已生成登录链接", "by", c.token.Name, "townships", len(links), "days", days)
	s.render(w, http.StatusOK, "links", p)
}

// revokeLinks revokes a township's login links and the sessions opened with them.
func (s *Server) revokeLinks(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<12)
	p := s.linksPage(c)
	if !checkForm(r, c) {
		plainError(w, "请求无效：请刷新页面后重试。", http.StatusForbidden)
		return
	}
	t, ok := s.mon.Assessment().Township(r.PostFormValue("township"))
	if !ok {
		p.Error = "请选择乡镇。"
		s.render(w, http.StatusBadRequest, "links", p)
		return
	}
	n, err := RevokeLoginLinks(r.Context(), s.mon.Store(), s.mon.Assessment(), t.Code)
	if err != nil {
		s.failPage(w, r, "links", p, err)
		return
	}
	s.log.Info("已作废登录链接", "by", c.token.Name, "township", t.Code, "tokens", n)
	if n == 0 {
		p.Message = t.Name + "没有有效的登录链接，无需撤销。"
	} else {
		p.Message = "已撤销" + t.Name + "的登录链接：此前发出的链接都不能再用，用链接登录的手机也已退出。需要时请重新生成。"
	}
	s.render(w, http.StatusOK, "links", p)
}

// formatTime writes a time for people in the assessment's time zone, labelled:
// 2024年4月10日 09:00（北京时间）.
func (s *Server) formatTime(t time.Time) string { return s.mon.Assessment().Clock(t) }
