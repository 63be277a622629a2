package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// create starts a payment as a shop would, through the service.
func (e *shopEnv) create(req payment.CreateRequest) *payment.Payment {
	e.t.Helper()
	if req.Text == "" {
		req.Text = "Kaffe"
	}
	p, err := e.svc.Create(e.t.Context(), req)
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return p
}

// waitCallbackError waits until the payment's callback has stored the
// error it reports.
func (e *shopEnv) waitCallbackError(id vipps.OrderID) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := e.svc.Get(e.t.Context(), id)
		if err != nil {
			return err
		}
		if p.LastError != nil && p.LastError.Op == "callback" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("payment %s: no error from its callback after 5 s (state %s)", id, p.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReturnPageOutcomes(t *testing.T) {
	e := newShopEnv(t)
	tests := []struct {
		name   string
		amount vipps.Amount
		act    func(id vipps.OrderID) error
		want   []string
		// waiting pages refresh themselves.
		waiting bool
	}{
		{
			name: "approved", amount: 1234_50, act: func(id vipps.OrderID) error { return e.sim.Sim.Approve(id, "") },
			want: []string{"Payment approved in Vipps — thank you", "1\u00a0234,50\u00a0kr"},
		},
		{
			name: "waiting", amount: 149_00,
			want:    []string{"Waiting for Vipps…", "149,00\u00a0kr", `<noscript><meta http-equiv="refresh" content="2"></noscript>`, `<script src="/static/return.js" defer></script>`},
			waiting: true,
		},
		{
			name: "rejected", amount: 149_00, act: e.sim.Sim.Reject,
			want: []string{"Payment cancelled", "The payment with Vipps was cancelled. No money has been taken."},
		},
		{
			name: "expired", amount: 149_00, act: e.sim.Sim.Expire,
			want: []string{"Payment cancelled", "The payment with Vipps was cancelled. No money has been taken."},
		},
		{
			// 151 øre: the bank refuses (the simulator's insufficient
			// funds); the callback says why, which /details does not.
			name: "failed", amount: 1_51, act: func(id vipps.OrderID) error {
				if err := e.sim.Sim.Approve(id, ""); err != nil {
					return err
				}
				return e.waitCallbackError(id)
			},
			want: []string{"Payment with Vipps failed", "Your bank refused the payment. Contact your bank, or pay with another card.", "1,51\u00a0kr", `">Try again</a>`},
		},
		{
			// The same, but the callback never comes: the page says what
			// /details says, with the general text.
			name: "failed without callback", amount: 1_51, act: func(id vipps.OrderID) error {
				if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop, OrderID: id}); err != nil {
					return err
				}
				return e.sim.Sim.Approve(id, "")
			},
			want: []string{"Payment with Vipps failed", "The payment could not be completed. No money has been taken.", "1,51\u00a0kr", `">Try again</a>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.create(payment.CreateRequest{Amount: tt.amount})
			if tt.act != nil {
				if err := tt.act(p.OrderID); err != nil {
					t.Fatal(err)
				}
			}
			res := e.get(e.svc.ReturnURL(p.OrderID))
			if res.Status != http.StatusOK {
				t.Fatalf("GET the return page = %d, want 200; body:\n%s", res.Status, res.Body)
			}
			mustContain(t, "the return page", res.Body, tt.want...)
			mustContain(t, "the return page", res.Body, "TEST MODE: payments go to the vippskit simulator", string(p.OrderID))
			if !tt.waiting {
				mustNotContain(t, "a final return page", res.Body, "refresh", "return.js", "data-status-url")
			}
			for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "Content-Type": "text/html; charset=utf-8"} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("return page %s = %q, want %q", k, got, want)
				}
			}
			if m := externalResource.FindString(res.Body); m != "" {
				t.Errorf("the return page loads %q from elsewhere", m)
			}
		})
	}
}

func TestReturnPageToken(t *testing.T) {
	e := newShopEnv(t)
	p := e.create(payment.CreateRequest{Amount: 149_00})
	other := e.create(payment.CreateRequest{Amount: 149_00})
	base := e.url + "/return/" + string(p.OrderID)
	tests := []struct {
		name string
		url  string
	}{
		{"missing", base},
		{"empty", base + "?t="},
		{"wrong", base + "?t=AAAAAAAAAAAAAAAAAAAAAAAA"},
		{"another order's", base + "?t=" + e.svc.ReturnToken(other.OrderID)},
		{"unknown order", e.svc.ReturnURL("test-nosuchorder")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, u := range []string{tt.url, strings.Replace(tt.url, string(p.OrderID), string(p.OrderID)+"/status", 1)} {
				res := e.get(u)
				if res.Status != http.StatusNotFound {
					t.Errorf("GET %s = %d, want 404", u, res.Status)
				}
				mustNotContain(t, "the 404", res.Body, string(p.OrderID), "149,00\u00a0kr", "Waiting")
			}
		})
	}
	if res := e.get(e.svc.ReturnURL(p.OrderID)); res.Status != http.StatusOK {
		t.Errorf("GET the right return URL = %d, want 200", res.Status)
	}
	mustContain(t, "the 404 page", e.get(base).Body, "Page not found")
}

func TestReturnStatus(t *testing.T) {
	e := newShopEnv(t)
	p := e.create(payment.CreateRequest{Amount: 149_00})
	status := strings.Replace(e.svc.ReturnURL(p.OrderID), "?t=", "/status?t=", 1)

	// The page names the status URL for return.js.
	page := e.get(e.svc.ReturnURL(p.OrderID))
	mustContain(t, "the waiting return page", page.Body, `data-status-url="/return/`+string(p.OrderID)+`/status?t=`+e.svc.ReturnToken(p.OrderID)+`"`)

	read := func() returnStatusBody {
		t.Helper()
		res := e.get(status)
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET status = %d %q %q, want 200 application/json no-store", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
		var b returnStatusBody
		if err := json.Unmarshal([]byte(res.Body), &b); err != nil {
			t.Fatalf("GET status: %v in %s", err, res.Body)
		}
		return b
	}
	if diff := cmp.Diff(returnStatusBody{Outcome: "waiting", State: payment.Initiated, Waiting: true}, read()); diff != "" {
		t.Errorf("status while waiting (-want +got):\n%s", diff)
	}
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(returnStatusBody{Outcome: "approved", State: payment.Reserved}, read()); diff != "" {
		t.Errorf("status after approval (-want +got):\n%s", diff)
	}
}

func TestReturnPageVippsDown(t *testing.T) {
	e := newShopEnv(t)
	p := e.create(payment.CreateRequest{Amount: 149_00})
	// Only the return page asks Vipps: the callback is lost.
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultTimeout, Op: "details"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := e.get(e.svc.ReturnURL(p.OrderID))
	if took := time.Since(start); took > returnCheckTimeout+2*time.Second {
		t.Errorf("the return page took %v while Vipps hangs; want about %v", took, returnCheckTimeout)
	}
	// Vipps does not answer: the stored state, and the page keeps trying.
	if res.Status != http.StatusOK {
		t.Fatalf("GET the return page = %d, want 200", res.Status)
	}
	mustContain(t, "the return page", res.Body, "Waiting for Vipps…", `http-equiv="refresh"`)
}

func TestReturnPageStoreDown(t *testing.T) {
	e := newShopEnv(t)
	p := e.create(payment.CreateRequest{Amount: 149_00})
	e.store.Close()
	res := e.get(e.svc.ReturnURL(p.OrderID))
	if res.Status != http.StatusServiceUnavailable {
		t.Errorf("GET the return page with the database down = %d, want 503", res.Status)
	}
	mustContain(t, "the return page", res.Body, "We could not look up your payment just now", `http-equiv="refresh"`)
}

func TestBackToShop(t *testing.T) {
	tests := []struct {
		name      string
		demo      bool
		p         payment.Payment
		wantHref  string
		wantLabel string
	}{
		{
			name:     "return URL",
			p:        payment.Payment{OrderID: "acme-1", State: payment.Reserved, ReturnURL: "https://shop.example/thanks"},
			wantHref: "https://shop.example/thanks?orderId=acme-1&status=reserved", wantLabel: "Back to the shop",
		},
		{
			name:     "return URL with a query and a fragment",
			demo:     true,
			p:        payment.Payment{OrderID: "acme-2", State: payment.Cancelled, ReturnURL: "https://shop.example/r?cart=7&b=a%20b#top"},
			wantHref: "https://shop.example/r?cart=7&b=a%20b&orderId=acme-2&status=cancelled#top", wantLabel: "Try again",
		},
		{
			name:     "failed, return URL",
			p:        payment.Payment{OrderID: "acme-3", State: payment.Failed, ReturnURL: "https://shop.example/r"},
			wantHref: "https://shop.example/r?orderId=acme-3&status=failed", wantLabel: "Try again",
		},
		{
			name:     "failed demo order",
			demo:     true,
			p:        payment.Payment{OrderID: "x", ShopRef: "demo-abc234", State: payment.Failed},
			wantHref: "/shop/orders/demo-abc234", wantLabel: "Try again",
		},
		{
			name:     "demo order",
			demo:     true,
			p:        payment.Payment{OrderID: "x", ShopRef: "demo-abc234"},
			wantHref: "/shop/orders/demo-abc234", wantLabel: "See your order",
		},
		{
			name:     "demo shop, another shop's order",
			demo:     true,
			p:        payment.Payment{OrderID: "x", ShopRef: "10042"},
			wantHref: "/", wantLabel: "Back to the shop",
		},
		{name: "nowhere", p: payment.Payment{OrderID: "x", ShopRef: "demo-abc234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{DemoShop: tt.demo}}
			href, label := s.backToShop(&tt.p)
			if href != tt.wantHref || label != tt.wantLabel {
				t.Errorf("backToShop = %q, %q, want %q, %q", href, label, tt.wantHref, tt.wantLabel)
			}
			if href != "" {
				if _, err := url.Parse(href); err != nil {
					t.Errorf("backToShop = %q: %v", href, err)
				}
			}
		})
	}
}
