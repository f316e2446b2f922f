package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf8"
)

// AddJSON reads observations as JSON: an array of objects with the CSV's field names
// (township, indicator, period, value, numerator, denominator; case-insensitive), or an
// object whose "observations" member is that array. Numbers may be JSON numbers or strings.
// A key may appear once in an object: the same key twice, in any case (Township and
// township), or two names of one field (township and 乡镇) are refused, as repeated columns
// of a CSV header are. Errors name the array index: FILE[3].
func (b *Batch) AddJSON(name string, r io.Reader) {
	data, err := io.ReadAll(r)
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "读取失败：%v", err)
		return
	}
	b.addJSON(name, data)
}

// addJSON reads a JSON document held in memory, without copying it.
func (b *Batch) addJSON(name string, data []byte) {
	before := b.valid
	defer func() { b.addSource(name, data, b.valid-before) }()
	items, err := jsonItems(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "JSON 格式错误：%v", err)
		return
	}
	n := 0
	for i, raw := range jsonElements(items) {
		n++
		where := fmt.Sprintf("%s[%d]", name, i)
		members, ok := jsonMembers(raw)
		if !ok {
			b.fail(where, "", "", ErrMalformed, "应为一个对象（{\"township\": …, \"indicator\": …, \"period\": …, \"value\": …}）")
			continue
		}
		rec := record{where: where, file: name}
		bad := false
		var keys keySet
		for _, m := range members {
			f, known := columnAliases[strings.ToLower(m.key)]
			if first, dup := keys.add(m.key, f); dup {
				if strings.EqualFold(first, m.key) {
					b.fail(where, f, m.key, ErrMalformed, "键“%s”与“%s”重复：同一对象中每个键只能出现一次（不分大小写）", m.key, first)
				} else {
					b.fail(where, f, m.key, ErrMalformed, "键“%s”与“%s”都是 %s 字段：同一对象中每个字段只能出现一次", m.key, first, f)
				}
				bad = true
				continue
			}
			if !known {
				continue
			}
			fv, ok := jsonField(m.value)
			if !ok {
				b.fail(where, f, string(m.value), ErrMalformed, "字段 %s 应为字符串或数字，现为 %s", m.key, string(m.value))
				bad = true
				continue
			}
			switch f {
			case "township":
				rec.township = fv
			case "indicator":
				rec.indicator = fv
			case "period":
				rec.period = fv
			case "value":
				rec.value = fv
			case "numerator":
				rec.numerator = fv
			case "denominator":
				rec.denominator = fv
			}
		}
		if !bad {
			if rec.empty() {
				b.fail(where, "", "", ErrMalformed, "空对象：缺少 township、indicator、period 和数值")
				continue
			}
			b.add(rec)
		}
	}
	if n == 0 {
		b.fail(name, "", "", ErrMalformed, "没有数据：观测值数组是空的")
	}
}

// member is one key and value of a JSON object, in the order written.
type member struct {
	key   string
	value json.RawMessage
}

// jsonMembers splits a JSON object into its members in order, keeping repeated keys (which
// decoding into a map would silently drop). raw must already be valid JSON, as the items
// jsonItems returns are: this only finds the boundaries of keys and values. ok is false
// when raw is not an object.
func jsonMembers(raw []byte) ([]member, bool) {
	i := skipJSONSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(raw, i+1)
	out := make([]member, 0, 6)
	if i < len(raw) && raw[i] == '}' {
		return out, true
	}
	for i < len(raw) && raw[i] == '"' {
		end := jsonStringEnd(raw, i)
		key, ok := jsonString(raw[i:end])
		if !ok {
			return nil, false
		}
		i = skipJSONSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		i = skipJSONSpace(raw, i+1)
		vend := jsonValueEnd(raw, i)
		out = append(out, member{key: key, value: raw[i:vend]})
		i = skipJSONSpace(raw, vend)
		if i < len(raw) && raw[i] == '}' {
			return out, true
		}
		if i >= len(raw) || raw[i] != ',' {
			return nil, false
		}
		i = skipJSONSpace(raw, i+1)
	}
	return nil, false
}

func skipJSONSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// jsonStringEnd is the index after the closing quote of the string starting at raw[i].
func jsonStringEnd(raw []byte, i int) int {
	for i++; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(raw)
}

// jsonValueEnd is the index after the value starting at raw[i].
func jsonValueEnd(raw []byte, i int) int {
	if i >= len(raw) {
		return i
	}
	switch raw[i] {
	case '"':
		return jsonStringEnd(raw, i)
	case '{', '[':
		depth := 0
		for ; i < len(raw); i++ {
			switch raw[i] {
			case '"':
				i = jsonStringEnd(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(raw)
	}
	for ; i < len(raw); i++ {
		switch raw[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// jsonString reads a quoted JSON string: directly when it has no escapes, else through
// encoding/json.
func jsonString(q []byte) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	body := q[1 : len(q)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", false
	}
	return s, true
}

// keySet finds the keys of one object that repeat: the same key, the same key in another
// case (Township, township), or two names of one field (township, 乡镇).
type keySet struct {
	keys []string          // as written
	ids  []string          // what makes two keys the same: the field, or the folded key
	big  map[string]string // id → key, once an object has many keys
}

// add records a key of field f (empty when the key names no field) and returns the key
// written earlier that it repeats, if any.
func (s *keySet) add(key, f string) (string, bool) {
	id := "field:" + f
	if f == "" {
		id = "key:" + strings.ToLower(key)
	}
	if s.big != nil {
		if first, dup := s.big[id]; dup {
			return first, true
		}
		s.big[id] = key
		return "", false
	}
	for i, other := range s.ids {
		if other == id {
			return s.keys[i], true
		}
	}
	s.keys, s.ids = append(s.keys, key), append(s.ids, id)
	if len(s.ids) > 16 { // a hostile object with thousands of keys stays linear
		s.big = make(map[string]string, 2*len(s.ids))
		for i, id := range s.ids {
			s.big[id] = s.keys[i]
		}
	}
	return "", false
}

// jsonItems returns the array of a JSON document, or the "observations" array of an
// object, as the bytes of the array. The document is checked whole first, so that a
// broken one is refused with where it breaks and its items can then be cut out of it
// without decoding or copying them (a large upload costs little more than its size).
func jsonItems(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if !json.Valid(trimmed) {
		var v struct{}
		return nil, jsonSyntax(json.Unmarshal(trimmed, &v))
	}
	switch trimmed[0] {
	case '[':
		return trimmed, nil
	case '{':
		members, _ := jsonMembers(trimmed)
		var obs []byte
		for _, m := range members {
			if !strings.EqualFold(m.key, "observations") {
				continue
			}
			if obs != nil {
				return nil, fmt.Errorf("对象中有多个 observations 数组")
			}
			obs = m.value
		}
		switch {
		case obs == nil || string(obs) == "null":
			return nil, fmt.Errorf("对象中没有 observations 数组")
		case obs[0] != '[':
			return nil, fmt.Errorf("observations 应为观测值数组（[{…}, …]）")
		}
		return obs, nil
	}
	return nil, fmt.Errorf("应为观测值数组（[{…}, …]）或含 observations 数组的对象")
}

// jsonElements yields the index and bytes of each element of a valid JSON array.
func jsonElements(arr []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		i := skipJSONSpace(arr, 1)
		for n := 0; i < len(arr) && arr[i] != ']'; n++ {
			end := jsonValueEnd(arr, i)
			if !yield(n, arr[i:end]) {
				return
			}
			i = skipJSONSpace(arr, end)
			if i < len(arr) && arr[i] == ',' {
				i = skipJSONSpace(arr, i+1)
			}
		}
	}
}

// jsonSyntax says where a JSON document breaks, in Chinese.
func jsonSyntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return fmt.Errorf("JSON 不完整（文件被截断？）")
	case errors.As(err, &se):
		return fmt.Errorf("第 %d 个字节附近不是有效的 JSON", se.Offset)
	}
	return fmt.Errorf("不是有效的 JSON")
}

// jsonField reads a JSON string, number, boolean or null as a raw field.
func jsonField(v json.RawMessage) (field, bool) {
	t := bytes.TrimSpace(v)
	switch {
	case string(t) == "null":
		return field{}, true
	case len(t) > 0 && t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return field{}, false
		}
		return field{text: s, present: true}, true
	case string(t) == "true" || string(t) == "false":
		// a milestone or veto: read as yes or no; any other kind refuses it as no number
		return field{text: string(t), present: true}, true
	case len(t) > 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')):
		return field{text: string(t), present: true}, true
	}
	return field{}, false
}
