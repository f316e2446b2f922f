package charts

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// latinRE finds a word in Latin letters; placeholderRE a label template's placeholder
// ({value}), which ECharts replaces with a number.
var (
	latinRE       = regexp.MustCompile(`[A-Za-z]{2,}`)
	placeholderRE = regexp.MustCompile(`\{[a-z]+\}`)
	scriptRE      = regexp.MustCompile(`(?s)<script\b.*?</script>|<style\b.*?</style>`)
	tagRE         = regexp.MustCompile(`(?s)<[^>]*>`)
	sourceCellRE  = regexp.MustCompile(`(?s)<td class="src">.*?</td>`)
)

// latinAllowed are the words a Chinese page may carry in Latin letters: the product's name
// and the names of the download formats, as Chinese offices say them.
var latinAllowed = map[string]bool{"kpimon": true, "CSV": true, "Excel": true}

// visibleKeys are the chart option keys whose strings ECharts shows: series and category
// names, label templates and texts.
var visibleKeys = map[string]bool{"name": true, "data": true, "formatter": true, "text": true, "label": true}

// TestPagesSpeakChinese renders every page of the demo (清城区, a year of reports) and checks
// what a leader can read: the text of the page (file names in 报送记录 and 修订 are the
// townships' own data and left out), the chart option strings ECharts draws and every
// tooltip. No word in Latin letters but the product's name and CSV/Excel.
func TestPagesSpeakChinese(t *testing.T) {
	mon := demoMonitor(t)
	for _, static := range []bool{false, true} {
		for name, page := range renderPages(t, mon, mon.DefaultPeriod(), static) {
			text := sourceCellRE.ReplaceAllString(page, "")
			text = html.UnescapeString(tagRE.ReplaceAllString(scriptRE.ReplaceAllString(text, " "), " "))
			for _, w := range latinRE.FindAllString(text, -1) {
				if !latinAllowed[w] {
					t.Errorf("%s: the page says %q: %s", name, w, around(text, w))
				}
			}
			for id, s := range specs(t, page) {
				var walk func(key string, v any)
				walk = func(key string, v any) {
					switch n := v.(type) {
					case string:
						if visibleKeys[key] {
							for _, w := range latinRE.FindAllString(placeholderRE.ReplaceAllString(n, ""), -1) {
								t.Errorf("%s %s: the chart shows %q in %s = %q", name, id, w, key, n)
							}
						}
					case map[string]any:
						for k, x := range n {
							walk(k, x)
						}
					case []any:
						for _, x := range n {
							walk(key, x)
						}
					}
				}
				walk("", s.Option)
				for _, row := range s.Tips {
					for _, tip := range row {
						if w := latinRE.FindString(tip); w != "" {
							t.Errorf("%s %s: a tooltip says %q: %q", name, id, w, tip)
						}
					}
				}
			}
		}
	}
}

// around shows a word in its context.
func around(s, w string) string {
	i := strings.Index(s, w)
	from, to := max(0, i-60), min(len(s), i+len(w)+60)
	return strings.Join(strings.Fields(s[from:to]), " ")
}
