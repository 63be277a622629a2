package callback

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/vippskit/vipps"
)

// serveTransaction handles POST {prefix}/v2/payments/{orderId}: it checks the
// token, decodes and validates the body, queues it for OnTransaction and
// answers 200. Vipps waits 3 s and tries once, so nothing slow happens here.
func (h *Handler) serveTransaction(w http.ResponseWriter, r *http.Request, id vipps.OrderID, log *slog.Logger) error {
	if err := h.authorize(r, id); err != nil {
		return err
	}
	body, err := readBody(w, r, h.maxBody)
	if err != nil {
		return err
	}
	cb, err := decodeTransactionCallback(body)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if cb.OrderID != id {
		return fmt.Errorf("%w: body orderId %q does not match path orderId %q", errBadRequest, string(cb.OrderID), string(id))
	}
	status := cb.TransactionInfo.Status
	if !status.Known() {
		log.Warn("transaction callback with an undocumented status; passing it on", "status", string(status))
	}
	if err := h.enqueue(r.Context(), cb); err != nil {
		return err
	}
	log.Info("transaction callback accepted", "status", string(status), "express", cb.Express())
	w.WriteHeader(http.StatusOK)
	return nil
}

// decodeTransactionCallback decodes a transaction callback body leniently (see
// the package doc) and checks the fields every callback must have.
func decodeTransactionCallback(b []byte) (*vipps.TransactionCallback, error) {
	var cb vipps.TransactionCallback
	if err := decodeObject(b, &cb); err != nil {
		return nil, err
	}
	if err := cb.OrderID.Validate(); err != nil {
		return nil, err
	}
	if cb.TransactionInfo.Status == "" {
		return nil, fmt.Errorf("transactionInfo.status is missing")
	}
	return &cb, nil
}

// enqueue hands cb to the workers, waiting at most QueueWait for room.
func (h *Handler) enqueue(ctx context.Context, cb *vipps.TransactionCallback) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return fmt.Errorf("%w: shutting down; the payment must be reconciled through /details", errUnavailable)
	}
	select {
	case h.jobs <- cb:
		return nil
	default:
	}
	t := time.NewTimer(h.queueWait)
	defer t.Stop()
	select {
	case h.jobs <- cb:
		return nil
	case <-t.C:
		return fmt.Errorf("%w: callback queue full; the payment must be reconciled through /details", errUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", errUnavailable, ctx.Err())
	}
}

// work runs OnTransaction for queued callbacks until Shutdown closes the
// queue. After Shutdown gave up it drops what is left.
func (h *Handler) work() {
	defer h.wg.Done()
	for cb := range h.jobs {
		log := h.log.With("order_id", string(cb.OrderID), "status", string(cb.TransactionInfo.Status))
		if h.base.Err() != nil {
			log.Error("transaction callback dropped at shutdown; reconcile the payment through /details")
			continue
		}
		if err := h.handle(cb); err != nil {
			log.Error("transaction callback failed", "err", err)
		}
	}
}

// handle runs OnTransaction with its timeout, turning a panic into an error.
func (h *Handler) handle(cb *vipps.TransactionCallback) (err error) {
	ctx, cancel := context.WithTimeout(h.base, h.txTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("OnTransaction panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h.onTransaction(ctx, cb)
}
