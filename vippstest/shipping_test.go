package vippstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
	"github.com/vippskit/vipps/vippstest"
)

// express initiates an express payment whose callbacks go to m, with
// static shipping options or, when opts is nil, m's shippingDetails.
func express(t *testing.T, srv *vippstest.Server, m *merchant, id vipps.OrderID, opts []vipps.ShippingOption) (vipps.InitiateRequest, *vipps.InitiateResponse) {
	t.Helper()
	req := regular(id, 49900)
	req.MerchantInfo.CallbackPrefix = m.prefix
	req.MerchantInfo.AuthToken = cbToken
	req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
	req.MerchantInfo.ConsentRemovalPrefix = m.prefix
	if opts == nil {
		req.MerchantInfo.ShippingDetailsPrefix = m.prefix
	} else {
		req.MerchantInfo.StaticShippingDetails = opts
	}
	return req, initiate(t, srv.Client, req)
}

var staticOptions = []vipps.ShippingOption{
	{IsDefault: false, Priority: 1, ShippingCost: 99, ShippingMethod: "Posten Servicepakke", ShippingMethodID: "posten"},
	{IsDefault: true, Priority: 2, ShippingCost: 109.99, ShippingMethod: "Home delivery", ShippingMethodID: "home"},
	{IsDefault: false, Priority: 3, ShippingCost: 0, ShippingMethod: "Pick up in store", ShippingMethodID: "pickup"},
}

// callbackBody returns the body of the simulator's only callback.
func callbackBody(t *testing.T, srv *vippstest.Server) map[string]any {
	t.Helper()
	srv.Sim.WaitCallbacks()
	cbs := srv.Sim.Callbacks()
	if len(cbs) != 1 {
		t.Fatalf("Sim.Callbacks() = %+v, want one", cbs)
	}
	var body map[string]any
	if err := json.Unmarshal(cbs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestAppExpressStatic(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	const id = "express-static-1"
	req, res := express(t, srv, m, id, staticOptions)
	app := b.signIn(res, "91234567")
	app.want(t, "app screen", http.StatusOK, "Delivery address", "Home", "Work", "c/o Simulert AS",
		"Shipping", "Home delivery", "109,99\u00a0kr", "Pick up in store", "Share my name, email, phone number and address with Sim Shop")
	if got, want := app.values("shipping"), []string{"posten", "home", "pickup"}; !cmp.Equal(got, want) {
		t.Errorf("shipping options = %q, want %q (by priority)", got, want)
	}
	if !strings.Contains(app.body, `value="home" checked`) {
		t.Errorf("the default option is not picked")
	}
	addrs := app.values("address")
	if len(addrs) != 2 {
		t.Fatalf("addresses = %q, want home and work", addrs)
	}
	work := addrs[1]

	b.act(app, "approve", "address", work, "shipping", "pickup").
		want(t, "approve without consent", http.StatusBadRequest, "agree to share")
	b.act(app, "approve", "address", "1", "shipping", "pickup", "consent", "yes").
		want(t, "approve with an address that is not the user's", http.StatusBadRequest, "Choose a delivery address")
	b.act(app, "approve", "address", work, "shipping", "nope", "consent", "yes").
		want(t, "approve with no such option", http.StatusBadRequest, "Choose a shipping option")
	wantStatus(t, srv, id, vipps.OrderStatusInitiate)

	b.act(app, "approve", "address", work, "shipping", "pickup", "consent", "yes").
		wantRedirect(t, "approve", req.MerchantInfo.FallBack)

	d := details(t, srv.Client, id)
	if d.ShippingDetails == nil || d.UserDetails == nil {
		t.Fatalf("Details = %+v, want shipping and user details", d)
	}
	sd := d.ShippingDetails
	if sd.ShippingMethodID != "pickup" || sd.ShippingMethod != "Pick up in store" || sd.ShippingCost != 0 {
		t.Errorf("shippingDetails = %+v, want the pickup option", sd)
	}
	if sd.Address.AddressLine2 != "c/o Simulert AS" || sd.Address.City == "OSLO" {
		t.Errorf("shippingDetails.address = %+v, want the work address", sd.Address)
	}

	cb := m.callback(t)
	if cb.TransactionInfo.Status != vipps.CallbackReserve || cb.ShippingDetails == nil || cb.UserDetails == nil {
		t.Fatalf("callback = %+v, want RESERVE with shipping and user details", cb)
	}
	if cb.ShippingDetails.ShippingMethodID != "pickup" || cb.ShippingDetails.Address.PostCode != sd.Address.PostCode ||
		cb.ShippingDetails.Address.AddressLine1 != sd.Address.AddressLine1 {
		t.Errorf("callback shippingDetails = %+v, want pickup to %+v", cb.ShippingDetails, sd.Address)
	}
	addr := callbackBody(t, srv)["shippingDetails"].(map[string]any)["address"].(map[string]any)
	if addr["zipCode"] != sd.Address.PostCode || addr["postCode"] != nil {
		t.Errorf("callback address = %v, want zipCode %s", addr, sd.Address.PostCode)
	}
}

// shippingMerchant serves shippingDetails with options that depend on the
// address, and records the requests.
type shippingMerchant struct {
	*merchant
	mu  sync.Mutex
	got []vipps.ShippingDetailsRequest
}

func newShippingMerchant(t *testing.T) *shippingMerchant {
	sm := &shippingMerchant{}
	sm.merchant = newMerchant(t, cbToken, func(c *callback.Config) {
		c.ShippingOptions = func(_ context.Context, _ vipps.OrderID, a *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
			sm.mu.Lock()
			defer sm.mu.Unlock()
			sm.got = append(sm.got, *a)
			return []vipps.ShippingOption{
				{IsDefault: true, Priority: 1, ShippingCost: 99, ShippingMethod: "Posten", ShippingMethodID: "posten"},
				{IsDefault: false, Priority: 2, ShippingCost: 149.5, ShippingMethod: "Express to " + a.City, ShippingMethodID: "express"},
			}, nil
		}
	})
	return sm
}

func (sm *shippingMerchant) requests() []vipps.ShippingDetailsRequest {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return append([]vipps.ShippingDetailsRequest(nil), sm.got...)
}

func TestAppExpressDynamic(t *testing.T) {
	sm := newShippingMerchant(t)
	srv := newServer(t)
	b := newBrowser(t, srv)
	const id = "express-dynamic-1"
	req, res := express(t, srv, sm.merchant, id, nil)

	app := b.signIn(res, "91234567")
	app.want(t, "app screen", http.StatusOK, "Delivery address", "Show shipping options")
	if len(app.values("shipping")) != 0 {
		t.Errorf("options shown before the merchant was asked")
	}
	addrs := app.values("address")
	home, work := addrs[0], addrs[1]

	b.act(app, "address", "address", work).wantRedirect(t, "pick the work address", appURL(res))
	got := sm.requests()
	if len(got) != 1 {
		t.Fatalf("the merchant got %d shippingDetails requests, want 1", len(got))
	}
	if r := got[0]; r.AddressLine2 != "c/o Simulert AS" || r.Country != "NO" || r.AddressType != "W" || len(r.PostCode) != 4 || r.City == "" {
		t.Errorf("shippingDetails request = %+v, want the work address", r)
	}
	calls := srv.Sim.ShippingCalls()
	if len(calls) != 1 || calls[0].StatusCode != 200 || calls[0].Options != 2 || calls[0].Err != "" || !calls[0].Authorized ||
		calls[0].URL != sm.prefix+"/v2/payments/"+id+"/shippingDetails" {
		t.Fatalf("ShippingCalls() = %+v, want one good, authorized call", calls)
	}

	app = b.get(appURL(res))
	app.want(t, "app screen", http.StatusOK, "Posten", "Express to "+got[0].City, "149,50\u00a0kr", "Approve", "Update shipping options")
	if !strings.Contains(app.body, `value="`+work+`" checked`) {
		t.Errorf("the work address is not picked")
	}
	b.act(app, "approve", "address", work, "shipping", "express", "consent", "yes").
		wantRedirect(t, "approve", req.MerchantInfo.FallBack)
	d := details(t, srv.Client, id)
	if d.ShippingDetails == nil || d.ShippingDetails.ShippingMethodID != "express" || d.ShippingDetails.ShippingCost != 149.5 ||
		d.ShippingDetails.Address.PostCode != got[0].PostCode {
		t.Errorf("shippingDetails = %+v, want express to %s", d.ShippingDetails, got[0].PostCode)
	}
	if cb := sm.callback(t); cb.ShippingDetails == nil || cb.ShippingDetails.ShippingMethodID != "express" {
		t.Errorf("callback = %+v, want the express option", cb)
	}

	t.Run("approve for an address not asked about asks first", func(t *testing.T) {
		_, res := express(t, srv, sm.merchant, "express-dynamic-2", nil)
		app := b.signIn(res, "91234567")
		b.act(app, "approve", "address", home, "shipping", "posten").wantRedirect(t, "approve", appURL(res))
		wantStatus(t, srv, "express-dynamic-2", vipps.OrderStatusInitiate)
		calls := srv.Sim.ShippingCalls()
		var body map[string]any
		if err := json.Unmarshal(calls[len(calls)-1].Body, &body); err != nil {
			t.Fatal(err)
		}
		if _, present := body["addressLine2"]; !present || body["addressLine2"] != nil || body["addressType"] != "H" || body["country"] != "NO" {
			t.Errorf("request body = %v, want addressLine2 null for the home address", body)
		}
		b.get(appURL(res)).want(t, "app screen", http.StatusOK, "Posten", "Approve")
	})
}

func TestAppShippingFailures(t *testing.T) {
	// Bodies say %d where the merchant echoes the addressId it got.
	const good = `{"addressId":%d,"orderId":"ship-fail","shippingDetails":[{"isDefault":"Y","priority":1,"shippingCost":10,"shippingMethod":"Posten","shippingMethodId":"posten"}]}`
	tests := []struct {
		name   string
		status int // 0: a callback.Handler whose ShippingOptions never answers
		body   string
		shown  string
		reason string
	}{
		{"slow merchant", 0, "", "No shipping methods found", "no answer within"},
		{"merchant error", 500, `oops`, "No shipping methods found", "answered 500"},
		{"redirect", 302, ``, "No shipping methods found", "answered 302"},
		{"not JSON", 200, `<html>`, "Payment failed", "not a shippingDetails response"},
		{"addressId not echoed", 200, strings.Replace(good, "%d", "1", 1), "Payment failed", "addressId is 1"},
		{"orderId missing", 200, `{"addressId":%d,"shippingDetails":[]}`, "Payment failed", "orderId is missing"},
		{"option without id", 200, `{"addressId":%d,"orderId":"ship-fail","shippingDetails":[{"isDefault":"Y","shippingCost":10,"shippingMethod":"Posten"}]}`, "Payment failed", "shippingMethodId is missing"},
		{"negative cost", 200, strings.Replace(good, `"shippingCost":10`, `"shippingCost":-1`, 1), "Payment failed", "shippingCost"},
		{"no options", 200, `{"addressId":%d,"orderId":"ship-fail","shippingDetails":[]}`, "No shipping methods found", "no shipping options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			vippstest.SetShippingTimeout(srv.Sim, 100*time.Millisecond)
			b := newBrowser(t, srv)
			var m *merchant
			if tt.status == 0 {
				m = newMerchant(t, cbToken, func(c *callback.Config) {
					c.ShippingOptions = func(ctx context.Context, _ vipps.OrderID, _ *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
						<-ctx.Done() // the simulator gives up first
						return nil, ctx.Err()
					}
				})
			} else {
				hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var req vipps.ShippingDetailsRequest
					json.NewDecoder(r.Body).Decode(&req)
					w.WriteHeader(tt.status)
					io.WriteString(w, strings.ReplaceAll(tt.body, "%d", strconv.FormatInt(req.AddressID, 10)))
				}))
				t.Cleanup(hs.Close)
				m = &merchant{prefix: hs.URL + "/vipps"}
			}
			_, res := express(t, srv, m, "ship-fail", nil)
			app := b.signIn(res, "91234567")
			start := time.Now()
			b.act(app, "address", "address", app.values("address")[0]).wantRedirect(t, "pick an address", appURL(res))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the shippingDetails call took %v", d)
			}
			page := b.get(appURL(res))
			page.want(t, "app screen", http.StatusOK, tt.shown, "Show shipping options", "Reject")
			if strings.Contains(page.body, `value="approve"`) {
				t.Errorf("the app offers Approve without shipping options")
			}
			calls := srv.Sim.ShippingCalls()
			if len(calls) != 1 || !strings.Contains(calls[0].Err, tt.reason) {
				t.Errorf("ShippingCalls() = %+v, want one failed with %q", calls, tt.reason)
			}
			wantStatus(t, srv, "ship-fail", vipps.OrderStatusInitiate)
		})
	}
}

func TestApproveHookDynamicShipping(t *testing.T) {
	t.Run("picks the default option for the home address", func(t *testing.T) {
		sm := newShippingMerchant(t)
		srv := newServer(t)
		express(t, srv, sm.merchant, "hook-dyn-1", nil)
		if err := srv.Sim.Approve("hook-dyn-1", ""); err != nil {
			t.Fatalf("Approve = %v", err)
		}
		d := details(t, srv.Client, "hook-dyn-1")
		if d.ShippingDetails == nil || d.ShippingDetails.ShippingMethodID != "posten" || d.ShippingDetails.Address.City != "OSLO" {
			t.Errorf("shippingDetails = %+v, want the default option to the home address", d.ShippingDetails)
		}
		if got := sm.requests(); len(got) != 1 || got[0].AddressType != "H" {
			t.Errorf("shippingDetails requests = %+v, want one for the home address", got)
		}
	})

	t.Run("control API", func(t *testing.T) {
		sm := newShippingMerchant(t)
		srv := newServer(t)
		express(t, srv, sm.merchant, "hook-dyn-2", nil)
		r := newBrowser(t, srv).do(http.MethodPost, "/_sim/payments/hook-dyn-2/approve", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, `"status":"RESERVE"`) {
			t.Errorf("POST approve = %d %s, want 200 and RESERVE", r.status, r.body)
		}
	})

	t.Run("merchant down", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		srv := newServer(t)
		m := &merchant{prefix: dead.URL}
		express(t, srv, m, "hook-dyn-3", nil)
		err := srv.Sim.Approve("hook-dyn-3", "")
		if !errors.Is(err, vippstest.ErrShipping) {
			t.Errorf("Approve = %v, want ErrShipping", err)
		}
		wantStatus(t, srv, "hook-dyn-3", vipps.OrderStatusInitiate)
		r := newBrowser(t, srv).do(http.MethodPost, "/_sim/payments/hook-dyn-3/approve", nil)
		if r.status != http.StatusBadGateway {
			t.Errorf("POST approve = %d %s, want 502", r.status, r.body)
		}
	})
}

func TestCloseWaitsForShippingCalls(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	srv := newServer(t)
	vippstest.SetShippingTimeout(srv.Sim, 300*time.Millisecond)
	express(t, srv, &merchant{prefix: slow.URL}, "close-1", nil)
	done := make(chan error, 1)
	go func() { done <- srv.Sim.Approve("close-1", "") }()
	<-arrived
	srv.Sim.Close()
	if calls := srv.Sim.ShippingCalls(); len(calls) != 1 {
		t.Errorf("after Close, ShippingCalls() = %+v, want the call that was in flight", calls)
	}
	if err := <-done; !errors.Is(err, vippstest.ErrShipping) {
		t.Errorf("Approve = %v, want ErrShipping", err)
	}
}
