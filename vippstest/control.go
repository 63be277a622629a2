package vippstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vippskit/vipps"
)

// controlRoutes registers the control API (listed in the package
// documentation). Browsers on other sites may not call it.
func (s *Simulator) controlRoutes(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	ctl := func(pattern string, h func(*exchange) reply) {
		mux.Handle(pattern, cop.Handler(s.handle("", false, h)))
	}
	ctl("GET /_sim/clock", readOnly(func(x *exchange) reply { return jsonReply(http.StatusOK, clockJSON{x.now}) }))
	ctl("POST /_sim/clock/advance", s.ctlAdvance)
	ctl("GET /_sim/payments", readOnly(func(x *exchange) reply { return jsonReply(http.StatusOK, s.paymentsLocked()) }))
	ctl("GET /_sim/payments/{orderId}", readOnly(func(x *exchange) reply {
		p, err := s.findLocked(vipps.MSN(x.r.URL.Query().Get("msn")), vipps.OrderID(x.r.PathValue("orderId")))
		if err != nil {
			return ctlError(err)
		}
		return jsonReply(http.StatusOK, p.snapshot())
	}))
	// Approve may call the merchant's shippingDetails endpoint, which must
	// not happen under the lock that handle holds.
	mux.Handle("POST /_sim/payments/{orderId}/approve", cop.Handler(http.HandlerFunc(s.ctlApprove)))
	ctl("POST /_sim/payments/{orderId}/reject", s.ctlUser((*Simulator).rejectLocked))
	ctl("POST /_sim/payments/{orderId}/expire", s.ctlUser((*Simulator).expireLocked))
	ctl("GET /_sim/requests", readOnly(func(x *exchange) reply {
		return jsonReply(http.StatusOK, s.requestsLocked(func(Request) bool { return true }))
	}))
	ctl("GET /_sim/callbacks", readOnly(func(x *exchange) reply { return jsonReply(http.StatusOK, nonNil(s.callbacks)) }))
	ctl("GET /_sim/audit", readOnly(s.ctlAudit)) // audit.go
	s.faultRoutes(ctl)                           // faults.go
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type clockJSON struct {
	Now time.Time `json:"now"`
}

// ctlStatus maps a hook error to its HTTP status.
func ctlStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrAmbiguous), errors.Is(err, ErrState):
		return http.StatusConflict
	case errors.Is(err, ErrUnsupported):
		return http.StatusNotImplemented
	case errors.Is(err, ErrShipping):
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}

func ctlError(err error) reply {
	return jsonReply(ctlStatus(err), map[string]string{"error": err.Error()})
}

// decodeControl decodes an optional JSON body into v.
func decodeControl(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad request body: %w", err)
	}
	return nil
}

func (s *Simulator) ctlAdvance(x *exchange) reply {
	var in struct {
		Duration string `json:"duration"`
	}
	if err := decodeControl(x.body, &in); err != nil {
		return ctlError(err)
	}
	d, err := time.ParseDuration(in.Duration)
	if err != nil || d < 0 {
		return ctlError(fmt.Errorf("duration %q must be a non-negative Go duration such as \"10m\" or \"4320h\"", in.Duration))
	}
	s.offset += d
	now := s.nowLocked()
	s.sweepLocked(now)
	return jsonReply(http.StatusOK, clockJSON{now})
}

func (s *Simulator) ctlApprove(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PhoneNumber string `json:"phoneNumber"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		ctlError(err).write(w)
		return
	}
	if err := decodeControl(body, &in); err != nil {
		ctlError(err).write(w)
		return
	}
	p, err := s.approveAsUser(r.Context(), vipps.MSN(r.URL.Query().Get("msn")), vipps.OrderID(r.PathValue("orderId")), in.PhoneNumber)
	if err != nil {
		ctlError(err).write(w)
		return
	}
	jsonReply(http.StatusOK, p).write(w)
}

// ctlUser serves a hook that takes only the payment.
func (s *Simulator) ctlUser(act func(*Simulator, *payment, time.Time) error) func(*exchange) reply {
	return func(x *exchange) reply {
		p, err := s.findLocked(vipps.MSN(x.r.URL.Query().Get("msn")), vipps.OrderID(x.r.PathValue("orderId")))
		if err != nil {
			return ctlError(err)
		}
		if err := act(s, p, x.now); err != nil {
			return ctlError(err)
		}
		return jsonReply(http.StatusOK, p.snapshot())
	}
}
