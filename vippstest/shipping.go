package vippstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/vippskit/vipps"
)

// ErrShipping means that the merchant's shippingDetails endpoint gave no
// usable answer (timeout, refused connection, a status other than 200 or a
// malformed body), so the user cannot finish express checkout. The control
// API maps it to 502.
var ErrShipping = errors.New("vippstest: no usable answer from the merchant's shippingDetails endpoint")

// shippingTimeout is how long Vipps waits for a shippingDetails answer.
const shippingTimeout = 10 * time.Second

// maxShippingAnswer bounds the shippingDetails answer read.
const maxShippingAnswer = 1 << 20

// The texts the Vipps app shows when shipping options cannot be had.
const (
	msgNoShippingMethods = "No shipping methods found"
	msgPaymentFailed     = "Payment failed"
)

// expressChoice is what the user picked in express checkout.
type expressChoice struct {
	address userAddress
	option  vipps.ShippingOption
}

// ShippingCall is one request the simulator made to a merchant's
// shippingDetails endpoint, for an express payment without
// staticShippingDetails.
type ShippingCall struct {
	// Time is the simulator's clock when the call was made.
	Time    time.Time     `json:"time"`
	MSN     vipps.MSN     `json:"merchantSerialNumber"`
	OrderID vipps.OrderID `json:"orderId"`
	URL     string        `json:"url"`
	// Authorized reports whether an Authorization header (the payment's
	// authToken) was sent.
	Authorized bool  `json:"authorized"`
	AddressID  int64 `json:"addressId"`
	// Body is the JSON body sent.
	Body json.RawMessage `json:"body"`
	// StatusCode is the merchant's answer, 0 when there was none.
	StatusCode int `json:"statusCode"`
	// Response is the merchant's answer body (at most 64 KiB of it).
	Response string `json:"response,omitempty"`
	// Options is how many shipping options the answer held, when it was
	// usable.
	Options int `json:"options"`
	// Err says why the answer was not usable; empty when it was.
	Err string `json:"error,omitempty"`
	// Duration is how long the call took, in real time.
	Duration time.Duration `json:"duration"`
}

// ShippingCalls returns the shippingDetails calls made so far, oldest
// first (at most the latest 10,000).
func (s *Simulator) ShippingCalls() []ShippingCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.app.shippingCalls)
}

// shippingAsk is a shippingDetails call to make, prepared under the lock.
type shippingAsk struct {
	msn       vipps.MSN
	orderID   vipps.OrderID
	url       string
	authToken string
	address   userAddress
}

// dynamicShipping reports whether express payment p gets its shipping
// options from the merchant.
func (p *payment) dynamicShipping() bool {
	return p.order.express() && len(p.order.staticShipping) == 0
}

func shippingAskFor(p *payment, a userAddress) shippingAsk {
	return shippingAsk{
		msn:       p.msn,
		orderID:   p.orderID,
		url:       p.order.shippingDetailsPrefix + "/v2/payments/" + string(p.orderID) + "/shippingDetails",
		authToken: p.order.authToken,
		address:   a,
	}
}

// shippingBody is the shippingDetails request as Vipps sends it:
// addressLine2 is null when the address has none.
type shippingBody struct {
	AddressID    int64   `json:"addressId"`
	AddressLine1 string  `json:"addressLine1"`
	AddressLine2 *string `json:"addressLine2"`
	City         string  `json:"city"`
	Country      string  `json:"country"`
	PostCode     string  `json:"postCode"`
	AddressType  string  `json:"addressType"`
}

// shippingError is a failed shippingDetails call: what the app shows, and
// why.
type shippingError struct {
	shown  string // msgNoShippingMethods or msgPaymentFailed
	reason string
}

func (e *shippingError) Error() string { return e.shown + ": " + e.reason }
func (e *shippingError) Unwrap() error { return ErrShipping }

// askShipping calls the merchant's shippingDetails endpoint once and
// returns the options it answered with. It must be called without the
// lock: it takes it to register and record the call. Close waits for it.
// Errors are *shippingError.
func (s *Simulator) askShipping(ctx context.Context, a shippingAsk) ([]vipps.ShippingOption, error) {
	var line2 *string
	if a.address.AddressLine2 != "" {
		line2 = &a.address.AddressLine2
	}
	body, err := json.Marshal(shippingBody{
		AddressID:    a.address.id,
		AddressLine1: a.address.AddressLine1,
		AddressLine2: line2,
		City:         a.address.City,
		Country:      "NO",
		PostCode:     a.address.PostCode,
		AddressType:  a.address.kind,
	})
	if err != nil {
		panic("vippstest: encode shippingDetails request: " + err.Error())
	}
	call := ShippingCall{MSN: a.msn, OrderID: a.orderID, URL: a.url, Authorized: a.authToken != "", AddressID: a.address.id, Body: body}

	s.mu.Lock()
	call.Time = s.nowLocked()
	timeout := cmp.Or(s.app.shippingTimeout, shippingTimeout)
	if !s.beginCallLocked() {
		call.Err = "not sent: the simulator is closed"
		s.app.shippingCalls = appendBounded(s.app.shippingCalls, call)
		s.mu.Unlock()
		return nil, &shippingError{msgNoShippingMethods, call.Err}
	}
	s.mu.Unlock()

	start := time.Now()
	opts, answer, err := s.shippingRoundTrip(ctx, a, body, timeout, &call)
	call.Duration = time.Since(start)
	call.Response = answer
	if err != nil {
		call.Err = err.Error()
	} else {
		call.Options = len(opts)
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, "shipping details call",
		slog.String("order_id", string(a.orderID)), slog.String("msn", string(a.msn)),
		slog.String("url", a.url), slog.Int64("address_id", a.address.id),
		slog.Int("http_status", call.StatusCode), slog.Int("options", call.Options),
		slog.String("error", call.Err), slog.Duration("duration", call.Duration))

	s.mu.Lock()
	s.app.shippingCalls = appendBounded(s.app.shippingCalls, call)
	s.endCallLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// shippingRoundTrip makes the request and checks the answer. It returns
// the answer body for the record.
func (s *Simulator) shippingRoundTrip(ctx context.Context, a shippingAsk, body []byte, timeout time.Duration, call *ShippingCall) ([]vipps.ShippingOption, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return nil, "", &shippingError{msgNoShippingMethods, err.Error()}
	}
	req.Header.Set("Content-Type", jsonType)
	req.Header.Set("User-Agent", "vippstest-shipping")
	if a.authToken != "" {
		req.Header.Set("Authorization", a.authToken)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, "", &shippingError{msgNoShippingMethods, fmt.Sprintf("no answer within %v", timeout)}
		}
		return nil, "", &shippingError{msgNoShippingMethods, err.Error()}
	}
	defer resp.Body.Close()
	call.StatusCode = resp.StatusCode
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxShippingAnswer+1))
	recorded := string(answer)
	if len(recorded) > 64<<10 {
		recorded = recorded[:64<<10] + "…[truncated]"
	}
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return nil, recorded, &shippingError{msgNoShippingMethods, fmt.Sprintf("the answer did not arrive within %v", timeout)}
	case err != nil:
		return nil, recorded, &shippingError{msgNoShippingMethods, "reading the answer: " + err.Error()}
	case resp.StatusCode != http.StatusOK:
		return nil, recorded, &shippingError{msgNoShippingMethods, fmt.Sprintf("the merchant answered %d, not 200", resp.StatusCode)}
	case len(answer) > maxShippingAnswer:
		return nil, recorded, &shippingError{msgPaymentFailed, "the answer is larger than 1 MiB"}
	}
	opts, err := checkShippingAnswer(answer, a)
	if err != nil {
		return nil, recorded, &shippingError{msgPaymentFailed, err.Error()}
	}
	if len(opts) == 0 {
		return nil, recorded, &shippingError{msgNoShippingMethods, "the answer holds no shipping options"}
	}
	return opts, recorded, nil
}

// checkShippingAnswer decodes and checks a shippingDetails answer: it must
// echo the addressId and the orderId, and every option needs isDefault,
// shippingCost, shippingMethod and shippingMethodId, within Vipps' limits.
func checkShippingAnswer(b []byte, a shippingAsk) ([]vipps.ShippingOption, error) {
	var res vipps.ShippingDetailsResponse
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("the answer is not a shippingDetails response: %v", err)
	}
	var present struct {
		AddressID       json.RawMessage              `json:"addressId"`
		OrderID         json.RawMessage              `json:"orderId"`
		ShippingDetails []map[string]json.RawMessage `json:"shippingDetails"`
	}
	if err := json.Unmarshal(b, &present); err != nil {
		return nil, fmt.Errorf("the answer is not a shippingDetails response: %v", err)
	}
	switch {
	case present.AddressID == nil:
		return nil, errors.New("addressId is missing")
	case res.AddressID != a.address.id:
		return nil, fmt.Errorf("addressId is %d, not the %d that was sent", res.AddressID, a.address.id)
	case present.OrderID == nil:
		return nil, errors.New("orderId is missing")
	case res.OrderID != a.orderID:
		return nil, fmt.Errorf("orderId is %q, not %q", res.OrderID, a.orderID)
	case res.ShippingDetails == nil:
		return nil, errors.New("shippingDetails is missing")
	}
	seen := map[string]bool{}
	for i, o := range res.ShippingDetails {
		for _, k := range []string{"isDefault", "shippingCost", "shippingMethod", "shippingMethodId"} {
			if _, ok := present.ShippingDetails[i][k]; !ok {
				return nil, fmt.Errorf("shippingDetails[%d].%s is missing", i, k)
			}
		}
		c := float64(o.ShippingCost)
		switch {
		case math.IsNaN(c) || math.IsInf(c, 0) || c < 0:
			return nil, fmt.Errorf("shippingDetails[%d].shippingCost must be a number of NOK from 0 up", i)
		case o.ShippingMethod == "" || utf8.RuneCountInString(o.ShippingMethod) > 256:
			return nil, fmt.Errorf("shippingDetails[%d].shippingMethod must be 1 to 256 characters", i)
		case o.ShippingMethodID == "" || utf8.RuneCountInString(o.ShippingMethodID) > 100:
			return nil, fmt.Errorf("shippingDetails[%d].shippingMethodId must be 1 to 100 characters", i)
		case seen[o.ShippingMethodID]:
			return nil, fmt.Errorf("shippingDetails[%d].shippingMethodId %q is used twice", i, o.ShippingMethodID)
		}
		seen[o.ShippingMethodID] = true
	}
	return res.ShippingDetails, nil
}

// approveAsUser is what the Approve hook and the control API do: it
// approves the payment as the user with phone. For express checkout with a
// shippingDetailsPrefix it first asks the merchant for the options of the
// user's first address, without the lock, and then re-checks the payment.
// msn "" finds the orderId among all merchants.
func (s *Simulator) approveAsUser(ctx context.Context, msn vipps.MSN, orderID vipps.OrderID, phone string) (Payment, error) {
	wrap := func(err error) (Payment, error) {
		return Payment{}, fmt.Errorf("approve order %s: %w", orderID, err)
	}
	s.mu.Lock()
	now := s.nowLocked()
	s.sweepLocked(now)
	p, err := s.findLocked(msn, orderID)
	if err != nil {
		s.mu.Unlock()
		return wrap(err)
	}
	var choice *expressChoice
	if p.dynamicShipping() && p.waiting() {
		who := cmp.Or(phone, p.order.mobileNumber, DefaultPhoneNumber)
		if !phonePattern.MatchString(who) {
			s.mu.Unlock()
			return wrap(fmt.Errorf("phone number %q must be 8 digits", who))
		}
		ask := shippingAskFor(p, userFor(who).addresses()[0])
		s.mu.Unlock()
		opts, err := s.askShipping(ctx, ask)
		if err != nil {
			return wrap(err)
		}
		opt, _ := defaultShipping(opts)
		choice = &expressChoice{address: ask.address, option: opt}
		s.mu.Lock()
		now = s.nowLocked()
		s.sweepLocked(now)
	}
	defer s.mu.Unlock()
	if err := s.approveLocked(p, phone, now, false, choice); err != nil {
		return wrap(err)
	}
	return p.snapshot(), nil
}

// beginCallLocked registers a call to a merchant that Close must wait
// for. It reports false once the simulator is closed.
func (s *Simulator) beginCallLocked() bool {
	if s.closed {
		return false
	}
	s.pending++
	return true
}

// endCallLocked ends what beginCallLocked began.
func (s *Simulator) endCallLocked() {
	s.pending--
	if s.pending == 0 {
		s.idle.Broadcast()
	}
}
