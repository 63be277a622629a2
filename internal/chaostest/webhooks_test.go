package chaostest

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
	vwebhook "github.com/vippskit/vipps/webhook"
)

// webhook is the body of a webhook, as the README documents it.
type webhook struct {
	ID      int64        `json:"id"`
	Type    string       `json:"type"`
	OrderID string       `json:"orderId"`
	ShopRef string       `json:"shopRef"`
	State   string       `json:"state"`
	Amount  vipps.Amount `json:"amount"`
	Amounts amounts      `json:"amounts"`
	At      time.Time    `json:"at"`
}

// receiver is the shop's webhook endpoint: it checks every signature as a
// shop must (HMAC-SHA256 over "<t>.<body>", constant-time, a tolerance on
// t) and records the events by id, so that redeliveries count once. While
// faults are on it fails some deliveries as a shop's endpoint does (see
// hookFault), each event at most twice, so that its retries stay within
// the convergence's wait. It is also the shop's shipping options endpoint
// (serveShipping).
type receiver struct {
	url         string
	shippingURL string // the shop's shipping options (serveShipping)
	secret      []byte
	srv         *httptest.Server

	mu          sync.Mutex
	faults      bool              // fail some deliveries (setFaults)
	rng         *rand.Rand        // the faults' choices
	failed      map[int64]int     // faults per event id
	faultCounts map[string]int    // faults by kind, for the report
	shipping    map[string]int    // shipping requests by outcome
	shippingOf  map[string]string // the last outcome by orderId
	byID        map[int64]webhook
	raw         map[int64][]byte
	byOrder     map[string][]int64
	deliveries  int      // requests with a valid signature
	redelivered int      // deliveries of an id already recorded
	conflicts   []string // an id delivered again with another body
	bad         []string // why signatures were refused
}

const signatureTolerance = 5 * time.Minute

// hookFault is what the receiver does wrong with a delivery.
type hookFault string

const (
	hookOK hookFault = ""
	// hookRefuse answers 500 without recording the event.
	hookRefuse hookFault = "500"
	// hookLoseAnswer records the event and answers 500, as a shop whose
	// answer fails after it has handled the event.
	hookLoseAnswer hookFault = "500 after handling"
	// hookSlow records the event and answers after the service's attempt
	// timeout (10 s) has passed.
	hookSlow hookFault = "answer after 11 s"
)

// newReceiver starts the webhook endpoint; rng makes its faults' choices,
// nil for none.
func newReceiver(secret string, rng *rand.Rand) *receiver {
	h := &receiver{secret: []byte(secret), byID: map[int64]webhook{}, raw: map[int64][]byte{}, byOrder: map[string][]int64{},
		rng: rng, faults: rng != nil, failed: map[int64]int{}, faultCounts: map[string]int{}, shipping: map[string]int{},
		shippingOf: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/webhooks", h.serve)
	mux.HandleFunc("/shipping", h.serveShipping)
	h.srv = httptest.NewServer(mux) // 127.0.0.1:0
	h.url = h.srv.URL + "/webhooks"
	h.shippingURL = h.srv.URL + "/shipping"
	return h
}

func (h *receiver) close() { h.srv.Close() }

func (h *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/webhooks" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := h.verify(r.Header.Get("Vippskit-Signature"), body, time.Now()); err != nil {
		h.mu.Lock()
		h.bad = append(h.bad, fmt.Sprintf("%s: %v (event id header %q)", err, r.Header.Get("Vippskit-Signature"), r.Header.Get("Vippskit-Event-Id")))
		h.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev webhook
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == 0 || ev.OrderID == "" {
		h.mu.Lock()
		h.bad = append(h.bad, fmt.Sprintf("undecodable webhook %q: %v", body, err))
		h.mu.Unlock()
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	fault := h.faultLocked(ev.ID)
	if fault == hookRefuse {
		h.mu.Unlock()
		http.Error(w, "the shop is down", http.StatusInternalServerError)
		return
	}
	h.deliveries++
	if old, ok := h.raw[ev.ID]; ok {
		h.redelivered++
		if !bytes.Equal(old, body) {
			h.conflicts = append(h.conflicts, fmt.Sprintf("id %d: first %s, then %s", ev.ID, old, body))
		}
	} else {
		h.raw[ev.ID], h.byID[ev.ID] = body, ev
		h.byOrder[ev.OrderID] = append(h.byOrder[ev.OrderID], ev.ID)
	}
	h.mu.Unlock()
	switch fault {
	case hookLoseAnswer:
		http.Error(w, "handled, but the answer failed", http.StatusInternalServerError)
		return
	case hookSlow:
		sleep(r.Context(), 11*time.Second) // or until the service gives up
	}
	w.WriteHeader(http.StatusOK)
}

// How the shop's shipping endpoint answered a request.
const (
	shipInTime = "answered"
	shipFailed = "500"
	shipLate   = "answered after 6 s"
)

// shopOption is the shipping option the shop's own endpoint offers.
var shopOption = vipps.ShippingOption{IsDefault: true, ShippingCost: 79, ShippingMethod: "Shop courier", ShippingMethodID: "shop-courier"}

// serveShipping is the shop's shipping options endpoint (-shipping-url):
// it checks the request's signature and offers shopOption, but while
// faults are on one request in ten fails and one in twenty answers after
// the service's 5 s wait, which then offers its static options.
func (h *receiver) serveShipping(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, err := vwebhook.ParseShippingRequest(body, r.Header.Get(vwebhook.ShippingSignatureHeader), vipps.Secret(h.secret))
	if err != nil {
		h.mu.Lock()
		h.bad = append(h.bad, fmt.Sprintf("shipping request: %v", err))
		h.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	outcome := shipInTime
	if h.faults {
		switch n := h.rng.IntN(100); {
		case n < 10:
			outcome = shipFailed
		case n < 15:
			outcome = shipLate
		}
	}
	h.shipping[outcome]++
	h.shippingOf[string(req.OrderID)] = outcome
	h.mu.Unlock()
	switch outcome {
	case shipFailed:
		http.Error(w, "the shop is down", http.StatusInternalServerError)
		return
	case shipLate:
		if !sleep(r.Context(), 6*time.Second) {
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode([]vipps.ShippingOption{shopOption})
}

// shippingOutcome is how the shop last answered the service's request
// for the shipping options of orderID: shipInTime, shipFailed, shipLate,
// or "" for none.
func (h *receiver) shippingOutcome(orderID string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shippingOf[orderID]
}

// faultLocked picks what goes wrong with a delivery of event id: one in
// ten while faults are on, at most twice per event.
func (h *receiver) faultLocked(id int64) hookFault {
	if !h.faults || h.failed[id] >= 2 {
		return hookOK
	}
	var f hookFault
	switch n := h.rng.IntN(100); {
	case n < 6:
		f = hookRefuse
	case n < 8:
		f = hookLoseAnswer
	case n < 10:
		f = hookSlow
	default:
		return hookOK
	}
	h.failed[id]++
	h.faultCounts[string(f)]++
	return f
}

// setFaults turns the receiver's faults on or off.
func (h *receiver) setFaults(on bool) {
	h.mu.Lock()
	h.faults = on && h.rng != nil
	h.mu.Unlock()
}

// verify checks a Vippskit-Signature header: "t=<unix>,v1=<hex>", any of
// several v1 values may match.
func (h *receiver) verify(header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureTolerance || d < -signatureTolerance {
		return fmt.Errorf("signature timestamp %s off", d.Round(time.Second))
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("signature mismatch")
}

// hooksOf returns the webhooks recorded for an order, by id ascending.
func (h *receiver) hooksOf(orderID string) []webhook {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := h.byOrder[orderID]
	out := make([]webhook, 0, len(ids))
	for _, id := range ids {
		out = append(out, h.byID[id])
	}
	slices.SortFunc(out, func(a, b webhook) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// receiverStats are the receiver's totals.
type receiverStats struct {
	unique, deliveries, redelivered int
	conflicts, bad                  []string
	faults, shipping                map[string]int
}

func (h *receiver) stats() receiverStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return receiverStats{len(h.byID), h.deliveries, h.redelivered, append([]string(nil), h.conflicts...), append([]string(nil), h.bad...),
		maps.Clone(h.faultCounts), maps.Clone(h.shipping)}
}
