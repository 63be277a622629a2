package vippstest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// Approve acts as the user approving the payment in the Vipps app with the
// given phone number ("" means the payment's customerInfo.mobileNumber, or
// else [DefaultPhoneNumber]). The payment becomes RESERVE (SALE for a
// direct-capture merchant) and the callback is sent. Unlike force approve,
// the magic test amounts apply: 151, 182, 183, 184, 186, 187 and 197 øre
// fail the reservation, 201 leaves the result unknown for an hour and then
// fails it; see "Magic amounts" in DESIGN.md.
//
// For express checkout the user picks their first (home) address and the
// default shipping option (else the first by priority): of
// staticShippingDetails, or of what the merchant's shippingDetails endpoint
// answers for that address. That call is made without holding the
// simulator's lock and may take up to 10 seconds; when it gives no usable
// answer, Approve fails with [ErrShipping] and the payment keeps waiting.
func (s *Simulator) Approve(orderID vipps.OrderID, phone string) error {
	_, err := s.approveAsUser(context.Background(), "", orderID, phone)
	return err
}

// Reject acts as the user rejecting the payment in the app: the payment is
// cancelled (log CANCEL) and the callback says CANCELLED.
func (s *Simulator) Reject(orderID vipps.OrderID) error {
	return s.userAction("reject", orderID, s.rejectLocked)
}

// Expire makes the payment time out now, as if the user had done nothing
// for 10 minutes: /status says REJECTED, the log says CANCEL and the
// callback says REJECTED. To let time pass for every payment, use
// [Simulator.Advance].
func (s *Simulator) Expire(orderID vipps.OrderID) error {
	return s.userAction("expire", orderID, s.expireLocked)
}

// userAction runs act on the payment under the lock, after letting due
// timeouts happen.
func (s *Simulator) userAction(verb string, orderID vipps.OrderID, act func(*payment, time.Time) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	s.sweepLocked(now)
	p, err := s.findLocked("", orderID)
	if err != nil {
		return fmt.Errorf("%s order %s: %w", verb, orderID, err)
	}
	if err := act(p, now); err != nil {
		return fmt.Errorf("%s order %s: %w", verb, orderID, err)
	}
	return nil
}

// Payment returns a snapshot of the payment with this orderId. It fails
// with [ErrNotFound], or [ErrAmbiguous] when several merchants have used
// the orderId.
func (s *Simulator) Payment(orderID vipps.OrderID) (Payment, error) {
	s.mu.Lock()
	defer s.mu.unlockRead() // sweepLocked counts what it changes
	s.sweepLocked(s.nowLocked())
	p, err := s.findLocked("", orderID)
	if err != nil {
		return Payment{}, fmt.Errorf("payment %s: %w", orderID, err)
	}
	return p.snapshot(), nil
}

// Payments returns snapshots of every payment, oldest first.
func (s *Simulator) Payments() []Payment {
	s.mu.Lock()
	defer s.mu.unlockRead() // sweepLocked counts what it changes
	s.sweepLocked(s.nowLocked())
	return s.paymentsLocked()
}

func (s *Simulator) paymentsLocked() []Payment {
	s.tidyLocked(s.nowLocked(), true)
	ps := make([]*payment, 0, len(s.payments))
	for _, p := range s.payments {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *payment) int {
		return cmp.Or(a.initiatedAt.Compare(b.initiatedAt), cmp.Compare(a.txID, b.txID))
	})
	out := make([]Payment, len(ps))
	for i, p := range ps {
		out[i] = p.snapshot()
	}
	return out
}

// findLocked finds a payment by orderId, within one merchant when msn is
// set.
func (s *Simulator) findLocked(msn vipps.MSN, orderID vipps.OrderID) (*payment, error) {
	if msn != "" {
		if p := s.payments[payKey{msn, orderID}]; p != nil {
			s.currentLocked(p, s.nowLocked())
			return p, nil
		}
		return nil, ErrNotFound
	}
	var found *payment
	for _, m := range s.merchants {
		if p := s.payments[payKey{m.MSN, orderID}]; p != nil {
			if found != nil {
				return nil, ErrAmbiguous
			}
			found = p
		}
	}
	if found == nil {
		return nil, ErrNotFound
	}
	s.currentLocked(found, s.nowLocked())
	return found, nil
}

// waiting reports whether the payment still waits for the user.
func (p *payment) waiting() bool { return p.phase == phaseInitiated && p.pendingUntil.IsZero() }

// approveLocked approves p as the user with phone. forced is force approve,
// to which the magic amounts do not apply. choice is the address and
// shipping option picked in express checkout; nil picks the user's first
// address and the default static option.
func (s *Simulator) approveLocked(p *payment, phone string, now time.Time, forced bool, choice *expressChoice) error {
	if !p.waiting() {
		return fmt.Errorf("%w: the payment is %s, not waiting for the user", ErrState, p.describe())
	}
	if phone == "" {
		phone = cmp.Or(p.order.mobileNumber, DefaultPhoneNumber)
	}
	if !phonePattern.MatchString(phone) {
		return fmt.Errorf("phone number %q must be 8 digits", phone)
	}
	if p.order.skipLandingPage && phone != p.order.mobileNumber {
		return fmt.Errorf("%w: with skipLandingPage only %s can approve", ErrState, p.order.mobileNumber)
	}
	if ue := approvalRefusal(phone); ue != nil {
		return ue
	}
	if forced {
		if !s.bankIDVerifiedLocked(phone) {
			return errNotBankID
		}
		if phone == PhoneUnder15 {
			return errUnder15
		}
	}
	u := userFor(phone)
	var shipping *vipps.ShippingDetails
	if p.order.express() {
		if choice == nil {
			opt, ok := defaultShipping(p.order.staticShipping)
			if !ok {
				return fmt.Errorf("%w: express checkout with shippingDetailsPrefix needs the merchant's shipping options first", ErrState)
			}
			choice = &expressChoice{address: u.addresses()[0], option: opt}
		}
		opt := choice.option
		shipping = &vipps.ShippingDetails{Address: choice.address.Address, ShippingCost: opt.ShippingCost, ShippingMethod: opt.ShippingMethod, ShippingMethodID: opt.ShippingMethodID}
	}
	p.user, p.shipping = u, shipping
	direct := s.byMSN[p.msn].DirectCapture
	if !forced {
		if unverifiedAtFirst(phone) {
			s.verified[phone] = true // approved by hand: BankID verified from now on
		}
		if phone == PhoneUnder15 {
			s.failLocked(p, direct, now, now, errUnder15.detail)
			return nil
		}
		if p.amount == pendingAmount {
			p.pendingUntil = now.Add(pendingResult)
			return nil
		}
		if why, ok := magicFailures[p.amount]; ok {
			s.failLocked(p, direct, now, now, why)
			return nil
		}
	}
	if phone == PhoneCardExpired { // force approve too: it is the user's card
		s.failLocked(p, direct, now, now, magicFailures[186])
		return nil
	}
	if shipping != nil && s.cfg.ExpressAddsShipping {
		p.amount += shipping.ShippingCost.Amount()
	}
	p.approve(direct, now)
	delete(s.open, p)
	if p.order.scope != "" {
		s.shareLocked(p, now)
	}
	if p.order.express() {
		s.consentLocked(p, now)
	}
	st := vipps.CallbackReserved
	switch {
	case direct:
		st = vipps.CallbackSale
	case p.order.express():
		st = vipps.CallbackReserve
	}
	s.sendCallbackLocked(p, st, nil, now)
	return nil
}

// failLocked fails p's reservation at at for why, and sends the callback
// with why as its errorInfo at now.
func (s *Simulator) failLocked(p *payment, direct bool, at, now time.Time, why vipps.ErrorDetail) {
	p.fail(direct, at, why)
	delete(s.open, p)
	s.sendCallbackLocked(p, failedStatus(direct), p.failure, now)
}

// ResendCallback sends the transaction callback of the user's outcome
// again, as a merchant would see a duplicate delivery: the status (and
// errorInfo) of the callback the payment caused, with the current time. It
// fails with [ErrState] when the payment caused no callback (it waits for
// the user, or the merchant cancelled it first), besides [ErrNotFound] and
// [ErrAmbiguous]. msn may be empty.
func (s *Simulator) ResendCallback(msn vipps.MSN, orderID vipps.OrderID) (vipps.CallbackStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	s.sweepLocked(now)
	return s.resendCallbackLocked(msn, orderID, now)
}

func (s *Simulator) resendCallbackLocked(msn vipps.MSN, orderID vipps.OrderID, now time.Time) (vipps.CallbackStatus, error) {
	p, err := s.findLocked(msn, orderID)
	if err != nil {
		return "", fmt.Errorf("resend callback of order %s: %w", orderID, err)
	}
	st, errInfo, ok := s.callbackOfLocked(p)
	if !ok {
		return "", fmt.Errorf("resend callback of order %s: %w: the payment is %s and caused no callback", orderID, ErrState, p.describe())
	}
	s.sendCallbackLocked(p, st, errInfo, now)
	return st, nil
}

// ctlResendCallback serves POST /_sim/payments/{orderId}/resend-callback
// (?msn= optional): ResendCallback, answering 202 with the payment and
// the status sent.
func (s *Simulator) ctlResendCallback(x *exchange) reply {
	st, err := s.resendCallbackLocked(vipps.MSN(x.r.URL.Query().Get("msn")), vipps.OrderID(x.r.PathValue("orderId")), x.now)
	if err != nil {
		return ctlError(err)
	}
	return jsonReply(http.StatusAccepted, map[string]string{"orderId": x.r.PathValue("orderId"), "status": string(st)})
}

// callbackOfLocked is the callback p's outcome caused, if any.
func (s *Simulator) callbackOfLocked(p *payment) (vipps.CallbackStatus, *vipps.ErrorDetail, bool) {
	direct := s.byMSN[p.msn].DirectCapture
	switch p.phase {
	case phaseReserved, phaseVoided, phaseSale:
		switch {
		case p.phase == phaseSale:
			return vipps.CallbackSale, nil, true
		case p.order.express():
			return vipps.CallbackReserve, nil, true
		}
		return vipps.CallbackReserved, nil, true
	case phaseFailed:
		return failedStatus(direct), p.failure, true
	case phaseUserCancelled:
		return vipps.CallbackCancelled, nil, true
	case phaseTimedOut:
		return vipps.CallbackRejected, nil, true
	}
	return "", nil, false
}

func failedStatus(direct bool) vipps.CallbackStatus {
	if direct {
		return vipps.CallbackSaleFailed
	}
	return vipps.CallbackReserveFailed
}

func (s *Simulator) rejectLocked(p *payment, now time.Time) error {
	return s.endByUserLocked(p, now, p.reject, vipps.CallbackCancelled)
}

func (s *Simulator) expireLocked(p *payment, now time.Time) error {
	return s.endByUserLocked(p, now, p.timeout, vipps.CallbackRejected)
}

// endByUserLocked ends a payment that waits for the user without money:
// end records the outcome, and the callback says status.
func (s *Simulator) endByUserLocked(p *payment, now time.Time, end func(time.Time), status vipps.CallbackStatus) error {
	if p.phase != phaseInitiated {
		return fmt.Errorf("%w: the payment is %s, not waiting for the user", ErrState, p.describe())
	}
	p.pendingUntil = time.Time{}
	end(now)
	delete(s.open, p)
	s.sendCallbackLocked(p, status, nil, now)
	return nil
}

func (p *payment) describe() string {
	if p.phase == phaseInitiated && !p.pendingUntil.IsZero() {
		return "waiting for the bank (magic amount 201)"
	}
	if !p.expiredAt.IsZero() {
		return "RESERVE (expired)"
	}
	return p.phase.String()
}

// sweepLocked applies what became due by now: payments nobody acted on
// time out, and the magic amount 201 resolves. It counts what it changes
// (stateMutex.changedLocked), so that a reader that sweeps may unlock with
// unlockRead.
func (s *Simulator) sweepLocked(now time.Time) {
	s.tidyLocked(now, false)
	for p := range s.open {
		switch {
		case p.phase != phaseInitiated:
			delete(s.open, p)
		case !p.pendingUntil.IsZero():
			if now.Before(p.pendingUntil) {
				continue
			}
			at := p.pendingUntil
			p.pendingUntil = time.Time{}
			s.mu.changedLocked()
			s.failLocked(p, s.byMSN[p.msn].DirectCapture, at, now, vipps.ErrorDetail{Group: vipps.GroupPayment, Code: vipps.CodeReservationFailed, Message: "Reservation failed: no answer from the issuer in time."})
		case now.Sub(p.initiatedAt) >= paymentTimeout:
			p.timeout(p.initiatedAt.Add(paymentTimeout))
			delete(s.open, p)
			s.mu.changedLocked()
			s.sendCallbackLocked(p, vipps.CallbackRejected, nil, now)
		}
	}
}

// tidyEvery is how often (on the simulator's clock) sweepLocked looks at
// every payment for reservations that expired and finished payments to
// evict. A payment looked up by orderId is brought up to date at once
// (currentLocked).
const tidyEvery = time.Minute

// tidyLocked expires reservations that ran out and evicts finished
// payments older than Config.RetainFinished, at most once per tidyEvery
// unless forced. It counts what it changes.
func (s *Simulator) tidyLocked(now time.Time, force bool) {
	if !force && now.Before(s.nextTidy) {
		return
	}
	s.nextTidy = now.Add(tidyEvery)
	for _, p := range s.payments {
		s.currentLocked(p, now)
		s.evictLocked(p, now)
	}
}

// currentLocked applies to p what fell due by now that sweepLocked leaves
// to tidyLocked: the end of its reservation.
func (s *Simulator) currentLocked(p *payment, now time.Time) {
	if at, ok := p.expiresAt(); ok && now.After(at) {
		p.expire(s.nextTxIDLocked(), at)
		s.mu.changedLocked()
	}
}

// evictLocked forgets p when it finished more than Config.RetainFinished
// ago (never when RetainFinished is 0). Afterwards the API answers for its
// orderId as for one that never existed.
func (s *Simulator) evictLocked(p *payment, now time.Time) {
	if s.cfg.RetainFinished <= 0 || s.cfg.Audit { // an audit grades every payment
		return
	}
	at, ok := p.finishedAt()
	if !ok || now.Sub(at) <= s.cfg.RetainFinished {
		return
	}
	delete(s.payments, payKey{p.msn, p.orderID})
	delete(s.byToken, p.token)
	delete(s.open, p)
	delete(s.app.sessions, p)
	s.mu.changedLocked()
}

// pendingAmount is the magic test amount that leaves the result unknown for
// pendingResult; then the reservation fails.
const pendingAmount vipps.Amount = 201

// magicFailures maps the test environment's magic amounts to why the
// reservation fails when the user approves. The reference gives the reasons,
// not the codes; the codes are the nearest documented Payment errors.
var magicFailures = map[vipps.Amount]vipps.ErrorDetail{
	151: {Group: vipps.GroupPayment, Code: vipps.CodeRefusedByIssuer, Message: "Refused by issuer: insufficient funds"},
	182: {Group: vipps.GroupPayment, Code: vipps.CodeRefusedByIssuer, Message: "Refused by issuer"},
	183: {Group: vipps.GroupPayment, Code: vipps.CodeRefusedByIssuer, Message: "Refused by issuer: suspected fraud"},
	184: {Group: vipps.GroupPayment, Code: vipps.CodeRefusedAmount, Message: "Refused by issuer: withdrawal limit exceeded"},
	186: {Group: vipps.GroupPayment, Code: vipps.CodeExpiredCard, Message: "Refused by issuer because of expired card"},
	187: {Group: vipps.GroupPayment, Code: vipps.CodeNoValidCard, Message: "The user does not have a valid card"},
	197: {Group: vipps.GroupPayment, Code: vipps.CodeRefusedByIssuer, Message: "Refused by issuer: 3-D Secure denied"},
}

// defaultShipping picks the option the simulated user chooses: the one
// marked default, else the first by priority.
func defaultShipping(opts []vipps.ShippingOption) (vipps.ShippingOption, bool) {
	if len(opts) == 0 {
		return vipps.ShippingOption{}, false
	}
	for _, o := range opts {
		if o.IsDefault {
			return o, true
		}
	}
	sorted := slices.Clone(opts)
	slices.SortStableFunc(sorted, func(a, b vipps.ShippingOption) int { return cmp.Compare(a.Priority, b.Priority) })
	return sorted[0], true
}
