package kpi

import (
	"math"
	"testing"
)

func TestFormatFigure(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		unit string
		want string
	}{
		{"the trial's 万元 figure", 12345.5, "万元", "12,345.50"},
		{"the same figure in people", 12345.5, "人", "12,345.5"},
		{"no unit", 12345.5, "", "12,345.5"},
		{"a whole count stays whole", 1500, "人次", "1,500"},
		{"a count rounds to two decimals", 2.345, "场", "2.35"},
		{"trailing zeros dropped", 12.10, "个", "12.1"},
		{"money keeps both decimals", 300, "万元", "300.00"},
		{"money in 元", 1234567.891, "元", "1,234,567.89"},
		{"money unit with spaces", 5, " 万元 ", "5.00"},
		{"1e15 without an exponent", 1e15, "人", "1,000,000,000,000,000"},
		{"1e21 without an exponent", 1e21, "", "1,000,000,000,000,000,000,000"},
		{"1e-7 rounds to zero", 1e-7, "人", "0"},
		{"1e-7 in money", 1e-7, "万元", "0.00"},
		{"negative", -12345.5, "件", "-12,345.5"},
		{"negative money", -0.5, "元", "-0.50"},
		{"a negative that rounds to zero has no sign", -0.001, "人", "0"},
		{"half rounds away from zero", 0.125, "", "0.13"},
		{"negative half rounds away from zero", -0.125, "", "-0.13"},
		{"three digits need no separator", 999, "户", "999"},
		{"four digits do", 1000, "户", "1,000"},
		{"zero", 0, "篇", "0"},
		{"NaN", math.NaN(), "人", "—"},
		{"+Inf", math.Inf(1), "人", "—"},
		{"-Inf", math.Inf(-1), "万元", "—"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatFigure(tc.v, tc.unit); got != tc.want {
				t.Errorf("FormatFigure(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
			}
		})
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		name     string
		v        float64
		decimals int
		fixed    bool
		want     string
	}{
		{"no decimals", 1234567.4, 0, false, "1,234,567"},
		{"four decimals, trailing zeros dropped", 0.12500, 4, false, "0.125"},
		{"fixed one decimal", 93.25, 1, true, "93.3"},
		{"negative decimals are zero", 12.7, -3, false, "13"},
		{"huge value with fixed decimals", 1e22, 2, true, "10,000,000,000,000,000,000,000.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatDecimal(tc.v, tc.decimals, tc.fixed); got != tc.want {
				t.Errorf("FormatDecimal(%v, %d, %v) = %q, want %q", tc.v, tc.decimals, tc.fixed, got, tc.want)
			}
		})
	}
}

func TestFormatNumAndPercent(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"undefined figure", FormatNum(Num{}, "人"), "—"},
		{"defined figure", FormatNum(Some(12345.5), "万元"), "12,345.50"},
		{"FormatNumber has no unit", FormatNumber(2.5), "2.5"},
		{"percent", FormatPercent(Some(0.9333)), "93.3%"},
		{"percent of a large pace", FormatPercent(Some(43.3333)), "4,333.3%"},
		{"undefined percent", FormatPercent(Num{}), "—"},
		{"NaN percent", FormatPercent(Some(math.NaN())), "—"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestFormatEstimateAndRequired(t *testing.T) {
	tests := []struct {
		name          string
		v             float64
		unit          string
		estimate, req string
	}{
		{"people, a fraction", 125.03, "人", "125", "126"},
		{"person-times, half", 87.5, "人次", "88", "88"},
		{"whole stays whole", 300, "场", "300", "300"},
		{"a billionth over a whole number", 63.00000000000001, "人", "63", "63"},
		{"thousands", 2391.63, "人", "2,392", "2,392"},
		{"money keeps its cents", 12345.5, "万元", "12,345.50", "12,345.50"},
		{"a measure keeps decimals", 12.25, "小时", "12.25", "12.25"},
		{"no unit keeps decimals", 1.22, "", "1.22", "1.22"},
		{"unit with spaces", 300.5, " 人 ", "301", "301"},
		{"not a number", math.NaN(), "人", Dash, Dash},
		{"infinite", math.Inf(1), "人", Dash, Dash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatEstimate(tc.v, tc.unit); got != tc.estimate {
				t.Errorf("FormatEstimate(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.estimate)
			}
			if got := FormatRequired(tc.v, tc.unit); got != tc.req {
				t.Errorf("FormatRequired(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.req)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		name string
		v    float64
		unit string
		want float64
	}{
		{"people, a fraction", 583.33, "人", 584},
		{"people, whole in binary noise", 108 * 7.0 / 12, "人", 63},
		{"money, left as it is", 12345.5, "万元", 12345.5},
		{"no unit", 2.5, "", 2.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Required(c.v, c.unit); got != c.want {
				t.Errorf("Required(%v, %q) = %v, want %v", c.v, c.unit, got, c.want)
			}
		})
	}
}

func TestWholeRange(t *testing.T) {
	for _, c := range []struct {
		name                string
		est, low, high      float64
		unit                string
		wantE, wantL, wantH float64
	}{
		{"the high end stays under a whole target", 125.03, 125, 127.51, "人", 125, 125, 127},
		{"ends inward", 420.2, 349.81, 490.19, "人", 420, 350, 490},
		{"the estimate kept within", 127.6, 125.2, 127.7, "人", 127, 126, 127},
		{"no whole number inside", 0.43, 0.24, 0.63, "个", 0, 0, 0},
		{"no whole number inside, just under a whole target", 4.5, 4.2, 4.8, "个", 4, 4, 4},
		{"money as it is", 2685.89, 2500.5, 2700.25, "万元", 2685.89, 2500.5, 2700.25},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, l, h := WholeRange(c.est, c.low, c.high, c.unit)
			if e != c.wantE || l != c.wantL || h != c.wantH {
				t.Errorf("WholeRange(%v, %v, %v, %q) = %v, %v, %v, want %v, %v, %v", c.est, c.low, c.high, c.unit, e, l, h, c.wantE, c.wantL, c.wantH)
			}
		})
	}
}
