package alerting

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kpimon/kpimon/kpi"
)

func TestWebhookErrorsDoNotCarryTheRobotKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: the request fails to connect
	for _, typ := range []string{"wecom", "dingtalk"} {
		w := &webhook{Webhook: kpi.Webhook{Name: "群", Type: typ, URL: "http://" + addr + "/send?key=SECRETKEY&access_token=SECRETTOKEN", Secret: map[string]string{"dingtalk": "SECsecret"}[typ]},
			client: &http.Client{Timeout: 2 * time.Second}}
		err := w.send(context.Background(), message{event: "alerts", title: "测试", items: []item{{text: "- 一条", n: 1}}})
		if err == nil {
			t.Fatalf("%s: sending to a closed port succeeded", typ)
		}
		for _, secret := range []string{"SECRETKEY", "SECRETTOKEN", "sign="} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q leaks %s", typ, err, secret)
			}
		}
	}
}
