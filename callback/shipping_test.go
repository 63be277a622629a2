package callback

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// TestShippingDetailsGolden answers the guide's request with the guide's
// options and expects the guide's answer (testdata/shipping-response.json,
// whose orderId is "123456abc").
func TestShippingDetailsGolden(t *testing.T) {
	const order vipps.OrderID = "123456abc"
	m := newMerchant(t, order)
	cfg := m.config()
	type call struct {
		OrderID vipps.OrderID
		Addr    vipps.ShippingDetailsRequest
	}
	calls := make(chan call, 8)
	cfg.ShippingOptions = func(_ context.Context, id vipps.OrderID, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
		calls <- call{id, *addr}
		return guideOptions, nil
	}
	_, srv := start(t, cfg)

	tests := []struct {
		file string
		want vipps.ShippingDetailsRequest
	}{
		{"shipping-request.json", vipps.ShippingDetailsRequest{AddressID: 3960, AddressLine1: "Dronning Eufemias gate 42", City: "OSLO", Country: "Norway", PostCode: "0191", AddressType: "H"}},
		{"shipping-request-spec.json", vipps.ShippingDetailsRequest{AddressID: 100, AddressLine1: "Dronning Eufemias gate 42", AddressLine2: "c/o Rune Garborg", City: "OSLO", Country: "NO", PostCode: "0154", AddressType: "H"}},
		{"shipping-request-lenient.json", vipps.ShippingDetailsRequest{AddressID: 3961, AddressLine1: "Dronning Eufemias gate 42", City: "Oslo", Country: "Norway", PostCode: "0191"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(order)+"/shippingDetails", m.token(order), testdata(t, tt.file))
			if got.status != 200 {
				t.Fatalf("POST = %d %q, want 200", got.status, got.body)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
				t.Errorf("Content-Type = %q, want application/json;charset=UTF-8", ct)
			}
			if diff := cmp.Diff(call{order, tt.want}, receive(t, calls)); diff != "" {
				t.Errorf("ShippingOptions arguments mismatch (-want +got):\n%s", diff)
			}
			want := decodeJSON(t, testdata(t, "shipping-response.json"))
			want.(map[string]any)["addressId"] = float64(tt.want.AddressID) // echoed
			if diff := cmp.Diff(want, decodeJSON(t, got.body)); diff != "" {
				t.Errorf("answer mismatch (-want +got):\n%s", diff)
			}
			validateShippingResponse(t, []byte(got.body))
		})
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

// TestShippingDetailsFallback covers every way ShippingOptions can fail, with
// and without fallback options. The deadline is short; a merchant that
// ignores it is still blocked when the answer arrives.
func TestShippingDetailsFallback(t *testing.T) {
	free := []vipps.ShippingOption{{IsDefault: true, Priority: 1, ShippingCost: 0, ShippingMethod: "Pick up in store", ShippingMethodID: "pickup"}}
	tests := []struct {
		name     string
		options  func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error)
		stuck    bool // options is replaced by one that ignores its deadline
		fallback []vipps.ShippingOption
		want     int
		wantOpts []vipps.ShippingOption
		reason   string
	}{
		{"error, fallback", fail2(errors.New("carrier API down")), false, free, 200, free, ""},
		{"error, no fallback", fail2(errors.New("carrier API down")), false, nil, 503, nil, "carrier API down"},
		{"deadline honoured, fallback", func(ctx context.Context, _ vipps.OrderID, _ *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, false, free, 200, free, ""},
		{name: "deadline ignored, fallback", stuck: true, fallback: free, want: 200, wantOpts: free},
		{name: "deadline ignored, no fallback", stuck: true, want: 503, reason: "did not answer within"},
		{"panic, fallback", func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
			panic("merchant bug")
		}, false, free, 200, free, ""},
		{"NaN cost, fallback", ok2([]vipps.ShippingOption{{ShippingCost: vipps.NOK(math.NaN()), ShippingMethod: "x", ShippingMethodID: "x"}}), false, free, 200, free, ""},
		{"negative cost, no fallback", ok2([]vipps.ShippingOption{{ShippingCost: -1, ShippingMethod: "x", ShippingMethodID: "x"}}), false, nil, 503, nil, "shippingCost -1"},
		{"no method, no fallback", ok2([]vipps.ShippingOption{{ShippingCost: 1, ShippingMethodID: "x"}}), false, nil, 503, nil, "shippingMethod is empty"},
		{"repeated id, no fallback", ok2([]vipps.ShippingOption{
			{ShippingCost: 1, ShippingMethod: "a", ShippingMethodID: "x"}, {ShippingCost: 2, ShippingMethod: "b", ShippingMethodID: "x"},
		}), false, nil, 503, nil, `shippingMethodId "x" is used twice`},
		{"long id, no fallback", ok2([]vipps.ShippingOption{{ShippingCost: 1, ShippingMethod: "a", ShippingMethodID: strings.Repeat("x", 101)}}), false, nil, 503, nil, "longer than 100"},
		{"no options", ok2(nil), false, free, 200, []vipps.ShippingOption{}, ""},
		{"free shipping", ok2(free), false, nil, 200, free, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMerchant(t)
			cfg := m.config()
			cfg.ShippingOptions = tt.options
			cfg.FallbackShippingOptions = tt.fallback
			cfg.ShippingTimeout = 20 * time.Millisecond
			stuck := make(chan struct{})
			if tt.stuck {
				cfg.ShippingOptions = func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
					<-stuck
					return guideOptions, nil
				}
			}
			_, srv := start(t, cfg)
			t.Cleanup(func() { close(stuck) }) // before Shutdown, which waits for it
			got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder)+"/shippingDetails", m.token(testOrder), testdata(t, "shipping-request.json"))
			if got.status != tt.want || !strings.Contains(got.body, tt.reason) {
				t.Fatalf("POST = %d %q, want %d with %q", got.status, got.body, tt.want, tt.reason)
			}
			if tt.want != 200 {
				return
			}
			var resp vipps.ShippingDetailsResponse
			if err := json.Unmarshal([]byte(got.body), &resp); err != nil {
				t.Fatal(err)
			}
			want := vipps.ShippingDetailsResponse{AddressID: 3960, OrderID: testOrder, ShippingDetails: tt.wantOpts}
			if diff := cmp.Diff(want, resp); diff != "" {
				t.Errorf("answer mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(got.body, `"shippingDetails":[`) {
				t.Errorf("answer %s: shippingDetails is not an array", got.body)
			}
			validateShippingResponse(t, []byte(got.body))
		})
	}
}

func ok2(opts []vipps.ShippingOption) func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
	return func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
		return opts, nil
	}
}

func fail2(err error) func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
	return func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
		return nil, err
	}
}

// TestShippingDetailsShutdownWaits checks that Shutdown waits for a
// ShippingOptions call that outlived its request.
func TestShippingDetailsShutdownWaits(t *testing.T) {
	m := newMerchant(t)
	stuck, returned := make(chan struct{}), make(chan struct{})
	cfg := m.config()
	cfg.ShippingTimeout = time.Millisecond
	cfg.ShippingOptions = func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
		<-stuck
		close(returned)
		return nil, nil
	}
	h, srv := start(t, cfg)
	if got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder)+"/shippingDetails", m.token(testOrder), testdata(t, "shipping-request.json")); got.status != 503 {
		t.Fatalf("POST = %d %q, want 503", got.status, got.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown(ended ctx) = nil while ShippingOptions runs, want an error")
	}
	close(stuck)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	select {
	case <-returned:
	default:
		t.Error("Shutdown returned before ShippingOptions did")
	}
	if got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder)+"/shippingDetails", m.token(testOrder), testdata(t, "shipping-request.json")); got.status != 503 {
		t.Errorf("POST after Shutdown = %d %q, want 503", got.status, got.body)
	}
}

func TestShippingDetailsAuth(t *testing.T) {
	m := newMerchant(t)
	_, srv := start(t, m.config())
	url := srv.URL + "/vipps/v2/payments/" + string(testOrder) + "/shippingDetails"
	tok := m.token(testOrder)
	tests := []struct {
		name, order, auth string
		want              int
	}{
		{"raw token", string(testOrder), tok, 200},
		{"Bearer token", string(testOrder), "Bearer " + tok, 200},
		{"missing", string(testOrder), "", 401},
		{"wrong", string(testOrder), "ae0cb90d91b4a84a", 401},
		{"unknown orderId", "acme-unknown", tok, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := m.calls.Load()
			got := send(t, "POST", strings.Replace(url, string(testOrder), tt.order, 1), tt.auth, testdata(t, "shipping-request.json"))
			if got.status != tt.want {
				t.Fatalf("POST = %d %q, want %d", got.status, got.body, tt.want)
			}
			wantCalls := int32(0)
			if tt.want == 200 {
				wantCalls = 1
			}
			if n := m.calls.Load() - calls; n != wantCalls {
				t.Errorf("ShippingOptions called %d times, want %d", n, wantCalls)
			}
		})
	}
}

func TestShippingDetailsNotServed(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.ShippingOptions = nil
	_, srv := start(t, cfg)
	got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder)+"/shippingDetails", m.token(testOrder), testdata(t, "shipping-request.json"))
	if got.status != 404 {
		t.Errorf("POST without ShippingOptions = %d %q, want 404", got.status, got.body)
	}
}
