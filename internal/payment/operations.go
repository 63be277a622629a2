package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// OpRequest is a capture, refund or cancel as the shop asks for it.
type OpRequest struct {
	// Key is the shop's idempotency key: the same key with the same request
	// returns the first operation instead of doing it again; with a
	// different request it fails with ErrIdempotencyMismatch. Empty means
	// no protection against the shop's own retries.
	Key string
	// Amount in øre; 0 means all that remains (capture, refund).
	Amount vipps.Amount
	// Text is shown to the customer; empty means the payment's text.
	Text string
	// ReleaseRemaining (cancel) releases what is still reserved after
	// partial captures.
	ReleaseRemaining bool
}

// Capture captures money of a reserved payment: all that remains, or
// r.Amount. The operation is stored with its X-Request-Id before Vipps is
// called, so that neither a retry by the shop, a timeout nor a crash ever
// captures twice. The returned operation is OpSucceeded, OpFailed (with the
// reason in its Error), or OpPending when Vipps' answer was lost: the
// service then sends it again with the same X-Request-Id until Vipps
// answers, and tells the shop by webhook.
func (s *Service) Capture(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	return s.operate(ctx, id, OpCapture, r)
}

// Refund returns captured money: all of it that remains, or r.Amount. Like
// [Service.Capture], it is done once.
func (s *Service) Refund(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	return s.operate(ctx, id, OpRefund, r)
}

// Cancel stops a payment the customer has not approved, voids a reservation
// with nothing captured, or (with r.ReleaseRemaining) releases what remains
// reserved after partial captures.
func (s *Service) Cancel(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	r.Amount = 0
	return s.operate(ctx, id, OpCancel, r)
}

// Operations returns the payment's operations, oldest first.
func (s *Service) Operations(ctx context.Context, id vipps.OrderID) ([]*Operation, error) {
	return s.store.Operations(ctx, id, false)
}

// operate stores and sends an operation.
func (s *Service) operate(ctx context.Context, id vipps.OrderID, kind OpKind, r OpRequest) (*Operation, error) {
	if r.Amount < 0 {
		return nil, fmt.Errorf("%w: amount %d øre is negative", ErrInvalid, r.Amount)
	}
	if len(r.Key) > 200 {
		return nil, fmt.Errorf("%w: idempotency key is longer than 200 characters", ErrInvalid)
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Text == "" {
		r.Text = p.Text
	}
	now := s.now()
	op := &Operation{
		OrderID: id, Kind: kind, IdempotencyKey: r.Key, RequestID: vipps.NewRequestID(),
		Amount: r.Amount, Text: r.Text, ReleaseRemaining: r.ReleaseRemaining,
		Status: OpPending, CreatedAt: now, UpdatedAt: now,
	}
	if r.Key != "" {
		ops, err := s.store.Operations(ctx, id, false)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		for _, old := range ops {
			if old.Kind == kind && old.IdempotencyKey == r.Key {
				return s.replay(ctx, old, op)
			}
		}
	} else {
		op.IdempotencyKey = op.RequestID
	}
	if err := allowed(p, kind, r); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	data, _ := json.Marshal(map[string]any{"op": kind, "key": op.IdempotencyKey, "requestId": op.RequestID, "release": r.ReleaseRemaining})
	got, err := s.store.AddOperation(ctx, op, Event{Type: EventOperationQueued, State: p.State, Amount: r.Amount, Data: data, At: now})
	switch {
	case errors.Is(err, ErrExists):
		return s.replay(ctx, got, op) // a concurrent request with the same key
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	return s.send(ctx, op)
}

// replay answers a repeated request: the same operation, sent again if it
// is still pending.
func (s *Service) replay(ctx context.Context, old, req *Operation) (*Operation, error) {
	if !old.SameRequest(req) {
		return nil, fmt.Errorf("%s %s with key %q: %w (first: amount %d, text %q)", req.Kind, req.OrderID, req.IdempotencyKey, ErrIdempotencyMismatch, old.Amount, old.Text)
	}
	if old.Status != OpPending {
		return old, nil
	}
	return s.send(ctx, old)
}

// allowed checks an operation against the stored payment, so that the shop
// learns what is wrong without a call to Vipps.
func allowed(p *Payment, kind OpKind, r OpRequest) error {
	a := p.Amounts
	switch kind {
	case OpCapture:
		switch {
		case p.State.WaitingForCustomer():
			return fmt.Errorf("%w: the customer has not approved the payment yet (state %s)", ErrState, p.State)
		case p.State != Reserved || a.RemainingToCapture == 0:
			return fmt.Errorf("%w: nothing is left to capture (state %s)", ErrState, p.State)
		case r.Amount > a.RemainingToCapture:
			return fmt.Errorf("%w: amount %d øre is more than the %d øre left to capture", ErrInvalid, r.Amount, a.RemainingToCapture)
		}
	case OpRefund:
		switch {
		case a.RemainingToRefund == 0:
			return fmt.Errorf("%w: nothing is captured that is not refunded (state %s)", ErrState, p.State)
		case r.Amount > a.RemainingToRefund:
			return fmt.Errorf("%w: amount %d øre is more than the %d øre left to refund", ErrInvalid, r.Amount, a.RemainingToRefund)
		}
	case OpCancel:
		switch {
		case p.State.WaitingForCustomer():
		case p.State == Reserved && a.Captured == 0:
		case p.State == Reserved && !r.ReleaseRemaining:
			return fmt.Errorf("%w: %d øre is captured already; cancel with releaseRemaining to release the %d øre left, or refund", ErrState, a.Captured, a.RemainingToCapture)
		case p.State == Reserved:
		default:
			return fmt.Errorf("%w: a %s payment cannot be cancelled", ErrState, p.State)
		}
	}
	return nil
}

// send calls Vipps for a stored operation and stores the outcome. A lost
// answer leaves the operation pending (the poller sends it again); a refusal
// marks it failed. It returns the operation and only errors of the store.
func (s *Service) send(ctx context.Context, op *Operation) (*Operation, error) {
	var (
		resp *vipps.TransactionResponse
		err  error
	)
	switch op.Kind {
	case OpCapture:
		resp, err = s.vipps.Capture(ctx, op.OrderID, vipps.CaptureRequest{Amount: op.Amount, TransactionText: op.Text, RequestID: op.RequestID})
	case OpRefund:
		resp, err = s.vipps.Refund(ctx, op.OrderID, vipps.CaptureRequest{Amount: op.Amount, TransactionText: op.Text, RequestID: op.RequestID})
	case OpCancel:
		resp, err = s.vipps.Cancel(ctx, op.OrderID, vipps.CancelRequest{TransactionText: op.Text, ShouldReleaseRemainingFunds: op.ReleaseRemaining})
	default:
		return nil, fmt.Errorf("operation %d: unknown kind %q", op.ID, op.Kind)
	}
	log := s.log.With("order_id", op.OrderID, "op", string(op.Kind), "request_id", op.RequestID)
	now := s.now()
	if err != nil {
		var ve *vipps.Error
		if errors.Is(err, vipps.ErrOutcomeUnknown) || !errors.As(err, &ve) || ve.Retryable() {
			log.Warn("operation outcome unknown; it will be sent again with the same X-Request-Id", vippsAttrs(err)...)
			return op, nil
		}
		log.Error("Vipps refused the operation", vippsAttrs(err)...)
		op.Status, op.Error, op.UpdatedAt = OpFailed, vippsError(string(op.Kind), err, now), now
		data, _ := json.Marshal(op.Error)
		err = s.finish(ctx, op, func(p *Payment, now time.Time) ([]Event, error) {
			p.LastError = op.Error
			if err := s.rescheduleAfterOp(ctx, p, op, now); err != nil {
				return nil, err
			}
			if !p.State.Final() {
				// Vipps disagreed with what the service knows of the
				// payment: the poller checks the details at once.
				p.NextCheckAt = now
			}
			return []Event{{Type: EventOperationFailed, State: p.State, Amount: op.Amount, Data: data, At: now}}, nil
		})
		if err != nil {
			return nil, err
		}
		return op, nil
	}
	op.Status, op.UpdatedAt = OpSucceeded, now
	log.Info("operation succeeded", "amount", int64(resp.TransactionInfo.Amount))
	err = s.finish(ctx, op, func(p *Payment, now time.Time) ([]Event, error) {
		sum := resp.TransactionSummary
		a := Amounts{Authorized: p.Amounts.Authorized, Captured: sum.CapturedAmount, Refunded: sum.RefundedAmount,
			RemainingToCapture: sum.RemainingAmountToCapture, RemainingToRefund: sum.RemainingAmountToRefund}
		st := reservedState(a)
		if op.Kind == OpCancel && p.State.WaitingForCustomer() {
			st, a = Cancelled, p.Amounts
		}
		ev := s.apply(p, Observation{State: st, Amounts: a}, nil, "", now)
		return ev, s.rescheduleAfterOp(ctx, p, op, now)
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}

// rescheduleAfterOp sets when to check p after its operation op ended
// (stored as pending still).
func (s *Service) rescheduleAfterOp(ctx context.Context, p *Payment, op *Operation, now time.Time) error {
	pending, err := s.store.Operations(ctx, p.OrderID, true)
	if err != nil {
		return err
	}
	pending = slices.DeleteFunc(pending, func(o *Operation) bool { return o.ID == op.ID })
	if p.State.WaitingForCustomer() {
		if p.NextCheckAt.IsZero() {
			p.NextCheckAt = s.nextCheck(p, pending, now)
		}
		return nil
	}
	p.NextCheckAt = s.nextCheck(p, pending, now)
	return nil
}
