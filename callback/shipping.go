package callback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"unicode/utf8"

	"github.com/vippskit/vipps"
)

// Limits Vipps sets on a shipping option.
const (
	maxShippingMethod   = 256
	maxShippingMethodID = 100
)

// serveShipping handles POST {prefix}/v2/payments/{orderId}/shippingDetails:
// it checks the token, decodes the address, asks ShippingOptions with a
// deadline and answers with the options, echoing addressId and orderId. When
// ShippingOptions fails it answers with the fallback options, or 503.
func (h *Handler) serveShipping(w http.ResponseWriter, r *http.Request, id vipps.OrderID, log *slog.Logger) error {
	if err := h.authorize(r, id); err != nil {
		return err
	}
	body, err := readBody(w, r, h.maxBody)
	if err != nil {
		return err
	}
	req, err := decodeShippingDetailsRequest(body)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	log = log.With("address_id", req.AddressID)
	opts, err := h.options(r.Context(), id, req)
	if err != nil {
		if len(h.fallback) == 0 {
			return fmt.Errorf("%w: no shipping options: %w", errUnavailable, err)
		}
		log.Error("shipping options failed; answering with the fallback options", "err", err)
		opts = h.fallback
	}
	if opts == nil {
		opts = []vipps.ShippingOption{} // "shippingDetails": [], never null
	}
	b, err := json.Marshal(vipps.ShippingDetailsResponse{AddressID: req.AddressID, OrderID: id, ShippingDetails: opts})
	if err != nil { // cannot happen: options are validated
		return fmt.Errorf("encode shipping details: %w", err)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, err = w.Write(b)
	if err != nil {
		log.Warn("write shipping details", "err", err)
	}
	return nil
}

// decodeShippingDetailsRequest decodes a shippingDetails body leniently:
// addressId as number or string, addressLine2 null, zipCode for postCode,
// any country spelling ("NO", "Norway").
func decodeShippingDetailsRequest(b []byte) (*vipps.ShippingDetailsRequest, error) {
	var req vipps.ShippingDetailsRequest
	if err := decodeObject(b, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

type optionsResult struct {
	opts []vipps.ShippingOption
	err  error
}

// options runs ShippingOptions with the shipping deadline. It returns when
// the func returns or the deadline passes, whichever is first; a func that
// ignores its context keeps running in the background, and Shutdown waits
// for it.
func (h *Handler) options(ctx context.Context, id vipps.OrderID, req *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
	ctx, cancel := context.WithTimeout(ctx, h.shippingTimeout)
	defer cancel()
	if !h.begin() {
		return nil, errors.New("shutting down")
	}
	done := make(chan optionsResult, 1)
	arg := *req // the func may keep or change its copy
	go func() {
		defer h.wg.Done()
		done <- h.callOptions(ctx, id, &arg)
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
		if err := validateOptions(res.opts); err != nil {
			return nil, fmt.Errorf("invalid shipping options: %w", err)
		}
		return res.opts, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("ShippingOptions did not answer within %v: %w", h.shippingTimeout, ctx.Err())
	}
}

func (h *Handler) callOptions(ctx context.Context, id vipps.OrderID, req *vipps.ShippingDetailsRequest) (res optionsResult) {
	defer func() {
		if p := recover(); p != nil {
			res = optionsResult{err: fmt.Errorf("ShippingOptions panicked: %v\n%s", p, debug.Stack())}
		}
	}()
	opts, err := h.shippingOptions(ctx, id, req)
	return optionsResult{opts, err}
}

// validateOptions checks what would make Vipps fail the payment: a cost that
// is negative or not a number, and missing, too long or repeated method
// names and ids.
func validateOptions(opts []vipps.ShippingOption) error {
	seen := make(map[string]bool, len(opts))
	for i, o := range opts {
		c := float64(o.ShippingCost)
		switch {
		case math.IsNaN(c) || math.IsInf(c, 0) || c < 0:
			return fmt.Errorf("option %d: shippingCost %v must be a number of NOK from 0 up", i, c)
		case o.ShippingMethod == "":
			return fmt.Errorf("option %d: shippingMethod is empty", i)
		case utf8.RuneCountInString(o.ShippingMethod) > maxShippingMethod:
			return fmt.Errorf("option %d: shippingMethod is longer than %d characters", i, maxShippingMethod)
		case o.ShippingMethodID == "":
			return fmt.Errorf("option %d: shippingMethodId is empty", i)
		case utf8.RuneCountInString(o.ShippingMethodID) > maxShippingMethodID:
			return fmt.Errorf("option %d: shippingMethodId is longer than %d characters", i, maxShippingMethodID)
		case seen[o.ShippingMethodID]:
			return fmt.Errorf("option %d: shippingMethodId %q is used twice", i, o.ShippingMethodID)
		}
		seen[o.ShippingMethodID] = true
	}
	return nil
}
