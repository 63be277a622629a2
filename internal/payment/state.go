package payment

import (
	"fmt"

	"github.com/vippskit/vipps"
)

// State is where a payment is, as the service tells the shop. It is derived
// from what Vipps reports in /details (see [Observe]); callbacks and
// redirects only make the service look sooner.
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
func (s State) Valid() bool {
	switch s {
	case Created, Initiated, Reserved, Captured, Refunded, Cancelled, Voided, Failed:
		return true
	}
	return false
}

// Amounts are the money of a payment in øre.
type Amounts struct {
	// Authorized is what the customer was asked for (and, once reserved,
	// what was reserved).
	Authorized vipps.Amount `json:"authorized"`
	Captured   vipps.Amount `json:"captured"`
	Refunded   vipps.Amount `json:"refunded"`
	// RemainingToCapture is reserved and neither captured nor released.
	RemainingToCapture vipps.Amount `json:"remainingToCapture"`
	// RemainingToRefund is captured and not refunded.
	RemainingToRefund vipps.Amount `json:"remainingToRefund"`
}

// Observation is what /details says about a payment, reduced to what the
// service acts on. Make one with [Observe].
type Observation struct {
	State   State
	Amounts Amounts
	// DirectCapture is set when Vipps captured at approval (SALE).
	DirectCapture bool
	// Reason says, for Cancelled and Failed, what the log shows: "CANCEL"
	// (before approval), or the failed operation ("RESERVE", "SALE").
	Reason vipps.Operation
}

// Observe derives the payment's state and amounts from its details. The
// log is read oldest first, and every entry's operationSuccess is honoured:
// a failed RESERVE is no reservation. Amounts come from the summary when
// Vipps sends one, and from the log otherwise.
func Observe(d *vipps.PaymentDetails) (Observation, error) {
	if d == nil {
		return Observation{}, fmt.Errorf("observe: no details")
	}
	var (
		o                                 = Observation{State: Created}
		reserved, captured, refunded, rel vipps.Amount
		failedOp                          vipps.Operation
		sawInitiate                       bool
	)
	log := d.TransactionLogHistory
	for i := len(log) - 1; i >= 0; i-- { // Vipps sends newest first
		e := log[i]
		switch e.Operation {
		case vipps.OperationInitiate:
			if e.OperationSuccess {
				sawInitiate = true
				o.Amounts.Authorized = e.Amount
			}
		case vipps.OperationReserve, vipps.OperationSale:
			if !e.OperationSuccess {
				failedOp = e.Operation
				continue
			}
			failedOp = ""
			reserved = e.Amount
			o.Amounts.Authorized = e.Amount
			if e.Operation == vipps.OperationSale {
				o.DirectCapture = true
				captured = e.Amount
			}
		case vipps.OperationCapture:
			if e.OperationSuccess {
				captured += e.Amount
			}
		case vipps.OperationRefund:
			if e.OperationSuccess {
				refunded += e.Amount
			}
		case vipps.OperationCancel:
			if e.OperationSuccess && reserved == 0 {
				o.State, o.Reason = Cancelled, vipps.OperationCancel
			}
		case vipps.OperationVoid:
			if e.OperationSuccess {
				rel += e.Amount
			}
		}
	}
	switch {
	case o.State == Cancelled:
	case reserved > 0:
		o.State = Reserved
	case failedOp != "":
		o.State, o.Reason = Failed, failedOp
	case sawInitiate:
		o.State = Initiated
	}
	if o.State != Reserved {
		if o.State == Created && len(log) > 0 {
			return Observation{}, fmt.Errorf("observe order %s: the log has no successful INITIATE", d.OrderID)
		}
		return o, nil
	}

	a := Amounts{Authorized: reserved, Captured: captured, Refunded: refunded,
		RemainingToCapture: max(reserved-captured-rel, 0), RemainingToRefund: captured - refunded}
	if s := d.TransactionSummary; s != nil { // Vipps' own arithmetic wins
		a.Captured, a.Refunded = s.CapturedAmount, s.RefundedAmount
		a.RemainingToCapture, a.RemainingToRefund = s.RemainingAmountToCapture, s.RemainingAmountToRefund
	}
	if a.Captured < 0 || a.Refunded < 0 || a.Refunded > a.Captured || a.Captured > reserved {
		return Observation{}, fmt.Errorf("observe order %s: inconsistent amounts (reserved %d, captured %d, refunded %d)", d.OrderID, reserved, a.Captured, a.Refunded)
	}
	o.Amounts = a
	o.State = reservedState(a)
	return o, nil
}

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
