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
