package charts

import (
	"context"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// TestBrowserLargeAssessment opens the pages of a city's assessment of 300 units (县区) ×
// 40 indicators, January to November, in headless Chromium at a desktop and a phone width,
// served and exported: every chart draws with nothing in the console and nothing scrolling
// sideways, the key cells lie on the phone's screen; the ranking chart stays short (the first
// and the last 10), the heat map's cells stay wide enough to tap, a search box finds a unit
// the charts leave out and opens its page, and the long tables page.
func TestBrowserLargeAssessment(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	spec := synth.Spec{Townships: 300, Indicators: 40, Months: 11, Seed: 1}
	a := scaledAssessment(t, spec, kpi.LevelCity)
	var year []kpi.Observation
	silent := a.Townships[299].Code // sends nothing for the latest month: 本月未报送 in the ranking
	if err := synth.Generate(a, spec, func(o kpi.Observation) error {
		if o.Township != silent || o.Period.Month != spec.Months {
			year = append(year, o)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mon := monitorFor(t, a, []batch{{"市妇联", "synth.csv", provinceNow.Add(-48 * time.Hour), year}}, provinceNow)
	base := startServer(t, mon)
	p := mon.DefaultPeriod()
	r, err := mon.Evaluate(p)
	if err != nil {
		t.Fatal(err)
	}
	bonus := a.Indicators[len(a.Indicators)-2].Code // drawn by value, not by share of a target
	pages := []string{"/", "/rankings", "/alerts", "/townships/" + a.Townships[0].Code, "/indicators/" + a.Indicators[0].Code, "/indicators/" + bonus}
	b := newBrowser(t, ctx, chromium)
	live := onlyFrom(base + "/")
	for _, v := range []viewport{desktop, phone} {
		if err := b.setViewport(v); err != nil {
			t.Fatal(err)
		}
		for _, pg := range pages {
			b.check(t, base+pg, v, live)
			if v.mobile {
				b.checkInView(t, pg, v, keyCells(pg, a.UnitsShort()))
			}
		}
		// The overview's charts stay readable: the ranking is 21 bars (the first 10, a gap,
		// the last 10), the heat map's cells are wide enough to tap.
		if _, err := b.open(base + "/"); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		  const rank = echarts.getInstanceByDom(document.querySelector('#overview-ranking'));
		  const heat = echarts.getInstanceByDom(document.querySelector('#overview-heat'));
		  const w = heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [1, 0])[0] - heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [0, 0])[0];
		  const h = heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [0, 1])[1] - heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [0, 0])[1];
		  return [document.querySelector('#overview-ranking').getBoundingClientRect().height, rank.getOption().yAxis[0].data.length, w, h,
		    heat.getOption().xAxis[0].data.length];
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] > 700 || got[1] != 2*topN+1 {
			t.Errorf("at %s the ranking chart is %v px tall with %v bars, want at most 700 px and %d", v.name, got[0], got[1], 2*topN+1)
		}
		if got[2] < 16 || got[3] < 16 || got[4] != float64(len(a.Townships)) {
			t.Errorf("at %s the heat map's cells are %.1f × %.1f px over %v units, want at least 16 × 16 over %d", v.name, got[2], got[3], got[4], len(a.Townships))
		}
	}

	// A unit the charts leave out (ranked 150th) is found by the search box under the
	// ranking, and Enter opens its page.
	mid := r.Rankings[150]
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + "/"); err != nil {
		t.Fatal(err)
	}
	want := "/townships/" + mid.Township + "?period=" + p.String()
	found, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
	  const box = document.querySelector('#overview-ranking ~ .unit-search input');
	  box.value = `+strconv.Quote(mid.Name)+`;
	  box.dispatchEvent(new Event('input'));
	  return Array.from(document.querySelectorAll('#overview-ranking ~ .unit-search .unit-results a')).map(a => a.getAttribute('href'));
	})()`))
	if err != nil || len(found) != 1 || found[0] != want {
		t.Fatalf("searching %s found %q (%v), want %s", mid.Name, found, err, want)
	}
	if err := chromedp.Do(b.ctx, chromedp.Focus(`#overview-ranking ~ .unit-search input`), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	var where string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`)); err == nil && p != "/" {
			where = p
			break
		}
	}
	if where != "/townships/"+mid.Township {
		t.Errorf("Enter in the search box went to %q, want %s's page", where, mid.Name)
	}
	b.take()

	// The ranking pages: 50 rows, the next page starts at the 51st, and the first page made
	// again in the browser reads as the one the server sent.
	if _, err := b.open(base + "/rankings"); err != nil {
		t.Fatal(err)
	}
	rowsJS := `Array.from(document.querySelectorAll('#ranks tbody tr')).map(tr => tr.innerText.replace(/\s+/g, ' ').trim())`
	click := func(step int) []string {
		t.Helper()
		rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => { document.querySelector('nav[data-pager="ranks"] button[data-page="`+strconv.Itoa(step)+`"]').click(); return `+rowsJS+`; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	first, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](rowsJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != pageRows || !strings.Contains(first[0], r.Rankings[0].Name) {
		t.Fatalf("the ranking's first page has %d rows, the first %q; want %d from %s", len(first), first[0], pageRows, r.Rankings[0].Name)
	}
	if next := click(1); len(next) != pageRows || !strings.Contains(next[0], r.Rankings[pageRows].Name) || !strings.HasPrefix(next[0], strconv.Itoa(r.Rankings[pageRows].Rank)) {
		t.Errorf("the ranking's second page starts %q, want %d %s", next[0], r.Rankings[pageRows].Rank, r.Rankings[pageRows].Name)
	}
	if back := click(-1); strings.Join(back, "\n") != strings.Join(first, "\n") {
		t.Errorf("the first page made in the browser differs from the server's:\n%q\n%q", back[:3], first[:3])
	}
	pager, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('nav[data-pager="ranks"]').innerText`))
	if err != nil || !strings.Contains(pager, "第 1 / 6 页") {
		t.Errorf("the pager reads %q (%v), want 第 1 / 6 页", pager, err)
	}
	// a unit that sent nothing this month is marked on the page the browser makes, as on the
	// server's first page
	at := -1
	for k, x := range r.Rankings {
		if x.Township == silent {
			at = k
		}
	}
	if at < pageRows {
		t.Fatalf("the silent unit ranks %d, want it beyond the first page (the fixture changed)", at+1)
	}
	var rows []string
	for range at / pageRows {
		rows = click(1)
	}
	name := a.Townships[299].Name
	seen := false
	for _, row := range rows {
		if strings.Contains(row, name) {
			seen = true
			if !strings.Contains(row, "本月未报送") {
				t.Errorf("%s, which sent nothing this month, ranks on page %d without 本月未报送: %q", name, at/pageRows+1, row)
			}
		} else if strings.Contains(row, "本月未报送") {
			t.Errorf("a unit that reported is marked 本月未报送: %q", row)
		}
	}
	if !seen {
		t.Errorf("%s is not on page %d: %q", name, at/pageRows+1, rows)
	}
	// The indicator's units, in config order, page the same way.
	if _, err := b.open(base + "/indicators/" + a.Indicators[0].Code); err != nil {
		t.Fatal(err)
	}
	evals, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => { document.querySelector('nav[data-pager="evals"] button[data-page="1"]').click(); return Array.from(document.querySelectorAll('#evals tbody tr')).map(tr => tr.innerText); })()`))
	if err != nil || len(evals) != pageRows || !strings.HasPrefix(strings.TrimSpace(evals[0]), a.Townships[pageRows].Name) {
		t.Errorf("the indicator's second page starts %q (%v), want %s", evals[:min(1, len(evals))], err, a.Townships[pageRows].Name)
	}
	// The nav's menu of units is a search box.
	if _, err := b.open(base + "/townships/" + a.Townships[0].Code); err != nil {
		t.Fatal(err)
	}
	menu, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
	  document.querySelector('.nav details.menu summary').click();
	  const box = document.querySelector('.menu-search input');
	  box.value = `+strconv.Quote(a.Townships[299].Name)+`;
	  box.dispatchEvent(new Event('input'));
	  return Array.from(document.querySelectorAll('.menu-search .unit-results a')).filter(a => a.getBoundingClientRect().width > 0).map(a => a.textContent);
	})()`))
	if err != nil || len(menu) != 1 || menu[0] != a.Townships[299].Name {
		t.Errorf("the nav's search found %q (%v), want %s", menu, err, a.Townships[299].Name)
	}
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`Math.max(document.documentElement.scrollWidth, document.querySelector('.menu-search').getBoundingClientRect().right)`)); err != nil || w > float64(phone.width) {
		t.Errorf("the nav's open search reaches %v px on a %d px phone (%v)", w, phone.width, err)
	}
	b.take()

	// The exported pages search and page from file://, their links relative.
	dir := t.TempDir()
	if _, err := Export(context.Background(), mon, p, dir); err != nil {
		t.Fatal(err)
	}
	index := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}).String()
	b.check(t, index, phone, onlyFrom("file://"))
	hrefs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
	  const box = document.querySelector('#overview-ranking ~ .unit-search input');
	  box.value = `+strconv.Quote(mid.Name)+`;
	  box.dispatchEvent(new Event('input'));
	  return Array.from(document.querySelectorAll('#overview-ranking ~ .unit-search .unit-results a')).map(a => a.getAttribute('href'));
	})()`))
	if err != nil || len(hrefs) != 1 || hrefs[0] != "townships/"+mid.Township+".html" {
		t.Errorf("the exported overview's search found %q (%v), want townships/%s.html", hrefs, err, mid.Township)
	}
	rankings := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "rankings.html"))}).String()
	b.check(t, rankings, phone, onlyFrom("file://"))
	if next := click(1); len(next) != pageRows || !strings.Contains(next[0], r.Rankings[pageRows].Name) {
		t.Errorf("the exported ranking's second page starts %q", next[:min(1, len(next))])
	}

	// Hostile names in a large assessment stay text in the search box's results and the
	// paged tables: no dialog opens.
	var reports []kpi.Observation
	for u := range manyUnits + 1 {
		reports = append(reports, obs("u"+strconv.Itoa(u), "screenings", "2024-01", float64(u)), ratio("u"+strconv.Itoa(u), "closure", "2024-01", 9, 10))
	}
	hostile := newMonitor(t, hostileLargeConfig(), []batch{{"x", "x.csv", fixedNow.Add(-30 * 24 * time.Hour), reports}}, fixedNow)
	hbase := startServer(t, hostile)
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	for _, pg := range []string{"/", "/rankings", "/indicators/screenings"} {
		b.check(t, hbase+pg, desktop, onlyFrom(hbase+"/"))
	}
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
	  const box = document.querySelector('#indicator-townships ~ .unit-search input');
	  box.value = 'alert';
	  box.dispatchEvent(new Event('input'));
	  document.querySelector('nav[data-pager="evals"] button[data-page="1"]').click();
	  return Array.from(document.querySelectorAll('#indicator-townships ~ .unit-search .unit-results a')).map(a => a.textContent);
	})()`))
	if err != nil || len(shown) == 0 || !strings.Contains(strings.Join(shown, "|"), hostileNames[0]) {
		t.Errorf("searching the hostile names found %q (%v)", shown, err)
	}
	time.Sleep(300 * time.Millisecond)
	_, problems, dialogs := b.take()
	for _, d := range append(problems, dialogs...) {
		t.Errorf("hostile names in a large assessment: %s", d)
	}
}
