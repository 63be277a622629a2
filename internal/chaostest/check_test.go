package chaostest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vippskit/vipps"
)

// simPayment is a payment as the simulator's control API shows it.
type simPayment struct {
	OrderID       string                   `json:"orderId"`
	Amount        vipps.Amount             `json:"amount"`
	Status        string                   `json:"status"`
	Summary       vipps.TransactionSummary `json:"transactionSummary"`
	Released      vipps.Amount             `json:"releasedAmount"`
	TransactionID string                   `json:"transactionId"`
	Log           []vipps.LogEntry         `json:"transactionLogHistory"` // newest first
}

// truth is what Vipps (the simulator) says of a payment, in the service's
// terms: the state and amounts the service must show.
type truth struct {
	state    string
	amounts  amounts
	reserved bool         // a successful RESERVE
	released vipps.Amount // the VOID entries
	log      []vipps.LogEntry
	// merchantEnds counts the CANCEL (before approval) and VOID entries
	// that only a merchant's cancel makes; the user's reject and the
	// timeout are CANCEL entries with the payment's own transaction id.
	merchantEnds int
	ends         int // every successful CANCEL and VOID
}

// deriveTruth reads a payment's log (newest first, as /details sends it)
// and summary.
func deriveTruth(amount vipps.Amount, log []vipps.LogEntry, sum *vipps.TransactionSummary) *truth {
	tr := &truth{amounts: amounts{Authorized: amount}}
	var failed, cancelled bool
	paymentTx := ""
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		tr.log = append(tr.log, e)
		switch e.Operation {
		case vipps.OperationInitiate:
			paymentTx = e.TransactionID
		case vipps.OperationReserve, vipps.OperationSale:
			if e.OperationSuccess {
				tr.reserved, tr.amounts.Authorized = true, e.Amount
			} else {
				failed = true
			}
		case vipps.OperationCancel:
			if e.OperationSuccess {
				cancelled = true
				tr.ends++
				if e.TransactionID != paymentTx {
					tr.merchantEnds++
				}
			}
		case vipps.OperationVoid:
			if e.OperationSuccess {
				tr.released += e.Amount
				tr.ends++
				tr.merchantEnds++
			}
		}
	}
	if sum != nil {
		tr.amounts.Captured, tr.amounts.Refunded = sum.CapturedAmount, sum.RefundedAmount
		tr.amounts.RemainingToCapture, tr.amounts.RemainingToRefund = sum.RemainingAmountToCapture, sum.RemainingAmountToRefund
	}
	a := tr.amounts
	switch {
	case tr.reserved && a.Captured == 0 && a.RemainingToCapture == 0:
		tr.state = "voided"
	case tr.reserved && a.Captured > 0 && a.Refunded == a.Captured && a.RemainingToCapture == 0:
		tr.state = "refunded"
	case tr.reserved && a.RemainingToCapture == 0:
		tr.state = "captured"
	case tr.reserved:
		tr.state = "reserved"
	case failed:
		tr.state = "failed"
	case cancelled:
		tr.state = "cancelled"
	default:
		tr.state = "initiated"
	}
	return tr
}

// inLog reports how many successful log entries of op carry requestID.
func (tr *truth) inLog(op vipps.Operation, requestID string) int {
	n := 0
	for _, e := range tr.log {
		if e.Operation == op && e.OperationSuccess && e.RequestID == requestID {
			n++
		}
	}
	return n
}

// simPayments lists the simulator's payments of this run.
func (r *run) simPayments(ctx context.Context) (map[string]*simPayment, error) {
	var list []*simPayment
	if _, err := r.ctl(ctx, http.MethodGet, "/_sim/payments", nil, &list); err != nil {
		return nil, err
	}
	out := map[string]*simPayment{}
	for _, p := range list {
		if strings.HasPrefix(p.OrderID, orderPrefix+"-") {
			out[p.OrderID] = p
		}
	}
	return out, nil
}

// shopRefOf is the shopRef of an orderId: <prefix>-<shopRef>[-<attempt>].
func shopRefOf(id string) string {
	ref, _, _ := strings.Cut(strings.TrimPrefix(id, orderPrefix+"-"), "-")
	return ref
}

func (r *run) orderOf(id string) *order {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orders[shopRefOf(id)]
}

// knownIDs is every orderId of the run: what the simulator has, what the
// service answered with, and (for orders whose create got no clear
// answer) the attempts the service has that the shop never heard of.
func (r *run) knownIDs(ctx context.Context, sims map[string]*simPayment) []string {
	ids := map[string]bool{}
	for id := range sims {
		ids[id] = true
	}
	r.mu.Lock()
	orders := slices.Collect(maps.Values(r.orders))
	r.mu.Unlock()
	rng := r.rng("probe", 0)
	for _, o := range orders {
		o.mu.Lock()
		attempts, trouble := slices.Clone(o.attempts), o.createTrouble
		o.mu.Unlock()
		for _, id := range attempts {
			ids[id] = true
		}
		if !trouble {
			continue
		}
		for n := range len(attempts) + 5 {
			id := orderPrefix + "-" + o.shopRef
			if n > 0 {
				id += "--" + strconv.Itoa(n) // attempts end in "--n" (see payment.Service.Create)
			}
			if ids[id] {
				continue
			}
			if p, _ := r.getPayment(ctx, rng, o, id); p != nil {
				ids[id] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(ids))
}

// convergence is how the wait for the books to agree went.
type convergence struct {
	took     time.Duration
	limit    time.Duration
	total    int
	left     []string // orderIds still differing when the wait ended
	clearErr error
}

// settled reports whether the service's view of a payment equals Vipps':
// state, amounts, no operation pending, and the last webhook carrying the
// final state and amounts. tr is nil when Vipps does not have the payment.
func (r *run) settled(tr *truth, p *paymentJSON, hooks []webhook) bool {
	if p == nil {
		return tr == nil
	}
	for _, op := range p.Operations {
		if op.Status == "pending" {
			return false
		}
	}
	if tr == nil {
		return p.State == "created" || p.State == "failed"
	}
	if p.State != tr.state || p.Amounts != tr.amounts {
		return false
	}
	if tr.state == "initiated" {
		return true
	}
	if len(hooks) == 0 {
		return false
	}
	last := hooks[len(hooks)-1]
	return last.State == tr.state && last.Amounts == tr.amounts
}

// converge clears every fault and waits until every payment is settled,
// or the limit passes.
func (r *run) converge() convergence {
	var c convergence
	limit := r.cfg.converge
	if limit <= 0 {
		// A replica killed with leases held: they expire after a minute,
		// and pending operations are sent again 30 s after they began.
		// And a storm of one payment's refunds (or captures) may meet
		// Vipps' own limit of 5 a minute at the driver's end: its 429 asks
		// the service to wait up to a minute, which it does.
		limit = max(80*time.Second, time.Until(r.dis.lastEnd().Add(95*time.Second))) + time.Duration(r.cfg.payments)*10*time.Millisecond
	}
	c.limit = limit.Round(time.Second)
	deadline := time.Now().Add(limit)
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(time.Minute))
	defer cancel()

	// No more faults, rate limits counted so far forgotten, held callbacks
	// sent, the shop's endpoint well. The clock is not advanced.
	r.hooks.setFaults(false)
	for _, c2 := range []struct{ method, path string }{
		{http.MethodDelete, "/_sim/faults"},
		{http.MethodDelete, "/_sim/callback-faults"},
		{http.MethodPost, "/_sim/callbacks/release"},
		{http.MethodDelete, "/_sim/rate-limits"},
	} {
		if _, err := r.ctl(ctx, c2.method, c2.path, nil, nil); err != nil {
			c.clearErr = errors.Join(c.clearErr, err)
		}
	}
	if c.clearErr != nil {
		r.t.Errorf("clearing the simulator's faults: %v", c.clearErr)
	}

	sims, err := r.simPayments(ctx)
	if err != nil {
		r.t.Errorf("converge: %v", err)
		return c
	}
	ids := r.knownIDs(ctx, sims)
	c.total = len(ids)
	left := slices.Clone(ids)
	rng := r.rng("converge", 0)
	lastLog := time.Now()
	for {
		if sims, err = r.simPayments(ctx); err != nil {
			r.t.Errorf("converge: %v", err)
			break
		}
		var mu sync.Mutex
		var still []string
		parallel(16, left, func(id string) {
			var tr *truth
			if sp := sims[id]; sp != nil {
				tr = deriveTruth(sp.Amount, sp.Log, &sp.Summary)
			}
			mu.Lock()
			rng := child(rng)
			mu.Unlock()
			p, _ := r.getPayment(ctx, rng, r.orderOf(id), id)
			if !r.settled(tr, p, r.hooks.hooksOf(id)) {
				mu.Lock()
				still = append(still, id)
				mu.Unlock()
			}
		})
		slices.Sort(still)
		left = still
		if len(left) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		if time.Since(lastLog) > 15*time.Second {
			r.t.Logf("%s: converging: %d of %d payments still differ (%v left)", r.cfg.db, len(left), c.total, time.Until(deadline).Round(time.Second))
			lastLog = time.Now()
		}
		sleep(ctx, 2*time.Second)
	}
	c.left = left
	return c
}

// parallel calls f for every item, n at once.
func parallel[T any](n int, items []T, f func(T)) {
	var g errgroup.Group
	g.SetLimit(n)
	for _, it := range items {
		g.Go(func() error { f(it); return nil })
	}
	g.Wait() //nolint:errcheck // f reports nothing
}

// violation is one payment (or request) that breaks an invariant.
type violation struct{ orderID, detail string }

// invariant is one property checked at the end, with what broke it.
type invariant struct {
	name    string
	checked int
	bad     []violation
}

func (iv *invariant) fail(id, format string, args ...any) {
	iv.bad = append(iv.bad, violation{id, fmt.Sprintf(format, args...)})
}

// offenders counts the distinct orderIds among the violations.
func (iv *invariant) offenders() int {
	seen := map[string]bool{}
	for _, v := range iv.bad {
		seen[v.orderID] = true
	}
	return len(seen)
}

// result is what check found.
type result struct {
	invs        []*invariant
	ids         int
	atVipps     int
	onlyService int // payments Vipps never got
	states      map[string]int
	receipts    map[string]int // Order Management receipt requests by status
	express     int            // express shop orders
	shipped     int            // payments with shipping at Vipps
	fromShop    int            // ... with the shop's option (r.shopShipping)
	shopIgnored int            // ... with the static one though the shop answered
	hooks       receiverStats
}

// check reads everything once more, from /details and the service, and
// checks the invariants.
func (r *run) check(conv convergence) *result {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res := &result{states: map[string]int{}}
	var (
		stateInv = &invariant{name: "state and amounts equal Vipps' /details"}
		twiceInv = &invariant{name: "no capture or refund applied twice or unasked"}
		keyInv   = &invariant{name: "one operation per (payment, kind, shop key)"}
		opInv    = &invariant{name: "operation status agrees with Vipps' log"}
		sigInv   = &invariant{name: "webhooks: valid signatures, one body per id"}
		sumInv   = &invariant{name: "webhooks: captured/refunded/voided sums equal Vipps'"}
		resInv   = &invariant{name: "webhooks: one reserved per reservation"}
		lastInv  = &invariant{name: "webhooks: the last carries the final state and amounts"}
		rcptInv  = &invariant{name: "receipts: once, for captured payments only"}
		shipInv  = &invariant{name: "express: shipping as Vipps has it, charged, from the shop in time; none after consent removal"}
		moneyInv = &invariant{name: "one shop order holds money in one attempt at most"}
		httpInv  = &invariant{name: "no unexpected 5xx (or lost connection)"}
	)
	res.invs = []*invariant{stateInv, twiceInv, keyInv, opInv, sigInv, sumInv, resInv, lastInv, rcptInv, shipInv, moneyInv, httpInv}

	sims, err := r.simPayments(ctx)
	if err != nil {
		r.t.Errorf("check: %v", err)
		return res
	}
	ids := r.knownIDs(ctx, sims)
	res.ids, res.atVipps = len(ids), len(sims)

	type row struct {
		id     string
		tr     *truth // nil: Vipps does not have it
		p      *paymentJSON
		status int
		hooks  []webhook
		rcpt   *bool // Order Management holds a receipt (asked for orders with one)
		// ship is the shipping Vipps' /details has; nil without /details.
		ship    *vipps.ShippingDetails
		details bool // /details answered
	}
	rows := make([]*row, len(ids))
	rng := r.rng("check", 0)
	var mu sync.Mutex
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	parallel(8, idx, func(i int) {
		id := ids[i]
		rw := &row{id: id}
		rows[i] = rw
		o := r.orderOf(id)
		if sp := sims[id]; sp != nil {
			d, err := r.vipps.Details(ctx, vipps.OrderID(id))
			if err != nil {
				r.st.anomaly("details %s: %v; using the control API's snapshot", id, err)
				rw.tr = deriveTruth(sp.Amount, sp.Log, &sp.Summary)
			} else {
				rw.tr = deriveTruth(sp.Amount, d.TransactionLogHistory, d.TransactionSummary)
				rw.ship, rw.details = d.ShippingDetails, true
				if snap := deriveTruth(sp.Amount, sp.Log, &sp.Summary); snap.state != rw.tr.state || snap.amounts != rw.tr.amounts || snap.released != sp.Released {
					r.st.anomaly("%s: /details (%s %v) and the snapshot (%s %v, released %d) differ", id, rw.tr.state, rw.tr.amounts, snap.state, snap.amounts, sp.Released)
				}
			}
			if o != nil && o.receipt {
				has := false
				ord, err := r.vipps.GetOrder(ctx, vipps.OMEcom, id)
				ve, isVipps := errors.AsType[*vipps.Error](err)
				switch {
				case err == nil:
					has = ord.Receipt != nil
				case isVipps && ve.NotFound():
				default:
					r.st.anomaly("order management %s: %v", id, err)
				}
				rw.rcpt = &has
			}
		}
		mu.Lock()
		rs := child(rng)
		mu.Unlock()
		rw.p, rw.status = r.getPayment(ctx, rs, o, id)
		rw.hooks = r.hooks.hooksOf(id)
	})

	money := map[string][]string{} // shopRef → attempts holding money
	for _, rw := range rows {
		id, tr, p := rw.id, rw.tr, rw.p
		if tr == nil {
			res.onlyService++
		} else {
			res.states[tr.state]++
		}

		// State and amounts.
		stateInv.checked++
		switch {
		case p == nil && tr == nil:
		case p == nil:
			stateInv.fail(id, "Vipps has it (%s, %v); the service answers %d", tr.state, tr.amounts, rw.status)
		case tr == nil:
			if p.State != "created" && p.State != "failed" {
				stateInv.fail(id, "Vipps never got it; the service says %s", p.State)
			}
		case p.State != tr.state || p.Amounts != tr.amounts:
			stateInv.fail(id, "stored %s {%v}, Vipps %s {%v}", p.State, p.Amounts, tr.state, tr.amounts)
		}
		if p == nil {
			continue
		}

		// Operations against the log.
		byReq := map[string][]opJSON{}
		byKey := map[string][]opJSON{}
		succeededCancel := 0
		for _, op := range p.Operations {
			byReq[op.Kind+"/"+op.RequestID] = append(byReq[op.Kind+"/"+op.RequestID], op)
			byKey[op.Kind+"/"+op.IdempotencyKey] = append(byKey[op.Kind+"/"+op.IdempotencyKey], op)
			opInv.checked++
			if op.Kind == "cancel" && op.Status == "succeeded" {
				succeededCancel++
			}
			if tr == nil {
				if op.Status == "succeeded" {
					opInv.fail(id, "%s succeeded, but Vipps does not have the payment", op)
				}
				continue
			}
			logOp := map[string]vipps.Operation{"capture": vipps.OperationCapture, "refund": vipps.OperationRefund}[op.Kind]
			switch {
			case op.Status == "pending":
				opInv.fail(id, "%s still pending after convergence", op)
			case logOp != "" && op.Status == "succeeded" && tr.inLog(logOp, op.RequestID) == 0:
				opInv.fail(id, "%s stored succeeded, but Vipps' log has no %s with requestId %s", op, logOp, op.RequestID)
			case logOp != "" && op.Status == "failed" && tr.inLog(logOp, op.RequestID) > 0:
				opInv.fail(id, "%s stored failed, but Vipps applied it (requestId %s)", op, op.RequestID)
			case op.Kind == "cancel" && op.Status == "succeeded" && op.ReleaseRemaining && tr.released == 0 && tr.ends == 0:
				opInv.fail(id, "%s stored succeeded, but Vipps' log has no VOID or CANCEL", op)
			case op.Kind == "cancel" && op.Status == "succeeded" && !op.ReleaseRemaining && tr.ends == 0:
				opInv.fail(id, "%s stored succeeded, but Vipps' log has no CANCEL or VOID", op)
			}
		}
		if tr != nil && tr.merchantEnds > 0 && succeededCancel == 0 {
			opInv.fail(id, "Vipps' log has %d CANCEL/VOID by the merchant, but no cancel operation is stored succeeded (%s)", tr.merchantEnds, opsString(p.Operations, "cancel"))
		}

		// One operation per shop key, and every answered operation stored.
		for k, ops := range byKey {
			keyInv.checked++
			if len(ops) > 1 {
				keyInv.fail(id, "%d operations for %s: %v", len(ops), k, ops)
			}
		}
		if o := r.orderOf(id); o != nil {
			o.mu.Lock()
			for _, sop := range o.ops {
				if sop.orderID != id {
					continue
				}
				stored := byKey[sop.kind+"/"+sop.key]
				for _, oid := range sop.opIDs {
					if !slices.ContainsFunc(stored, func(op opJSON) bool { return op.ID == oid }) {
						keyInv.fail(id, "key %s was answered with operation #%d, which is not stored for it (stored: %v)", sop.key, oid, stored)
					}
				}
			}
			o.mu.Unlock()
		}

		// No capture or refund applied twice or unasked.
		if tr != nil {
			seen := map[string]int{}
			for _, e := range tr.log {
				if !e.OperationSuccess || (e.Operation != vipps.OperationCapture && e.Operation != vipps.OperationRefund) {
					continue
				}
				twiceInv.checked++
				kind := strings.ToLower(string(e.Operation))
				seen[kind+"/"+e.RequestID]++
				switch n := len(byReq[kind+"/"+e.RequestID]); {
				case e.RequestID == "":
					twiceInv.fail(id, "%s of %d without an X-Request-Id", e.Operation, e.Amount)
				case n == 0:
					twiceInv.fail(id, "%s of %d with requestId %s, which is no stored %s operation", e.Operation, e.Amount, e.RequestID, kind)
				case n > 1:
					twiceInv.fail(id, "%s with requestId %s matches %d stored operations", e.Operation, e.RequestID, n)
				}
			}
			for k, n := range seen {
				if n > 1 {
					twiceInv.fail(id, "%s applied %d times", k, n)
				}
			}
		}

		// Webhooks.
		if tr != nil {
			var capt, ref, void vipps.Amount
			reserved := 0
			for _, h := range rw.hooks {
				switch h.Type {
				case "captured":
					capt += h.Amount
				case "refunded":
					ref += h.Amount
				case "voided":
					void += h.Amount
				case "reserved":
					reserved++
				}
			}
			sumInv.checked++
			if capt != tr.amounts.Captured || ref != tr.amounts.Refunded || void != tr.released {
				sumInv.fail(id, "webhooks captured %d refunded %d voided %d; Vipps captured %d refunded %d released %d",
					capt, ref, void, tr.amounts.Captured, tr.amounts.Refunded, tr.released)
			}
			resInv.checked++
			if want := map[bool]int{true: 1, false: 0}[tr.reserved]; reserved != want {
				resInv.fail(id, "%d reserved webhooks, want %d", reserved, want)
			}
			if tr.state != "initiated" {
				lastInv.checked++
				if len(rw.hooks) == 0 {
					lastInv.fail(id, "no webhook; Vipps %s {%v}", tr.state, tr.amounts)
				} else if h := rw.hooks[len(rw.hooks)-1]; h.State != tr.state || h.Amounts != tr.amounts {
					lastInv.fail(id, "last webhook #%d %s: %s {%v}; Vipps %s {%v}", h.ID, h.Type, h.State, h.Amounts, tr.state, tr.amounts)
				}
			}
		}

		// Receipts.
		if rw.rcpt != nil {
			rcptInv.checked++
			want := tr.amounts.Captured > 0
			if *rw.rcpt != want {
				rcptInv.fail(id, "Order Management holds a receipt: %v; Vipps captured %d", *rw.rcpt, tr.amounts.Captured)
			}
		}

		// Express shipping: what Vipps has, stored, and whether Vipps
		// reserved it on top of the amount initiated.
		if rw.details {
			shipInv.checked++
			sh, o := rw.ship, r.orderOf(id)
			if sh != nil {
				res.shipped++
			}
			removed, asked := false, false
			if o != nil {
				o.mu.Lock()
				removed, asked = o.consentRemoved, o.consentAsked
				o.mu.Unlock()
			}
			switch {
			case removed && p.Shipping != nil:
				shipInv.fail(id, "the customer removed their consent (the service answered 2xx), but it still shows shipping %s", p.Shipping.MethodID)
			case removed, asked && p.Shipping == nil:
				// Erased; or a removal whose answer was lost (the service
				// killed meanwhile) may have erased them.
			case sh == nil && p.Shipping != nil:
				shipInv.fail(id, "the service shows shipping %s (%d øre); Vipps has none", p.Shipping.MethodID, p.Shipping.Cost)
			case sh == nil:
			case o != nil && !o.express:
				shipInv.fail(id, "Vipps has shipping for a payment the shop did not make express")
			case p.Shipping == nil:
				shipInv.fail(id, "Vipps has shipping %s (%d øre), the service none (Vipps %s)", sh.ShippingMethodID, sh.ShippingCost.Amount(), tr.state)
			case p.Shipping.MethodID != sh.ShippingMethodID || p.Shipping.Cost != sh.ShippingCost.Amount():
				shipInv.fail(id, "the service shows shipping %s (%d øre); Vipps %s (%d øre)", p.Shipping.MethodID, p.Shipping.Cost, sh.ShippingMethodID, sh.ShippingCost.Amount())
			default:
				want := "notAdded"
				if r.addsShipping && sh.ShippingCost.Amount() > 0 {
					want = "added"
				}
				if p.Shipping.Charged != want {
					shipInv.fail(id, "shipping charged %q, want %q (the simulator adds shipping: %v)", p.Shipping.Charged, want, r.addsShipping)
				}
			}
			// Asked of the shop: its option only when it answered in time
			// (the service's static default otherwise; both are what the
			// simulator's customer takes). The converse is counted, not
			// required: a store slowed by a restart may leave too little of
			// Vipps' time for a shop that answered at once.
			if sh != nil && r.shopShipping {
				outcome := r.hooks.shippingOutcome(id)
				fromShop := sh.ShippingMethodID == shopOption.ShippingMethodID
				switch {
				case fromShop && outcome != shipInTime:
					shipInv.fail(id, "the shop's answer was %q, but Vipps has the shop's shipping %s", outcome, sh.ShippingMethodID)
				case fromShop:
					res.fromShop++
				case outcome == shipInTime:
					res.shopIgnored++
				}
			}
		}

		if tr != nil && (tr.amounts.RemainingToCapture > 0 || tr.amounts.RemainingToRefund > 0) {
			ref := shopRefOf(id)
			money[ref] = append(money[ref], fmt.Sprintf("%s %s {%v}", id, tr.state, tr.amounts))
		}
	}
	r.mu.Lock()
	moneyInv.checked = len(r.orders)
	for _, o := range r.orders {
		if o.express {
			res.express++
		}
	}
	r.mu.Unlock()
	for _, ref := range slices.Sorted(maps.Keys(money)) {
		if held := money[ref]; len(held) > 1 {
			moneyInv.fail(orderPrefix+"-"+ref, "%d attempts hold money: %s", len(held), strings.Join(held, "; "))
		}
	}

	res.hooks = r.hooks.stats()
	if n := res.hooks.shipping[shipInTime]; r.shopShipping && n >= 5 && res.fromShop == 0 {
		shipInv.fail("", "the shop answered %d shipping requests in time, but no payment at Vipps has its option", n)
	}
	sigInv.checked = res.hooks.deliveries + len(res.hooks.bad)
	for _, b := range res.hooks.bad {
		sigInv.fail("", "%s", b)
	}
	for _, c := range res.hooks.conflicts {
		sigInv.fail("", "%s", c)
	}

	r.st.mu.Lock()
	for _, n := range r.st.requests {
		httpInv.checked += n
	}
	httpInv.bad = append(httpInv.bad, r.st.unexpected...)
	for _, c := range r.st.crashes {
		httpInv.bad = append(httpInv.bad, violation{"", c})
	}
	r.st.mu.Unlock()

	res.receipts = r.receiptRequests(ctx)
	for _, iv := range res.invs {
		slices.SortStableFunc(iv.bad, func(a, b violation) int { return cmp.Compare(a.orderID, b.orderID) })
	}
	return res
}

func opsString(ops []opJSON, kind string) string {
	var s []string
	for _, op := range ops {
		if op.Kind == kind {
			s = append(s, op.String())
		}
	}
	if len(s) == 0 {
		return "no " + kind + " operation"
	}
	return strings.Join(s, "; ")
}

// receiptRequests counts the simulator's Order Management receipt
// requests by status, from its metrics: a 409 is a receipt sent again.
func (r *run) receiptRequests(ctx context.Context) map[string]int {
	out := map[string]int{}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.simURL+"/metrics", nil)
	resp, err := r.ctlC.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "vippstest_requests_total{") || !strings.Contains(line, `op="om-receipt"`) {
			continue
		}
		_, rest, _ := strings.Cut(line, `code="`)
		code, _, _ := strings.Cut(rest, `"`)
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		out[code] += int(v)
	}
	return out
}

// report logs the figures and the invariants, and fails the test once per
// violated invariant.
func (r *run) report(res *result, conv convergence, setup, driven time.Duration) {
	t := r.t
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fig := func(k, format string, args ...any) { fmt.Fprintf(w, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	r.st.mu.Lock()
	st := &r.st
	fmt.Fprintf(w, "chaos run %s, seed %d (repeat with -chaos.seed=%d -chaos.db=%s -chaos.payments=%d)\n",
		r.cfg.db, r.cfg.seed, r.cfg.seed, r.cfg.db, r.cfg.payments)
	fig("replicas", "%d (%s)", len(r.reps), map[string]string{"sqlite": "SQLite file", "postgres": "throwaway PostgreSQL cluster"}[r.cfg.db])
	fig("payments", "%d shop orders, %d orderIds: %d at Vipps, %d never reached Vipps", r.started.Load(), res.ids, res.atVipps, res.onlyService)
	fig("states at Vipps", "%s", countsString(res.states))
	fig("operations", "%d keys, %d requests (same key at once, again later, retried)", st.keys, st.opRequests)
	fig("shop requests", "%s", countsString(st.requests))
	fig("Vipps faults", "%s", countsString(st.faults))
	fig("callback faults", "%s", countsString(st.cbFaults))
	fig("kills", "%d (kill -9 and restart)", st.kills)
	fig("database restarts", "%d (immediate shutdown)", st.dbRestarts)
	fig("disk full", "%d windows (SQLite: no file of serve's takes writes)", st.diskFull)
	fig("exits on their own", "%d", len(st.crashes))
	fig("5xx expected", "%s", countsString(st.expected))
	fig("5xx unexpected", "%d", len(st.unexpected))
	fig("shop timeouts", "%d outside kill/restart windows (no answer in %v)", len(st.timeouts), shopTimeout)
	fig("webhooks", "%d events, %d deliveries (%d repeated), %d bad signatures; the shop's endpoint failed %s",
		res.hooks.unique, res.hooks.deliveries, res.hooks.redelivered, len(res.hooks.bad), countsString(res.hooks.faults))
	fig("express", "%d shop orders; %d payments with shipping at Vipps (reserved on top of the amount: %v); consent removals %s",
		res.express, res.shipped, r.addsShipping, countsString(st.consents))
	if r.shopShipping {
		fig("shop shipping", "options asked of the shop %s; Vipps has the shop's option for %d payments, the static one though the shop answered for %d",
			countsString(res.hooks.shipping), res.fromShop, res.shopIgnored)
	} else {
		fig("shop shipping", "no: the service sends its static options")
	}
	fig("receipt requests", "%s (by status; 409 = sent again)", countsString(res.receipts))
	fig("payment durations", "%s", r.durations())
	fig("time", "setup %v, driver %v, convergence %v (limit %v)", setup.Round(time.Second), driven.Round(time.Second), conv.took.Round(time.Second), conv.limit)
	if len(conv.left) == 0 {
		fig("converged", "yes, all %d payments", conv.total)
	} else {
		fig("converged", "no: %d of %d payments still differ, e.g. %s", len(conv.left), conv.total, strings.Join(first(conv.left, *flagShow), ", "))
	}
	anomalies, timeouts := slices.Clone(st.anomalies), slices.Clone(st.timeouts)
	r.st.mu.Unlock()

	fmt.Fprintf(w, "\ninvariant\tchecked\tviolations\tpayments\tfirst offending\n")
	for _, iv := range res.invs {
		var ids []string
		for _, v := range iv.bad {
			if v.orderID != "" && !slices.Contains(ids, v.orderID) {
				ids = append(ids, v.orderID)
			}
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", iv.name, iv.checked, len(iv.bad), iv.offenders(), strings.Join(first(ids, *flagShow), " "))
	}
	w.Flush()
	t.Log("\n" + b.String())

	for _, iv := range res.invs {
		if len(iv.bad) == 0 {
			continue
		}
		var d strings.Builder
		for _, v := range first(iv.bad, *flagShow) {
			fmt.Fprintf(&d, "\n    %s: %s", v.orderID, v.detail)
		}
		t.Errorf("%s: invariant %q violated %d times (%d payments; seed %d):%s", r.cfg.db, iv.name, len(iv.bad), iv.offenders(), r.cfg.seed, d.String())
	}
	if len(anomalies) > 0 {
		t.Logf("driver anomalies (%d; not invariants): %s", len(anomalies), strings.Join(first(anomalies, 10), "\n  "))
	}
	if len(timeouts) > 0 {
		t.Logf("shop requests without an answer in %v (%d): %s", shopTimeout, len(timeouts), strings.Join(first(timeouts, 5), "\n  "))
	}
}

// durations summarises how long the driver's payments took, with the
// slowest and where their time went.
func (r *run) durations() string {
	r.mu.Lock()
	orders := slices.Collect(maps.Values(r.orders))
	r.mu.Unlock()
	type d struct {
		ref    string
		took   time.Duration
		plan   string
		phases []string
	}
	var ds []d
	for _, o := range orders {
		o.mu.Lock()
		if o.took > 0 {
			ds = append(ds, d{o.shopRef, o.took, o.plan, slices.Clone(o.phases)})
		}
		o.mu.Unlock()
	}
	if len(ds) == 0 {
		return "none"
	}
	slices.SortFunc(ds, func(a, b d) int { return cmp.Compare(a.took, b.took) })
	q := func(f float64) time.Duration { return ds[int(f*float64(len(ds)-1))].took.Round(100 * time.Millisecond) }
	s := fmt.Sprintf("p50 %v, p90 %v, max %v", q(0.5), q(0.9), q(1))
	for i := len(ds) - 1; i >= max(0, len(ds)-3); i-- {
		x := ds[i]
		s += fmt.Sprintf("; %s %v (%s: %s)", x.ref, x.took.Round(100*time.Millisecond), x.plan, strings.Join(x.phases, ", "))
	}
	return s
}

func first[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func countsString(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
		total += m[k]
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}
