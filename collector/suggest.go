package collector

import (
	"strings"

	"golang.org/x/text/width"

	"github.com/kpimon/kpimon/kpi"
)

// A misspelt township or indicator is answered with the nearest names of the assessment
// ("未知的乡镇“东成街道”，是否为“东城街道”？"). Names and codes are compared folded (full-width
// forms to ASCII, spaces dropped, letters in lower case), in three steps, the first that
// finds anything giving the suggestions:
//
//  1. The same place with another suffix: a township's name and the input compared by
//     their cores — what is left after an organisation's suffix (妇联, 人民政府, 政府,
//     办事处) and then a unit's (街道, 镇, 乡, 社区, 村, 街, 区, 县, 市) are dropped — when
//     the core is at least two characters long: 东城镇 and 东城街道妇联 for 东城街道, 石角街道
//     for 石角镇. A one-character core (甲镇, 城镇) is too short for a guess. This step
//     comes first because a changed suffix is the likelier slip than a changed place: 龙城镇
//     is 龙城街道 rather than 龙塘镇.
//  2. Edit distance over runes. A name is suggested when
//     - at most a third of the characters differ (东成街道 for 东城街道, lingxl for lingxi,
//     两癌筛查人树 for 两癌筛查人数); two-character names (甲镇, 乙镇) are too short for a
//     guess, or
//     - one contains the other and the shorter is at least half the longer and two
//     characters long (东城 for 东城街道, 灵溪镇政府 for 灵溪镇), or
//     - they differ only in case or width (AA for aa).
//  3. A long common beginning: at least minSharedPrefix characters, and more than half of
//     the longer of the two (妇女之家数量 for 妇女之家覆盖率, which share 4 of 7; not 妇女之家建设经费,
//     4 of 8, nor 巾帼文明家庭数 for 巾帼文明岗创建数（县级以上）). The longest such beginning wins.
//
// The nearest are suggested, at most three of them at the same distance; more would be no
// help. Inputs longer than maxSuggestRunes get no suggestion.
const maxSuggestRunes = 64

// minSharedPrefix is the shortest common beginning (step 3) that suggests a name.
const minSharedPrefix = 4

// core is a folded township name without its organisation's and unit's suffixes: 东城 for
// 东城街道 and 东城镇妇联; nil when less than two characters are left. The suffixes are
// tried longer ones first, an organisation's (人民政府, 妇联, …) then a unit's (街道, 镇, …).
func core(folded string) []rune {
	for _, suffixes := range [2][]string{
		{"人民政府", "政府", "妇联", "办事处"},
		{"街道", "社区", "镇", "乡", "村", "街", "区", "县", "市"},
	} {
		for _, sfx := range suffixes {
			if s, ok := strings.CutSuffix(folded, sfx); ok {
				folded = s
				break
			}
		}
	}
	if r := []rune(folded); len(r) >= 2 {
		return r
	}
	return nil
}

// candidate is a name or code that may be suggested.
type candidate struct {
	key   []rune // folded
	core  []rune // a township name's core (step 1); nil for a code or an indicator
	show  string // what the suggestion says: the name, or a code with its name
	index int    // the township or indicator it names
}

// fold makes a name comparable whatever its width, spacing and case.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(width.Fold.String(s)), ""))
}

// townshipCandidates and indicatorCandidates list what may be suggested, once per batch.
func (b *Batch) townshipCandidates() []candidate {
	if b.townCands == nil {
		b.townCands = townshipCandidates(b.a)
	}
	return b.townCands
}

func townshipCandidates(a *kpi.Assessment) []candidate {
	var out []candidate
	for i, t := range a.Townships {
		name := fold(t.Name)
		out = append(out, candidate{key: []rune(name), core: core(name), show: t.Name, index: i},
			candidate{key: []rune(fold(t.Code)), show: t.Code + "（" + t.Name + "）", index: i})
	}
	return out
}

// UnknownTownship says that input names none of the assessment's townships, with the
// nearest names as a batch's rows are answered (for a command line's --township).
func UnknownTownship(a *kpi.Assessment, input string) string {
	return unknownMessage("乡镇", input, nearest(input, townshipCandidates(a)))
}

func (b *Batch) indicatorCandidates() []candidate {
	if b.indCands == nil {
		b.indCands = indicatorCandidates(b.a)
	}
	return b.indCands
}

func indicatorCandidates(a *kpi.Assessment) []candidate {
	var out []candidate
	for i, ind := range a.Indicators {
		out = append(out, candidate{key: []rune(fold(ind.Name)), show: ind.Name, index: i},
			candidate{key: []rune(fold(ind.Code)), show: ind.Code + "（" + ind.Name + "）", index: i})
	}
	return out
}

// UnknownIndicator says that input names none of the assessment's indicators, with the
// nearest names, as UnknownTownship does for townships.
func UnknownIndicator(a *kpi.Assessment, input string) string {
	return unknownMessage("指标", input, nearest(input, indicatorCandidates(a)))
}

// nearest returns the suggestions for an unknown name, nearest first; none when nothing is
// near enough.
func nearest(input string, cands []candidate) []string {
	folded := fold(input)
	in := []rune(folded)
	if len(in) == 0 || len(in) > maxSuggestRunes {
		return nil
	}
	found := sameCore(core(folded), cands)
	if len(found) == 0 {
		found = byDistance(in, cands)
	}
	if len(found) == 0 {
		found = byPrefix(in, cands)
	}
	if len(found) > 3 {
		return nil
	}
	out := make([]string, len(found))
	for i, c := range found {
		out[i] = c.show
	}
	return out
}

// sameCore is step 1: the township names whose core is the input's.
func sameCore(in []rune, cands []candidate) []candidate {
	var found []candidate
	if in == nil {
		return nil
	}
	for _, c := range cands {
		if c.core != nil && string(c.core) == string(in) && !named(found, c.index) {
			found = append(found, c)
		}
	}
	return found
}

// byDistance is step 2: the names nearest by edit distance, when near enough.
func byDistance(in []rune, cands []candidate) []candidate {
	best, found := -1, []candidate(nil)
	for _, c := range cands {
		d, ok := near(in, c.key, best)
		if !ok {
			continue
		}
		switch {
		case best < 0 || d < best:
			best, found = d, append(found[:0], c)
		case d == best && !named(found, c.index):
			found = append(found, c)
		}
	}
	return found
}

// byPrefix is step 3: the names sharing the longest beginning with the input, when it is
// long enough.
func byPrefix(in []rune, cands []candidate) []candidate {
	best, found := 0, []candidate(nil)
	for _, c := range cands {
		n := 0
		for n < len(in) && n < len(c.key) && in[n] == c.key[n] {
			n++
		}
		if n < minSharedPrefix || 2*n <= max(len(in), len(c.key)) || n < best {
			continue
		}
		if n > best {
			best, found = n, found[:0]
		}
		if !named(found, c.index) {
			found = append(found, c)
		}
	}
	return found
}

// named reports whether a candidate for the same township or indicator is among found.
func named(found []candidate, index int) bool {
	for _, c := range found {
		if c.index == index {
			return true
		}
	}
	return false
}

// near is the edit distance of a and b when it is near enough for a suggestion and no
// worse than best (-1: no best yet).
func near(a, b []rune, best int) (int, bool) {
	long, short := max(len(a), len(b)), min(len(a), len(b))
	if short == 0 {
		return 0, false
	}
	limit := long / 3 // a third of the characters may differ
	if short >= 2 && 2*short >= long && contains(a, b) {
		limit = max(limit, long-short)
	}
	if best >= 0 {
		limit = min(limit, best)
	}
	d := levenshtein(a, b, limit)
	return d, d <= limit
}

// contains reports whether one of a and b contains the other.
func contains(a, b []rune) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return strings.Contains(string(a), string(b))
}

// levenshtein is the edit distance of a and b (insertions, deletions and substitutions of
// one rune each), or a number above limit as soon as it is known to exceed it.
func levenshtein(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unknownMessage says that a township or indicator is unknown, with the nearest names.
func unknownMessage(what, input string, suggestions []string) string {
	if len(suggestions) == 0 {
		return "未知的" + what + "“" + input + "”：须为考核方案中的" + what + "代码或名称"
	}
	return "未知的" + what + "“" + input + "”，是否为“" + strings.Join(suggestions, "”或“") + "”？"
}

// unknownTownship and unknownIndicator are the messages for names the assessment lacks.
func (b *Batch) unknownTownship(input string) string {
	return unknownMessage("乡镇", input, nearest(input, b.townshipCandidates()))
}

func (b *Batch) unknownIndicator(input string) string {
	return unknownMessage("指标", input, nearest(input, b.indicatorCandidates()))
}
