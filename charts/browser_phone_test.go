package charts

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// menuJS opens every menu of the nav (details.menu) one at a time and measures, with each
// open, the page's width and the right edge of the menu's links.
const menuJS = `(() => Array.from(document.querySelectorAll('details.menu')).map(d => {
  d.open = true;
  const links = Array.from(d.querySelectorAll('li a'));
  const right = Math.max(0, ...links.map(a => a.getBoundingClientRect().right));
  const left = Math.min(0, ...links.map(a => a.getBoundingClientRect().left));
  const r = {menu: d.querySelector('summary').textContent.trim(), scrollWidth: document.documentElement.scrollWidth, left: left, right: right};
  d.open = false;
  return r;
}))()`

// cueJS measures every table box on the page (.table-wrap of the pages, .wrap of the bulletin):
// whether it is wider than the screen shows, whether a visible line over it says it scrolls
// sideways, and whether its right edge fades (the pages' .table-scroll.more-right, whose
// ::after covers the edge) or carries the bulletin's shadow (a background on the box).
const cueJS = `(() => Array.from(document.querySelectorAll('.table-wrap, .wrap')).map(w => {
  const box = w.closest('.table-scroll') || w;
  let hint = box.previousElementSibling;
  const shown = !!hint && /scroll-hint|swipe/.test(hint.className) && hint.offsetHeight > 0 && getComputedStyle(hint).display !== 'none';
  const after = getComputedStyle(box, '::after');
  const fade = box.classList.contains('more-right') && after.opacity === '1' && parseFloat(after.width) >= 16;
  const shadow = getComputedStyle(w).backgroundImage.includes('gradient');
  return {id: (w.querySelector('table') || {}).id || '', wide: w.scrollWidth > w.clientWidth + 1,
    hint: shown ? hint.textContent : '', edge: fade || shadow, fade: fade};
}))()`

// tableCue is what cueJS measures of a table box.
type tableCue struct {
	ID   string `json:"id"`
	Wide bool   `json:"wide"`
	Hint string `json:"hint"`
	Edge bool   `json:"edge"`
	Fade bool   `json:"fade"`
}

// TestBrowserPhone tries the demo's pages on a 390 × 844 phone as a leader does: the nav's
// menus open within the screen, whatever the length of the names in them; a table wider than
// the screen says it scrolls sideways and fades at the edge where columns lie beyond (and
// stops fading when scrolled to its end), the bulletin's too.
func TestBrowserPhone(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()

	dep := demoDeployment(t)
	base := startDeployment(t, dep)
	b := newBrowser(t, ctx, chromium)
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	live := onlyFrom(base + "/")

	t.Run("menus", func(t *testing.T) {
		for _, p := range []string{"/qingyuan-2026/", "/qingcheng-2026/rankings", "/qingcheng-2026/townships/feilaixia"} {
			b.check(t, base+p, phone, live)
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]struct {
				Menu        string  `json:"menu"`
				ScrollWidth int64   `json:"scrollWidth"`
				Left        float64 `json:"left"`
				Right       float64 `json:"right"`
			}](menuJS))
			if err != nil || len(got) == 0 {
				t.Fatalf("%s: opening the menus: %v (%d menus)", p, err, len(got))
			}
			for _, m := range got {
				if m.ScrollWidth > phone.width || m.Left < 0 || m.Right > float64(phone.width) {
					t.Errorf("%s: with the menu %s open the page is %d px wide and its links span %.1f–%.1f px on a %d px phone",
						p, m.Menu, m.ScrollWidth, m.Left, m.Right, phone.width)
				}
			}
		}
	})

	t.Run("wide tables", func(t *testing.T) {
		pages := []string{"/qingyuan-2026/", "/qingyuan-2026/rankings", "/qingcheng-2026/", "/qingcheng-2026/rankings",
			"/qingcheng-2026/townships/feilaixia", "/qingcheng-2026/indicators/spring_bud_supported"}
		for _, p := range pages {
			b.check(t, base+p, phone, live)
			cues, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]tableCue](cueJS))
			if err != nil {
				t.Fatal(err)
			}
			wide := 0
			for _, c := range cues {
				if c.Wide {
					wide++
				}
				if c.Wide && (c.Hint != "左右滑动查看全部列 →" || !c.Fade) {
					t.Errorf("%s: table %q is wider than the phone; hint %q, fading edge %v", p, c.ID, c.Hint, c.Fade)
				}
				if !c.Wide && (c.Hint != "" || c.Fade) {
					t.Errorf("%s: table %q fits the phone yet has hint %q, fading edge %v", p, c.ID, c.Hint, c.Fade)
				}
			}
			if wide == 0 && p == "/qingcheng-2026/rankings" {
				t.Errorf("%s: no table wider than the phone, the test measures nothing", p)
			}
		}
		// scrolled to its end, the ranking no longer fades
		b.check(t, base+"/qingcheng-2026/rankings", phone, live)
		end, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		  const w = document.querySelector('#ranks').closest('.table-wrap');
		  w.scrollLeft = w.scrollWidth;
		  w.dispatchEvent(new Event('scroll'));
		  return w.closest('.table-scroll').classList.contains('more-right');
		})()`))
		if err != nil || end {
			t.Errorf("the ranking scrolled to its end still fades (%v)", err)
		}
		// the bulletin (a page without script) says so too
		if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/qingcheng-2026/rankings/bulletin.html?period=2026-10")); err != nil {
			t.Fatal(err)
		}
		cues, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]tableCue](cueJS))
		if err != nil || len(cues) == 0 {
			t.Fatalf("the bulletin's tables: %v (%v)", cues, err)
		}
		for _, c := range cues {
			if c.Wide && (c.Hint != "左右滑动查看全部列 →" || !c.Edge) {
				t.Errorf("the bulletin's table %q is wider than the phone; hint %q, shadow %v", c.ID, c.Hint, c.Edge)
			}
		}
		if !cues[0].Wide {
			t.Errorf("the bulletin's ranking fits the phone: the test measures nothing")
		}
	})

	t.Run("tap targets and cards", func(t *testing.T) {
		for _, p := range []string{"/qingyuan-2026/", "/qingyuan-2026/rankings", "/qingyuan-2026/townships/qingcheng", "/qingcheng-2026/rankings",
			"/qingcheng-2026/townships/feilaixia", "/qingcheng-2026/alerts"} {
			b.check(t, base+p, phone, live)
			small, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
			  'table.data td a, .downloads a, .own-list a, .own-banner a, a.own')).filter(a => a.offsetParent !== null)
			  .map(a => [a.textContent.trim(), a.getBoundingClientRect().height]).filter(x => x[1] < 24).map(x => x[0] + ' ' + x[1].toFixed(1) + ' px')`))
			if err != nil || len(small) > 0 {
				t.Errorf("%s: links under 24 px tall on a phone (%v): %q", p, err, small)
			}
		}
		b.check(t, base+"/qingyuan-2026/", phone, live)
		cut, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('.own-list li, .tile'))
		  .filter(el => el.scrollWidth > el.clientWidth + 1 || Array.from(el.querySelectorAll('*')).some(c => c.getBoundingClientRect().right > el.getBoundingClientRect().right + 0.5))
		  .map(el => el.textContent.trim())`))
		if err != nil || len(cut) > 0 {
			t.Errorf("cards whose text runs past their edge (%v): %q", err, cut)
		}
	})
}
