package charts

import (
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestThousands(t *testing.T) {
	tests := []struct {
		v        float64
		decimals int
		want     string
	}{
		{0, 2, "0"},
		{7, 2, "7"},
		{999, 2, "999"},
		{1000, 2, "1,000"},
		{1234567, 0, "1,234,567"},
		{12345.678, 2, "12,345.68"},
		{12345.5, 2, "12,345.5"},
		{-1234.5, 1, "-1,234.5"},
		{0.125, 2, "0.13"},
	}
	for _, tt := range tests {
		if got := thousands(tt.v, tt.decimals); got != tt.want {
			t.Errorf("thousands(%v, %d) = %q, want %q", tt.v, tt.decimals, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		n    kpi.Num
		want string
	}{
		{kpi.Some(0.9333), "93.3%"},
		{kpi.Some(1), "100.0%"},
		{kpi.Some(0.98), "98.0%"},
		{kpi.Some(0), "0.0%"},
		{kpi.Num{}, "—"},
	}
	for _, tt := range tests {
		if got := percent(tt.n); got != tt.want {
			t.Errorf("percent(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFigureByKind(t *testing.T) {
	count := &kpi.Indicator{Kind: kpi.KindCount, Unit: "人"}
	pct := &kpi.Indicator{Kind: kpi.KindCount, Unit: "%"}
	tests := []struct {
		name string
		ind  *kpi.Indicator
		n    kpi.Num
		want string
	}{
		{"count with unit", count, kpi.Some(12345), "12,345 人"},
		{"money with two decimals, never an exponent", &kpi.Indicator{Kind: kpi.KindCount, Unit: "万元"}, kpi.Some(12345.5), "12,345.50 万元"},
		{"a huge count without an exponent", count, kpi.Some(1e15), "1,000,000,000,000,000 人"},
		{"no figure", count, kpi.Num{}, "—"},
		{"unit percent is not repeated", pct, kpi.Some(12), "12"},
		{"ratio", &kpi.Indicator{Kind: kpi.KindRatio, Unit: "%"}, kpi.Some(0.9756), "97.6%"},
		{"milestone done", &kpi.Indicator{Kind: kpi.KindMilestone}, kpi.Some(1), "已完成"},
		{"milestone not done", &kpi.Indicator{Kind: kpi.KindMilestone}, kpi.Some(0), "未完成"},
		{"veto", &kpi.Indicator{Kind: kpi.KindVeto}, kpi.Some(1), "是"},
		{"bonus", &kpi.Indicator{Kind: kpi.KindBonus}, kpi.Some(1.5), "1.5 分"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := figure(plain(tt.ind), tt.n); got != tt.want {
				t.Errorf("figure = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCellTextKeepsFormulasOut(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "-x": "'-x", "@x": "'@x", "甲镇": "甲镇", "": ""} {
		if got := cellText(in); got != want {
			t.Errorf("cellText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCeilingRowsSayNotMoreThan(t *testing.T) {
	a, err := kpi.ParseConfig("t.yaml", []byte(`name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators: [{code: r, name: 重复访件数, unit: 件, kind: count, direction: lower, weight: 100, target: 4}]
`))
	if err != nil {
		t.Fatal(err)
	}
	d := kpi.NewDataset(a)
	d.Set(kpi.Observation{Township: "aa", Indicator: "r", Period: kpi.MustPeriod("2024-06"), Value: 1})
	r, err := kpi.Evaluate(d, kpi.MustPeriod("2024-06"), time.Date(2024, 7, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	row := newEvalRow(plain(&a.Indicators[0]), r.Evaluation(0, 0, 1), "重复访件数", "")
	if !strings.HasPrefix(row.Target, "不超过 4") || !strings.HasPrefix(row.Expected, "不超过 2") || row.Pace != dash {
		t.Errorf("ceiling row: target %q, expected %q, pace %q", row.Target, row.Expected, row.Pace)
	}
}
