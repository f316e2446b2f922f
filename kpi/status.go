package kpi

// Status is how an indicator stands as of a period.
type Status string

// The statuses (docs/semantics.md). Bonus and veto indicators have none (the empty Status).
const (
	StatusMet           Status = "met"
	StatusOnTrack       Status = "on_track"
	StatusAtRisk        Status = "at_risk"
	StatusBehind        Status = "behind"
	StatusNoData        Status = "no_data"
	StatusNotApplicable Status = "not_applicable"
)

// Statuses lists every status, best first; charts and metrics use this order.
var statuses = []Status{StatusMet, StatusOnTrack, StatusAtRisk, StatusBehind, StatusNoData, StatusNotApplicable}

// AllStatuses returns every status, best first.
func AllStatuses() []Status { return append([]Status(nil), statuses...) }

// Label is the status in Chinese, as bulletins write it.
func (s Status) Label() string {
	switch s {
	case StatusMet:
		return "已完成"
	case StatusOnTrack:
		return "序时达标"
	case StatusAtRisk:
		return "预警"
	case StatusBehind:
		return "滞后"
	case StatusNoData:
		return "未报送"
	case StatusNotApplicable:
		return "不适用"
	}
	return ""
}

// Light is the bulletin's traffic light (亮灯) for the status: green, amber, red or grey.
func (s Status) Light() string {
	switch s {
	case StatusMet, StatusOnTrack:
		return "green"
	case StatusAtRisk:
		return "amber"
	case StatusBehind:
		return "red"
	}
	return "grey"
}

// MarshalJSON writes the status as a string, or null for bonus and veto indicators.
func (s Status) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return []byte(`"` + string(s) + `"`), nil
}

// UnmarshalJSON reads a status string or null.
func (s *Status) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return &ValueError{Field: "status", Msg: "status 应为字符串", Err: ErrBadValue}
	}
	*s = Status(b[1 : len(b)-1])
	return nil
}
