package alerting

import "github.com/kpimon/kpimon/kpi"

// The words messages use for the whole assessment and for its units.
//
// KPI-LEVEL: kpi is gaining Assessment.Level (county, district, city, province) with wording
// helpers (全县/全区/全市/全省; 乡镇 or 县（市、区）). When it lands, these two return those
// helpers' words; until then every assessment reads as a county's.

// scopeWord is the whole assessment: 全县 for a county (全区, 全市, 全省 by its level).
func scopeWord(a *kpi.Assessment) string { return "全县" }

// unitWord is what the assessment's units are called: 镇（街道） for a county's townships.
func unitWord(a *kpi.Assessment) string { return "镇（街道）" }
