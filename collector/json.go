package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// AddJSON reads observations as JSON: an array of objects with the CSV's field names
// (township, indicator, period, value, numerator, denominator; case-insensitive), or an
// object whose "observations" member is that array. Numbers may be JSON numbers or strings.
// Errors name the array index: FILE[3].
func (b *Batch) AddJSON(name string, r io.Reader) {
	data, err := io.ReadAll(r)
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "读取失败：%v", err)
		return
	}
	before := b.valid
	defer func() { b.addSource(name, data, b.valid-before) }()
	items, err := jsonItems(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "JSON 格式错误：%v", err)
		return
	}
	if len(items) == 0 {
		b.fail(name, "", "", ErrMalformed, "没有数据：观测值数组是空的")
		return
	}
	for i, raw := range items {
		where := fmt.Sprintf("%s[%d]", name, i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			b.fail(where, "", "", ErrMalformed, "应为一个对象（{\"township\": …, \"indicator\": …, \"period\": …, \"value\": …}）")
			continue
		}
		rec := record{where: where}
		bad := false
		for k, v := range obj {
			f, known := columnAliases[strings.ToLower(k)]
			if !known {
				continue
			}
			fv, ok := jsonField(v)
			if !ok {
				b.fail(where, f, string(v), ErrMalformed, "字段 %s 应为字符串或数字，现为 %s", k, string(v))
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
}

// jsonItems returns the array of a JSON document, or the "observations" array of an object.
func jsonItems(data []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var wrap struct {
			Observations []json.RawMessage `json:"observations"`
		}
		if err := json.Unmarshal(trimmed, &wrap); err != nil {
			return nil, jsonSyntax(err)
		}
		if wrap.Observations == nil {
			return nil, fmt.Errorf("对象中没有 observations 数组")
		}
		return wrap.Observations, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(trimmed, &items); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("应为观测值数组（[{…}, …]）或含 observations 数组的对象")
		}
		return nil, jsonSyntax(err)
	}
	return items, nil
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

// jsonField reads a JSON string, number or null as a raw field.
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
	case len(t) > 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9')):
		return field{text: string(t), present: true}, true
	}
	return field{}, false
}
