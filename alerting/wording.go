package alerting

import "github.com/kpimon/kpimon/kpi"

// The words messages use for the whole assessment and for its units follow its level.

// scopeWord is the whole assessment: 全县 for a county, 全区, 全市, 全省 by its level.
func scopeWord(a *kpi.Assessment) string { return a.Whole() }

// unitWord is what the assessment's units are called: 乡镇（街道） for a county's
// townships, 县（市、区） for a city's counties.
func unitWord(a *kpi.Assessment) string { return a.Units() }
