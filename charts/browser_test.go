package charts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kpimon/kpimon/monitor"
	"github.com/kpimon/kpimon/server"
)

var screenshot = flag.Bool("screenshot", false, "write the browser test's screenshots of the overview to ../docs/overview.png and ../docs/overview-phone.png")

// chromiumPath finds Debian's Chromium. Without it the browser test skips, except in CI
// (CI=true), where it fails.
func chromiumPath(t *testing.T) string {
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

// startServer serves the monitor as `kpimon serve` does (the API with the pages at /) on
// 127.0.0.1 and a free port, until the test ends.
func startServer(t *testing.T, mon *monitor.Monitor) string {
	t.Helper()
	h, err := NewHandler(mon, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(mon, nil)
	srv.Handle("/", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, srv, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// browser is one headless Chromium tab and what it saw: every request, every console
// error or uncaught exception, every dialog.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	requests []string
	problems []string
	dialogs  []string
}

func newBrowser(t *testing.T, ctx context.Context, path string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	b := &browser{ctx: bctx}
	if err := chromedp.Listen(bctx, b.event); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx); err != nil { // start the browser and the tab
		t.Fatal(err)
	}
	return b
}

// event records what the page does; it runs in the tab's message loop and returns at once.
func (b *browser) event(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.problems = append(b.problems, "log error: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
		go chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
	}
}

// take returns what was seen since the last call and forgets it.
func (b *browser) take() (requests, problems, dialogs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	requests, problems, dialogs = b.requests, b.problems, b.dialogs
	b.requests, b.problems, b.dialogs = nil, nil, nil
	return
}

// viewport is a screen the pages are checked at.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var (
	desktop = viewport{"desktop", 1280, 900, 1, false}
	phone   = viewport{"phone", 390, 844, 2, true}
)

func (b *browser) setViewport(v viewport) error {
	_, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: v.width, Height: v.height, DeviceScaleFactor: v.scale, Mobile: v.mobile})
	return err
}

// pageState is what the check script reads off a loaded page.
type pageState struct {
	Ready       string   `json:"ready"` // how many charts kpimon.js drew, "" before it ran
	Charts      []string `json:"charts"`
	Drawn       []string `json:"drawn"`
	Specs       int      `json:"specs"`
	ScrollWidth int      `json:"scrollWidth"`
	ViewWidth   int      `json:"viewWidth"`
	Title       string   `json:"title"`
}

// stateJS reads the page: a chart drew when one of its canvases has a pixel that is not
// transparent.
const stateJS = `(() => {
  const charts = Array.from(document.querySelectorAll('.chart'));
  const drew = el => Array.from(el.querySelectorAll('canvas')).some(c => {
    if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
    return false;
  });
  return {
    ready: document.documentElement.getAttribute('data-charts-drawn') || '',
    charts: charts.map(el => el.id),
    drawn: charts.filter(drew).map(el => el.id),
    specs: document.querySelectorAll('script[type="application/json"][data-chart]').length,
    scrollWidth: document.documentElement.scrollWidth,
    viewWidth: window.innerWidth,
    title: document.title,
  };
})()`

// open loads a page and waits until every chart drew (or 10 s passed), then reads it.
func (b *browser) open(u string) (pageState, error) {
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u)); err != nil {
		return pageState{}, fmt.Errorf("navigate %s: %w", u, err)
	}
	wait, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Run(wait, chromedp.Poll[bool](`(() => { const s = `+stateJS+`; return s.ready !== '' && s.drawn.length === s.charts.length; })()`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	st, err2 := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](stateJS))
	if err2 != nil {
		return st, fmt.Errorf("read %s: %w", u, err2)
	}
	if err != nil {
		return st, fmt.Errorf("%s: charts %v, drawn %v: %w", u, st.Charts, st.Drawn, err)
	}
	return st, nil
}

// check opens a page and checks it: every chart drew, the console is clean, no request
// left the allowed origins, no dialog opened, and at phone width nothing scrolls sideways.
func (b *browser) check(t *testing.T, u string, v viewport, allowed func(string) bool) pageState {
	t.Helper()
	st, err := b.open(u)
	if err != nil {
		t.Errorf("%s at %s: %v", u, v.name, err)
	}
	if len(st.Charts) == 0 || len(st.Charts) != st.Specs {
		t.Errorf("%s at %s: %d chart containers for %d chart options", u, v.name, len(st.Charts), st.Specs)
	}
	if missing := slices.DeleteFunc(slices.Clone(st.Charts), func(id string) bool { return slices.Contains(st.Drawn, id) }); len(missing) > 0 {
		t.Errorf("%s at %s: charts did not draw: %v", u, v.name, missing)
	}
	// A phone's browser widens the layout to fit content wider than the screen, so the
	// page is measured against the screen, not against the layout's own width.
	if v.mobile && (int64(st.ScrollWidth) > v.width || int64(st.ViewWidth) > v.width) {
		t.Errorf("%s at %s: the page scrolls sideways (%d px wide, %d px layout, on a %d px screen)", u, v.name, st.ScrollWidth, st.ViewWidth, v.width)
	}
	requests, problems, dialogs := b.take()
	for _, r := range requests {
		if !allowed(r) {
			t.Errorf("%s at %s: a request left the server: %s", u, v.name, r)
		}
	}
	for _, p := range problems {
		t.Errorf("%s at %s: %s", u, v.name, p)
	}
	for _, d := range dialogs {
		t.Errorf("%s at %s: a dialog opened: %s", u, v.name, d)
	}
	return st
}

// keyCells names what a leader must see on a phone without scrolling, page by page: "TABLE
// HEADER" for a table's column (its header and every cell), or a CSS selector of cells
// (alerts are cards on a phone, without a header row); "?" first: only if the page has them.
// unit is the level's short noun for the units (乡镇, 县区, 市州), which heads their columns.
func keyCells(page, unit string) []string {
	page, _, _ = strings.Cut(page, "?")
	switch {
	case page == "/":
		// the figures most likely to miss (months before December): what, where and the forecast
		return []string{"#county 指标", "#county 状态", "?#likely-miss " + unit, "?#likely-miss 指标", "?#likely-miss 预计全年"}
	case page == "/rankings":
		return []string{"#ranks 名次", "#ranks " + unit, "#ranks 总分", "#ranks 等次"}
	case page == "/alerts":
		return []string{"#critical td.c-badge", "#critical td.c-title", "#critical td.c-text", "#warning td.c-text", "?#resolutions td.c-text"}
	case strings.HasPrefix(page, "/townships/"):
		return []string{"#evals 名称", "#evals 状态", "?#alerts td.c-text"}
	case strings.HasPrefix(page, "/indicators/"):
		return []string{"#evals 名称", "#evals 状态"}
	}
	return nil
}

// inViewJS measures the cells keyCells entries name on the page as loaded (not scrolled):
// for each entry, its cells' text, box and the right edge of the table's scroll box (what
// lies beyond it is hidden until the table is swiped). A column is found by its header.
const inViewJS = `((specs) => specs.map(spec => {
  spec = spec.replace(/^\?/, '');
  const sp = spec.indexOf(' ');
  const sel = spec.slice(0, sp), rest = spec.slice(sp + 1);
  let cells;
  const table = document.querySelector(sel);
  if (table && table.tagName === 'TABLE') {
    const ths = Array.from(table.querySelectorAll('thead th'));
    const i = ths.findIndex(th => th.textContent.trim() === rest);
    cells = i < 0 ? [] : [ths[i], ...Array.from(table.querySelectorAll('tbody tr')).map(tr => tr.children[i])];
  } else {
    cells = Array.from(document.querySelectorAll(spec));
  }
  return {
    scrolled: window.scrollX + Math.max(0, ...Array.from(document.querySelectorAll('.table-wrap')).map(w => w.scrollLeft)),
    cells: cells.map(c => {
      const r = c.getBoundingClientRect(), w = c.closest('.table-wrap');
      return {text: c.textContent.trim().slice(0, 40), left: r.left, right: r.right, width: r.width,
        clip: w ? w.getBoundingClientRect().right : window.innerWidth};
    }),
  };
}))`

// cellBox is a measured cell and the right edge of the box that shows it.
type cellBox struct {
	Text  string  `json:"text"`
	Left  float64 `json:"left"`
	Right float64 `json:"right"`
	Width float64 `json:"width"`
	Clip  float64 `json:"clip"`
}

// checkInView checks, on the page the tab shows, that every cell the specs name lies inside
// the screen with nothing scrolled: it starts at or right of 0 and ends at or left of both
// the screen's width and its table's scroll box (getBoundingClientRect), and is not hidden.
func (b *browser) checkInView(t *testing.T, page string, v viewport, specs []string) {
	t.Helper()
	q, _ := json.Marshal(specs)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]struct {
		Scrolled float64   `json:"scrolled"`
		Cells    []cellBox `json:"cells"`
	}](inViewJS+"("+string(q)+")"))
	if err != nil || len(got) != len(specs) {
		t.Errorf("%s at %s: measuring %v: %v", page, v.name, specs, err)
		return
	}
	for k, spec := range specs {
		m := got[k]
		if len(m.Cells) == 0 && !strings.HasPrefix(spec, "?") {
			t.Errorf("%s at %s: %s: no such cells", page, v.name, spec)
		}
		if m.Scrolled != 0 {
			t.Errorf("%s at %s: the page or a table is scrolled sideways by %v px", page, v.name, m.Scrolled)
		}
		for _, c := range m.Cells {
			if c.Width <= 0 || c.Left < 0 || c.Right > min(float64(v.width), c.Clip)+0.5 {
				t.Errorf("%s at %s: %s: %q spans %.1f–%.1f px, not inside the %d px screen (its table shows up to %.1f px)",
					page, v.name, spec, c.Text, c.Left, c.Right, v.width, c.Clip)
				break
			}
		}
	}
}

// onlyFrom allows requests to the prefix and data: addresses.
func onlyFrom(prefix string) func(string) bool {
	return func(u string) bool { return strings.HasPrefix(u, prefix) || strings.HasPrefix(u, "data:") }
}

// TestBrowser opens every page of the demo (清城区) in headless Chromium at a desktop and a
// phone width, from the running server and from the exported files, and the pages of an
// assessment whose names are hostile markup and script. See check for what each page must
// pass. It also saves a screenshot of the overview (to docs/ with -screenshot).
func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second) // ~40 s on an idle 2-core machine
	defer cancel()

	mon := demoMonitor(t)
	base := startServer(t, mon)
	a := mon.Assessment()
	pages := []string{"/", "/rankings", "/alerts"}
	for _, tw := range a.Townships {
		pages = append(pages, "/townships/"+tw.Code)
	}
	for _, ind := range a.Indicators {
		pages = append(pages, "/indicators/"+ind.Code)
	}
	dir := t.TempDir()
	if _, err := Export(context.Background(), mon, mon.DefaultPeriod(), dir); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ctx, chromium)
	live := onlyFrom(base + "/")

	// and the pages of a month before December, with their forecasts (预计全年)
	midYear := []string{"/?period=2025-09", "/townships/feilaixia?period=2025-09", "/indicators/breast_screening_persons?period=2025-09"}
	chartsOf := map[string][]string{}
	for _, v := range []viewport{desktop, phone} {
		if err := b.setViewport(v); err != nil {
			t.Fatal(err)
		}
		for _, p := range append(slices.Clone(pages), midYear...) {
			st := b.check(t, base+p, v, live)
			chartsOf[p] = st.Charts
			if v.mobile {
				b.checkInView(t, p, v, keyCells(p, a.UnitsShort()))
			}
		}
	}

	// A batch of 13 files folds in 报送记录: the table's first columns stay on the screen and
	// the table is no longer a strip of file names.
	folded := startServer(t, newMonitor(t, smallConfig, append(smallBatches(), thirteenFiles()), fixedNow))
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	b.check(t, folded+"/townships/bb?period=2024-03", phone, onlyFrom(folded+"/"))
	b.checkInView(t, "/townships/bb (13 files)", phone, []string{"#submissions 时间", "#submissions 报送人", "#submissions 月份"})
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`document.querySelector('#submissions').getBoundingClientRect().width`)); err != nil || w > 2*float64(phone.width) {
		t.Errorf("报送记录 with 13 files is %v px wide on a %d px phone (%v), want at most two screens", w, phone.width, err)
	}
	// and the folded list reads within its cell: no name runs over into the next column
	src, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#submissions td.src')).filter(td => td.scrollWidth > td.clientWidth + 1 || td.innerText.includes('第03份')).map(td => td.innerText.trim())`))
	if err != nil || len(src) > 0 {
		t.Errorf("报送记录's sources spill out of their cells or the 13 files do not fold (%v): %q", err, src)
	}

	// The exported files draw the same charts from file://.
	fileURL := func(name string) string {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, name))}).String()
	}
	static := onlyFrom("file://")
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		name := strings.TrimPrefix(p, "/") + ".html"
		if p == "/" {
			name = "index.html"
		}
		st := b.check(t, fileURL(name), phone, static)
		if !slices.Equal(st.Charts, chartsOf[p]) {
			t.Errorf("%s: exported page draws %v, served page %v", name, st.Charts, chartsOf[p])
		}
	}

	// Charts follow the window: the ranking chart narrows with it.
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + "/"); err != nil {
		t.Fatal(err)
	}
	widthJS := `document.querySelector('#overview-heat canvas').getBoundingClientRect().width`
	wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](widthJS))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.setViewport(viewport{"narrow", 600, 900, 1, false}); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(b.ctx, 5*time.Second)
	narrow, err := chromedp.Run(wctx, chromedp.Poll[float64](`(() => { const w = `+widthJS+`; return w < 600 ? w : 0; })()`))
	wcancel()
	if err != nil || narrow >= wide {
		t.Errorf("the heat map did not follow the window: %v px wide at 1280, %v px at 600 (%v)", wide, narrow, err)
	}

	// The township's trend runs to December: hovering December shows the forecast's
	// tooltip, 预计全年 with its interval.
	if _, err := b.open(base + "/townships/feilaixia?period=2025-09"); err != nil {
		t.Fatal(err)
	}
	pt, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
	  const el = document.querySelector('#township-trend');
	  el.scrollIntoView();
	  const c = echarts.getInstanceByDom(el);
	  const [x, y] = c.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, ['12月', 50]);
	  const r = el.getBoundingClientRect();
	  return [r.left + x, r.top + y];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, pt[0], pt[1])); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(b.ctx, 3*time.Second)
	tip, err := chromedp.Run(tctx, chromedp.Poll[string](`(() => { const t = Array.from(document.querySelectorAll('#township-trend div')).map(d => d.innerText).join('|'); return t.includes('预计全年') && t; })()`))
	tcancel()
	if err != nil || !strings.Contains(tip, "12月") || !strings.Contains(tip, "区间") {
		t.Errorf("hovering December on the township's trend: tooltip %q (%v), want 预计全年 with its interval", tip, err)
	}
	b.take()

	// A click on the first bar of the ranking opens that township's page.
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + "/"); err != nil {
		t.Fatal(err)
	}
	pt, err = chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
	  const el = document.querySelector('#overview-ranking');
	  el.scrollIntoView();
	  const c = echarts.getInstanceByDom(el);
	  const v = c.getOption().series[0].data[0].value;
	  const [x, y] = c.convertToPixel({seriesIndex: 0}, [v / 2, 0]);
	  const r = el.getBoundingClientRect();
	  return [r.left + x, r.top + y];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	// A mouse comes to the bar before it clicks, as ECharts expects of a click.
	if err := chromedp.Do(b.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, pt[0], pt[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`new Promise(r => setTimeout(() => r(true), 200))`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.MouseClickXY(pt[0], pt[1])); err != nil {
		t.Fatal(err)
	}
	first := mon.DefaultPeriod()
	r, _ := mon.Evaluate(first)
	// The click navigates: read the address until the new page answers (the old page's
	// script context goes away on the way).
	var where string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`)); err == nil && p != "/" {
			where = p
			break
		}
	}
	if want := "/townships/" + r.Rankings[0].Township; where != want {
		t.Errorf("a click on the first ranking bar went to %q, want %s", where, want)
	}
	b.take()

	// The screenshot of the overview for the README.
	if err := b.setViewport(viewport{"screenshot", 1280, 1500, 1, false}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + "/"); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`new Promise(r => setTimeout(() => r(true), 600))`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, png, "overview.png")
	// And the first screen a leader sees on a phone.
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + "/"); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`new Promise(r => setTimeout(() => r(true), 600))`)); err != nil {
		t.Fatal(err)
	}
	if png, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, png, "overview-phone.png")
	b.take()

	// Hostile names: no dialog opens, not even when a tooltip shows them.
	hostile := newMonitor(t, hostileConfig, hostileBatches(), fixedNow)
	hbase := startServer(t, hostile)
	hpages := []string{"/", "/rankings", "/alerts", "/townships/aa", "/townships/bb", "/townships/cc", "/indicators/screenings", "/indicators/closure", "/indicators/honors"}
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	for _, p := range hpages {
		b.check(t, hbase+p, desktop, onlyFrom(hbase+"/"))
	}
	b.check(t, hbase+"/", desktop, onlyFrom(hbase+"/"))
	box, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('#overview-heat').getBoundingClientRect(); window.scrollTo(0, r.top + window.scrollY - 10); const q = document.querySelector('#overview-heat').getBoundingClientRect(); return [q.left, q.top, q.width, q.height]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	var tips string
	for _, f := range [][2]float64{{0.3, 0.45}, {0.55, 0.6}, {0.8, 0.8}} {
		x, y := box[0]+box[2]*f[0], box[1]+box[3]*f[1]
		if err := chromedp.Do(b.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y)); err != nil {
			t.Fatal(err)
		}
		tctx, tcancel := context.WithTimeout(b.ctx, 3*time.Second)
		tip, err := chromedp.Run(tctx, chromedp.Poll[string](`Array.from(document.querySelectorAll('#overview-heat div')).map(d => d.textContent).join('|').includes('alert(1)') && Array.from(document.querySelectorAll('#overview-heat div')).map(d => d.textContent).join('|')`))
		tcancel()
		if err == nil {
			tips += tip
		}
	}
	if !strings.Contains(tips, "</script><script>alert(1)</script>") && !strings.Contains(tips, `"><img src=x onerror=alert(1)>`) {
		t.Errorf("the heat map's tooltip did not show a hostile name as text: %q", tips)
	}
	_, problems, dialogs := b.take()
	for _, d := range dialogs {
		t.Errorf("hovering the hostile heat map opened a dialog: %s", d)
	}
	for _, p := range problems {
		t.Errorf("hovering the hostile heat map: %s", p)
	}
}

// saveScreenshot checks that png is a picture of a page and writes it to the test's temp dir,
// or to ../docs with -screenshot.
func saveScreenshot(t *testing.T, png []byte, name string) {
	t.Helper()
	if !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 50_000 {
		t.Errorf("%s is not a picture of the page (%d bytes)", name, len(png))
	}
	out := filepath.Join(t.TempDir(), name)
	if *screenshot {
		out = filepath.Join("..", "docs", name)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
