package kpi

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// Dash stands for a figure that is not defined (no report, nothing expected, not a number).
const Dash = "—"

// moneyUnits are the units of money figures, written with exactly two decimals as
// accounts are (12,345.50 万元).
var moneyUnits = map[string]bool{"元": true, "千元": true, "万元": true, "百万元": true, "亿元": true}

// UnitDecimals is the rule for how a figure in the unit is written: money (元, 千元, 万元,
// 百万元, 亿元) with exactly two decimals (fixed); every other unit — counting units such as
// 人, 人次, 场, 次, 个, 件, 户, 篇, 条, 笔, 对, measures such as 小时 or 公里, points (分) and
// no unit at all — with at most two decimals and the trailing zeros dropped, so whole
// numbers stay whole (1,500 人, 12.5 小时).
func UnitDecimals(unit string) (decimals int, fixed bool) {
	if moneyUnits[strings.TrimSpace(unit)] {
		return 2, true
	}
	return 2, false
}

// FormatFigure writes a figure in the unit for people: 千分位 separators, never an exponent,
// decimals by UnitDecimals (12,345.5 人; 12,345.50 万元), and Dash for NaN or ±Inf. It is the
// one way kpimon writes a figure in words: alert summaries, messages, the CLI, bulletins and
// pages all use it. The unit itself is not appended.
func FormatFigure(v float64, unit string) string {
	d, fixed := UnitDecimals(unit)
	return FormatDecimal(v, d, fixed)
}

// countingUnits are units of things counted one by one (people, events, places, cases):
// what a township reports in them is a whole number.
var countingUnits = map[string]bool{
	"人": true, "人次": true, "名": true, "户": true, "家": true, "对": true, "个": true, "件": true,
	"起": true, "场": true, "次": true, "期": true, "批": true, "项": true, "篇": true, "条": true,
	"笔": true, "份": true, "本": true, "所": true, "处": true, "座": true, "支": true, "台": true,
	"班": true, "队": true, "村": true, "社区": true,
}

// CountingUnit reports whether the unit counts things one by one (人, 人次, 场, 件, 个, …),
// so that its reported figures are whole numbers.
func CountingUnit(unit string) bool { return countingUnits[strings.TrimSpace(unit)] }

// FormatEstimate writes a figure kpimon works out rather than one reported — 预计全年 and
// its interval — for people: in a counting unit (CountingUnit) rounded to a whole number,
// since nobody screens 125.03 people (125 人); otherwise as FormatFigure. Dash for NaN or ±Inf.
func FormatEstimate(v float64, unit string) string {
	var buf [96]byte
	return string(appendEstimate(buf[:0], v, unit))
}

// appendEstimate appends FormatEstimate(v, unit) to dst.
func appendEstimate(dst []byte, v float64, unit string) []byte {
	if CountingUnit(unit) {
		return appendDecimal(dst, v, 0, false)
	}
	return appendFigure(dst, v, unit)
}

// WholeRange is how an estimate and its interval read in a counting unit (CountingUnit):
// the interval's ends are the whole numbers within it — the low end rounded up, the high end
// rounded down, so that an upper bound under a whole target (127.51 人 against 128) stays
// under it (127) — and the estimate is rounded and kept between them. Where no whole number
// lies within the interval (4.2–4.8) every figure reads as the whole number below it (4), so
// that the high end never rounds up to a whole target; in other units, or for a figure that
// is not finite, the figures are returned as they are.
func WholeRange(est, low, high float64, unit string) (e, l, h float64) {
	for _, v := range []float64{est, low, high} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return est, low, high
		}
	}
	if !CountingUnit(unit) {
		return est, low, high
	}
	l, h = math.Ceil(low-1e-9), math.Floor(high+1e-9)
	if l > h {
		// the interval lies between two whole numbers (4.2–4.8): the lower one, which the
		// December actual, a whole number no more than the high end, cannot pass
		return math.Floor(est + 1e-9), math.Floor(low + 1e-9), h
	}
	return min(max(math.Round(est), l), h), l, h
}

// FormatRequired writes a figure to reach — the expected figure by now (序时目标), what each
// remaining month must still bring (每月还需) — for people: in a counting unit rounded up to
// the least whole number that reaches it (87.5 人次 → 88 人次: a whole actual of 87 is short,
// 88 is not, exactly as the status judges it); otherwise as FormatFigure.
func FormatRequired(v float64, unit string) string {
	var buf [96]byte
	return string(appendRequired(buf[:0], v, unit))
}

// appendRequired appends FormatRequired(v, unit) to dst.
func appendRequired(dst []byte, v float64, unit string) []byte {
	if CountingUnit(unit) && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return appendDecimal(dst, Required(v, unit), 0, false)
	}
	return appendFigure(dst, v, unit)
}

// Required is a figure to reach as FormatRequired writes it, for a cell that holds a
// number (a workbook's): in a counting unit the least whole number that reaches v, else v.
func Required(v float64, unit string) float64 {
	if CountingUnit(unit) && !math.IsNaN(v) && !math.IsInf(v, 0) {
		// a billionth above a whole number is that number (binary floating point: 108 × 7/12
		// is 63.00000000000001)
		return math.Ceil(v - 1e-9)
	}
	return v
}

// FormatNumber writes a figure without a unit (a weight, points, a numerator): at most two
// decimals, 千分位 separators, never an exponent. It is FormatFigure(v, "").
func FormatNumber(v float64) string { return FormatFigure(v, "") }

// FormatNum writes a figure that may be undefined: Dash when it is, else FormatFigure.
func FormatNum(n Num, unit string) string {
	if !n.Valid {
		return Dash
	}
	return FormatFigure(n.V, unit)
}

// FormatDecimal writes v rounded half away from zero to decimals places with 千分位
// separators (12,345.68). With fixed every place is written (0.50); without it trailing
// zeros and a bare point are dropped (0.5, 7). Never an exponent, whatever the size (1e15 is
// 1,000,000,000,000,000); no negative zero; Dash for NaN or ±Inf. decimals is clamped to
// 0 … 10.
func FormatDecimal(v float64, decimals int, fixed bool) string {
	var buf [96]byte
	return string(appendDecimal(buf[:0], v, decimals, fixed))
}

// appendFigure appends FormatFigure(v, unit) to dst, for sentences built without
// intermediate strings (a large assessment writes tens of thousands of alert summaries).
func appendFigure(dst []byte, v float64, unit string) []byte {
	d, fixed := UnitDecimals(unit)
	return appendDecimal(dst, v, d, fixed)
}

// appendDecimal appends FormatDecimal(v, decimals, fixed) to dst.
func appendDecimal(dst []byte, v float64, decimals int, fixed bool) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, Dash...)
	}
	decimals = min(max(decimals, 0), 10)
	// beyond 2^53 every float64 is a whole number, and scaling it could overflow
	if math.Abs(v) < 1e15 {
		v = Round(v, decimals)
	}
	var digits [64]byte
	d := strconv.AppendFloat(digits[:0], math.Abs(v), 'f', decimals, 64)
	intPart, frac := d, d[:0]
	if dot := bytes.IndexByte(d, '.'); dot >= 0 {
		intPart, frac = d[:dot], d[dot+1:]
		if !fixed {
			frac = bytes.TrimRight(frac, "0")
		}
	}
	// no negative zero: −0.001 at two decimals is 0
	if v < 0 && (len(bytes.Trim(intPart, "0")) > 0 || len(bytes.Trim(frac, "0")) > 0) {
		dst = append(dst, '-')
	}
	for i := 0; i < len(intPart); i++ {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, intPart[i])
	}
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst
}

// FormatPercent writes a fraction as a percentage with one decimal (93.3%), or Dash when it
// is undefined or not a finite number.
func FormatPercent(n Num) string {
	if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return Dash
	}
	return FormatDecimal(n.V*100, 1, true) + "%"
}
