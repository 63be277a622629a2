package payment

import (
	"fmt"

	"github.com/vippskit/vipps"
)

// Actions are the merchant's operations a payment allows now, as the
// service knows it: what the service itself checks before it sends an
// operation to Vipps, and what a page offers.
type Actions struct {
	// Capture is the most that can be captured now; 0 means no capture.
	Capture vipps.Amount
	// Refund is the most that can be refunded now; 0 means no refund.
	Refund vipps.Amount
	// Cancel reports whether a cancel is allowed now.
	Cancel bool
	// CancelReleases is set when part of the reservation is captured: a
	// cancel must then set ReleaseRemaining, and releases what is left to
	// capture (Capture).
	CancelReleases bool
}

// Actions returns the operations p allows now. What the service knows
// never overstates what was captured, refunded or released, so what it
// does not allow Vipps would refuse too.
func (p *Payment) Actions() Actions {
	a := p.Amounts
	var x Actions
	if p.State == Reserved {
		x.Capture = a.RemainingToCapture
	}
	x.Refund = a.RemainingToRefund
	x.Cancel = p.State.WaitingForCustomer() || p.State == Reserved
	x.CancelReleases = p.State == Reserved && a.Captured > 0
	return x
}

// allows returns a [*Refusal] when p does not allow the operation kind of
// amount (0: all that remains) now, with release for a cancel's
// ReleaseRemaining; else nil. It is the service's check of every
// operation, so that the shop learns what is wrong without a call to
// Vipps.
func (p *Payment) allows(kind OpKind, amount vipps.Amount, release bool) *Refusal {
	x := p.Actions()
	r := &Refusal{Op: kind, State: p.State, Amount: amount}
	switch kind {
	case OpCapture, OpRefund:
		r.Limit = x.Capture
		if kind == OpRefund {
			r.Limit = x.Refund
		}
		switch {
		case kind == OpCapture && p.State.WaitingForCustomer():
			r.Reason = NotApproved
		case r.Limit == 0:
			r.Reason = NothingLeft
		case amount > r.Limit:
			r.Reason = OverLimit
		default:
			return nil
		}
	case OpCancel:
		r.Limit, r.Captured = x.Capture, p.Amounts.Captured
		switch {
		case !x.Cancel:
			r.Reason = Ended
		case x.CancelReleases && !release:
			r.Reason = NeedsRelease
		default:
			return nil
		}
	default:
		return nil
	}
	return r
}

// RefusalReason says why an operation is not allowed.
type RefusalReason string

// Reasons of a [Refusal].
const (
	// NotApproved: the customer has not approved the payment yet, so
	// nothing can be captured.
	NotApproved RefusalReason = "not_approved"
	// NothingLeft: nothing is left to capture, or nothing captured is
	// left to refund.
	NothingLeft RefusalReason = "nothing_left"
	// OverLimit: the amount is more than is left (Refusal.Limit).
	OverLimit RefusalReason = "over_limit"
	// NeedsRelease: part of the payment is captured, so a cancel must
	// release what is left (ReleaseRemaining), or the merchant refunds.
	NeedsRelease RefusalReason = "needs_release"
	// Ended: the payment's state allows no cancel.
	Ended RefusalReason = "ended"
	// OverLine: more units of a receipt line (Refusal.Line) than are left
	// to take by line (Refusal.UnitsLeft; see LineTally.Left).
	OverLine RefusalReason = "over_line"
)

// Refusal is an operation the service refused without asking Vipps, since
// the payment as the service knows it does not allow it. It wraps
// ErrInvalid (OverLimit) or ErrState (every other reason); find it with
// errors.AsType[*Refusal].
type Refusal struct {
	Op     OpKind
	Reason RefusalReason
	// State is the payment's state as checked.
	State State
	// Amount is what was asked for; 0 means all that remains.
	Amount vipps.Amount
	// Limit is the most the operation could take: what is left to capture
	// (for a cancel, what it would release) or to refund.
	Limit vipps.Amount
	// Captured is what is captured already (a cancel's NeedsRelease).
	Captured vipps.Amount
	// Line is the index of the receipt line of an OverLine, Units the
	// units asked for and UnitsLeft those left.
	Line, Units, UnitsLeft int
}

// Error says what is wrong, after the sentinel's text.
func (r *Refusal) Error() string { return r.Unwrap().Error() + ": " + r.why() }

// Unwrap returns ErrInvalid for an amount or quantity over the limit, else
// ErrState.
func (r *Refusal) Unwrap() error {
	if r.Reason == OverLimit || r.Reason == OverLine {
		return ErrInvalid
	}
	return ErrState
}

// why is the refusal for people, in øre, without the sentinel.
func (r *Refusal) why() string {
	switch r.Reason {
	case NotApproved:
		return fmt.Sprintf("the customer has not approved the payment yet (state %s)", r.State)
	case NothingLeft:
		if r.Op == OpRefund {
			return fmt.Sprintf("nothing is captured that is not refunded (state %s)", r.State)
		}
		return fmt.Sprintf("nothing is left to capture (state %s)", r.State)
	case OverLimit:
		return fmt.Sprintf("amount %d øre is more than the %d øre left to %s", r.Amount, r.Limit, r.Op)
	case NeedsRelease:
		return fmt.Sprintf("%d øre is captured already; cancel with releaseRemaining to release the %d øre left, or refund", r.Captured, r.Limit)
	case Ended:
		return fmt.Sprintf("a %s payment cannot be cancelled", r.State)
	case OverLine:
		return fmt.Sprintf("%d units of receipt line %d is more than the %d left to %s", r.Units, r.Line, r.UnitsLeft, r.Op)
	}
	return fmt.Sprintf("%s is not allowed (state %s)", r.Op, r.State)
}
