package collector_test

import (
	"testing"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/demo"
)

// TestSuggestionsOnTheDemoNames: the names a clerk and a chair typed in the trial, on the
// demo's own townships and indicators — a changed suffix (东城镇 for 东城街道), a long common
// beginning (妇女之家数量 for 妇女之家覆盖率) — and names that must get no suggestion or not
// the one a careless rule would give.
func TestSuggestionsOnTheDemoNames(t *testing.T) {
	const none = ""
	tests := []struct {
		name, assessment, input string
		township                bool
		want                    string // the suggestion, "或" between several; none for no suggestion
	}{
		// a township's suffix changed (街道 ↔ 镇, or 妇联, 办事处 after it)
		{"街道 typed as 镇", "qingcheng-2026", "东城镇", true, "东城街道"},
		{"凤城 too", "qingcheng-2026", "凤城镇", true, "凤城街道"},
		{"镇 typed as 街道", "qingcheng-2026", "石角街道", true, "石角镇"},
		{"with 妇联 after it", "qingcheng-2026", "横荷镇妇联", true, "横荷街道"},
		{"with 办事处 after it", "qingcheng-2026", "洲心街道办事处", true, "洲心街道"},
		{"乡 for 镇", "qingxin-2026", "太和乡", true, "太和镇"},
		{"a county as a 县", "qingyuan-2026", "清城县", true, "清城区"},
		// the forms that were already suggested still are
		{"街 for 街道", "qingcheng-2026", "洲心街", true, "洲心街道"},
		{"no suffix", "qingcheng-2026", "飞来峡", true, "飞来峡镇"},
		{"a character off", "qingcheng-2026", "东成街道", true, "东城街道"},
		// must not be suggested
		{"another place with the same suffix", "qingcheng-2026", "西城街道", true, "东城街道或凤城街道"}, // two as near: both or neither, never one
		{"a core of one character", "qingcheng-2026", "东镇", true, none},
		{"城镇 is no place", "qingcheng-2026", "城镇", true, none},
		{"an unknown place with a known suffix", "qingcheng-2026", "新城镇", true, none},
		{"a core near but not the same", "qingxin-2026", "太安镇", true, "太和镇或太平镇"},
		{"not another county's township", "fogang-2026", "东城镇", true, none},
		{"the 石角镇 of the county itself", "fogang-2026", "石角街道", true, "石角镇"},
		// an indicator named by its beginning
		{"a long common beginning", "qingcheng-2026", "妇女之家数量", false, "妇女之家覆盖率"},
		{"its beginning alone", "qingcheng-2026", "妇女之家覆盖", false, "妇女之家覆盖率"},
		{"the city's indicator too", "qingyuan-2026", "妇女之家数量", false, "妇女之家覆盖率"},
		{"a common beginning that is not more than half", "qingcheng-2026", "妇女之家建设经费", false, none},
		{"a short common beginning", "qingcheng-2026", "巾帼文明家庭数", false, none},
		{"妇联 alone is no beginning", "qingcheng-2026", "妇联工作经费", false, none},
		{"suffixes are not dropped from indicators", "qingcheng-2026", "村（社区）妇联组建村", false, "村（社区）妇联组建率"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := demo.AssessmentByID(tc.assessment)
			if err != nil {
				t.Fatal(err)
			}
			what, got := "指标", collector.UnknownIndicator(a, tc.input)
			if tc.township {
				what, got = "乡镇", collector.UnknownTownship(a, tc.input)
			}
			want := "未知的" + what + "“" + tc.input + "”：须为考核方案中的" + what + "代码或名称"
			if tc.want != none {
				want = "未知的" + what + "“" + tc.input + "”，是否为“" + joinOr(tc.want) + "”？"
			}
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// joinOr quotes the suggestions of a want: 东城街道或凤城街道 → 东城街道”或“凤城街道.
func joinOr(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '或' {
			out = append(out, []rune("”或“")...)
			continue
		}
		out = append(out, r)
	}
	return string(out)
}
