package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// errPermanent marks a delivery failure that retrying cannot fix (a 4xx answer).
var errPermanent = errors.New("permanent delivery failure")

// alertmanager posts alerts to an Alertmanager's v2 API.
type alertmanager struct {
	url    string // …/api/v2/alerts
	client *http.Client
}

// amAlert is one alert as Alertmanager's v2 API takes it (postableAlert).
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// amAlert converts a lifecycle record: labels carry the identity (the assessment, the alert,
// the township and the indicator: two counties' 石角镇 stay two alerts) and the severity (codes,
// with the Chinese names alongside), annotations the Chinese summary and the link. It
// starts when its condition began (Engine.began); a firing alert ends at validUntil unless
// re-sent, a resolved one at its resolution time.
func (e *Engine) amAlert(r store.AlertRecord, validUntil time.Time) amAlert {
	link := e.TownshipURL(r.Township, r.Period)
	state := "持续中"
	end := validUntil
	if r.ResolvedAt != nil {
		state = fmt.Sprintf("已于 %s 恢复（持续%s）", r.ResolvedAt.In(e.a.Location).Format("2006-01-02 15:04"), duration(r.ResolvedAt.Sub(r.StartedAt)))
		end = *r.ResolvedAt
	}
	return amAlert{
		Labels: map[string]string{
			"alertname": r.Alert.Alert, "severity": r.Severity, "assessment": e.a.ID,
			"township": r.Township, "township_name": r.TownshipName,
			"indicator": r.Indicator, "indicator_name": r.IndicatorName,
		},
		Annotations: map[string]string{
			"summary": r.Summary,
			"description": fmt.Sprintf("%s·%s：%s（%s），自%s起；始于 %s，%s。", r.TownshipName, r.IndicatorName,
				kpi.AlertLabel(r.Alert.Alert), kpi.SeverityLabel(r.Severity), r.ActiveSince.Label(),
				r.StartedAt.In(e.a.Location).Format("2006-01-02 15:04"), state),
			"link": link,
		},
		StartsAt:     r.StartedAt.UTC(),
		EndsAt:       end.UTC(),
		GeneratorURL: link,
	}
}

// post sends alerts in one request.
func (am *alertmanager) post(ctx context.Context, alerts []amAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := am.client.Do(req)
	if err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("alertmanager: %s answered HTTP %d: %s", am.url, resp.StatusCode, bytes.TrimSpace(msg))
		if resp.StatusCode/100 == 4 {
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		return err
	}
	return nil
}
