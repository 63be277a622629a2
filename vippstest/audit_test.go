package vippstest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func audit(c *vippstest.Config) { c.Audit = true }

// TestAuditDropsFirstCallbackOfEveryThirdPayment checks the audit mode:
// the first callback of payments 1, 4, ... is dropped and recorded so, and
// no other callback is.
func TestAuditDropsFirstCallbackOfEveryThirdPayment(t *testing.T) {
	var sink callbackSink
	prefix := sink.start(t)
	srv := newServer(t, audit)
	var ids []vipps.OrderID
	for i := range 4 {
		id := vipps.OrderID(fmt.Sprintf("acme-audit-%d", i+1))
		ids = append(ids, id)
		req := regular(id, 10000)
		req.MerchantInfo.CallbackPrefix = prefix
		initiate(t, srv.Client, req)
		if err := srv.Sim.Approve(id, ""); err != nil {
			t.Fatal(err)
		}
	}
	sink.wait(t, srv, 2) // payments 2 and 3; 1 and 4 dropped
	got := map[vipps.OrderID][]string{}
	for _, cb := range srv.Sim.Callbacks() {
		got[cb.OrderID] = append(got[cb.OrderID], cb.FaultID)
	}
	want := map[vipps.OrderID][]string{ids[0]: {vippstest.AuditDropID}, ids[1]: {""}, ids[2]: {""}, ids[3]: {vippstest.AuditDropID}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("callbacks' FaultID by order (-want +got):\n%s", diff)
	}
}

func TestAuditOffDropsNothing(t *testing.T) {
	srv := newServer(t)
	reserve(t, srv.Client, "acme-plain-1", 10000)
	srv.Sim.WaitCallbacks()
	for _, cb := range srv.Sim.Callbacks() {
		if cb.Fault != "" {
			t.Errorf("callback %+v has a fault without audit mode", cb)
		}
	}
}

// TestAuditEndpoint checks GET /_sim/audit: one merchant's requests,
// payments (without authToken), callbacks and Order Management.
func TestAuditEndpoint(t *testing.T) {
	srv := newServer(t, audit, merchants(vippstest.DefaultMerchant(), directMerchant))
	other := srv.NewClient(directMerchant)
	req := regular("acme-ev-1", 10000)
	req.MerchantInfo.AuthToken = "secret-token"
	initiate(t, srv.Client, req)
	initiate(t, other, regular("other-ev-1", 10000))
	if err := srv.Sim.Approve("acme-ev-1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Details(t.Context(), "acme-ev-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.AddReceipt(t.Context(), vipps.OMEcom, "acme-ev-1", vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "1", TotalAmount: 10000, TotalAmountExcludingTax: 8000, TotalTaxAmount: 2000, TaxPercentage: 25}},
		BottomLine: vipps.BottomLine{Currency: "NOK"},
	}); err != nil {
		t.Fatal(err)
	}
	srv.Sim.WaitCallbacks()

	resp, err := http.Get(srv.URL + "/_sim/audit?msn=" + string(vippstest.DefaultMerchant().MSN))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a vippstest.Audit
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if !a.AuditMode {
		t.Error("auditMode = false, want true")
	}
	var ops []string
	for _, r := range a.Requests {
		ops = append(ops, r.Op+" "+string(r.OrderID))
	}
	if diff := cmp.Diff([]string{"accesstoken ", "initiate acme-ev-1", "details acme-ev-1", "om-receipt acme-ev-1"}, ops); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if len(a.Payments) != 1 || a.Payments[0].OrderID != "acme-ev-1" || a.Payments[0].AuthToken != "" {
		t.Errorf("payments = %+v, want acme-ev-1 without authToken", a.Payments)
	}
	if len(a.Callbacks) != 1 || a.Callbacks[0].FaultID != vippstest.AuditDropID {
		t.Errorf("callbacks = %+v, want the first one dropped", a.Callbacks)
	}
	if diff := cmp.Diff([]vippstest.AuditOrder{{MSN: "123456", PaymentType: vipps.OMEcom, OrderID: "acme-ev-1", Receipt: true}}, a.OrderManagement); diff != "" {
		t.Errorf("orderManagement (-want +got):\n%s", diff)
	}
}

// TestAuditLosesFirstCaptureAnswer checks that the audit mode handles each
// merchant's first capture but loses its answer (recorded with faultId
// "audit"), and no later capture's: the client sends it again with the
// same X-Request-Id and the amount is captured once.
func TestAuditLosesFirstCaptureAnswer(t *testing.T) {
	second := vippstest.Merchant{MSN: "223344", ClientID: "second-id", ClientSecret: "second-secret", SubscriptionKey: "second-key", Name: "Second Shop"}
	srv := newServer(t, audit, merchants(vippstest.DefaultMerchant(), second))
	other := srv.NewClient(second)
	reserve(t, srv.Client, "acme-cap-1", 10000)
	reserve(t, other, "other-cap-1", 10000)
	reserve(t, srv.Client, "acme-cap-2", 10000)
	for _, c := range []struct {
		client *vipps.Client
		id     vipps.OrderID
	}{{srv.Client, "acme-cap-1"}, {srv.Client, "acme-cap-2"}, {other, "other-cap-1"}} {
		if _, err := c.client.Capture(t.Context(), c.id, vipps.CaptureRequest{Amount: 4000, TransactionText: "Shipped", RequestID: "cap-" + string(c.id)}); err != nil {
			t.Fatalf("Capture(%s) = %v", c.id, err)
		}
	}
	type rec struct {
		OrderID   vipps.OrderID
		RequestID string
		Status    int
		Fault     vippstest.FaultKind
		FaultID   string
	}
	var got []rec
	for _, r := range srv.Sim.Audit("").Requests {
		if r.Op == "capture" {
			got = append(got, rec{r.OrderID, r.RequestID, r.Status, r.Fault, r.FaultID})
		}
	}
	want := []rec{
		{"acme-cap-1", "cap-acme-cap-1", 0, vippstest.FaultDropAfterApply, vippstest.AuditDropID},
		{"acme-cap-1", "cap-acme-cap-1", 200, "", ""},
		{"acme-cap-2", "cap-acme-cap-2", 200, "", ""},
		{"other-cap-1", "cap-other-cap-1", 0, vippstest.FaultDropAfterApply, vippstest.AuditDropID},
		{"other-cap-1", "cap-other-cap-1", 200, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("capture requests (-want +got):\n%s", diff)
	}
	for _, id := range []vipps.OrderID{"acme-cap-1", "acme-cap-2"} {
		d, err := srv.Client.Details(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.TransactionSummary.CapturedAmount != 4000 {
			t.Errorf("Details(%s).CapturedAmount = %d, want 4000", id, d.TransactionSummary.CapturedAmount)
		}
	}
	if fs := srv.Sim.Faults(); len(fs) != 0 {
		t.Errorf("Faults() = %+v, want none: the audit's is not an injected fault", fs)
	}
}

// TestAuditInjectedFaultTakesFirstCapture checks that an injected fault
// on a merchant's first capture wins, and the audit mode then loses no
// answer of that merchant.
func TestAuditInjectedFaultTakesFirstCapture(t *testing.T) {
	srv := newServer(t, audit)
	reserve(t, srv.Client, "acme-inj-1", 10000)
	reserve(t, srv.Client, "acme-inj-2", 10000)
	id, err := srv.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "capture", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []vipps.OrderID{"acme-inj-1", "acme-inj-2"} {
		if _, err := srv.Client.Capture(t.Context(), o, vipps.CaptureRequest{Amount: 4000, TransactionText: "Shipped"}); err != nil {
			t.Fatalf("Capture(%s) = %v", o, err)
		}
	}
	var got []string
	for _, r := range srv.Sim.Audit("").Requests {
		if r.Op == "capture" {
			got = append(got, fmt.Sprintf("%s %d %s", r.OrderID, r.Status, r.FaultID))
		}
	}
	want := []string{"acme-inj-1 500 " + id, "acme-inj-1 200 ", "acme-inj-2 200 "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("capture requests (-want +got):\n%s", diff)
	}
}
