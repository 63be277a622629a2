package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// TestChecklistOwnService audits this project's own service: vipps serve
// against a simulator in audit mode (which drops the first callback of
// some payments on purpose), with test orders as a shop makes them: a
// partial and a full capture and refund ending in REFUND, one ending in
// VOID, one the customer rejects, and one whose capture answer is lost.
// Every item the program can grade must pass; design and customer service
// are for a person.
func TestChecklistOwnService(t *testing.T) {
	sim := vippstest.NewServer(t, func(c *vippstest.Config) { c.Audit = true })
	// Vipps reaches the service at its public URL; the port is known only
	// once it runs, so a proxy with a known URL stands in front of it.
	var target atomic.Pointer[url.URL]
	public := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target.Load())
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(public.Close)
	m := sim.Merchant
	app := startTestServe(t, "-database", t.TempDir()+"/vipps.db", "-base-url", sim.URL, "-client-id", m.ClientID,
		"-client-secret", m.ClientSecret, "-subscription-key", m.SubscriptionKey, "-msn", string(m.MSN),
		"-api-key", "test-api-key-0123456789", "-admin-password", "test-admin-password",
		"-secret-key", strings.Repeat("s", 32), "-public-url", public.URL, "-order-id-prefix", "acme-shop")
	u, err := url.Parse(app.url)
	if err != nil {
		t.Fatal(err)
	}
	target.Store(u)
	ctx := context.Background()
	svc := app.svc

	create := func(ref string, receipt bool) vipps.OrderID {
		t.Helper()
		req := payment.CreateRequest{Amount: 10000, Text: "Two pairs of socks", ShopRef: ref,
			ReturnURL: "https://shop.example/orders/" + ref, OrderURL: "https://shop.example/orders/" + ref}
		if receipt {
			req.Receipt = &vipps.Receipt{
				OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "sku-1", TotalAmount: 10000, TotalAmountExcludingTax: 8000,
					TotalTaxAmount: 2000, TaxPercentage: 25}},
				BottomLine: vipps.BottomLine{Currency: "NOK"},
			}
		}
		p, err := svc.Create(ctx, req)
		if err != nil {
			t.Fatalf("Create(%s) = %v", ref, err)
		}
		return p.OrderID
	}
	reserved := func(id vipps.OrderID) {
		t.Helper()
		if err := sim.Sim.Approve(id, ""); err != nil {
			t.Fatal(err)
		}
		// The audit drops some first callbacks: then the poller learns it.
		waitFor(t, string(id)+" reserved", func() bool { return state(t, app, id) == payment.Reserved })
	}
	op := func(do func(context.Context, vipps.OrderID, payment.OpRequest) (*payment.Operation, error), id vipps.OrderID, amount vipps.Amount) {
		t.Helper()
		o, err := do(ctx, id, payment.OpRequest{Amount: amount})
		if err != nil {
			t.Fatalf("operation on %s = %v", id, err)
		}
		waitFor(t, "operation on "+string(id), func() bool {
			ops, err := svc.Operations(ctx, id)
			return err == nil && ops[len(ops)-1].ID == o.ID && ops[len(ops)-1].Status == payment.OpSucceeded
		})
	}

	refunded := create("10042", true) // the 1st payment: its first callback is dropped
	reserved(refunded)
	op(svc.Capture, refunded, 4000)
	op(svc.Capture, refunded, 0)
	op(svc.Refund, refunded, 2000)
	op(svc.Refund, refunded, 0)

	voided := create("10043", false)
	reserved(voided)
	if _, err := svc.Cancel(ctx, voided, payment.OpRequest{}); err != nil {
		t.Fatalf("Cancel(%s) = %v", voided, err)
	}

	rejected := create("10044", false)
	if err := sim.Sim.Reject(rejected); err != nil {
		t.Fatal(err)
	}
	waitFor(t, string(rejected)+" cancelled", func() bool { return state(t, app, rejected) == payment.Cancelled })

	lost := create("10045", false) // the 4th: its first callback is dropped too
	reserved(lost)
	if _, err := sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultDropAfterApply, Op: "capture", OrderID: lost, Count: 1}); err != nil {
		t.Fatal(err)
	}
	svc.Capture(ctx, lost, payment.OpRequest{}) // the answer is lost; the service resends with the same X-Request-Id
	waitFor(t, string(lost)+" captured", func() bool { return state(t, app, lost) == payment.Captured })

	// The receipt goes to Order Management from the outbox.
	waitFor(t, "the receipt of "+string(refunded), func() bool {
		for _, o := range sim.Sim.Audit(m.MSN).OrderManagement {
			if vipps.OrderID(o.OrderID) == refunded && o.Receipt {
				return true
			}
		}
		return false
	})
	sim.Sim.WaitCallbacks()

	a := sim.Sim.Audit(m.MSN)
	rs := checklist.Grade(checklist.Input{Audit: a, FallBacks: checklist.CheckFallBacks(ctx, &http.Client{}, a.Payments)})
	for _, r := range rs {
		want := checklist.Pass
		if r.ID == "design" || r.ID == "support" {
			want = checklist.Manual
		}
		if r.Status != want {
			t.Errorf("%s = %s (%s; fix: %s), want %s; evidence %+v", r.ID, r.Status, r.Summary, r.Fix, want, r.Evidence)
		}
	}
}
