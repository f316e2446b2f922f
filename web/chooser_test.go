package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chooserFixture serves two counties' assessments of 2026 (no city over them: / is the
// chooser) and one of them in 2025.
func chooserFixture(t *testing.T) *fixture {
	qc := "{code: dongcheng, name: 东城街道}, {code: shijiao, name: 石角镇}"
	fg := "{code: shijiao, name: 石角镇}, {code: tangtang, name: 汤塘镇}, {code: gaogang, name: 高岗镇}"
	return newFixture(t, county(t, "qc-2025", 2025, qc), county(t, "qc-2026", 2026, qc), county(t, "fg-2026", 2026, fg))
}

// TestChooserListsThisYearFirst: the chooser puts this year's assessments under their year
// and the others under 其他年度, each a card that is a link, with no inline style or script
// (its Content-Security-Policy allows neither).
func TestChooserListsThisYearFirst(t *testing.T) {
	f := chooserFixture(t)
	for _, c := range []struct{ path, lead string }{{"/", "请选择一项查看"}, {"/nope/x", "没有这个页面"}} {
		resp, body := f.do(t, "GET", c.path, "", "")
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
		if !strings.Contains(body, c.lead) {
			t.Errorf("%s: the chooser does not say %s", c.path, c.lead)
		}
		this, others, ok := strings.Cut(body, "<h2>其他年度</h2>")
		if !ok || !strings.Contains(this, "<h2>2026 年度</h2>") {
			t.Fatalf("%s: no 2026 年度 then 其他年度 headings:\n%s", c.path, body)
		}
		cards := regexp.MustCompile(`<a class="choice( current)?" href="/([^/"]+)/">`)
		var got []string
		for _, part := range []string{this, others} {
			for _, m := range cards.FindAllStringSubmatch(part, -1) {
				got = append(got, m[2]+m[1])
			}
			got = append(got, "|")
		}
		if want := "qc-2026 current,fg-2026 current,|,qc-2025,|"; strings.Join(got, ",") != want {
			t.Errorf("%s: cards %v, want %s (this year's first, marked)", c.path, got, want)
		}
		if strings.Contains(body, "style=") || strings.Contains(body, "<script") {
			t.Errorf("%s: the chooser has an inline style or script", c.path)
		}
	}
}

// TestBrowserChooser opens the chooser in headless Chromium at 390×844: the stylesheet
// applies (cards, this year's marked), nothing scrolls sideways, every card lies on the
// screen and is tall enough to tap, and the console is clean (no CSP refusal).
func TestBrowserChooser(t *testing.T) {
	path, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium not found (/usr/bin/chromium)")
		}
		t.Skip("Chromium not found (/usr/bin/chromium)")
	}
	f := chooserFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	var mu sync.Mutex
	var problems []string
	chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, ev.ExceptionDetails.Text)
		case *log.EventEntryAdded: // a CSP refusal (an icon the policy forbids), a failed load
			if ev.Entry.Level == log.EntryLevelError && !strings.HasSuffix(ev.Entry.URL, "/no-such-place") { // the page's own 404 is meant
				problems = append(problems, "log error: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventResponseReceived:
			if strings.Contains(ev.Response.URL, "favicon") && ev.Response.Status != 200 {
				problems = append(problems, fmt.Sprintf("%s: %d", ev.Response.URL, ev.Response.Status))
			}
		}
	})
	if _, err := chromedp.Call(bctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(".choice")); err != nil {
		t.Fatal(err)
	}
	type card struct {
		Left, Right, Top, Height, Border float64
		Current                          bool
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[struct {
		ScrollWidth float64 `json:"scrollWidth"`
		Cards       []card  `json:"cards"`
		Display     string  `json:"display"`
	}](`(() => ({
	  scrollWidth: document.documentElement.scrollWidth,
	  display: getComputedStyle(document.querySelector('.choice')).display,
	  cards: Array.from(document.querySelectorAll('.choice')).map(a => { const r = a.getBoundingClientRect(), s = getComputedStyle(a);
	    return {Left: r.left, Right: r.right, Top: r.top, Height: r.height, Border: parseFloat(s.borderLeftWidth), Current: a.classList.contains('current')}; }),
	}))()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.ScrollWidth > 390 || got.Display != "block" || len(got.Cards) != 3 {
		t.Fatalf("the chooser at 390 px: %d px wide, cards display %q, %d cards", int(got.ScrollWidth), got.Display, len(got.Cards))
	}
	for i, c := range got.Cards {
		if c.Left < 0 || c.Right > 390 || c.Height < 44 || c.Border != 4 || c.Current != (i < 2) || c.Top > 844 {
			t.Errorf("card %d: %+v, want on the 390 × 844 screen, at least 44 px tall, a 4 px border, this year's first", i, c)
		}
	}
	// an unknown address shows the chooser too, with the same clean console; the icon loads
	if err := chromedp.Do(bctx, chromedp.Navigate(f.ts.URL+"/no-such-place"), chromedp.WaitVisible(".choice")); err != nil {
		t.Fatal(err)
	}
	icon, err := chromedp.Run(bctx, chromedp.Evaluate[string](`new Promise(done => { const img = new Image();
	  img.onload = () => done(img.naturalWidth + 'x' + img.naturalHeight); img.onerror = () => done('error');
	  img.src = document.querySelector('link[rel=icon]').href; })`, chromedp.EvalAwaitPromise))
	if err != nil || icon != "32x32" {
		t.Errorf("the chooser's icon: %q (%v), want a 32 × 32 picture", icon, err)
	}
	for _, u := range []string{"/favicon.ico", "/assets/favicon.png"} {
		resp, body := f.do(t, "GET", u, "", "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") {
			t.Errorf("%s: %d %s, want the icon", u, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("the chooser: %s", p)
	}
}
