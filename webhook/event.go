package webhook

import (
	"time"

	"github.com/vippskit/vipps"
)

// Headers of a webhook request.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex>", with one v1
	// entry per secret the service signs with; see [Sign].
	SignatureHeader = "Vippskit-Signature"
	// EventIDHeader repeats the body's id, EventTypeHeader its type, so
	// that a shop can route or drop a repeat before reading the body. Only
	// the body is signed: act on the body's values.
	EventIDHeader   = "Vippskit-Event-Id"
	EventTypeHeader = "Vippskit-Event-Type"
)

// EventType says what happened. A shop must answer 2xx to a type it does
// not know: types may be added.
type EventType string

// Event types.
const (
	// EventReserved: the customer approved; Amounts.Authorized is
	// reserved. With direct capture (SALE) a captured event follows.
	EventReserved EventType = "reserved"
	// EventCaptured: Amount was captured; one event per capture at Vipps.
	EventCaptured EventType = "captured"
	// EventRefunded: Amount was refunded; one event per refund at Vipps.
	EventRefunded EventType = "refunded"
	// EventCancelled: the payment ended before the customer approved,
	// cancelled by the merchant or rejected by the customer. State is
	// cancelled.
	EventCancelled EventType = "cancelled"
	// EventVoided: Amount of the reservation was released, all of it
	// (nothing captured) or the rest after partial captures.
	EventVoided EventType = "voided"
	// EventFailed: the reservation or direct capture failed, or Vipps
	// refused the payment.
	EventFailed EventType = "failed"
	// EventExpired: the customer did not finish in time. State is
	// cancelled.
	EventExpired EventType = "expired"
	// EventConsentRemoved: the customer withdrew the consent to share
	// their profile; delete what you stored of it for this order.
	EventConsentRemoved EventType = "consent_removed"
)

// State is the payment's state after the event, as the service's API
// reports it.
type State string

// States.
const (
	StateCreated   State = "created"
	StateInitiated State = "initiated"
	StateReserved  State = "reserved"
	StateCaptured  State = "captured"
	StateRefunded  State = "refunded"
	StateCancelled State = "cancelled"
	StateVoided    State = "voided"
	StateFailed    State = "failed"
)

// Event is the body of a webhook:
//
//	{"id": 42, "type": "captured", "orderId": "shop-10042", "shopRef": "10042",
//	 "state": "captured", "amount": 49900, "amounts": {"authorized": 49900,
//	 "captured": 49900, "refunded": 0, "remainingToCapture": 0,
//	 "remainingToRefund": 49900}, "at": "2026-11-24T12:00:00Z"}
type Event struct {
	// ID identifies the fact the event reports: the same on every delivery
	// of it, and higher for later facts of the same payment.
	ID      int64         `json:"id"`
	Type    EventType     `json:"type"`
	OrderID vipps.OrderID `json:"orderId"`
	// ShopRef is the shop's own reference given when the payment was
	// created, if any.
	ShopRef string `json:"shopRef,omitempty"`
	State   State  `json:"state"`
	// Amount is the money this fact moved, in øre: reserved, captured,
	// refunded or released. Zero for events that move none.
	Amount vipps.Amount `json:"amount"`
	// Amounts are the payment's totals once this fact is counted.
	Amounts Amounts `json:"amounts"`
	// At is when the service learnt the fact.
	At time.Time `json:"at"`
}

// Amounts are a payment's totals in øre. Authorized, Captured and Refunded
// are cumulative: from one event of a payment to a later one (a higher id)
// they never go down.
type Amounts struct {
	// Authorized is what the customer was asked for and, once reserved,
	// what was reserved.
	Authorized vipps.Amount `json:"authorized"`
	Captured   vipps.Amount `json:"captured"`
	Refunded   vipps.Amount `json:"refunded"`
	// RemainingToCapture is reserved and neither captured nor released.
	RemainingToCapture vipps.Amount `json:"remainingToCapture"`
	// RemainingToRefund is captured and not refunded.
	RemainingToRefund vipps.Amount `json:"remainingToRefund"`
}
