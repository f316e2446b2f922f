package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// shanghaiNow is the minute now and the next one as the 苍南县 config's zone shows them,
// so that a test straddling a minute still matches.
func shanghaiNow(t *testing.T, layout string) []string {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	return []string{now.Format(layout), now.Add(time.Minute).Format(layout)}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// TestTimesInTheAssessmentsZone: lock, token list and token link show times in the
// config's zone (Asia/Shanghai, whatever the machine's) with the label 北京时间; without a
// config, the machine's zone is named and the way to the assessment's is told.
func TestTimesInTheAssessmentsZone(t *testing.T) {
	config, db := loadCangnan(t)
	mustCLI(t, "lock", "--db", db, "--config", config, "--period", "2024-03", "--actor", "县妇联办公室")
	table := shanghaiNow(t, "2006-01-02 15:04")
	sentence := shanghaiNow(t, "2006年1月2日 15:04")
	for _, tc := range []struct {
		name string
		args []string
		when []string
		want string
	}{
		{"lock list", []string{"lock", "--db", db, "--config", config}, table, "（表中时间为北京时间）"},
		{"lock again", []string{"lock", "--db", db, "--config", config, "--period", "2024-03"}, sentence, "（北京时间）由 县妇联办公室 锁定"},
		{"token link", []string{"token", "link", "--db", db, "--config", config, "--township", "灵溪镇", "--base-url", "https://kpimon.example.cn", "--ttl", "1m"}, sentence, "（北京时间），只能使用一次"},
		{"token list", []string{"token", "list", "--db", db, "--config", config}, table, "（表中时间为北京时间）"},
		{"token list without a config", []string{"token", "list", "--db", db}, nil, "（表中时间为本机时区 UTC"},
		{"lock list by id", []string{"lock", "--db", db, "--assessment", "config"}, nil, "加 --config 按考核的时区显示"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := mustCLI(t, tc.args...)
			if !strings.Contains(out, tc.want) {
				t.Errorf("lacks %q:\n%s", tc.want, out)
			}
			if tc.when != nil && !containsAny(out, tc.when) {
				t.Errorf("no time of now in Asia/Shanghai (%v):\n%s", tc.when, out)
			}
		})
	}
}

// TestLockUnknownAssessment: lock --assessment with an id the database has never seen (a
// typo) is refused instead of locking a month of no assessment or listing nothing.
func TestLockUnknownAssessment(t *testing.T) {
	_, db := loadCangnan(t)
	for _, args := range [][]string{
		{"lock", "--db", db, "--assessment", "cangnan-2024", "--period", "2024-03"},
		{"lock", "--db", db, "--assessment", "cangnan-2024"},
	} {
		out, _, err := cli(t, args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, "没有考核“cangnan-2024”的数据或锁定：请检查 --assessment") {
			t.Errorf("%v: %v, stdout %q", args, err, out)
		}
	}
	// the right id (the config's base name, config) still works without the config
	if out := mustCLI(t, "lock", "--db", db, "--assessment", "config", "--period", "2024-03"); !strings.Contains(out, "已锁定 2024-03") {
		t.Errorf("lock by the right id said %q", out)
	}
	if out := mustCLI(t, "lock", "--db", db, "--assessment", "config"); !strings.Contains(out, "2024-03") {
		t.Errorf("lock list by the right id said %q", out)
	}
}
