package charts

import (
	"context"
	"fmt"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// AlertResolution is one run of an alert that the alert lifecycle store (the alerts table)
// saw resolve: the alert as it last held, the latest evaluated period in which it held
// (alerts.period) and when it stopped holding (alerts.resolved_at).
//
// 预警 needs them for the resolutions the month-by-month evaluations cannot show: data that
// arrived for a month (a township's late report, a correction) ends alerts of that same
// month, and the current evaluations, which see only the data as it is now, never held them.
// Deriving them from the evaluation at the previous data version would not do: it remembers
// one change, so the next batch of anybody's would wipe a resolution the leader has not seen
// yet, and a server that restarted would have none. The store keeps every run with its
// wall-clock end.
type AlertResolution struct {
	Alert      kpi.Alert
	Period     kpi.Period
	ResolvedAt time.Time
}

// LoadResolutions reads the alert runs of the assessment's year that resolved, from the
// lifecycle store (store.Alerts.ResolvedAlerts since the year began), latest first. It fills
// Snapshot.Resolved.
func LoadResolutions(ctx context.Context, db store.Alerts, a *kpi.Assessment) ([]AlertResolution, error) {
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	recs, err := db.ResolvedAlerts(ctx, a.ID, time.Date(a.Year, time.January, 1, 0, 0, 0, 0, loc))
	if err != nil {
		return nil, fmt.Errorf("resolved alerts: %w", err)
	}
	return resolutionsFrom(a, recs), nil
}

// resolutionsFrom keeps the resolved runs of the assessment's year.
func resolutionsFrom(a *kpi.Assessment, recs []store.AlertRecord) []AlertResolution {
	var out []AlertResolution
	for _, r := range recs {
		if r.ResolvedAt == nil || r.Period.Year != a.Year {
			continue
		}
		out = append(out, AlertResolution{Alert: r.Alert, Period: r.Period, ResolvedAt: *r.ResolvedAt})
	}
	return out
}
