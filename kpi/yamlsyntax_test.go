package kpi

import (
	"errors"
	"strings"
	"testing"
)

// A config that is not valid YAML gets every problem in Chinese at the line of the file it
// concerns, in the file's order; yaml.v3's English only where kpimon has no words for it.
func TestYAMLSyntaxErrorsInChineseAtTheirLine(t *testing.T) {
	const tab = "这一行用了制表符（Tab）缩进：YAML 只能用空格缩进，请把 Tab 换成空格"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"tab indentation", "name: 测试\nyear: 2024\ntownships:\n\t- {code: aa, name: 甲镇}\n",
			[]string{"test.yaml:4: " + tab}},
		{"a tab only where yaml stopped", "a: 1\nb: 2\n\tc: 3\n",
			[]string{"test.yaml:3: " + tab}},
		{"unclosed quote before a tab", "name: 测试\nyear: \"2024\ntownships:\n\t- {code: aa, name: 甲镇}\n",
			[]string{"test.yaml:2: YAML 格式错误：引号没有闭合，文件就结束了：请检查这一行及以上的引号是否成对", "test.yaml:4: " + tab}},
		{"unclosed bracket before a tab", "name: 测试\nyear: 2024\ntownships: [{code: aa, name: 甲镇}\nindicators:\n\t- {code: x}\n",
			[]string{"test.yaml:3: YAML 格式错误：方括号 [ ] 没有闭合，或各项之间少了逗号", "test.yaml:5: " + tab}},
		{"unclosed brace", "a: 1\nb: {x: 1,\n  y: 2\nc: 3\n",
			[]string{"test.yaml:2: YAML 格式错误：花括号 { } 没有闭合，或各项之间少了逗号"}},
		{"a key out of line", "a:\n  b: 1\n c: 2\n",
			[]string{"test.yaml:3: YAML 格式错误：这里应是一个“键: 值”：同一层的键要对齐，引号或括号后面不能再有别的内容"}},
		{"a list item among keys", "a: 1\n- b\n",
			[]string{"test.yaml:2: YAML 格式错误：这里应是一个“键: 值”：同一层的键要对齐，引号或括号后面不能再有别的内容"}},
		{"text after a quoted value", "a: 1\nb: 'x' y\n",
			[]string{"test.yaml:2: YAML 格式错误：这里应是一个“键: 值”：同一层的键要对齐，引号或括号后面不能再有别的内容"}},
		{"a colon in a value on the first line", "a: b: c\n",
			[]string{"test.yaml:1: YAML 格式错误：这里不能再写“键: 值”：缩进不对，或值里有“: ”（请给整个值加上引号）"}},
		{"a missing colon", "a: |\n x\n  y\nb\n",
			[]string{"test.yaml:4: YAML 格式错误：少了冒号：应为“键: 值”，冒号后加一个空格"}},
		{"a list out of line", "a:\n  - 1\n  b: 2\n",
			[]string{"test.yaml:2: YAML 格式错误：列表的缩进不对：每项应以对齐的“- ”开头"}},
		{"a character that cannot start a value", "a: 1\nb: @x\n",
			[]string{"test.yaml:2: YAML 格式错误：这里有 YAML 不能识别的字符（如 Tab、@、`、%）：请删去，或给整个值加上引号"}},
		{"an empty list item", "a: [1,,2]\n",
			[]string{"test.yaml:1: YAML 格式错误：这里少了一个值（例如两个逗号之间是空的）"}},
		{"a backslash in double quotes", "a: 1\nb: 2\nc: \"D:\\q\"\n",
			[]string{"test.yaml:3: YAML 格式错误：双引号里有无效的反斜杠（\\）转义：含反斜杠的文字（如 Windows 路径）请改用单引号括起来"}},
		{"a control character", "a: 1\nb: 2\nc: \x01\n",
			[]string{"test.yaml:3: YAML 格式错误：文件中有不可见的控制字符：请删去（常见于从网页或文档复制来的文字）"}},
		{"not UTF-8", "a: 1\nb: 2\nc: \xb8\xbe\xc5\xae\n",
			[]string{"test.yaml:3: YAML 格式错误：文件不是 UTF-8 编码（可能是用 GBK 保存的）：请另存为 UTF-8"}},
		{"a broken UTF-16 file", "\xff\xfea\x00:\x00 \x001",
			[]string{"test.yaml: YAML 格式错误：文件是 UTF-16 编码，且有残缺的字符：请另存为 UTF-8"}},
		{"an alias to no anchor", "a: 1\nb: *nope\n",
			[]string{"test.yaml:2: YAML 格式错误：引用了没有定义的锚点“*nope”"}},
		{"a tab inside a line yaml stops at", "a: 1\nb: x\tc: d\n",
			[]string{"test.yaml:2: 这一行有制表符（Tab）：YAML 只能用空格，请把 Tab 换成空格；YAML 格式错误：这里不能再写“键: 值”：缩进不对，或值里有“: ”（请给整个值加上引号）"}},
		{"a problem kpimon has no words for", "%YAML x\n---\na: 1\n",
			[]string{"test.yaml:1: YAML 格式错误（did not find expected version number）"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("test.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseConfig = %v, want a *ConfigError", err)
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.format("test.yaml"))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
