package charts

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var linkRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestExportWritesLinkedStaticPages exports the small assessment and follows every link of
// every page: each relative address names a file that was written, and none is absolute,
// so the folder works from file:// and from any web server.
func TestExportWritesLinkedStaticPages(t *testing.T) {
	mon := newMonitor(t, smallConfig, smallBatches(), fixedNow)
	dir := t.TempDir()
	res, err := Export(context.Background(), mon, mustPeriod(t, "2024-03"), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index.html", "rankings.html", "alerts.html", "rankings.csv", "townships/aa.html", "townships/bb.html",
		"indicators/screenings.html", "indicators/incident.html", "assets/echarts.min.js", "assets/kpimon.js", "assets/kpimon.css", "assets/favicon.png"}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("not written: %s", f)
		}
	}
	if len(res.Files) != 3+1+2+6+4 {
		t.Errorf("%d files written: %v", len(res.Files), res.Files)
	}
	pages := renderPages(t, mon, mustPeriod(t, "2024-03"), true)
	for _, f := range res.Files {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != pages[f] {
			t.Errorf("%s differs from the page the builders render", f)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			link := m[1]
			if strings.HasPrefix(link, "data:image/png;base64,") && strings.Contains(string(b), `<link rel="icon" type="image/png" href="`+link+`">`) { // the inline icon, so that browsers ask for none
				continue
			}
			if strings.HasPrefix(link, "#") { // an anchor on the same page
				if !strings.Contains(string(b), `id="`+link[1:]+`"`) {
					t.Errorf("%s: anchor %q has no element", f, link)
				}
				continue
			}
			if link == "" || strings.HasPrefix(link, "/") || strings.Contains(link, ":") || strings.Contains(link, "?") {
				t.Errorf("%s: link %q is not a relative file", f, link)
				continue
			}
			file, anchor, _ := strings.Cut(link, "#")
			target := filepath.Join(dir, filepath.FromSlash(filepath.ToSlash(filepath.Dir(f))), filepath.FromSlash(file))
			body, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s: link %q leads nowhere", f, link)
			} else if anchor != "" && !strings.Contains(string(body), `id="`+anchor+`"`) {
				t.Errorf("%s: link %q leads to a page without that anchor", f, link)
			}
		}
	}
	js, _ := os.ReadFile(filepath.Join(dir, "assets", "echarts.min.js"))
	if len(js) < 1<<20-100_000 || !strings.Contains(string(js[:2000]), "Apache") {
		t.Errorf("assets/echarts.min.js is not ECharts (%d bytes)", len(js))
	}
}
