package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// TestSimTrigger runs every scenario of "vipps sim trigger" against a
// running "vipps sim" and checks what the simulator did and what the shop's
// callback endpoint received.
func TestSimTrigger(t *testing.T) {
	var mu sync.Mutex
	var got []string // callback bodies
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	t.Cleanup(shop.Close)

	base, _, _, _ := startSim(t, nil)
	m := vippstest.DefaultMerchant()
	c, err := vipps.New(vipps.Config{BaseURL: base, ClientID: m.ClientID, ClientSecret: vipps.Secret(m.ClientSecret),
		SubscriptionKey: vipps.Secret(m.SubscriptionKey), MerchantSerialNumber: m.MSN})
	if err != nil {
		t.Fatal(err)
	}
	initiate := func(id vipps.OrderID, express bool) {
		t.Helper()
		req := vipps.InitiateRequest{
			MerchantInfo: vipps.MerchantInfo{CallbackPrefix: shop.URL + "/vipps", FallBack: shop.URL + "/return"},
			Transaction:  vipps.InitiateTransaction{OrderID: id, Amount: 20000, TransactionText: "Socks"},
		}
		if express {
			req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
			req.MerchantInfo.ConsentRemovalPrefix = shop.URL + "/vipps"
			req.MerchantInfo.StaticShippingDetails = []vipps.ShippingOption{
				{IsDefault: true, ShippingCost: 49, ShippingMethod: "Posten", ShippingMethodID: "posten"},
			}
		}
		if _, err := c.Initiate(t.Context(), req); err != nil {
			t.Fatalf("Initiate(%s) = %v", id, err)
		}
	}
	trigger := func(args ...string) (string, error) {
		t.Helper()
		var out strings.Builder
		e := &env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		err := runSim(t.Context(), e, append(append([]string{"trigger"}, args...), "-sim", base))
		return out.String(), err
	}
	tests := []struct {
		scenario string
		order    vipps.OrderID
		express  bool
		args     []string
		out      string // in the output
		callback string // in the callback
	}{
		{"approved", "trig-approved", false, nil, "order trig-approved: approved, status RESERVE, user 91234567", `"status":"RESERVED"`},
		{"rejected", "trig-rejected", false, nil, "status CANCEL", `"status":"CANCELLED"`},
		{"failed-card", "trig-failed", false, nil, "status FAILED, user 40000044", `"errorCode":"44"`},
		{"expired", "trig-expired", false, nil, "status REJECTED", `"status":"REJECTED"`},
		{"express-address", "trig-express", true, nil, "shipping: Posten (posten)", `"shippingMethodId":"posten"`},
		{"approved", "trig-by-order", false, []string{"-order", "trig-by-order", "-phone", "98765432"}, "user 98765432", `"status":"RESERVED"`},
		{"resend-callback", "", false, []string{"-order", "trig-failed"}, "order trig-failed: callback RESERVE_FAILED sent again", `"errorCode":"44"`},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+" "+string(tt.order), func(t *testing.T) {
			if tt.order != "" {
				initiate(tt.order, tt.express)
				if tt.args == nil {
					initiate(tt.order+"-other", false) // older, not waiting for this scenario: cancel it
					if _, err := c.Cancel(t.Context(), tt.order+"-other", vipps.CancelRequest{TransactionText: "x"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			mu.Lock()
			before := len(got)
			mu.Unlock()
			out, err := trigger(append([]string{tt.scenario}, tt.args...)...)
			if err != nil || !strings.Contains(out, tt.out) {
				t.Fatalf("sim trigger %s = %q, %v; want output with %q", tt.scenario, out, err, tt.out)
			}
			waitFor(t, "the callback", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) > before && strings.Contains(got[len(got)-1], tt.callback)
			})
		})
	}

	t.Run("mistakes", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
			exit int
		}{
			{[]string{"dance"}, `unknown scenario "dance"`, 2},
			{nil, "give one scenario", 2},
			{[]string{"resend-callback"}, "resend-callback needs -order", 2},
			{[]string{"rejected", "-phone", "91234567"}, "-phone is for approved", 2},
			{[]string{"approved"}, "no payment waits for the user", 1},
			{[]string{"express-address", "-order", "trig-approved"}, "not express", 1},
			{[]string{"rejected", "-order", "trig-approved"}, "not waiting for the user (HTTP 409)", 1},
			{[]string{"approved", "-order", "nope"}, "(HTTP 404)", 1},
		} {
			_, err := trigger(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != tt.exit {
				t.Errorf("sim trigger %q = %v (exit %d), want %q (exit %d)", tt.args, err, exitCode(err), tt.want, tt.exit)
			}
		}
	})
}
