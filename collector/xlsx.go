package collector

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/kpi"
)

// MaxXLSXUnzipBytes bounds how large an Excel workbook may grow when unzipped, so that an
// upload cannot exhaust memory or disk (a "zip bomb"). A year of monthly reports for a
// county is a few megabytes.
const MaxXLSXUnzipBytes = 128 << 20

// maxXLSXInMemory is how much of one worksheet is held in memory; larger sheets spill to a
// temporary file that excelize removes on Close.
const maxXLSXInMemory = 16 << 20

// The labels of the monthly form (月报表) that `kpimon template` writes and AddXLSX reads.
// A form sheet has a township label and a month label, each followed by its value in the
// same row, above a header row with an indicator code column and the figure columns.
const (
	FormTownshipLabel = "乡镇（街道）"
	FormPeriodLabel   = "月份"
	FormCodeHeader    = "指标代码"
	FormNameHeader    = "指标名称"
	FormValueHeader   = "数值"
	FormNumHeader     = "分子"
	FormDenHeader     = "分母"
	FormYesNoHeader   = "是否（是/否）"
	FormYes           = "是"
	FormNo            = "否"
)

// formLabels are what a form's township and month labels may say.
var formLabels = map[string]string{
	"乡镇(街道)": "township", "乡镇": "township", "乡镇街道": "township", "单位": "township", "township": "township",
	"月份": "period", "报告期": "period", "报表月份": "period", "period": "period",
}

// AddXLSX reads an Excel workbook (.xlsx) into the batch. Every visible sheet is either a
// monthly form written by `kpimon template` (township and month above a header with 指标代码,
// 数值, 分子, 分母, 是否 columns; a blank row means not reported, and Blanks lists the count,
// stock and ratio rows left so) or a long-form table with
// the same columns as a CSV file. Errors name FILE:SHEET!CELL. Hidden sheets (the form's
// drop-down lists) are skipped; a visible sheet with content but no header is an error.
func (b *Batch) AddXLSX(name string, data []byte) {
	b.addXLSX(name, data, MaxXLSXUnzipBytes)
}

func (b *Batch) addXLSX(name string, data []byte, limit int64) {
	before := b.valid
	defer func() { b.addSource(name, data, b.valid-before) }()
	defer func() {
		// excelize is a large parser of untrusted input: a panic on a broken file must not
		// take the server down.
		if p := recover(); p != nil {
			b.fail(name, "", "", ErrMalformed, "无法读取 Excel 文件：文件已损坏（%v）", p)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: limit, UnzipXMLSizeLimit: min(limit, maxXLSXInMemory),
	})
	if err != nil {
		b.fail(name, "", "", ErrMalformed, "%s", openError(err, limit))
		return
	}
	defer f.Close()
	found, errsBefore := false, b.nerr
	for _, sheet := range f.GetSheetList() {
		if visible, err := f.GetSheetVisible(sheet); err == nil && !visible {
			continue
		}
		ok, err := b.xlsxSheet(f, name, sheet)
		if err != nil {
			b.fail(name+":"+sheet, "", "", ErrMalformed, "无法读取工作表：%v", err)
			continue
		}
		found = found || ok
	}
	if !found && b.nerr == errsBefore {
		b.fail(name, "", "", ErrMalformed, "工作簿中没有数据：请填写后再上传")
	} else if found && b.valid == before && b.nerr == errsBefore {
		b.fail(name, "", "", ErrMalformed, "工作簿中没有填写任何数据：请在黄色单元格中填写本月数据后再上传")
	}
}

func openError(err error, limit int64) string {
	switch {
	case errors.Is(err, excelize.ErrWorkbookFileFormat), errors.Is(err, excelize.ErrWorkbookPassword):
		return "无法读取 Excel 文件：工作簿设置了打开密码或不是 .xlsx 格式，请取消密码、另存为 .xlsx 后再上传"
	case strings.Contains(err.Error(), "unzip size exceeds"):
		return fmt.Sprintf("Excel 文件解压后超过 %d MB，拒绝读取：请拆分为几个较小的文件", limit>>20)
	}
	return fmt.Sprintf("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式（%v）", err)
}

// sheetReader holds what is known of one sheet while its rows stream past.
type sheetReader struct {
	b          *Batch
	file, name string
	township   field
	period     field
	townCell   string
	periodCell string
	form       map[string]int // form header: field → column index
	long       map[string]int // long-form header: field → column index

	resolved bool       // whether township and period below were worked out
	ti       int        // the sheet's township, or -1 when it is not one of the assessment's
	month    kpi.Period // the sheet's month; zero when it is not a valid one
}

func (s *sheetReader) ref(col, row int) string {
	c, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		c = fmt.Sprintf("R%dC%d", row, col+1)
	}
	return s.file + ":" + s.name + "!" + c
}

// xlsxSheet reads one sheet; it reports whether the sheet had a header (was a report).
func (b *Batch) xlsxSheet(f *excelize.File, file, sheet string) (bool, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	s := &sheetReader{b: b, file: file, name: sheet}
	content := false
	for row := 1; rows.Next(); row++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return s.form != nil || s.long != nil, err
		}
		switch {
		case s.form != nil:
			s.formRow(cells, row)
		case s.long != nil:
			s.longRow(cells, row)
		default:
			for _, c := range cells {
				content = content || strings.TrimSpace(c) != ""
			}
			s.preamble(cells, row)
		}
	}
	if err := rows.Error(); err != nil {
		return s.form != nil || s.long != nil, err
	}
	if s.form == nil && s.long == nil && content {
		b.fail(file+":"+sheet, "", "", ErrMalformed,
			"未找到表头：月报表须有“%s”列；长表须有 township/乡镇、indicator/指标、period/月份 和 value/数值 列。如此工作表不是报表，请删除或隐藏它", FormCodeHeader)
	}
	return s.form != nil || s.long != nil, nil
}

// preamble looks at a row above the header: a label cell with its value, or the header.
func (s *sheetReader) preamble(cells []string, row int) {
	keys := make([]string, len(cells))
	for i, c := range cells {
		keys[i] = strings.ToLower(strings.TrimRight(clean(c), ":："))
	}
	long := map[string]int{}
	for i, k := range keys {
		if f, ok := columnAliases[k]; ok {
			if _, dup := long[f]; !dup {
				long[f] = i
			}
		}
	}
	n := 0
	for _, f := range []string{"township", "indicator", "period"} {
		if _, ok := long[f]; ok {
			n++
		}
	}
	_, v := long["value"]
	_, num := long["numerator"]
	_, den := long["denominator"]
	figures := v || num || den
	hasCode := false
	for _, k := range keys {
		hasCode = hasCode || k == FormCodeHeader
	}
	switch {
	case hasCode && (s.township.present || s.period.present || n < 3):
		// a form's header: below its township and month labels
		s.formHeader(keys, row)
		return
	case n == 3 || (n == 2 && figures):
		// a long-form header names township, indicator and period (a form's label row
		// names township and month but no figure column)
		if cols, ok := s.b.header(s.ref(0, row), cells); ok {
			s.long = cols
		} else {
			s.long = map[string]int{} // reported; read no rows
		}
		return
	}
	for i, k := range keys {
		what, ok := formLabels[k]
		if !ok {
			continue
		}
		for j := i + 1; j < len(cells); j++ {
			if strings.TrimSpace(cells[j]) == "" {
				continue
			}
			if what == "township" && !s.township.present {
				s.township, s.townCell = field{text: cells[j], present: true}, s.ref(j, row)
			} else if what == "period" && !s.period.present {
				s.period, s.periodCell = field{text: periodText(cells[j]), present: true}, s.ref(j, row)
			}
			break
		}
	}
}

func (s *sheetReader) formHeader(keys []string, row int) {
	cols := map[string]int{}
	for i, k := range keys {
		switch {
		case k == FormCodeHeader:
			cols["indicator"] = i
		case k == FormValueHeader:
			cols["value"] = i
		case k == FormNumHeader:
			cols["numerator"] = i
		case k == FormDenHeader:
			cols["denominator"] = i
		case strings.HasPrefix(k, "是否"):
			cols["yesno"] = i
		}
	}
	s.form = cols
	if !s.township.present || !s.period.present {
		s.form = map[string]int{}
		s.b.fail(s.ref(0, row), "", "", ErrMalformed, "月报表表头上方缺少“%s”或“%s”及其内容：请使用 kpimon template 生成的报表", FormTownshipLabel, FormPeriodLabel)
	}
}

func cellAt(cells []string, cols map[string]int, f string) (field, int) {
	i, ok := cols[f]
	if !ok {
		return field{}, -1
	}
	if i >= len(cells) {
		return field{present: true}, i
	}
	return field{text: cells[i], present: true}, i
}

// formRow reads one indicator row of a form; a row with no figure filled in is not reported.
func (s *sheetReader) formRow(cells []string, row int) {
	if _, ok := s.form["indicator"]; !ok {
		return
	}
	ind, ic := cellAt(cells, s.form, "indicator")
	val, vc := cellAt(cells, s.form, "value")
	num, nc := cellAt(cells, s.form, "numerator")
	den, dc := cellAt(cells, s.form, "denominator")
	yn, yc := cellAt(cells, s.form, "yesno")
	if val.blank() && num.blank() && den.blank() && yn.blank() {
		s.blank(ind, row, ic, vc, nc)
		return
	}
	if ind.blank() {
		s.b.fail(s.ref(ic, row), "indicator", "", ErrMalformed, "此行填写了数据，但缺少指标代码：请勿在报表中增加行")
		return
	}
	// the row's own place, for a duplicate and for the preview, is the first cell typed in
	typed := yc
	switch {
	case !val.blank():
		typed = vc
	case !num.blank():
		typed = nc
	case !den.blank():
		typed = dc
	}
	where := s.ref(typed, row)
	cell := map[string]string{"township": s.townCell, "period": s.periodCell, "indicator": s.ref(ic, row)}
	if vc >= 0 {
		cell["value"] = s.ref(vc, row)
	}
	if nc >= 0 {
		cell["numerator"] = s.ref(nc, row)
	}
	if dc >= 0 {
		cell["denominator"] = s.ref(dc, row)
	}
	if !yn.blank() {
		if !val.blank() {
			s.b.fail(s.ref(yc, row), "value", clean(yn.text), ErrMalformed, "“数值”和“是否”只能填一处")
			return
		}
		v, ok := yesNo(yn.text)
		if !ok {
			s.b.fail(s.ref(yc, row), "value", clean(yn.text), kpi.ErrBadValue, "“%s”无效：请从下拉列表选择“%s”或“%s”", clean(yn.text), FormYes, FormNo)
			return
		}
		val, cell["value"] = field{text: strconv.FormatFloat(v, 'f', -1, 64), present: true}, s.ref(yc, row)
	}
	s.b.add(record{
		where: where, file: s.file, township: s.township, indicator: ind, period: s.period,
		value: val, numerator: num, denominator: den,
		cellOf: func(name string) string { return cell[name] },
	})
}

// blank records an indicator row of a form left blank, named by the cell to fill in: the
// value column vc, or the numerator column nc for a ratio (the code column ic when the form
// lacks it).
func (s *sheetReader) blank(ind field, row, ic, vc, nc int) {
	if ind.blank() {
		return
	}
	if !s.resolved {
		s.resolved, s.ti = true, -1
		if i, ok := s.b.a.ResolveTownship(clean(s.township.text)); ok {
			s.ti = i
		}
		if p, err := kpi.ParsePeriod(clean(s.period.text)); err == nil && p.Year == s.b.a.Year && (s.b.notAfter.IsZero() || !s.b.notAfter.Before(p)) {
			s.month = p
		}
	}
	ii, ok := s.b.a.ResolveIndicator(clean(ind.text))
	if s.ti < 0 || s.month.IsZero() || !ok {
		return // nothing to name: the sheet's own errors say what is wrong
	}
	col := -1
	switch s.b.a.Indicators[ii].Kind {
	case kpi.KindCount, kpi.KindStock:
		col = vc
	case kpi.KindRatio:
		col = nc
	default:
		return // a milestone, bonus or veto left blank is not done, no points, no veto
	}
	if col < 0 {
		col = ic
	}
	s.b.addBlank(Blank{
		Township: s.b.a.Townships[s.ti].Code, Indicator: s.b.a.Indicators[ii].Code, Period: s.month,
		Cell: s.ref(col, row),
	}, compactKey(s.ti, ii, s.month))
}

// longRow reads one row of a long-form table.
func (s *sheetReader) longRow(cells []string, row int) {
	if len(s.long) == 0 {
		return
	}
	cell := map[string]string{}
	get := func(f string) field {
		v, i := cellAt(cells, s.long, f)
		if i >= 0 {
			cell[f] = s.ref(i, row)
		}
		return v
	}
	r := record{
		file: s.file, township: get("township"), indicator: get("indicator"), period: get("period"),
		value: get("value"), numerator: get("numerator"), denominator: get("denominator"),
	}
	r.period.text = periodText(r.period.text)
	r.where = cell["township"]
	r.cellOf = func(name string) string { return cell[name] }
	s.b.add(r)
}

// periodText turns a month Excel stored as a date (a serial number such as 45809, which is
// what typing 2025-06 into a cell gives) back into YYYY-MM; other text is left as it is.
func periodText(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "-/年.") || !decimal(t) {
		return s
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 1 || v > 2958465 {
		return s
	}
	d, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%04d-%02d", d.Year(), int(d.Month()))
}

// yesNoKind reports whether an indicator of the kind is reported as yes or no.
func yesNoKind(k kpi.Kind) bool { return k == kpi.KindMilestone || k == kpi.KindVeto }

// yesNo reads a yes-or-no answer as 1 or 0: one rule for the Excel form's 是否 column and
// for the value of a milestone or veto in any format. Yes is 是, 完成, 已完成, 有, 发生,
// 已发生, Y, yes, true, √ or ✓; no is 否, 未完成, 无, 没有, 未发生, N, no, false, × or ✗
// (case and width do not matter). The form's drop-down offers 是 and 否.
func yesNo(s string) (float64, bool) {
	switch strings.ToLower(clean(s)) {
	case FormYes, "完成", "已完成", "有", "发生", "已发生", "y", "yes", "true", "√", "✓", "✔", "1":
		return 1, true
	case FormNo, "未完成", "无", "没有", "未发生", "n", "no", "false", "×", "✗", "✘", "0":
		return 0, true
	}
	return 0, false
}
