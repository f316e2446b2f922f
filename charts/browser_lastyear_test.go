package charts

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/synth"
)

// TestBrowserLastYear opens the pages of the demo's qingcheng-2026, whose deployment holds
// qingcheng-2025 (同比), in headless Chromium at a desktop and a phone width: every chart
// draws, nothing scrolls sideways, and on the phone the columns that matter (the name and
// 状态; 名次, 乡镇, 总分, 等次) stay on the screen beside the new 较去年同期 and 去年同期 columns.
// The legend's 去年同期 switches every indicator's line of last year, and an indicator's line
// of last year comes and goes with the indicator. A large assessment (55 units, two years)
// makes the same columns in the browser when its tables page (55 units, two pages).
func TestBrowserLastYear(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	dep := demoDeployment(t)
	base := startDeployment(t, dep)
	const id = "/qingcheng-2026"
	pages := []string{"/", "/rankings", "/alerts", "/townships/feilaixia", "/townships/dongcheng", "/indicators/cervical_screening_persons", "/indicators/half_year_summary", "/indicators/org_coverage_rate"}
	b := newBrowser(t, ctx, chromium)
	live := onlyFrom(base + "/")
	for _, v := range []viewport{desktop, phone} {
		if err := b.setViewport(v); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			b.check(t, base+id+p, v, live)
			if v.mobile {
				b.checkInView(t, id+p, v, keyCells(p, "乡镇"))
			}
		}
	}
	// the new columns are there, after the ones that matter
	if err := b.setViewport(phone); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ page, table, col string }{
		{"/", "county", "较去年同期"}, {"/townships/feilaixia", "evals", "较去年同期"},
		{"/indicators/cervical_screening_persons", "evals", "较去年同期"}, {"/rankings", "ranks", "去年同期"},
	} {
		if _, err := b.open(base + id + c.page); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#`+c.table+` thead th')).map(th => th.textContent.trim())`))
		if err != nil || !strings.Contains(strings.Join(got, "|"), c.col) {
			t.Errorf("%s: table %s has columns %q (%v), want %s", c.page, c.table, got, err, c.col)
		}
	}

	// The legend's 去年同期 switches last year's lines; an indicator's goes with it.
	if err := b.setViewport(desktop); err != nil {
		t.Fatal(err)
	}
	if _, err := b.open(base + id + "/townships/feilaixia"); err != nil {
		t.Fatal(err)
	}
	// the names of the indicators whose line of last year is drawn
	const drawnJS = `(() => {
	  const c = echarts.getInstanceByDom(document.querySelector('#township-trend'));
	  const o = c.getOption();
	  return o.series.filter(s => s.name === '去年同期' && s.data.length > 0).map(s => s.itemStyle.color);
	})()`
	drawn := func() []string {
		t.Helper()
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](drawnJS))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	toggle := func(name string) {
		t.Helper()
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { echarts.getInstanceByDom(document.querySelector('#township-trend')).dispatchAction({type: 'legendToggleSelect', name: `+strconv.Quote(name)+`}); return true; })()`)); err != nil {
			t.Fatal(err)
		}
	}
	shown := drawn()
	if len(shown) != 5 {
		t.Errorf("at first %d lines of last year are drawn, want 5: one for each indicator shown", len(shown))
	}
	toggle("去年同期")
	if got := drawn(); len(got) != 0 {
		t.Errorf("with 去年同期 switched off, %d lines of last year are drawn", len(got))
	}
	toggle("去年同期")
	if got := drawn(); strings.Join(got, ",") != strings.Join(shown, ",") {
		t.Errorf("with 去年同期 switched on again the lines of %v are drawn, want %v", got, shown)
	}
	// the sixth indicator (not shown at first) brings its line of last year
	sixth, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`echarts.getInstanceByDom(document.querySelector('#township-trend')).getOption().legend[0].data
	  .map(d => typeof d === 'string' ? d : d.name).filter(n => n !== '去年同期' && n !== '时间进度')[5]`))
	if err != nil {
		t.Fatal(err)
	}
	toggle(sixth)
	if got := drawn(); len(got) != 6 {
		t.Errorf("with %s switched on, %d lines of last year are drawn, want 6", sixth, len(got))
	}
	b.take()

	// A large assessment of two years: its paged tables make the columns in the browser as
	// the server does.
	spec := synth.Spec{Townships: pageRows + 5, Indicators: 10, Months: 12}
	var years []deployed
	for _, y := range []int{2023, 2024} {
		spec.Year, spec.Seed = y, uint64(y)
		cfg, err := synth.Config(spec)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kpi.ParseConfig("x.yaml", cfg)
		if err != nil {
			t.Fatal(err)
		}
		var o []kpi.Observation
		if err := synth.Generate(a, spec, func(x kpi.Observation) error {
			if x.Period.Year == 2023 || x.Period.Month <= 11 {
				o = append(o, x)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		years = append(years, deployed{cfg: fmt.Sprintf("id: big-%d\n%s", y, cfg), batches: []batch{{"县妇联", "synth.csv", provinceNow.Add(-48 * time.Hour), o}}})
	}
	big := newDeployment(t, provinceNow, years...)
	bbase := startDeployment(t, big)
	for _, c := range []struct{ page, table, cell string }{{"/rankings", "ranks", "td.ly-rank"}, {"/indicators/i000", "evals", "td.ly"}} {
		b.check(t, bbase+"/big-2024"+c.page, desktop, onlyFrom(bbase+"/"))
		rowsJS := `Array.from(document.querySelectorAll('#` + c.table + ` tbody tr')).map(tr => tr.innerText.replace(/\s+/g, ' ').trim())`
		first, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](rowsJS))
		if err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`(() => {
		  const nav = 'nav[data-pager="`+c.table+`"] button[data-page=';
		  document.querySelector(nav + '"1"]').click();
		  const second = [document.querySelectorAll('#`+c.table+` tbody tr').length, document.querySelectorAll('#`+c.table+` tbody `+c.cell+`').length];
		  document.querySelector(nav + '"-1"]').click();
		  return second;
		})()`))
		if err != nil || got[0] != 5 || got[1] != 5 {
			t.Errorf("%s: the second page has %v rows and cells %s (%v), want 5 of each", c.page, got, c.cell, err)
		}
		again, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](rowsJS))
		if err != nil || strings.Join(again, "\n") != strings.Join(first, "\n") {
			t.Errorf("%s: the first page made in the browser differs from the server's (%v):\n%q\n%q", c.page, err, again[:min(2, len(again))], first[:min(2, len(first))])
		}
	}
	_, problems, dialogs := b.take()
	for _, d := range append(problems, dialogs...) {
		t.Errorf("the large assessment's pages: %s", d)
	}
}
