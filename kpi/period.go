package kpi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is one calendar month of an assessment year, written YYYY-MM.
type Period struct {
	Year  int
	Month int // 1 … 12
}

// ParsePeriod reads a period written YYYY-MM (also accepted: YYYY-M, YYYY/MM, YYYY.MM and
// YYYY年M月, the ways clerks write a month).
func ParsePeriod(s string) (Period, error) {
	if p, ok := parseCanonical(s); ok {
		return p, nil
	}
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "月")
	t = periodSeparators.Replace(t)
	y, m, ok := strings.Cut(t, "-")
	if !ok || len(y) != 4 || len(m) == 0 || len(m) > 2 {
		return Period{}, fmt.Errorf("period %q is not a month written YYYY-MM", s)
	}
	year, err1 := strconv.Atoi(y)
	month, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || year < 1 || strings.ContainsAny(y+m, "+-") {
		return Period{}, fmt.Errorf("period %q is not a month written YYYY-MM", s)
	}
	if month < 1 || month > 12 {
		return Period{}, fmt.Errorf("period %q has month %d: months run from 1 to 12", s, month)
	}
	return Period{Year: year, Month: month}, nil
}

// periodSeparators turns the other ways of writing a month into YYYY-MM's hyphen. A
// strings.Replacer is safe for concurrent use and never modified.
var periodSeparators = strings.NewReplacer("年", "-", "/", "-", ".", "-")

// parseCanonical reads exactly YYYY-MM without allocating: the form nearly every row uses.
func parseCanonical(s string) (Period, bool) {
	if len(s) != 7 || s[4] != '-' {
		return Period{}, false
	}
	y, m := 0, 0
	for i, c := range []byte(s) {
		switch {
		case i == 4:
		case c < '0' || c > '9':
			return Period{}, false
		case i < 4:
			y = y*10 + int(c-'0')
		default:
			m = m*10 + int(c-'0')
		}
	}
	if y < 1 || m < 1 || m > 12 {
		return Period{}, false
	}
	return Period{Year: y, Month: m}, true
}

// MustPeriod is ParsePeriod for literals in tests and generators; it panics on a bad literal.
func MustPeriod(s string) Period {
	p, err := ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String writes the period as YYYY-MM.
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, p.Month) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Year == 0 && p.Month == 0 }

// Prev is the month before p (December of the year before, for January).
func (p Period) Prev() Period {
	if p.Month == 1 {
		return Period{Year: p.Year - 1, Month: 12}
	}
	return Period{Year: p.Year, Month: p.Month - 1}
}

// Next is the month after p.
func (p Period) Next() Period {
	if p.Month == 12 {
		return Period{Year: p.Year + 1, Month: 1}
	}
	return Period{Year: p.Year, Month: p.Month + 1}
}

// Before reports whether p is an earlier month than q.
func (p Period) Before(q Period) bool {
	return p.Year < q.Year || (p.Year == q.Year && p.Month < q.Month)
}

// Label is the Chinese way to write the period, e.g. 2024年6月.
func (p Period) Label() string { return fmt.Sprintf("%d年%d月", p.Year, p.Month) }

// Deadline is the moment after which p's report is overdue: the end of day `day` of the month
// after p, in loc. A report due "by the 5th" is overdue from 00:00 on the 6th.
func (p Period) Deadline(day int, loc *time.Location) time.Time {
	n := p.Next()
	return time.Date(n.Year, time.Month(n.Month), day+1, 0, 0, 0, 0, loc)
}

// MarshalText writes YYYY-MM, so periods are strings in JSON.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads YYYY-MM.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
