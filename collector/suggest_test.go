package collector

import (
	"errors"
	"fmt"
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

// TestUnknownIndicatorOutsideABatch: the message for a name asked for outside a batch (an
// API's ?indicator=) is the one a batch's row gets.
func TestUnknownIndicatorOutsideABatch(t *testing.T) {
	a, err := kpi.ParseConfig("s.yaml", []byte(suggestConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, input, want string }{
		{"a name one character off", "两癌筛查人树", "未知的指标“两癌筛查人树”，是否为“两癌筛查人数”？"},
		{"a code mistyped", "screening", "未知的指标“screening”，是否为“screenings（两癌筛查人数）”？"},
		{"nothing near", "妇女之家", "未知的指标“妇女之家”：须为考核方案中的指标代码或名称"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnknownIndicator(a, tc.input); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
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

func TestRepeatedUnknownNamesAreToldOnce(t *testing.T) {
	a, err := kpi.ParseConfig("s.yaml", []byte(suggestConfig))
	if err != nil {
		t.Fatal(err)
	}
	rows := func(n int, township, indicator string) string {
		var b strings.Builder
		b.WriteString("township,indicator,period,value\n")
		for i := range n {
			fmt.Fprintf(&b, "%s,%s,2024-%02d,%d\n", township, indicator, 1+i%12, i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		add  func(b *Batch)
		want []string // every error, with its place
		rows []int    // how many rows each stands for
	}{
		{"a whole file for a misspelt township", func(b *Batch) {
			b.AddCSV("g.csv", strings.NewReader(rows(12, "东成街道", "screenings")+"zz,screenings,2024-01,1\n"))
		}, []string{"g.csv:2: 未知的乡镇“东成街道”，是否为“东城街道”？（第 2、3、4 … 行，共 12 行）",
			"g.csv:14: 未知的乡镇“zz”：须为考核方案中的乡镇代码或名称"}, []int{12, 1}},
		{"two rows", func(b *Batch) {
			b.AddCSV("g.csv", strings.NewReader(rows(2, "dongcheng", "两癌筛查人树")))
		}, []string{"g.csv:2: 未知的指标“两癌筛查人树”，是否为“两癌筛查人数”？（第 2、3 行）"}, []int{2}},
		{"once per file", func(b *Batch) {
			b.AddCSV("one.csv", strings.NewReader(rows(2, "东成街道", "screenings")))
			b.AddCSV("two.csv", strings.NewReader(rows(1, "东成街道", "screenings")))
		}, []string{"one.csv:2: 未知的乡镇“东成街道”，是否为“东城街道”？（第 2、3 行）",
			"two.csv:2: 未知的乡镇“东成街道”，是否为“东城街道”？"}, []int{2, 1}},
		{"a month wrong on every row", func(b *Batch) {
			b.AddCSV("m.csv", strings.NewReader("township,indicator,period,value\njia,screenings,2023-06,1\njia,closure,2023-06,\nyi,screenings,2023-06,1\n"))
		}, []string{"m.csv:2: 月份 2023-06 不在考核年度 2024 内（第 2、3、4 行）"}, []int{3}},
		{"json", func(b *Batch) {
			b.AddJSON("d.json", strings.NewReader(`[{"township":"jia","indicator":"nope","period":"2024-01","value":1},
				{"township":"jia","indicator":"nope","period":"2024-02","value":1},{"township":"jia","indicator":"nope","period":"2024-03","value":1},
				{"township":"jia","indicator":"nope","period":"2024-04","value":1},{"township":"yi","indicator":"nope","period":"2024-01","value":1}]`))
		}, []string{"d.json[0]: 未知的指标“nope”：须为考核方案中的指标代码或名称（[0]、[1]、[2] …，共 5 项）"}, []int{5}},
		{"an Excel form's township and month cells", func(b *Batch) {
			b.AddBytes("f.xlsx", workbook(t, []sheetSpec{formSheet("丙镇", "丙镇", "2023-06",
				[]any{1, "screenings", "两癌筛查人数", "人", 1},
				[]any{2, "closure", "信访办结率", "%", nil, 1, 2},
			)}))
		}, []string{"f.xlsx:丙镇!B2: 未知的乡镇“丙镇”：须为考核方案中的乡镇代码或名称（共 2 行）",
			"f.xlsx:丙镇!E2: 月份 2023-06 不在考核年度 2024 内（共 2 行）"}, []int{2, 2}},
		{"an Excel table", func(b *Batch) {
			sheet := [][]any{{"乡镇", "指标", "月份", "数值"}}
			for m := 1; m <= 5; m++ {
				sheet = append(sheet, []any{"东成街道", "screenings", fmt.Sprintf("2024-%02d", m), m})
			}
			b.AddBytes("t.xlsx", workbook(t, []sheetSpec{{name: "明细", rows: sheet}}))
		}, []string{"t.xlsx:明细!A2: 未知的乡镇“东成街道”，是否为“东城街道”？（明细!A2、明细!A3、明细!A4 …，共 5 行）"}, []int{5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			tc.add(b)
			var be *BatchError
			if !errors.As(b.Err(), &be) {
				t.Fatalf("got %v, want a BatchError", b.Err())
			}
			var got []string
			var n []int
			for _, e := range be.Errors {
				got, n = append(got, e.Error()), append(n, e.Rows)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") || fmt.Sprint(n) != fmt.Sprint(tc.rows) {
				t.Errorf("got\n%s\n%v\nwant\n%s\n%v", strings.Join(got, "\n"), n, strings.Join(tc.want, "\n"), tc.rows)
			}
			if be.Count() != len(tc.want) || b.Len() != 0 {
				t.Errorf("Count() = %d, want %d; %d rows valid, want none", be.Count(), len(tc.want), b.Len())
			}
			for _, e := range be.Errors {
				if !errors.Is(b.Err(), e.Err) {
					t.Errorf("the batch error does not unwrap to %v", e.Err)
				}
			}
		})
	}
}

func TestUnknownTownship(t *testing.T) {
	a, err := kpi.ParseConfig("s.yaml", []byte(suggestConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		input, want string
	}{
		{"东成街道", "未知的乡镇“东成街道”，是否为“东城街道”？"},
		{"东城", "未知的乡镇“东城”，是否为“东城街道”？"},
		{"火星镇", "未知的乡镇“火星镇”：须为考核方案中的乡镇代码或名称"},
	} {
		if got := UnknownTownship(a, tc.input); got != tc.want {
			t.Errorf("UnknownTownship(%q) = %q, want %q", tc.input, got, tc.want)
		}
	}
}

// TestSameCoreComesFirst: a changed suffix is the likelier slip than a changed place, so 龙城镇
// is 龙城街道 (the same core), not 龙塘镇 (one character off).
func TestSameCoreComesFirst(t *testing.T) {
	a, err := kpi.ParseConfig("c.yaml", []byte(`name: 核心
year: 2024
townships:
  - {code: longcheng, name: 龙城街道}
  - {code: longtang, name: 龙塘镇}
indicators:
  - {code: screenings, name: 两癌筛查人数, kind: count, weight: 100, target: 100}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ input, want string }{
		{"龙城镇", "未知的乡镇“龙城镇”，是否为“龙城街道”？"},
		{"龙堂镇", "未知的乡镇“龙堂镇”，是否为“龙塘镇”？"},
	} {
		if got := UnknownTownship(a, tc.input); got != tc.want {
			t.Errorf("UnknownTownship(%q) = %q, want %q", tc.input, got, tc.want)
		}
	}
}
