package main

import (
	"fmt"
	"time"
)

// Times a command prints are in the assessment's time zone, labelled, so that a clerk on a
// server set to UTC does not read 06:05 for 14:05. Without a config the zone is the
// machine's, and the label says so and how to get the assessment's.

// clock writes a moment to the minute in loc, with the zone's label.
func clock(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006年1月2日 15:04") + "（" + zoneLabel(loc, t) + "）"
}

// zoneNote is the line under a table of times in loc.
func zoneNote(loc *time.Location, now time.Time) string {
	if loc == time.Local {
		return "（表中时间为" + zoneLabel(loc, now) + "；加 --config 按考核的时区显示）"
	}
	return "（表中时间为" + zoneLabel(loc, now) + "）"
}

// zoneLabel names a zone as an office says it: 北京时间 for China's zone, the machine's
// zone with its offset, or the zone's name and offset.
func zoneLabel(loc *time.Location, t time.Time) string {
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
