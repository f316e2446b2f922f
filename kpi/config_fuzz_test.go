package kpi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// configFixtures are the configs in testdata/config, named by outcome: *.good.yaml parse,
// *.bad.yaml do not.
func configFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no config fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestConfigFixtures(t *testing.T) {
	wantErr := map[string][]string{
		"mistakes.bad.yaml":          {"mistakes.bad.yaml:3:", "mistakes.bad.yaml:6:", "mistakes.bad.yaml:11:", "mistakes.bad.yaml:15:", "mistakes.bad.yaml:17:", "mistakes.bad.yaml:18:", "6 处错误"},
		"tab.bad.yaml":               {"tab.bad.yaml:4:", "制表符（Tab）"},
		"alias-loop.bad.yaml":        {"alias-loop.bad.yaml:"},
		"not-a-mapping.bad.yaml":     {"not-a-mapping.bad.yaml:1:", "配置文件应为一组“键: 值”"},
		"baseline-on-count.bad.yaml": {"baseline-on-count.bad.yaml:5:", "不能设置 baseline"},
		"empty.bad.yaml":             {"配置文件是空的"},
	}
	for name, data := range configFixtures(t) {
		t.Run(name, func(t *testing.T) {
			a, err := ParseConfig(name, data)
			if strings.HasSuffix(name, ".good.yaml") {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				if a.ID == "" || len(a.Indicators) == 0 {
					t.Errorf("assessment %+v", a)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a config error", err)
			}
			want, ok := wantErr[name]
			if !ok {
				t.Fatalf("no expectation for %s: add one to the table", name)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// FuzzParseConfig: no input makes the config loader panic; an error is always a ConfigError
// with at least one problem; and a config that parses can be evaluated (an empty dataset, a
// month of the year) without error.
func FuzzParseConfig(f *testing.F) {
	for _, data := range configFixtures(f) {
		f.Add(data)
	}
	f.Add([]byte(testConfig()))
	f.Add([]byte(baselineConfig()))
	f.Add([]byte("name: x\nyear: 2024\ntownships: [{code: a, name: A}]\nindicators: [{code: r, name: R, kind: ratio, threshold: 98%}]\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("~"))
	f.Add([]byte("name: &a [*a]\n"))
	f.Add([]byte("indicators:\n  - pacing: [1, 2, 3]\n    kind: count\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseConfig("fuzz.yaml", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error is not a ConfigError with problems: %v", err)
			}
			for _, p := range ce.Problems {
				if p.Message == "" {
					t.Fatalf("a problem without a message: %+v", ce.Problems)
				}
			}
			return
		}
		d := NewDataset(a)
		for _, m := range []int{1, 6, 12} {
			now := time.Date(a.Year+1, 3, 1, 0, 0, 0, 0, time.UTC)
			if _, err := Evaluate(d, Period{Year: a.Year, Month: m}, now); err != nil {
				t.Fatalf("Evaluate month %d of a config that parsed: %v", m, err)
			}
		}
	})
}
