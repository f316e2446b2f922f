// Package forms writes the monthly fill-in form (月报表模板) a township federation fills in
// Excel or WPS and sends back: one sheet per township, one row per indicator with its name,
// unit and only the cells its kind needs (a value; a numerator and a denominator; 是/否),
// instructions in Chinese, labels locked by sheet protection, and number and drop-down
// validation. collector.AddXLSX reads the filled form back; the labels it looks for are
// collector's Form* constants, so the two cannot drift apart.
package forms

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

// ListSheet is the hidden sheet that holds the drop-down lists. Excel limits a list typed
// into a validation rule to 255 characters, so lists live in cells and rules refer to them.
const ListSheet = "字典"

// Columns of a form sheet, 1-based.
const (
	colSeq = iota + 1
	colCode
	colCategory
	colName
	colUnit
	colHow
	colValue
	colNum
	colDen
	colYesNo
	colNote
	nCols = colNote
)

// HeaderRow is the row of the column headers; indicator rows follow it.
const HeaderRow = 4

var headers = [nCols]string{"序号", collector.FormCodeHeader, "类别", collector.FormNameHeader, "计量单位", "填报内容",
	collector.FormValueHeader, collector.FormNumHeader, collector.FormDenHeader, collector.FormYesNoHeader, "说明"}

var widths = [nCols]float64{6, 16, 10, 34, 8, 18, 12, 10, 10, 12, 36}

// ratioNone says what a ratio's row takes in a month with nothing to count. It is worded
// for every ratio (妇联组建率 as well as 信访办结率), not for petitions alone: 0 over 0 is a
// month reported with nothing in it, while blank cells are a month not reported.
const ratioNone = "本月没有发生的，分子、分母都填 0"

// instructions is the text above each form's table; %s is the federation the form goes to
// (instructionsFor).
const instructions = "填写说明：1. 只填写黄色单元格，灰色单元格不必填写；标签已锁定，请勿增删行列或改动工作表名称。" +
	"2. 数量类指标填写本月新增数（不是累计数）；存量类填写月末实有数。" +
	"3. 比率类指标分别填写本月的分子和分母（只填本月的数，不是全年累计），分子不能大于分母；" + ratioNone + "。" +
	"4. “是否”一栏从下拉列表中选择“是”或“否”。" +
	"5. 数量类、存量类指标本月没有的请填 0，比率类本月没有发生的请填分子 0、分母 0：留空表示未报送，会按逾期未报送预警。节点任务、加分、一票否决事项没有发生的可以留空。" +
	"6. 填好后保存为 .xlsx（Excel 工作簿）格式，通过上传页面提交或交%s；如需更正，改好后重新提交即可，系统保留修改记录。"

// instructionsFor is the instructions of a's form: it goes to the federation that runs the
// assessment, 县妇联, 区妇联, 市妇联 or 省妇联 by its level.
func instructionsFor(a *kpi.Assessment) string {
	return fmt.Sprintf(instructions, a.Level.Label()+"妇联")
}

// Write writes the form for the townships (all of the assessment's when none are given)
// and period p to w.
func Write(w io.Writer, a *kpi.Assessment, townships []kpi.Township, p kpi.Period) error {
	f, err := New(a, townships, p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write form: %w", err)
	}
	return nil
}

// New builds the form workbook: one sheet per township, in the order given.
func New(a *kpi.Assessment, townships []kpi.Township, p kpi.Period) (*excelize.File, error) {
	if len(townships) == 0 {
		townships = a.Townships
	}
	if p.Year != a.Year {
		return nil, fmt.Errorf("月份 %s 不在考核年度 %d 内", p, a.Year)
	}
	f := excelize.NewFile()
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return nil, fmt.Errorf("form styles: %w", err)
	}
	names := map[string]bool{ListSheet: true}
	for i, t := range townships {
		name := sheetName(t, names)
		if i == 0 {
			err = f.SetSheetName("Sheet1", name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			return nil, fmt.Errorf("form sheet %s: %w", name, err)
		}
		if err := writeSheet(f, st, a, t, p, name); err != nil {
			return nil, fmt.Errorf("form sheet %s: %w", name, err)
		}
	}
	if _, err := f.NewSheet(ListSheet); err != nil {
		return nil, err
	}
	for i, v := range []string{collector.FormYes, collector.FormNo} {
		if err := f.SetCellStr(ListSheet, fmt.Sprintf("A%d", i+1), v); err != nil {
			return nil, err
		}
	}
	if err := f.SetSheetVisible(ListSheet, false); err != nil {
		return nil, err
	}
	f.SetActiveSheet(0)
	f.SetDocProps(&excelize.DocProperties{Title: a.Name + " " + p.Label() + "月报表", Creator: "kpimon", Language: "zh-CN"})
	ok = true
	return f, nil
}

// sheetName is the township's name made a valid, unique sheet name (≤ 31 characters,
// none of : \ / ? * [ ]).
func sheetName(t kpi.Township, used map[string]bool) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]'`, r) {
			return '_'
		}
		return r
	}, t.Name)
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	if name == "" || used[name] {
		name = t.Code
		if r := []rune(name); len(r) > 31 {
			name = string(r[:31])
		}
	}
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", strings.TrimRight(string([]rune(name)[:min(28, len([]rune(name)))]), "_"), i)
	}
	used[name] = true
	return name
}

type styles struct {
	title, label, value, header, body, bodyCenter, input, na, note, text int
}

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	locked := &excelize.Protection{Locked: true}
	text := 49 // "@": keep what is typed as text
	defs := []struct {
		dst *int
		st  excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}, Protection: locked}},
		{&s.label, excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}, Protection: locked}},
		{&s.value, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"}, Protection: locked, NumFmt: text}},
		{&s.header, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Protection: locked}},
		{&s.body, excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Protection: locked}},
		{&s.bodyCenter, excelize.Style{Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Protection: locked}},
		{&s.input, excelize.Style{Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}},
			Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}, Protection: &excelize.Protection{Locked: false}}},
		{&s.na, excelize.Style{Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}}, Protection: locked}},
		{&s.note, excelize.Style{Font: &excelize.Font{Color: "595959"}, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, Protection: locked}},
		{&s.text, excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center"}, Protection: &excelize.Protection{Locked: false}, NumFmt: text}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.st)
		if err != nil {
			return s, err
		}
		*d.dst = id
	}
	return s, nil
}

func cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// writeSheet lays out one township's form.
func writeSheet(f *excelize.File, st styles, a *kpi.Assessment, t kpi.Township, p kpi.Period, sheet string) error {
	set := func(col, row int, v any, style int) error {
		if err := f.SetCellValue(sheet, cell(col, row), v); err != nil {
			return err
		}
		return f.SetCellStyle(sheet, cell(col, row), cell(col, row), style)
	}
	merge := func(c1, r1, c2, r2 int) error { return f.MergeCell(sheet, cell(c1, r1), cell(c2, r2)) }
	for i, w := range widths {
		name, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sheet, name, name, w); err != nil {
			return err
		}
	}
	deadline := p.Deadline(a.ReportDeadlineDay, a.Location).AddDate(0, 0, -1)
	steps := []error{
		set(1, 1, a.Name+"　"+p.Label()+"月报表", st.title), merge(1, 1, nCols, 1), f.SetRowHeight(sheet, 1, 30),
		set(1, 2, collector.FormTownshipLabel, st.label), merge(2, 2, 3, 2), set(2, 2, t.Name, st.value),
		set(4, 2, collector.FormPeriodLabel, st.label), f.SetCellStr(sheet, cell(5, 2), p.String()), f.SetCellStyle(sheet, cell(5, 2), cell(5, 2), st.value),
		set(6, 2, "报送截止", st.label), merge(7, 2, 8, 2), set(7, 2, deadline.Format("2006年1月2日"), st.value),
		set(1, 3, instructionsFor(a), st.note), merge(1, 3, nCols, 3), f.SetRowHeight(sheet, 3, 78), f.SetRowHeight(sheet, 2, 24),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	for i, h := range headers {
		if err := set(i+1, HeaderRow, h, st.header); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sheet, HeaderRow, 30); err != nil {
		return err
	}
	row := HeaderRow
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		row++
		how, note := describe(ind, t)
		for _, c := range []struct {
			col   int
			v     any
			style int
		}{{colSeq, i + 1, st.bodyCenter}, {colCode, ind.Code, st.body}, {colCategory, ind.Category, st.body}, {colName, ind.Name, st.body},
			{colUnit, ind.Unit, st.bodyCenter}, {colHow, how, st.body}, {colNote, note, st.body}} {
			if err := set(c.col, row, c.v, c.style); err != nil {
				return err
			}
		}
		inputs := map[int]bool{}
		switch ind.Kind {
		case kpi.KindCount, kpi.KindStock, kpi.KindBonus:
			inputs[colValue] = true
		case kpi.KindRatio:
			inputs[colNum], inputs[colDen] = true, true
		case kpi.KindMilestone, kpi.KindVeto:
			inputs[colYesNo] = true
		}
		for col := colValue; col <= colYesNo; col++ {
			style := st.na
			if inputs[col] {
				style = st.input
			}
			if err := f.SetCellStyle(sheet, cell(col, row), cell(col, row), style); err != nil {
				return err
			}
			if inputs[col] {
				if err := validate(f, sheet, cell(col, row), ind, col); err != nil {
					return err
				}
			}
		}
		if err := f.SetRowHeight(sheet, row, 30); err != nil {
			return err
		}
	}
	row += 2
	for _, err := range []error{
		set(1, row, "填报人", st.label), merge(2, row, 3, row), set(2, row, "", st.text), set(3, row, "", st.text),
		set(4, row, "联系电话", st.label), merge(5, row, 6, row), set(5, row, "", st.text), set(6, row, "", st.text),
	} {
		if err != nil {
			return err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: HeaderRow, TopLeftCell: cell(1, HeaderRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	size, orient, fit := 9, "landscape", 1 // A4
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, FitToWidth: &fit}); err != nil {
		return err
	}
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sheet, HeaderRow, HeaderRow), Scope: sheet}); err != nil {
		return err
	}
	return f.ProtectSheet(sheet, &excelize.SheetProtectionOptions{SelectLockedCells: true, SelectUnlockedCells: true, FormatColumns: true, FormatRows: true})
}

// describe says what to fill for the indicator and the note beside it.
func describe(ind *kpi.Indicator, t kpi.Township) (how, note string) {
	unit := ind.Unit
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock:
		how = "本月新增数"
		if ind.Kind == kpi.KindStock {
			how = "月末实有数"
		}
		switch tg := ind.TargetFor(t.Code); {
		case tg == nil:
			note = "只统计，不计分"
		case ind.Direction == kpi.Lower:
			note = fmt.Sprintf("全年不超过 %s%s", kpi.FormatNumber(*tg), unit)
		default:
			note = fmt.Sprintf("年度目标 %s%s", kpi.FormatNumber(*tg), unit)
		}
		note += "；没有请填 0"
	case kpi.KindRatio:
		how = "本月分子、分母（不是全年累计）"
		note = fmt.Sprintf("达标线 %s；分子不能大于分母；%s", kpi.FormatPercent(kpi.Some(ind.ThresholdFor(t.Code))), ratioNone)
	case kpi.KindMilestone:
		how = "本月是否完成"
		note = kpi.MilestoneDue(ind.Due) + "；完成当月选“是”"
	case kpi.KindBonus:
		how = "本月加分"
		note = fmt.Sprintf("全年最多加 %s 分；请附表彰文件", kpi.FormatNumber(ind.Max))
	case kpi.KindVeto:
		how = "本月是否发生"
		note = "一票否决事项：发生时选“是”"
	}
	return how, note
}

// validate adds the data validation of an input cell: a number from 0 to the bound the
// collector holds the figure to (collector.MaxFigure), or 是/否 from the hidden list.
func validate(f *excelize.File, sheet, ref string, ind *kpi.Indicator, col int) error {
	dv := excelize.NewDataValidation(true)
	dv.SetSqref(ref)
	if col == colYesNo {
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$A$1:$A$2", ListSheet))
		dv.SetError(excelize.DataValidationErrorStyleStop, "输入有误", "请从下拉列表选择“是”或“否”。")
		dv.SetInput(ind.Name, "请选择“是”或“否”")
		return f.AddDataValidation(sheet, dv)
	}
	top := collector.MaxFigure(ind)
	if err := dv.SetRange(0, top, excelize.DataValidationTypeDecimal, excelize.DataValidationOperatorBetween); err != nil {
		return err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "输入有误", fmt.Sprintf("请填写 0 到 %s 之间的数字（不要带单位或文字）。", kpi.FormatNumber(top)))
	prompt := "本月新增数，不是累计数"
	switch {
	case ind.Kind == kpi.KindStock:
		prompt = "月末实有数"
	case ind.Kind == kpi.KindBonus:
		prompt = "本月所得加分"
	case col == colNum:
		prompt = "本月分子，不能大于分母"
	case col == colDen:
		prompt = "本月分母；" + ratioNone
	}
	dv.SetInput(ind.Name, prompt)
	return f.AddDataValidation(sheet, dv)
}
