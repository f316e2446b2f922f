package kpi

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidConfig is what every configuration error unwraps to.
var ErrInvalidConfig = errors.New("invalid assessment config")

// Problem is one mistake (or warning) in a config file, with the line it is on.
type Problem struct {
	Line    int
	Message string
}

// ConfigError lists every mistake found in a config file, so a clerk fixes it in one pass.
type ConfigError struct {
	File     string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: 考核配置有 %d 处错误", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.format(e.File))
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func (p Problem) format(file string) string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", file, p.Message)
}

// String writes the problem as FILE:LINE: message for the file name given.
func (p Problem) String() string { return p.format("config") }

// LoadConfig reads and validates the assessment config at path.
func LoadConfig(path string) (*Assessment, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("考核配置文件 %s 不存在：请检查 --config: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("读取考核配置文件 %s 失败: %w", path, err)
	}
	return ParseConfig(path, data)
}

type rawConfig struct {
	ID                string        `yaml:"id"`
	Level             string        `yaml:"level"`
	Name              string        `yaml:"name"`
	Year              int           `yaml:"year"`
	Timezone          string        `yaml:"timezone"`
	ReportDeadlineDay *int          `yaml:"report_deadline_day"`
	Grades            []rawGrade    `yaml:"grades"`
	Townships         []rawTownship `yaml:"townships"`
	Indicators        []rawInd      `yaml:"indicators"`
	Notify            *rawNotify    `yaml:"notify"`
}

type rawGrade struct {
	Name string   `yaml:"name"`
	Min  *float64 `yaml:"min"`
}

type rawTownship struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

type rawInd struct {
	Code           string             `yaml:"code"`
	Name           string             `yaml:"name"`
	Category       string             `yaml:"category"`
	Unit           string             `yaml:"unit"`
	Kind           string             `yaml:"kind"`
	Weight         *float64           `yaml:"weight"`
	Direction      string             `yaml:"direction"`
	Target         *float64           `yaml:"target"`
	Targets        map[string]float64 `yaml:"targets"`
	Baseline       *float64           `yaml:"baseline"`
	Baselines      map[string]float64 `yaml:"baselines"`
	Pacing         yaml.Node          `yaml:"pacing"`
	Warn           *float64           `yaml:"warn"`
	Threshold      *float64           `yaml:"threshold"`
	Margin         *float64           `yaml:"margin"`
	DeductPerPoint *float64           `yaml:"deduct_per_point"`
	Due            *int               `yaml:"due"`
	Max            *float64           `yaml:"max"`
}

type rawNotify struct {
	BaseURL        string       `yaml:"base_url"`
	RemindDaysLeft *int         `yaml:"remind_days_left"`
	Webhooks       []rawWebhook `yaml:"webhooks"`
}

type rawWebhook struct {
	Name   string   `yaml:"name"`
	Type   string   `yaml:"type"`
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Events []string `yaml:"events"`
}

// configCheck collects problems while a config is validated.
type configCheck struct {
	problems []Problem
	warnings []Problem
}

func (c *configCheck) add(line int, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

func (c *configCheck) warn(line int, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// ParseConfig validates a config held in memory; name is used in error messages. Every
// mistake is reported with its line. Warnings (a config that is valid but probably not
// what was meant, such as weights not summing to 100) are returned on the Assessment.
func ParseConfig(name string, data []byte) (*Assessment, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ConfigError{File: name, Problems: yamlProblems(err)}
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: name, Problems: []Problem{{Message: "配置文件是空的"}}}
	}
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, &ConfigError{File: name, Problems: yamlProblems(err)}
	}
	doc := root.Content[0]
	c := &configCheck{}
	a := c.assessment(&raw, doc, name)
	if len(c.problems) > 0 {
		sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
		return nil, &ConfigError{File: name, Problems: c.problems}
	}
	a.index()
	a.Warnings = c.warnings
	return a, nil
}

var (
	yamlLineRE    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknownRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlTypeRE    = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// yamlProblems turns yaml.v3's errors into Chinese problems with lines.
func yamlProblems(err error) []Problem {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out []Problem
	for _, m := range msgs {
		p := Problem{Message: m}
		if g := yamlLineRE.FindStringSubmatch(m); g != nil {
			p.Line, _ = strconv.Atoi(g[1])
			p.Message = g[2]
			if u := yamlUnknownRE.FindStringSubmatch(g[2]); u != nil {
				p.Message = fmt.Sprintf("未知的配置项 %q（拼写错误？）", u[1])
			} else if t := yamlTypeRE.FindStringSubmatch(g[2]); t != nil {
				p.Message = fmt.Sprintf("%q 的类型不对：这里需要%s", t[2], goTypeLabel(t[3]))
			} else {
				p.Message = "YAML 格式错误：" + g[2]
			}
		} else {
			p.Message = "YAML 格式错误：" + strings.TrimPrefix(m, "yaml: ")
		}
		out = append(out, p)
	}
	return out
}

func goTypeLabel(t string) string {
	switch {
	case strings.Contains(t, "float"), strings.Contains(t, "int"):
		return "一个数"
	case strings.HasPrefix(t, "[]"):
		return "一个列表"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "kpi."):
		return "一组键值"
	}
	return t
}

// mapValue returns the key and value nodes of key in the mapping node m.
func mapValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// lineOf is the line of key in the mapping m, or m's own line when the key is absent.
func lineOf(m *yaml.Node, key string) int {
	if k, _ := mapValue(m, key); k != nil {
		return k.Line
	}
	if m != nil {
		return m.Line
	}
	return 0
}

// item is the i-th element of the sequence under key in m.
func item(m *yaml.Node, key string, i int) *yaml.Node {
	_, v := mapValue(m, key)
	if v == nil || v.Kind != yaml.SequenceNode || i >= len(v.Content) {
		return m
	}
	return v.Content[i]
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func (c *configCheck) assessment(raw *rawConfig, doc *yaml.Node, file string) *Assessment {
	a := &Assessment{Name: strings.TrimSpace(raw.Name), Year: raw.Year}
	a.ID = strings.TrimSpace(raw.ID)
	switch {
	case a.ID == "":
		a.ID = defaultID(file)
		if !codeRE.MatchString(a.ID) {
			c.add(0, "缺少 id：配置文件名 %q 不能用作考核 id（只能用英文字母、数字、下划线、点和连字符），请在配置中写 id（如 id: cangnan-2024）", filepath.Base(file))
		}
	case !codeRE.MatchString(a.ID):
		c.add(lineOf(doc, "id"), "考核 id %q 只能用英文字母、数字、下划线、点和连字符（如 cangnan-2024）", a.ID)
	}
	a.Level = Level(strings.TrimSpace(raw.Level))
	if a.Level == "" {
		a.Level = LevelCounty
	} else if !a.Level.Valid() {
		c.add(lineOf(doc, "level"), "level %q 无效：可选 county（县）、district（区）、city（市）、province（省）", raw.Level)
		a.Level = LevelCounty
	}
	if a.Name == "" {
		c.add(lineOf(doc, "name"), "缺少 name（考核名称，如“某某县妇联2024年度目标管理考核”）")
	}
	if raw.Year < 2000 || raw.Year > 2100 {
		c.add(lineOf(doc, "year"), "year 应为考核年度的四位年份（如 2024），现为 %d", raw.Year)
	}
	a.Timezone = raw.Timezone
	if a.Timezone == "" {
		a.Timezone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		c.add(lineOf(doc, "timezone"), "timezone %q 不是有效的时区名（如 Asia/Shanghai）", a.Timezone)
		loc = time.UTC
	}
	a.Location = loc
	a.ReportDeadlineDay = 5
	if raw.ReportDeadlineDay != nil {
		a.ReportDeadlineDay = *raw.ReportDeadlineDay
		if a.ReportDeadlineDay < 1 || a.ReportDeadlineDay > 28 {
			c.add(lineOf(doc, "report_deadline_day"), "report_deadline_day 应在 1 到 28 之间（次月几日前报送），现为 %d", a.ReportDeadlineDay)
		}
	}
	a.Grades = c.grades(raw.Grades, doc)
	a.Townships = c.townships(raw.Townships, doc)
	a.Indicators = c.indicators(raw.Indicators, doc, a.Townships)
	a.Notify = c.notify(raw.Notify, doc)
	return a
}

func (c *configCheck) grades(raw []rawGrade, doc *yaml.Node) []Grade {
	if len(raw) == 0 {
		if _, v := mapValue(doc, "grades"); v != nil {
			c.add(v.Line, "grades 是空的：至少要有一个等次（或删去 grades，使用默认的 优秀≥90、称职≥60、不称职）")
		}
		return DefaultGrades()
	}
	out := make([]Grade, 0, len(raw))
	seen := map[string]bool{}
	for i, g := range raw {
		n := item(doc, "grades", i)
		name := strings.TrimSpace(g.Name)
		switch {
		case name == "":
			c.add(n.Line, "grades 第 %d 项缺少 name（等次名称）", i+1)
		case seen[name]:
			c.add(lineOf(n, "name"), "等次 %q 重复", name)
		}
		seen[name] = true
		if g.Min == nil {
			c.add(n.Line, "等次 %q 缺少 min（最低分）", name)
			out = append(out, Grade{Name: name})
			continue
		}
		if !finite(*g.Min) || *g.Min < 0 {
			c.add(lineOf(n, "min"), "等次 %q 的 min 应为不小于 0 的分数", name)
		}
		if i > 0 && raw[i-1].Min != nil && *g.Min >= *raw[i-1].Min {
			c.add(lineOf(n, "min"), "grades 须按 min 从高到低排列：%q 的 min %g 不低于上一档的 %g", name, *g.Min, *raw[i-1].Min)
		}
		out = append(out, Grade{Name: name, Min: *g.Min})
	}
	if last := out[len(out)-1]; last.Min > 0 {
		c.warn(item(doc, "grades", len(out)-1).Line, "最后一档 %q 的 min 为 %g：总分更低的乡镇也归入这一档", last.Name, last.Min)
	}
	return out
}

func (c *configCheck) townships(raw []rawTownship, doc *yaml.Node) []Township {
	if len(raw) == 0 {
		c.add(lineOf(doc, "townships"), "缺少 townships：至少要有一个被考核的乡镇（街道）")
		return nil
	}
	out := make([]Township, 0, len(raw))
	codes, names := map[string]int{}, map[string]int{}
	for i, t := range raw {
		n := item(doc, "townships", i)
		code, name := strings.TrimSpace(t.Code), strings.TrimSpace(t.Name)
		switch {
		case code == "":
			c.add(n.Line, "townships 第 %d 项缺少 code（英文或拼音代码）", i+1)
		case !codeRE.MatchString(code):
			c.add(lineOf(n, "code"), "乡镇代码 %q 只能用英文字母、数字、下划线、点和连字符", code)
		case codes[code] > 0:
			c.add(lineOf(n, "code"), "乡镇代码 %q 重复（第 %d 行已有）", code, codes[code])
		}
		if code != "" && codes[code] == 0 {
			codes[code] = lineOf(n, "code")
		}
		switch {
		case name == "":
			c.add(n.Line, "乡镇 %q 缺少 name（名称）", code)
		case names[nameKey(name)] > 0:
			c.add(lineOf(n, "name"), "乡镇名称 %q 重复（第 %d 行已有）", name, names[nameKey(name)])
		}
		if name != "" && names[nameKey(name)] == 0 {
			names[nameKey(name)] = lineOf(n, "name")
		}
		out = append(out, Township{Code: code, Name: name})
	}
	for _, t := range out {
		if l, ok := codes[t.Name]; ok && t.Name != t.Code {
			c.add(l, "乡镇代码 %q 与另一个乡镇的名称相同，报表中无法区分", t.Name)
		}
	}
	return out
}

func (c *configCheck) indicators(raw []rawInd, doc *yaml.Node, towns []Township) []Indicator {
	if len(raw) == 0 {
		c.add(lineOf(doc, "indicators"), "缺少 indicators：至少要有一个考核指标")
		return nil
	}
	known := newTownLookup(towns)
	out := make([]Indicator, 0, len(raw))
	codes, names := map[string]int{}, map[string]int{}
	var weightSum float64
	for i := range raw {
		r := &raw[i]
		n := item(doc, "indicators", i)
		ind := c.indicator(r, n, known)
		if ind.Code != "" {
			if l := codes[ind.Code]; l > 0 {
				c.add(lineOf(n, "code"), "指标代码 %q 重复（第 %d 行已有）", ind.Code, l)
			} else {
				codes[ind.Code] = lineOf(n, "code")
			}
		}
		if ind.Name != "" {
			if l := names[nameKey(ind.Name)]; l > 0 {
				c.add(lineOf(n, "name"), "指标名称 %q 重复（第 %d 行已有）", ind.Name, l)
			} else {
				names[nameKey(ind.Name)] = lineOf(n, "name")
			}
		}
		weightSum += ind.Weight
		out = append(out, ind)
	}
	if len(c.problems) == 0 && math.Abs(weightSum-100) > 1e-9 {
		c.warn(lineOf(doc, "indicators"), "各指标分值合计为 %g，不是 100", weightSum)
	}
	return out
}

// indicator validates one indicator; n is its mapping node, known the township codes.
func (c *configCheck) indicator(r *rawInd, n *yaml.Node, known townLookup) Indicator {
	ind := Indicator{
		Code:     strings.TrimSpace(r.Code),
		Name:     strings.TrimSpace(r.Name),
		Category: strings.TrimSpace(r.Category),
		Unit:     strings.TrimSpace(r.Unit),
		Kind:     Kind(strings.TrimSpace(r.Kind)),
	}
	label := ind.Code
	switch {
	case ind.Code == "":
		c.add(n.Line, "指标缺少 code（英文代码）")
		label = ind.Name
	case !codeRE.MatchString(ind.Code):
		c.add(lineOf(n, "code"), "指标代码 %q 只能用英文字母、数字、下划线、点和连字符", ind.Code)
	}
	if ind.Name == "" {
		c.add(n.Line, "指标 %s 缺少 name（名称）", label)
	}
	if ind.Category == "" {
		ind.Category = "其他"
	}
	if !ind.Kind.Valid() {
		if ind.Kind == "" {
			c.add(n.Line, "指标 %s 缺少 kind（类型）：可选 count、stock、ratio、milestone、bonus、veto", label)
		} else {
			c.add(lineOf(n, "kind"), "指标 %s 的类型 %q 不存在：可选 count、stock、ratio、milestone、bonus、veto", label, ind.Kind)
		}
		return ind
	}
	// fields that make no sense for the kind are mistakes, not silently ignored settings
	allowed := map[Kind][]string{
		KindCount:     {"weight", "direction", "target", "targets", "pacing", "warn"},
		KindStock:     {"weight", "direction", "target", "targets", "baseline", "baselines", "pacing", "warn"},
		KindRatio:     {"weight", "direction", "targets", "threshold", "margin", "deduct_per_point"},
		KindMilestone: {"weight", "due"},
		KindBonus:     {"max"},
		KindVeto:      {},
	}[ind.Kind]
	common := map[string]bool{"code": true, "name": true, "category": true, "unit": true, "kind": true}
	for _, a := range allowed {
		common[a] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !common[k.Value] {
			c.add(k.Line, "指标 %s 是 %s 类，不能设置 %s%s", label, ind.Kind, k.Value, kindFieldHint(ind.Kind, k.Value))
		}
	}
	if r.Weight != nil {
		ind.Weight = *r.Weight
		if !finite(ind.Weight) || ind.Weight < 0 {
			c.add(lineOf(n, "weight"), "指标 %s 的 weight（分值）应为不小于 0 的数", label)
		}
	}
	switch ind.Kind {
	case KindCount, KindStock:
		c.countOrStock(&ind, r, n, label, known)
	case KindRatio:
		c.ratio(&ind, r, n, label, known)
	case KindMilestone:
		if r.Due == nil {
			c.add(n.Line, "节点任务 %s 缺少 due（应完成的月份 1–12）", label)
		} else if *r.Due < 1 || *r.Due > 12 {
			c.add(lineOf(n, "due"), "指标 %s 的 due 应为 1 到 12 的月份，现为 %d", label, *r.Due)
		} else {
			ind.Due = *r.Due
		}
	case KindBonus:
		if r.Max == nil {
			c.add(n.Line, "加分项 %s 缺少 max（全年加分上限）", label)
		} else if !finite(*r.Max) || *r.Max <= 0 {
			c.add(lineOf(n, "max"), "加分项 %s 的 max 应为大于 0 的分数", label)
		} else {
			ind.Max = *r.Max
		}
	}
	return ind
}

func kindFieldHint(k Kind, field string) string {
	switch {
	case k == KindRatio && field == "target":
		return "：比率类用 threshold 设达标线（如 0.98）"
	case k == KindRatio && (field == "pacing" || field == "warn"):
		return "：比率类每月都按达标线考核，没有序时进度"
	case (k == KindBonus || k == KindVeto) && field == "weight":
		return "：加分项和否决项不计分值（加分项用 max 设上限）"
	case (k == KindCount || k == KindStock) && field == "threshold":
		return "：累计量和存量用 target 设全年目标"
	case field == "baseline" || field == "baselines":
		return "：年初基数只用于存量（stock）指标，累计量和比率从 0 起算"
	}
	return ""
}

// townLookup finds a township named in a per-township setting (targets, baselines) by its
// code or, failing that, by its name folded as ingest folds it (full-width forms, spaces).
type townLookup struct {
	byCode map[string]bool
	byName map[string]string // nameKey → code
}

func newTownLookup(towns []Township) townLookup {
	l := townLookup{byCode: make(map[string]bool, len(towns)), byName: make(map[string]string, len(towns))}
	for _, t := range towns {
		if t.Code != "" {
			l.byCode[t.Code] = true
		}
		if t.Name != "" && t.Code != "" {
			l.byName[nameKey(t.Name)] = t.Code
		}
	}
	return l
}

// resolve is the code of the township key names, and whether there is one.
func (l townLookup) resolve(key string) (string, bool) {
	if l.byCode[key] {
		return key, true
	}
	code, ok := l.byName[nameKey(key)]
	return code, ok
}

// perTownship validates a per-township mapping (targets, baselines) given under key: each
// key a township's code or name, each value passing check. It returns the values by code.
func (c *configCheck) perTownship(raw map[string]float64, n *yaml.Node, key, label string, known townLookup, check func(float64) bool, what string) map[string]float64 {
	if len(raw) == 0 {
		return nil
	}
	_, tn := mapValue(n, key)
	out := make(map[string]float64, len(raw))
	seen := map[string]string{}
	// in the file's order, so that a township given twice is reported at its second line
	for i := 0; tn != nil && i+1 < len(tn.Content); i += 2 {
		name := tn.Content[i].Value
		v, ok := raw[name]
		if !ok {
			continue
		}
		line := tn.Content[i].Line
		code, found := known.resolve(name)
		switch {
		case !found:
			c.add(line, "指标 %s 的 %s 为未知乡镇 %q 设置了%s（须用 townships 中的 code 或名称）", label, key, name, what)
			continue
		case seen[code] != "":
			c.add(line, "指标 %s 的 %s 为乡镇 %s 设置了两次（%q 和 %q）", label, key, code, seen[code], name)
			continue
		}
		seen[code] = name
		if !finite(v) || !check(v) {
			c.add(line, "指标 %s 为乡镇 %s 设置的%s %g 无效", label, code, what, v)
			continue
		}
		out[code] = v
	}
	return out
}

func (c *configCheck) countOrStock(ind *Indicator, r *rawInd, n *yaml.Node, label string, known townLookup) {
	switch r.Direction {
	case "", "higher":
		ind.Direction = Higher
	case "lower":
		ind.Direction = Lower
	default:
		c.add(lineOf(n, "direction"), "指标 %s 的 direction %q 无效：higher（越高越好，目标是下限）或 lower（越低越好，目标是上限）", label, r.Direction)
	}
	if r.Target != nil {
		if !finite(*r.Target) || *r.Target < 0 {
			c.add(lineOf(n, "target"), "指标 %s 的 target 应为不小于 0 的数", label)
		} else {
			t := *r.Target
			ind.Target = &t
		}
	}
	ind.Targets = c.perTownship(r.Targets, n, "targets", label, known, func(v float64) bool { return v >= 0 }, "目标")
	if r.Target == nil && ind.Weight > 0 {
		c.add(lineOf(n, "weight"), "指标 %s 有分值 %g 却没有 target：只统计不考核的指标不计分，请设置 target 或去掉 weight", label, ind.Weight)
	}
	ind.Warn = 0.9
	if r.Warn != nil {
		if !finite(*r.Warn) || *r.Warn <= 0 || *r.Warn > 1 {
			c.add(lineOf(n, "warn"), "指标 %s 的 warn 应在 0 到 1 之间（如 0.9 表示达到序时进度的 90%% 以上为预警）", label)
		} else {
			ind.Warn = *r.Warn
		}
	}
	ind.Pacing = c.pacing(&r.Pacing, n, label)
	c.baselines(ind, r, n, label, known)
}

// baselines validates a stock's 年初基数: only on a stock whose direction is higher, not
// negative, and for every township with a target not above that target (a baseline equal to
// the target leaves no growth to make: such a township scores full marks). A baseline on a
// township without a target is a mistake too: nothing would be measured from it.
func (c *configCheck) baselines(ind *Indicator, r *rawInd, n *yaml.Node, label string, known townLookup) {
	if r.Baseline == nil && len(r.Baselines) == 0 {
		return
	}
	if ind.Direction == Lower {
		for _, key := range []string{"baseline", "baselines"} {
			if k, _ := mapValue(n, key); k != nil {
				c.add(k.Line, "指标 %s 越低越好（direction: lower），不能设置 %s：年初基数只用于越高越好的存量指标", label, key)
			}
		}
		return
	}
	if r.Baseline != nil {
		if !finite(*r.Baseline) || *r.Baseline < 0 {
			c.add(lineOf(n, "baseline"), "指标 %s 的 baseline（年初基数）应为不小于 0 的数", label)
		} else {
			ind.Baseline = *r.Baseline
		}
	}
	ind.Baselines = c.perTownship(r.Baselines, n, "baselines", label, known, func(v float64) bool { return v >= 0 }, "年初基数")
	for code := range known.byCode {
		b := ind.BaselineFor(code)
		if b == 0 {
			continue
		}
		line := lineOf(n, "baseline")
		if _, ok := ind.Baselines[code]; ok {
			_, bn := mapValue(n, "baselines")
			line = baselineLine(bn, code, known)
		}
		t := ind.TargetFor(code)
		switch {
		case t == nil:
			c.add(line, "指标 %s 为乡镇 %s 设了年初基数 %g，但该乡镇没有 target：年初基数只用于有目标的存量指标", label, code, b)
		case b > *t:
			c.add(line, "指标 %s 乡镇 %s 的年初基数 %g 高于目标 %g：目标应不低于年初基数", label, code, b, *t)
		}
	}
}

// baselineLine is the line of the baselines entry that names the township code.
func baselineLine(bn *yaml.Node, code string, known townLookup) int {
	for i := 0; bn != nil && i+1 < len(bn.Content); i += 2 {
		if c, ok := known.resolve(bn.Content[i].Value); ok && c == code {
			return bn.Content[i].Line
		}
	}
	if bn != nil {
		return bn.Line
	}
	return 0
}

func (c *configCheck) pacing(p *yaml.Node, n *yaml.Node, label string) Pacing {
	switch p.Kind {
	case 0:
		return LinearPacing()
	case yaml.ScalarNode:
		switch p.Value {
		case "linear", "":
			return LinearPacing()
		case "none":
			return NoPacing()
		}
		c.add(p.Line, "指标 %s 的 pacing %q 无效：可选 linear（按月平均）、none（每月都按全年目标）或 12 个累计比例", label, p.Value)
		return LinearPacing()
	case yaml.SequenceNode:
		if len(p.Content) != 12 {
			c.add(p.Line, "指标 %s 的 pacing 有 %d 个比例，应为 12 个（每月一个累计比例）", label, len(p.Content))
			return LinearPacing()
		}
		out := Pacing{Name: "custom"}
		ok := true
		for i, e := range p.Content {
			f, err := strconv.ParseFloat(e.Value, 64)
			if e.Kind != yaml.ScalarNode || err != nil || !finite(f) || f < 0 || f > 1 {
				c.add(e.Line, "指标 %s 的 pacing 第 %d 个值 %q 应为 0 到 1 之间的累计比例", label, i+1, e.Value)
				ok = false
				continue
			}
			if i > 0 && f < out.Fractions[i-1] {
				c.add(e.Line, "指标 %s 的 pacing 第 %d 个值 %g 小于前一个 %g：累计比例不能下降", label, i+1, f, out.Fractions[i-1])
				ok = false
			}
			out.Fractions[i] = f
		}
		if ok && math.Abs(out.Fractions[11]-1) > 1e-9 {
			c.add(p.Content[11].Line, "指标 %s 的 pacing 最后一个值是 %g，应为 1（年底完成全年目标）", label, out.Fractions[11])
		}
		out.Fractions[11] = 1
		return out
	}
	c.add(p.Line, "指标 %s 的 pacing 无效：可选 linear、none 或 12 个累计比例", label)
	return LinearPacing()
}

func (c *configCheck) ratio(ind *Indicator, r *rawInd, n *yaml.Node, label string, known townLookup) {
	ind.Direction = Higher
	if r.Direction != "" && r.Direction != "higher" {
		c.add(lineOf(n, "direction"), "比率类指标 %s 只能越高越好（direction: higher）", label)
	}
	if r.Threshold == nil {
		c.add(n.Line, "比率类指标 %s 缺少 threshold（达标线，如 0.98 表示 98%%）", label)
	} else {
		t := *r.Threshold
		switch {
		case !finite(t) || t <= 0:
			c.add(lineOf(n, "threshold"), "指标 %s 的 threshold 应大于 0", label)
		case t > 1:
			c.add(lineOf(n, "threshold"), "指标 %s 的 threshold 是 0 到 1 之间的比例，不是百分数：98%% 应写 0.98，现为 %g", label, t)
		default:
			ind.Threshold = t
		}
	}
	ind.Targets = c.perTownship(r.Targets, n, "targets", label, known, func(v float64) bool { return v > 0 && v <= 1 }, "达标线")
	ind.Margin = 0.02
	if r.Margin != nil {
		if !finite(*r.Margin) || *r.Margin < 0 || *r.Margin >= 1 {
			c.add(lineOf(n, "margin"), "指标 %s 的 margin 应为 0 到 1 之间的比例（如 0.02）", label)
		} else {
			ind.Margin = *r.Margin
		}
	}
	if r.DeductPerPoint != nil {
		if !finite(*r.DeductPerPoint) || *r.DeductPerPoint < 0 {
			c.add(lineOf(n, "deduct_per_point"), "指标 %s 的 deduct_per_point（每低 1 个百分点扣分）应为不小于 0 的数", label)
		} else {
			d := *r.DeductPerPoint
			ind.DeductPerPoint = &d
		}
	}
}

var notifyEvents = map[string]bool{"alerts": true, "reminders": true, "rankings": true}

func (c *configCheck) notify(raw *rawNotify, doc *yaml.Node) Notify {
	out := Notify{RemindDaysLeft: 2}
	if raw == nil {
		return out
	}
	_, nn := mapValue(doc, "notify")
	out.BaseURL = strings.TrimRight(strings.TrimSpace(raw.BaseURL), "/")
	if out.BaseURL != "" && !strings.HasPrefix(out.BaseURL, "http://") && !strings.HasPrefix(out.BaseURL, "https://") {
		c.add(lineOf(nn, "base_url"), "notify.base_url %q 应以 http:// 或 https:// 开头", raw.BaseURL)
	}
	if raw.RemindDaysLeft != nil {
		if *raw.RemindDaysLeft < 0 || *raw.RemindDaysLeft > 27 {
			c.add(lineOf(nn, "remind_days_left"), "notify.remind_days_left 应在 0 到 27 之间")
		} else {
			out.RemindDaysLeft = *raw.RemindDaysLeft
		}
	}
	for i, w := range raw.Webhooks {
		n := item(nn, "webhooks", i)
		hook := Webhook{Name: strings.TrimSpace(w.Name), Type: strings.TrimSpace(w.Type), URL: strings.TrimSpace(w.URL), Secret: w.Secret, Events: w.Events}
		if hook.Name == "" {
			hook.Name = fmt.Sprintf("webhook%d", i+1)
		}
		switch hook.Type {
		case "wecom", "dingtalk", "json":
		default:
			c.add(lineOf(n, "type"), "通知 %s 的 type %q 无效：可选 wecom（企业微信群机器人）、dingtalk（钉钉群机器人）、json", hook.Name, hook.Type)
		}
		if !strings.HasPrefix(hook.URL, "http://") && !strings.HasPrefix(hook.URL, "https://") {
			c.add(lineOf(n, "url"), "通知 %s 的 url 应以 http:// 或 https:// 开头", hook.Name)
		}
		if hook.Secret != "" && hook.Type != "dingtalk" {
			c.add(lineOf(n, "secret"), "通知 %s：只有钉钉机器人（dingtalk）使用 secret 加签", hook.Name)
		}
		for _, e := range hook.Events {
			if !notifyEvents[e] {
				c.add(lineOf(n, "events"), "通知 %s 的事件 %q 无效：可选 alerts、reminders、rankings", hook.Name, e)
			}
		}
		out.Webhooks = append(out.Webhooks, hook)
	}
	return out
}
