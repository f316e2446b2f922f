package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/kpimon/kpimon/kpi"
)

const suggestConfig = `name: 建议
year: 2024
townships:
  - {code: dongcheng, name: 东城街道}
  - {code: xicheng, name: 西城街道}
  - {code: lingxi, name: 灵溪镇}
  - {code: jia, name: 甲镇}
  - {code: yi, name: 乙镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 50, target: 100}
  - {code: closure, name: 信访办结率, kind: ratio, weight: 50, threshold: 0.98}
`

func TestUnknownNamesSuggestTheNearest(t *testing.T) {
	a, err := kpi.ParseConfig("s.yaml", []byte(suggestConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, township, indicator string
		want                      string
		sentinel                  error
	}{
		{"one character off", "东成街道", "screenings", "未知的乡镇“东成街道”，是否为“东城街道”？", kpi.ErrUnknownTownship},
		{"a short form", "东城", "screenings", "未知的乡镇“东城”，是否为“东城街道”？", kpi.ErrUnknownTownship},
		{"a longer form", "灵溪镇政府", "screenings", "未知的乡镇“灵溪镇政府”，是否为“灵溪镇”？", kpi.ErrUnknownTownship},
		{"a code mistyped", "lingxl", "screenings", "未知的乡镇“lingxl”，是否为“lingxi（灵溪镇）”？", kpi.ErrUnknownTownship},
		{"a code in capitals", "LINGXI", "screenings", "未知的乡镇“LINGXI”，是否为“lingxi（灵溪镇）”？", kpi.ErrUnknownTownship},
		{"two as near", "城街道", "screenings", "未知的乡镇“城街道”，是否为“东城街道”或“西城街道”？", kpi.ErrUnknownTownship},
		{"too short to guess", "丙镇", "screenings", "未知的乡镇“丙镇”：须为考核方案中的乡镇代码或名称", kpi.ErrUnknownTownship},
		{"nothing near", "滨海新区", "screenings", "未知的乡镇“滨海新区”：须为考核方案中的乡镇代码或名称", kpi.ErrUnknownTownship},
		{"an indicator", "lingxi", "两癌筛查人树", "未知的指标“两癌筛查人树”，是否为“两癌筛查人数”？", kpi.ErrUnknownIndicator},
		{"an indicator code", "lingxi", "screening", "未知的指标“screening”，是否为“screenings（两癌筛查人数）”？", kpi.ErrUnknownIndicator},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddCSV("s.csv", strings.NewReader("township,indicator,period,value\n"+tc.township+","+tc.indicator+",2024-01,1\n"))
			var be *BatchError
			if !errors.As(b.Err(), &be) || len(be.Errors) != 1 {
				t.Fatalf("got %v, want one error", b.Err())
			}
			if got := be.Errors[0].Error(); got != "s.csv:2: "+tc.want || !errors.Is(be.Errors[0], tc.sentinel) {
				t.Errorf("got  %s\nwant s.csv:2: %s (%v)", got, tc.want, tc.sentinel)
			}
		})
	}
}

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"kitten", "sitting", 10, 3},
		{"", "abc", 10, 3},
		{"abc", "", 10, 3},
		{"东城街道", "东成街道", 10, 1},
		{"东城", "东城街道", 10, 2},
		{"两癌筛查人数", "两癌筛查人数", 0, 0},
		{"abcdef", "uvwxyz", 2, 3}, // cut off above the limit
		{"a", "abcdef", 2, 3},
	}
	for _, tc := range tests {
		if got := levenshtein([]rune(tc.a), []rune(tc.b), tc.limit); got != tc.want {
			t.Errorf("levenshtein(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}
