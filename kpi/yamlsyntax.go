package kpi

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"
)

// A config that is not valid YAML is refused with yaml.v3's syntax error said in Chinese,
// at the line of the file it concerns. yaml.v3 writes its errors "yaml: line N: problem",
// where N is not always the file's line:
//
//   - the scanner's problems (a stray character, a tab, a missing colon, an unclosed quote)
//     count lines from 1 but leave the number out when the problem is on the first line;
//   - the parser's problems (the structure: "did not find expected key", an unclosed [ or
//     {) count lines from 0, so N is the line before, and no number means the first line;
//     the line is that of the enclosing mapping, list or bracket, or — when that is on the
//     file's first line — the line where the parser gave up;
//   - the reader's problems (control characters, a file not in UTF-8) have no line at all:
//     kpimon finds the character itself (not in a broken UTF-16 file, which stays without);
//   - an alias to an anchor not defined has no line either: kpimon finds the alias.

// yamlLayer is the part of yaml.v3 a problem comes from, which decides how its line is
// numbered.
type yamlLayer int

const (
	yamlScanner yamlLayer = iota
	yamlParser
	yamlReader
	yamlTab   // a scanner problem with a tab, which the tab check says better
	yamlUTF16 // a reader problem of a UTF-16 file, whose line kpimon does not look for
)

// yamlProblem is one of yaml.v3's syntax problems said in Chinese.
type yamlProblem struct {
	layer yamlLayer
	says  string
}

// Messages several of yaml.v3's problems share.
const (
	saysTag      = "以“!”开头的值会被当作 YAML 标签：请给整个值加上引号"
	saysEncoding = "文件不是 UTF-8 编码（可能是用 GBK 保存的）：请另存为 UTF-8"
	saysUTF16    = "文件是 UTF-16 编码，且有残缺的字符：请另存为 UTF-8"
	saysEscape   = "双引号里有无效的反斜杠（\\）转义：含反斜杠的文字（如 Windows 路径）请改用单引号括起来"
)

// yamlProblems says in Chinese the problems yaml.v3 finds in a hand-edited config, by
// yaml.v3's own text, matched whole. Every problem of the parser and the reader is here, so
// one not here is the scanner's.
var yamlProblems = map[string]yamlProblem{
	"found a tab character that violates indentation":              {yamlTab, "这一行附近用了制表符（Tab）缩进：YAML 只能用空格缩进，请把 Tab 换成空格"},
	"found a tab character where an indentation space is expected": {yamlTab, "这一行附近用了制表符（Tab）缩进：YAML 只能用空格缩进，请把 Tab 换成空格"},
	"found character that cannot start any token":                  {yamlScanner, "这里有 YAML 不能识别的字符（如 Tab、@、`、%）：请删去，或给整个值加上引号"},
	"mapping values are not allowed in this context":               {yamlScanner, "这里不能再写“键: 值”：缩进不对，或值里有“: ”（请给整个值加上引号）"},
	"mapping keys are not allowed in this context":                 {yamlScanner, "这里不能写键：缩进不对"},
	"block sequence entries are not allowed in this context":       {yamlScanner, "这里不能写“- ”列表项：缩进不对，或“- ”应另起一行"},
	"could not find expected ':'":                                  {yamlScanner, "少了冒号：应为“键: 值”，冒号后加一个空格"},
	"found unexpected end of stream":                               {yamlScanner, "引号没有闭合，文件就结束了：请检查这一行及以上的引号是否成对"},
	"found unknown escape character":                               {yamlScanner, saysEscape},
	"found invalid Unicode character escape code":                  {yamlScanner, saysEscape},
	"did not find expected comment or line break":                  {yamlScanner, "值后面多了内容：请删去，或给整个值加上引号"},
	"did not find expected alphabetic or numeric character":        {yamlScanner, "以“&”或“*”开头的值会被当作 YAML 锚点：请给整个值加上引号"},
	"did not find the expected '>'":                                {yamlScanner, saysTag},
	"did not find expected tag URI":                                {yamlScanner, saysTag},
	"did not find expected key":                                    {yamlParser, "这里应是一个“键: 值”：同一层的键要对齐，引号或括号后面不能再有别的内容"},
	"did not find expected '-' indicator":                          {yamlParser, "列表的缩进不对：每项应以对齐的“- ”开头"},
	"did not find expected ',' or ']'":                             {yamlParser, "方括号 [ ] 没有闭合，或各项之间少了逗号"},
	"did not find expected ',' or '}'":                             {yamlParser, "花括号 { } 没有闭合，或各项之间少了逗号"},
	"did not find expected node content":                           {yamlParser, "这里少了一个值（例如两个逗号之间是空的）"},
	"found undefined tag handle":                                   {yamlParser, saysTag},
	"control characters are not allowed":                           {yamlReader, "文件中有不可见的控制字符：请删去（常见于从网页或文档复制来的文字）"},
	"invalid leading UTF-8 octet":                                  {yamlReader, saysEncoding},
	"invalid trailing UTF-8 octet":                                 {yamlReader, saysEncoding},
	"incomplete UTF-8 octet sequence":                              {yamlReader, saysEncoding},
	"invalid length of a UTF-8 sequence":                           {yamlReader, saysEncoding},
	"incomplete UTF-16 character":                                  {yamlUTF16, saysUTF16},
	"incomplete UTF-16 surrogate pair":                             {yamlUTF16, saysUTF16},
	"unexpected low surrogate area":                                {yamlUTF16, saysUTF16},
	"expected low surrogate area":                                  {yamlUTF16, saysUTF16},
	"invalid Unicode character":                                    {yamlReader, saysEncoding},
	"found an incorrect leading UTF-8 octet":                       {yamlScanner, saysEncoding},
	"found an incorrect trailing UTF-8 octet":                      {yamlScanner, saysEncoding},
	"found unexpected document indicator":                          {yamlScanner, "引号里有单独成行的“---”或“...”：请改写这段文字"},
	"found an indentation indicator equal to 0":                    {yamlScanner, "“|”或“>”后的缩进数字不能是 0"},
	"did not find expected whitespace or line break":               {yamlScanner, "值后面多了内容：请删去，或给整个值加上引号"},
	"did not find expected <document start>":                       {yamlParser, "这里多了内容：配置文件只能是一组“键: 值”"},
	"found incompatible YAML document":                             {yamlParser, "文件开头的 %YAML 版本不受支持：请删去这一行"},
	"found duplicate %YAML directive":                              {yamlParser, "%YAML 写了不止一次：请删去多余的一行"},
	"found duplicate %TAG directive":                               {yamlParser, "%TAG 写了不止一次：请删去多余的一行"},
	"did not find expected <stream-start>":                         {yamlParser, "文件无法按 YAML 读取"},
}

var (
	yamlLineRE        = regexp.MustCompile(`^(?:yaml: )?(?:line (\d+): )?(.*)$`)
	yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// syntaxProblems turns a YAML syntax error into Chinese problems with lines, in line order.
// Tabs get their own message on every line that is indented with one (YAML indents with
// spaces only; a tab is the most common reason a hand-edited config will not parse).
func syntaxProblems(data []byte, err error) []Problem {
	var out []Problem
	indentTabs := map[int]bool{}
	for i, l := range bytes.Split(data, []byte("\n")) {
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			indentTabs[i+1] = true
			out = append(out, Problem{Line: i + 1, Message: "这一行用了制表符（Tab）缩进：YAML 只能用空格缩进，请把 Tab 换成空格"})
		}
	}
	// yaml.v3 stops at its first syntax error (decoding into a yaml.Node, it has no others)
	p, layer := yamlSyntaxProblem(data, err.Error())
	switch {
	case layer == yamlTab && len(indentTabs) > 0, indentTabs[p.Line]:
		// the tab messages say it already
	case lineHasTab(data, p.Line):
		p.Message = "这一行有制表符（Tab）：YAML 只能用空格，请把 Tab 换成空格；" + p.Message
		out = append(out, p)
	default:
		out = append(out, p)
	}
	// in the file's order; a problem without a line last
	sort.SliceStable(out, func(i, j int) bool {
		li, lj := out[i].Line, out[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	return out
}

// yamlSyntaxProblem says one of yaml.v3's error texts in Chinese at the file's line (0 when
// it cannot be told). Only a problem kpimon has no words for keeps yaml.v3's text, in
// parentheses.
func yamlSyntaxProblem(data []byte, msg string) (Problem, yamlLayer) {
	g := yamlLineRE.FindStringSubmatch(msg)
	line, _ := strconv.Atoi(g[1]) // absent: 0
	text := g[2]
	if g := yamlUnknownAnchor.FindStringSubmatch(text); g != nil {
		return Problem{Line: lineOfToken(data, "*", g[1]), Message: fmt.Sprintf("YAML 格式错误：引用了没有定义的锚点“*%s”", g[1])}, yamlScanner
	}
	yp, known := yamlProblems[text] // every parser and reader problem is known
	switch yp.layer {
	case yamlParser:
		line++ // counted from 0; absent is the first line
	case yamlReader:
		line = lineOfBadCharacter(data, yp.says == saysEncoding)
	case yamlUTF16:
		line = 0
	default:
		line = max(line, 1) // the scanner leaves out the first line's number
	}
	if !known {
		return Problem{Line: line, Message: "YAML 格式错误（" + text + "）"}, yp.layer
	}
	return Problem{Line: line, Message: "YAML 格式错误：" + yp.says}, yp.layer
}

// lineOfToken is the line (1-based) of the first alias (sigil "*") or anchor ("&") named
// name in data, 0 if there is none.
func lineOfToken(data []byte, sigil, name string) int {
	re, err := regexp.Compile(regexp.QuoteMeta(sigil+name) + `(?:[\s,\]}]|$)`)
	if err != nil {
		return 0
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return bytes.Count(data[:loc[0]], []byte("\n")) + 1
}

// lineOfBadCharacter is the line (1-based) of the first byte that is not UTF-8 (encoding)
// or the first character YAML does not allow in a file (a control character), 0 if none.
func lineOfBadCharacter(data []byte, encoding bool) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		bad := r == utf8.RuneError && size == 1
		if !encoding {
			bad = !yamlAllowed(r) && !bad
		}
		if bad {
			return bytes.Count(data[:off], []byte("\n")) + 1
		}
		off += size
	}
	return 0
}

// yamlAllowed reports whether YAML allows the character in a file (YAML 1.2 §5.1, as
// yaml.v3's reader checks it).
func yamlAllowed(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r >= 0x20 && r <= 0x7E, r == 0x85:
		return true
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// lineHasTab reports whether line (1-based) of data has a tab.
func lineHasTab(data []byte, line int) bool {
	if line < 1 {
		return false
	}
	lines := bytes.Split(data, []byte("\n"))
	return line <= len(lines) && bytes.IndexByte(lines[line-1], '\t') >= 0
}
