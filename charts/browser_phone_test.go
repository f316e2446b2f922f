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

// TestBrowserPhone tries the demo's pages on a 390 × 844 phone as a leader does: the nav's
// menus open within the screen, whatever the length of the names in them.
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
}
