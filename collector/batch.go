package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"github.com/kpimon/kpimon/kpi"
)

// ErrMalformed is what a file that cannot be read at all (not CSV, not JSON, no header)
// unwraps to, beside the kpi sentinels for row-level mistakes.
var ErrMalformed = errors.New("malformed input")

// RowError is one invalid row (or file) of a batch.
type RowError struct {
	Where string // FILE:LINE, FILE[INDEX] for JSON, FILE:SHEET!CELL for Excel
	Field string // township, indicator, period, value, numerator, denominator; empty for a whole row
	Value string // the offending text, when there is one
	Msg   string // what is wrong, in Chinese
	Err   error  // the sentinel: kpi.ErrUnknownTownship, kpi.ErrBadValue, ErrMalformed, …

	// Rows is how many rows the error stands for: an unknown township or indicator, or a
	// wrong month, is told once per file however many rows give it, Where naming the first
	// and Msg the first few. The collector sets 1 for any other error.
	Rows int
}

func (e *RowError) Error() string { return e.Where + ": " + e.Msg }

// Unwrap returns the sentinel.
func (e *RowError) Unwrap() error { return e.Err }

// MaxListedErrors is how many errors a refused batch lists. Any more are only counted: a
// large file of bad rows then costs neither memory nor a huge answer, and a clerk fixes the
// first thousand before reading further.
const MaxListedErrors = 1000

// BatchError is a refused batch: its first MaxListedErrors errors in file order, and how
// many more there were.
type BatchError struct {
	Errors []*RowError
	More   int // errors found beyond those listed (past the cap, a repeated unknown name counts once per row)
}

// Count is the number of errors found, listed or not.
func (e *BatchError) Count() int { return len(e.Errors) + e.More }

func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d 处错误，本批数据未写入", e.Count())
	for _, r := range e.Errors {
		b.WriteString("\n")
		b.WriteString(r.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n另有 %d 处错误未列出", e.More)
	}
	return b.String()
}

// Unwrap lets errors.Is find the sentinels of the listed rows.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, r := range e.Errors {
		out[i] = r
	}
	return out
}

// Source is one file (or request) of a batch, for the audit trail.
type Source struct {
	Name   string
	SHA256 string // hex digest of the bytes as received
	Rows   int
}

// Row is a valid observation with where it came from.
type Row struct {
	kpi.Observation
	place
}

// place is where a row came from, built into a string only when needed.
type place struct {
	loc  string // the file, or for spreadsheets the full cell reference
	line int    // the CSV line; 0 when loc says it all
}

// Where is the row's place: FILE:LINE, FILE[INDEX] or FILE:SHEET!CELL.
func (p place) Where() string {
	if p.line == 0 {
		return p.loc
	}
	return p.loc + ":" + strconv.Itoa(p.line)
}

// Batch gathers the rows of one ingest (one file, one request, one command's files) and
// validates them against the assessment. It is all or nothing: Err reports every invalid
// row, and Observations is only meaningful when Err is nil.
type Batch struct {
	a       *kpi.Assessment
	rows    []Row
	errs    []*RowError // the first MaxListedErrors errors
	nerr    int         // errors found, listed or not
	sources []Source
	seen    map[uint64]uint64 // compact key → where the row that first had it came from (firstAt)
	locs    []place           // places of valid rows that are not CSV lines, for naming duplicates
	files   []string          // CSV files read, by index
	paths   map[string]string // base name → the path AddFile read under it
	valid   int               // valid rows read so far

	notAfter kpi.Period // the latest month a row may be for; zero: no limit

	rowBad    bool                  // whether the row being added has an error
	groups    map[string]*nameGroup // unknown names by field, file and text, each told once
	townCands []candidate           // names a misspelt township may be meant for, built when needed
	indCands  []candidate           // the same for indicators

	years map[int]int // rows by the year their month names, valid or not (Years)

	blanks    []keyedBlank    // items of Excel forms left blank, in file order
	blankKeys map[uint64]bool // their compact keys, each listed once

	// streaming: valid rows go to sink in chunks instead of rows
	sink    func([]kpi.Observation) error
	chunk   int
	pending []kpi.Observation
	sinkErr error
}

// NewBatch starts an empty batch for the assessment.
func NewBatch(a *kpi.Assessment) *Batch {
	return &Batch{a: a, seen: map[uint64]uint64{}}
}

// RefuseAfter makes the batch refuse rows for months after p: reports for a month that has
// not begun are mistakes (a wrong year or month), and one such row would otherwise move every
// page to that month. Callers pass the current month, in the assessment's time zone; the
// current month itself may be reported.
func (b *Batch) RefuseAfter(p kpi.Period) { b.notAfter = p }

// CurrentMonth is the month of now in the assessment's time zone, for RefuseAfter.
func CurrentMonth(a *kpi.Assessment, now time.Time) kpi.Period {
	t := now.In(a.Location)
	return kpi.Period{Year: t.Year(), Month: int(t.Month())}
}

// Stream makes the batch hand its valid observations to sink in chunks of n while files are
// read, instead of keeping them: a large file can then be written while it is still being
// read. Rows and Observations stay empty. Once a row is invalid, or sink fails, sink is no
// longer called; Err still lists every invalid row, and SinkErr tells how sink failed.
// Call Flush after the last file.
func (b *Batch) Stream(n int, sink func([]kpi.Observation) error) {
	b.sink, b.chunk = sink, max(1, n)
}

// Flush hands the last partial chunk to the sink.
func (b *Batch) Flush() {
	if b.sink != nil && len(b.pending) > 0 && b.nerr == 0 && b.sinkErr == nil {
		b.sinkErr = b.sink(b.pending)
	}
	b.pending = nil
}

// SinkErr is the error the sink returned, if any.
func (b *Batch) SinkErr() error { return b.sinkErr }

// csvPlace marks a seen value that encodes a CSV file index and line.
const csvPlace = 1 << 63

// firstAt decodes a seen value into a place.
func (b *Batch) firstAt(v uint64) place {
	if v&csvPlace != 0 {
		return place{loc: b.files[(v&^csvPlace)>>32], line: int(uint32(v))}
	}
	return b.locs[v]
}

// Len is the number of valid rows read so far.
func (b *Batch) Len() int { return b.valid }

// Err is nil for a valid batch, or a *BatchError listing its first MaxListedErrors errors
// (an unknown name repeated in a file told once) and counting the rest.
func (b *Batch) Err() error {
	if b.nerr == 0 {
		return nil
	}
	for _, g := range b.groups {
		g.err.Msg = g.message()
	}
	return &BatchError{Errors: b.errs, More: b.nerr - len(b.errs)}
}

// Rows returns the valid rows in file order.
func (b *Batch) Rows() []Row { return b.rows }

// Observations returns the batch's observations in file order.
func (b *Batch) Observations() []kpi.Observation {
	out := make([]kpi.Observation, len(b.rows))
	for i, r := range b.rows {
		out[i] = r.Observation
	}
	return out
}

// Blank is an item a township left blank on the Excel form (月报表): a count, stock or ratio
// row with no figure filled in. It is not reported, as if the row were not there; callers
// list it as 未填 beside what was written, so that the clerk sees what is missing before the
// missing_report alert does. A milestone, bonus or veto left blank is not listed: blank
// there means not done, no points, no veto, as the form's instructions say.
type Blank struct {
	Township  string     // the township's code
	Indicator string     // the indicator's code
	Period    kpi.Period // the form's month
	Cell      string     // where it is filled in: FILE:SHEET!CELL of the value (numerator for a ratio)
}

// Blanks lists the items left blank on the batch's Excel forms, in file order, each once;
// an item that another row of the batch reports (a second file, a corrected sheet) is not
// blank. Long-form files (CSV, JSON, a table in Excel) have no blank items: a row there
// with no figure is an error.
func (b *Batch) Blanks() []Blank {
	out := make([]Blank, 0, len(b.blanks))
	for _, x := range b.blanks {
		if _, reported := b.seen[x.key]; !reported {
			out = append(out, x.Blank)
		}
	}
	return out
}

// keyedBlank is a blank item with its compact key.
type keyedBlank struct {
	Blank
	key uint64
}

// addBlank records a blank item once.
func (b *Batch) addBlank(x Blank, key uint64) {
	if b.blankKeys == nil {
		b.blankKeys = map[uint64]bool{}
	}
	if b.blankKeys[key] {
		return
	}
	b.blankKeys[key] = true
	b.blanks = append(b.blanks, keyedBlank{x, key})
}

// compactKey is the key of township ti × indicator ii × month p of the assessment's year,
// as one number: how the batch finds duplicates without building strings.
func compactKey(ti, ii int, p kpi.Period) uint64 {
	return uint64(ti)<<32 | uint64(ii)<<8 | uint64(p.Month)
}

// Sources lists the files of the batch with their digests.
func (b *Batch) Sources() []Source { return b.sources }

// SourceName joins the names of the batch's files, for the audit trail.
func (b *Batch) SourceName() string {
	names := make([]string, len(b.sources))
	for i, s := range b.sources {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// SHA256 is the digest of the batch: the file's own for one file, else the digest of the
// files' digests in order.
func (b *Batch) SHA256() string {
	if len(b.sources) == 1 {
		return b.sources[0].SHA256
	}
	h := sha256.New()
	for _, s := range b.sources {
		h.Write([]byte(s.SHA256))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (b *Batch) addSource(name string, data []byte, rows int) {
	sum := sha256.Sum256(data)
	b.sources = append(b.sources, Source{Name: name, SHA256: hex.EncodeToString(sum[:]), Rows: rows})
}

// fail records an error; beyond MaxListedErrors it only counts it.
func (b *Batch) fail(where, field, value string, err error, format string, args ...any) {
	b.nerr++
	b.rowBad = true
	if len(b.errs) >= MaxListedErrors {
		return
	}
	b.errs = append(b.errs, &RowError{Where: where, Field: field, Value: value, Msg: fmt.Sprintf(format, args...), Err: err, Rows: 1})
}

// nameGroup is one unknown township or indicator name (or wrong month) of one file: told
// once, with the number of rows that give it and the first few places.
type nameGroup struct {
	err    *RowError
	msg    string   // what is wrong, without the places
	csv    bool     // places are CSV lines
	places []string // the first maxGroupPlaces distinct places, short (2, [3], 甲镇!B2)
	more   bool     // there are more distinct places than those
}

// maxGroupPlaces is how many places of a repeated unknown name its message lists.
const maxGroupPlaces = 3

// failName records an unknown name (a township, an indicator, or a month that is wrong)
// in a field of a record: the first time it is seen in a file as an error, after that as
// one more row of that error. So a misspelt township on every row of a file, or a form
// sheet's one township cell read for each of its rows, is one line to fix. msg says what
// is wrong with the text; it is called once per name.
func (b *Batch) failName(r *record, field, text string, sentinel error, msg func(string) string) {
	file := r.file
	if file == "" {
		file = r.where
	}
	key := field + "\x00" + file + "\x00" + text
	b.rowBad = true
	short := r.short(field)
	if g, ok := b.groups[key]; ok {
		g.err.Rows++
		if !slices.Contains(g.places, short) {
			if len(g.places) < maxGroupPlaces {
				g.places = append(g.places, short)
			} else {
				g.more = true
			}
		}
		return
	}
	if len(b.errs) >= MaxListedErrors {
		b.nerr++
		return
	}
	b.fail(r.at(field), field, text, sentinel, "%s", msg(text))
	if b.groups == nil {
		b.groups = map[string]*nameGroup{}
	}
	b.groups[key] = &nameGroup{err: b.errs[len(b.errs)-1], msg: b.errs[len(b.errs)-1].Msg, csv: r.where == "", places: []string{short}}
}

// message is the group's message: what is wrong and, for more than one row, where
// (第 2、3、4 … 行，共 32 行).
func (g *nameGroup) message() string {
	n := g.err.Rows
	if n <= 1 {
		return g.msg
	}
	unit := "行"
	if !g.csv && strings.HasPrefix(g.places[0], "[") {
		unit = "项"
	}
	if len(g.places) == 1 { // one cell for every row (a form's township): Where names it
		return fmt.Sprintf("%s（共 %d %s）", g.msg, n, unit)
	}
	list, count := strings.Join(g.places, "、"), ""
	if g.more {
		list += " …"
	}
	if g.more || len(g.places) < n {
		count = fmt.Sprintf("，共 %d %s", n, unit)
	}
	if g.csv {
		return fmt.Sprintf("%s（第 %s 行%s）", g.msg, list, count)
	}
	return fmt.Sprintf("%s（%s%s）", g.msg, list, count)
}

// failAt records an error in a field of a record, building its place only when the error
// is listed.
func (b *Batch) failAt(r *record, field, value string, err error, format string, args ...any) {
	if len(b.errs) >= MaxListedErrors {
		b.nerr++
		b.rowBad = true
		return
	}
	b.fail(r.at(field), field, value, err, format, args...)
}

// lazy is a message part built only when the error is listed (fmt calls String).
type lazy func() string

func (l lazy) String() string { return l() }

// field is one cell of a raw record: its text and whether the record had it at all.
type field struct {
	text    string
	present bool
}

func (f field) blank() bool { return !f.present || strings.TrimSpace(f.text) == "" }

// record is one raw row before validation, whatever format it came from. Its place is
// where, or file and line for CSV (so that no string is built for a valid row).
type record struct {
	where                         string
	file                          string
	line                          int
	township, indicator, period   field
	value, numerator, denominator field
	cellOf                        func(name string) string // optional: the cell of a field, for Excel
}

// loc is the record's place for error messages.
func (r *record) loc() string {
	if r.where == "" && r.line > 0 {
		return r.file + ":" + strconv.Itoa(r.line)
	}
	return r.where
}

func (r *record) at(name string) string {
	if r.cellOf != nil {
		if c := r.cellOf(name); c != "" {
			return c
		}
	}
	return r.loc()
}

// short is the place of a field without its file: the CSV line, the JSON index ([3]), or
// the sheet and cell (甲镇!B2).
func (r *record) short(name string) string {
	if r.where == "" {
		return strconv.Itoa(r.line)
	}
	return strings.TrimPrefix(strings.TrimPrefix(r.at(name), r.file), ":")
}

// text is the cleaned text of a figure field.
func (r *record) text(name string) string {
	switch name {
	case "value":
		return clean(r.value.text)
	case "numerator":
		return clean(r.numerator.text)
	case "denominator":
		return clean(r.denominator.text)
	}
	return ""
}

func (r *record) empty() bool {
	return r.township.blank() && r.indicator.blank() && r.period.blank() && r.value.blank() && r.numerator.blank() && r.denominator.blank()
}

// add validates one record and keeps it, or records what is wrong with it.
func (b *Batch) add(r record) {
	if r.empty() {
		return // blank lines at the end of spreadsheets are not mistakes
	}
	b.rowBad = false
	o := kpi.Observation{}
	ti, ii := -1, -1
	switch tw := clean(r.township.text); {
	case tw == "":
		b.failAt(&r, "township", "", kpi.ErrUnknownTownship, "缺少乡镇（township）")
	default:
		if i, ok := b.a.ResolveTownship(tw); ok {
			ti = i
			o.Township = b.a.Townships[i].Code
		} else {
			b.failName(&r, "township", tw, kpi.ErrUnknownTownship, b.unknownTownship)
		}
	}
	switch in := clean(r.indicator.text); {
	case in == "":
		b.failAt(&r, "indicator", "", kpi.ErrUnknownIndicator, "缺少指标（indicator）")
	default:
		if i, ok := b.a.ResolveIndicator(in); ok {
			ii = i
			o.Indicator = b.a.Indicators[i].Code
		} else {
			b.failName(&r, "indicator", in, kpi.ErrUnknownIndicator, b.unknownIndicator)
		}
	}
	ptext := clean(r.period.text)
	p, err := kpi.ParsePeriod(ptext)
	if err == nil && ptext != "" {
		b.noteYear(p.Year)
	}
	switch {
	case ptext == "":
		b.failAt(&r, "period", "", kpi.ErrBadPeriod, "缺少月份（period，格式 YYYY-MM）")
	case err != nil:
		b.failName(&r, "period", ptext, kpi.ErrBadPeriod, func(string) string {
			return fmt.Sprintf("月份“%s”格式不对：应为 YYYY-MM，如 %d-06", ptext, b.a.Year)
		})
	case p.Year != b.a.Year:
		b.failName(&r, "period", ptext, kpi.ErrBadPeriod, func(string) string {
			return fmt.Sprintf("月份 %s 不在考核年度 %d 内", p, b.a.Year)
		})
	case !b.notAfter.IsZero() && b.notAfter.Before(p):
		b.failName(&r, "period", ptext, kpi.ErrBadPeriod, func(string) string {
			return fmt.Sprintf("月份 %s 还没有到（现在是 %s），不能提前报送", p, b.notAfter.Label())
		})
	default:
		o.Period = p
	}
	var has [3]bool
	for k, f := range []struct {
		name string
		fld  field
		dst  *float64
	}{{"value", r.value, &o.Value}, {"numerator", r.numerator, &o.Numerator}, {"denominator", r.denominator, &o.Denominator}} {
		if f.fld.blank() {
			continue
		}
		v, ok := parseNumber(f.fld.text)
		if !ok && k == 0 && ii >= 0 && yesNoKind(b.a.Indicators[ii].Kind) {
			// a milestone or veto may say 是/否, as the Excel form's drop-down does
			if v, ok = yesNo(f.fld.text); !ok {
				text := clean(f.fld.text)
				b.failAt(&r, f.name, text, kpi.ErrBadValue, "数值“%s”无效：“%s”请填“%s”或“%s”（也可填 1 或 0）", text, b.a.Indicators[ii].Name, FormYes, FormNo)
				continue
			}
		}
		if !ok {
			text := clean(f.fld.text)
			b.failAt(&r, f.name, text, kpi.ErrBadValue, "%s“%s”不是有效的数字%s", fieldLabel(f.name), text, lazy(func() string { return numberHint(text) }))
			continue
		}
		*f.dst, has[k] = v, true
	}
	if ii >= 0 && !b.rowBad {
		ind := &b.a.Indicators[ii]
		switch {
		case ind.Kind == kpi.KindRatio && has[0] && !has[1] && !has[2]:
			// a figure in the wrong column is named where it was typed
			b.failAt(&r, "value", r.text("value"), kpi.ErrBadValue, "比率类指标“%s”须分别填写分子和分母（件数、人数），不填数值", ind.Name)
		case ind.Kind != kpi.KindRatio && !has[0] && (has[1] || has[2]):
			field := "numerator"
			if !has[1] {
				field = "denominator"
			}
			b.failAt(&r, field, r.text(field), kpi.ErrBadValue, "“%s”不是比率类指标，须填写数值，不填分子、分母", ind.Name)
		}
	}
	if ii >= 0 && !b.rowBad {
		ind := &b.a.Indicators[ii]
		if err := kpi.CheckFigures(ind, o, has[0], has[1], has[2]); err != nil {
			var ve *kpi.ValueError
			field := "value"
			if errors.As(err, &ve) {
				field = ve.Field
			}
			b.failAt(&r, field, "", err, "%s", err.Error())
		} else if field, v, lim := outOfRange(ind, o); field != "" {
			b.failAt(&r, field, r.text(field), kpi.ErrBadValue, "%s", lazy(func() string { return lim.message(ind, field, v) }))
		}
	}
	if b.rowBad || ti < 0 {
		return
	}
	key := compactKey(ti, ii, o.Period)
	if first, dup := b.seen[key]; dup {
		b.fail(r.loc(), "", "", kpi.ErrDuplicate, "与 %s 重复：同一乡镇、指标、月份在一批数据中只能出现一次", b.firstAt(first).Where())
		return
	}
	pl := place{loc: r.where}
	if r.where == "" {
		// a CSV line: remembered as file index and line, with no per-row allocation
		pl.loc, pl.line = r.file, r.line
		if len(b.files) == 0 || b.files[len(b.files)-1] != r.file {
			b.files = append(b.files, r.file)
		}
		b.seen[key] = csvPlace | uint64(len(b.files)-1)<<32 | uint64(uint32(r.line))
	} else {
		b.seen[key] = uint64(len(b.locs))
		b.locs = append(b.locs, pl)
	}
	b.valid++
	if b.sink == nil {
		b.rows = append(b.rows, Row{Observation: o, place: pl})
		return
	}
	if b.nerr > 0 || b.sinkErr != nil {
		return // the batch will be refused: nothing more to write
	}
	b.pending = append(b.pending, o)
	if len(b.pending) >= b.chunk {
		b.sinkErr = b.sink(b.pending)
		b.pending = make([]kpi.Observation, 0, b.chunk)
	}
}

func fieldLabel(name string) string {
	switch name {
	case "numerator":
		return "分子"
	case "denominator":
		return "分母"
	}
	return "数值"
}

// clean trims a cell and folds full-width characters (１２３、ＡＢＣ) to their ASCII forms,
// as Chinese input methods often produce them.
func clean(s string) string {
	t := strings.TrimSpace(s)
	for i := 0; i < len(t); i++ {
		if t[i] >= 0x80 {
			return strings.TrimSpace(width.Fold.String(t))
		}
	}
	return t
}

// parseNumber reads a finite number as people type it: thousands separators (1,234.5),
// full-width digits and separators (１，２３４), a leading sign and surrounding spaces are
// accepted. Only decimal notation is: NaN, infinities, hexadecimal (0x1p4) and digit
// underscores (1_000), which strconv.ParseFloat would take, are refused, and so is a
// number too large for a float64 (1e400).
func parseNumber(s string) (float64, bool) {
	t := clean(s)
	if strings.Contains(t, ",") {
		if !thousands(t) {
			return 0, false
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	if !decimal(t) {
		return 0, false
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// decimal reports whether s is a plain decimal number: an optional sign, digits with at
// most one decimal point (at least one digit), and an optional exponent (e3, E-2).
func decimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
mantissa:
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			break mantissa
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberHint says more about a figure parseNumber refused, when there is more to say.
func numberHint(text string) string {
	t := strings.ReplaceAll(clean(text), ",", "")
	switch {
	case strings.HasSuffix(t, "%"):
		return "：请填写数字本身，不带百分号；比率类指标请分别填写分子和分母（件数、人数）"
	case decimal(t):
		return "：数字太大，超出了可以处理的范围"
	}
	return ""
}

// thousands reports whether s groups its integer digits by three with commas.
func thousands(s string) bool {
	intPart, _, _ := strings.Cut(strings.TrimLeft(s, "+-"), ".")
	groups := strings.Split(intPart, ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// limit is the largest figure a township may report for one month.
type limit struct {
	max   float64
	label string // the bound as people read it: 10 亿
}

// The bounds of a month's figures; the package documentation says why.
var (
	countLimit = limit{1e9, "1000000000（10 亿）"}
	yuanLimit  = limit{1e12, "1000000000000（1 万亿）"}
)

// limitFor is the bound of a month's figure (the value; a ratio's denominator) for the
// indicator.
func limitFor(ind *kpi.Indicator) limit {
	switch ind.Kind {
	case kpi.KindCount, kpi.KindStock:
		if strings.TrimSpace(ind.Unit) == "元" {
			return yuanLimit
		}
	case kpi.KindBonus:
		return limit{ind.Max, kpi.FormatNumber(ind.Max) + " 分"}
	case kpi.KindMilestone, kpi.KindVeto:
		return limit{1, "1"}
	}
	return countLimit
}

// MaxFigure is the largest figure a township may report for the indicator in one month:
// the value, or for a ratio the denominator (the package documentation says why). The
// monthly form uses it to check cells as they are typed.
func MaxFigure(ind *kpi.Indicator) float64 { return limitFor(ind).max }

// outOfRange checks a month's figures, already known to be valid for the indicator's kind,
// against the bounds of that kind. It returns the field that is too large, its value and
// the bound it exceeds, or an empty field.
func outOfRange(ind *kpi.Indicator, o kpi.Observation) (string, float64, limit) {
	lim := limitFor(ind)
	switch {
	case ind.Kind == kpi.KindRatio:
		// the numerator is not above the denominator: the denominator is the one to name
		// when both are too large
		if o.Denominator > lim.max {
			return "denominator", o.Denominator, lim
		}
	case o.Value > lim.max:
		return "value", o.Value, lim
	}
	return "", 0, limit{}
}

// message says what is wrong with a figure beyond the bound, in Chinese.
func (l limit) message(ind *kpi.Indicator, field string, v float64) string {
	if ind.Kind == kpi.KindBonus {
		return fmt.Sprintf("加分“%s”本月 %s 分，超过了全年加分上限 %s：请核对分数", ind.Name, typedFigure(v), l.label)
	}
	return fmt.Sprintf("“%s”的%s %s 超出合理范围：一个月的数字不能超过 %s，请检查是否多打了数字", ind.Name, fieldLabel(field), typedFigure(v), l.label)
}

// typedFigure writes a refused figure back: as people write numbers (千分位) while it is of
// a size people write, and in Go's short form beyond (a 1e308 typed by mistake is not
// shown as 309 digits).
func typedFigure(v float64) string {
	if math.Abs(v) < 1e15 {
		return kpi.FormatNumber(v)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// noteYear counts a row whose month is of the year.
func (b *Batch) noteYear(y int) {
	if b.years == nil {
		b.years = map[int]int{}
	}
	b.years[y]++
}

// Years lists the years the rows' months are of, whether or not the rows are otherwise
// valid, in order: where a batch that names no assessment belongs, when a deployment holds
// several years.
func (b *Batch) Years() []int {
	out := make([]int, 0, len(b.years))
	for y := range b.years {
		out = append(out, y)
	}
	sort.Ints(out)
	return out
}
