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
// YYYY年M月, the ways clerks write a month, and a full date such as 2024-06-01 or 2024/6/1,
// which is what Excel makes of a typed month when it saves CSV: the day is dropped).
// Errors are in Chinese and wrap ErrBadPeriod.
func ParsePeriod(s string) (Period, error) {
	if p, ok := parseCanonical(s); ok {
		return p, nil
	}
	bad := func() (Period, error) {
		return Period{}, badPeriod("月份“%s”格式不对，应为 YYYY-MM（如 2024-06）", s)
	}
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "日")
	t = strings.TrimSuffix(t, "号")
	t = strings.Replace(t, "月", "-", 1)
	t = strings.TrimSuffix(periodSeparators.Replace(t), "-")
	parts := strings.Split(t, "-")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) != 4 {
		return bad()
	}
	nums := make([]int, len(parts))
	for i, part := range parts {
		if part == "" || len(part) > 4 || (i > 0 && len(part) > 2) {
			return bad()
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return bad()
			}
		}
		nums[i], _ = strconv.Atoi(part)
	}
	if nums[0] < 1 {
		return bad()
	}
	if nums[1] < 1 || nums[1] > 12 {
		return Period{}, badPeriod("月份“%s”的月数 %d 不对，应在 1 到 12 之间", s, nums[1])
	}
	if len(nums) == 3 && (nums[2] < 1 || nums[2] > 31) {
		return bad()
	}
	return Period{Year: nums[0], Month: nums[1]}, nil
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
