package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ruleFile is a Prometheus rule file (rulefmt).
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Joins keep every kpimon instance and assessment apart (job and instance come from the
// scrape; every kpimon series carries its assessment).
const (
	// statusIs keeps the cells whose status is s, without the status label.
	statusIs = `max without (status) (kpimon_indicator_status{status="%s"} == 1)`
	// infoKind joins on the indicator's metadata.
	infoKind = `and on (job, instance, assessment, indicator) kpimon_indicator_info{%s}`
)

// alertingRules are the built-in alerts of kpi (kpi/alert.go, the spec's "Alerts as of P")
// written over kpimon's metrics; alertname and severity are the same as kpimon's own.
func alertingRules(baseURL string) []rule {
	ann := func(summary, description string) map[string]string {
		m := map[string]string{"summary": summary, "description": description}
		if baseURL != "" {
			m["link"] = strings.TrimRight(baseURL, "/") + "/townships/{{ $labels.township }}"
		}
		return m
	}
	cell := `{{ $labels.township_name }}“{{ $labels.indicator_name }}”`
	behind := fmt.Sprintf(statusIs, "behind")
	// behind_pace's value is the run of months behind, kept only where the status is behind
	behindNow := `and on (job, instance, assessment, township, indicator) (kpimon_indicator_status{status="behind"} == 1)`
	return []rule{
		{
			Alert: "behind_pace",
			Expr: "kpimon_indicator_behind_months < 2\n" + behindNow + "\n" +
				fmt.Sprintf(infoKind, `kind=~"count|stock|milestone", direction!="lower"`),
			Labels:      map[string]string{"severity": "warning"},
			Annotations: ann(cell+"未达序时进度", "累计完成低于序时进度（节点任务逾期未完成）。"),
		},
		{
			Alert: "behind_pace",
			Expr: "kpimon_indicator_behind_months >= 2\n" + behindNow + "\n" +
				fmt.Sprintf(infoKind, `kind=~"count|stock|milestone", direction!="lower"`),
			Labels:      map[string]string{"severity": "critical"},
			Annotations: ann(cell+"已连续{{ $value }}个月未达序时进度", "连续2个月及以上未达序时进度：按规定约谈。"),
		},
		{
			Alert:       "below_threshold",
			Expr:        fmt.Sprintf(statusIs, "at_risk") + "\n" + fmt.Sprintf(infoKind, `kind="ratio"`),
			Labels:      map[string]string{"severity": "warning"},
			Annotations: ann(cell+"接近达标线", "比率低于达标线，但在预警幅度之内。"),
		},
		{
			Alert:       "below_threshold",
			Expr:        behind + "\n" + fmt.Sprintf(infoKind, `kind="ratio"`),
			Labels:      map[string]string{"severity": "critical"},
			Annotations: ann(cell+"低于达标线", "比率低于达标线，超出预警幅度。"),
		},
		{
			Alert:       "ceiling_breached",
			Expr:        behind + "\n" + fmt.Sprintf(infoKind, `kind=~"count|stock", direction="lower"`),
			Labels:      map[string]string{"severity": "critical"},
			Annotations: ann(cell+"突破控制上限", "越低越好的指标累计超过全年控制目标。"),
		},
		{
			Alert: "missing_report",
			Expr: "kpimon_indicator_reported == 0\n" + fmt.Sprintf(infoKind, `kind=~"count|stock|ratio"`) +
				"\nand on (job, instance, assessment) (time() >= kpimon_report_deadline_timestamp_seconds)",
			Labels:      map[string]string{"severity": "warning"},
			Annotations: ann(cell+"逾期未报送", "本月数据在报送截止日后仍未报送。"),
		},
		{
			// 预计全年: the forecast's upper bound under the target, for a count or stock
			// (higher) not yet met, from month forecast_from (to November: December has no
			// forecast)
			Alert: "forecast_miss",
			Expr: "kpimon_indicator_forecast_high < kpimon_indicator_target\n" +
				fmt.Sprintf(infoKind, `kind=~"count|stock", direction="higher"`) +
				"\nunless on (job, instance, assessment, township, indicator) (kpimon_indicator_status{status=\"met\"} == 1)" +
				"\nand on (job, instance, assessment) (kpimon_period_month >= kpimon_forecast_from_month)",
			Labels:      map[string]string{"severity": "warning"},
			Annotations: ann(cell+"预计全年完不成", "按目前进度，预计区间的上限也低于全年目标。"),
		},
		{
			Alert:       "veto",
			Expr:        "kpimon_indicator_actual > 0\n" + fmt.Sprintf(infoKind, `kind="veto"`),
			Labels:      map[string]string{"severity": "critical"},
			Annotations: ann(cell+"一票否决", "报告了一票否决事项，本年度考核等次为最末等。"),
		},
	}
}

// recordingRules are summaries for dashboards and routing.
func recordingRules() []rule {
	return []rule{
		{Record: "kpimon:indicator_status:count", Expr: "sum without (township, township_name, indicator, indicator_name) (kpimon_indicator_status)"},
		{Record: "kpimon:alerts_active:count", Expr: "count without (township, township_name, indicator, indicator_name) (kpimon_alert_active)"},
		{Record: "kpimon:township_alerts_active:count", Expr: "count without (alertname, indicator, indicator_name) (kpimon_alert_active)"},
		{Record: "kpimon:indicator_completion_ratio:avg", Expr: "avg without (township, township_name) (kpimon_indicator_completion_ratio)"},
		{Record: "kpimon:indicator_pace_ratio:min", Expr: "min without (township, township_name) (kpimon_indicator_pace_ratio)"},
	}
}

// rulesYAML writes the rule file.
func rulesYAML(baseURL string) ([]byte, error) {
	f := ruleFile{Groups: []ruleGroup{
		{Name: "kpimon.records", Rules: recordingRules()},
		{Name: "kpimon.alerts", Rules: alertingRules(baseURL)},
	}}
	var b bytes.Buffer
	b.WriteString("# Prometheus rules for kpimon, written by `kpimon rules`: the alerts kpimon raises itself\n")
	b.WriteString("# (behind_pace, below_threshold, ceiling_breached, missing_report, forecast_miss, veto) over\n")
	b.WriteString("# its metrics,\n")
	b.WriteString("# for offices that alert from Prometheus, and recording rules for dashboards.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("write rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write rules: %w", err)
	}
	return b.Bytes(), nil
}

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rules", stderr)
	out := fs.String("out", "", "写入这个文件（默认：标准输出）")
	baseURL := fs.String("base-url", "", "kpimon 页面地址（如 https://kpimon.example.cn），给预警加上乡镇页面链接")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "用法: kpimon rules [--out 文件] [--base-url 地址]")
		fmt.Fprintln(fs.Output(), "写出 Prometheus 规则文件：与 kpimon 内置预警等价的告警规则，以及供看板使用的记录规则。")
		printFlags(fs)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return shownUsage("多余的参数")
	}
	if *baseURL != "" && !strings.HasPrefix(*baseURL, "http://") && !strings.HasPrefix(*baseURL, "https://") {
		return usageError{msg: fmt.Sprintf("--base-url“%s”须以 http:// 或 https:// 开头，如 https://%s", *baseURL, strings.TrimLeft(*baseURL, "/:"))}
	}
	data, err := rulesYAML(*baseURL)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := stdout.Write(data)
		return err
	}
	if err := checkOutFile("out", *out); err != nil {
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return writeError(*out, err)
	}
	fmt.Fprintf(stdout, "已写出 Prometheus 规则文件 %s。\n", *out)
	return nil
}
