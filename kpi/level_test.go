package kpi

import (
	"errors"
	"strings"
	"testing"
)

func TestAssessmentIDAndLevel(t *testing.T) {
	body := "name: 测试\nyear: 2024\ntownships: [{code: aa, name: 甲镇}]\nindicators: [{code: x, name: X, kind: count}]\n"
	tests := []struct {
		name      string
		file      string
		yaml      string
		wantID    string
		wantLevel Level
		wantErr   []string
	}{
		{name: "defaults: the file's base name and county", file: "config/cangnan-2024.yaml", yaml: body, wantID: "cangnan-2024", wantLevel: LevelCounty},
		{name: "an explicit id and level", file: "x.yaml", yaml: "id: yulin-2026\nlevel: city\n" + body, wantID: "yulin-2026", wantLevel: LevelCity},
		{name: "a district", file: "qingcheng.yml", yaml: "level: district\n" + body, wantID: "qingcheng", wantLevel: LevelDistrict},
		{name: "a province", file: "gd.yaml", yaml: "level: province\n" + body, wantID: "gd", wantLevel: LevelProvince},
		{name: "an id that is not a code", file: "x.yaml", yaml: "id: 苍南 2024\n" + body, wantErr: []string{"x.yaml:1:", `考核 id "苍南 2024" 只能用英文字母`}},
		{name: "a file name that cannot be an id", file: "/etc/kpimon/苍南县.yaml", yaml: body, wantErr: []string{"苍南县.yaml", "请在配置中写 id"}},
		{name: "an unknown level", file: "x.yaml", yaml: "level: town\n" + body, wantErr: []string{"x.yaml:1:", `level "town" 无效`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseConfig(tc.file, []byte(tc.yaml))
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("got %v, want a config error", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not contain %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != tc.wantID || a.Level != tc.wantLevel {
				t.Errorf("got id %q level %q, want %q %q", a.ID, a.Level, tc.wantID, tc.wantLevel)
			}
		})
	}
}

func TestLevelWords(t *testing.T) {
	tests := []struct {
		level                    Level
		whole, units, unitsShort string
	}{
		{LevelCounty, "全县", "乡镇（街道）", "乡镇"},
		{LevelDistrict, "全区", "乡镇（街道）", "乡镇"},
		{LevelCity, "全市", "县（市、区）", "县区"},
		{LevelProvince, "全省", "市（州）", "市州"},
	}
	for _, tc := range tests {
		t.Run(string(tc.level), func(t *testing.T) {
			a := &Assessment{Level: tc.level}
			if a.Whole() != tc.whole || a.Units() != tc.units || a.UnitsShort() != tc.unitsShort {
				t.Errorf("got %s %s %s, want %s %s %s", a.Whole(), a.Units(), a.UnitsShort(), tc.whole, tc.units, tc.unitsShort)
			}
		})
	}
}

func TestMilestoneWording(t *testing.T) {
	a := mustAssessment(t, testConfig())
	d := dataset(t, a, obs("aa", "plan", "2024-02", 1), obs("bb", "plan", "2024-05", 1))
	r := mustEvaluate(t, d, "2024-07", late)
	var county CountyEvaluation
	for _, c := range r.County {
		if c.Indicator == "plan" {
			county = c
		}
	}
	var summary string
	for _, al := range r.Alerts {
		if al.Alert == AlertBehindPace && al.Township == "cc" && al.Indicator == "plan" {
			summary = al.Summary
		}
	}
	tests := []struct {
		name, got, want string
	}{
		{"due", MilestoneDue(9), "9月底前完成"},
		{"done", MilestoneDone(Some(1)), "已完成"},
		{"not done", MilestoneDone(Some(0)), "未完成"},
		{"no figure", MilestoneDone(Num{}), "—"},
		{"the county's share, not 未完成", county.MilestoneText(), "2/3 已完成"},
		{"the alert", summary, "丙街道“规划中期评估”应于6月底前完成，至今未完成"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
