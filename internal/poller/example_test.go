package poller_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/poller"
)

// A shop checks every webhook before acting on it: the signature proves
// that the payment service sent this very body, and the timestamp keeps an
// old webhook from being played again. Deliveries are at least once, so the
// shop handles each event id once.
func ExampleVerify() {
	secret := vipps.Secret("whsec-0123456789abcdef")                  // the service's WebhookSecret
	now := func() time.Time { return time.Unix(1767225600, 0).UTC() } // time.Now in a real shop

	webhooks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := poller.Verify(secret, r.Header.Get(poller.SignatureHeader), body, now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev struct {
			ID      int64  `json:"id"`
			Type    string `json:"type"`
			OrderID string `json:"orderId"`
			Amount  int64  `json:"amount"` // øre
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Printf("event %d: %s %s, %d øre\n", ev.ID, ev.OrderID, ev.Type, ev.Amount)
		w.WriteHeader(http.StatusNoContent)
	})

	// send posts a webhook signed at signedAt with key, as the outbox does.
	send := func(body string, key vipps.Secret, signedAt time.Time) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/vipps", strings.NewReader(body))
		req.Header.Set(poller.SignatureHeader, poller.Sign(key, signedAt, []byte(body)))
		rec := httptest.NewRecorder()
		webhooks.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Body.String())))
	}
	ev := `{"id":7,"type":"captured","orderId":"shop-10042","state":"captured","amount":1000}`
	send(ev, secret, now().Add(-2*time.Second))
	send(ev, vipps.Secret("not-the-shared-secret"), now())
	send(ev, secret, now().Add(-time.Hour))
	// Output:
	// event 7: shop-10042 captured, 1000 øre
	// 204
	// 400 webhook signature: mismatch
	// 400 webhook signature: timestamp is 1h0m0s off
}
