package callback_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
)

// shop stands in for the merchant's database.
type shop struct {
	mu     sync.Mutex
	hashes map[vipps.OrderID]string
	status map[vipps.OrderID]vipps.CallbackStatus
}

func (s *shop) lookup(_ context.Context, id vipps.OrderID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hashes[id]
	if !ok {
		return "", callback.ErrUnknownOrder
	}
	return h, nil
}

func (s *shop) onTransaction(_ context.Context, cb *vipps.TransactionCallback) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A real shop confirms with Client.Details before shipping goods.
	s.status[cb.OrderID] = cb.TransactionInfo.Status
	return nil
}

// Example mounts the handler under /vipps in front of the shop's own mux,
// the way that survives Vipps' double-slash URLs, and receives a callback.
func Example() {
	s := &shop{hashes: map[vipps.OrderID]string{}, status: map[vipps.OrderID]vipps.CallbackStatus{}}
	h, err := callback.New(callback.Config{
		Prefix:        "/vipps",
		Lookup:        s.lookup,
		OnTransaction: s.onTransaction,
		ShippingOptions: func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
			return []vipps.ShippingOption{{IsDefault: true, Priority: 1, ShippingCost: 99, ShippingMethod: "Posten Servicepakke", ShippingMethodID: "posten-servicepakke"}}, nil
		},
		OnConsentRemoved: func(context.Context, string) error { return nil },
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the shop") })
	srv := httptest.NewServer(h.Wrap(mux)) // in production: http.Server{Handler: h.Wrap(mux)}
	defer srv.Close()

	// At initiate: a fresh token goes to Vipps as merchantInfo.authToken,
	// its hash into the database, and callbackPrefix is srv.URL + "/vipps/".
	token, hash, err := callback.NewAuthToken()
	if err != nil {
		log.Fatal(err)
	}
	s.hashes["acme-shop-123-order123abc"] = hash
	_ = vipps.MerchantInfo{CallbackPrefix: srv.URL + "/vipps/", AuthToken: token}

	// What Vipps then does, trailing slash of the prefix included.
	req, _ := http.NewRequest("POST", srv.URL+"/vipps//v2/payments/acme-shop-123-order123abc", strings.NewReader(`{
		"merchantSerialNumber": 123456,
		"orderId": "acme-shop-123-order123abc",
		"transactionInfo": {"amount": 20000, "status": "RESERVED", "timeStamp": "2018-12-12T11:18:38.246Z", "transactionId": "5001420062"}
	}`))
	req.Header.Set("Authorization", token.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("Vipps got", resp.Status)

	// On exit: stop the HTTP server first, then drain the callbacks.
	srv.Close()
	if err := h.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("order status:", s.status["acme-shop-123-order123abc"])
	// Output:
	// Vipps got 200 OK
	// order status: RESERVED
}

// ExampleNewAuthToken shows what to do with a new token at initiate.
func ExampleNewAuthToken() {
	token, hash, err := callback.NewAuthToken()
	if err != nil {
		log.Fatal(err)
	}
	// Store hash with the payment (Config.Lookup returns it), and send the
	// token to Vipps; never store or log the token itself.
	req := vipps.InitiateRequest{MerchantInfo: vipps.MerchantInfo{
		CallbackPrefix: "https://shop.example/vipps",
		AuthToken:      token,
	}}
	fmt.Println(len(hash), "hex digits to store")
	fmt.Println("prints as", req.MerchantInfo.AuthToken)
	// Output:
	// 64 hex digits to store
	// prints as [redacted]
}
