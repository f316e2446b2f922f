package kpi

import (
	"fmt"
	"time"
)

// ZoneLabel names loc as an office says it, with its offset from UTC at t (which can change
// with daylight saving time): 北京时间 for China's zone, the machine's zone (time.Local) as
// 本机时区 with its offset, UTC, or the zone's name and offset (Asia/Urumqi UTC+6).
func ZoneLabel(loc *time.Location, t time.Time) string {
	_, off := t.In(loc).Zone()
	switch loc.String() {
	case "Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC":
		return "北京时间"
	case "Local":
		return "本机时区 " + utcOffset(off)
	case "UTC":
		return "UTC"
	}
	return loc.String() + " " + utcOffset(off)
}

// ZoneLabel names the assessment's time zone as an office says it at t: 北京时间 for
// Asia/Shanghai, otherwise the zone's name and offset (see the function ZoneLabel).
func (a *Assessment) ZoneLabel(t time.Time) string { return ZoneLabel(a.zone(), t) }

// Clock writes t to the minute in loc, with the zone's label: 2025年6月5日 09:30（北京时间）.
func Clock(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006年1月2日 15:04") + "（" + ZoneLabel(loc, t) + "）"
}

// Clock writes t to the minute in the assessment's time zone, with the zone's label:
// 2025年6月5日 09:30（北京时间）.
func (a *Assessment) Clock(t time.Time) string { return Clock(t, a.zone()) }

// zone is the assessment's location; UTC for an Assessment not made by ParseConfig.
func (a *Assessment) zone() *time.Location {
	if a.Location == nil {
		return time.UTC
	}
	return a.Location
}

// utcOffset writes an offset from UTC: UTC, UTC+8, UTC+5:30, UTC-3.
func utcOffset(seconds int) string {
	if seconds == 0 {
		return "UTC"
	}
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	h, m := seconds/3600, seconds%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}
