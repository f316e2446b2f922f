package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpimon/kpimon/bulletin"
)

func TestBulletinRankingMatchesRank(t *testing.T) {
	config, db := loadCangnan(t)
	for _, period := range []string{"2024-05", "2024-06"} {
		out := filepath.Join(t.TempDir(), "通报.xlsx")
		said := mustCLI(t, "bulletin", "--config", config, "--db", db, "--period", period, "--out", out)
		if !strings.Contains(said, "已写出") {
			t.Errorf("bulletin said %q", said)
		}
		var rank struct {
			Categories []string `json:"categories"`
			Rankings   []struct {
				Rank       int                `json:"rank"`
				Name       string             `json:"township_name"`
				Score      float64            `json:"score"`
				Bonus      float64            `json:"bonus"`
				Grade      string             `json:"grade"`
				Veto       bool               `json:"veto"`
				RankChange *int               `json:"rank_change"`
				Categories map[string]float64 `json:"categories"`
			} `json:"rankings"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, "rank", "--config", config, "--db", db, "--period", period, "--format", "json")), &rank); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatalf("the bulletin is not a valid workbook: %v", err)
		}
		rows, err := f.GetRows(bulletin.SheetRanking, excelize.Options{RawCellValue: true})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		header := rows[bulletin.RankingHeaderRow-1]
		col := map[string]int{}
		for i, h := range header {
			col[h] = i
		}
		for _, c := range append([]string{"名次", "较上月", "乡镇（街道）", "加分", "总分", "等次"}, rank.Categories...) {
			if _, ok := col[c]; !ok {
				t.Fatalf("%s: ranking sheet has no %q column: %q", period, c, header)
			}
		}
		body := rows[bulletin.RankingHeaderRow:]
		if len(body) != len(rank.Rankings) {
			t.Fatalf("%s: %d ranking rows, rank printed %d", period, len(body), len(rank.Rankings))
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%q is not a number", s)
			}
			return v
		}
		for i, want := range rank.Rankings {
			got := body[i]
			grade := want.Grade
			if want.Veto {
				grade += "（一票否决）"
			}
			change := "—"
			if want.RankChange != nil {
				change = map[bool]string{true: fmt.Sprintf("↑%d", *want.RankChange), false: fmt.Sprintf("↓%d", -*want.RankChange)}[*want.RankChange > 0]
				if *want.RankChange == 0 {
					change = "持平"
				}
			}
			if int(num(got[col["名次"]])) != want.Rank || got[col["乡镇（街道）"]] != want.Name || got[col["等次"]] != grade ||
				num(got[col["总分"]]) != want.Score || num(got[col["加分"]]) != want.Bonus || got[col["较上月"]] != change {
				t.Errorf("%s row %d: %q, rank says %+v", period, i+1, got, want)
			}
			for _, c := range rank.Categories {
				if num(got[col[c]]) != want.Categories[c] {
					t.Errorf("%s %s %s: sheet %s, rank %v", period, want.Name, c, got[col[c]], want.Categories[c])
				}
			}
		}
	}
	html := filepath.Join(t.TempDir(), "通报.html")
	mustCLI(t, "bulletin", "--config", config, "--db", db, "--period", "2024-06", "--out", html)
	page, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(page), "A4 landscape") || !strings.Contains(string(page), "灵溪镇") {
		t.Errorf("HTML bulletin: %v", err)
	}
	if _, stderr, err := cli(t, "bulletin", "--config", config, "--db", db, "--out", "x.pdf"); err == nil || !strings.Contains(stderr, ".xlsx 或 .html") {
		t.Errorf("bulletin to .pdf: %v %s", err, stderr)
	}
}

// TestBulletinCountsIncompleteSums: for a city, kpimon bulletin's summary counts the counties
// whose sums lack some of their townships' reports, as the bulletin itself says (1 个县（市、区）
// 有下级未报送，汇总数不完整), naming them; a county's summary has no such count. The demo's
// 清新区 misses 浸潭镇's September report.
func TestBulletinCountsIncompleteSums(t *testing.T) {
	dir := t.TempDir()
	if err := writeDemo(dir, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), io.Discard); err != nil {
		t.Fatal(err)
	}
	configs, db := filepath.Join(dir, "configs"), filepath.Join(t.TempDir(), "k.db")
	for _, id := range []string{"qingcheng-2026", "fogang-2026", "qingxin-2026", "qingyuan-2026"} {
		reports, _ := filepath.Glob(filepath.Join(dir, "reports", id, "*.csv"))
		var monthly []string
		for _, r := range reports {
			if !strings.Contains(r, "更正") && strings.Compare(filepath.Base(r), "2026-10") < 0 {
				monthly = append(monthly, r)
			}
		}
		mustCLI(t, append([]string{"ingest", "--config", configs, "--assessment", id, "--db", db}, monthly...)...)
	}
	for _, tc := range []struct{ name, id, period, want, not string }{
		{"a county missing a township's sums", "qingyuan-2026", "2026-09", "报表不全 0 个，有下级未报送、汇总数不完整 1 个（清新区）。", ""},
		{"every sum complete", "qingyuan-2026", "2026-08", "报表不全 0 个，有下级未报送、汇总数不完整 0 个。", ""},
		{"a county's own bulletin", "qingxin-2026", "2026-09", "报表不全 1 个。", "汇总"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := mustCLI(t, "bulletin", "--config", configs, "--assessment", tc.id, "--db", db, "--period", tc.period, "--out", filepath.Join(t.TempDir(), "b.html"))
			if !strings.Contains(out, tc.want) || tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("bulletin said %q, want %q", out, tc.want)
			}
		})
	}
}
