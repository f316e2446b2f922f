package collector

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// columnAliases maps the header names a long-form file may use to its fields. Names are
// matched case-insensitively; the Chinese ones are what clerks type.
var columnAliases = map[string]string{
	"township": "township", "乡镇": "township", "乡镇(街道)": "township", "乡镇（街道）": "township", "乡镇街道": "township", "单位": "township",
	"indicator": "indicator", "指标": "indicator", "指标名称": "indicator", "指标代码": "indicator",
	"period": "period", "月份": "period", "报告期": "period", "期间": "period",
	"value": "value", "数值": "value", "完成数": "value", "值": "value",
	"numerator": "numerator", "分子": "numerator",
	"denominator": "denominator", "分母": "denominator",
}

// decodeText returns the text of a CSV file as UTF-8: a UTF-8 byte-order mark is dropped,
// and bytes that are not valid UTF-8 are read as GB18030 (which includes GBK and GB2312),
// the encoding Excel on Chinese Windows saves CSV in. It reports the encoding it used.
func decodeText(data []byte) ([]byte, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return data, "UTF-8", nil
	}
	out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
	if err != nil {
		return nil, "", err
	}
	return out, "GB18030", nil
}

// AddCSV reads a long-form CSV file into the batch: a header row naming the columns
// (township, indicator, period, value, numerator, denominator, in any order, or their
// Chinese names), then one observation per row. UTF-8 with or without BOM and GBK/GB18030
// are accepted; the delimiter may be a comma, a semicolon or a tab.
func (b *Batch) AddCSV(name string, r io.Reader) {
	data, err := io.ReadAll(r)
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "读取文件失败：%v", err)
		return
	}
	b.addCSV(name, data)
}

// addCSV reads a CSV file held in memory, without copying it.
func (b *Batch) addCSV(name string, data []byte) {
	before := b.valid
	defer func() { b.addSource(name, data, b.valid-before) }()
	text, _, err := decodeText(data)
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "无法识别文件编码（应为 UTF-8 或 GBK）：%v", err)
		return
	}
	cr := csv.NewReader(bytes.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true // fields are copied (or resolved to config strings) before the next row
	cr.Comma = sniffDelimiter(text)
	header, err := cr.Read()
	if err == io.EOF {
		b.fail(name, "", "", ErrMalformed, "文件是空的：第一行应为表头（township,indicator,period,value 等）")
		return
	}
	if err != nil {
		b.fail(csvWhere(name, err), "", "", ErrMalformed, "CSV 格式错误：%v", csvMsg(err))
		return
	}
	errsBefore := b.nerr
	cols, ok := b.header(name+":1", header)
	if !ok {
		return
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.fail(csvWhere(name, err), "", "", ErrMalformed, "CSV 格式错误：%v", csvMsg(err))
			return // the reader cannot be trusted past a broken quote
		}
		line, _ := cr.FieldPos(0)
		get := func(f string) field {
			i, ok := cols[f]
			if !ok || i >= len(rec) {
				return field{}
			}
			return field{text: rec[i], present: true}
		}
		b.add(record{
			file: name, line: line, township: get("township"), indicator: get("indicator"),
			period: get("period"), value: get("value"), numerator: get("numerator"), denominator: get("denominator"),
		})
	}
	if b.valid == before && errsBefore == b.nerr {
		b.fail(name, "", "", ErrMalformed, "文件只有表头，没有数据行")
	}
}

// columnNames are the Chinese names of the columns, as the messages say them.
var columnNames = map[string]string{"township": "乡镇", "indicator": "指标", "period": "月份", "value": "数值", "numerator": "分子", "denominator": "分母"}

// headerHint is the header a message asks for.
const headerHint = "乡镇,指标,月份,数值,分子,分母（分子、分母只用于比率类指标；也可用英文 township,indicator,period,value,numerator,denominator）"

// header maps the fields to their column positions, or records what is wrong with it.
func (b *Batch) header(where string, header []string) (map[string]int, bool) {
	cols := map[string]int{}
	ok := true
	for i, h := range header {
		key := strings.ToLower(clean(h))
		f, known := columnAliases[key]
		if !known {
			continue // extra columns (备注, 填报人) are allowed and ignored
		}
		if j, dup := cols[f]; dup {
			b.fail(where, f, h, ErrMalformed, "表头第 %d 列“%s”与第 %d 列重复", i+1, h, j+1)
			ok = false
		}
		cols[f] = i
	}
	if len(cols) == 0 {
		// nothing recognised: the header row is missing or is not kpimon's
		b.fail(where, "", "", ErrMalformed, "第一行不是表头，没有认出任何列名：第一行应为 %s", headerHint)
		return cols, false
	}
	for _, f := range []string{"township", "indicator", "period"} {
		if _, has := cols[f]; !has {
			b.fail(where, f, "", ErrMalformed, "表头缺少“%s”列（%s）：表头应为 %s", columnNames[f], f, headerHint)
			ok = false
		}
	}
	_, v := cols["value"]
	_, n := cols["numerator"]
	_, d := cols["denominator"]
	if !v && !(n && d) {
		b.fail(where, "value", "", ErrMalformed, "表头缺少“数值”列（value），比率类指标则须有“分子”和“分母”列（numerator、denominator）")
		ok = false
	}
	return cols, ok
}

// sniffDelimiter picks the delimiter of the header line: comma unless the line has
// semicolons or tabs and no commas.
func sniffDelimiter(text []byte) rune {
	first, _, _ := strings.Cut(string(text[:min(len(text), 4096)]), "\n")
	if strings.Contains(first, ",") {
		return ','
	}
	if strings.Contains(first, "\t") {
		return '\t'
	}
	if strings.Contains(first, ";") {
		return ';'
	}
	return ','
}

func csvWhere(name string, err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s:%d", name, pe.Line)
	}
	return name
}

func csvMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "引号不成对（单元格里的英文双引号须写成两个）"
		}
		return pe.Err.Error()
	}
	return err.Error()
}
