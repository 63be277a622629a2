package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/sqlite"
)

func TestEndpoint(t *testing.T) {
	for _, tt := range []struct{ method, path, want string }{
		{"POST", "/accesstoken/get", "token"},
		{"POST", "/accessToken/get", "token"},
		{"POST", "/ecomm/v2/payments", "initiate"},
		{"POST", "/ecomm/v2/payments/", "initiate"},
		{"POST", "/ecomm/v2/payments/acme-1/capture", "capture"},
		{"POST", "/ecomm/v2/payments/acme-1/refund", "refund"},
		{"PUT", "/ecomm/v2/payments/acme-1/cancel", "cancel"},
		{"GET", "/ecomm/v2/payments/acme-1/details", "details"},
		{"GET", "/ecomm/v2/payments/acme-1/status", "status"},
		{"POST", "/ecomm/v2/integration-test/payments/acme-1/approve", "other"},
		{"PUT", "/order-management/v2/ecom/categories/acme-1", "om_category"},
		{"POST", "/order-management/v2/ecom/receipts/acme-1", "om_receipt"},
		{"GET", "/order-management/v2/ecom/acme-1", "om_order"},
		{"GET", "/elsewhere", "other"},
	} {
		if got := Endpoint(tt.method, tt.path); got != tt.want {
			t.Errorf("Endpoint(%s, %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &payment.Payment{OrderID: "m-1", State: payment.Reserved, Kind: payment.Regular, MSN: "123456"}
	if err := st.Create(t.Context(), p, payment.Event{Type: payment.EventReserved, State: payment.Reserved,
		Tasks: []payment.Task{{Kind: payment.TaskWebhook}}}); err != nil {
		t.Fatal(err)
	}
	m := New(Config{Stats: st})

	vipps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer vipps.Close()
	c := &http.Client{Transport: m.Transport(nil)}
	resp, err := c.Get(vipps.URL + "/ecomm/v2/payments/m-1/details")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/vipps/v2/payments/m-1", nil))
	m.TaskAttempt(payment.TaskWebhook, nil)
	m.Poll(nil)
	m.Poll(fmt.Errorf("check: %w", payment.Unavailable(errors.New("database or disk is full"))))
	m.Poll(errors.New("vipps: HTTP 500"))

	want := `
# HELP vippskit_payments Payments by state.
# TYPE vippskit_payments gauge
vippskit_payments{state="captured"} 0
vippskit_payments{state="cancelled"} 0
vippskit_payments{state="created"} 0
vippskit_payments{state="failed"} 0
vippskit_payments{state="initiated"} 0
vippskit_payments{state="refunded"} 0
vippskit_payments{state="reserved"} 1
vippskit_payments{state="voided"} 0
# HELP vippskit_tasks The outbox's tasks (webhooks, receipts, releases of superseded payments, consent checks) by kind and status.
# TYPE vippskit_tasks gauge
vippskit_tasks{kind="webhook",status="pending"} 1
# HELP vippskit_vipps_requests_total Requests to Vipps by endpoint and HTTP status ("error" when no answer came).
# TYPE vippskit_vipps_requests_total counter
vippskit_vipps_requests_total{code="418",endpoint="details"} 1
# HELP vippskit_http_requests_total Requests to the service by route group (api, callback, return, admin, shop, other) and status.
# TYPE vippskit_http_requests_total counter
vippskit_http_requests_total{code="401",route="callback"} 1
# HELP vippskit_task_attempts_total Attempts of the outbox's tasks (webhooks, receipts, releases of superseded payments, consent checks) by kind and outcome (ok, error, database_unavailable).
# TYPE vippskit_task_attempts_total counter
vippskit_task_attempts_total{kind="webhook",outcome="ok"} 1
# HELP vippskit_polls_total Payment checks by the poller by outcome (ok, error, database_unavailable).
# TYPE vippskit_polls_total counter
vippskit_polls_total{outcome="database_unavailable"} 1
vippskit_polls_total{outcome="error"} 1
vippskit_polls_total{outcome="ok"} 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"vippskit_payments", "vippskit_tasks", "vippskit_vipps_requests_total", "vippskit_http_requests_total",
		"vippskit_task_attempts_total", "vippskit_polls_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.vippsDuration); n != 1 {
		t.Errorf("latency series = %d, want 1", n)
	}
}
