package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vippskit/vipps"
)

// StaleAfter is how long after the customer's time limit the service waits
// for Vipps to end a payment on its own; then it cancels the payment itself,
// so that no payment stays unresolved.
const StaleAfter = time.Minute

// Check asks Vipps for the payment's details now and stores what changed.
// The return page and staff use it; it is safe to repeat. When Vipps could
// not be asked (or answered nonsense), the error says why, and the payment
// is returned too, as stored (with that error as its LastError).
func (s *Service) Check(ctx context.Context, id vipps.OrderID) (*Payment, error) {
	p, failed, err := s.check(ctx, id, "", nil)
	if err == nil && failed != nil {
		err = fmt.Errorf("check %s: %w", id, failed)
	}
	return p, err
}

// OnCallback records a transaction callback and checks the payment's
// details: a callback only makes the service look sooner, its content is
// never trusted alone. Duplicate and late callbacks are recorded and change
// nothing else.
func (s *Service) OnCallback(ctx context.Context, cb *vipps.TransactionCallback) error {
	if e := cb.ErrorInfo; e != nil {
		s.log.Warn("Vipps reports the payment failed", "order_id", cb.OrderID, "status", string(cb.TransactionInfo.Status),
			"group", string(e.Group), "code", e.Code, "message", e.Message, "context_id", e.ContextID)
	}
	_, _, err := s.check(ctx, cb.OrderID, "", cb)
	return err
}

// Poll is the poller's step for one payment it leased as owner: it checks
// the details, sends pending operations again (with their X-Request-Id),
// ends payments Vipps left unresolved past the customer's time limit, and
// frees the lease.
func (s *Service) Poll(ctx context.Context, p *Payment, owner string) error {
	p, _, err := s.check(ctx, p.OrderID, owner, nil)
	if err != nil {
		return err
	}
	ops, err := s.store.Operations(ctx, p.OrderID, true)
	if err != nil {
		return fmt.Errorf("poll %s: %w", p.OrderID, err)
	}
	now := s.now()
	for _, op := range ops {
		if now.Before(op.CreatedAt.Add(OpResumeAfter)) {
			continue // may still be in flight
		}
		if op.Kind == OpCancel && (p.State.Final() || (p.State == Captured && op.ReleaseRemaining)) {
			// Done by an attempt whose answer was lost.
			op.Status, op.UpdatedAt = OpSucceeded, now
			if err := s.store.UpdateOperation(ctx, op); err != nil {
				return err
			}
			continue
		}
		s.log.Info("sending a pending operation again", "order_id", op.OrderID, "op", string(op.Kind), "request_id", op.RequestID)
		if _, err := s.send(ctx, op); err != nil {
			return err
		}
	}
	return nil
}

// check calls details and applies them. owner, when set, is the poller's
// lease to free; cb, when set, is the callback that caused the check: it is
// recorded as an event, its status is a hint, and its error (why the
// payment failed, which /details does not say) is stored on the payment.
// failed is why the details could not be had or used (recorded on the
// payment, and logged); err is why nothing could be stored.
func (s *Service) check(ctx context.Context, id vipps.OrderID, owner string, cb *vipps.TransactionCallback) (p *Payment, failed error, err error) {
	d, derr := s.vipps.Details(ctx, id)
	var (
		stale bool
		fresh bool // newly reserved
		hint  vipps.CallbackStatus
		cbEv  []byte
	)
	if cb != nil {
		hint = cb.TransactionInfo.Status
		cbEv, _ = json.Marshal(struct {
			Status        vipps.CallbackStatus `json:"status"`
			Amount        vipps.Amount         `json:"amount"`
			TransactionID string               `json:"transactionId,omitempty"`
			Error         *vipps.ErrorDetail   `json:"errorInfo,omitempty"`
		}{cb.TransactionInfo.Status, cb.TransactionInfo.Amount, cb.TransactionInfo.TransactionID, cb.ErrorInfo})
	}
	for i := 0; ; i++ {
		if p, err = s.store.Get(ctx, id); err != nil {
			return nil, nil, fmt.Errorf("check %s: %w", id, err)
		}
		pending, err := s.store.Operations(ctx, id, true)
		if err != nil {
			return nil, nil, fmt.Errorf("check %s: %w", id, err)
		}
		now := s.now()
		prev, prevNext, prevLease := p.State, p.NextCheckAt, p.LeaseOwner
		var ev []Event
		if cb != nil {
			ev = append(ev, Event{Type: EventCallback, Data: cbEv, At: now})
		}
		derr := derr
		var obs Observation
		if derr == nil {
			obs, derr = Observe(d)
		}
		failed = derr
		if derr == nil {
			ev = append(ev, s.apply(p, obs, d, hint, now)...)
		} else {
			ev = append(ev, s.detailsFailed(p, derr, now)...)
		}
		p.NextCheckAt = s.nextCheck(p, pending, now)
		if owner != "" && p.LeaseOwner == owner {
			p.LeaseOwner, p.LeaseUntil = "", time.Time{}
		}
		stale = p.State.WaitingForCustomer() && !now.Before(s.sched.Deadline(sentAt(p)).Add(StaleAfter))
		fresh = prev.WaitingForCustomer() && p.State == Reserved
		if cb != nil {
			ev[0].State = p.State
			if e := callbackError(p, cb, now); e != nil {
				p.LastError = e
				ev = append(ev, errorEvent(p, now))
			}
		}
		if len(ev) == 0 && p.NextCheckAt.Equal(prevNext) && p.LeaseOwner == prevLease {
			break
		}
		p.UpdatedAt = now
		err = s.store.Update(ctx, p, ev...)
		if err == nil {
			for _, e := range ev {
				if e.Type != EventCallback && e.Type != EventVippsError {
					s.log.Info("payment "+string(e.Type), "order_id", id, "state", string(e.State), "amount", int64(e.Amount))
				}
			}
			break
		}
		if !errors.Is(err, ErrConflict) || i == 9 {
			return nil, nil, fmt.Errorf("check %s: %w", id, err)
		}
	}
	if failed != nil {
		s.log.Warn("details failed", append([]any{"order_id", id}, vippsAttrs(failed)...)...)
	}
	switch {
	case fresh && p.ShopRef != "":
		if err := s.cancelSuperseded(ctx, p); err != nil {
			return p, failed, err
		}
	case stale && p.State == Initiated:
		p, err = s.expire(ctx, p)
		return p, failed, err
	}
	return p, failed, nil
}

// callbackError is the error a callback reports for p, when p did not get
// the money (it is failed, or still waiting, since /details may lag behind
// the callback) and the error is not stored yet; else nil. /details says
// that a reservation failed, but not why: the callback's errorInfo is what
// tells the customer that their card has expired.
func callbackError(p *Payment, cb *vipps.TransactionCallback, now time.Time) *VippsError {
	ei := cb.ErrorInfo
	if ei == nil || !(p.State.WaitingForCustomer() || p.State == Failed) {
		return nil
	}
	e := &VippsError{Op: "callback", Group: string(ei.Group), Code: ei.Code, Message: ei.Message, ContextID: ei.ContextID, At: now}
	if p.LastError.same(e) {
		return nil
	}
	return e
}

func sentAt(p *Payment) time.Time {
	if p.SentAt.IsZero() {
		return p.CreatedAt
	}
	return p.SentAt
}

// nextCheck is when to look at p again: on the polling schedule while the
// customer can act, soon while an operation is pending, else never.
func (s *Service) nextCheck(p *Payment, pending []*Operation, now time.Time) time.Time {
	if p.State.WaitingForCustomer() {
		t, _ := s.sched.Next(p.State, sentAt(p), now)
		return t
	}
	if len(pending) > 0 {
		return now.Add(OpResumeAfter)
	}
	return time.Time{}
}

// detailsFailed records a failed details call. A payment Vipps does not know
// after the customer's time limit never reached Vipps: it failed.
func (s *Service) detailsFailed(p *Payment, err error, now time.Time) []Event {
	var ve *vipps.Error
	if p.State == Created && errors.As(err, &ve) && ve.NotFound() && !now.Before(s.sched.Deadline(sentAt(p))) {
		p.State, p.LastError = Failed, vippsError("details", err, now)
		p.LastError.Message = "Vipps never received the payment: " + p.LastError.Message
		return []Event{errorEvent(p, now), s.withTasks(p, Event{Type: EventFailed, State: Failed, At: now})}
	}
	e := vippsError("details", err, now)
	if p.LastError.same(e) {
		return nil // the same error again: recorded once
	}
	p.LastError = e
	return []Event{errorEvent(p, now)}
}

// apply moves p to what Vipps reports and returns the events of the change:
// one per step, derived from differences only, so that a callback, the
// poller and an operation's answer seeing the same change record it once.
func (s *Service) apply(p *Payment, o Observation, d *vipps.PaymentDetails, hint vipps.CallbackStatus, now time.Time) []Event {
	prev, pa := p.State, p.Amounts
	st, a := o.State, o.Amounts
	if st == Created || (st == Initiated && !prev.WaitingForCustomer()) || (prev.Final() && st != prev) {
		// Vipps' log cannot go backwards; a final state stays.
		return nil
	}
	var ev []Event
	add := func(t EventType, in State, amt vipps.Amount) {
		ev = append(ev, Event{Type: t, State: in, Amount: amt, At: now})
	}
	reached := st == Reserved || st == Captured || st == Refunded || st == Voided
	if prev == Created && st == Initiated {
		add(EventInitiated, Initiated, pa.Authorized)
	}
	if prev.WaitingForCustomer() && reached {
		add(EventReserved, Reserved, a.Authorized)
		if d != nil && (d.UserDetails != nil || d.ShippingDetails != nil) {
			p.Shipping, _ = json.Marshal(ExpressDetails{Shipping: d.ShippingDetails, User: d.UserDetails})
			if d.UserDetails != nil {
				p.UserID = d.UserDetails.UserID
			}
		}
	}
	if reached {
		if a.Captured > pa.Captured {
			add(EventCaptured, st, a.Captured-pa.Captured)
		}
		if a.Refunded > pa.Refunded {
			add(EventRefunded, st, a.Refunded-pa.Refunded)
		}
		if st == Voided && prev != Voided || (st == Captured && pa.RemainingToCapture > 0 && a.RemainingToCapture == 0 && a.Captured == pa.Captured) {
			// Released: all of it (voided), or the rest after partial captures.
			add(EventVoided, st, max(pa.RemainingToCapture, a.Authorized-a.Captured))
		}
		p.Amounts = a
	}
	if st != prev {
		switch st {
		case Cancelled:
			if hint == vipps.CallbackRejected || !now.Before(s.sched.Deadline(sentAt(p))) {
				add(EventExpired, Cancelled, 0)
			} else {
				add(EventCancelled, Cancelled, 0)
			}
		case Failed:
			add(EventFailed, Failed, 0)
		}
	}
	p.State = st
	if len(ev) > 0 && p.LastError != nil && reached {
		p.LastError = nil // resolved
	}
	for i, e := range ev {
		e = s.withTasks(p, e)
		if e.Type == EventCaptured && pa.Captured == 0 && p.Receipt != nil {
			e.Tasks = append(e.Tasks, Task{Kind: TaskReceipt})
		}
		ev[i] = e
	}
	return ev
}

// expire cancels a payment that Vipps left waiting past the customer's time
// limit.
func (s *Service) expire(ctx context.Context, p *Payment) (*Payment, error) {
	s.log.Warn("payment still waiting past the customer's time limit; cancelling it", "order_id", p.OrderID)
	op, err := s.operate(ctx, p.OrderID, OpCancel, OpRequest{Key: "expired", Text: "Not approved in time"})
	if err != nil {
		return p, err
	}
	if op.Status == OpFailed {
		return p, fmt.Errorf("cancel stale payment %s: %s", p.OrderID, op.Error.Message)
	}
	return s.Get(ctx, p.OrderID)
}

// cancelSuperseded releases a payment that was reserved after the shop
// started a newer attempt for the same order: the customer must not pay
// twice.
func (s *Service) cancelSuperseded(ctx context.Context, p *Payment) error {
	attempts, err := s.store.Attempts(ctx, p.ShopRef)
	if err != nil {
		return fmt.Errorf("superseded %s: %w", p.OrderID, err)
	}
	var newer *Payment
	for _, q := range attempts {
		if q.Attempt > p.Attempt {
			newer = q
		}
	}
	if newer == nil {
		return nil
	}
	s.log.Warn("an older attempt was approved after a newer one was started; releasing it", "order_id", p.OrderID, "newer", newer.OrderID)
	data, _ := json.Marshal(map[string]vipps.OrderID{"newer": newer.OrderID})
	if err := s.update(ctx, p.OrderID, func(q *Payment, now time.Time) ([]Event, error) {
		return []Event{{Type: EventSuperseded, State: q.State, Data: data, At: now}}, nil
	}); err != nil {
		return err
	}
	_, err = s.operate(ctx, p.OrderID, OpCancel, OpRequest{Key: "superseded", Text: "Replaced by a newer payment", ReleaseRemaining: true})
	return err
}
