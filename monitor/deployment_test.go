package monitor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

func deployed(t *testing.T, id string, year int, towns string) *kpi.Assessment {
	t.Helper()
	a, err := kpi.ParseConfig(id+".yaml", []byte(fmt.Sprintf(`name: %s
year: %d
townships: [%s]
indicators: [{code: x, name: 筛查, kind: count, weight: 100, target: 120}]
`, id, year, towns)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDeployment(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	qc := "{code: dongcheng, name: 东城街道}, {code: shijiao, name: 石角镇}"
	fg := "{code: shijiao, name: 石角镇}, {code: tangtang, name: 汤塘镇}"
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	opt := Options{Now: func() time.Time { return now }}
	d, err := NewDeployment(ctx, db, []*kpi.Assessment{
		deployed(t, "qingcheng-2025", 2025, qc), deployed(t, "qingcheng-2026", 2026, qc),
		deployed(t, "fogang-2025", 2025, fg), deployed(t, "fogang-2026", 2026, fg),
	}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"qingcheng-2026": "qingcheng-2025", "fogang-2026": "fogang-2025", "qingcheng-2025": "", "fogang-2025": ""} {
		got := ""
		if p, ok := d.LastYear(id); ok {
			got = p.Assessment().ID
		}
		if got != want {
			t.Errorf("last year of %s = %q, want %q", id, got, want)
		}
	}
	if _, choices, ok := d.Default(); ok || len(choices) != 2 || choices[0].Assessment().ID != "qingcheng-2026" {
		t.Errorf("default with two 2026 assessments: ok %v, choices %d; want a chooser of both", ok, len(choices))
	}
	if got := d.Covering(2025); len(got) != 2 {
		t.Errorf("covering 2025: %d", len(got))
	}
	// a change to last year's data is a new version of this year's (同比 moved)
	cur, _ := d.Monitor("qingcheng-2026")
	prev, _ := d.Monitor("qingcheng-2025")
	v := cur.Version()
	if _, err := prev.Ingest(ctx, batch(prev, "dongcheng,x,2025-01,10\n"), "t"); err != nil {
		t.Fatal(err)
	}
	if cur.Version() != v+1 || cur.Dataset().Len() != 0 {
		t.Errorf("after last year's batch: version %d (was %d), %d figures; want a new version and no figures of its own", cur.Version(), v, cur.Dataset().Len())
	}

	one, err := NewDeployment(ctx, db, []*kpi.Assessment{deployed(t, "a-2024", 2024, qc), deployed(t, "a-2025", 2025, qc)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if m, _, ok := one.Default(); !ok || m.Assessment().ID != "a-2025" {
		t.Errorf("default with no assessment of 2026: %v %v, want the latest year's", m, ok)
	}
	if _, err := NewDeployment(ctx, db, []*kpi.Assessment{deployed(t, "x", 2024, qc), deployed(t, "x", 2025, qc)}, opt); err == nil || !strings.Contains(err.Error(), "编号（id）都是 \"x\"") {
		t.Errorf("two configs with one id: %v", err)
	}
	// two counties of the year before with the same towns and no telling ids: no 同比 at all
	amb, err := NewDeployment(ctx, db, []*kpi.Assessment{deployed(t, "p", 2024, qc), deployed(t, "q", 2024, qc), deployed(t, "r", 2025, qc)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := amb.LastYear("r"); ok {
		t.Errorf("an ambiguous previous year was chosen: %s", p.Assessment().ID)
	}
}
