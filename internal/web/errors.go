package web

import (
	"context"
	"errors"
	"net/http"

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
