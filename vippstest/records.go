package vippstest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// Request is one API request the simulator received, for assertions such
// as "the Vipps-System headers were sent". Control API and landing page
// requests are not recorded.
type Request struct {
	// Time is the simulator's clock when the request arrived.
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	// Header is the request's header with secrets redacted: client_secret
	// and Ocp-Apim-Subscription-Key read "[redacted]", Authorization keeps
	// only its scheme ("Bearer [redacted]").
	Header http.Header `json:"header"`
	Body   string      `json:"body,omitempty"`
	// Op names the endpoint: "accesstoken", "initiate", "capture",
	// "cancel", "refund", "details", "status", "approve", "userinfo",
	// "om-image", "om-category", "om-receipt", "om-order", or "" for
	// unknown paths.
	Op string `json:"op,omitempty"`
	// MSN is the merchant the request was authenticated as.
	MSN       vipps.MSN     `json:"merchantSerialNumber,omitempty"`
	OrderID   vipps.OrderID `json:"orderId,omitempty"`
	RequestID string        `json:"requestId,omitempty"`
	// Status is the HTTP status the simulator answered with, 0 when it
	// sent no answer (a timeout or drop fault).
	Status int `json:"status"`
	// Fault and FaultID name the injected fault that hit the request, if
	// any (see [Simulator.InjectFault]).
	Fault   FaultKind `json:"fault,omitempty"`
	FaultID string    `json:"faultId,omitempty"`
	// Warnings point out what a real integration must fix: what real
	// Vipps would treat differently (an http callbackPrefix accepted
	// because it points at loopback, a phone number repaired) and why an
	// answer was a 500.
	Warnings []string `json:"warnings,omitempty"`
}

// Callback is one delivery of a transaction callback to a merchant.
type Callback struct {
	// Time is the simulator's clock when the callback was sent.
	Time    time.Time            `json:"time"`
	MSN     vipps.MSN            `json:"merchantSerialNumber"`
	OrderID vipps.OrderID        `json:"orderId"`
	URL     string               `json:"url"`
	Status  vipps.CallbackStatus `json:"status"`
	// Authorized reports whether an Authorization header (the payment's
	// authToken) was sent.
	Authorized bool `json:"authorized"`
	// Body is the JSON body sent.
	Body json.RawMessage `json:"body"`
	// StatusCode is the merchant's answer, 0 when there was none.
	StatusCode int `json:"statusCode"`
	// Err says why the delivery failed (timeout, refused connection, ...);
	// empty when the merchant answered.
	Err string `json:"error,omitempty"`
	// Duration is how long the delivery took, in real time.
	Duration time.Duration `json:"duration"`
	// Fault and FaultID name the callback fault that hit the delivery, if
	// any (see [Simulator.InjectCallbackFault]).
	Fault   CallbackFaultKind `json:"fault,omitempty"`
	FaultID string            `json:"faultId,omitempty"`
}

// Delivered reports whether the merchant answered 2xx.
func (c Callback) Delivered() bool { return c.StatusCode >= 200 && c.StatusCode < 300 }

// Requests returns the recorded API requests, oldest first (at most the
// latest 10,000).
func (s *Simulator) Requests() []Request {
	s.mu.Lock()
	defer s.mu.unlockRead()
	return s.requestsLocked(func(Request) bool { return true })
}

// requestsLocked returns copies of the recorded requests that keep keeps,
// oldest first, with their secrets redacted. The log itself holds each
// request's header as it arrived: redacting makes a copy of the header,
// and the log is written on every request but read seldom, so the copy is
// made here, by every reader (Requests, the audit, GET /_sim/requests).
func (s *Simulator) requestsLocked(keep func(Request) bool) []Request {
	out := []Request{}
	for _, r := range s.requests {
		if keep(r) {
			r.Header = redactHeader(r.Header)
			r.Warnings = slices.Clone(r.Warnings)
			out = append(out, r)
		}
	}
	return out
}

// Callbacks returns the finished callback deliveries, oldest first. Call
// [Simulator.WaitCallbacks] first to include those in flight.
func (s *Simulator) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.unlockRead()
	return slices.Clone(s.callbacks)
}

// WaitCallbacks waits until no callback is in flight.
func (s *Simulator) WaitCallbacks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending > 0 {
		s.idle.Wait()
	}
}

const redacted = "[redacted]"

func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Client_secret", "Ocp-Apim-Subscription-Key"} {
		for i := range out[k] {
			out[k][i] = redacted
		}
	}
	for i, v := range out["Authorization"] {
		if scheme, _, ok := strings.Cut(v, " "); ok {
			out["Authorization"][i] = scheme + " " + redacted
		} else {
			out["Authorization"][i] = redacted
		}
	}
	return out
}
