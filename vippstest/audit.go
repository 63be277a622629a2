package vippstest

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// This file is the audit mode and the evidence that `vipps checklist`
// grades Vipps' go-live checklist from: what one merchant sent the
// simulator and how it answered the simulator's calls.

// AuditDropID is the FaultID of a callback that the audit mode dropped on
// purpose (its Fault is [CallbackDrop]), and of a capture whose answer it
// lost on purpose (its Fault is [FaultDropAfterApply]).
const AuditDropID = "audit"

// auditEvery is how often the audit mode drops a callback: the first
// callback of the 1st, 4th, 7th, ... payment of each merchant that gets
// one.
const auditEvery = 3

// auditState is what the audit mode remembers: which payments have had a
// callback, how many payments of each merchant have, and which merchants
// have sent a capture.
type auditState struct {
	called   map[payKey]bool
	count    map[vipps.MSN]int
	captured map[vipps.MSN]bool
}

// auditFaultLocked returns the fault the audit mode puts on a request to op
// by who, or nil. The first authenticated capture of each merchant is
// handled but its answer is lost (a [FaultDropAfterApply] with ID
// [AuditDropID]), so that the grade sees whether the merchant sends it
// again with the same X-Request-Id. That first capture counts even when
// an injected fault hits it instead: the audit mode loses one answer per
// merchant at most.
func (s *Simulator) auditFaultLocked(op string, who caller) *Fault {
	if !s.cfg.Audit || op != "capture" || !who.authenticated || s.audit.captured[who.msn] {
		return nil
	}
	if s.audit.captured == nil {
		s.audit.captured = map[vipps.MSN]bool{}
	}
	s.audit.captured[who.msn] = true
	return &Fault{ID: AuditDropID, Kind: FaultDropAfterApply, Op: op, MSN: who.msn, Count: 1, Hits: 1}
}

// auditDropLocked reports whether the audit mode drops cb, and if so
// records it as dropped. Only the first callback of a payment is ever
// dropped, so that the merchant must learn that outcome through /details.
func (s *Simulator) auditDropLocked(cb *Callback) bool {
	if !s.cfg.Audit {
		return false
	}
	k := payKey{cb.MSN, cb.OrderID}
	if s.audit.called == nil {
		s.audit.called, s.audit.count = map[payKey]bool{}, map[vipps.MSN]int{}
	}
	if s.audit.called[k] {
		return false
	}
	s.audit.called[k] = true
	s.audit.count[cb.MSN]++
	if s.audit.count[cb.MSN]%auditEvery != 1 {
		return false
	}
	cb.Fault, cb.FaultID = CallbackDrop, AuditDropID
	cb.Err = "not sent: dropped by the audit mode, so that the merchant must poll /details"
	s.recordCallbackLocked(*cb, false)
	return true
}

// Audit is the evidence of one merchant's integration (or of every
// merchant's, when MSN is empty), as GET /_sim/audit serves it. Payments
// carry no authToken.
type Audit struct {
	MSN vipps.MSN `json:"merchantSerialNumber,omitempty"`
	// AuditMode reports whether the simulator runs with Config.Audit, so
	// that some callbacks were dropped, and each merchant's first capture
	// answer lost, on purpose.
	AuditMode       bool             `json:"auditMode"`
	Now             time.Time        `json:"now"`
	Requests        []Request        `json:"requests"`
	Payments        []Payment        `json:"payments"`
	Callbacks       []Callback       `json:"callbacks"`
	ShippingCalls   []ShippingCall   `json:"shippingCalls"`
	ConsentRemovals []ConsentRemoval `json:"consentRemovals"`
	OrderManagement []AuditOrder     `json:"orderManagement"`
}

// AuditOrder is what a merchant sent Order Management for one order.
type AuditOrder struct {
	MSN         vipps.MSN           `json:"merchantSerialNumber"`
	PaymentType vipps.OMPaymentType `json:"paymentType"`
	OrderID     string              `json:"orderId"`
	Category    bool                `json:"category"`
	Receipt     bool                `json:"receipt"`
}

// Audit returns the evidence for merchant msn ("" for every merchant).
// Call [Simulator.WaitCallbacks] first to include callbacks in flight.
func (s *Simulator) Audit(msn vipps.MSN) Audit {
	s.mu.Lock()
	defer s.mu.unlockRead()
	return s.auditLocked(msn, s.nowLocked())
}

func (s *Simulator) auditLocked(msn vipps.MSN, now time.Time) Audit {
	mine := func(m vipps.MSN) bool { return msn == "" || m == msn }
	a := Audit{MSN: msn, AuditMode: s.cfg.Audit, Now: now,
		Payments: []Payment{}, Callbacks: []Callback{},
		ShippingCalls: []ShippingCall{}, ConsentRemovals: []ConsentRemoval{}, OrderManagement: []AuditOrder{}}
	a.Requests = s.requestsLocked(func(r Request) bool { return mine(r.MSN) && r.Op != "" })
	for _, p := range s.paymentsLocked() {
		if mine(p.MSN) {
			p.AuthToken = ""
			a.Payments = append(a.Payments, p)
		}
	}
	for _, c := range s.callbacks {
		if mine(c.MSN) {
			a.Callbacks = append(a.Callbacks, c)
		}
	}
	for _, c := range s.app.shippingCalls {
		if mine(c.MSN) {
			a.ShippingCalls = append(a.ShippingCalls, c)
		}
	}
	for _, c := range s.app.consentRemovals {
		if mine(c.MSN) {
			a.ConsentRemovals = append(a.ConsentRemovals, c)
		}
	}
	for k, o := range s.om {
		if mine(k.msn) {
			a.OrderManagement = append(a.OrderManagement, AuditOrder{k.msn, k.paymentType, k.orderID, o.category != nil, o.receipt != nil})
		}
	}
	slices.SortFunc(a.OrderManagement, func(x, y AuditOrder) int {
		return cmp.Or(cmp.Compare(x.MSN, y.MSN), cmp.Compare(x.PaymentType, y.PaymentType), cmp.Compare(x.OrderID, y.OrderID))
	})
	return a
}

func (s *Simulator) ctlAudit(x *exchange) reply {
	return jsonReply(http.StatusOK, s.auditLocked(vipps.MSN(x.r.URL.Query().Get("msn")), x.now))
}
