// Package collector reads the figures townships report (CSV, JSON and Excel) into kpi
// observations and validates them against an assessment. It touches no database: a Batch
// gathers the rows of one or more files, checks every one, and either yields all of them or
// lists the invalid rows as FILE:LINE: what is wrong, so a clerk fixes a file in one pass.
// Writing a valid batch is the storage package's job.
//
// # Errors
//
// Every error names the place of the field that is wrong: FILE:LINE for CSV, FILE[INDEX]
// for JSON, FILE:SHEET!CELL for Excel, where the cell is the one typed in (or to be filled
// in), not the row's first. An unknown township or indicator, or a wrong month, repeated on
// many rows of a file is told once with its rows (第 2、3、4 … 行，共 32 行), and a name
// near one of the assessment's is answered with it (是否为“东城街道”？). A batch lists at most
// MaxListedErrors errors and counts the rest (另有 N 处错误未列出): rows past the cap are
// still read, to count them, but hold no memory, so a large file of bad rows costs about
// its own size. The items of an Excel form left blank are not errors; Blanks names them.
//
// # Numbers
//
// A figure is written in decimal as people type it: an optional sign, digits with at most
// one decimal point, an optional exponent (1e3), thousands separators grouped by three
// (1,234.5), full-width digits and separators (１，２３４) and surrounding spaces. Anything
// else is refused, including what Go's strconv.ParseFloat would take but no clerk means:
// NaN, Inf, hexadecimal (0x1p4), digit underscores (1_000) and numbers too large for a
// float64 (1e400). A percent sign is refused with advice: a ratio is reported as its
// numerator and denominator, never as a percentage.
//
// # Bounds
//
// A month's figure for one township must also be plausible, so that a slip of the finger
// (1e308, a pasted ID number) cannot reach the sums, the pages and /metrics as an overflow
// or +Inf:
//
//   - count and stock: at most 1e9 (10 亿). A county has fewer than 10 million people, and
//     events, places and amounts in 万元 stay far below; an indicator whose unit is 元 may
//     reach 1e12 (1 万亿), since amounts in yuan run larger.
//   - ratio: the denominator (and so the numerator, which may not exceed it) at most 1e9:
//     a ratio counts cases or people.
//   - bonus: at most the indicator's max, the cap on the whole year's points: a month above
//     the year's cap is a mistake (50 for 5.0), and would be capped away in any case.
//   - milestone and veto: 0 or 1, or a word for yes or no, in every format as in the
//     Excel form's drop-down: 是, 完成, 已完成, 有, 发生, 已发生, Y, yes, true, √, ✓ for
//     yes; 否, 未完成, 无, 没有, 未发生, N, no, false, ×, ✗ for no (any case or width).
//
// Negative counts, stocks and bonuses, and a numerator above its denominator, are refused by
// the kpi package's rules of each kind.
package collector
