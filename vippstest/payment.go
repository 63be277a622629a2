package vippstest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// phase is where a payment is in its life.
type phase int

const (
	phaseInitiated     phase = iota // waiting for the user
	phaseReserved                   // approved; may be partly or fully captured, or the rest released
	phaseSale                       // approved on a direct-capture sales unit: captured at once
	phaseCancelled                  // cancelled by the merchant before approval
	phaseVoided                     // cancelled by the merchant after reservation, nothing captured
	phaseUserCancelled              // rejected by the user in the app
	phaseTimedOut                   // the user did nothing for 10 minutes
	phaseFailed                     // the reservation (or sale) failed
)

// order is what initiate asked for.
type order struct {
	callbackPrefix        string
	fallBack              string
	authToken             string
	isApp                 bool
	paymentType           vipps.PaymentType
	consentRemovalPrefix  string
	shippingDetailsPrefix string
	staticShipping        []vipps.ShippingOption
	mobileNumber          string
	skipLandingPage       bool
	scope                 string
}

func (o *order) express() bool { return o.paymentType == vipps.PaymentTypeExpress }

// payment is one payment, identified by MSN and orderId.
type payment struct {
	msn     vipps.MSN
	orderID vipps.OrderID
	amount  vipps.Amount // R: what the user is asked to approve
	text    string
	order   order
	token   string // in the landing page URL; force approve needs it
	url     string
	txID    string // shared by INITIATE, RESERVE/SALE and the user's outcome

	phase        phase
	status       vipps.OrderStatus // what /status says
	last         vipps.LogEntry    // the entry /status describes
	captured     vipps.Amount      // C
	refunded     vipps.Amount      // F
	released     vipps.Amount      // X
	initiatedAt  time.Time
	reservedAt   time.Time
	pendingUntil time.Time          // magic amount 201: result unknown until then
	expiredAt    time.Time          // Vipps released what was not captured in time (expire)
	failure      *vipps.ErrorDetail // why the reservation failed: the callback's errorInfo
	log          []vipps.LogEntry
	idem         map[idemKey]idemRecord

	user     *user // who approved
	shipping *vipps.ShippingDetails
}

// detailsCache is an encoded /details answer, and whether the express
// data had expired when it was encoded: the one thing in it that moves
// with the clock alone (see Simulator.details).
type detailsCache struct {
	rep     reply
	expired bool
}

type idemKey struct{ op, requestID string }

// idemRecord is the first successful answer to an idempotent request.
type idemRecord struct {
	fingerprint string
	rep         reply
}

// opError is a refusal by the state machine.
type opError struct {
	status  int
	group   vipps.ErrorGroup
	code    vipps.ErrorCode
	message string
}

func (e *opError) reply() reply { return vippsErr(e.status, e.group, e.code, "%s", e.message) }

func refuse(group vipps.ErrorGroup, code vipps.ErrorCode, message string) *opError {
	return &opError{status: http.StatusBadRequest, group: group, code: code, message: message}
}

func (p *payment) remainingToCapture() vipps.Amount {
	if p.phase != phaseReserved {
		return 0
	}
	return p.amount - p.captured - p.released
}

func (p *payment) summary() vipps.TransactionSummary {
	return vipps.TransactionSummary{
		CapturedAmount:           p.captured,
		RefundedAmount:           p.refunded,
		RemainingAmountToCapture: p.remainingToCapture(),
		RemainingAmountToRefund:  p.captured - p.refunded,
	}
}

// append adds a log entry and makes it what /status describes.
func (p *payment) append(e vipps.LogEntry, status vipps.OrderStatus) {
	p.log = append(p.log, e)
	p.last = e
	p.status = status
}

func (p *payment) entry(op vipps.Operation, amount vipps.Amount, text, txID, requestID string, now time.Time, ok bool) vipps.LogEntry {
	return vipps.LogEntry{
		Operation:        op,
		Amount:           amount,
		OperationSuccess: ok,
		TransactionText:  text,
		TransactionID:    txID,
		TimeStamp:        vipps.Time{Time: now},
		RequestID:        requestID,
	}
}

// capture applies a capture of amount (0: all that remains) and returns the
// amount captured. The rules are the permission matrix of the reference.
func (p *payment) capture(amount vipps.Amount, text, txID, requestID string, now time.Time) (vipps.Amount, *opError) {
	switch p.phase {
	case phaseInitiated, phaseUserCancelled, phaseTimedOut, phaseFailed:
		return 0, refuse(vipps.GroupPayment, vipps.CodeCaptureNotReserved, msgNotReserved)
	case phaseCancelled, phaseVoided:
		return 0, refuse(vipps.GroupVippsError, vipps.CodeNotAllowed, msgNotAllowed)
	case phaseSale:
		return 0, refuse(vipps.GroupPayment, vipps.CodeCaptureOverReserved, msgOverCapture)
	}
	if now.Sub(p.reservedAt) > captureLimit {
		return 0, refuse(vipps.GroupPayment, vipps.CodeCaptureTooLate, msgCaptureTooLate)
	}
	amount, oe := take(amount, p.remainingToCapture(), vipps.CodeCaptureOverReserved, msgOverCapture)
	if oe != nil {
		return 0, oe
	}
	p.captured += amount
	p.append(p.entry(vipps.OperationCapture, amount, text, txID, requestID, now, true), vipps.OrderStatusCapture)
	return amount, nil
}

// take resolves the amount of a capture or refund against what remains:
// 0 means all of it. Nothing remaining, or more asked than remains, is the
// Payment error code.
func take(amount, rest vipps.Amount, code vipps.ErrorCode, message string) (vipps.Amount, *opError) {
	if amount == 0 {
		amount = rest
	}
	if amount == 0 || amount > rest {
		return 0, refuse(vipps.GroupPayment, code, message)
	}
	return amount, nil
}

// cancel cancels before approval (CANCEL), voids a reservation with nothing
// captured (VOID), or with release set releases what remains after partial
// captures (VOID of the remainder).
func (p *payment) cancel(release bool, text, txID string, now time.Time) *opError {
	switch p.phase {
	case phaseInitiated:
		p.phase = phaseCancelled
		p.append(p.entry(vipps.OperationCancel, p.amount, text, txID, "", now, true), vipps.OrderStatusCancel)
		return nil
	case phaseSale:
		return refuse(vipps.GroupPayment, vipps.CodeCancelCaptured, msgCancelCaptured)
	case phaseCancelled, phaseVoided:
		return refuse(vipps.GroupVippsError, vipps.CodeAlreadyProcessed, msgAlreadyProcessed)
	case phaseUserCancelled, phaseTimedOut, phaseFailed:
		return refuse(vipps.GroupPayment, vipps.CodeCancelFailed, msgCancelFailed)
	}
	if now.Sub(p.reservedAt) > captureLimit {
		return refuse(vipps.GroupPayment, vipps.CodeCancelFailed, msgCancelTooLate)
	}
	rest := p.remainingToCapture()
	switch {
	case p.captured == 0:
		p.phase = phaseVoided
		p.released = p.amount
		p.append(p.entry(vipps.OperationVoid, p.amount, text, txID, "", now, true), vipps.OrderStatusVoid)
		return nil
	case !release || rest == 0:
		return refuse(vipps.GroupPayment, vipps.CodeCancelCaptured, msgCancelCaptured)
	}
	p.released += rest
	p.append(p.entry(vipps.OperationVoid, rest, text, txID, "", now, true), vipps.OrderStatusVoid)
	return nil
}

// refund applies a refund of amount (0: all that remains captured) and
// returns the amount refunded.
func (p *payment) refund(amount vipps.Amount, text, txID, requestID string, now time.Time) (vipps.Amount, *opError) {
	switch p.phase {
	case phaseInitiated:
		return 0, refuse(vipps.GroupPayment, vipps.CodeRefundNotCaptured, msgRefundReserved)
	case phaseCancelled, phaseVoided, phaseUserCancelled, phaseTimedOut, phaseFailed:
		return 0, refuse(vipps.GroupPayment, vipps.CodeRefundCancelled, msgRefundCancelled)
	}
	if p.captured == 0 {
		return 0, refuse(vipps.GroupPayment, vipps.CodeRefundNotCaptured, msgRefundReserved)
	}
	if now.Sub(p.reservedAt) > refundLimit {
		return 0, refuse(vipps.GroupPayment, vipps.CodeRefundTooLate, msgRefundTooLate)
	}
	amount, oe := take(amount, p.captured-p.refunded, vipps.CodeRefundOverCaptured, msgOverRefund)
	if oe != nil {
		return 0, oe
	}
	p.refunded += amount
	p.append(p.entry(vipps.OperationRefund, amount, text, txID, requestID, now, true), vipps.OrderStatusRefund)
	return amount, nil
}

// expiresAt is when the reservation runs out: captureLimit after it was
// made, while some of it is not captured. ok is false when nothing is left
// to expire.
func (p *payment) expiresAt() (at time.Time, ok bool) {
	if p.phase != phaseReserved || p.remainingToCapture() == 0 {
		return time.Time{}, false
	}
	return p.reservedAt.Add(captureLimit), true
}

// expire releases what remains of a reservation that ran out at at: Vipps
// cancels what is not captured within 180 days. The log says VOID of the
// remainder (a transaction of Vipps', without a request id) and /status
// VOID. The payment stays a reservation otherwise, so that capture still
// answers Payment 98 and refund what it answered before.
func (p *payment) expire(txID string, at time.Time) {
	rest := p.remainingToCapture()
	p.released += rest
	p.expiredAt = at
	p.append(p.entry(vipps.OperationVoid, rest, msgReservationExpired, txID, "", at, true), vipps.OrderStatusVoid)
}

// msgReservationExpired is the transactionText of the VOID that ends an
// expired reservation.
const msgReservationExpired = "Reservation expired: not captured within 180 days"

// finishedAt is when nothing more could happen to the payment: it ended
// without money (cancelled, voided, rejected, timed out, failed), or
// nothing is left to capture and everything captured is refunded, or the
// refund window closed. ok is false while it may still change.
func (p *payment) finishedAt() (at time.Time, ok bool) {
	switch p.phase {
	case phaseInitiated:
		return time.Time{}, false
	case phaseCancelled, phaseVoided, phaseUserCancelled, phaseTimedOut, phaseFailed:
		return p.last.TimeStamp.Time, true
	}
	if p.remainingToCapture() > 0 {
		return time.Time{}, false
	}
	if p.refunded == p.captured {
		return p.last.TimeStamp.Time, true
	}
	return p.reservedAt.Add(refundLimit), true
}

// approve records the user's approval: RESERVE, or SALE on a
// direct-capture sales unit.
func (p *payment) approve(direct bool, now time.Time) {
	p.reservedAt = now
	if direct {
		p.phase = phaseSale
		p.captured = p.amount
		p.append(p.entry(vipps.OperationSale, p.amount, p.text, p.txID, "", now, true), vipps.OrderStatusSale)
		return
	}
	p.phase = phaseReserved
	p.append(p.entry(vipps.OperationReserve, p.amount, p.text, p.txID, "", now, true), vipps.OrderStatusReserve)
}

// fail records a failed reservation (or sale) and why it failed.
func (p *payment) fail(direct bool, now time.Time, why vipps.ErrorDetail) {
	p.phase = phaseFailed
	p.failure = &why
	op := vipps.OperationReserve
	if direct {
		op = vipps.OperationSale
	}
	p.append(p.entry(op, p.amount, p.text, p.txID, "", now, false), vipps.OrderStatusFailed)
}

// reject records the user rejecting the payment in the app.
func (p *payment) reject(now time.Time) {
	p.phase = phaseUserCancelled
	p.append(p.entry(vipps.OperationCancel, p.amount, p.text, p.txID, "", now, true), vipps.OrderStatusCancel)
}

// timeout records that the user did nothing in time.
func (p *payment) timeout(now time.Time) {
	p.phase = phaseTimedOut
	p.append(p.entry(vipps.OperationCancel, p.amount, p.text, p.txID, "", now, true), vipps.OrderStatusRejected)
}

// details is the /details answer at now.
func (p *payment) details(now time.Time) vipps.PaymentDetails {
	d := vipps.PaymentDetails{OrderID: p.orderID, TransactionLogHistory: slices.Clone(p.log)}
	slices.Reverse(d.TransactionLogHistory)
	if p.phase != phaseInitiated {
		sum := p.summary()
		if p.user != nil {
			sum.BankIdentificationNumber = bankIdentificationNumber
		}
		d.TransactionSummary = &sum
	}
	if p.user == nil || p.reservedAt.IsZero() {
		return d // the user shared nothing (yet)
	}
	expired := p.expressExpired(now)
	if p.order.express() {
		sd := *p.shipping
		sd.Address.Country = "Norway" // details spell it out; callbacks say "NO"
		ud := p.user.details()
		if expired {
			sd.Address = vipps.Address{AddressLine1: expiredText, AddressLine2: expiredText, City: expiredText, Country: expiredText, PostCode: expiredText}
			ud = vipps.UserDetails{UserID: expiredText, FirstName: expiredText, LastName: expiredText, Email: expiredText, MobileNumber: expiredText}
		}
		d.ShippingDetails, d.UserDetails = &sd, &ud
	}
	if p.order.scope != "" {
		ud := p.user.details()
		d.UserDetails = &ud
		d.Sub = p.user.sub
	}
	return d
}

const expiredText = "[Expired]"

// expressExpired reports whether /details shows the express user and
// shipping data as expired at now (expressDataLife after the reservation).
func (p *payment) expressExpired(now time.Time) bool {
	return !p.reservedAt.IsZero() && now.Sub(p.reservedAt) > expressDataLife
}

// bankIdentificationNumber is the BIN of the simulated test card.
const bankIdentificationNumber = 492560

// Payment is a snapshot of a payment, for assertions.
type Payment struct {
	MSN             vipps.MSN         `json:"merchantSerialNumber"`
	OrderID         vipps.OrderID     `json:"orderId"`
	Amount          vipps.Amount      `json:"amount"`
	TransactionText string            `json:"transactionText"`
	PaymentType     vipps.PaymentType `json:"paymentType"`
	// Status is what the deprecated /status endpoint says.
	Status vipps.OrderStatus `json:"status"`
	// Summary holds the running totals (also while /details leaves them
	// out); Released is what was cancelled of the reservation.
	Summary       vipps.TransactionSummary `json:"transactionSummary"`
	Released      vipps.Amount             `json:"releasedAmount"`
	TransactionID string                   `json:"transactionId"`
	// URL is the initiate response's url; Token is its token parameter.
	URL            string `json:"url"`
	Token          string `json:"token"`
	IsApp          bool   `json:"isApp"`
	CallbackPrefix string `json:"callbackPrefix"`
	FallBack       string `json:"fallBack"`
	// AuthToken is the merchant's authToken; it prints redacted, but JSON
	// (and so the control API) carries it.
	AuthToken       vipps.Secret `json:"authToken,omitempty"`
	MobileNumber    string       `json:"mobileNumber,omitempty"`
	SkipLandingPage bool         `json:"skipLandingPage,omitempty"`
	Scope           string       `json:"scope,omitempty"`
	// PhoneNumber is the user who acted on the payment, if any; Sub is
	// their Userinfo subject (for payments with a scope).
	PhoneNumber string    `json:"phoneNumber,omitempty"`
	Sub         string    `json:"sub,omitempty"`
	InitiatedAt time.Time `json:"initiatedAt"`
	ReservedAt  time.Time `json:"reservedAt,omitzero"`
	// ShippingDetails are the address and shipping option the user of an
	// express payment chose.
	ShippingDetails *vipps.ShippingDetails `json:"shippingDetails,omitempty"`
	// ExpiredAt is when Vipps released what was not captured within 180
	// days of the reservation (see "Payments" in DESIGN.md).
	ExpiredAt time.Time `json:"expiredAt,omitzero"`
	// Log is the transactionLogHistory, newest first.
	Log []vipps.LogEntry `json:"transactionLogHistory"`
}

func (p *payment) snapshot() Payment {
	log := slices.Clone(p.log)
	slices.Reverse(log)
	out := Payment{
		MSN:             p.msn,
		OrderID:         p.orderID,
		Amount:          p.amount,
		TransactionText: p.text,
		PaymentType:     p.order.paymentType,
		Status:          p.status,
		Summary:         p.summary(),
		Released:        p.released,
		TransactionID:   p.txID,
		URL:             p.url,
		Token:           p.token,
		IsApp:           p.order.isApp,
		CallbackPrefix:  p.order.callbackPrefix,
		FallBack:        p.order.fallBack,
		AuthToken:       vipps.Secret(p.order.authToken),
		MobileNumber:    p.order.mobileNumber,
		SkipLandingPage: p.order.skipLandingPage,
		Scope:           p.order.scope,
		InitiatedAt:     p.initiatedAt,
		ReservedAt:      p.reservedAt,
		ExpiredAt:       p.expiredAt,
		Log:             log,
	}
	if p.shipping != nil {
		sd := *p.shipping
		out.ShippingDetails = &sd
	}
	if p.user != nil {
		out.PhoneNumber = p.user.phone
		if p.order.scope != "" {
			out.Sub = p.user.sub
		}
	}
	return out
}

func (ph phase) String() string {
	switch ph {
	case phaseInitiated:
		return "INITIATE"
	case phaseReserved:
		return "RESERVE"
	case phaseSale:
		return "SALE"
	case phaseCancelled:
		return "CANCEL"
	case phaseVoided:
		return "VOID"
	case phaseUserCancelled:
		return "CANCEL (by the user)"
	case phaseTimedOut:
		return "REJECTED (timed out)"
	case phaseFailed:
		return "FAILED"
	}
	return fmt.Sprintf("phase(%d)", int(ph))
}
