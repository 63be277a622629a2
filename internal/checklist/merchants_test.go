package checklist_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/vippstest"
)

// flaws are what a test merchant does wrong; the zero value does
// everything right.
type flaws struct {
	failureCallback500 bool // the callback server answers 500 to failure callbacks
	noReceipts         bool // Order Management gets categories, never receipts
	newRequestID       bool // a capture whose answer is lost is sent again with a new X-Request-Id
	shipping500        bool // shippingDetails answers 500
}

// merchant is a shop driven against an audit-mode simulator: its callback
// server, its fallBack pages and its client.
type merchant struct {
	t      testing.TB
	f      flaws
	srv    *vippstest.Server
	client *vipps.Client
	shop   *httptest.Server
}

func newMerchant(t testing.TB, f flaws) *merchant {
	t.Helper()
	m := &merchant{t: t, f: f}
	m.shop = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.shop.Close)
	m.srv = vippstest.NewServer(t, func(c *vippstest.Config) { c.Audit = true })
	m.client = m.srv.Client
	if f.newRequestID {
		// This merchant does its own retrying, badly.
		m.client = m.srv.NewClient(m.srv.Merchant, func(c *vipps.Config) { c.Retry.MaxAttempts = 1 })
	}
	return m
}

// serve is the shop: Vipps' callbacks under /vipps and the fallBack pages
// under /return/, which need no session.
func (m *merchant) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/shippingDetails"):
		if m.f.shipping500 {
			http.Error(w, "shipping is down", http.StatusInternalServerError)
			return
		}
		var ask vipps.ShippingDetailsRequest
		if err := json.NewDecoder(r.Body).Decode(&ask); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := vipps.OrderID(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/vipps/v2/payments/"), "/shippingDetails"))
		json.NewEncoder(w).Encode(vipps.ShippingDetailsResponse{AddressID: ask.AddressID, OrderID: id, ShippingDetails: []vipps.ShippingOption{
			{IsDefault: true, ShippingCost: 49, ShippingMethod: "Posten", ShippingMethodID: "posten"},
		}})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/vipps/v2/payments/"):
		var cb vipps.TransactionCallback
		if err := json.NewDecoder(r.Body).Decode(&cb); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if m.f.failureCallback500 && !cb.TransactionInfo.Status.Approved() {
			http.Error(w, "cannot handle a failed payment", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/vipps/v2/consents/"):
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/return/"):
		w.Write([]byte("<p>Thank you</p>"))
	default:
		http.NotFound(w, r)
	}
}

// initiate starts a payment of 100 kr.
func (m *merchant) initiate(id vipps.OrderID, express bool) {
	m.t.Helper()
	req := vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: m.shop.URL + "/vipps", FallBack: m.shop.URL + "/return/" + string(id)},
		Transaction:  vipps.InitiateTransaction{OrderID: id, Amount: 10000, TransactionText: "Two pairs of socks"},
	}
	if express {
		req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
		req.MerchantInfo.ShippingDetailsPrefix = m.shop.URL + "/vipps"
		req.MerchantInfo.ConsentRemovalPrefix = m.shop.URL + "/vipps"
	}
	if _, err := m.client.Initiate(m.t.Context(), req); err != nil {
		m.t.Fatalf("Initiate(%s) = %v", id, err)
	}
}

// poll learns the outcome through /details once the callbacks are in, as
// a merchant that does not trust callbacks alone does.
func (m *merchant) poll(id vipps.OrderID) *vipps.PaymentDetails {
	m.t.Helper()
	m.srv.Sim.WaitCallbacks()
	d, err := m.client.Details(m.t.Context(), id)
	if err != nil {
		m.t.Fatalf("Details(%s) = %v", id, err)
	}
	return d
}

// capture captures amount (0: the rest), as the merchant retries.
func (m *merchant) capture(id vipps.OrderID, amount vipps.Amount) {
	m.t.Helper()
	ctx := m.t.Context()
	_, err := m.client.Capture(ctx, id, vipps.CaptureRequest{Amount: amount, TransactionText: "Shipped"})
	if err != nil && m.f.newRequestID {
		// The answer was lost: send it again, but under a new X-Request-Id.
		_, err = m.client.Capture(ctx, id, vipps.CaptureRequest{Amount: amount, TransactionText: "Shipped", RequestID: vipps.NewRequestID()})
	}
	if err != nil {
		m.t.Fatalf("Capture(%s, %d) = %v", id, amount, err)
	}
}

func (m *merchant) refund(id vipps.OrderID, amount vipps.Amount) {
	m.t.Helper()
	if _, err := m.client.Refund(m.t.Context(), id, vipps.CaptureRequest{Amount: amount, TransactionText: "Returned"}); err != nil {
		m.t.Fatalf("Refund(%s, %d) = %v", id, amount, err)
	}
}

// orderManagement sends the receipt (unless the merchant never does) and
// the category of a paid order.
func (m *merchant) orderManagement(id vipps.OrderID) {
	m.t.Helper()
	ctx := m.t.Context()
	if !m.f.noReceipts {
		if _, err := m.client.AddReceipt(ctx, vipps.OMEcom, string(id), vipps.Receipt{
			OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "sku-1", TotalAmount: 10000, TotalAmountExcludingTax: 8000, TotalTaxAmount: 2000, TaxPercentage: 25}},
			BottomLine: vipps.BottomLine{Currency: "NOK"},
		}); err != nil {
			m.t.Fatalf("AddReceipt(%s) = %v", id, err)
		}
	}
	if _, err := m.client.PutCategory(ctx, vipps.OMEcom, string(id), vipps.OrderCategory{Category: vipps.CategoryGeneral, OrderDetailsURL: m.shop.URL + "/orders/" + string(id)}); err != nil {
		m.t.Fatalf("PutCategory(%s) = %v", id, err)
	}
}

// shopRegular makes the test orders of a regular shop: one captured in
// two parts and refunded in two (ending in REFUND, with its receipt), one
// cancelled (VOID), one the user rejects.
func (m *merchant) shopRegular() {
	m.t.Helper()
	sim := m.srv.Sim
	refunded, voided, rejected := vipps.OrderID("acme-shop-order-1"), vipps.OrderID("acme-shop-order-2"), vipps.OrderID("acme-shop-order-3")
	for _, id := range []vipps.OrderID{refunded, voided, rejected} {
		m.initiate(id, false)
	}
	for _, id := range []vipps.OrderID{refunded, voided} {
		if err := sim.Approve(id, ""); err != nil {
			m.t.Fatal(err)
		}
		m.poll(id)
	}
	if err := sim.Reject(rejected); err != nil {
		m.t.Fatal(err)
	}
	m.poll(rejected)

	m.capture(refunded, 4000) // the audit mode loses this answer
	m.capture(refunded, 0)
	m.orderManagement(refunded)
	m.refund(refunded, 2000)
	m.refund(refunded, 0)
	if _, err := m.client.Cancel(m.t.Context(), voided, vipps.CancelRequest{TransactionText: "Out of stock"}); err != nil {
		m.t.Fatalf("Cancel(%s) = %v", voided, err)
	}
}

// shopExpress makes an express order: the user approves it in the app
// with their address (the simulator asks the shop's shippingDetails), and
// then withdraws their consent. It reports whether the approval went
// through.
func (m *merchant) shopExpress() bool {
	m.t.Helper()
	id := vipps.OrderID("acme-shop-express-1")
	m.initiate(id, true)
	if err := m.srv.Sim.Approve(id, ""); err != nil {
		m.poll(id)
		return false
	}
	d := m.poll(id)
	if d.UserDetails == nil {
		m.t.Fatalf("Details(%s).UserDetails = nil, want the express user", id)
	}
	if _, err := m.srv.Sim.RemoveConsent(m.t.Context(), m.srv.Merchant.MSN, d.UserDetails.UserID); err != nil {
		m.t.Fatalf("RemoveConsent(%s) = %v", d.UserDetails.UserID, err)
	}
	return true
}

// grade grades what the merchant did.
func (m *merchant) grade() map[string]checklist.Status {
	m.t.Helper()
	m.srv.Sim.WaitCallbacks()
	a := m.srv.Sim.Audit(m.srv.Merchant.MSN)
	rs := checklist.Grade(checklist.Input{Audit: a, FallBacks: checklist.CheckFallBacks(m.t.Context(), nil, a.Payments)})
	got := map[string]checklist.Status{}
	for _, r := range rs {
		got[r.ID] = r.Status
		if r.Status != checklist.Pass && r.Status != checklist.Manual {
			m.t.Logf("%s: %s: %s", r.ID, r.Status, r.Summary)
		}
	}
	return got
}

// allPassing is the grade of a merchant that does everything right.
func allPassing() map[string]checklist.Status {
	m := map[string]checklist.Status{}
	for _, it := range checklist.Items {
		m[it.ID] = checklist.Pass
	}
	m["design"], m["support"] = checklist.Manual, checklist.Manual
	return m
}

// TestMerchantsAgainstSimulator drives real merchants, each with at most
// one flaw, against an audit-mode simulator: each fails exactly the item
// its flaw breaks.
func TestMerchantsAgainstSimulator(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       flaws
		express bool
		want    map[string]checklist.Status // what differs from allPassing
	}{
		{name: "good", want: nil},
		{name: "failure callbacks answered 500", f: flaws{failureCallback500: true}, want: map[string]checklist.Status{"callbacks": checklist.Fail}},
		{name: "no receipts", f: flaws{noReceipts: true}, want: map[string]checklist.Status{"receipts": checklist.Fail}},
		{name: "lost capture sent with a new X-Request-Id", f: flaws{newRequestID: true}, want: map[string]checklist.Status{"errors": checklist.Fail}},
		{name: "express", express: true, want: nil},
		{name: "express with shippingDetails answering 500", f: flaws{shipping500: true}, express: true, want: map[string]checklist.Status{"endpoints": checklist.NotSeen}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMerchant(t, tc.f)
			m.shopRegular()
			if tc.express {
				if approved := m.shopExpress(); approved == tc.f.shipping500 {
					t.Fatalf("express approval went through = %v, want %v", approved, !tc.f.shipping500)
				}
			}
			want := allPassing()
			for id, s := range tc.want {
				want[id] = s
			}
			if diff := cmp.Diff(want, m.grade()); diff != "" {
				t.Errorf("Grade(...) statuses (-want +got):\n%s", diff)
			}
		})
	}
}
