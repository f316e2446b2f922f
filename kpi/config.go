package kpi

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
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

// ParseConfig validates a config held in memory; name is used in error messages and gives
// the assessment's default id. Every mistake is reported at once, each with its line:
// unknown keys, values of the wrong type and broken rules alike (see yamlwalk.go).
// Warnings (a config that is valid but probably not what was meant, such as weights not
// summing to 100) are returned on the Assessment.
func ParseConfig(name string, data []byte) (*Assessment, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ConfigError{File: name, Problems: syntaxProblems(data, err)}
	}
	if len(root.Content) == 0 || isNull(root.Content[0]) {
		return nil, &ConfigError{File: name, Problems: []Problem{{Message: "配置文件是空的"}}}
	}
	c := &configCheck{}
	a := c.assessment(root.Content[0], name)
	if len(c.problems) > 0 {
		sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
		return nil, &ConfigError{File: name, Problems: c.problems}
	}
	a.index()
	a.Warnings = c.warnings
	return a, nil
}

// mobileRE is a mainland mobile number, which group robots @-mention by.
var mobileRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// The keys each mapping of the config may have.
var (
	topKeys       = []string{"id", "level", "name", "year", "timezone", "report_deadline_day", "forecast_from", "grades", "townships", "units", "indicators", "notify"}
	gradeKeys     = []string{"name", "min"}
	townshipKeys  = []string{"code", "name", "assessment", "contact", "mobile"}
	indicatorKeys = []string{"code", "name", "category", "unit", "kind", "weight", "direction", "target", "targets", "baseline", "baselines",
		"pacing", "warn", "threshold", "margin", "deduct_per_point", "due", "max", "from"}
	notifyKeys  = []string{"base_url", "remind_days_left", "webhooks"}
	webhookKeys = []string{"name", "type", "url", "secret", "events"}
)

func (c *configCheck) assessment(doc *yaml.Node, file string) *Assessment {
	a := &Assessment{Timezone: "Asia/Shanghai", Location: time.UTC, ReportDeadlineDay: 5, ForecastFrom: 4, Level: LevelCounty}
	f := c.fields(doc, "配置文件", topKeys)
	if f == nil {
		a.Grades = DefaultGrades()
		return a
	}
	a.ID = strings.TrimSpace(f.str("id"))
	switch {
	case a.ID == "" && !f.has("id"):
		a.ID = defaultID(file)
		if !codeRE.MatchString(a.ID) {
			c.add(0, "缺少 id：配置文件名 %q 不能用作考核 id（只能用英文字母、数字、下划线、点和连字符），请在配置中写 id（如 id: cangnan-2024）", filepath.Base(file))
		}
	case !codeRE.MatchString(a.ID):
		c.add(f.line("id"), "考核 id %q 只能用英文字母、数字、下划线、点和连字符（如 cangnan-2024）", a.ID)
	}
	if lv := strings.TrimSpace(f.str("level")); lv != "" {
		a.Level = Level(lv)
		if !a.Level.Valid() {
			c.add(f.line("level"), "level %q 无效：可选 county（县）、district（区）、city（市）、province（省）", lv)
			a.Level = LevelCounty
		}
	}
	a.Name = strings.TrimSpace(f.str("name"))
	if f.missing("name") {
		c.add(f.line("name"), "缺少 name（考核名称，如“某某县妇联2024年度目标管理考核”）")
	}
	year, ok := f.integer("year")
	a.Year = year
	if (ok || !f.has("year")) && (year < 2000 || year > 2100) {
		c.add(f.line("year"), "year 应为考核年度的四位年份（如 2024），现为 %d", year)
	}
	if tz := strings.TrimSpace(f.str("timezone")); tz != "" {
		a.Timezone = tz
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil || strings.HasPrefix(a.Timezone, "/") || strings.Contains(a.Timezone, "..") {
		c.add(f.line("timezone"), "timezone %q 不是有效的时区名（如 Asia/Shanghai）", a.Timezone)
		loc = time.UTC
	}
	a.Location = loc
	if d, ok := f.integer("report_deadline_day"); ok {
		a.ReportDeadlineDay = d
		if d < 1 || d > 28 {
			c.add(f.line("report_deadline_day"), "report_deadline_day 应在 1 到 28 之间（次月几日前报送），现为 %d", d)
		}
	}
	if m, ok := f.integer("forecast_from"); ok {
		a.ForecastFrom = m
		if m < 1 || m > 12 {
			c.add(f.line("forecast_from"), "forecast_from 应为 1 到 12 的月份（从几月起对预计全年完不成的指标预警），现为 %d", m)
		}
	}
	a.Grades = c.grades(f)
	a.Townships = c.townships(f, a.Level)
	a.Indicators = c.indicators(f, a.Townships, a.Level)
	a.Notify = c.notify(f)
	return a
}

// aggregates reports whether an assessment of the level may take its units' figures from
// their own assessments: a city's from its counties', a province's from its cities'.
func aggregates(l Level) bool { return l == LevelCity || l == LevelProvince }

func (c *configCheck) grades(f *fields) []Grade {
	items := f.list("grades")
	if len(items) == 0 {
		if f.has("grades") || f.keyOf["grades"] != nil {
			c.add(f.line("grades"), "grades 是空的：至少要有一个等次（或删去 grades，使用默认的 优秀≥90、称职≥60、不称职）")
		}
		return DefaultGrades()
	}
	out := make([]Grade, 0, len(items))
	seen := map[string]bool{}
	prevMin, hasPrev := 0.0, false
	for i, n := range items {
		g := c.fields(n, fmt.Sprintf("grades 第 %d 项", i+1), gradeKeys)
		if g == nil {
			hasPrev = false
			continue
		}
		name := strings.TrimSpace(g.str("name"))
		switch {
		case g.missing("name"):
			c.add(g.node.Line, "grades 第 %d 项缺少 name（等次名称）", i+1)
		case name == "":
		case seen[name]:
			c.add(g.line("name"), "等次 %q 重复", name)
		}
		seen[name] = true
		min, ok := g.num("min")
		if !ok {
			if !g.has("min") {
				c.add(g.node.Line, "等次 %q 缺少 min（最低分）", name)
			}
			out = append(out, Grade{Name: name})
			hasPrev = false
			continue
		}
		if min < 0 || !finite(min) {
			c.add(g.line("min"), "等次 %q 的 min 应为不小于 0 的分数", name)
		}
		if hasPrev && min >= prevMin {
			c.add(g.line("min"), "grades 须按 min 从高到低排列：%q 的 min %g 不低于上一档的 %g", name, min, prevMin)
		}
		prevMin, hasPrev = min, true
		out = append(out, Grade{Name: name, Min: min})
	}
	if len(out) == 0 {
		return DefaultGrades()
	}
	if last := out[len(out)-1]; last.Min > 0 {
		c.warn(deref(items[len(items)-1]).Line, "最后一档 %q 的 min 为 %g：总分更低的乡镇也归入这一档", last.Name, last.Min)
	}
	return out
}

// townships reads the units being assessed: `townships:`, or `units:` (the same list under
// the name a city's config uses for its 县（市、区）). On a city or province a unit may name
// its own assessment (`assessment:`), whose figures the indicators with a source take.
func (c *configCheck) townships(f *fields, level Level) []Township {
	key := "townships"
	switch {
	case f.has("units") && f.has("townships"):
		c.add(f.line("units"), "townships 和 units 只能写一个：两者都是被考核单位的列表（市级考核习惯写 units）")
		key = "units"
	case f.has("units") || (aggregates(level) && !f.has("townships")):
		key = "units"
	}
	items := f.list(key)
	if len(items) == 0 {
		if key == "units" {
			c.add(f.line(key), "缺少 units：至少要有一个被考核的%s", level.Units())
		} else {
			c.add(f.line(key), "缺少 townships：至少要有一个被考核的乡镇（街道）")
		}
		return nil
	}
	out := make([]Township, 0, len(items))
	codes, names, assessments := map[string]int{}, map[string]int{}, map[string]int{}
	for i, n := range items {
		t := c.fields(n, fmt.Sprintf("%s 第 %d 项", key, i+1), townshipKeys)
		if t == nil {
			continue
		}
		code, name := strings.TrimSpace(t.str("code")), strings.TrimSpace(t.str("name"))
		if t.has("assessment") {
			id := strings.TrimSpace(t.str("assessment"))
			switch {
			case !aggregates(level):
				c.add(t.line("assessment"), "%s 第 %d 项的 assessment 只用于市级（level: city）或省级考核：指明该%s自己的考核，从中汇总", key, i+1, level.UnitsShort())
			case !codeRE.MatchString(id):
				c.add(t.line("assessment"), "%s 第 %d 项的 assessment %q 应为一项考核的 id（英文字母、数字、下划线、点和连字符，如 beiliu-2026）", key, i+1, id)
			case assessments[id] > 0:
				c.add(t.line("assessment"), "考核 %s 被两个单位引用（第 %d 行已有）：每个%s对应自己的一项考核", id, assessments[id], level.UnitsShort())
			default:
				assessments[id] = t.line("assessment")
			}
		}
		switch {
		case t.missing("code"):
			c.add(t.node.Line, "%s 第 %d 项缺少 code（英文或拼音代码）", key, i+1)
		case code == "":
		case !codeRE.MatchString(code):
			c.add(t.line("code"), "乡镇代码 %q 只能用英文字母、数字、下划线、点和连字符", code)
		case codes[code] > 0:
			c.add(t.line("code"), "乡镇代码 %q 重复（第 %d 行已有）", code, codes[code])
		}
		if code != "" && codes[code] == 0 {
			codes[code] = t.line("code")
		}
		switch {
		case t.missing("name"):
			c.add(t.node.Line, "乡镇 %q 缺少 name（名称）", code)
		case name == "":
		case names[nameKey(name)] > 0:
			c.add(t.line("name"), "乡镇名称 %q 重复（第 %d 行已有）", name, names[nameKey(name)])
		}
		if name != "" && names[nameKey(name)] == 0 {
			names[nameKey(name)] = t.line("name")
		}
		tw := Township{Code: code, Name: name, Assessment: strings.TrimSpace(t.str("assessment")), Contact: strings.TrimSpace(t.str("contact"))}
		if t.has("mobile") {
			m := strings.ReplaceAll(strings.TrimSpace(t.str("mobile")), "-", "")
			if !mobileRE.MatchString(m) {
				c.add(t.line("mobile"), "乡镇 %s 的联系人手机号 %q 不对：应为 11 位手机号码（如 13800000000），群机器人用它提醒（@）联系人", code, t.str("mobile"))
			}
			tw.Mobile = m
		}
		out = append(out, tw)
	}
	for _, t := range out {
		if l, ok := codes[t.Name]; ok && t.Name != t.Code {
			c.add(l, "乡镇代码 %q 与另一个乡镇的名称相同，报表中无法区分", t.Name)
		}
	}
	return out
}

func (c *configCheck) indicators(f *fields, towns []Township, level Level) []Indicator {
	items := f.list("indicators")
	if len(items) == 0 {
		c.add(f.line("indicators"), "缺少 indicators：至少要有一个考核指标")
		return nil
	}
	known := newTownLookup(towns)
	out := make([]Indicator, 0, len(items))
	codes, names := map[string]int{}, map[string]int{}
	var weightSum float64
	for i, n := range items {
		what := fmt.Sprintf("indicators 第 %d 项", i+1)
		if code := peek(n, "code"); code != "" {
			what = "指标 " + code
		} else if name := peek(n, "name"); name != "" {
			what = "指标 " + name
		}
		r := c.fields(n, what, indicatorKeys)
		if r == nil {
			continue
		}
		ind := c.indicator(r, known)
		c.from(&ind, r, towns, level)
		if ind.Code != "" {
			if l := codes[ind.Code]; l > 0 {
				c.add(r.line("code"), "指标代码 %q 重复（第 %d 行已有）", ind.Code, l)
			} else {
				codes[ind.Code] = r.line("code")
			}
		}
		if ind.Name != "" {
			if l := names[nameKey(ind.Name)]; l > 0 {
				c.add(r.line("name"), "指标名称 %q 重复（第 %d 行已有）", ind.Name, l)
			} else {
				names[nameKey(ind.Name)] = r.line("name")
			}
		}
		weightSum += ind.Weight
		out = append(out, ind)
	}
	if len(c.problems) == 0 && math.Abs(weightSum-100) > 1e-9 {
		c.warn(f.line("indicators"), "各指标分值合计为 %g，不是 100", weightSum)
	}
	return out
}

// indicator validates one indicator; known finds the townships its overrides name.
func (c *configCheck) indicator(r *fields, known townLookup) Indicator {
	ind := Indicator{
		Code:     strings.TrimSpace(r.str("code")),
		Name:     strings.TrimSpace(r.str("name")),
		Category: strings.TrimSpace(r.str("category")),
		Unit:     strings.TrimSpace(r.str("unit")),
		Kind:     Kind(strings.TrimSpace(r.str("kind"))),
	}
	label := ind.Code
	switch {
	case r.missing("code"):
		c.add(r.node.Line, "指标缺少 code（英文代码）")
		label = ind.Name
	case ind.Code == "":
		label = ind.Name
	case !codeRE.MatchString(ind.Code):
		c.add(r.line("code"), "指标代码 %q 只能用英文字母、数字、下划线、点和连字符", ind.Code)
	}
	r.what = "指标 " + label
	if r.missing("name") {
		c.add(r.node.Line, "指标 %s 缺少 name（名称）", label)
	}
	if ind.Category == "" {
		ind.Category = "其他"
	}
	if !ind.Kind.Valid() {
		if r.missing("kind") {
			c.add(r.node.Line, "指标 %s 缺少 kind（类型）：可选 count、stock、ratio、milestone、bonus、veto", label)
		} else if ind.Kind != "" {
			c.add(r.line("kind"), "指标 %s 的类型 %q 不存在：可选 count、stock、ratio、milestone、bonus、veto", label, ind.Kind)
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
	ok := map[string]bool{"code": true, "name": true, "category": true, "unit": true, "kind": true, "from": true}
	for _, a := range allowed {
		ok[a] = true
	}
	misplaced := map[string]bool{}
	for _, k := range r.keys {
		if !ok[k.Value] {
			c.add(k.Line, "指标 %s 是 %s 类，不能设置 %s%s", label, ind.Kind, k.Value, kindFieldHint(ind.Kind, k.Value))
			misplaced[k.Value] = true
		}
	}
	if w, set := r.num("weight"); set && !misplaced["weight"] {
		ind.Weight = w
		if !finite(w) || w < 0 {
			c.add(r.line("weight"), "指标 %s 的 weight（分值）应为不小于 0 的数", label)
			ind.Weight = 0
		}
	}
	switch ind.Kind {
	case KindCount, KindStock:
		c.countOrStock(&ind, r, label, known, misplaced)
	case KindRatio:
		c.ratio(&ind, r, label, known)
	case KindMilestone:
		due, set := r.integer("due")
		switch {
		case !set && !r.has("due"):
			c.add(r.node.Line, "节点任务 %s 缺少 due（应完成的月份 1–12）", label)
		case !set:
		case due < 1 || due > 12:
			c.add(r.line("due"), "指标 %s 的 due 应为 1 到 12 的月份，现为 %d", label, due)
		default:
			ind.Due = due
		}
	case KindBonus:
		max, set := r.num("max")
		switch {
		case !set && !r.has("max"):
			c.add(r.node.Line, "加分项 %s 缺少 max（全年加分上限）", label)
		case !set:
		case !finite(max) || max <= 0:
			c.add(r.line("max"), "加分项 %s 的 max 应为大于 0 的分数", label)
		default:
			ind.Max = max
		}
	}
	return ind
}

// from validates an indicator's source (`from:`, a city's or province's only): the code of
// the indicator in its units' own assessments whose aggregate is each unit's figure. Which
// kinds may take which is checked against those assessments (LinkUnits); here, only that a
// unit's milestone, bonus or veto cannot be a sum of townships' figures.
func (c *configCheck) from(ind *Indicator, r *fields, towns []Township, level Level) {
	if !r.has("from") {
		return
	}
	src := strings.TrimSpace(r.str("from"))
	line := r.line("from")
	switch {
	case !aggregates(level):
		c.add(line, "指标 %s 的 from 只用于市级（level: city）或省级考核：从所辖%s的考核汇总", ind.Code, LevelCity.Units())
		return
	case !codeRE.MatchString(src):
		c.add(line, "指标 %s 的 from %q 应为所辖单位考核中一个指标的代码", ind.Code, src)
		return
	case ind.Kind == KindMilestone:
		c.add(line, "指标 %s 是节点任务，不能汇总（from）：要汇总各%s所辖乡镇完成某节点任务的比例，请把它声明为 stock（0–1 的完成比例，如 target: 1）", ind.Code, level.UnitsShort())
		return
	case ind.Kind == KindBonus || ind.Kind == KindVeto:
		c.add(line, "指标 %s 是%s，不能汇总（from）：加分和一票否决由各%s直接报送", ind.Code, ind.Kind.Label(), level.UnitsShort())
		return
	}
	for _, t := range towns {
		if t.Assessment == "" {
			c.add(line, "指标 %s 从所辖单位的考核汇总（from: %s），但 %s（%s）没有写 assessment（它自己的考核 id）", ind.Code, src, t.Name, t.Code)
		}
	}
	ind.From = src
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
	codes  []string // in config order
	byCode map[string]bool
	byName map[string]string // nameKey → code
}

func newTownLookup(towns []Township) townLookup {
	l := townLookup{byCode: make(map[string]bool, len(towns)), byName: make(map[string]string, len(towns))}
	for _, t := range towns {
		if t.Code != "" && !l.byCode[t.Code] {
			l.byCode[t.Code] = true
			l.codes = append(l.codes, t.Code)
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
// key a township's code or name (folded as ingest folds names), each value a number passing
// check. It returns the values by code, and the line of each township's entry.
func (c *configCheck) perTownship(r *fields, key, label string, known townLookup, check func(float64) bool, what string) (map[string]float64, map[string]int) {
	if !r.has(key) {
		return nil, nil
	}
	tn := r.value(key)
	if tn.Kind != yaml.MappingNode {
		c.add(tn.Line, "指标 %s 的 %s 应为“乡镇: 数值”的一组键值（如 {lingxi: 300, 宜山镇: 200}），现在是%s", label, key, nodeKindLabel(tn))
		return nil, nil
	}
	out, lines := map[string]float64{}, map[string]int{}
	seen := map[string]string{}
	for i := 0; i+1 < len(tn.Content); i += 2 {
		k, v := deref(tn.Content[i]), deref(tn.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			continue
		}
		name, line := k.Value, k.Line
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
		x, ok := scalarNumber(v)
		if !ok {
			c.add(line, "指标 %s 为乡镇 %s 设置的%s应为一个数，现在是%s%s", label, code, what, nodeKindLabel(v), numberHint(v))
			continue
		}
		if !finite(x) || !check(x) {
			c.add(line, "指标 %s 为乡镇 %s 设置的%s %g 无效", label, code, what, x)
			continue
		}
		out[code], lines[code] = x, line
	}
	return out, lines
}

func (c *configCheck) countOrStock(ind *Indicator, r *fields, label string, known townLookup, misplaced map[string]bool) {
	switch dir := r.str("direction"); dir {
	case "", "higher":
		ind.Direction = Higher
	case "lower":
		ind.Direction = Lower
	default:
		c.add(r.line("direction"), "指标 %s 的 direction %q 无效：higher（越高越好，目标是下限）或 lower（越低越好，目标是上限）", label, dir)
	}
	if t, set := r.num("target"); set {
		if !finite(t) || t < 0 {
			c.add(r.line("target"), "指标 %s 的 target 应为不小于 0 的数", label)
		} else {
			ind.Target = &t
		}
	}
	ind.Targets, _ = c.perTownship(r, "targets", label, known, func(v float64) bool { return v >= 0 }, "目标")
	if !r.has("target") && ind.Weight > 0 {
		c.add(r.line("weight"), "指标 %s 有分值 %g 却没有 target：只统计不考核的指标不计分，请设置 target 或去掉 weight", label, ind.Weight)
	}
	ind.Warn = 0.9
	if w, set := r.num("warn"); set {
		if !finite(w) || w <= 0 || w > 1 {
			c.add(r.line("warn"), "指标 %s 的 warn 应在 0 到 1 之间（如 0.9 表示达到序时进度的 90%% 以上为预警）", label)
		} else {
			ind.Warn = w
		}
	}
	ind.Pacing = c.pacing(r.value("pacing"), r, label)
	if !misplaced["baseline"] && !misplaced["baselines"] {
		c.baselines(ind, r, label, known)
	}
}

// baselines validates a stock's 年初基数: only on a stock whose direction is higher, not
// negative, and for every township with a target not above that target (a baseline equal to
// the target leaves no growth to make: such a township scores full marks). A baseline on a
// township without a target is a mistake too: nothing would be measured from it.
func (c *configCheck) baselines(ind *Indicator, r *fields, label string, known townLookup) {
	if !r.has("baseline") && !r.has("baselines") {
		return
	}
	if ind.Direction == Lower {
		for _, key := range []string{"baseline", "baselines"} {
			if r.has(key) {
				c.add(r.line(key), "指标 %s 越低越好（direction: lower），不能设置 %s：年初基数只用于越高越好的存量指标", label, key)
			}
		}
		return
	}
	if v := r.value("baseline"); v != nil && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == BaselineLastYear {
		// each township's December level in last year's assessment, filled in by the
		// deployment (WithLastYearBaselines); a stock nobody has a target on measures nothing
		ind.BaselineLastYear = true
		if ind.Target == nil && len(ind.Targets) == 0 {
			c.add(r.line("baseline"), "指标 %s 设了 baseline: last_year，但没有 target：年初基数只用于有目标的存量指标", label)
		}
	} else if x, isNum := scalarNumber(v); v != nil && !isNull(v) && !isNum {
		c.add(v.Line, "指标 %s 的 baseline（年初基数）应为一个数，或 last_year（上年考核中各乡镇12月的水平），现在是%s%s", label, nodeKindLabel(v), numberHint(v))
	} else if v != nil && !isNull(v) {
		if !finite(x) || x < 0 {
			c.add(r.line("baseline"), "指标 %s 的 baseline（年初基数）应为不小于 0 的数", label)
		} else {
			ind.Baseline = x
		}
	}
	var lines map[string]int
	ind.Baselines, lines = c.perTownship(r, "baselines", label, known, func(v float64) bool { return v >= 0 }, "年初基数")
	for _, code := range known.codes {
		b := ind.BaselineFor(code)
		if b == 0 {
			continue
		}
		line, own := lines[code]
		if !own {
			line = r.line("baseline")
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

func (c *configCheck) pacing(p *yaml.Node, r *fields, label string) Pacing {
	switch {
	case isNull(p):
		return LinearPacing()
	case p.Kind == yaml.ScalarNode:
		switch p.Value {
		case "linear", "":
			return LinearPacing()
		case "none":
			return NoPacing()
		}
		c.add(p.Line, "指标 %s 的 pacing %q 无效：可选 linear（按月平均）、none（每月都按全年目标）或 12 个累计比例", label, p.Value)
		return LinearPacing()
	case p.Kind == yaml.SequenceNode:
		if len(p.Content) != 12 {
			c.add(p.Line, "指标 %s 的 pacing 有 %d 个比例，应为 12 个（每月一个累计比例）", label, len(p.Content))
			return LinearPacing()
		}
		out := Pacing{Name: "custom"}
		ok := true
		for i, e := range p.Content {
			e = deref(e)
			f, isNum := scalarNumber(e)
			line := p.Line
			if e != nil {
				line = e.Line
			}
			if !isNum || !finite(f) || f < 0 || f > 1 {
				c.add(line, "指标 %s 的 pacing 第 %d 个值 %s 应为 0 到 1 之间的累计比例%s", label, i+1, nodeKindLabel(e), numberHint(e))
				ok = false
				continue
			}
			if i > 0 && ok && f < out.Fractions[i-1] {
				c.add(line, "指标 %s 的 pacing 第 %d 个值 %g 小于前一个 %g：累计比例不能下降", label, i+1, f, out.Fractions[i-1])
				ok = false
			}
			out.Fractions[i] = f
		}
		if ok && math.Abs(out.Fractions[11]-1) > 1e-9 {
			c.add(deref(p.Content[11]).Line, "指标 %s 的 pacing 最后一个值是 %g，应为 1（年底完成全年目标）", label, out.Fractions[11])
		}
		if !ok {
			return LinearPacing()
		}
		out.Fractions[11] = 1
		return out
	}
	c.add(p.Line, "指标 %s 的 pacing 无效：可选 linear、none 或 12 个累计比例", label)
	return LinearPacing()
}

func (c *configCheck) ratio(ind *Indicator, r *fields, label string, known townLookup) {
	ind.Direction = Higher
	if d := r.str("direction"); d != "" && d != "higher" {
		c.add(r.line("direction"), "比率类指标 %s 只能越高越好（direction: higher）", label)
	}
	if t, set := r.num("threshold"); set {
		switch {
		case !finite(t) || t <= 0:
			c.add(r.line("threshold"), "指标 %s 的 threshold 应大于 0", label)
		case t > 1:
			c.add(r.line("threshold"), "指标 %s 的 threshold 是 0 到 1 之间的比例，不是百分数：98%% 应写 0.98，现为 %g", label, t)
		default:
			ind.Threshold = t
		}
	} else if !r.has("threshold") {
		c.add(r.node.Line, "比率类指标 %s 缺少 threshold（达标线，如 0.98 表示 98%%）", label)
	}
	ind.Targets, _ = c.perTownship(r, "targets", label, known, func(v float64) bool { return v > 0 && v <= 1 }, "达标线")
	ind.Margin = 0.02
	if m, set := r.num("margin"); set {
		if !finite(m) || m < 0 || m >= 1 {
			c.add(r.line("margin"), "指标 %s 的 margin 应为 0 到 1 之间的比例（如 0.02）", label)
		} else {
			ind.Margin = m
		}
	}
	if d, set := r.num("deduct_per_point"); set {
		if !finite(d) || d < 0 {
			c.add(r.line("deduct_per_point"), "指标 %s 的 deduct_per_point（每低 1 个百分点扣分）应为不小于 0 的数", label)
		} else {
			ind.DeductPerPoint = &d
		}
	}
}

var notifyEvents = map[string]bool{"alerts": true, "reminders": true, "rankings": true}

func (c *configCheck) notify(f *fields) Notify {
	out := Notify{RemindDaysLeft: 2}
	if !f.has("notify") {
		return out
	}
	nf := c.fields(f.value("notify"), "notify", notifyKeys)
	if nf == nil {
		return out
	}
	raw := nf.str("base_url")
	out.BaseURL = strings.TrimRight(strings.TrimSpace(raw), "/")
	if out.BaseURL != "" && !strings.HasPrefix(out.BaseURL, "http://") && !strings.HasPrefix(out.BaseURL, "https://") {
		c.add(nf.line("base_url"), "notify.base_url %q 应以 http:// 或 https:// 开头", raw)
	}
	if d, set := nf.integer("remind_days_left"); set {
		if d < 0 || d > 27 {
			c.add(nf.line("remind_days_left"), "notify.remind_days_left 应在 0 到 27 之间")
		} else {
			out.RemindDaysLeft = d
		}
	}
	for i, n := range nf.list("webhooks") {
		w := c.fields(n, fmt.Sprintf("notify.webhooks 第 %d 项", i+1), webhookKeys)
		if w == nil {
			continue
		}
		hook := Webhook{Name: strings.TrimSpace(w.str("name")), Type: strings.TrimSpace(w.str("type")), URL: strings.TrimSpace(w.str("url")), Secret: w.str("secret"), Events: w.texts("events")}
		if hook.Name == "" {
			hook.Name = fmt.Sprintf("webhook%d", i+1)
		}
		switch hook.Type {
		case "wecom", "dingtalk", "json":
		default:
			c.add(w.line("type"), "通知 %s 的 type %q 无效：可选 wecom（企业微信群机器人）、dingtalk（钉钉群机器人）、json", hook.Name, hook.Type)
		}
		if !strings.HasPrefix(hook.URL, "http://") && !strings.HasPrefix(hook.URL, "https://") {
			c.add(w.line("url"), "通知 %s 的 url 应以 http:// 或 https:// 开头", hook.Name)
		}
		if hook.Secret != "" && hook.Type != "dingtalk" {
			c.add(w.line("secret"), "通知 %s：只有钉钉机器人（dingtalk）使用 secret 加签", hook.Name)
		}
		for _, e := range hook.Events {
			if !notifyEvents[e] {
				c.add(w.line("events"), "通知 %s 的事件 %q 无效：可选 alerts、reminders、rankings", hook.Name, e)
			}
		}
		out.Webhooks = append(out.Webhooks, hook)
	}
	return out
}
