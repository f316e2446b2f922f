package charts

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/monitor"
)

// ExportResult says what Export wrote.
type ExportResult struct {
	Dir   string
	Files []string // paths relative to Dir, in the order written
	Bytes int64
}

// Export writes the pages of period p and their assets under dir as static files: index.html
// (总览), rankings.html with rankings.csv, alerts.html, townships/CODE.html,
// indicators/CODE.html and assets/. Links between them are relative, so the folder opens
// from file:// and from any web server. Existing files of the same names are replaced.
func Export(ctx context.Context, mon *monitor.Monitor, p kpi.Period, dir string) (ExportResult, error) {
	res := ExportResult{Dir: dir}
	r, err := NewRenderer()
	if err != nil {
		return res, err
	}
	s, err := TakeSnapshot(ctx, mon, p)
	if err != nil {
		return res, err
	}
	a := s.Assessment
	write := func(name string, body []byte) error {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		res.Files = append(res.Files, name)
		res.Bytes += int64(len(body))
		return nil
	}
	page := func(name string, build func() (*view, error)) error {
		v, err := build()
		if err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		body, err := r.render(v)
		if err != nil {
			return err
		}
		return write(name, body)
	}
	if err := page("index.html", func() (*view, error) { return buildOverview(s, staticLinks(p, 0)) }); err != nil {
		return res, err
	}
	if err := page("rankings.html", func() (*view, error) { return buildRankings(s, staticLinks(p, 0)) }); err != nil {
		return res, err
	}
	if err := page("alerts.html", func() (*view, error) { return buildAlerts(s, staticLinks(p, 0)) }); err != nil {
		return res, err
	}
	var csv bytes.Buffer
	if err := WriteRankingCSV(&csv, a, s.Result()); err != nil {
		return res, err
	}
	if err := write("rankings.csv", csv.Bytes()); err != nil {
		return res, err
	}
	for _, t := range a.Townships {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		hist, err := LoadHistory(ctx, mon.Store(), a, t.Code)
		if err != nil {
			return res, err
		}
		if err := page("townships/"+t.Code+".html", func() (*view, error) { return buildTownship(s, staticLinks(p, 1), t.Code, hist) }); err != nil {
			return res, err
		}
	}
	for _, ind := range a.Indicators {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := page("indicators/"+ind.Code+".html", func() (*view, error) { return buildIndicator(s, staticLinks(p, 1), ind.Code) }); err != nil {
			return res, err
		}
	}
	err = fs.WalkDir(Assets(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(Assets(), name)
		if err != nil {
			return err
		}
		return write("assets/"+name, body)
	})
	return res, err
}
