package vipps_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// A whole payment against the simulator: initiate, the user approves, a
// partial capture, the rest captured, then a partial refund, and the details
// that prove it. Against Vipps, BaseURL is vipps.TestURL or
// vipps.ProductionURL and the keys come from portal.vipps.no.
func ExampleClient() {
	sim, err := vippstest.New(vippstest.Config{HTTPClient: vippstest.LoopbackClient()})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()

	m := vippstest.DefaultMerchant()
	client, err := vipps.New(vipps.Config{
		BaseURL:              srv.URL,
		ClientID:             m.ClientID,
		ClientSecret:         vipps.Secret(m.ClientSecret),
		SubscriptionKey:      vipps.Secret(m.SubscriptionKey),
		MerchantSerialNumber: m.MSN,
		SystemName:           "acme-shop",
		SystemVersion:        "1.4.0",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	orderID, err := vipps.OrderIDFor("acme-shop", "10042")
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Initiate(ctx, vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix: "https://shop.example/vipps",
			FallBack:       "https://shop.example/return/" + string(orderID),
		},
		Transaction: vipps.InitiateTransaction{OrderID: orderID, Amount: 49900, TransactionText: "Two pairs of socks"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("send the customer to a URL with a token:", res.Token() != "")

	// The customer approves in the app (here: the simulator's hook).
	if err := sim.Approve(orderID, "91234567"); err != nil {
		log.Fatal(err)
	}

	// Store each request id before the call: a retry after a crash then
	// reuses it and Vipps applies the capture once.
	first, err := client.Capture(ctx, orderID, vipps.CaptureRequest{Amount: 20000, TransactionText: "First pair shipped", RequestID: "acme-10042-capture-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("captured:", first.TransactionSummary.CapturedAmount, "remaining:", first.TransactionSummary.RemainingAmountToCapture)
	if _, err := client.Capture(ctx, orderID, vipps.CaptureRequest{TransactionText: "Second pair shipped", RequestID: "acme-10042-capture-2"}); err != nil {
		log.Fatal(err)
	}
	if _, err := client.Refund(ctx, orderID, vipps.CaptureRequest{Amount: 5000, TransactionText: "Wrong colour", RequestID: "acme-10042-refund-1"}); err != nil {
		log.Fatal(err)
	}

	d, err := client.Details(ctx, orderID)
	if err != nil {
		log.Fatal(err)
	}
	s := d.TransactionSummary
	fmt.Println("captured:", s.CapturedAmount, "refunded:", s.RefundedAmount, "refundable:", s.RemainingAmountToRefund)
	for _, e := range d.TransactionLogHistory {
		fmt.Printf("%s %s %q\n", e.Operation, e.Amount, e.RequestID)
	}
	// Output:
	// send the customer to a URL with a token: true
	// captured: 200.00 NOK remaining: 299.00 NOK
	// captured: 499.00 NOK refunded: 50.00 NOK refundable: 449.00 NOK
	// REFUND 50.00 NOK "acme-10042-refund-1"
	// CAPTURE 299.00 NOK "acme-10042-capture-2"
	// CAPTURE 200.00 NOK "acme-10042-capture-1"
	// RESERVE 499.00 NOK ""
	// INITIATE 499.00 NOK ""
}

// Errors from Vipps are *vipps.Error values with predicates for the cases
// callers branch on and texts for customers and staff.
func ExampleError() {
	srv := startSimForExample()
	defer srv.Close()
	client := srv.client

	_, err := client.Capture(context.Background(), "acme-shop-unknown", vipps.CaptureRequest{TransactionText: "Shipped"})
	if e, ok := errors.AsType[*vipps.Error](err); ok {
		fmt.Println(e.Group, e.Code, e.NotFound())
		fmt.Println(e.MerchantMessage())
		fmt.Println(e.CustomerMessage())
	}
	// Output:
	// Merchant 35 true
	// Vipps does not know this orderId for this sales unit (wrong MSN or keys?).
	// The payment could not be completed. No money has been taken. Please try again, or choose another payment method.
}

// Order ids that follow Vipps' recommendations: readable, unique per sales
// unit, and a suffix for each new attempt of the same shop order.
func ExampleOrderIDFor() {
	id, err := vipps.OrderIDFor("acme-shop", "order 10042")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
	fmt.Println(id.Attempt(1))
	// Output:
	// acme-shop-order-10042
	// acme-shop-order-10042--1
}

type simForExample struct {
	*httptest.Server
	sim    *vippstest.Simulator
	client *vipps.Client
}

func (s *simForExample) Close() { s.Server.Close(); s.sim.Close() }

// startSimForExample starts the simulator for examples (tests use
// vippstest.NewServer).
func startSimForExample() *simForExample {
	sim, err := vippstest.New(vippstest.Config{HTTPClient: vippstest.LoopbackClient()})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	m := vippstest.DefaultMerchant()
	client, err := vipps.New(vipps.Config{BaseURL: srv.URL, ClientID: m.ClientID, ClientSecret: vipps.Secret(m.ClientSecret),
		SubscriptionKey: vipps.Secret(m.SubscriptionKey), MerchantSerialNumber: m.MSN})
	if err != nil {
		log.Fatal(err)
	}
	return &simForExample{Server: srv, sim: sim, client: client}
}
