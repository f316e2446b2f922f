package kpi

import (
	"errors"
	"fmt"
)

// Sentinel errors an invalid observation unwraps to. ErrBadPeriod is in Chinese, because a
// month error reaches the clerk as it is; kpi's own month errors (periodError) say the whole
// message themselves and unwrap to it.
var (
	ErrUnknownTownship  = errors.New("unknown township")
	ErrUnknownIndicator = errors.New("unknown indicator")
	ErrBadPeriod        = errors.New("月份无效")
	ErrBadValue         = errors.New("bad value")
	ErrDuplicate        = errors.New("duplicate observation")
)

// periodError is a month kpi cannot take, said in Chinese; errors.Is(err, ErrBadPeriod)
// holds, and its text is the message alone, with no sentinel before it.
type periodError string

func (e periodError) Error() string { return string(e) }

// Unwrap makes errors.Is(err, ErrBadPeriod) hold.
func (e periodError) Unwrap() error { return ErrBadPeriod }

// badPeriod is a periodError of the message format and args.
func badPeriod(format string, args ...any) error {
	return periodError(fmt.Sprintf(format, args...))
}

// Observation is one reported figure: township × indicator × period. Township and Indicator
// are codes. A ratio reports Numerator and Denominator; every other kind reports Value.
type Observation struct {
	Township    string  `json:"township"`
	Indicator   string  `json:"indicator"`
	Period      Period  `json:"period"`
	Value       float64 `json:"value"`
	Numerator   float64 `json:"numerator"`
	Denominator float64 `json:"denominator"`
}

// Key identifies the township × indicator × period an observation is for.
type Key struct {
	Township  string
	Indicator string
	Period    Period
}

// Key is the observation's identity; reporting the same key again is a correction.
func (o Observation) Key() Key { return Key{o.Township, o.Indicator, o.Period} }

// Same reports whether o and p carry the same figures (a re-report that changes nothing).
func (o Observation) Same(p Observation) bool {
	return o.Key() == p.Key() && o.Value == p.Value && o.Numerator == p.Numerator && o.Denominator == p.Denominator
}

// Figure writes the reported figure for people, as typed: the value, or
// numerator/denominator, with 千分位 and up to six decimals (a preview of an upload must show
// 0.125 as 0.125, not rounded).
func (o Observation) Figure(k Kind) string {
	if k == KindRatio {
		return fmt.Sprintf("%s/%s", inputFigure(o.Numerator), inputFigure(o.Denominator))
	}
	return inputFigure(o.Value)
}

// inputFigure writes a figure someone typed, for previews and error messages: up to six
// decimals, so that −0.001 is not shown as 0 in "不能为负数".
func inputFigure(v float64) string { return FormatDecimal(v, 6, false) }

// ValueError is a reported figure that breaks a rule of its indicator's kind.
type ValueError struct {
	Field string // value, numerator or denominator
	Msg   string // what is wrong, in Chinese
	Err   error  // the sentinel
}

func (e *ValueError) Error() string { return e.Msg }
func (e *ValueError) Unwrap() error { return e.Err }

func badValue(field, format string, args ...any) *ValueError {
	return &ValueError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrBadValue}
}

// CheckFigures checks the figures of an observation against the rules of ind's kind: finite
// numbers, no negative counts, a ratio's numerator no larger than its denominator, 0/1 for
// milestones and vetoes. hasValue, hasNum and hasDen say which fields the report filled in.
func CheckFigures(ind *Indicator, o Observation, hasValue, hasNum, hasDen bool) error {
	switch ind.Kind {
	case KindRatio:
		switch {
		case !hasNum && !hasDen:
			return badValue("numerator", "比率类指标“%s”须填写分子（numerator）和分母（denominator）", ind.Name)
		case !hasDen:
			return badValue("denominator", "比率类指标“%s”缺少分母（denominator）", ind.Name)
		case !hasNum:
			return badValue("numerator", "比率类指标“%s”缺少分子（numerator）", ind.Name)
		case !finite(o.Numerator) || o.Numerator < 0:
			return badValue("numerator", "分子 %v 应为不小于 0 的数", o.Numerator)
		case !finite(o.Denominator) || o.Denominator < 0:
			return badValue("denominator", "分母 %v 应为不小于 0 的数", o.Denominator)
		case o.Numerator > o.Denominator:
			return badValue("numerator", "分子 %s 大于分母 %s", inputFigure(o.Numerator), inputFigure(o.Denominator))
		}
		return nil
	}
	if !hasValue {
		return badValue("value", "缺少数值（value）")
	}
	if !finite(o.Value) {
		return badValue("value", "数值 %v 不是有限的数", o.Value)
	}
	switch ind.Kind {
	case KindCount, KindStock:
		if o.Value < 0 {
			return badValue("value", "“%s”的数值 %s 不能为负数", ind.Name, inputFigure(o.Value))
		}
	case KindMilestone, KindVeto:
		if o.Value != 0 && o.Value != 1 {
			return badValue("value", "“%s”只能填 1（是）或 0（否），现为 %s", ind.Name, inputFigure(o.Value))
		}
	case KindBonus:
		if o.Value < 0 {
			return badValue("value", "加分“%s”不能为负数（扣分请用越低越好的指标）", ind.Name)
		}
	}
	return nil
}
