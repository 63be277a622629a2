package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// statusOf maps an error to an HTTP status: the one place that does.
func statusOf(err error) int {
	ve, isVipps := errors.AsType[*vipps.Error](err)
	_, tooLarge := errors.AsType[*http.MaxBytesError](err)
	switch {
	case err == nil:
		return http.StatusOK
	case tooLarge:
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, payment.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, payment.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, payment.ErrExists), errors.Is(err, payment.ErrState),
		errors.Is(err, payment.ErrIdempotencyMismatch), errors.Is(err, payment.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, vipps.ErrOutcomeUnknown), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, payment.ErrUnavailable):
		return http.StatusServiceUnavailable
	case isVipps:
		// Vipps refused: the request was wrong for Vipps (422) or Vipps
		// failed (502).
		if ve.StatusCode >= 500 || ve.StatusCode == http.StatusTooManyRequests || ve.Unauthorized() {
			return http.StatusBadGateway
		}
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// messageOf is what an answer says about err, for the status statusOf
// gives it: the service's own words, never a store's or a library's text.
// id is the payment the request named, or "". A request the service
// refused is told in the words of the error that wraps the sentinel
// (payment's, or this package's: "invalid request: amount ... is
// negative"); a 5xx says nothing of the error, which the caller logs.
func messageOf(err error, id vipps.OrderID) string {
	if r, ok := errors.AsType[*payment.Refusal](err); ok {
		return r.Error()
	}
	if ve, ok := errors.AsType[*vipps.Error](err); ok && statusOf(err) != http.StatusInternalServerError {
		return ve.MerchantMessage()
	}
	switch {
	case errors.Is(err, payment.ErrInvalid):
		return cmp.Or(wrapperText(err, payment.ErrInvalid), "the request is not valid")
	case errors.Is(err, payment.ErrNotFound):
		if b, ok := errors.AsType[*badOrderID](err); ok {
			return b.Error()
		}
		if id != "" {
			return "no payment with orderId " + string(id)
		}
		return "not found"
	case errors.Is(err, payment.ErrIdempotencyMismatch):
		return "this idempotency key was used before for a different request; use a new key for a new request"
	case errors.Is(err, payment.ErrState):
		return cmp.Or(wrapperText(err, payment.ErrState), "not possible in the payment's state now")
	case errors.Is(err, payment.ErrExists):
		return "it exists already"
	case errors.Is(err, payment.ErrConflict):
		return "the payment changed while the request was served; read it again, then retry"
	case statusOf(err) == http.StatusGatewayTimeout:
		return "Vipps or the database did not answer in time, so the outcome is unknown"
	case statusOf(err) == http.StatusServiceUnavailable:
		return unavailableMessage
	case statusOf(err) == http.StatusBadGateway:
		return "Vipps could not be reached or had a problem"
	}
	return "internal error"
}

// unavailableMessage is what the API says when the database could not be
// used (payment.ErrUnavailable). The operation may have been done at
// Vipps before its outcome could be stored; the service finds out by
// itself, and a retry with the same idempotency key does nothing twice.
const unavailableMessage = "the service cannot use its database just now (its disk is full, or it is restarting or " +
	"cannot be reached); try again shortly: a request retried with the same idempotency key is never done twice"

// retryAfterUnavailable is the Retry-After of a 503 (seconds).
const retryAfterUnavailable = "5"

// wrapperText is the text of the error in err's chain that wraps sentinel
// itself, or "".
func wrapperText(err, sentinel error) string {
	stack := []error{err}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next == sentinel {
				return e.Error()
			} else if next != nil {
				stack = append(stack, next)
			}
		case interface{ Unwrap() []error }:
			if slices.Contains(u.Unwrap(), sentinel) {
				return e.Error()
			}
			stack = append(stack, u.Unwrap()...)
		}
	}
	return ""
}
