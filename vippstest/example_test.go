package vippstest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// newExampleClient returns a client for the simulator's default merchant.
func newExampleClient(url string) *vipps.Client {
	m := vippstest.DefaultMerchant()
	c, err := vipps.New(vipps.Config{
		BaseURL:              url,
		ClientID:             m.ClientID,
		ClientSecret:         vipps.Secret(m.ClientSecret),
		SubscriptionKey:      vipps.Secret(m.SubscriptionKey),
		MerchantSerialNumber: m.MSN,
	})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// startExample starts a simulator as Example does and returns it with a
// client for the default merchant and a func that stops both.
func startExample() (*vippstest.Simulator, *vipps.Client, func()) {
	sim, err := vippstest.New(vippstest.Config{HTTPClient: vippstest.LoopbackClient()})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	return sim, newExampleClient(srv.URL), func() { srv.Close(); sim.Close() }
}

// A payment from initiate to capture, with the simulator acting as the user.
func Example() {
	sim, err := vippstest.New(vippstest.Config{HTTPClient: vippstest.LoopbackClient()})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()

	ctx := context.Background()
	client := newExampleClient(srv.URL)
	const orderID = "acme-shop-123-order123abc"
	_, err = client.Initiate(ctx, vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix: "https://shop.example/vipps/callbacks",
			FallBack:       "https://shop.example/return/" + orderID,
		},
		Transaction: vipps.InitiateTransaction{OrderID: orderID, Amount: 49900, TransactionText: "One pair of Vipps socks"},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The user approves in the app.
	if err := sim.Approve(orderID, "91234567"); err != nil {
		log.Fatal(err)
	}

	if _, err := client.Capture(ctx, orderID, vipps.CaptureRequest{TransactionText: "Shipped, tracking abc-123"}); err != nil {
		log.Fatal(err)
	}
	d, err := client.Details(ctx, orderID)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range d.TransactionLogHistory {
		fmt.Println(e.Operation, e.Amount)
	}
	// Output:
	// CAPTURE 499.00 NOK
	// RESERVE 499.00 NOK
	// INITIATE 499.00 NOK
}

// A payment nobody approves times out after 10 minutes of the simulator's
// clock.
func ExampleSimulator_Advance() {
	sim, client, stop := startExample()
	defer stop()

	ctx := context.Background()
	_, err := client.Initiate(ctx, vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/vipps", FallBack: "https://shop.example/return"},
		Transaction:  vipps.InitiateTransaction{OrderID: "acme-timeout-1", Amount: 20000, TransactionText: "Socks"},
	})
	if err != nil {
		log.Fatal(err)
	}

	sim.Advance(10 * time.Minute)
	//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
	st, err := client.Status(ctx, "acme-timeout-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.TransactionInfo.Status)
	// Output: REJECTED
}
