package charts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCity opens every page of the demo's city (qingyuan-2026, 清远市 over 清城区,
// 佛冈县 and 清新区) in headless Chromium at a desktop and a phone width: every chart draws,
// nothing scrolls sideways, the cells that matter stay on the phone's screen. On the phone a
// leader goes from the city's overview to a county's page within the city and on to the
// county's own assessment, and from the overview's list of counties straight to one. The heat
// map of three counties keeps its columns narrow and its labels flat, of twenty stands or
// slants them as the width allows. A city of 55 counties
// links each to its own assessment in the rows its ranking makes in the browser.
func TestBrowserCity(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()

	dep := demoDeployment(t)
	base := startDeployment(t, dep)
	city := monitorOf(t, dep, "qingyuan-2026")
	a := city.Assessment()
	const id = "/qingyuan-2026"
	pages := []string{"/", "/rankings", "/alerts"}
	for _, tw := range a.Townships {
		pages = append(pages, "/townships/"+tw.Code)
	}
	for _, ind := range a.Indicators {
		pages = append(pages, "/indicators/"+ind.Code)
	}
	b := newBrowser(t, ctx, chromium)
	live := onlyFrom(base + "/")
	for _, v := range []viewport{desktop, phone} {
		if err := b.setViewport(v); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			b.check(t, base+id+p, v, live)
			if v.mobile {
				b.checkInView(t, id+p, v, keyCells(p, a.UnitsShort()))
			}
		}
	}

	// the heat map of three counties: columns of at most 140 px at 1280, labels flat at both widths
	for _, v := range []viewport{desktop, phone} {
		if err := b.setViewport(v); err != nil {
			t.Fatal(err)
		}
		if _, err := b.open(base + id + "/"); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		  const heat = echarts.getInstanceByDom(document.querySelector('#overview-heat'));
		  const w = heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [1, 0])[0] - heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [0, 0])[0];
		  return [w, heat.getOption().xAxis[0].axisLabel.rotate];
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] > 140.5 || got[0] < 40 || got[1] != 0 {
			t.Errorf("at %s the heat map's columns are %.1f px wide, labels rotated %v°; want 40–140 px and flat", v.name, got[0], got[1])
		}
	}

	// On the phone: the overview → the first county's page within the city → its own assessment.
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	follow := func(from, selector, wantPath string) {
		t.Helper()
		if _, err := b.open(base + from); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(b.ctx, chromedp.ScrollIntoView(selector), chromedp.Click(selector)); err != nil {
			t.Fatalf("%s: clicking %s: %v", from, selector, err)
		}
		var where string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`)); err == nil && strings.HasPrefix(p, wantPath) {
				where = p
				break
			}
		}
		if where == "" {
			t.Fatalf("%s: clicking %s did not open %s", from, selector, wantPath)
		}
		b.check(t, base+where, phone, live)
		unit := "乡镇" // a county's own pages
		if strings.HasPrefix(where, id+"/") {
			unit = a.UnitsShort()
		}
		b.checkInView(t, where, phone, keyCells(where[strings.Index(where[1:], "/")+1:], unit))
	}
	r, err := city.Evaluate(city.DefaultPeriod())
	if err != nil {
		t.Fatal(err)
	}
	first := r.Rankings[0].Township // the overview's 第一名 tile links its page
	follow(id+"/", ".tile a[href^='"+id+"/townships/']", id+"/townships/"+first)
	// the banner on the county's page is on the screen and opens the county's own assessment
	own := a.Townships[a.TownshipIndex(first)].Assessment
	box, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('.own-banner a').getBoundingClientRect(); return [r.left, r.right, r.top]; })()`))
	if err != nil || box[0] < 0 || box[1] > float64(phone.width) || box[2] > float64(phone.height) {
		t.Errorf("the county's link to its own assessment lies at %v on a %d × %d phone (%v)", box, phone.width, phone.height, err)
	}
	follow(id+"/townships/"+first, ".own-banner a", "/"+own+"/")
	// the overview's list of counties goes straight to each one's own assessment
	for _, tw := range a.Townships {
		follow(id+"/", "#own a[href^='/"+tw.Assessment+"/']", "/"+tw.Assessment+"/")
	}
	b.take()

	// A city of 20 counties: the heat map's labels stand on the phone, slant on the desktop,
	// and its columns stay wide enough to tap on the phone.
	twenty := startDeployment(t, newDeployment(t, cityNow, largeCity(20)...))
	for _, c := range []struct {
		v      viewport
		rotate float64
	}{{phone, 90}, {desktop, 45}} {
		if err := b.setViewport(c.v); err != nil {
			t.Fatal(err)
		}
		b.check(t, twenty+"/bigcity-2024/?period=2024-03", c.v, onlyFrom(twenty+"/"))
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		  const heat = echarts.getInstanceByDom(document.querySelector('#overview-heat'));
		  const w = heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [1, 0])[0] - heat.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [0, 0])[0];
		  return [w, heat.getOption().xAxis[0].axisLabel.rotate];
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] < 10 || got[0] > 140.5 || got[1] != c.rotate {
			t.Errorf("20 counties at %s: columns %.1f px, labels rotated %v°; want 10–140 px and %v°", c.v.name, got[0], got[1], c.rotate)
		}
	}

	// A city of 55 counties: the ranking's second page, made in the browser, links each county.
	big := newDeployment(t, cityNow, largeCity(pageRows+5)...)
	bbase := startDeployment(t, big)
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	b.check(t, bbase+"/bigcity-2024/rankings?period=2024-03", desktop, onlyFrom(bbase+"/"))
	links, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
	  document.querySelector('nav[data-pager="ranks"] button[data-page="1"]').click();
	  return Array.from(document.querySelectorAll('#ranks tbody tr')).map(tr => {
	    const name = tr.children[1].querySelector('a'), own = tr.children[1].querySelector('a.own');
	    return name.textContent + '|' + (own ? own.getAttribute('href') + '|' + own.textContent : '');
	  });
	})()`))
	if err != nil || len(links) != 5 {
		t.Fatalf("the ranking's second page: %q (%v), want 5 rows", links, err)
	}
	for _, l := range links {
		parts := strings.Split(l, "|")
		code := strings.TrimPrefix(parts[0], "县")
		if len(parts) != 3 || parts[1] != "/c"+code+"-2024/?period=2024-03" || parts[2] != "进入"+parts[0]+"考核 →" {
			t.Errorf("a row of the second page: %q, want its link to /c%s-2024/", l, code)
		}
	}
	_, problems, dialogs := b.take()
	for _, d := range append(problems, dialogs...) {
		t.Errorf("the large city's ranking: %s", d)
	}
}
