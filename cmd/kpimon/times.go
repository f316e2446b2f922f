package main

import (
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Times a command prints are in the assessment's time zone, labelled, so that a clerk on a
// server set to UTC does not read 06:05 for 14:05. Without a config the zone is the
// machine's, and the label says so and how to get the assessment's. kpi.Clock and
// kpi.ZoneLabel write and label them, as the bulletin does.

// zoneNote is the line under a table of times in loc.
func zoneNote(loc *time.Location, now time.Time) string {
	if loc == time.Local {
		return "（表中时间为" + kpi.ZoneLabel(loc, now) + "；加 --config 按考核的时区显示）"
	}
	return "（表中时间为" + kpi.ZoneLabel(loc, now) + "）"
}
