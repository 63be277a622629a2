package vippstest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/vippskit/vipps"
)

// initiateRequest is a checked initiate body.
type initiateRequest struct {
	msn     vipps.MSN
	orderID vipps.OrderID
	amount  vipps.Amount
	text    string
	order   order
}

// initiate reads an initiate body strictly.
func (f *form) initiate(t tree) initiateRequest {
	var req initiateRequest
	ci := f.object(t, "", "customerInfo", true)
	mi := f.object(t, "", "merchantInfo", true)
	tx := f.object(t, "", "transaction", true)
	o := &req.order
	if ci != nil {
		o.mobileNumber = f.phoneField(ci, "customerInfo", "mobileNumber")
		f.refused = initiateRefusal(o.mobileNumber)
	}
	if mi != nil {
		req.msn = f.msn(mi, "merchantInfo")
		o.isApp = f.boolean(mi, "merchantInfo", "isApp")
		o.callbackPrefix = f.str(mi, "merchantInfo", "callbackPrefix", true, 255)
		f.checkURL("merchantInfo.callbackPrefix", o.callbackPrefix, urlPrefix)
		if _, ok := mi["fallback"]; ok {
			if f.lenient {
				f.x.warn("merchantInfo.fallback is misspelled: real Vipps answers 500; it must be fallBack")
				if _, both := mi["fallBack"]; !both {
					mi["fallBack"] = mi["fallback"]
				}
			} else {
				f.crashed = append(f.crashed, "merchantInfo.fallback: misspelled, it must be fallBack")
			}
		}
		o.fallBack = f.str(mi, "merchantInfo", "fallBack", true, 255)
		if !o.isApp {
			f.checkURL("merchantInfo.fallBack", o.fallBack, urlFallBack)
		}
		o.authToken = f.str(mi, "merchantInfo", "authToken", false, 255)
		o.paymentType = vipps.PaymentType(f.str(mi, "merchantInfo", "paymentType", false, 0))
		switch o.paymentType {
		case "":
			o.paymentType = vipps.PaymentTypeRegular
		case vipps.PaymentTypeRegular, vipps.PaymentTypeExpress:
		default:
			f.bad("merchantInfo.paymentType", "merchantInfo.paymentType must be %q or %q.", vipps.PaymentTypeRegular, vipps.PaymentTypeExpress)
		}
		o.consentRemovalPrefix = f.str(mi, "merchantInfo", "consentRemovalPrefix", false, 255)
		f.checkURL("merchantInfo.consentRemovalPrefix", o.consentRemovalPrefix, urlPrefix)
		o.shippingDetailsPrefix = f.str(mi, "merchantInfo", "shippingDetailsPrefix", false, 255)
		f.checkURL("merchantInfo.shippingDetailsPrefix", o.shippingDetailsPrefix, urlPrefix)
		o.staticShipping = f.shippingOptions(mi)
		if o.express() {
			if o.consentRemovalPrefix == "" {
				f.bad("merchantInfo.consentRemovalPrefix", "merchantInfo.consentRemovalPrefix is required for express checkout.")
			}
			if o.shippingDetailsPrefix == "" && len(o.staticShipping) == 0 {
				f.bad("merchantInfo.shippingDetailsPrefix", "Express checkout needs merchantInfo.shippingDetailsPrefix or merchantInfo.staticShippingDetails.")
			}
		}
	}
	if tx != nil {
		if a, ok := f.integer(tx, "transaction", "amount", true); ok {
			if a < int64(vipps.MinAmount) {
				f.bad("transaction.amount", "transaction.amount must be at least 100 (øre).")
			}
			req.amount = vipps.Amount(a)
		}
		id := f.str(tx, "transaction", "orderId", true, 0)
		if id != "" && !orderIDPattern.MatchString(id) {
			f.bad("transaction.orderId", "transaction.orderId must match ^[a-zA-Z0-9-]{1,50}$.")
		}
		req.orderID = vipps.OrderID(id)
		req.text = f.str(tx, "transaction", "transactionText", true, 100)
		o.skipLandingPage = f.boolean(tx, "transaction", "skipLandingPage")
		if o.skipLandingPage && o.mobileNumber == "" && !f.user81 {
			f.bad("customerInfo.mobileNumber", "customerInfo.mobileNumber is required with transaction.skipLandingPage.")
		}
		o.scope = f.str(tx, "transaction", "scope", false, 0)
		for sc := range strings.FieldsSeq(o.scope) {
			if !knownScope(sc) {
				f.bad("transaction.scope", "transaction.scope has the unknown value %q.", sc)
			}
		}
		if o.scope != "" && o.express() {
			f.bad("transaction.scope", "transaction.scope cannot be combined with express checkout.")
		}
		f.boolean(tx, "transaction", "useExplicitCheckoutFlow")
		if ad := f.object(tx, "transaction", "additionalData", false); ad != nil {
			f.lengths(ad, "transaction.additionalData", map[string][3]int{
				"passengerName":         {1, 49, 1},
				"airlineCode":           {3, 3, 1},
				"airlineDesignatorCode": {2, 2, 1},
				"ticketNumber":          {1, 150, 0},
				"agencyInvoiceNumber":   {1, 6, 1},
			})
		}
	}
	return req
}

// lengths checks string fields by {min, max, required}.
func (f *form) lengths(t tree, path string, rules map[string][3]int) {
	for _, key := range slices.Sorted(maps.Keys(rules)) {
		r := rules[key]
		v := f.str(t, path, key, r[2] == 1, r[1])
		if n := len([]rune(v)); v != "" && n < r[0] {
			f.bad(join(path, key), "%s must be at least %d characters.", join(path, key), r[0])
		}
	}
}

// shippingOptions reads merchantInfo.staticShippingDetails.
func (f *form) shippingOptions(mi tree) []vipps.ShippingOption {
	v, ok := mi["staticShippingDetails"]
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		f.bad("merchantInfo.staticShippingDetails", "merchantInfo.staticShippingDetails must be an array.")
		return nil
	}
	var out []vipps.ShippingOption
	for path, t := range f.objects("merchantInfo.staticShippingDetails", arr) {
		var opt vipps.ShippingOption
		switch d := f.str(t, path, "isDefault", true, 0); d {
		case "Y", "N":
			opt.IsDefault = d == "Y"
		case "":
		default:
			f.bad(path+".isDefault", "%s.isDefault must be \"Y\" or \"N\".", path)
		}
		if p, ok := f.integer(t, path, "priority", false); ok {
			opt.Priority = int(p)
		}
		if c, ok := f.number(t, path, "shippingCost", true); ok {
			if c < 0 {
				f.bad(path+".shippingCost", "%s.shippingCost must not be negative.", path)
			}
			opt.ShippingCost = vipps.NOK(c)
		}
		opt.ShippingMethod = f.str(t, path, "shippingMethod", true, 256)
		opt.ShippingMethodID = f.str(t, path, "shippingMethodId", true, 100)
		out = append(out, opt)
	}
	return out
}

// actionRequest is a checked capture, cancel or refund body.
type actionRequest struct {
	msn     vipps.MSN
	amount  vipps.Amount // 0: all that remains
	text    string
	release bool
}

func (f *form) action(t tree, withAmount bool) actionRequest {
	var a actionRequest
	if mi := f.object(t, "", "merchantInfo", true); mi != nil {
		a.msn = f.msn(mi, "merchantInfo")
	}
	if tx := f.object(t, "", "transaction", true); tx != nil {
		a.text = f.str(tx, "transaction", "transactionText", true, 100)
		if withAmount {
			if n, ok := f.integer(tx, "transaction", "amount", false); ok {
				if n < 0 {
					f.bad("transaction.amount", "transaction.amount must not be negative.")
				}
				a.amount = vipps.Amount(n)
			}
		}
	}
	if !withAmount {
		a.release = f.boolean(t, "", "shouldReleaseRemainingFunds")
	}
	return a
}

func notFoundReply(orderID vipps.OrderID, msn vipps.MSN) reply {
	return vippsErr(http.StatusNotFound, vipps.GroupMerchant, vipps.CodeOrderNotFound, msgNotFound, orderID, msn)
}

// initiate serves POST /ecomm/v2/payments.
func (s *Simulator) initiate(x *exchange) reply {
	m, rep := s.authorize(x, true)
	if rep != nil {
		return *rep
	}
	f := newForm(x, s.cfg.Lenient)
	var req initiateRequest
	if t := f.parse(x.body); t != nil {
		req = f.initiate(t)
	}
	x.rec.OrderID = req.orderID
	if rep := f.result(); rep != nil {
		return *rep
	}
	if !s.headerMSNOK(x, m) {
		return vippsErr(http.StatusForbidden, vipps.GroupMerchant, vipps.CodeSalesUnitUnavailable, msgInvalidMSN, x.r.Header.Get("Merchant-Serial-Number"))
	}
	if req.msn != m.MSN {
		return vippsErr(http.StatusForbidden, vipps.GroupMerchant, vipps.CodeSalesUnitUnavailable, msgInvalidMSN, req.msn)
	}
	if req.order.skipLandingPage && !m.SkipLandingPageAllowed {
		return vippsErr(http.StatusBadRequest, vipps.GroupMerchant, vipps.CodeSkipLandingPageNotAllowed, msgSkipLanding)
	}
	if !m.NinAllowed && strings.Contains(" "+req.order.scope+" ", " nin ") {
		return vippsErr(http.StatusForbidden, vipps.GroupMerchant, vipps.CodeNinNotAllowed, msgNin)
	}
	key := payKey{m.MSN, req.orderID}
	if s.payments[key] != nil {
		return vippsErr(http.StatusBadRequest, vipps.GroupMerchant, vipps.CodeDuplicateOrderID, msgDuplicate)
	}
	p := &payment{
		msn:         m.MSN,
		orderID:     req.orderID,
		amount:      req.amount,
		text:        req.text,
		order:       req.order,
		token:       s.newLandingTokenLocked(),
		txID:        s.nextTxIDLocked(),
		initiatedAt: x.now,
		idem:        map[idemKey]idemRecord{},
	}
	if p.order.isApp {
		p.url = "vippsMT://?token=" + p.token
	} else {
		p.url = baseURL(x.r) + landingPath + "?v=2&token=" + p.token
	}
	p.append(p.entry(vipps.OperationInitiate, p.amount, p.text, p.txID, "", x.now, true), vipps.OrderStatusInitiate)
	s.payments[key] = p
	s.byToken[p.token] = p
	s.open[p] = struct{}{}
	return jsonReply(http.StatusOK, vipps.InitiateResponse{OrderID: p.orderID, URL: p.url})
}

const landingPath = "/dwo-api-application/v1/deeplink/vippsgateway"

// newLandingTokenLocked returns a token for the landing page URL: unpadded
// base64url, so that it has no '=' (Vipps' Postman collection splits the
// URL on '=').
func (s *Simulator) newLandingTokenLocked() string {
	for {
		t := "eyJ" + base64.RawURLEncoding.EncodeToString(randomBytes(48))
		if s.byToken[t] == nil {
			return t
		}
	}
}

// baseURL is the scheme and host the request came in on.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// orderCall does what every call on an existing payment starts with: the
// credentials, the orderId in the path and the Merchant-Serial-Number
// header. It returns the merchant and orderId, or the reply to give.
func (s *Simulator) orderCall(x *exchange) (*Merchant, vipps.OrderID, *reply) {
	m, rep := s.authorize(x, true)
	if rep != nil {
		return nil, "", rep
	}
	id := vipps.OrderID(x.r.PathValue("orderId"))
	if !orderIDPattern.MatchString(string(id)) {
		rep := vippsErr(http.StatusBadRequest, vipps.GroupInvalidRequest, "orderId", "The orderId in the path must match ^[a-zA-Z0-9-]{1,50}$.")
		return nil, "", &rep
	}
	if !s.headerMSNOK(x, m) {
		rep := notFoundReply(id, vipps.MSN(x.r.Header.Get("Merchant-Serial-Number")))
		return nil, "", &rep
	}
	if n := s.inFlight[payKey{m.MSN, id}]; n >= maxConcurrent {
		x.warn("%d other requests for order %s are in progress (held by delay faults)", n, id)
		rep := vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeTooManyRequests, msgTooManyRequests)
		return nil, "", &rep
	}
	return m, id, nil
}

// maxConcurrent is how many requests for one payment may be in progress at
// once before VippsError 98 (too many concurrent requests). The reference
// names the guard but no number; the simulator's choice is 3.
const maxConcurrent = 3

// msgTooManyRequests is VippsError 98's text.
const msgTooManyRequests = "Too many concurrent requests for this order. Wait for the requests in progress, then retry."

// actionCall authorizes a capture, refund or cancel and decodes its body
// (with an amount for capture and refund).
func (s *Simulator) actionCall(x *exchange, withAmount bool) (*Merchant, vipps.OrderID, actionRequest, *reply) {
	m, id, rep := s.orderCall(x)
	if rep != nil {
		return nil, "", actionRequest{}, rep
	}
	f := newForm(x, s.cfg.Lenient)
	var a actionRequest
	if t := f.parse(x.body); t != nil {
		a = f.action(t, withAmount)
	}
	if rep := f.result(); rep != nil {
		return nil, "", actionRequest{}, rep
	}
	if s.busy[payKey{m.MSN, id}] > 0 {
		x.warn("another capture, refund or cancel of order %s is in progress (held by a delay fault)", id)
		rep := vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeOrderLocked, msgOrderLocked)
		return nil, "", actionRequest{}, &rep
	}
	return m, id, a, nil
}

// msgOrderLocked is VippsError 94's text.
const msgOrderLocked = "The order is locked: another operation on it is being processed. Retry later with the same X-Request-Id."

// busyOps are the writes that lock a payment while they are in progress.
var busyOps = map[string]bool{"capture": true, "refund": true, "cancel": true}

// markBusyLocked marks a capture, refund or cancel by who as in progress until the
// returned func is called: other writes of the payment get VippsError 94
// (order locked) meanwhile. The simulator handles a request at once under
// its lock, so only a request that a delay fault holds is in progress for
// a while (faults.go).
//
// Every request for a payment that a delay fault holds counts toward the
// payment's requests in progress: past maxConcurrent, the next gets
// VippsError 98.
// s.mu is held; release takes it.
func (s *Simulator) markBusyLocked(op string, who caller) (release func()) {
	if !who.authenticated || who.orderID == "" {
		return func() {}
	}
	k, write := payKey{who.msn, who.orderID}, busyOps[op]
	s.inFlight[k]++
	if write {
		s.busy[k]++
	}
	return func() {
		s.mu.Lock()
		if s.inFlight[k]--; s.inFlight[k] <= 0 {
			delete(s.inFlight, k)
		}
		if write {
			if s.busy[k]--; s.busy[k] <= 0 {
				delete(s.busy, k)
			}
		}
		s.mu.unlockRead()
	}
}

// paymentOf finds the merchant's payment; bodyMSN is the MSN the request
// body names, which must be the merchant's own. Either miss is Merchant 35.
func (s *Simulator) paymentOf(m *Merchant, id vipps.OrderID, bodyMSN vipps.MSN) (*payment, *reply) {
	if bodyMSN != m.MSN {
		rep := notFoundReply(id, bodyMSN)
		return nil, &rep
	}
	p := s.payments[payKey{m.MSN, id}]
	if p == nil {
		rep := notFoundReply(id, m.MSN)
		return nil, &rep
	}
	s.currentLocked(p, s.nowLocked())
	return p, nil
}

// keyedPayment takes the first steps of a request with an idempotency key
// (capture, refund, force approve): it checks X-Request-Id, finds the
// payment, and answers with the kept answer when the key was used before
// (see replayed). Otherwise it returns the payment and the key.
func (s *Simulator) keyedPayment(x *exchange, m *Merchant, id vipps.OrderID, bodyMSN vipps.MSN, op, fingerprint string) (*payment, string, *reply) {
	requestID, rep := requestIDOf(x)
	if rep != nil {
		return nil, "", rep
	}
	p, rep := s.paymentOf(m, id, bodyMSN)
	if rep != nil {
		return nil, "", rep
	}
	if rep, ok := replayed(x, p, op, requestID, fingerprint); ok {
		return nil, "", &rep
	}
	return p, requestID, nil
}

// requestID checks the X-Request-Id header.
func requestIDOf(x *exchange) (string, *reply) {
	id := x.r.Header.Get("X-Request-Id")
	if len(id) > 40 {
		rep := vippsErr(http.StatusBadRequest, vipps.GroupInvalidRequest, "X-Request-Id", "X-Request-Id is %d characters; the limit is 40.", len(id))
		return "", &rep
	}
	return id, nil
}

// replayed answers a request whose X-Request-Id was seen before for this
// payment and endpoint: the first answer again if the body is the same,
// VippsError 93 if not. ok is false when the key is new.
func replayed(x *exchange, p *payment, op, requestID, fingerprint string) (reply, bool) {
	if requestID == "" {
		return reply{}, false
	}
	rec, seen := p.idem[idemKey{op, requestID}]
	switch {
	case !seen:
		return reply{}, false
	case rec.fingerprint != fingerprint:
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeRetryBodyDiffers, msgNotIdentical, op), true
	}
	x.warn("idempotent replay of X-Request-Id %q: the first answer is repeated", requestID)
	return rec.rep, true
}

func remember(p *payment, op, requestID, fingerprint string, rep reply) {
	if requestID != "" && rep.status/100 == 2 {
		p.idem[idemKey{op, requestID}] = idemRecord{fingerprint: fingerprint, rep: rep}
	}
}

// capture serves POST /ecomm/v2/payments/{orderId}/capture.
func (s *Simulator) capture(x *exchange) reply { return s.moneyOp(x, "capture") }

// refund serves POST /ecomm/v2/payments/{orderId}/refund.
func (s *Simulator) refund(x *exchange) reply { return s.moneyOp(x, "refund") }

// refundResponse is the refund answer: Vipps names the operation
// "transaction" here, not "transactionInfo".
type refundResponse struct {
	OrderID            vipps.OrderID            `json:"orderId"`
	Transaction        vipps.TransactionInfo    `json:"transaction"`
	TransactionSummary vipps.TransactionSummary `json:"transactionSummary"`
}

func (s *Simulator) moneyOp(x *exchange, op string) reply {
	m, id, a, rep := s.actionCall(x, true)
	if rep != nil {
		return *rep
	}
	fingerprint := fmt.Sprintf("%d|%q", a.amount, a.text)
	p, requestID, rep := s.keyedPayment(x, m, id, a.msn, op, fingerprint)
	if rep != nil {
		return *rep
	}
	if requestID == "" && a.amount != 0 {
		if !s.cfg.Lenient {
			return vippsErr(http.StatusBadRequest, vipps.GroupInvalidRequest, "X-Request-Id", "X-Request-Id is required for a partial %s.", op)
		}
		x.warn("partial %s without X-Request-Id: Vipps requires one", op)
	}
	txID := itoa(s.nextTx + 1)
	var (
		done vipps.Amount
		oe   *opError
	)
	if op == "capture" {
		done, oe = p.capture(a.amount, a.text, txID, requestID, x.now)
	} else {
		done, oe = p.refund(a.amount, a.text, txID, requestID, x.now)
	}
	if oe != nil {
		return oe.reply()
	}
	s.nextTx++
	info := vipps.TransactionInfo{Amount: done, TimeStamp: vipps.Time{Time: x.now}, TransactionID: txID, TransactionText: a.text}
	var out reply
	if op == "capture" {
		info.Status = vipps.TransactionCaptured
		out = jsonReply(http.StatusOK, vipps.TransactionResponse{OrderID: id, TransactionInfo: info, TransactionSummary: p.summary()})
	} else {
		info.Status = vipps.TransactionRefund
		out = jsonReply(http.StatusOK, refundResponse{OrderID: id, Transaction: info, TransactionSummary: p.summary()})
	}
	remember(p, op, requestID, fingerprint, out)
	return out
}

// cancel serves PUT /ecomm/v2/payments/{orderId}/cancel.
func (s *Simulator) cancel(x *exchange) reply {
	m, id, a, rep := s.actionCall(x, false)
	if rep != nil {
		return *rep
	}
	p, rep := s.paymentOf(m, id, a.msn)
	if rep != nil {
		return *rep
	}
	txID := itoa(s.nextTx + 1)
	if oe := p.cancel(a.release, a.text, txID, x.now); oe != nil {
		return oe.reply()
	}
	s.nextTx++
	delete(s.open, p)
	info := vipps.TransactionInfo{
		Amount:          p.amount,
		Status:          vipps.TransactionCancelled,
		TimeStamp:       vipps.Time{Time: x.now},
		TransactionID:   txID,
		TransactionText: a.text,
	}
	return jsonReply(http.StatusOK, vipps.TransactionResponse{OrderID: id, TransactionInfo: info, TransactionSummary: p.summary()})
}

// details serves GET /ecomm/v2/payments/{orderId}/details. A shop polls
// it far more often than a payment changes, so the encoded answers are
// kept while nothing changes: all of them are dropped when the count of
// changes (stateMutex.changes, which any change of any payment moves) is
// no longer the one they were kept at, and one whose express data expired
// since is encoded again. So the answers kept are at most those of the
// payments polled since the last change, and never more than
// maxDetailsKept.
func (s *Simulator) details(x *exchange) reply {
	p, rep := s.readPayment(x)
	if rep != nil {
		return *rep
	}
	if s.detailsAt != s.mu.changes {
		clear(s.detailsKept)
		s.detailsAt = s.mu.changes
	}
	expired := p.expressExpired(x.now)
	if c, ok := s.detailsKept[p]; ok && c.expired == expired {
		return c.rep
	}
	out := jsonReply(http.StatusOK, p.details(x.now))
	if s.detailsKept == nil || len(s.detailsKept) >= maxDetailsKept {
		s.detailsKept = map[*payment]detailsCache{}
	}
	s.detailsKept[p] = detailsCache{rep: out, expired: expired}
	return out
}

// maxDetailsKept bounds the /details answers kept (a few MB).
const maxDetailsKept = 4096

// readPayment authorizes a read of one payment (details, status) and finds
// it.
func (s *Simulator) readPayment(x *exchange) (*payment, *reply) {
	m, id, rep := s.orderCall(x)
	if rep != nil {
		return nil, rep
	}
	return s.paymentOf(m, id, m.MSN)
}

// status serves the deprecated GET /ecomm/v2/payments/{orderId}/status.
func (s *Simulator) status(x *exchange) reply {
	p, rep := s.readPayment(x)
	if rep != nil {
		return *rep
	}
	var out vipps.StatusResponse
	out.OrderID = p.orderID
	out.TransactionInfo.Amount = p.last.Amount
	out.TransactionInfo.Status = p.status
	out.TransactionInfo.TimeStamp = p.last.TimeStamp
	out.TransactionInfo.TransactionID = p.last.TransactionID
	return jsonReply(http.StatusOK, out)
}

// forceApprove serves POST /ecomm/v2/integration-test/payments/{orderId}/approve:
// the test environment's way to approve without the app. The magic amounts
// do not apply.
func (s *Simulator) forceApprove(x *exchange) reply {
	m, id, rep := s.orderCall(x)
	if rep != nil {
		return *rep
	}
	f := newForm(x, s.cfg.Lenient)
	var phone, token string
	if t := f.parse(x.body); t != nil {
		phone = f.str(t, "", "customerPhoneNumber", true, 0)
		token = f.str(t, "", "token", true, 0)
	}
	if rep := f.result(); rep != nil {
		return *rep
	}
	fingerprint := phone + "|" + token // as sent, before the number is repaired
	p, requestID, rep := s.keyedPayment(x, m, id, m.MSN, "approve", fingerprint)
	if rep != nil {
		return *rep
	}
	if !secretEqual(token, p.token) {
		return vippsErr(http.StatusBadRequest, vipps.GroupInvalidRequest, "token", "The token is not the token of this payment's url.")
	}
	switch {
	case p.order.express():
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed, "Force approve is not supported for express checkout payments.")
	case p.order.skipLandingPage:
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed, "Force approve is not supported for skipLandingPage payments.")
	}
	if phone = f.phone("customerPhoneNumber", phone); phone == "" {
		return *f.result()
	}
	switch {
	case p.phase == phaseReserved || p.phase == phaseSale || !p.pendingUntil.IsZero():
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeAlreadyProcessed, msgAlreadyProcessed)
	case p.phase != phaseInitiated:
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed, msgNotAllowed)
	}
	if err := s.approveLocked(p, phone, x.now, true, nil); err != nil {
		if ue, ok := errors.AsType[*userError](err); ok {
			return ue.reply()
		}
		return vippsErr(http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed, "%s", err.Error())
	}
	out := reply{status: http.StatusOK}
	remember(p, "approve", requestID, fingerprint, out)
	return out
}
