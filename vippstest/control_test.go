package vippstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// control calls the control API.
func control(t *testing.T, srv *vippstest.Server, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, b := send(t, http.DefaultClient, req)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s = %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func TestControlAPI(t *testing.T) {
	srv := newServer(t)
	c := srv.Client
	initiate(t, c, regular("ctl-1", 20000))
	initiate(t, c, regular("ctl-2", 20000))
	initiate(t, c, regular("ctl-3", 20000))

	var p vippstest.Payment
	if status := control(t, srv, "POST", "/_sim/payments/ctl-1/approve", `{"phoneNumber":"97777777"}`, &p); status != 200 {
		t.Fatalf("approve = %d", status)
	}
	if p.Status != vipps.OrderStatusReserve || p.PhoneNumber != "97777777" || p.Summary.RemainingAmountToCapture != 20000 {
		t.Errorf("approve answer = %+v, want RESERVE by 97777777", p)
	}
	if status := control(t, srv, "POST", "/_sim/payments/ctl-2/reject", "", &p); status != 200 || p.Status != vipps.OrderStatusCancel {
		t.Errorf("reject = %d %+v, want CANCEL", status, p)
	}
	if status := control(t, srv, "POST", "/_sim/payments/ctl-3/expire", "", &p); status != 200 || p.Status != vipps.OrderStatusRejected {
		t.Errorf("expire = %d %+v, want REJECTED", status, p)
	}

	var e struct{ Error string }
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/_sim/payments/ctl-1/approve", "", http.StatusConflict},
		{"POST", "/_sim/payments/nope/approve", "", http.StatusNotFound},
		{"POST", "/_sim/payments/ctl-1/approve", `{"phone":"1"}`, http.StatusBadRequest},
		{"POST", "/_sim/clock/advance", `{"duration":"soon"}`, http.StatusBadRequest},
		{"GET", "/_sim/payments/nope", "", http.StatusNotFound},
	} {
		if status := control(t, srv, tt.method, tt.path, tt.body, &e); status != tt.status || e.Error == "" {
			t.Errorf("%s %s = %d %q, want %d with an error", tt.method, tt.path, status, e.Error, tt.status)
		}
	}

	var got vippstest.Payment
	if status := control(t, srv, "GET", "/_sim/payments/ctl-1", "", &got); status != 200 {
		t.Fatalf("GET payment = %d", status)
	}
	want, err := srv.Sim.Payment("ctl-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Errorf("GET /_sim/payments/ctl-1 (-Sim.Payment +control):\n%s", diff)
	}
	var all []vippstest.Payment
	if control(t, srv, "GET", "/_sim/payments", "", &all); len(all) != 3 || all[0].OrderID != "ctl-1" || all[2].OrderID != "ctl-3" {
		t.Errorf("GET /_sim/payments = %d payments, want ctl-1..3 in order", len(all))
	}

	var clock struct{ Now time.Time }
	if control(t, srv, "POST", "/_sim/clock/advance", `{"duration":"90m"}`, &clock); !clock.Now.Equal(start.Add(90 * time.Minute)) {
		t.Errorf("advance = %v, want %v", clock.Now, start.Add(90*time.Minute))
	}
	if control(t, srv, "GET", "/_sim/clock", "", &clock); !clock.Now.Equal(srv.Sim.Now()) {
		t.Errorf("clock = %v, want %v", clock.Now, srv.Sim.Now())
	}

	var reqs []vippstest.Request
	control(t, srv, "GET", "/_sim/requests", "", &reqs)
	if len(reqs) != len(srv.Sim.Requests()) || len(reqs) == 0 {
		t.Errorf("GET /_sim/requests has %d entries, Sim.Requests %d", len(reqs), len(srv.Sim.Requests()))
	}
	srv.Sim.WaitCallbacks()
	var cbs []vippstest.Callback
	if control(t, srv, "GET", "/_sim/callbacks", "", &cbs); len(cbs) != 3 {
		t.Errorf("GET /_sim/callbacks = %d entries, want 3", len(cbs))
	}

	// Browsers on other sites may not drive the control API.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/_sim/clock/advance", strings.NewReader(`{"duration":"1m"}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", resp.StatusCode)
	}
}

func TestRequestLog(t *testing.T) {
	srv := newServer(t)
	client := srv.NewClient(srv.Merchant, func(c *vipps.Config) {
		c.SystemName, c.SystemVersion, c.PluginName, c.PluginVersion = "acme", "3.1.2", "acme-webshop", "4.5.6"
	})
	req := regular("log-1", 20000)
	req.MerchantInfo.CallbackPrefix = "http://127.0.0.1:9/vipps"
	initiate(t, client, req)
	if _, err := client.Capture(t.Context(), "log-1", vipps.CaptureRequest{TransactionText: "x", RequestID: "cap-key"}); err == nil {
		t.Fatal("Capture before approval = nil, want an error")
	}

	reqs := srv.Sim.Requests()
	var ops []string
	for _, r := range reqs {
		ops = append(ops, r.Op)
	}
	if diff := cmp.Diff([]string{"accesstoken", "initiate", "capture"}, ops); diff != "" {
		t.Fatalf("request log ops (-want +got):\n%s", diff)
	}
	tok, ini, capt := reqs[0], reqs[1], reqs[2]
	for name, want := range map[string]string{
		"Vipps-System-Name": "acme", "Vipps-System-Version": "3.1.2",
		"Vipps-System-Plugin-Name": "acme-webshop", "Vipps-System-Plugin-Version": "4.5.6",
		"Merchant-Serial-Number": "123456", "Authorization": "Bearer [redacted]", "Ocp-Apim-Subscription-Key": "[redacted]",
	} {
		if got := ini.Header.Get(name); got != want {
			t.Errorf("initiate header %s = %q, want %q", name, got, want)
		}
	}
	if got := tok.Header.Get("client_secret"); got != "[redacted]" {
		t.Errorf("token request client_secret = %q, want it redacted", got)
	}
	if tok.Header.Get("client_id") != "sim-client-id" || tok.MSN != "123456" || tok.Status != 200 {
		t.Errorf("token request = %+v", tok)
	}
	if ini.OrderID != "log-1" || ini.MSN != "123456" || ini.Status != 200 || !ini.Time.Equal(start) || !strings.Contains(ini.Body, `"orderId":"log-1"`) {
		t.Errorf("initiate request = %+v", ini)
	}
	if len(ini.Warnings) != 1 || !strings.Contains(ini.Warnings[0], "merchantInfo.callbackPrefix uses http://127.0.0.1:9") {
		t.Errorf("initiate warnings = %q, want one about the http callbackPrefix", ini.Warnings)
	}
	if capt.RequestID != "cap-key" || capt.Status != 400 || capt.OrderID != "log-1" {
		t.Errorf("capture request = %+v", capt)
	}
}

func TestLandingPage(t *testing.T) {
	srv := newServer(t)
	res := initiate(t, srv.Client, regular("landing-1", 49900))
	for _, tt := range []struct {
		url    string
		status int
		want   string
	}{
		{res.URL, 200, "landing-1"},
		{srv.URL + "/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=nope", 404, "No payment"},
	} {
		resp, err := http.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want %d with %q", tt.url, resp.StatusCode, b, tt.status, tt.want)
		}
	}
	if len(srv.Sim.Requests()) != 2 { // token and initiate; the page is not an API call
		t.Errorf("request log has %d entries, want 2", len(srv.Sim.Requests()))
	}
}

func TestNew(t *testing.T) {
	m := vippstest.DefaultMerchant()
	bad := m
	bad.MSN = "12"
	noKey := m
	noKey.SubscriptionKey = ""
	other := directMerchant
	other.ClientID = m.ClientID
	tests := []struct {
		name string
		cfg  vippstest.Config
		want string // in the error; "" means valid
	}{
		{"zero", vippstest.Config{}, ""},
		{"two merchants", vippstest.Config{Merchants: []vippstest.Merchant{m, directMerchant}}, ""},
		{"bad MSN", vippstest.Config{Merchants: []vippstest.Merchant{bad}}, "5 or 6 digits"},
		{"missing key", vippstest.Config{Merchants: []vippstest.Merchant{noKey}}, "SubscriptionKey"},
		{"same MSN twice", vippstest.Config{Merchants: []vippstest.Merchant{m, m}}, "used twice"},
		{"same client id", vippstest.Config{Merchants: []vippstest.Merchant{m, other}}, "unique"},
		{"token lifetime too short", vippstest.Config{TokenLifetime: time.Millisecond}, "TokenLifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := vippstest.New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				s.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error saying %q", err, tt.want)
			}
		})
	}

	s, _ := vippstest.New(vippstest.Config{})
	defer s.Close()
	if got := s.Merchants(); len(got) != 1 || got[0] != vippstest.DefaultMerchant() {
		t.Errorf("Merchants() = %+v, want DefaultMerchant()", got)
	}
}

// TestControlFromLoopbackOnly: with the option, the control API answers
// loopback clients only, and the pages a customer opens stay open to all.
func TestControlFromLoopbackOnly(t *testing.T) {
	sim, err := vippstest.New(vippstest.Config{ControlFromLoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	open, err := vippstest.New(vippstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	tests := []struct {
		name, method, path, remote string
		sim                        *vippstest.Simulator
		want                       int
	}{
		{"payments from elsewhere", "GET", "/_sim/payments", "192.0.2.7:4000", sim, http.StatusForbidden},
		{"callbacks from elsewhere", "GET", "/_sim/callbacks", "[2001:db8::1]:4000", sim, http.StatusForbidden},
		{"approve from elsewhere", "POST", "/_sim/payments/x/approve", "192.0.2.7:4000", sim, http.StatusForbidden},
		{"faults from elsewhere", "GET", "/_sim/faults", "10.0.0.1:4000", sim, http.StatusForbidden},
		{"no remote address", "GET", "/_sim/clock", "", sim, http.StatusForbidden},
		{"payments from loopback", "GET", "/_sim/payments", "127.0.0.1:4000", sim, http.StatusOK},
		{"callbacks from ::1", "GET", "/_sim/callbacks", "[::1]:4000", sim, http.StatusOK},
		{"history page from elsewhere", "GET", "/_sim/users/91234567", "192.0.2.7:4000", sim, http.StatusOK},
		{"app stylesheet from elsewhere", "GET", "/_sim/static/app.css", "192.0.2.7:4000", sim, http.StatusOK},
		{"without the option", "GET", "/_sim/payments", "192.0.2.7:4000", open, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			tt.sim.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("%s %s from %q = %d %s, want %d", tt.method, tt.path, tt.remote, w.Code, w.Body, tt.want)
			}
			if w.Code == http.StatusForbidden {
				var body struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, "loopback clients only") {
					t.Errorf("403 body = %s (%v), want an error that says loopback clients only", w.Body, err)
				}
			}
		})
	}
}
