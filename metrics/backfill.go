package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Backfill writes an assessment's monthly history as OpenMetrics text with timestamps, for
// `promtool tsdb create-blocks-from openmetrics FILE DIR`: the same families and labels as
// the live exporter, one sample per series and month, each month's figures as of that
// month (evaluated with today's data and clock: corrections made since are in). Grafana's
// trend panels then show January onward, not only the months since Prometheus began to
// scrape.
//
// A month's sample is stamped at the last second of the month in the assessment's time
// zone, so a query at the end of March reads March's figures. Between two monthly samples
// an instant query finds nothing after Prometheus's lookback (5 minutes), which is why the
// dashboard's trend panels read `last_over_time(…[35d])`.
//
// Months run from January to upTo (which must be of the assessment's year).
func Backfill(w io.Writer, d *kpi.Dataset, upTo kpi.Period, now time.Time) error {
	a := d.Assessment()
	if upTo.Year != a.Year || upTo.Month < 1 || upTo.Month > 12 {
		return fmt.Errorf("backfill: %s is outside the assessment year %d", upTo, a.Year)
	}
	ds := newDescs()
	acc := make([][]byte, len(ds.specs))
	for m := 1; m <= upTo.Month; m++ {
		p := kpi.Period{Year: a.Year, Month: m}
		r, err := kpi.Evaluate(d, p, now)
		if err != nil {
			return fmt.Errorf("backfill: evaluate %s: %w", p, err)
		}
		for _, s := range ds.specs {
			s.buf, s.series = s.buf[:0], 0
		}
		ds.fill(a, d, 0, r)
		ts := []byte(" " + strconv.FormatInt(MonthEnd(p, a.Location).Unix(), 10))
		for k, s := range ds.specs {
			for line := range bytes.Lines(s.buf) {
				acc[k] = append(acc[k], bytes.TrimSuffix(line, []byte("\n"))...)
				acc[k] = append(acc[k], ts...)
				acc[k] = append(acc[k], '\n')
			}
		}
	}
	bw := bufio.NewWriter(w)
	for k, s := range ds.specs {
		if len(acc[k]) == 0 || s == ds.version || s == ds.evaluatedAt {
			continue // the data version and evaluation time say nothing about the past
		}
		bw.WriteString("# HELP ")
		bw.WriteString(s.name)
		bw.WriteByte(' ')
		bw.Write(appendEscaped(nil, s.help, false))
		bw.WriteString("\n# TYPE ")
		bw.WriteString(s.name)
		bw.WriteString(" gauge\n")
		bw.Write(acc[k])
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// MonthEnd is the last second of month p in loc: the instant a backfilled month's samples
// are stamped with.
func MonthEnd(p kpi.Period, loc *time.Location) time.Time {
	n := p.Next()
	return time.Date(n.Year, time.Month(n.Month), 1, 0, 0, 0, 0, loc).Add(-time.Second)
}
