package kpi

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Level is the level of the federation that runs an assessment (config `level:`), which
// decides how pages, bulletins and messages name the whole and its units.
type Level string

// The levels an assessment may have (docs/semantics.md). County is the default.
const (
	LevelCounty   Level = "county"   // 县妇联: assesses its 乡镇（街道）
	LevelDistrict Level = "district" // 区妇联: assesses its 镇（街道）, named as a county's
	LevelCity     Level = "city"     // 市妇联: assesses its 县（市、区）
	LevelProvince Level = "province" // 省妇联: assesses its 市（州）
)

// levels lists every level, lowest first.
var levels = []Level{LevelCounty, LevelDistrict, LevelCity, LevelProvince}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool {
	for _, x := range levels {
		if l == x {
			return true
		}
	}
	return false
}

// Label is the level in one character: 县, 区, 市 or 省.
func (l Level) Label() string {
	switch l {
	case LevelDistrict:
		return "区"
	case LevelCity:
		return "市"
	case LevelProvince:
		return "省"
	}
	return "县"
}

// Whole is how pages and messages name the assessment's area as a whole: 全县, 全区, 全市 or
// 全省 (the county aggregate's label).
func (l Level) Whole() string { return "全" + l.Label() }

// Units is the noun for the units being assessed, as documents write it: 乡镇（街道） for a
// county or district, 县（市、区） for a city, and 市（州） for a province (a province's units
// are its prefecture-level cities and autonomous prefectures; provincial documents write
// 各市（州）).
func (l Level) Units() string {
	switch l {
	case LevelCity:
		return "县（市、区）"
	case LevelProvince:
		return "市（州）"
	}
	return "乡镇（街道）"
}

// UnitsShort is the short noun for a table header or a narrow phone column: 乡镇, 县区 or 市州.
func (l Level) UnitsShort() string {
	switch l {
	case LevelCity:
		return "县区"
	case LevelProvince:
		return "市州"
	}
	return "乡镇"
}

// Whole is the assessment's area as a whole: 全县, 全区, 全市 or 全省.
func (a *Assessment) Whole() string { return a.Level.Whole() }

// Units is the noun for the assessment's units: 乡镇（街道）, 县（市、区） or 市（州）.
func (a *Assessment) Units() string { return a.Level.Units() }

// UnitsShort is the short noun for the assessment's units: 乡镇, 县区 or 市州.
func (a *Assessment) UnitsShort() string { return a.Level.UnitsShort() }

// defaultID is an assessment's id when its config gives none: the config file's base name
// without its extension (config/qingcheng-2025.yaml → qingcheng-2025).
func defaultID(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// MilestoneDue writes a milestone's due month the one way pages, bulletins and messages
// read it: 9月底前完成.
func MilestoneDue(due int) string { return fmt.Sprintf("%d月底前完成", due) }

// MilestoneDone writes a township's milestone actual: 已完成 (1) or 未完成 (0), or Dash when
// there is none.
func MilestoneDone(n Num) string {
	switch {
	case !n.Valid:
		return Dash
	case n.V >= 1:
		return "已完成"
	}
	return "未完成"
}

// MilestoneShare writes how many units have done a milestone: 4/6 已完成. It is the county
// aggregate's figure for a milestone, which is a share, never simply 未完成.
func MilestoneShare(done, total int) string { return fmt.Sprintf("%d/%d 已完成", done, total) }

// MilestoneText is a county aggregate milestone's figure, 4/6 已完成 (MilestoneShare); Dash
// for other kinds.
func (c *CountyEvaluation) MilestoneText() string {
	if c.Kind != KindMilestone || c.Done == nil {
		return Dash
	}
	return MilestoneShare(*c.Done, c.Townships)
}
