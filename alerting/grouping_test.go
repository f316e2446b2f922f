package alerting

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// beiliuConfig is a county of two townships and seven monthly counts, with one WeCom robot.
func beiliuConfig(rc *receiver) string {
	var inds strings.Builder
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&inds, "  - {code: i%d, name: 指标%d, kind: count, weight: 10, target: 120}\n", i, i)
	}
	return fmt.Sprintf(`name: 北流市妇联2024年度考核
year: 2024
timezone: Asia/Shanghai
townships:
  - {code: beiliu, name: 北流镇}
  - {code: xinxu, name: 新圩镇}
indicators:
%snotify:
  base_url: http://kpimon.example
  webhooks:
    - {name: 市妇联工作群, type: wecom, url: "%s/cgi-bin/webhook/send?key=wecom-key", events: [alerts]}
`, inds.String(), rc.srv.URL)
}

func TestOneTownshipsAlertsOfOneKindAreOneLine(t *testing.T) {
	rc := newReceiver(t)
	clk := &clock{}
	clk.Set(shanghai(t, 2024, 2, 6, 1))
	mon := open(t, beiliuConfig(rc), dbPath(t), clk)
	// 北流镇 reports nothing for January; 新圩镇 is behind on three counts
	var rows strings.Builder
	for i := 1; i <= 7; i++ {
		v := 10
		if i <= 3 {
			v = 5
		}
		fmt.Fprintf(&rows, "xinxu,i%d,2024-01,%d,,\n", i, v)
	}
	ingest(t, mon, rows.String())
	e, err := New(mon, Options{RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, e)

	// two days later 北流镇 reports all seven and 新圩镇 corrects its three
	clk.Set(shanghai(t, 2024, 2, 8, 10))
	rows.Reset()
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&rows, "beiliu,i%d,2024-01,10,,\n", i)
		if i <= 3 {
			fmt.Fprintf(&rows, "xinxu,i%d,2024-01,10,,\n", i)
		}
	}
	ingest(t, mon, rows.String())
	mustSync(t, e)

	got := texts(t, rc, pathWeCom)
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"fired", got[0], []string{
			"- 【警告】[北流镇](http://kpimon.example/townships/beiliu?period=2024-01)·逾期未报送 7 项：指标1、指标2、指标3等，[去补报](http://kpimon.example/my)",
			"- 【警告】[新圩镇](http://kpimon.example/townships/xinxu?period=2024-01)·未达序时进度 3 项：指标1、指标2、指标3",
		}},
		{"resolved", got[1], []string{
			"- 【已恢复】[北流镇](http://kpimon.example/townships/beiliu?period=2024-01)补报7项，相关预警已解除（指标1、指标2、指标3等；持续2天10小时）",
			"- 【已恢复】[新圩镇](http://kpimon.example/townships/xinxu?period=2024-01)·未达序时进度 3 项（指标1、指标2、指标3；持续7天10小时）",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Count(tc.text, "\n- ")
			if lines != len(tc.want) {
				t.Errorf("%d lines, want %d:\n%s", lines, len(tc.want), tc.text)
			}
			for _, w := range tc.want {
				if !strings.Contains(tc.text, w+"\n") && !strings.HasSuffix(tc.text, w) {
					t.Errorf("no line %q in:\n%s", w, tc.text)
				}
			}
		})
	}
}
