package kpi

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The config is read by walking the YAML node tree rather than decoding into structs, so
// that one pass reports every unknown key, every value of the wrong type and every broken
// rule, each with its line: strict struct decoding stops at the first unknown key, and one
// "threshold: 98%" used to hide every other mistake in the file.
//
// The walk only descends where the schema expects a mapping or a list, so it is bounded by
// the schema's depth whatever the input (aliases that refer to themselves included).

// deref follows an alias to the node it names. nil stays nil.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// isNull reports whether n is absent or an explicit null (`key:` with nothing after it).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// nodeKindLabel says in Chinese what a node is, for "应为…，现在是…".
func nodeKindLabel(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "空的"
	case n.Kind == yaml.MappingNode:
		return "一组键值"
	case n.Kind == yaml.SequenceNode:
		return "一个列表"
	case n.Tag == "!!null":
		return "空的"
	}
	return fmt.Sprintf("%q", n.Value)
}

// fields is a mapping node's keys and values in file order, YAML merge keys (<<: *base)
// applied: a key written in the mapping itself wins over a merged one.
type fields struct {
	c      *configCheck
	node   *yaml.Node
	what   string // where the mapping is, in Chinese: 配置, 指标 screenings, townships 第 2 项
	keys   []*yaml.Node
	values map[string]*yaml.Node
	keyOf  map[string]*yaml.Node
}

// fields reads the mapping n, reporting a node that is not a mapping, every key not in
// known (with the nearest known key as a hint) and every key given twice. It returns nil
// when n is not a mapping.
func (c *configCheck) fields(n *yaml.Node, what string, known []string) *fields {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		line := 0
		if n != nil {
			line = n.Line
		}
		c.add(line, "%s应为一组“键: 值”，现在是%s", spaced(what), nodeKindLabel(n))
		return nil
	}
	f := &fields{c: c, node: n, what: what, values: map[string]*yaml.Node{}, keyOf: map[string]*yaml.Node{}}
	isKnown := make(map[string]bool, len(known))
	for _, k := range known {
		isKnown[k] = true
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.add(k.Line, "%s键应为文字，现在是%s", possessive(what), nodeKindLabel(k))
			continue
		}
		if k.Tag == "!!merge" || k.Value == "<<" {
			merged = append(merged, v)
			continue
		}
		if prev, dup := f.keyOf[k.Value]; dup {
			c.add(k.Line, "%s %s 重复设置（第 %d 行已有）", possessive(what), k.Value, prev.Line)
			continue
		}
		if !isKnown[k.Value] {
			msg := fmt.Sprintf("%s有未知的配置项 %q", spaced(what), k.Value)
			if s := nearest(k.Value, known); s != "" {
				msg += fmt.Sprintf("（拼写错误？是不是 %s？）", s)
			} else {
				msg += "（拼写错误？）"
			}
			c.add(k.Line, "%s", msg)
			continue
		}
		f.keys = append(f.keys, k)
		f.keyOf[k.Value] = k
		f.values[k.Value] = v
	}
	// merge keys: <<: *base or <<: [*a, *b]; the mapping's own keys win
	for _, m := range merged {
		m = deref(m)
		var sources []*yaml.Node
		switch {
		case m == nil:
		case m.Kind == yaml.MappingNode:
			sources = []*yaml.Node{m}
		case m.Kind == yaml.SequenceNode:
			for _, s := range m.Content {
				if s = deref(s); s != nil && s.Kind == yaml.MappingNode {
					sources = append(sources, s)
				}
			}
		}
		for _, s := range sources {
			for i := 0; i+1 < len(s.Content); i += 2 {
				k := deref(s.Content[i])
				if k == nil || k.Kind != yaml.ScalarNode || f.keyOf[k.Value] != nil || !isKnown[k.Value] {
					continue
				}
				f.keys = append(f.keys, k)
				f.keyOf[k.Value] = k
				f.values[k.Value] = s.Content[i+1]
			}
		}
	}
	return f
}

// spaced puts a space after a place that ends in a Latin letter or digit, before Chinese.
func spaced(what string) string {
	if what != "" && what[len(what)-1] < 0x80 && what[len(what)-1] != ' ' {
		return what + " "
	}
	return what
}

// nearest is the known key closest to s in edit distance, if it is close enough to be a
// misspelling (at most 2 edits, and fewer than half of s's letters).
func nearest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD && d*2 < len([]rune(s)) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// of is the mapping's place followed by 的, spaced after a Latin letter or digit: 指标 x 的,
// 配置文件的.
func (f *fields) of() string { return possessive(f.what) }

func possessive(what string) string {
	if what != "" && what[len(what)-1] < 0x80 && what[len(what)-1] != ' ' {
		return what + " 的"
	}
	return what + "的"
}

// has reports whether key is set to something other than null.
func (f *fields) has(key string) bool { return f != nil && !isNull(f.values[key]) }

// missing reports whether key is absent, null or blank text: what "缺少 …" means. A value
// of the wrong type is not missing (it is reported as such).
func (f *fields) missing(key string) bool {
	v := f.value(key)
	return isNull(v) || (v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "")
}

// peek is the text under key in the mapping n without reporting anything ("" when there is
// none): the label of an indicator for the messages about its own keys.
func peek(n *yaml.Node, key string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k != nil && k.Kind == yaml.ScalarNode && k.Value == key && v != nil && v.Kind == yaml.ScalarNode {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

// value is key's value node (aliases followed), nil when absent.
func (f *fields) value(key string) *yaml.Node {
	if f == nil {
		return nil
	}
	return deref(f.values[key])
}

// line is key's line, or the mapping's own line when the key is absent.
func (f *fields) line(key string) int {
	if f == nil {
		return 0
	}
	if k := f.keyOf[key]; k != nil {
		return k.Line
	}
	return f.node.Line
}

// valueLine is the line of key's value (where a list or mapping starts), or line(key).
func (f *fields) valueLine(key string) int {
	if v := f.value(key); v != nil {
		return v.Line
	}
	return f.line(key)
}

// str is key's value as text ("" when absent or null). A list or mapping is reported.
func (f *fields) str(key string) string {
	v := f.value(key)
	if isNull(v) {
		return ""
	}
	if v.Kind != yaml.ScalarNode {
		f.c.add(v.Line, "%s %s 应为文字，现在是%s", f.of(), key, nodeKindLabel(v))
		return ""
	}
	return v.Value
}

// num is key's value as a number, and whether one is set. A value that is not a number is
// reported with a hint for the usual slips (98% for 0.98, 1,000 for 1000).
func (f *fields) num(key string) (float64, bool) {
	v := f.value(key)
	if isNull(v) {
		return 0, false
	}
	x, ok := scalarNumber(v)
	if !ok {
		f.c.add(v.Line, "%s %s 应为一个数，现在是%s%s", f.of(), key, nodeKindLabel(v), numberHint(v))
		return 0, false
	}
	return x, true
}

// integer is key's value as a whole number, and whether one is set.
func (f *fields) integer(key string) (int, bool) {
	v := f.value(key)
	if isNull(v) {
		return 0, false
	}
	x, ok := scalarNumber(v)
	if !ok || x != math.Trunc(x) || math.Abs(x) > 1e9 {
		f.c.add(v.Line, "%s %s 应为整数，现在是%s%s", f.of(), key, nodeKindLabel(v), numberHint(v))
		return 0, false
	}
	return int(x), true
}

// list is key's value as a list (nil when absent or null). Anything else is reported.
func (f *fields) list(key string) []*yaml.Node {
	v := f.value(key)
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		f.c.add(v.Line, "%s %s 应为一个列表（每项一行，以“- ”开头），现在是%s", f.of(), key, nodeKindLabel(v))
		return nil
	}
	return v.Content
}

// scalarNumber reads a number node: YAML ints and floats, and a quoted number ("12"),
// which clerks type and mean as a number. Booleans, text and NaN are not numbers.
func scalarNumber(n *yaml.Node) (float64, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.Tag {
	case "!!int", "!!float":
		var x float64
		if err := n.Decode(&x); err != nil || math.IsNaN(x) {
			return 0, false
		}
		return x, true
	case "!!str":
		x, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return x, true
	}
	return 0, false
}

// numberHint explains the usual ways a number is mistyped.
func numberHint(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	s := strings.TrimSpace(n.Value)
	switch {
	case strings.HasSuffix(s, "%") || strings.HasSuffix(s, "％"):
		if x, err := strconv.ParseFloat(strings.TrimRight(s, "%％"), 64); err == nil {
			return fmt.Sprintf("：比例写成小数，%s 应写 %s", s, strconv.FormatFloat(x/100, 'f', -1, 64))
		}
	case strings.Contains(s, ","), strings.Contains(s, "，"):
		return "：数字中不要用千分位逗号"
	case strings.ContainsAny(s, "０１２３４５６７８９"):
		return "：请用半角数字"
	}
	return ""
}

// texts reads a list of texts.
func (f *fields) texts(key string) []string {
	var out []string
	for _, e := range f.list(key) {
		e = deref(e)
		if e == nil || e.Kind != yaml.ScalarNode {
			f.c.add(f.valueLine(key), "%s %s 每项应为文字，现在有%s", f.of(), key, nodeKindLabel(e))
			continue
		}
		out = append(out, e.Value)
	}
	return out
}
