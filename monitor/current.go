package monitor

import (
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// CurrentPeriod is the period the live view (metrics, the alert lifecycle) describes at now:
// the month the assessment is at (Monitor.ReportedPeriod: the latest month with reports
// that has ended, so early reports of the running month move nothing), or a later month of
// the year whose report deadline has already passed when nobody has reported it yet, so a
// month nobody reported still becomes overdue with the clock rather than with data.
// January of the year when neither applies.
func CurrentPeriod(d *kpi.Dataset, now time.Time) kpi.Period {
	a := d.Assessment()
	p := kpi.Period{Year: a.Year, Month: 1}
	if latest, ok := reportedPeriod(a, d.ReportedMonths(), now); ok {
		p = latest
	}
	for m := 12; m > p.Month; m-- {
		q := kpi.Period{Year: a.Year, Month: m}
		if !now.Before(q.Deadline(a.ReportDeadlineDay, a.Location)) {
			return q
		}
	}
	return p
}

// CurrentPeriod is CurrentPeriod of the monitor's data at its clock's now.
func (m *Monitor) CurrentPeriod() kpi.Period { return CurrentPeriod(m.Dataset(), m.now()) }
