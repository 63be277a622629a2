package payment

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/vippskit/vipps"
)

// Sentinel errors of the domain. Stores and the service wrap them; the web
// layer maps them to HTTP statuses in one place.
var (
	// ErrNotFound: no payment (or operation) with that id.
	ErrNotFound = errors.New("not found")
	// ErrExists: a payment with that orderId, or an operation with that
	// idempotency key, exists already.
	ErrExists = errors.New("already exists")
	// ErrConflict: the row changed since it was read (optimistic
	// concurrency); read it again and retry.
	ErrConflict = errors.New("changed concurrently")
	// ErrIdempotencyMismatch: an idempotency key was reused with a
	// different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrState: the operation is not allowed in the payment's state.
	ErrState = errors.New("not allowed in this state")
	// ErrUnavailable: the database could not be used just now (its disk
	// is full, it is restarting or cannot be reached); the same request
	// may succeed later. Stores mark such errors with Unavailable.
	ErrUnavailable = errors.New("the database is unavailable")
)

// Unavailable returns err marked as ErrUnavailable, its text and chain
// kept (errors.As still finds the driver's error in it); nil for nil.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return unavailableError{err}
}

type unavailableError struct{ err error }

func (e unavailableError) Error() string        { return e.err.Error() }
func (e unavailableError) Unwrap() error        { return e.err }
func (e unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Kind is regular or express checkout.
type Kind string

// Kinds of payment.
const (
	Regular Kind = "regular"
	Express Kind = "express"
)

// VippsError is a Vipps error as stored with a payment: what the shop's
// staff and the customer are shown.
type VippsError struct {
	Op         string `json:"op"`
	StatusCode int    `json:"statusCode,omitempty"`
	Group      string `json:"group,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message"`
	// VippsMessage is Vipps' own words, when Vipps answered with an
	// error; Message ends with them too.
	VippsMessage string    `json:"vippsMessage,omitempty"`
	ContextID    string    `json:"contextId,omitempty"`
	At           time.Time `json:"at"`
}

// Payment is one payment attempt: one Vipps orderId. A shop order retried
// with a new orderId is a new Payment with the same ShopRef and the next
// Attempt.
type Payment struct {
	OrderID vipps.OrderID
	ShopRef string // the shop's own order reference; may be empty
	Attempt int    // 0 for the first payment of ShopRef, then 1, 2, ...
	MSN     vipps.MSN
	Kind    Kind
	Text    string
	Phone   string // 8 digits, or empty
	// ReturnURL is the shop's page the customer is sent back to.
	ReturnURL string
	// OrderURL is the shop's page about the order, linked from the payment
	// in the Vipps app (Order Management category); may be empty.
	OrderURL string
	// Receipt is the order lines sent to Order Management after the first
	// capture; nil when the shop sent none.
	Receipt *vipps.Receipt
	// AuthTokenHash is the hash of the callback token (never the token).
	AuthTokenHash string
	// VippsURL is where the customer is sent; valid for 5 minutes.
	VippsURL string

	State   State
	Amounts Amounts
	// UserID and Shipping are what express checkout shared; cleared when
	// the customer removes the consent.
	UserID   string
	Shipping json.RawMessage
	// LastError is the latest Vipps error met for this payment.
	LastError *VippsError
	// CheckFailures counts the calls to /details for this payment that
	// failed in a row (the poller's, a callback's or staff's); a call that
	// succeeds sets it to 0. CheckFailedSince is when the first of them
	// failed, and CheckError what the latest one met; both are zero when
	// CheckFailures is.
	CheckFailures    int
	CheckFailedSince time.Time
	CheckError       string

	CreatedAt time.Time
	UpdatedAt time.Time
	// SentAt is when the customer was sent to Vipps: the polling schedule
	// and the customer's time limit count from it.
	SentAt time.Time
	// NextCheckAt is when the poller should call /details; zero means
	// never (the payment no longer depends on the customer).
	NextCheckAt time.Time
	// LeaseOwner and LeaseUntil say which replica is checking the payment
	// now; an expired lease may be taken over.
	LeaseOwner string
	LeaseUntil time.Time
	// OpOwner and OpUntil say who is sending the payment's first pending
	// operation to Vipps now: a payment has one operation in flight at a
	// time, and the others wait their turn. An expired claim may be taken
	// over.
	OpOwner string
	OpUntil time.Time
	// Facts is Vipps' log as the service learned it, in the order learned:
	// State and Amounts are derived from it (see [Derive]). Store.Get fills
	// it; Store.Update stores the facts that have no Seq yet. Lists and
	// leases leave it empty.
	Facts []Fact
	// Version increases with every update: the store refuses an update
	// whose Version is not the stored one (ErrConflict).
	Version int64
}

// EventType names a change of a payment.
type EventType string

// Event types. Those marked webhook are sent to the shop.
const (
	EventCreated         EventType = "created"
	EventInitiated       EventType = "initiated"
	EventReserved        EventType = "reserved"  // webhook
	EventCaptured        EventType = "captured"  // webhook
	EventRefunded        EventType = "refunded"  // webhook
	EventCancelled       EventType = "cancelled" // webhook
	EventVoided          EventType = "voided"    // webhook
	EventFailed          EventType = "failed"    // webhook
	EventExpired         EventType = "expired"   // webhook
	EventConsentRemoved  EventType = "consent_removed"
	EventCallback        EventType = "callback_received"
	EventVippsError      EventType = "vipps_error"
	EventOperationQueued EventType = "operation_queued"
	EventOperationFailed EventType = "operation_failed"
	EventReceiptAdded    EventType = "receipt_added"
	EventReceiptSent     EventType = "receipt_sent"
	EventSuperseded      EventType = "superseded"
	// EventExpressDetails: Vipps shared what the customer of an express
	// checkout chose to (address, shipping, profile); queued with a
	// TaskConsentCheck.
	EventExpressDetails EventType = "express_details"
	// EventChecked: staff asked Vipps for the payment's status (data: by).
	EventChecked EventType = "checked"
	// EventDeliveryRetried: staff queued a delivery again (data: task,
	// kind, by).
	EventDeliveryRetried EventType = "delivery_retried"
)

// Webhook reports whether the shop is told about events of type t.
func (t EventType) Webhook() bool {
	switch t {
	case EventReserved, EventCaptured, EventRefunded, EventCancelled, EventVoided,
		EventFailed, EventExpired, EventConsentRemoved:
		return true
	}
	return false
}

// Event is one entry of a payment's history. Events are only ever
// appended, in the same transaction as the change they describe.
type Event struct {
	Seq     int64 // assigned by the store, increasing
	OrderID vipps.OrderID
	Type    EventType
	State   State        // the payment's state after the event
	Amount  vipps.Amount // the money the event moved, if any
	Data    json.RawMessage
	At      time.Time
	// Fact is the key of the fact the event reports (see [Fact.Key]), or
	// "" for a change that is no entry of Vipps' log. The store keeps one
	// event of a type per fact, so that no replica, retry or callback can
	// report a capture twice.
	Fact string
	// Amounts are the payment's amounts just after the event, for its
	// webhook; not stored.
	Amounts Amounts
	// Tasks are queued in the same transaction as the event (a transactional
	// outbox), so that a webhook or a receipt is never lost. They are not
	// read back with the event.
	Tasks []Task
}

// OpKind is a merchant operation on a payment.
type OpKind string

// Operation kinds.
const (
	OpCapture OpKind = "capture"
	OpRefund  OpKind = "refund"
	OpCancel  OpKind = "cancel"
)

// OpStatus is where an operation is.
type OpStatus string

// Operation statuses.
const (
	// OpPending: stored, and not yet answered by Vipps: waiting its turn
	// (Sends is 0) or sent with the answer lost. An operation still pending
	// after a crash or an unknown outcome is sent again with the same
	// RequestID (a cancel, which has none, only after the log shows it was
	// not done).
	OpPending   OpStatus = "pending"
	OpSucceeded OpStatus = "succeeded"
	OpFailed    OpStatus = "failed"
)

// Operation is a capture, refund or cancel the shop asked for. It is stored
// with its X-Request-Id before Vipps is called, so that a crash or a timeout
// never leads to a second capture or refund.
type Operation struct {
	ID      int64 // assigned by the store
	OrderID vipps.OrderID
	Kind    OpKind
	// IdempotencyKey is the shop's key; unique per payment and kind.
	IdempotencyKey string
	// RequestID is the X-Request-Id sent to Vipps, the same on every try.
	RequestID string
	Amount    vipps.Amount // 0: all that remains
	Text      string
	// ReleaseRemaining is cancel's shouldReleaseRemainingFunds.
	ReleaseRemaining bool
	Status           OpStatus
	Error            *VippsError
	// Sends counts the times the operation was sent to Vipps (the same
	// X-Request-Id each time); SentAt is the latest.
	Sends     int
	SentAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// Replay is set on the operation a request is answered with when an
	// earlier request with the same idempotency key made it: nothing was
	// done again. Not stored.
	Replay bool
}

// SameRequest reports whether o and p ask for the same thing, as a retry
// with the same idempotency key must.
func (o *Operation) SameRequest(p *Operation) bool {
	return o.OrderID == p.OrderID && o.Kind == p.Kind && o.Amount == p.Amount &&
		o.Text == p.Text && o.ReleaseRemaining == p.ReleaseRemaining
}
