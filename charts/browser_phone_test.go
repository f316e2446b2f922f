package charts

import (
	"context"
	"strconv"
	"strings"
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
	base, b, live := phoneOnTheDemo(t, 180*time.Second)

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

// chartTextJS lists the texts a chart drew (axis labels, data labels, legend names) with
// their boxes in the chart's pixels, and the chart's size, the legend's names and the top of
// its plot area (the grid). Text a label hides (hideOverlap) or a scrolling legend keeps off
// its page is left out.
const chartTextJS = `((id) => {
  const c = echarts.getInstanceByDom(document.getElementById(id));
  const texts = c.getZr().storage.getDisplayList(true)
    .filter(e => e.type === 'tspan' && !e.ignore && !e.invisible && e.style && e.style.text && (e.style.opacity == null || e.style.opacity > 0))
    .map(e => { const r = e.getBoundingRect().clone(); if (e.transform) r.applyTransform(e.transform);
      return {text: String(e.style.text), x: r.x, y: r.y, w: r.width, h: r.height}; });
  const o = c.getOption();
  const legend = o.legend && o.legend[0] && o.legend[0].show !== false ? (o.legend[0].data || []).map(d => typeof d === 'string' ? d : d.name) : [];
  const grid = o.grid && o.grid[0] ? c.getModel().getComponent('grid', 0).coordinateSystem.getRect() : null;
  return {width: c.getWidth(), height: c.getHeight(), texts: texts, legend: legend, legendType: legend.length ? o.legend[0].type || 'plain' : '', gridTop: grid ? grid.y : 0};
})`

// chartTexts is what chartTextJS measures of a chart.
type chartTexts struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Texts  []struct {
		Text string  `json:"text"`
		X    float64 `json:"x"`
		Y    float64 `json:"y"`
		W    float64 `json:"w"`
		H    float64 `json:"h"`
	} `json:"texts"`
	Legend     []string `json:"legend"`
	LegendType string   `json:"legendType"`
	GridTop    float64  `json:"gridTop"`
}

// TestBrowserPhoneCharts draws the charts a leader reads on a 390 × 844 phone and measures
// their texts: every label lies within its chart (the 名次走势's "1" of a first place is not
// cut off at the top), no two labels overlap or touch (the 进度 charts' "80%100%"), and a
// legend shows every name (whole, or cut with "…") above the plot, without pages to leaf
// through. Widened to a desktop, the trend's legend is laid out again and still fits.
func TestBrowserPhoneCharts(t *testing.T) {
	base, b, live := phoneOnTheDemo(t, 180*time.Second)
	pages := []struct {
		path   string
		charts []string
	}{
		{"/qingyuan-2026/townships/qingcheng", []string{"township-rank", "township-progress", "township-trend"}},
		{"/qingcheng-2026/townships/feilaixia", []string{"township-rank", "township-progress", "township-trend"}},
		{"/qingyuan-2026/", []string{"overview-county"}},
	}
	for _, p := range pages {
		b.check(t, base+p.path, phone, live)
		time.Sleep(time.Second) // the charts' entry animation (300 ms) fades the labels in
		for _, id := range p.charts {
			t.Run(p.path+"#"+id, func(t *testing.T) { checkChartTexts(t, b, id) })
		}
	}
	// the last page of a township, widened to a desktop without reloading
	b.check(t, base+"/qingcheng-2026/townships/feilaixia", phone, live)
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	t.Run("widened#township-trend", func(t *testing.T) {
		got := checkChartTexts(t, b, "township-trend")
		if got.Width < 500 {
			t.Errorf("the chart is %.0f px wide after widening the window: the test measures nothing", got.Width)
		}
	})
}

// checkChartTexts measures the texts of chart id (chartTextJS) and checks them.
func checkChartTexts(t *testing.T, b *browser, id string) chartTexts {
	t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[chartTexts](chartTextJS+"("+strconv.Quote(id)+")"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Texts) == 0 {
		t.Fatalf("no text drawn: the test measures nothing")
	}
	const slack = 0.5
	for _, x := range got.Texts {
		if x.X < -slack || x.Y < -slack || x.X+x.W > got.Width+slack || x.Y+x.H > got.Height+slack {
			t.Errorf("label %q at (%.1f, %.1f) %.1f × %.1f px runs out of the %.0f × %.0f chart", x.Text, x.X, x.Y, x.W, x.H, got.Width, got.Height)
		}
	}
	// labels side by side need a gap to read as two ("80%100%" touched)
	const gap = 4.0
	for i, x := range got.Texts {
		for _, y := range got.Texts[i+1:] {
			if x.X+x.W+gap > y.X && y.X+y.W+gap > x.X && x.Y+x.H > y.Y+slack && y.Y+y.H > x.Y+slack {
				t.Errorf("labels %q (%.1f–%.1f, %.1f–%.1f) and %q (%.1f–%.1f, %.1f–%.1f) overlap or touch",
					x.Text, x.X, x.X+x.W, x.Y, x.Y+x.H, y.Text, y.X, y.X+y.W, y.Y, y.Y+y.H)
			}
		}
	}
	if got.LegendType == "scroll" {
		t.Errorf("the legend pages (type %q): names are hidden on pages to leaf through", got.LegendType)
	}
	for _, name := range got.Legend {
		found := false
		for _, x := range got.Texts {
			cut := strings.TrimSuffix(x.Text, "…")
			if x.Text == name || cut != x.Text && strings.HasPrefix(name, cut) {
				found = true
				if x.Y+x.H > got.GridTop+slack {
					t.Errorf("legend name %q (bottom %.1f px) reaches into the plot (top %.1f px)", x.Text, x.Y+x.H, got.GridTop)
				}
			}
		}
		if !found {
			t.Errorf("legend name %q is not drawn", name)
		}
	}
	return got
}

// foldJS measures an alerts page on the phone: its height, the folded rows, the alerts
// visible, then the same with every fold opened (a tap on its summary).
const foldJS = `(() => {
  const visible = () => Array.from(document.querySelectorAll('table.alerts td.c-text')).filter(td => !td.closest('tr.fold')).filter(td => td.checkVisibility() && td.offsetHeight > 0).length
    + Array.from(document.querySelectorAll('li.member')).filter(li => li.checkVisibility() && li.offsetHeight > 0).length;
  const closed = {height: document.documentElement.scrollHeight, folds: document.querySelectorAll('tr.fold').length, visible: visible()};
  document.querySelectorAll('details.members summary').forEach(s => s.click());
  return {closed: closed, open: {height: document.documentElement.scrollHeight, folds: closed.folds, visible: visible()},
    total: Array.from(document.querySelectorAll('#critical .tile-value, .tiles .tile-value')).slice(0, 2).map(v => parseInt(v.textContent.replace(/,/g, ''), 10))};
})()`

// foldState is what foldJS measures.
type foldState struct {
	Height  float64 `json:"height"`
	Folds   int     `json:"folds"`
	Visible int     `json:"visible"`
}

// TestBrowserPhoneAlerts opens the demo's alerts pages on a 390 × 844 phone: a unit's alerts
// of one kind come folded (the page is shorter by the height of the alerts inside), and a
// tap on a fold shows every alert in it, so that all the alerts the tiles count (严重, 警告)
// can be read.
func TestBrowserPhoneAlerts(t *testing.T) {
	base, b, live := phoneOnTheDemo(t, 120*time.Second)
	for _, p := range []string{"/qingyuan-2026/alerts", "/qingcheng-2026/alerts"} {
		b.check(t, base+p, phone, live)
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[struct {
			Closed foldState `json:"closed"`
			Open   foldState `json:"open"`
			Total  []int     `json:"total"`
		}](foldJS))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.0f px with %d folds closed, %.0f px open; %d alerts visible closed, %d open, tiles %v",
			p, got.Closed.Height, got.Closed.Folds, got.Open.Height, got.Closed.Visible, got.Open.Visible, got.Total)
		if got.Closed.Folds == 0 {
			t.Errorf("%s: no alerts folded", p)
		}
		if len(got.Total) != 2 || got.Open.Visible != got.Total[0]+got.Total[1] {
			t.Errorf("%s: with every fold open %d alerts can be read; the tiles count %v", p, got.Open.Visible, got.Total)
		}
		if got.Closed.Visible >= got.Open.Visible || got.Closed.Height >= got.Open.Height {
			t.Errorf("%s: folded, %d alerts show in %.0f px; opened, %d in %.0f px", p, got.Closed.Visible, got.Closed.Height, got.Open.Visible, got.Open.Height)
		}
	}
}

// phoneOnTheDemo serves the demo's deployment and opens a Chromium at 390 × 844 for at most
// limit: the server's base URL, the browser and the check that requests stay on the server.
func phoneOnTheDemo(t *testing.T, limit time.Duration) (string, *browser, func(string) bool) {
	t.Helper()
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	base := startDeployment(t, demoDeployment(t))
	b := newBrowser(t, ctx, chromium)
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	return base, b, onlyFrom(base + "/")
}
