package payment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// StaleAfter is how long after the customer's time limit the service waits
// for Vipps to end a payment on its own; then it cancels the payment itself,
// so that no payment stays unresolved.
const StaleAfter = time.Minute

// maxConflicts bounds how often record reads a payment again after a
// concurrent change before it gives up.
const maxConflicts = 20

// rec is one change of a payment, for [Service.record].
type rec struct {
	// change modifies the payment as read: it learns facts (p.learn) and
	// sets the service's own fields, and returns the events that no fact
	// makes. It runs again on the stored payment after a concurrent change.
	change func(p *Payment, now time.Time) ([]Event, error)
	// op, when set, is stored with the payment (its status, error and
	// sends), and only if it is still pending in the store.
	op *Operation
	// opChange, when op is set, sets op's new status on the stored
	// operation; it runs before change, and *op is the result when change
	// runs. An error ends record, storing nothing.
	opChange func(op *Operation, p *Payment, now time.Time) error
	// first, with op, requires op to be the payment's oldest pending
	// operation (else errNotFirst).
	first bool
	// hint is the callback's status when a callback caused the change: a
	// rejected payment reports "expired", not "cancelled".
	hint vipps.CallbackStatus
	// owner, when set, is the poller's lease to free.
	owner string
}

// record is the one way a payment changes, for callbacks, the poller,
// operations and checks alike. It reads the payment with its facts and
// pending operations, applies r.change, derives state and amounts from the
// facts (see [Derive]) with one event per new fact, schedules the next
// check, and stores it all in one transaction under optimistic
// concurrency. On a concurrent change it reads the stored payment again
// and applies the change anew: since facts are only ever added, an answer
// read before the other change adds what it knows and cannot undo what the
// other change stored. A change that adds nothing is not stored. The
// changes of one payment in this process take turns (see [turns]), so
// that a burst of them (a callback replayed a hundred times) does not
// conflict until one gives up; only other replicas' changes conflict.
func (s *Service) record(ctx context.Context, id vipps.OrderID, r rec) (*Payment, error) {
	done, err := s.turns.take(ctx, id)
	if err != nil {
		return nil, err
	}
	defer done()
	for i := 0; ; i++ {
		p, pending, err := s.store.GetPending(ctx, id)
		if err != nil {
			return nil, err
		}
		now := s.now()
		var op *Operation
		if r.op != nil {
			idx := slices.IndexFunc(pending, func(o *Operation) bool { return o.ID == r.op.ID })
			if idx < 0 {
				return p, fmt.Errorf("operation %d: %w", r.op.ID, errOpDone)
			}
			if r.first && idx != 0 {
				return p, errNotFirst
			}
			c := *pending[idx]
			op = &c
			if err := r.opChange(op, p, now); err != nil {
				return p, err
			}
			op.UpdatedAt = now
			*r.op = *op
		}
		before := *p
		stored := len(p.Facts)
		var ev []Event
		if r.change != nil {
			if ev, err = r.change(p, now); err != nil {
				return p, err
			}
		}
		ev = append(ev, s.settle(p, &before, p.Facts[stored:], r.hint, now)...)
		if op != nil {
			// The schedule sees op as it is about to be stored.
			i := slices.IndexFunc(pending, func(o *Operation) bool { return o.ID == op.ID })
			pending[i] = op
			if op.Status != OpPending {
				pending = slices.Delete(pending, i, i+1)
			}
		}
		if p.NextCheckAt.Equal(before.NextCheckAt) {
			p.NextCheckAt = s.nextCheck(p, pending, now)
		}
		if r.owner != "" && p.LeaseOwner == r.owner {
			p.LeaseOwner, p.LeaseUntil = "", time.Time{}
		}
		if op == nil && len(ev) == 0 && len(p.Facts) == stored && unchanged(&before, p) {
			return p, nil
		}
		for j := range ev {
			if ev[j].State == "" {
				ev[j].State = p.State
			}
			if ev[j].At.IsZero() {
				ev[j].At = now
			}
		}
		p.UpdatedAt = now
		if op != nil {
			err = s.store.UpdateOperation(ctx, op, p, ev...)
		} else {
			err = s.store.Update(ctx, p, ev...)
		}
		if errors.Is(err, ErrConflict) && i < maxConflicts {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.changes.notify(id)
		for _, e := range ev {
			if e.Type.Webhook() || e.Type == EventInitiated {
				s.log.Info("payment "+string(e.Type), "order_id", id, "state", string(e.State), "amount", int64(e.Amount))
			}
		}
		return p, nil
	}
}

// turns makes the changes of one payment in this process take turns.
type turns struct {
	mu sync.Mutex
	m  map[vipps.OrderID]*turn
}

// turn is the turn of one payment: a token in a channel of one, and the
// number of changes that hold or wait for it.
type turn struct {
	token chan struct{}
	n     int
}

// take waits for the payment's turn, or for ctx to end, and returns the
// func that ends the turn.
func (t *turns) take(ctx context.Context, id vipps.OrderID) (done func(), err error) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[vipps.OrderID]*turn{}
	}
	u := t.m[id]
	if u == nil {
		u = &turn{token: make(chan struct{}, 1)}
		t.m[id] = u
	}
	u.n++
	t.mu.Unlock()
	release := func() {
		t.mu.Lock()
		if u.n--; u.n == 0 {
			delete(t.m, id)
		}
		t.mu.Unlock()
	}
	select {
	case u.token <- struct{}{}:
		return func() { <-u.token; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// errOpDone: the operation is no longer pending (another request or
// replica ended it); read it again.
var errOpDone = errors.New("operation is no longer pending")

// unchanged reports whether the fields a change may touch are as before.
func unchanged(before, p *Payment) bool {
	return p.State == before.State && p.Amounts == before.Amounts && p.NextCheckAt.Equal(before.NextCheckAt) &&
		p.LeaseOwner == before.LeaseOwner && p.OpOwner == before.OpOwner && p.OpUntil.Equal(before.OpUntil) &&
		p.LastError == before.LastError && p.UserID == before.UserID && p.VippsURL == before.VippsURL &&
		p.SentAt.Equal(before.SentAt) && p.Receipt == before.Receipt && string(p.Shipping) == string(before.Shipping) &&
		p.CheckFailures == before.CheckFailures && p.CheckError == before.CheckError && p.CheckFailedSince.Equal(before.CheckFailedSince)
}

// maxCheckError bounds Payment.CheckError, in bytes.
const maxCheckError = 500

// checkFailed counts a failed details call of p (see
// Payment.CheckFailures).
func checkFailed(p *Payment, err error, now time.Time) {
	if p.CheckFailures == 0 {
		p.CheckFailedSince = now
	}
	p.CheckFailures++
	msg := vippsError("details", err, now).Message
	if len(msg) > maxCheckError {
		msg = strings.ToValidUTF8(msg[:maxCheckError], "") + "…"
	}
	p.CheckError = msg
}

// settle derives p's state and amounts from its facts, added being the
// facts learned in this change (the tail of p.Facts), and returns the
// events of the change. Each new fact that reserves, moves or releases
// money, or ends the payment, makes one event carrying the fact's key and
// the amounts just after it, so that the amounts of a payment's webhooks
// never go backwards and the captured (refunded, voided) events sum to what
// Vipps captured (refunded, released). A change of state that no fact makes
// (initiated, failed to initiate) makes one event too.
func (s *Service) settle(p, before *Payment, added []Fact, hint vipps.CallbackStatus, now time.Time) []Event {
	known := len(p.Facts) - len(added)
	authorized := before.Amounts.Authorized
	if known == 0 && len(added) > 0 && (before.State.reached() || before.State == Cancelled) {
		// A payment stored before the service kept facts: its history is
		// told already, up to its stored amounts.
		return s.adopt(p, before, now)
	}
	var ev []Event
	for i := range added {
		f := &added[i]
		earlier := p.Facts[:known+i]
		b := Derive(p.Facts[:known+i+1], authorized)
		add := func(t EventType, amt vipps.Amount) {
			ev = append(ev, s.withTasks(p, Event{Type: t, State: b.State, Amount: amt, Fact: f.Key(), Amounts: b.Amounts, At: now}))
		}
		if !f.Success {
			continue
		}
		switch f.Operation {
		case vipps.OperationReserve, vipps.OperationSale:
			if !slices.ContainsFunc(earlier, succeeded(vipps.OperationReserve, vipps.OperationSale)) {
				add(EventReserved, b.Amounts.Authorized)
				if f.Operation == vipps.OperationSale {
					add(EventCaptured, f.Amount)
				}
			}
		case vipps.OperationCapture:
			add(EventCaptured, f.Amount)
		case vipps.OperationRefund:
			add(EventRefunded, f.Amount)
		case vipps.OperationVoid:
			if !slices.ContainsFunc(earlier, succeeded(vipps.OperationVoid)) {
				add(EventVoided, b.Released)
			}
		case vipps.OperationCancel:
			if b.State == Cancelled && !slices.ContainsFunc(earlier, succeeded(vipps.OperationCancel)) {
				t := EventCancelled
				if hint == vipps.CallbackRejected || !now.Before(s.sched.Deadline(sentAt(p))) {
					t = EventExpired
				}
				add(t, 0)
			}
		}
	}
	if b := Derive(p.Facts, authorized); b.State != "" {
		p.State, p.Amounts = b.State, b.Amounts
	} else if b.Initiated && p.State == Created {
		p.State = Initiated
	}
	if p.Receipt != nil && before.Amounts.Captured == 0 {
		// The receipt goes to Order Management after the first capture.
		if i := slices.IndexFunc(ev, func(e Event) bool { return e.Type == EventCaptured }); i >= 0 {
			ev[i].Tasks = append(ev[i].Tasks, Task{Kind: TaskReceipt})
		}
	}
	if before.State == Created && p.State == Initiated {
		ev = append(ev, Event{Type: EventInitiated, State: Initiated, Amount: p.Amounts.Authorized, At: now})
	}
	if p.State == Failed && before.State != Failed {
		ev = append(ev, s.withTasks(p, Event{Type: EventFailed, State: Failed, Amounts: p.Amounts, At: now}))
	}
	if p.LastError != nil && slices.ContainsFunc(added, func(f Fact) bool { return f.money() }) {
		p.LastError = nil // resolved: money moved since
	}
	return ev
}

// adopt takes the first facts of a payment stored before the service kept
// facts: the events already sent told the shop its stored amounts, so only
// what Vipps' log shows beyond them is an event now (keyed by the upgrade,
// not by a fact).
func (s *Service) adopt(p, before *Payment, now time.Time) []Event {
	b := Derive(p.Facts, before.Amounts.Authorized)
	if b.State == "" {
		return nil
	}
	p.State, p.Amounts = b.State, b.Amounts
	var ev []Event
	add := func(t EventType, amt vipps.Amount) {
		if amt > 0 {
			ev = append(ev, s.withTasks(p, Event{Type: t, State: b.State, Amount: amt, Fact: "upgrade:" + string(t), Amounts: b.Amounts, At: now}))
		}
	}
	pa := before.Amounts
	add(EventCaptured, b.Amounts.Captured-pa.Captured)
	add(EventRefunded, b.Amounts.Refunded-pa.Refunded)
	if b.Released > 0 && pa.RemainingToCapture > 0 {
		add(EventVoided, b.Released)
	}
	return ev
}

// Check asks Vipps for the payment's details now and stores what changed.
// The return page and staff use it; it is safe to repeat. When Vipps could
// not be asked (or answered nonsense), the error says why, and the payment
// is returned too, as stored (with that error as its LastError).
//
// A check asked for by staff (see [WithActor]) is recorded in the
// payment's history as an EventChecked by them, whatever Vipps said; the
// shop's and the service's own checks are not, since they run often.
func (s *Service) Check(ctx context.Context, id vipps.OrderID) (*Payment, error) {
	p, failed, err := s.check(ctx, id, "", nil)
	if err == nil && failed != nil {
		err = fmt.Errorf("check %s: %w", id, failed)
	}
	if ActorOf(ctx).Kind == ActorStaff && p != nil {
		q, nerr := s.note(ctx, id, EventChecked, nil)
		if nerr != nil {
			return p, cmp.Or(err, fmt.Errorf("check %s: %w", id, nerr))
		}
		p = q
	}
	return p, err
}

// note records an event of type typ with data and who asked for it (the
// actor of ctx, under "by") as a change of the payment of its own.
func (s *Service) note(ctx context.Context, id vipps.OrderID, typ EventType, data map[string]any) (*Payment, error) {
	d := map[string]any{"by": ActorOf(ctx)}
	maps.Copy(d, data)
	return s.record(ctx, id, rec{change: func(*Payment, time.Time) ([]Event, error) {
		return []Event{{Type: typ, Data: mustJSON(d)}}, nil
	}})
}

// OnCallback records a transaction callback and checks the payment's
// details: a callback only makes the service look sooner, its content is
// never trusted alone. Duplicate and late callbacks are recorded and change
// nothing else, and cost no call to Vipps: checks of one payment share
// their /details call, and a callback whose outcome a /details answer of
// the last few seconds shows already is answered by it.
func (s *Service) OnCallback(ctx context.Context, cb *vipps.TransactionCallback) error {
	if e := cb.ErrorInfo; e != nil {
		s.log.Warn("Vipps reports the payment failed", "order_id", cb.OrderID, "status", string(cb.TransactionInfo.Status),
			"group", string(e.Group), "code", e.Code, "message", e.Message, "context_id", e.ContextID)
	}
	_, _, err := s.check(ctx, cb.OrderID, "", cb)
	return err
}

// Poll is the poller's step for one payment it leased as owner: it checks
// the details, sends the payment's pending operations in turn (again, with
// their X-Request-Id, when an answer was lost), ends payments Vipps left
// unresolved past the customer's time limit, and frees the lease.
func (s *Service) Poll(ctx context.Context, p *Payment, owner string) error {
	p, _, err := s.check(ctx, p.OrderID, owner, nil)
	if err != nil {
		return err
	}
	_, err = s.drive(ctx, p.OrderID, nil, true)
	return err
}

// check calls details and records what it says. owner, when set, is the
// poller's lease to free; cb, when set, is the callback that caused the
// check: it is recorded as an event, its status is a hint, and its error
// (why the payment failed, which /details does not say) is stored on the
// payment. failed is why the details could not be had (recorded on the
// payment, and logged); err is why nothing could be stored.
func (s *Service) check(ctx context.Context, id vipps.OrderID, owner string, cb *vipps.TransactionCallback) (p *Payment, failed error, err error) {
	p, superseded, failed, err := s.learnDetails(ctx, id, owner, cb)
	if err != nil {
		return nil, nil, err
	}
	stale := p.State.WaitingForCustomer() && !s.now().Before(s.sched.Deadline(sentAt(p)).Add(StaleAfter))
	switch {
	case superseded:
		// At once; the task queued with the reservation does it should
		// this process stop first.
		if err := s.ReleaseSuperseded(ctx, p.OrderID); err != nil {
			return p, failed, err
		}
	case stale && p.State == Initiated:
		p, err = s.expire(ctx, p)
		return p, failed, err
	}
	return p, failed, nil
}

// refresh is check without its consequences (no stale payment is
// cancelled, no superseded one released): what sending an operation needs
// to learn first.
func (s *Service) refresh(ctx context.Context, id vipps.OrderID, owner string, cb *vipps.TransactionCallback) (p *Payment, failed error, err error) {
	p, _, failed, err = s.learnDetails(ctx, id, owner, cb)
	return p, failed, err
}

// learnDetails reads Vipps' details of the payment, through the gate that
// coalesces the calls of a payment (see [detailsGate]), and records them.
// superseded reports that they showed the reservation for the first time,
// and that the shop order has a newer attempt: the reservation must be
// released, and a TaskSupersede is queued for it with the change.
func (s *Service) learnDetails(ctx context.Context, id vipps.OrderID, owner string, cb *vipps.TransactionCallback) (p *Payment, superseded bool, failed error, err error) {
	var shows func(*vipps.PaymentDetails) bool
	if cb != nil {
		shows = func(d *vipps.PaymentDetails) bool { return confirms(d, cb.TransactionInfo.Status) }
	}
	d, derr := s.details.ask(ctx, id, s.now, shows, func(ctx context.Context) (*vipps.PaymentDetails, error) {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		defer cancel()
		return s.vipps.Details(dctx, id)
	})
	seen := s.now()
	var facts []Fact
	if derr == nil {
		facts = FactsOf(d, seen)
		if d.OrderID != "" && d.OrderID != id {
			derr = fmt.Errorf("details of %s answered for order %s", id, d.OrderID)
		}
	}
	var (
		hint vipps.CallbackStatus
		cbEv []byte
	)
	if cb != nil {
		hint = cb.TransactionInfo.Status
		cbEv = mustJSON(struct {
			Status        vipps.CallbackStatus `json:"status"`
			Amount        vipps.Amount         `json:"amount"`
			TransactionID string               `json:"transactionId,omitempty"`
			Error         *vipps.ErrorDetail   `json:"errorInfo,omitempty"`
		}{cb.TransactionInfo.Status, cb.TransactionInfo.Amount, cb.TransactionInfo.TransactionID, cb.ErrorInfo})
	}
	learntUser := "" // the user whose details this change stores
	p, err = s.record(ctx, id, rec{hint: hint, owner: owner, change: func(p *Payment, now time.Time) ([]Event, error) {
		var ev []Event
		learntUser = ""
		if cb != nil {
			ev = append(ev, Event{Type: EventCallback, Data: cbEv, At: now})
		}
		superseded = false
		if derr != nil {
			checkFailed(p, derr, now)
			return append(ev, s.detailsFailed(p, derr, now)...), nil
		}
		p.CheckFailures, p.CheckFailedSince, p.CheckError = 0, time.Time{}, ""
		wasReserved := p.has(vipps.OperationReserve, vipps.OperationSale)
		added := p.learn(facts...)
		if !wasReserved && slices.ContainsFunc(added, succeeded(vipps.OperationReserve, vipps.OperationSale)) {
			// A newer attempt stored after this read changes this
			// payment's version too (Store.Create): then this change is
			// made again and sees it.
			newer, err := s.newerAttempt(ctx, p)
			if err != nil {
				return nil, err
			}
			if newer != "" {
				superseded = true
				ev = append(ev, Event{Type: EventSuperseded, Data: mustJSON(map[string]vipps.OrderID{"newer": newer}), At: now, Tasks: []Task{{Kind: TaskSupersede}}})
			}
			if d.UserDetails != nil || d.ShippingDetails != nil {
				p.Shipping = mustJSON(ExpressDetails{Shipping: d.ShippingDetails, User: d.UserDetails})
				if d.UserDetails != nil {
					p.UserID = d.UserDetails.UserID
					learntUser = p.UserID
					ev = append(ev, Event{Type: EventExpressDetails, At: now, Tasks: []Task{{Kind: TaskConsentCheck}}})
				}
			}
		}
		if cb != nil && !p.has(vipps.OperationReserve, vipps.OperationSale) {
			if e := callbackError(p, cb, now); e != nil {
				p.LastError = e
				ev = append(ev, errorEvent(p, now))
			}
		}
		return ev, nil
	}})
	if err != nil {
		return nil, false, nil, fmt.Errorf("check %s: %w", id, err)
	}
	if learntUser != "" {
		if p, err = s.honourRemoval(ctx, p, learntUser); err != nil {
			return p, superseded, derr, fmt.Errorf("check %s: %w", id, err)
		}
	}
	if derr != nil {
		s.log.Warn("details failed", append([]any{"order_id", id}, vippsAttrs(derr)...)...)
	}
	return p, superseded, derr, nil
}

// callbackError is the error a callback reports for p, when p did not get
// the money (it is failed, or still waiting, since /details may lag behind
// the callback) and the error is not stored yet; else nil. /details says
// that a reservation failed, but not why: the callback's errorInfo is what
// tells the customer that their card has expired.
func callbackError(p *Payment, cb *vipps.TransactionCallback, now time.Time) *VippsError {
	ei := cb.ErrorInfo
	if ei == nil || !(p.State.WaitingForCustomer() || p.State == Failed) {
		return nil
	}
	e := &VippsError{Op: "callback", Group: string(ei.Group), Code: string(ei.Code), Message: ei.Message, ContextID: ei.ContextID, At: now}
	if p.LastError.same(e) {
		return nil
	}
	return e
}

func sentAt(p *Payment) time.Time {
	if p.SentAt.IsZero() {
		return p.CreatedAt
	}
	return p.SentAt
}

// nextCheck is when to look at p again: on the polling schedule while the
// customer can act; for the first pending operation, when the poller sends
// it (see sendDue), and not before another sender's claim ends; else
// never.
func (s *Service) nextCheck(p *Payment, pending []*Operation, now time.Time) time.Time {
	var t time.Time
	if p.State.WaitingForCustomer() {
		t, _ = s.sched.Next(p.State, sentAt(p), now)
	}
	if len(pending) > 0 {
		due := s.sendDue(pending[0])
		if p.OpOwner != "" && p.OpUntil.After(due) {
			due = p.OpUntil
		}
		if t.IsZero() || due.Before(t) {
			t = due
		}
	}
	return t
}

// detailsFailed records a failed details call. A payment Vipps does not know
// after the customer's time limit never reached Vipps: it failed.
func (s *Service) detailsFailed(p *Payment, err error, now time.Time) []Event {
	ve, _ := errors.AsType[*vipps.Error](err)
	if p.State == Created && len(p.Facts) == 0 && ve != nil && ve.NotFound() && !now.Before(s.sched.Deadline(sentAt(p))) {
		p.State, p.LastError = Failed, vippsError("details", err, now)
		p.LastError.Message = "Vipps never received the payment: " + p.LastError.Message
		return []Event{errorEvent(p, now)}
	}
	if !p.State.WaitingForCustomer() {
		// Whatever made the service look is still to be learned: look
		// again soon, when Vipps allows (the polling schedule does that
		// for a waiting payment).
		wait := detailsRetry
		if ve != nil {
			wait = max(wait, ve.RetryAfter)
		}
		p.NextCheckAt = now.Add(wait)
	}
	e := vippsError("details", err, now)
	if p.LastError.same(e) {
		return nil // the same error again: recorded once
	}
	p.LastError = e
	return []Event{errorEvent(p, now)}
}

// detailsRetry is the wait before a failed details call of a payment that
// is not waiting for the customer is made again.
const detailsRetry = 5 * time.Second

// expire cancels a payment that Vipps left waiting past the customer's time
// limit.
func (s *Service) expire(ctx context.Context, p *Payment) (*Payment, error) {
	s.log.Warn("payment still waiting past the customer's time limit; cancelling it", "order_id", p.OrderID)
	op, err := s.operate(ctx, p.OrderID, OpCancel, OpRequest{Key: "expired", Text: "Not approved in time"})
	if err != nil {
		return p, err
	}
	if op.Status == OpFailed {
		return p, fmt.Errorf("cancel stale payment %s: %s", p.OrderID, op.Error.Message)
	}
	return s.Get(ctx, p.OrderID)
}

// newerAttempt returns the newest attempt of p's shop order after p, or "".
func (s *Service) newerAttempt(ctx context.Context, p *Payment) (vipps.OrderID, error) {
	if p.ShopRef == "" {
		return "", nil
	}
	attempts, err := s.store.Attempts(ctx, p.ShopRef)
	if err != nil {
		return "", fmt.Errorf("attempts of %q: %w", p.ShopRef, err)
	}
	var newer vipps.OrderID
	for _, q := range attempts {
		if q.Attempt > p.Attempt {
			newer = q.OrderID
		}
	}
	return newer, nil
}

// ReleaseSuperseded releases the payment when it holds money and its shop
// order has a newer attempt: the customer approved an older attempt after
// the shop had started a newer one, and must not pay twice. It is safe to
// repeat (the release has its own idempotency key); the outbox runs it for
// a TaskSupersede, and an error means "try again later".
func (s *Service) ReleaseSuperseded(ctx context.Context, id vipps.OrderID) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.State != Reserved || p.Amounts.RemainingToCapture == 0 {
		return nil
	}
	newer, err := s.newerAttempt(ctx, p)
	if err != nil || newer == "" {
		return err
	}
	s.log.Warn("an older attempt was approved after a newer one was started; releasing it", "order_id", p.OrderID, "newer", newer)
	op, err := s.operate(ctx, p.OrderID, OpCancel, OpRequest{Key: supersededKey, Text: "Replaced by a newer payment", ReleaseRemaining: true})
	if err != nil {
		return fmt.Errorf("superseded %s: %w", p.OrderID, err)
	}
	if op.Status == OpPending {
		return fmt.Errorf("superseded %s: the release is not confirmed yet", p.OrderID)
	}
	return nil
}

// supersededKey is the idempotency key of the release of a superseded
// attempt.
const supersededKey = "superseded"
