package kpi

import (
	"strings"
	"testing"
	"time"
)

func TestZoneLabel(t *testing.T) {
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone, want string
	}{
		{"Asia/Shanghai", "北京时间"},
		{"PRC", "北京时间"},
		{"Asia/Urumqi", "Asia/Urumqi UTC+6"},
		{"Asia/Kolkata", "Asia/Kolkata UTC+5:30"},
		{"America/Sao_Paulo", "America/Sao_Paulo UTC-3"},
		{"UTC", "UTC"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if got := ZoneLabel(loc, at); got != tc.want {
				t.Errorf("ZoneLabel(%s) = %q, want %q", tc.zone, got, tc.want)
			}
		})
	}
	if got := ZoneLabel(time.Local, at); !strings.HasPrefix(got, "本机时区 UTC") {
		t.Errorf("the machine's zone is labelled %q", got)
	}
}

// An assessment writes a moment in its own zone, labelled, whatever zone the moment is in.
func TestAssessmentClock(t *testing.T) {
	at := time.Date(2025, 6, 5, 1, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, timezone, want string
	}{
		{"China", "Asia/Shanghai", "2025年6月5日 09:30（北京时间）"},
		{"Xinjiang", "Asia/Urumqi", "2025年6月5日 07:30（Asia/Urumqi UTC+6）"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustAssessment(t, strings.Replace(testConfig(), "timezone: Asia/Shanghai", "timezone: "+tc.timezone, 1))
			if got := a.Clock(at); got != tc.want {
				t.Errorf("Clock = %q, want %q", got, tc.want)
			}
		})
	}
}
