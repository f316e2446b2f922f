package charts

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

// specOf decodes a chart's options as the page's script reads them.
func specOf(t *testing.T, c chart) map[string]any {
	t.Helper()
	var spec map[string]any
	if err := json.Unmarshal([]byte(c.Spec), &spec); err != nil {
		t.Fatalf("chart %s: %v", c.ID, err)
	}
	return spec
}

// TestShareAxis: the progress charts' axis of shares has at most five labels at least 25%
// apart and reaches the longest bar, not far beyond it.
func TestShareAxis(t *testing.T) {
	for _, c := range []struct {
		name      string
		top       float64
		end, step float64
		showEnd   bool
	}{
		{"nothing beyond the target", 100, 100, 25, true},
		{"below the target", 64, 100, 25, true},
		{"just beyond the target", 102.4, 110, 50, false},
		{"half again", 150, 150, 50, true},
		{"the longest drawn", maxShare, 200, 50, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			end, step, showEnd := shareAxis(c.top)
			if end != c.end || step != c.step || showEnd != c.showEnd {
				t.Errorf("shareAxis(%v) = %v, %v, %v; want %v, %v, %v", c.top, end, step, showEnd, c.end, c.step, c.showEnd)
			}
			if labels := math.Floor(end/step) + 1; labels > 5 {
				t.Errorf("shareAxis(%v): %v labels", c.top, labels)
			}
		})
	}
}

// luminance is a colour's relative luminance (WCAG 2).
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) == 4 {
		hex = "#" + string([]byte{hex[1], hex[1], hex[2], hex[2], hex[3], hex[3]})
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("colour %q: %v", hex, err)
	}
	lin := func(c uint64) float64 {
		x := float64(c) / 255
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestProgressChartPaceMarker: the 序时进度 marker is outlined in a colour that stands out
// (3:1, WCAG's ratio for graphics) against every status's bar and the white page; its own
// orange does not against an amber (预警) bar. The axis carries the steps of shareAxis.
func TestProgressChartPaceMarker(t *testing.T) {
	c, err := progressChart("p", "进度", []progressRow{
		{Name: "甲", Got: kpi.Some(102.4), Want: kpi.Some(83.3), Status: kpi.StatusMet},
		{Name: "乙", Got: kpi.Some(80), Want: kpi.Some(83.3), Status: kpi.StatusAtRisk},
	}, kpi.Num{})
	if err != nil {
		t.Fatal(err)
	}
	spec := specOf(t, c)
	marker := at(t, spec, "option.series.1")
	if name := at(t, marker, "name"); name != "序时进度" {
		t.Fatalf("series 1 is %v, want the 序时进度 marker", name)
	}
	edge, _ := at(t, marker, "itemStyle.borderColor").(string)
	width, _ := at(t, marker, "itemStyle.borderWidth").(float64)
	if edge == "" || width < 1 {
		t.Fatalf("the marker has no outline: borderColor %q, borderWidth %v", edge, width)
	}
	if got := contrast(t, colorExpected, statusColors["at_risk"]); got >= 3 {
		t.Errorf("the marker's orange against an amber bar is %.2f:1: the outline would not be needed", got)
	}
	for status, bar := range statusColors {
		if got := contrast(t, edge, bar); got < 3 {
			t.Errorf("the marker's outline %s against a %s bar (%s): %.2f:1, want at least 3:1", edge, status, bar, got)
		}
	}
	if got := contrast(t, edge, "#ffffff"); got < 3 {
		t.Errorf("the marker's outline %s against the page: %.2f:1, want at least 3:1", edge, got)
	}
	axis := at(t, spec, "option.xAxis.0")
	if at(t, axis, "max") != 110.0 || at(t, axis, "interval") != 50.0 || at(t, axis, "axisLabel.showMaxLabel") != false {
		t.Errorf("the axis: max %v, interval %v, showMaxLabel %v; want 110, 50, false",
			at(t, axis, "max"), at(t, axis, "interval"), at(t, axis, "axisLabel.showMaxLabel"))
	}
}

// TestTownshipChartsForPhones: on a township's page the 名次走势 leaves room above its plot
// for the labels over a first place, and the trend's legend is a plain one the page's
// script lays out (fitLegend), not one that pages.
func TestTownshipChartsForPhones(t *testing.T) {
	mon := demoMonitor(t)
	s, err := TakeSnapshot(context.Background(), mon, mustPeriod(t, "2025-10"))
	if err != nil {
		t.Fatal(err)
	}
	rank, err := rankHistoryChart("township-rank", s, s.Assessment.Townships[0].Code)
	if err != nil {
		t.Fatal(err)
	}
	top, _ := strconv.Atoi(at(t, specOf(t, rank), "option.grid.0.top").(string))
	labelFont, labelOffset := 12, 5 // ECharts' defaults for a label above a point
	if top < labelFont+labelOffset+4 {
		t.Errorf("the 名次走势's plot starts %d px from the top; a label above a first place needs %d px", top, labelFont+labelOffset+4)
	}
	trend, err := trendChart("township-trend", s, 0)
	if err != nil {
		t.Fatal(err)
	}
	spec := specOf(t, trend)
	if typ := at(t, spec, "option.legend.type"); typ != "plain" || spec["fitLegend"] != true {
		t.Errorf("the trend's legend is of type %v, fitLegend %v; want plain, true", typ, spec["fitLegend"])
	}
}
