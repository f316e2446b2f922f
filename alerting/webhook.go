package alerting

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

// Events a webhook can take (notify.webhooks[].events).
const (
	eventAlerts    = "alerts"
	eventReminders = "reminders"
	eventRankings  = "rankings"
)

// Message size limits of the group robots, in bytes of UTF-8.
const (
	wecomMarkdownLimit    = 4096  // 企业微信群机器人 markdown.content
	dingtalkMarkdownLimit = 20000 // 钉钉自定义机器人 markdown.text
)

// webhook is one configured notification target.
type webhook struct {
	kpi.Webhook
	client *http.Client
}

// takes reports whether the webhook wants the event (no events listed: all of them).
func (w *webhook) takes(event string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == event {
			return true
		}
	}
	return false
}

// wecomBody is a WeCom group robot's markdown message.
type wecomBody struct {
	MsgType  string `json:"msgtype"` // markdown
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// dingtalkBody is a DingTalk custom robot's markdown message; At @-mentions members by
// their mobile numbers (the text must carry "@mobile" too for the mention to show).
type dingtalkBody struct {
	MsgType  string `json:"msgtype"` // markdown
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At *dingtalkAt `json:"at,omitempty"`
}

type dingtalkAt struct {
	AtMobiles []string `json:"atMobiles"`
}

// robotAnswer is what both robots answer: errcode 0 when the message was taken.
type robotAnswer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// DingTalkSign is DingTalk's request signature (加签): base64 of HMAC-SHA256 over
// "timestamp\nsecret" keyed with the secret; timestamp in milliseconds.
func DingTalkSign(secret string, timestampMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", timestampMillis, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// send delivers the message in the webhook's format. DingTalk signatures and sent_at use
// the real wall clock, which the receiving server compares with its own.
func (w *webhook) send(ctx context.Context, m message) error {
	now := time.Now()
	target := w.URL
	var body any
	robot := true
	switch w.Type {
	case "wecom":
		var b wecomBody
		b.MsgType, b.Markdown.Content = "markdown", m.markdown(wecomMarkdownLimit)
		body = b
	case "dingtalk":
		var b dingtalkBody
		b.MsgType, b.Markdown.Title, b.Markdown.Text = "markdown", m.title, m.markdown(dingtalkMarkdownLimit)
		if len(m.mentions) > 0 {
			// the townships' contacts, named in the text as DingTalk requires
			b.At = &dingtalkAt{AtMobiles: m.mentions}
			b.Markdown.Text += "\n\n@" + strings.Join(m.mentions, " @")
		}
		body = b
		if w.Secret != "" {
			u, err := url.Parse(w.URL)
			if err != nil {
				return fmt.Errorf("webhook %s: %w", w.Name, err)
			}
			ts := now.UnixMilli()
			q := u.Query()
			q.Set("timestamp", strconv.FormatInt(ts, 10))
			q.Set("sign", DingTalkSign(w.Secret, ts))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	default: // json
		body = m.jsonBody(now)
		robot = false
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "kpimon")
	resp, err := w.client.Do(req)
	if err != nil {
		// a *url.Error carries the whole URL, and a robot's URL carries its key or access
		// token (and DingTalk's signature): keep only the cause, so logs do not leak them
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("webhook %s answered HTTP %d: %s", w.Name, resp.StatusCode, bytes.TrimSpace(answer))
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		return err
	}
	if robot {
		var a robotAnswer
		if err := json.Unmarshal(answer, &a); err != nil || a.ErrCode == nil {
			return fmt.Errorf("webhook %s: unexpected answer %q", w.Name, bytes.TrimSpace(answer))
		}
		if *a.ErrCode != 0 {
			return fmt.Errorf("webhook %s: errcode %d: %s", w.Name, *a.ErrCode, a.ErrMsg)
		}
	}
	return nil
}
