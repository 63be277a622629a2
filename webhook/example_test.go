package webhook_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/webhook"
)

// orders stands in for the shop's database.
type orders struct {
	mu       sync.Mutex
	seen     map[int64]bool                    // event ids handled
	last     map[vipps.OrderID]int64           // highest event id per payment
	amounts  map[vipps.OrderID]webhook.Amounts // the totals of that event
	captured map[vipps.OrderID]vipps.Amount    // the sum of captured events
}

// record handles an event once: in a real shop, one database transaction
// that stores the id with the event's effect.
func (o *orders) record(ev webhook.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[ev.ID] {
		return // a repeat: at least once delivery
	}
	o.seen[ev.ID] = true
	if ev.Type == webhook.EventCaptured {
		o.captured[ev.OrderID] += ev.Amount // ship the goods, book the revenue
	}
	if ev.ID > o.last[ev.OrderID] { // deliveries may arrive out of order
		o.last[ev.OrderID], o.amounts[ev.OrderID] = ev.ID, ev.Amounts
	}
}

// webhooks is the shop's handler: it checks the signature over the body as
// received, decodes, handles each event once, and answers at once.
func webhooks(secret vipps.Secret, o *orders) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := webhook.ParseEvent(body, r.Header.Get(webhook.SignatureHeader), secret)
		switch {
		case errors.Is(err, webhook.ErrNoSignature), errors.Is(err, webhook.ErrInvalidHeader),
			errors.Is(err, webhook.ErrMismatch), errors.Is(err, webhook.ErrTooOld):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case err != nil: // a body that is not an event, or no secret configured
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		o.record(ev)
		w.WriteHeader(http.StatusNoContent)
	})
}

// A shop's webhook handler, fed as the service feeds it: a capture of
// 300 kr delivered twice, and a capture of the remaining 199 kr that
// arrives before the first.
func Example() {
	secret := vipps.Secret("whsec-0123456789abcdef") // the service's -webhook-secret
	o := &orders{seen: map[int64]bool{}, last: map[vipps.OrderID]int64{},
		amounts: map[vipps.OrderID]webhook.Amounts{}, captured: map[vipps.OrderID]vipps.Amount{}}
	h := webhooks(secret, o)

	first := webhook.Event{ID: 41, Type: webhook.EventCaptured, OrderID: "shop-10042", State: webhook.StateReserved, Amount: 30000,
		Amounts: webhook.Amounts{Authorized: 49900, Captured: 30000, RemainingToCapture: 19900, RemainingToRefund: 30000}}
	second := webhook.Event{ID: 42, Type: webhook.EventCaptured, OrderID: "shop-10042", State: webhook.StateCaptured, Amount: 19900,
		Amounts: webhook.Amounts{Authorized: 49900, Captured: 49900, RemainingToRefund: 49900}}
	for _, ev := range []webhook.Event{second, first, first} {
		body, header := webhook.TestPayload(ev, secret, time.Now())
		req := httptest.NewRequest(http.MethodPost, "/webhooks/vipps", strings.NewReader(string(body)))
		req.Header.Set(webhook.SignatureHeader, header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println("event", ev.ID, rec.Code)
	}
	fmt.Println("captured:", o.captured["shop-10042"])
	fmt.Println("remaining to capture:", o.amounts["shop-10042"].RemainingToCapture)
	// Output:
	// event 42 204
	// event 41 204
	// event 41 204
	// captured: 499.00 NOK
	// remaining to capture: 0.00 NOK
}

// The handler refuses what the service did not send, or sent long ago.
func Example_refused() {
	secret := vipps.Secret("whsec-0123456789abcdef")
	h := webhooks(secret, &orders{seen: map[int64]bool{}})
	ev := webhook.Event{ID: 7, Type: webhook.EventCaptured, OrderID: "shop-10042", Amount: 1000}

	send := func(name string, body []byte, header string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/vipps", strings.NewReader(string(body)))
		req.Header.Set(webhook.SignatureHeader, header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Printf("%s: %d %s", name, rec.Code, rec.Body)
	}
	body, header := webhook.TestPayload(ev, "not-the-shared-secret", time.Now())
	send("another secret", body, header)
	body, header = webhook.TestPayload(ev, secret, time.Now().Add(-time.Hour))
	send("an hour old", body, header)
	_, header = webhook.TestPayload(ev, secret, time.Now())
	send("changed body", []byte(strings.Replace(string(body), "1000", "100000", 1)), header)
	send("unsigned", body, "")
	// Output:
	// another secret: 400 webhook: signature mismatch
	// an hour old: 400 webhook: timestamp outside the tolerance: signed 1h0m0s ago, more than 5m0s
	// changed body: 400 webhook: signature mismatch
	// unsigned: 400 webhook: no signature
}

// During a rotation the shop accepts the new and the old secret; the
// service may sign with both.
func ExampleVerifier() {
	newSecret, oldSecret := vipps.Secret("whsec-new-0123456789"), vipps.Secret("whsec-old-0123456789")
	v := webhook.Verifier{Secrets: []vipps.Secret{newSecret, oldSecret}}
	body := []byte(`{"id":7,"type":"reserved","orderId":"shop-10042"}`)
	now := time.Now()
	for _, header := range []string{
		webhook.Sign(oldSecret, now, body),
		webhook.Sign(newSecret, now, body),
		webhook.SignAll([]vipps.Secret{newSecret, oldSecret}, now, body),
		webhook.Sign("whsec-retired-0123456789", now, body),
	} {
		fmt.Println(v.Verify(body, header))
	}
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// webhook: signature mismatch
}

func ExampleSign() {
	body := []byte(`{"id":1,"type":"reserved"}`)
	fmt.Println(webhook.Sign("test-webhook-secret-0123456789", time.Unix(1767225600, 0), body))
	// Output:
	// t=1767225600,v1=20d9c5ccad2c0d5f138e65d18a5915fe797af66f893d5662c612a85af64a34ef
}

// A shop tests its own handler with TestPayload: the body and the header
// the service would send.
func ExampleTestPayload() {
	secret := vipps.Secret("whsec-0123456789abcdef")
	h := webhooks(secret, &orders{seen: map[int64]bool{}, last: map[vipps.OrderID]int64{},
		amounts: map[vipps.OrderID]webhook.Amounts{}, captured: map[vipps.OrderID]vipps.Amount{}})
	ev := webhook.Event{ID: 1, Type: webhook.EventReserved, OrderID: "shop-10042", State: webhook.StateReserved, Amount: 49900}
	body, header := webhook.TestPayload(ev, secret, time.Time{}) // signed now
	req := httptest.NewRequest(http.MethodPost, "/webhooks/vipps", strings.NewReader(string(body)))
	req.Header.Set(webhook.SignatureHeader, header)
	req.Header.Set(webhook.EventIDHeader, strconv.FormatInt(ev.ID, 10))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// 204
}

// A shop's shipping handler (vipps serve -shipping-url) checks the shipping
// signature, not the webhook one, and answers the options for the
// customer's address. A webhook's signature does not pass for a shipping
// request, though both come from one secret.
func ExampleParseShippingRequest() {
	secret := vipps.Secret("whsec-0123456789abcdef") // the service's -webhook-secret
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		req, err := webhook.ParseShippingRequest(body, r.Header.Get(webhook.ShippingSignatureHeader), secret)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		opt := vipps.ShippingOption{IsDefault: true, ShippingCost: 49, ShippingMethod: "Posten", ShippingMethodID: "posten"}
		if strings.HasPrefix(req.Address.PostCode, "0") { // Oslo: delivered by bike, free
			opt = vipps.ShippingOption{IsDefault: true, ShippingMethod: "Bike", ShippingMethodID: "bike"}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode([]vipps.ShippingOption{opt})
	})

	body := []byte(`{"orderId":"shop-10042","shopRef":"10042","address":{"addressId":1,"addressLine1":"Storgata 1","city":"Oslo","country":"NO","postCode":"0155"}}`)
	for _, header := range []string{
		webhook.SignShipping(secret, time.Now(), body),
		webhook.Sign(secret, time.Now(), body), // a webhook's signature
	} {
		req := httptest.NewRequest(http.MethodPost, "/shipping", strings.NewReader(string(body)))
		req.Header.Set(webhook.ShippingSignatureHeader, header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 [{"isDefault":"Y","shippingCost":0,"shippingMethod":"Bike","shippingMethodId":"bike"}]
	// 400 webhook: signature mismatch
}

func ExampleSignShipping() {
	body := []byte(`{"orderId":"shop-10042","shopRef":"10042","address":{"addressId":1}}`)
	fmt.Println(webhook.SignShipping("test-webhook-secret-0123456789", time.Unix(1767225600, 0), body))
	// Output:
	// t=1767225600,v1=982322bac18be656cb648d94bb63a134945454f49eba1bd869f5e5036b824a48
}
