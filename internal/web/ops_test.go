package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) {
		c.web.Ready = func(context.Context) error { return errors.New("database down") }
	})
	resp, body := e.do(e.newRequest("GET", "/healthz", nil))
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\" even when not ready", resp.StatusCode, body)
	}
}

func TestReadyz(t *testing.T) {
	var deadline time.Duration
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{"no check", nil, 200, "ok\n"},
		{"ready", func(ctx context.Context) error {
			if d, ok := ctx.Deadline(); ok {
				deadline = time.Until(d)
			}
			return nil
		}, 200, "ok\n"},
		{"not ready", func(context.Context) error { return errors.New("database down") }, 503, "not ready: database down\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *envConfig) { c.web.Ready = tt.ready })
			resp, body := e.do(e.newRequest("GET", "/readyz", nil))
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("GET /readyz = %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if deadline <= 0 || deadline > readyTimeout {
		t.Errorf("Ready got a context with %v left, want at most %v", deadline, readyTimeout)
	}
}

// TestLogRequests checks the request log: one line per request with the
// orderId, at error level for 5xx only, and never a secret or the query.
func TestLogRequests(t *testing.T) {
	e := newTestEnv(t)
	id := e.createPayment(1000, "Socks")
	e.do(e.apiRequest("GET", "/api/payments/"+string(id)+"?t=query-secret", nil))
	e.do(e.apiRequest("GET", "/api/payments/test-nope", nil))

	var lines []string
	for l := range strings.Lines(e.logs.String()) {
		if strings.Contains(l, "msg=request ") {
			lines = append(lines, l)
		}
	}
	tests := []struct {
		path string
		want []string
	}{
		{"path=/api/payments ", []string{"level=DEBUG", "method=POST", "status=201", "duration=", "request_id="}},
		{"path=/api/payments/" + string(id) + " ", []string{"level=DEBUG", "method=GET", "status=200", "order_id=" + string(id)}},
		{"path=/api/payments/test-nope ", []string{"level=DEBUG", "status=404", "order_id=test-nope"}},
	}
	for _, tt := range tests {
		var line string
		for _, l := range lines {
			if strings.Contains(l, tt.path) {
				line = l
			}
		}
		for _, w := range tt.want {
			if !strings.Contains(line, w) {
				t.Errorf("log line with %s = %q, want it to contain %q", tt.path, line, w)
			}
		}
	}
	logs := e.logs.String()
	for _, secret := range []string{testAPIKey, "query-secret", "Authorization", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
}

func TestLogRequestsPanic(t *testing.T) {
	e := newTestEnv(t)
	h := e.server.logRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/payments/test-1", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("a panicking handler = %d, want 500", rec.Code)
	}
	rid := rec.Header().Get("X-Request-Id")
	if !strings.Contains(rec.Body.String(), rid) {
		t.Errorf("a panicking handler's body = %q, want the request id %q", rec.Body, rid)
	}
	logs := e.logs.String()
	for _, want := range []string{"handler panicked", "panic=boom", "level=ERROR msg=request method=GET path=/admin/payments/test-1 status=500"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log after a panic does not contain %q:\n%s", want, logs)
		}
	}
}

func TestOrderIDOfPath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/api/payments/acme-1", "acme-1"},
		{"/api/payments/acme-1/capture", "acme-1"},
		{"/api/payments", ""},
		{"/api/payments/", ""},
		{"/admin/payments/acme-2", "acme-2"},
		{"/admin/payments/acme-2/refund", "acme-2"},
		{"/admin/", ""},
		{"/return/acme-3", "acme-3"},
		{"/return/acme-3/status", "acme-3"},
		{"/shop/orders/A-1", ""},
		{"/healthz", ""},
		{"/return/" + strings.Repeat("x", 80), strings.Repeat("x", 50)},
	}
	for _, tt := range tests {
		if got := orderIDOfPath(tt.path); got != tt.want {
			t.Errorf("orderIDOfPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
