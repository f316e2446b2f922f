package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/charts"
	"github.com/kpimon/kpimon/demo"
	"github.com/kpimon/kpimon/forms"
	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/sqlite"
	"github.com/kpimon/kpimon/store"
)

var screenshots = flag.String("screenshots", "", "save the phone browser test's screenshots (PNG) to this folder")

// chromium finds Debian's Chromium; without it the browser test skips, except in CI
// (CI=true), where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "Chromium not found (/usr/bin/chromium): install Debian's chromium and fonts-noto-cjk to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// phoneFixture is the demo (清城区 2025) served as `kpimon serve` does, on 127.0.0.1, on
// 3 January 2026 at 10:00: December's reports are due by 5 January, and 飞来峡镇 has not
// sent its own.
type phoneFixture struct {
	base  string
	mon   *monitor.Monitor
	db    *sqlite.DB
	clock atomic.Int64 // unix seconds
}

func (f *phoneFixture) now() time.Time { return time.Unix(f.clock.Load(), 0) }

func newPhoneFixture(t *testing.T) *phoneFixture {
	t.Helper()
	ctx := context.Background()
	a, err := demo.Assessment()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := demo.Load(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	f := &phoneFixture{db: db}
	f.clock.Store(time.Date(2026, 1, 3, 10, 0, 0, 0, a.Location).Unix())
	db.SetClock(f.now)
	if f.mon, err = monitor.New(ctx, a, db, monitor.Options{Now: f.now}); err != nil {
		t.Fatal(err)
	}
	srv := New(f.mon, nil)
	pages, err := charts.NewHandler(f.mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages.SetBuildGate(srv.BuildGate())
	srv.Handle("/", pages)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Serve(sctx, ln, srv, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	f.base = "http://" + ln.Addr().String()
	return f
}

// link makes a login link for the township, made at `at` and lasting ttl.
func (f *phoneFixture) link(t *testing.T, township string, at time.Time, ttl time.Duration) string {
	t.Helper()
	ls, err := MakeLoginLinks(context.Background(), f.db, f.mon.Assessment(), []string{township}, f.base, at, ttl, "测试")
	if err != nil {
		t.Fatal(err)
	}
	return ls[0].URL
}

// phone is a headless Chromium tab the size of a phone (390×844), with what it requested.
type phone struct {
	t         *testing.T
	ctx       context.Context
	downloads string

	mu        sync.Mutex
	requests  []string
	completed map[string]bool // download GUIDs
}

func newPhone(t *testing.T, ctx context.Context, path string) *phone {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true), chromedp.Flag("force-color-profile", "srgb"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	p := &phone{t: t, ctx: bctx, downloads: t.TempDir(), completed: map[string]bool{}}
	if err := chromedp.Listen(bctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok {
			p.mu.Lock()
			p.requests = append(p.requests, ev.Request.URL)
			p.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.ListenBrowser(bctx, func(ev any) {
		if ev, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && ev.State == cdpbrowser.DownloadProgressStateCompleted {
			p.mu.Lock()
			p.completed[ev.GUID] = true
			p.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(bctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: p.downloads, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

func ptrTo[T any](v T) *T { return &v }

// pageText is what the check script reads off a page.
type pageText struct {
	Path        string `json:"path"`
	Text        string `json:"text"`
	ScrollWidth int    `json:"scrollWidth"`
	ViewWidth   int    `json:"viewWidth"`
}

const readJS = `({path: location.pathname + location.search, text: document.body.innerText.replace(/\s+/g, ' '),
  scrollWidth: document.documentElement.scrollWidth, viewWidth: window.innerWidth})`

// read reads the page now shown, checking that it does not scroll sideways on the phone,
// and saves a screenshot under name when -screenshots is given.
func (p *phone) read(name string) pageText {
	p.t.Helper()
	st, err := chromedp.Run(p.ctx, chromedp.Evaluate[pageText](readJS))
	if err != nil {
		p.t.Fatalf("%s: read the page: %v", name, err)
	}
	if st.ScrollWidth > 390 || st.ViewWidth > 390 {
		p.t.Errorf("%s (%s): the page scrolls sideways on a 390 px phone (%d px wide, %d px layout)", name, st.Path, st.ScrollWidth, st.ViewWidth)
	}
	if *screenshots != "" {
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644)
		}
		if err != nil {
			p.t.Errorf("screenshot %s: %v", name, err)
		}
	}
	return st
}

// open loads an address and reads the page.
func (p *phone) open(name, u string) pageText {
	p.t.Helper()
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(u)); err != nil {
		p.t.Fatalf("%s: open %s: %v", name, u, err)
	}
	return p.read(name)
}

// tap taps an element that leads to another page, waits for it and reads it.
func (p *phone) tap(name, css string) pageText {
	p.t.Helper()
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		p.t.Fatalf("%s: tap %s: %v", name, css, err)
	}
	return p.read(name)
}

// download taps a download link and returns the file saved.
func (p *phone) download(css string) string {
	p.t.Helper()
	p.mu.Lock()
	before := len(p.completed)
	p.mu.Unlock()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		p.t.Fatalf("tap %s: %v", css, err)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		p.mu.Lock()
		for guid := range p.completed {
			if len(p.completed) > before {
				if _, err := os.Stat(filepath.Join(p.downloads, guid)); err == nil {
					p.mu.Unlock()
					return filepath.Join(p.downloads, guid)
				}
			}
		}
		p.mu.Unlock()
	}
	p.t.Fatal("the download did not complete")
	return ""
}

// upload chooses a file in the page's file input and taps the form's button.
func (p *phone) upload(name, file string) pageText {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SetUploadFiles(chromedp.CSS(`form[action="/upload"] input[type=file]`), []string{file})); err != nil {
		p.t.Fatalf("choose %s: %v", file, err)
	}
	return p.tap(name, `form[action="/upload"] button`)
}

func mustContain(t *testing.T, what string, st pageText, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(st.Text, w) {
			t.Errorf("%s (%s) does not say %q:\n%s", what, st.Path, w, st.Text)
		}
	}
}

// fillForm fills the downloaded monthly form as a chair would: every monthly item but
// leaveBlank, counts and stocks with plausible figures, ratios complete except the
// petition closure rate, of which 11 of 12 cases were closed.
func fillForm(t *testing.T, path string, a *kpi.Assessment, d *kpi.Dataset, township string, p kpi.Period, leaveBlank string) {
	t.Helper()
	wb, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("the downloaded form: %v", err)
	}
	defer wb.Close()
	sheet := wb.GetSheetName(0)
	ti := a.TownshipIndex(township)
	for row := forms.HeaderRow + 1; row < forms.HeaderRow+1+len(a.Indicators); row++ {
		code, _ := wb.GetCellValue(sheet, fmt.Sprintf("B%d", row))
		i := a.IndicatorIndex(code)
		if i < 0 {
			t.Fatalf("row %d of the form: indicator %q", row, code)
		}
		ind := &a.Indicators[i]
		if code == leaveBlank {
			continue
		}
		set := func(col string, v any) {
			if err := wb.SetCellValue(sheet, fmt.Sprintf("%s%d", col, row), v); err != nil {
				t.Fatal(err)
			}
		}
		switch ind.Kind {
		case kpi.KindCount:
			set("G", 3)
		case kpi.KindStock: // as last month: a stock does not fall by itself
			set("G", d.Cell(ti, i).Value[p.Month-2])
		case kpi.KindRatio:
			if code == "petition_closure_rate" {
				set("H", 11)
				set("I", 12)
			} else {
				set("H", 5)
				set("I", 5)
			}
		}
	}
	if err := wb.Save(); err != nil {
		t.Fatal(err)
	}
}

// TestPhoneMonth is a township chair's month on her phone (390×844) against the demo:
// she opens the login link the county office sent, lands on 我的填报 with December's items
// due, downloads the form, fills it (excelize stands in for Excel or WPS), uploads it, sees
// the warnings and the item she left blank, confirms, and finds the items reported. Links
// used, expired or revoked are refused in Chinese; her session sees and writes only her
// own township. No page scrolls sideways; no request leaves the server.
func TestPhoneMonth(t *testing.T) {
	path := chromium(t)
	if *screenshots != "" {
		if err := os.MkdirAll(*screenshots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	f := newPhoneFixture(t)
	a := f.mon.Assessment()
	link := f.link(t, "feilaixia", f.now(), DefaultLinkTTL)
	ph := newPhone(t, ctx, path)

	st := ph.open("1-link", link)
	mustContain(t, "the link's page", st, "进入我的填报", "只能使用一次")
	st = ph.tap("2-my", `form[action="/login/link"] button`)
	if st.Path != "/my" {
		t.Fatalf("the link landed on %s, want /my", st.Path)
	}
	monthly := 0
	for i := range a.Indicators {
		if a.Indicators[i].Kind.ReportedMonthly() {
			monthly++
		}
	}
	mustContain(t, "/my", st, "飞来峡镇 · 我的填报", "2025年12月月报", "报送截止：1月5日 还有 3 天",
		fmt.Sprintf("0 已报 %d 未报 %d 本月应报", monthly, monthly), "信访（含12338）按期办结率 分子、分母只填本月的数（11月为 8/8），不是全年累计（48/50） 未报", "我的排名", "落后的指标", "预警")

	// the browser saves the download under a GUID; the chair's phone keeps its name
	named := filepath.Join(t.TempDir(), "飞来峡镇12月月报.xlsx")
	if err := os.Rename(ph.download(`a[href="/upload/template.xlsx?period=2025-12"]`), named); err != nil {
		t.Fatal(err)
	}
	const blank = "wechat_posts"
	fillForm(t, named, a, f.mon.Dataset(), "feilaixia", kpi.MustPeriod("2025-12"), blank)

	st = ph.upload("3-preview", named)
	mustContain(t, "the preview", st, fmt.Sprintf("新增 %d", monthly-1), "上传后将亮红灯或黄灯的指标",
		"信访（含12338）按期办结率", "低于达标线 98%，将显示为红色",
		"以下项目本次没有填写，上传后仍算未报送： 妇联新媒体原创发布条数",
		"填报值 11/12（91.7%）", "位置 飞来峡镇!", "月份 2025年12月")
	if strings.Contains(st.Text, "SHA-256") || strings.Contains(st.Text, "校验码") {
		t.Error("the chair's preview shows the file's checksum")
	}
	st = ph.tap("4-confirmed", `form[action="/upload/confirm"] button`)
	mustContain(t, "the confirmation", st, fmt.Sprintf("已写入（批次 #"), fmt.Sprintf("新增 %d 条", monthly-1))
	st = ph.tap("5-my-after", `a.button[href="/my"]`)
	mustContain(t, "/my after the upload", st, fmt.Sprintf("%d 已报 1 未报", monthly-1), "信访（含12338）按期办结率：11/12（91.7%） 本月数；全年累计 59/62（95.2%） 已报", "妇联新媒体原创发布条数 未报")

	// her session: her own township only
	st = ph.open("6-other-my", f.base+"/my?township=dongcheng")
	mustContain(t, "another township's /my", st, "只能查看本乡镇（街道）的填报情况")
	if strings.Contains(st.Text, "东城街道 · 我的填报") {
		t.Error("飞来峡镇's session sees 东城街道's page")
	}
	st = ph.open("7-my-again", f.base+"/my")
	other := filepath.Join(t.TempDir(), "东城街道.csv")
	if err := os.WriteFile(other, []byte("乡镇,指标,月份,数值\n东城街道,妇联新媒体原创发布条数,2025-12,999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	version := f.mon.Version()
	st = ph.upload("8-other-upload", other)
	mustContain(t, "an upload of another township's figures", st, "无权填报“东城街道”的数据")
	if o, _ := f.mon.Dataset().Get(kpi.Key{Township: "dongcheng", Indicator: blank, Period: kpi.MustPeriod("2025-12")}); o.Value == 999 || f.mon.Version() != version {
		t.Error("飞来峡镇's session wrote 东城街道's figure")
	}

	// links refused: used, expired, revoked; each says what to do
	expired := f.link(t, "longtang", f.now().Add(-2*time.Hour), time.Hour)
	revoked := f.link(t, "shijiao", f.now(), DefaultLinkTTL)
	if _, err := RevokeLoginLinks(ctx, f.db, a, "shijiao"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, link, want string }{
		{"9-used", link, "这个登录链接已经用过了"},
		{"10-expired", expired, "这个登录链接已经过期"},
		{"11-revoked", revoked, "这个登录链接无效或已被撤销"},
	} {
		fresh := newPhone(t, ctx, path)
		fresh.open(tc.name+"-page", tc.link)
		st := fresh.tap(tc.name, `form[action="/login/link"] button`)
		mustContain(t, tc.name+" link", st, tc.want, "请向区妇联索取新的登录链接") // 清城区: a district
		if st.Path == "/my" {
			t.Errorf("the %s link logged in", tc.name)
		}
	}

	// the county office prints every township's QR code: the codes show under the page's
	// strict CSP (images only from the page itself and data: addresses, no script)
	_, admin, err := f.db.AddToken(ctx, store.NewToken{Assessment: a.ID, Name: "清城区妇联办公室", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	office := newPhone(t, ctx, path)
	office.open("12-login", f.base+"/login?next=/admin/links")
	if err := chromedp.Do(office.ctx, chromedp.SendKeys(chromedp.ID("token"), admin)); err != nil {
		t.Fatal(err)
	}
	st = office.tap("12-admin-links", `form[action="/login"] button`)
	mustContain(t, "/admin/links", st, "生成全部 8 个乡镇的登录链接", "撤销登录链接")
	st = office.tap("13-sheet", `form[action="/admin/links"] button`)
	mustContain(t, "the sheet", st, "东城街道", "飞来峡镇", "有效期至 2026年1月10日 10:00")
	shown, err := chromedp.Run(office.ctx, chromedp.Evaluate[int](`Array.from(document.images).filter(i => i.complete && i.naturalWidth === 384).length`))
	if err != nil || shown != 8 {
		t.Errorf("%d QR codes shown on the sheet, want 8 (%v)", shown, err)
	}

	ph.mu.Lock()
	defer ph.mu.Unlock()
	for _, r := range ph.requests {
		if !strings.HasPrefix(r, f.base+"/") && !strings.HasPrefix(r, "data:") {
			t.Errorf("a request left the server: %s", r)
		}
	}
}
