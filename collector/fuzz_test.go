package collector

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kpimon/kpimon/kpi"
)

// The fuzz tests feed the readers arbitrary bytes. Whatever comes in, a batch must not
// panic, and must be either valid (every row a real observation of the assessment within
// the bounds) or refused with errors that each name a place in the file, say what is wrong
// and unwrap to a sentinel. Seeds are the fixtures in testdata and the corpora in
// testdata/fuzz; run one with go test ./collector -run '^$' -fuzz FuzzAddCSV -fuzztime 20s.

func fuzzAssessment(f *testing.F) *kpi.Assessment {
	a, err := kpi.LoadConfig(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	return a
}

// addFixtures seeds a fuzz test with the testdata files whose names end in suffix.
func addFixtures(f *testing.F, suffix string) {
	names, err := filepath.Glob(filepath.Join("testdata", "*"+suffix))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkBatch holds a batch to the rule above; place matches a place in the file.
func checkBatch(t *testing.T, a *kpi.Assessment, b *Batch, place *regexp.Regexp) {
	t.Helper()
	_ = b.Blanks()
	err := b.Err()
	if err == nil {
		if b.Len() != len(b.Rows()) {
			t.Fatalf("Len %d, %d rows", b.Len(), len(b.Rows()))
		}
		for _, r := range b.Rows() {
			checkRow(t, a, r)
		}
		return
	}
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("error %T, want *BatchError: %v", err, err)
	}
	if len(be.Errors) == 0 || len(be.Errors) > MaxListedErrors || be.More < 0 {
		t.Fatalf("%d errors listed, %d more", len(be.Errors), be.More)
	}
	for _, e := range be.Errors {
		if !place.MatchString(e.Where) || e.Msg == "" || !utf8.ValidString(e.Msg) || e.Err == nil || e.Rows < 1 {
			t.Errorf("error without a place, a message or a sentinel: %q %q %v rows %d", e.Where, e.Msg, e.Err, e.Rows)
		}
	}
	if !strings.Contains(err.Error(), be.Errors[0].Msg) {
		t.Errorf("the batch's message leaves out its first error")
	}
}

// checkRow holds a valid row to the assessment's rules.
func checkRow(t *testing.T, a *kpi.Assessment, r Row) {
	t.Helper()
	o := r.Observation
	ind, ok := a.Indicator(o.Indicator)
	if _, tok := a.Township(o.Township); !ok || !tok || o.Period.Year != a.Year || o.Period.Month < 1 || o.Period.Month > 12 {
		t.Fatalf("row %+v is not of the assessment", o)
	}
	for _, v := range []float64{o.Value, o.Numerator, o.Denominator} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("row %+v has a figure that is not a finite number ≥ 0", o)
		}
	}
	if field, _, _ := outOfRange(ind, o); field != "" {
		t.Fatalf("row %+v is out of range in %s", o, field)
	}
	if ind.Kind == kpi.KindRatio && o.Numerator > o.Denominator {
		t.Fatalf("row %+v has a numerator above its denominator", o)
	}
	if yesNoKind(ind.Kind) && o.Value != 0 && o.Value != 1 {
		t.Fatalf("row %+v is a yes or no that is neither", o)
	}
	if r.Where() == "" {
		t.Fatalf("row %+v has no place", o)
	}
}

func FuzzAddCSV(f *testing.F) {
	a := fuzzAssessment(f)
	addFixtures(f, ".csv")
	place := regexp.MustCompile(`^f\.csv(:[0-9]+)?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBatch(a)
		b.AddCSV("f.csv", strings.NewReader(string(data)))
		checkBatch(t, a, b, place)
	})
}

func FuzzAddJSON(f *testing.F) {
	a := fuzzAssessment(f)
	addFixtures(f, ".json")
	place := regexp.MustCompile(`^f\.json(\[[0-9]+\])?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBatch(a)
		b.AddJSON("f.json", strings.NewReader(string(data)))
		checkBatch(t, a, b, place)
	})
}

func FuzzAddXLSX(f *testing.F) {
	a := fuzzAssessment(f)
	addFixtures(f, ".xlsx")
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	place := regexp.MustCompile(`^f\.xlsx(:.+)?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBatch(a)
		b.addXLSX("f.xlsx", data, 1<<20)
		checkBatch(t, a, b, place)
	})
}

// FuzzAddBytes lets the content choose the reader, as an upload does.
func FuzzAddBytes(f *testing.F) {
	a := fuzzAssessment(f)
	for _, suffix := range []string{".csv", ".json", ".xlsx"} {
		addFixtures(f, suffix)
	}
	place := regexp.MustCompile(`^upload([:\[].+)?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBatch(a)
		b.AddBytes("upload", data)
		checkBatch(t, a, b, place)
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"12", "1,234.5", "１２", "-0.5", "1e3", "0x1p4", "1_000", "Inf", "NaN", "1e400", "98%", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseNumber(s)
		if !ok {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("parseNumber(%q) = %v", s, v)
		}
		for _, r := range strings.ReplaceAll(clean(s), ",", "") {
			if !strings.ContainsRune("0123456789.+-eE", r) {
				t.Fatalf("parseNumber(%q) took %q", s, r)
			}
		}
	})
}
