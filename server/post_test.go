package server

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestPostSniffsABodyWithoutAContentType: a batch sent with no Content-Type (or as
// application/octet-stream, or as curl's default form type) is read by its first bytes:
// an Excel workbook, JSON, or CSV.
func TestPostSniffsABodyWithoutAContentType(t *testing.T) {
	f := newAccessFixture(t)
	wb := excelize.NewFile()
	for i, row := range [][]any{{"乡镇", "指标", "月份", "数值"}, {"甲镇", "两癌筛查人数", "2024-03", 5}} {
		for j, v := range row {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			wb.SetCellValue("Sheet1", ref, v)
		}
	}
	var xlsx bytes.Buffer
	if err := wb.Write(&xlsx); err != nil {
		t.Fatal(err)
	}
	wb.Close()
	tests := []struct {
		name, contentType, body, wantSource string
	}{
		{"CSV, no Content-Type", "", "township,indicator,period,value\naa,screenings,2024-01,10\n", "api.csv"},
		{"CSV with a byte-order mark, octet-stream", "application/octet-stream", "\ufeff乡镇,指标,月份,数值\n甲镇,两癌筛查人数,2024-02,11\n", "api.csv"},
		{"CSV as curl sends it by default", "application/x-www-form-urlencoded", "township,indicator,period,value\naa,screenings,2024-03,12\n", "api.csv"},
		{"JSON, no Content-Type", "", "\n  [{\"township\":\"aa\",\"indicator\":\"screenings\",\"period\":\"2024-01\",\"value\":13}]", "api.json"},
		{"Excel, no Content-Type", "", xlsx.String(), "api.xlsx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, tc.contentType, tc.body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s, want 200", resp.StatusCode, body)
			}
			var got ingestResponse
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Total != 1 {
				t.Fatalf("answer %s (%v), want one row written", body, err)
			}
			bs, err := f.db.Batches(t.Context(), "test", 1)
			if err != nil || len(bs) != 1 || bs[0].Source != tc.wantSource {
				t.Errorf("the batch is recorded as %+v (%v), want source %s", bs, err, tc.wantSource)
			}
		})
	}
}

// TestPostCSVDeclaredAsJSON: a CSV sent as application/json is refused as JSON, with a hint
// to set text/csv; a body that is broken JSON gets no such hint.
func TestPostCSVDeclaredAsJSON(t *testing.T) {
	f := newAccessFixture(t)
	const hint = "若上传的是 CSV，请设置 Content-Type: text/csv"
	tests := []struct {
		name, contentType, body string
		wantHint                bool
	}{
		{"CSV as application/json", "application/json", "township,indicator,period,value\naa,screenings,2024-01,10\n", true},
		{"CSV as text/plain", "text/plain; charset=utf-8", "township,indicator,period,value\naa,screenings,2024-01,10\n", true},
		{"broken JSON", "application/json", `[{"township":"aa",`, false},
		{"a word, no comma", "application/json", "hello\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, tc.contentType, tc.body)
			if resp.StatusCode != 400 {
				t.Fatalf("%d %s, want 400", resp.StatusCode, body)
			}
			var eb errorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatal(err)
			}
			if got := strings.HasSuffix(eb.Error, "；"+hint); got != tc.wantHint {
				t.Errorf("error %q: hint %v, want %v", eb.Error, got, tc.wantHint)
			}
			if len(eb.Errors) == 0 || !strings.Contains(eb.Errors[0].Message, "JSON") {
				t.Errorf("errors %+v, want the JSON error listed", eb.Errors)
			}
		})
	}
	f.assertNothingWritten(t)
}

// TestPostAnswerNamesTheAssessment: an accepted batch's answer says which assessment took
// it.
func TestPostAnswerNamesTheAssessment(t *testing.T) {
	f := newAccessFixture(t)
	resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,10\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
	}
	if got["assessment"] != "test" || got["assessment_name"] != "测试县" {
		t.Errorf("answer %s, want assessment test and assessment_name 测试县", body)
	}
}

// TestHistoryByName: the history of a key takes the township and indicator by code or by
// name, as a batch's rows do, and answers an unknown one with the nearest names.
func TestHistoryByName(t *testing.T) {
	f := newAccessFixture(t)
	if resp, body := f.do(t, "POST", "/api/v1/observations", f.admin, "text/csv", "township,indicator,period,value\naa,screenings,2024-01,10\n"); resp.StatusCode != 200 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	tests := []struct {
		name, township, indicator string
		want                      int
		wantError                 string
	}{
		{"codes", "aa", "screenings", 200, ""},
		{"names", "甲镇", "两癌筛查人数", 200, ""},
		{"a name with spaces around", " 甲镇 ", "两癌筛查人数", 200, ""},
		{"an indicator one character off", "甲镇", "两癌筛查人树", 404, "未知的指标“两癌筛查人树”，是否为“两癌筛查人数”？"},
		{"a code in capitals", "AA", "screenings", 404, "未知的乡镇“AA”，是否为“aa（甲镇）”？"},
		{"nothing near", "滨海新区", "screenings", 404, "未知的乡镇“滨海新区”：须为考核方案中的乡镇代码或名称"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := "township=" + url.QueryEscape(tc.township) + "&indicator=" + url.QueryEscape(tc.indicator)
			resp, body := f.do(t, "GET", "/api/v1/history?"+q, "", "", "")
			if resp.StatusCode != tc.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want != 200 {
				var eb errorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error != tc.wantError {
					t.Errorf("error %q (%v), want %q", eb.Error, err, tc.wantError)
				}
				return
			}
			var got struct {
				Township, Indicator string
				Revisions           []json.RawMessage
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Township != "aa" || got.Indicator != "screenings" || len(got.Revisions) != 1 {
				t.Errorf("answer %s (%v), want aa/screenings with its one revision", body, err)
			}
		})
	}
}
