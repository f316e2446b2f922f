package charts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/opts"
)

// chart is one chart on a page: a container with a fixed ID and the chart's options as
// JSON, which the page carries in a <script type="application/json"> element.
type chart struct {
	ID     string      // fixed DOM id, e.g. "overview-ranking"
	Title  string      // the heading above the chart
	Note   string      // a line under the heading
	Height int         // container height in px
	Search string      // the units' noun when a search box for units follows the chart (large assessments); empty otherwise
	Spec   template.JS // chartSpec as JSON; json.Marshal escapes <, > and &, so it cannot end the element
}

// chartSpec is what the static script reads for one chart. Formatters are named, never
// code: the script maps the names it knows to functions.
type chartSpec struct {
	Option      map[string]any `json:"option"`
	Tips        [][]string     `json:"tips,omitempty"`        // tooltip text per series and data item, shown as text
	Links       [][]string     `json:"links,omitempty"`       // page a click on a data item opens, per series and data item
	ValueFormat string         `json:"valueFormat,omitempty"` // "percent" or "number": how tooltips write values
	// AxisTips makes an axis tooltip (trigger "axis") list each series at the month: its
	// tip where Tips has one, nothing where the tip is "" (a forecast's band, the months a
	// forecast line crosses), and its name and value (ValueFormat) where Tips has none.
	AxisTips bool `json:"axisTips,omitempty"`
	// Follows ties series to the legend entries of the indicators they belong to: each
	// [series index, indicator name] is drawn only while both that indicator and FollowAll
	// (去年同期) are switched on in the legend, so last year's line of an indicator comes and
	// goes with it. Empty for charts without such series.
	Follows   [][2]any `json:"follows,omitempty"`
	FollowAll string   `json:"followAll,omitempty"`
	// Heat is a large assessment's heat map, which the script expands (heatCells).
	Heat *heatCells `json:"heat,omitempty"`
	// FitLabels is the length in characters of the x axis's longest label (the units of a
	// heat map): the script lays the labels flat where the chart's width gives each that
	// much room, slants them where it gives less, and stands them up where it gives too
	// little for that, as the window changes. 0 leaves the labels as the option says.
	FitLabels int `json:"fitLabels,omitempty"`
	// FitLegend makes the script lay out a legend of many long names (a trend's indicators)
	// for the chart's width: names cut with "…" to what two to a row allow (a phone) or at
	// most 160 px, as many rows as they take, and the plot moved down and the chart made
	// taller by the rows' height, so that no name hides on a scrolling legend's other page.
	FitLegend bool `json:"fitLegend,omitempty"`
}

// echartsOptions is what every go-echarts chart offers.
type echartsOptions interface {
	Validate()
	JSON() map[string]interface{}
}

// newChart turns a go-echarts chart into a page chart. The options go through JSON once so
// that patches can reach what go-echarts does not model (visualMap pieces, label overflow);
// patches are "path=value" pairs applied to the decoded options (see setPath).
func newChart(id, title string, height int, c echartsOptions, spec chartSpec, patches ...patch) (chart, error) {
	c.Validate()
	raw, err := json.Marshal(c.JSON())
	if err != nil {
		return chart{}, fmt.Errorf("chart %s: %w", id, err)
	}
	var option map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&option); err != nil {
		return chart{}, fmt.Errorf("chart %s: %w", id, err)
	}
	// A tidy base every chart shares: no toolbox (its save-as-image needs nothing from
	// outside, but leaders do not need it), a short animation, the default palette.
	delete(option, "toolbox")
	option["animationDuration"] = 300
	option["textStyle"] = map[string]any{"fontFamily": fontFamily}
	for _, p := range patches {
		if err := setPath(option, p.path, p.value); err != nil {
			return chart{}, fmt.Errorf("chart %s: %w", id, err)
		}
	}
	spec.Option = option
	out, err := json.Marshal(spec)
	if err != nil {
		return chart{}, fmt.Errorf("chart %s: %w", id, err)
	}
	return chart{ID: id, Title: title, Height: height, Spec: template.JS(out)}, nil
}

// fontFamily is the system font stack: no web fonts are loaded.
const fontFamily = `system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif`

// patch sets one value in a chart's decoded options.
type patch struct {
	path  string
	value any
}

func set(path string, value any) patch { return patch{path, value} }

// setPath sets value at a dotted path such as "yAxis.0.axisLabel.width"; numeric segments
// index arrays, missing objects are created.
func setPath(obj map[string]any, path string, value any) error {
	parts := strings.Split(path, ".")
	var cur any = obj
	for i, part := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				node[part] = value
				return nil
			}
			next, ok := node[part]
			if !ok || next == nil {
				next = map[string]any{}
				node[part] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(node) {
				return fmt.Errorf("option path %s: no element %q", path, part)
			}
			if last {
				node[n] = value
				return nil
			}
			cur = node[n]
		default:
			return fmt.Errorf("option path %s: %q is not an object", path, part)
		}
	}
	return nil
}

// Colours of the statuses (the bulletin's 亮灯: green, amber, red, grey) and of grades.
var statusColors = map[string]string{
	"met": "#2e7d32", "on_track": "#66bb6a", "at_risk": "#f9a825",
	"behind": "#d32f2f", "no_data": "#9e9e9e", "not_applicable": "#cfd8dc",
}

// gradeColor colours grade i of n: the first green, the last red, those between blue.
func gradeColor(i, n int) string {
	switch {
	case i == 0:
		return "#2e7d32"
	case i == n-1:
		return "#d32f2f"
	}
	return "#1976d2"
}

// seriesColors colour the indicators of a chart with many lines, so that an indicator's
// forecast can take its actuals' colour (ECharts' default palette, in its order).
var seriesColors = []string{"#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"}

// Colours used for figures against their target.
const (
	colorLastYear = "#90a4ae" // 去年同期: the legend's mark and the county's line
	colorActual   = "#1976d2"
	colorExpected = "#f57c00"
	colorTarget   = "#455a64"
	colorBonus    = "#8e24aa"
)

func itemColor(c string) *opts.ItemStyle { return &opts.ItemStyle{Color: c} }

// rowsHeight is the height of a chart with one band per row.
func rowsHeight(rows, perRow, extra, minimum int) int {
	return max(minimum, rows*perRow+extra)
}

// nonEmpty lists the charts that were built.
func nonEmpty(cs ...chart) []chart {
	out := cs[:0:0]
	for _, c := range cs {
		if c.ID != "" {
			out = append(out, c)
		}
	}
	return out
}
