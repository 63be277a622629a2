package payment

import (
	"slices"

	"github.com/vippskit/vipps/webhook"
)

// State is where a payment is, as the service tells the shop. It is derived
// from the facts of Vipps' log (see [Derive]); callbacks and redirects only
// make the service look sooner.
type State string

// States. Created, Initiated and Reserved can still change on their own;
// Captured and Refunded change only by the merchant's own operations; the
// rest are final.
const (
	// Created: stored, and initiate not yet confirmed by Vipps.
	Created State = "created"
	// Initiated: Vipps has the payment; the customer has not finished.
	Initiated State = "initiated"
	// Reserved: the customer approved; money is reserved, and some of it
	// may be captured already (see Amounts).
	Reserved State = "reserved"
	// Captured: nothing is left to capture (all of it captured, or the
	// rest released); some may be refunded.
	Captured State = "captured"
	// Refunded: everything captured is refunded.
	Refunded State = "refunded"
	// Cancelled: ended before the customer approved: cancelled by the
	// merchant, rejected by the customer, or timed out.
	Cancelled State = "cancelled"
	// Voided: the reservation was released with nothing captured.
	Voided State = "voided"
	// Failed: the reservation (or direct capture) failed, or Vipps refused
	// to initiate the payment.
	Failed State = "failed"
)

// States returns every state, in the order a payment meets them.
func States() []State {
	return []State{Created, Initiated, Reserved, Captured, Refunded, Cancelled, Voided, Failed}
}

// Final reports whether the state can no longer change, not even by the
// merchant.
func (s State) Final() bool {
	switch s {
	case Refunded, Cancelled, Voided, Failed:
		return true
	}
	return false
}

// WaitingForCustomer reports whether the outcome depends on the customer
// (or on Vipps) rather than on the merchant: the service must poll.
func (s State) WaitingForCustomer() bool { return s == Created || s == Initiated }

// Valid reports whether s is one of the states above.
func (s State) Valid() bool { return slices.Contains(States(), s) }

// Amounts are the money of a payment in øre: the same totals, in the same
// shape, that the shop's API answers with and every webhook carries, so
// they are defined once, in package webhook.
type Amounts = webhook.Amounts

// reservedState is the state of a reserved payment with amounts a.
func reservedState(a Amounts) State {
	switch {
	case a.Captured == 0 && a.RemainingToCapture == 0:
		return Voided
	case a.Captured > 0 && a.Refunded == a.Captured && a.RemainingToCapture == 0:
		return Refunded
	case a.RemainingToCapture == 0:
		return Captured
	}
	return Reserved
}

// reached reports whether the customer approved: money was reserved, and
// maybe captured, refunded or released since.
func (s State) reached() bool {
	switch s {
	case Reserved, Captured, Refunded, Voided:
		return true
	}
	return false
}
