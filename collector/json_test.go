package collector

import (
	"errors"
	"strings"
	"testing"
)

func TestJSONRepeatedKeysAreRefused(t *testing.T) {
	a := testAssessment(t)
	const rest = `"indicator":"screenings","period":"2024-01","value":1`
	tests := []struct {
		name   string
		object string
		value  string // the repeated key named by the error; empty: accepted
		msg    string
	}{
		{"same key twice", `{"township":"aa","township":"bb",` + rest + `}`, "township", "键“township”与“township”重复"},
		{"same key in another case", `{"Township":"aa",` + rest + `,"township":"bb"}`, "township", "键“township”与“Township”重复"},
		{"a key written with an escape", `{"town\u0073hip":"aa",` + rest + `,"TOWNSHIP":"aa"}`, "TOWNSHIP", "键“TOWNSHIP”与“township”重复"},
		{"two names of one field", `{"township":"aa","乡镇":"甲镇",` + rest + `}`, "乡镇", "键“乡镇”与“township”都是 township 字段"},
		{"an extra key twice", `{"township":"aa",` + rest + `,"note":"a","Note":"b"}`, "Note", "键“Note”与“note”重复"},
		{"extra keys once each", `{"township":"aa",` + rest + `,"note":"a","备注":{"x":[1,"}"]}}`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddJSON("d.json", strings.NewReader(`[{"township":"bb",`+rest+`}, `+tc.object+`]`))
			if tc.value == "" {
				if err := b.Err(); err != nil || b.Len() != 2 {
					t.Fatalf("got %v (%d rows), want both objects accepted", err, b.Len())
				}
				return
			}
			var be *BatchError
			if !errors.As(b.Err(), &be) || len(be.Errors) != 1 {
				t.Fatalf("got %v, want one error", b.Err())
			}
			e := be.Errors[0]
			if e.Where != "d.json[1]" || e.Value != tc.value || !errors.Is(e, ErrMalformed) || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %s (value %q), want d.json[1] naming %q and saying %q", e, e.Value, tc.value, tc.msg)
			}
		})
	}
}

func TestJSONErrorsComeInTheOrderWritten(t *testing.T) {
	a := testAssessment(t)
	for range 20 { // a map's order would differ from run to run
		b := NewBatch(a)
		b.AddJSON("o.json", strings.NewReader(`[{"township":["aa"],"indicator":[1],"period":{"m":1},"value":1}]`))
		var be *BatchError
		if !errors.As(b.Err(), &be) || len(be.Errors) != 3 {
			t.Fatalf("got %v, want three errors", b.Err())
		}
		var got []string
		for _, e := range be.Errors {
			got = append(got, e.Field)
		}
		if strings.Join(got, ",") != "township,indicator,period" {
			t.Fatalf("errors for %v, want township,indicator,period in that order", got)
		}
	}
}

func TestJSONMembers(t *testing.T) {
	tests := []struct {
		in   string
		want []string // key=value
		ok   bool
	}{
		{`{}`, nil, true},
		{` { "a" : 1 , "b":"x,}" ,"c":[1,{"d":"]"}],"e":null} `, []string{`a=1`, `b="x,}"`, `c=[1,{"d":"]"}]`, `e=null`}, true},
		{`{"a\"b":true,"a":1}`, []string{`a"b=true`, `a=1`}, true},
		{`[1]`, nil, false},
		{`null`, nil, false},
		{`"x"`, nil, false},
	}
	for _, tc := range tests {
		got, ok := jsonMembers([]byte(tc.in))
		var kv []string
		for _, m := range got {
			kv = append(kv, m.key+"="+string(m.value))
		}
		if ok != tc.ok || strings.Join(kv, " ") != strings.Join(tc.want, " ") {
			t.Errorf("jsonMembers(%s) = %q, %v; want %q, %v", tc.in, kv, ok, tc.want, tc.ok)
		}
	}
}

func TestJSONDocumentShapes(t *testing.T) {
	a := testAssessment(t)
	const obs = `[{"township":"aa","indicator":"screenings","period":"2024-01","value":1}]`
	tests := []struct {
		name, doc string
		rows      int
		msg       string // the one error; empty: none
	}{
		{"an array", obs, 1, ""},
		{"an object", `{"batch":"六月","observations":` + obs + `}`, 1, ""},
		{"an object, key in capitals", `{"Observations":` + obs + `}`, 1, ""},
		{"two arrays", `{"observations":` + obs + `,"observations":[]}`, 0, "对象中有多个 observations 数组"},
		{"not an array", `{"observations":{"township":"aa"}}`, 0, "observations 应为观测值数组"},
		{"null", `{"observations":null}`, 0, "对象中没有 observations 数组"},
		{"no array", `{"rows":` + obs + `}`, 0, "对象中没有 observations 数组"},
		{"a number", `12`, 0, "应为观测值数组（[{…}, …]）或含 observations 数组的对象"},
		{"empty", `[ ]`, 0, "没有数据：观测值数组是空的"},
		{"truncated", `[{"township":"aa",`, 0, "JSON 不完整"},
		{"broken", `[{"township":"aa"},,]`, 0, "第 20 个字节附近不是有效的 JSON"},
		{"nothing", ``, 0, "JSON 不完整"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch(a)
			b.AddJSON("d.json", strings.NewReader(tc.doc))
			err := b.Err()
			if tc.msg == "" {
				if err != nil || b.Len() != tc.rows {
					t.Errorf("got %v, %d rows; want %d rows", err, b.Len(), tc.rows)
				}
				return
			}
			var be *BatchError
			if !errors.As(err, &be) || len(be.Errors) != 1 || be.Errors[0].Where != "d.json" || !strings.Contains(be.Errors[0].Msg, tc.msg) || !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v; want one error d.json: …%s", err, tc.msg)
			}
		})
	}
}
