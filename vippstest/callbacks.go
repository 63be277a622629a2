package vippstest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/vippskit/vipps"
)

// expressCallback is the express shape of the transaction callback. Its
// address says zipCode (details says postCode), so vipps.Address does not
// fit the wire here.
type expressCallback struct {
	MerchantSerialNumber vipps.MSN                     `json:"merchantSerialNumber"`
	OrderID              vipps.OrderID                 `json:"orderId"`
	ShippingDetails      *expressShipping              `json:"shippingDetails,omitempty"`
	TransactionInfo      vipps.CallbackTransactionInfo `json:"transactionInfo"`
	UserDetails          *vipps.UserDetails            `json:"userDetails,omitempty"`
	ErrorInfo            *vipps.ErrorDetail            `json:"errorInfo,omitempty"`
}

type expressShipping struct {
	Address          expressAddress `json:"address"`
	ShippingCost     vipps.NOK      `json:"shippingCost"`
	ShippingMethod   string         `json:"shippingMethod"`
	ShippingMethodID string         `json:"shippingMethodId"`
}

type expressAddress struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	Country      string `json:"country"`
	ZipCode      string `json:"zipCode"`
}

// callbackBody builds the callback for p with status: the regular shape,
// or the express shape (with shipping and user details) when an express
// payment was approved. Payments with a scope get userDetails too.
func callbackBody(p *payment, status vipps.CallbackStatus, errInfo *vipps.ErrorDetail, now time.Time) []byte {
	info := vipps.CallbackTransactionInfo{Amount: p.amount, Status: status, TimeStamp: vipps.Time{Time: now}, TransactionID: p.txID}
	if errInfo != nil {
		e := *errInfo
		e.ContextID = newUUID()
		errInfo = &e
	}
	approved := status.Approved()
	var v any
	switch {
	case approved && p.order.express():
		ud := p.user.details()
		a := p.shipping.Address
		v = expressCallback{
			MerchantSerialNumber: p.msn,
			OrderID:              p.orderID,
			ShippingDetails: &expressShipping{
				Address:          expressAddress{AddressLine1: a.AddressLine1, AddressLine2: a.AddressLine2, City: a.City, Country: a.Country, ZipCode: a.PostCode},
				ShippingCost:     p.shipping.ShippingCost,
				ShippingMethod:   p.shipping.ShippingMethod,
				ShippingMethodID: p.shipping.ShippingMethodID,
			},
			TransactionInfo: info,
			UserDetails:     &ud,
		}
	case approved && p.order.scope != "":
		ud := p.user.details()
		v = vipps.TransactionCallback{MerchantSerialNumber: p.msn, OrderID: p.orderID, TransactionInfo: info, UserDetails: &ud}
	default:
		v = vipps.TransactionCallback{MerchantSerialNumber: p.msn, OrderID: p.orderID, TransactionInfo: info, ErrorInfo: errInfo}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("vippstest: encode callback: " + err.Error())
	}
	return b
}

// sendCallbackLocked starts the delivery of p's callback. The delivery runs
// on its own goroutine, owned by the simulator: Close waits for it.
func (s *Simulator) sendCallbackLocked(p *payment, status vipps.CallbackStatus, errInfo *vipps.ErrorDetail, now time.Time) {
	cb := Callback{
		Time:       now,
		MSN:        p.msn,
		OrderID:    p.orderID,
		URL:        p.order.callbackPrefix + "/v2/payments/" + string(p.orderID),
		Status:     status,
		Authorized: p.order.authToken != "",
		Body:       callbackBody(p, status, errInfo, now),
	}
	if s.closed {
		cb.Err = "not sent: the simulator is closed"
		s.recordCallbackLocked(cb, false)
		return
	}
	if s.auditDropLocked(&cb) { // audit.go
		return
	}
	s.dispatchLocked(cb, p.order.authToken) // callbackfaults.go
}

// deliver makes the one attempt Vipps makes and records it. It owns one
// unit of s.pending.
func (s *Simulator) deliver(cb Callback, authToken string) {
	cb = s.post(cb, authToken)
	s.mu.Lock()
	s.recordCallbackLocked(cb, true)
	s.releaseHeldLocked() // callbacks a reorder fault held back come after this one
	s.pending--
	if s.pending == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
}

// notify makes the one attempt of a call to a merchant whose answer body
// does not matter (a callback, a consent removal) and returns the status.
// The body is read, up to 64 KiB, so that the connection can be reused.
func (s *Simulator) notify(ctx context.Context, method, url string, body io.Reader, header http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, err
	}
	maps.Copy(req.Header, header)
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// post sends cb: a POST with a 3-second timeout, redirects not followed. It
// returns cb with the outcome.
func (s *Simulator) post(cb Callback, authToken string) Callback {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.cbTimeout)
	defer cancel()
	header := http.Header{"Content-Type": {jsonType}, "User-Agent": {"vippstest-callback"}}
	if authToken != "" {
		header.Set("Authorization", authToken)
	}
	status, err := s.notify(ctx, http.MethodPost, cb.URL, bytes.NewReader(cb.Body), header)
	cb.StatusCode = status
	if err != nil {
		cb.Err = err.Error()
	}
	cb.Duration = time.Since(start)

	level := slog.LevelInfo
	if !cb.Delivered() {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(context.Background(), level, "callback",
		slog.String("order_id", string(cb.OrderID)), slog.String("msn", string(cb.MSN)),
		slog.String("status", string(cb.Status)), slog.String("url", cb.URL),
		slog.Int("http_status", cb.StatusCode), slog.String("error", cb.Err),
		slog.Duration("duration", cb.Duration))
	return cb
}
