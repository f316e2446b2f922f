package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// figures are the 苍南县 townships' March reports, as a clerk would type them.
var marchFigures = []struct {
	township, indicator string
	value, num, den     string
	yes                 string
}{
	{township: "灵溪镇", indicator: "screenings", value: "35"},
	{township: "灵溪镇", indicator: "closure_rate", num: "19", den: "20"},
	{township: "灵溪镇", indicator: "repeat_petitions", value: "1"},
	{township: "灵溪镇", indicator: "honors", value: "1.5"},
	{township: "宜山镇", indicator: "screenings", value: "12"},
	{township: "宜山镇", indicator: "closure_rate", num: "0", den: "0"},
	{township: "宜山镇", indicator: "plan_review", yes: "是"},
	{township: "钱库镇", indicator: "screenings", value: "20"},
	{township: "钱库镇", indicator: "major_incident", yes: "是"},
	{township: "金乡镇", indicator: "plan_review", yes: "否"},
	{township: "金乡镇", indicator: "closure_rate", num: "7", den: "9"},
}

func TestFilledTemplateEvaluatesLikeCSV(t *testing.T) {
	dir := t.TempDir()
	config := cangnan("config.yaml")
	form := filepath.Join(dir, "三月.xlsx")
	out := mustCLI(t, "template", "--config", config, "--period", "2024-03", "--out", form)
	if !strings.Contains(out, "4 个乡镇") {
		t.Errorf("template said %q", out)
	}
	// fill it as another program would: find the columns by their headers, the rows by code
	f, err := excelize.OpenFile(form)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("乡镇,指标,月份,数值,分子,分母\n")
	for _, x := range marchFigures {
		rows, err := f.GetRows(x.township)
		if err != nil {
			t.Fatalf("sheet %s: %v", x.township, err)
		}
		col := map[string]int{}
		row := 0
		for r, cells := range rows {
			for c, v := range cells {
				if v == "指标代码" {
					for c2, h := range cells {
						col[h] = c2 + 1
					}
				}
				if v == x.indicator && c+1 == col["指标代码"] {
					row = r + 1
				}
			}
		}
		if row == 0 {
			t.Fatalf("%s: no row for %s", x.township, x.indicator)
		}
		set := func(header, v string) {
			if v == "" {
				return
			}
			ref, _ := excelize.CoordinatesToCellName(col[header], row)
			var val any = v
			if header != "是否（是/否）" {
				val = mustFloat(t, v)
			}
			if err := f.SetCellValue(x.township, ref, val); err != nil {
				t.Fatal(err)
			}
		}
		set("数值", x.value)
		set("分子", x.num)
		set("分母", x.den)
		set("是否（是/否）", x.yes)
		value := x.value
		switch x.yes {
		case "是":
			value = "1"
		case "否":
			value = "0"
		}
		fmt.Fprintf(&csv, "%s,%s,2024-03,%s,%s,%s\n", x.township, x.indicator, value, x.num, x.den)
	}
	if err := f.SaveAs(form); err != nil {
		t.Fatal(err)
	}
	f.Close()
	csvPath := filepath.Join(dir, "三月.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	xdb, cdb := filepath.Join(dir, "x.db"), filepath.Join(dir, "c.db")
	for _, db := range []string{xdb, cdb} {
		mustCLI(t, "ingest", "--config", config, "--db", db, cangnan("jan-may.csv"))
	}
	xo := mustCLI(t, "ingest", "--config", config, "--db", xdb, form)
	co := mustCLI(t, "ingest", "--config", config, "--db", cdb, csvPath)
	// the same batch, and the form's blank rows named: they count as not reported
	first, rest, _ := strings.Cut(xo, "\n")
	if first+"\n" != co || !strings.Contains(xo, "共 11 条") {
		t.Errorf("ingest of the form said %q, of the CSV %q", xo, co)
	}
	if !strings.HasPrefix(rest, "未填 5 项（视为未报送）：") || !strings.Contains(rest, "三月.xlsx:金乡镇!G5：金乡镇·“两癌”免费筛查人数（2024年3月）未填") {
		t.Errorf("the form's blank rows were listed as %q", rest)
	}
	for _, cmd := range []string{"eval", "rank"} {
		x := mustCLI(t, cmd, "--config", config, "--db", xdb, "--period", "2024-03", "--format", "json")
		c := mustCLI(t, cmd, "--config", config, "--db", cdb, "--period", "2024-03", "--format", "json")
		if x != c {
			t.Errorf("%s from the form differs from the CSV:\n%s\n%s", cmd, x, c)
		}
	}
	// and the form's cells show up in errors: an unknown 是/否 answer
	g, _ := excelize.OpenFile(form)
	g.SetCellValue("宜山镇", cellOf(t, g, "宜山镇", "plan_review", "是否（是/否）"), "也许")
	g.SaveAs(form)
	g.Close()
	_, stderr, err := cli(t, "ingest", "--config", config, "--db", xdb, form)
	if err == nil || !strings.Contains(stderr, "三月.xlsx:宜山镇!J") || !strings.Contains(stderr, "未写入任何数据") {
		t.Errorf("bad form: %v\n%s", err, stderr)
	}
}

func cellOf(t *testing.T, f *excelize.File, sheet, code, header string) string {
	t.Helper()
	rows, _ := f.GetRows(sheet)
	col, row := 0, 0
	for r, cells := range rows {
		for c, v := range cells {
			if v == header {
				col = c + 1
			}
			if v == code {
				row = r + 1
			}
		}
	}
	ref, _ := excelize.CoordinatesToCellName(col, row)
	return ref
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGBKCSVIngestsLikeUTF8(t *testing.T) {
	dir := t.TempDir()
	config := cangnan("config.yaml")
	text := "乡镇,指标,月份,数值,分子,分母,备注\r\n" +
		"灵溪镇,“两癌”免费筛查人数,2024年3月,35,,,妇女节集中筛查\r\n" +
		"宜山镇,信访案件办结率,2024-03,,9,10,\r\n" +
		"钱库镇,荣誉加分,2024-03,2,,,市级巾帼文明岗\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	if gbk == text {
		t.Fatal("GBK encoding changed nothing")
	}
	u, g := filepath.Join(dir, "utf8.csv"), filepath.Join(dir, "gbk.csv")
	os.WriteFile(u, []byte("\xef\xbb\xbf"+text), 0o644)
	os.WriteFile(g, []byte(gbk), 0o644)
	udb, gdb := filepath.Join(dir, "u.db"), filepath.Join(dir, "g.db")
	uo := mustCLI(t, "ingest", "--config", config, "--db", udb, u)
	gout := mustCLI(t, "ingest", "--config", config, "--db", gdb, g)
	// the same words, but for the name of the database each created
	if strings.ReplaceAll(uo, udb, "D") != strings.ReplaceAll(gout, gdb, "D") || !strings.Contains(uo, "新增 3 条") {
		t.Errorf("UTF-8 ingest said %q, GBK %q", uo, gout)
	}
	for _, cmd := range []string{"eval", "rank"} {
		a := mustCLI(t, cmd, "--config", config, "--db", udb, "--period", "2024-03", "--format", "json")
		b := mustCLI(t, cmd, "--config", config, "--db", gdb, "--period", "2024-03", "--format", "json")
		if a != b {
			t.Errorf("%s differs between the GBK file and its UTF-8 twin:\n%s\n%s", cmd, a, b)
		}
	}
}

func TestTemplateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	config := cangnan("config.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--period", "2024-03", "--out", filepath.Join(dir, "a.xls")}, "须保存为 .xlsx"},
		{[]string{"--period", "2023-03", "--out", filepath.Join(dir, "a.xlsx")}, "不在考核年度 2024 内"},
		{[]string{"--period", "2024-03", "--township", "桥墩镇", "--out", filepath.Join(dir, "a.xlsx")}, "未知的乡镇“桥墩镇”"},
	} {
		_, stderr, err := cli(t, append([]string{"template", "--config", config}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error()+stderr, tc.want) {
			t.Errorf("template %v: %v %s; want %q", tc.args, err, stderr, tc.want)
		}
	}
	one := filepath.Join(dir, "one.xlsx")
	mustCLI(t, "template", "--config", config, "--period", "2024-03", "--township", "lingxi", "--out", one)
	f, err := excelize.OpenFile(one)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "灵溪镇" {
		t.Errorf("one township's template has sheets %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.xlsx")); err == nil {
		t.Error("a failed template left a file behind")
	}
}
