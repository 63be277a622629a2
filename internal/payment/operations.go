package payment

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vippskit/vipps"
)

// OpRequest is a capture, refund or cancel as the shop asks for it.
type OpRequest struct {
	// Key is the shop's idempotency key: the same key with the same request
	// returns the first operation instead of doing it again; with a
	// different request it fails with ErrIdempotencyMismatch. Empty means
	// no protection against the shop's own retries.
	Key string
	// Amount in øre; 0 means all that remains (capture, refund).
	Amount vipps.Amount
	// Text is shown to the customer; empty means the payment's text.
	Text string
	// ReleaseRemaining (cancel) releases what is still reserved after
	// partial captures.
	ReleaseRemaining bool
	// Lines (capture, refund) takes units of the receipt's lines instead
	// of an Amount, which must then be 0: the amount follows from the
	// stored receipt and what earlier operations took of each line (see
	// LinesAmount), and the lines are recorded in the history. A request
	// by lines with a key used before is answered with the first
	// operation, as any replay; its lines are not compared.
	Lines []LinePick
}

// Capture captures money of a reserved payment: all that remains, or
// r.Amount. The operation is stored with its X-Request-Id before Vipps is
// called, so that neither a retry by the shop, a timeout nor a crash ever
// captures twice. The returned operation is OpSucceeded, OpFailed (with the
// reason in its Error), or OpPending when Vipps' answer was lost or another
// operation of the payment is still in flight: the service then sends it,
// in turn and again with the same X-Request-Id, until Vipps answers, and
// tells the shop by webhook.
func (s *Service) Capture(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	return s.operate(ctx, id, OpCapture, r)
}

// Refund returns captured money: all of it that remains, or r.Amount. Like
// [Service.Capture], it is done once.
func (s *Service) Refund(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	return s.operate(ctx, id, OpRefund, r)
}

// Cancel stops a payment the customer has not approved, voids a reservation
// with nothing captured, or (with r.ReleaseRemaining) releases what remains
// reserved after partial captures.
func (s *Service) Cancel(ctx context.Context, id vipps.OrderID, r OpRequest) (*Operation, error) {
	r.Amount = 0
	return s.operate(ctx, id, OpCancel, r)
}

// Operations returns the payment's operations, oldest first.
func (s *Service) Operations(ctx context.Context, id vipps.OrderID) ([]*Operation, error) {
	return s.store.Operations(ctx, id, false)
}

// maxText is the longest transactionText Vipps takes, in characters.
const maxText = 100

// operate stores and runs an operation.
func (s *Service) operate(ctx context.Context, id vipps.OrderID, kind OpKind, r OpRequest) (*Operation, error) {
	if r.Amount < 0 {
		return nil, fmt.Errorf("%w: amount %d øre is negative", ErrInvalid, r.Amount)
	}
	if len(r.Lines) > 0 && (r.Amount != 0 || kind == OpCancel) {
		return nil, fmt.Errorf("%w: a %s takes receipt lines or an amount, not both", ErrInvalid, kind)
	}
	if len(r.Key) > 200 {
		return nil, fmt.Errorf("%w: idempotency key is longer than 200 characters", ErrInvalid)
	}
	if n := utf8.RuneCountInString(r.Text); n > maxText {
		return nil, fmt.Errorf("%w: text is %d characters; Vipps allows %d", ErrInvalid, n, maxText)
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Text == "" {
		r.Text = p.Text
	}
	now := s.now()
	op := &Operation{
		OrderID: id, Kind: kind, IdempotencyKey: r.Key, RequestID: vipps.NewRequestID(),
		Amount: r.Amount, Text: r.Text, ReleaseRemaining: r.ReleaseRemaining,
		Status: OpPending, CreatedAt: now, UpdatedAt: now,
	}
	var ops []*Operation
	if r.Key != "" || len(r.Lines) > 0 {
		if ops, err = s.store.Operations(ctx, id, false); err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
	}
	if r.Key != "" {
		for _, old := range ops {
			if old.Kind == kind && old.IdempotencyKey == r.Key {
				if len(r.Lines) > 0 {
					op.Amount = old.Amount
				}
				return s.replay(ctx, old, op)
			}
		}
	} else {
		op.IdempotencyKey = op.RequestID
	}
	var lines []LinePick
	if len(r.Lines) > 0 {
		events, err := s.store.Events(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		if r.Amount, lines, err = LinesAmount(kind, p.Receipt, Tally(events, ops), r.Lines); err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		op.Amount = r.Amount
	}
	if p.allows(kind, r.Amount, r.ReleaseRemaining) != nil || (p.State.reached() && len(p.Facts) == 0) {
		// What is stored may lag behind Vipps (an answer was lost, or the
		// payment was stored before the service kept facts): ask Vipps
		// before refusing.
		if q, failed, cerr := s.refresh(ctx, id, "", nil); cerr == nil && failed == nil {
			p = q
		}
		if refused := p.allows(kind, r.Amount, r.ReleaseRemaining); refused != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, refused)
		}
	}
	fields := map[string]any{"op": kind, "key": op.IdempotencyKey, "requestId": op.RequestID, "release": r.ReleaseRemaining,
		"by": ActorOf(ctx)}
	if len(lines) > 0 {
		fields["lines"] = lines
	}
	data := mustJSON(fields)
	// Checked against p: when p is still as read and nothing else is
	// pending, the operation is claimed for sending as it is stored.
	claim := &Claim{Owner: rand.Text(), Until: s.now().Add(s.claimFor()), Version: p.Version}
	got, err := s.store.AddOperation(ctx, op, claim, Event{Type: EventOperationQueued, State: p.State, Amount: r.Amount, Data: data, At: now})
	switch {
	case errors.Is(err, ErrExists):
		return s.replay(ctx, got, op) // a concurrent request with the same key
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	s.changes.notify(id)
	if op.Sends == 1 {
		resp, verr := s.call(ctx, op)
		_, err := s.finish(ctx, op, claim.Owner, resp, verr)
		return op, err
	}
	return s.drive(ctx, id, op, false)
}

// replay answers a repeated request: the same operation, run again if it
// is still pending.
func (s *Service) replay(ctx context.Context, old, req *Operation) (*Operation, error) {
	if !old.SameRequest(req) {
		return nil, fmt.Errorf("%s %s with key %q: %w (first: amount %d, text %q)", req.Kind, req.OrderID, req.IdempotencyKey, ErrIdempotencyMismatch, old.Amount, old.Text)
	}
	op := old
	var err error
	if old.Status == OpPending {
		op, err = s.drive(ctx, old.OrderID, old, false)
	}
	if op != nil {
		op.Replay = true
	}
	return op, err
}

// Errors of a claim on a payment's first pending operation.
var (
	errClaimed  = errors.New("another sender is sending the payment's operation")
	errNotFirst = errors.New("an older operation of the payment is pending")
)

// throttleWait is the least wait after Vipps refused an operation for
// the rate limit or a locked order.
const throttleWait = time.Second

// claimFor is how long a claim holds: the call it covers (at most
// CallTimeout) and half as long again to store the answer.
func (s *Service) claimFor() time.Duration { return s.cfg.CallTimeout * 3 / 2 }

// drive sends the payment's pending operations in turn, oldest first: a
// payment has one operation in flight at Vipps at a time (Vipps refuses
// concurrent ones anyway), and a claim on the payment makes sure that one
// sender sends it. An operation whose answer was lost stays first until
// Vipps answers it, so that nothing is sent past an operation whose
// outcome is unknown.
//
// With target set (a shop's request), drive runs until target is no longer
// pending, or target cannot finish now: its own answer was lost, an older
// operation's was, or its turn did not come within OpWait. It returns
// target as stored. With poll set (the poller), it sends only operations
// that are due (see sendDue) and not claimed, and never waits.
func (s *Service) drive(ctx context.Context, id vipps.OrderID, target *Operation, poll bool) (*Operation, error) {
	deadline := s.now().Add(s.cfg.OpWait)
	for range 1000 {
		if ctx.Err() != nil {
			if target == nil {
				return nil, nil
			}
			return s.operation(ctx, target)
		}
		pending, err := s.store.Operations(ctx, id, true)
		if err != nil {
			return target, err
		}
		if target != nil && !slices.ContainsFunc(pending, func(o *Operation) bool { return o.ID == target.ID }) {
			return s.operation(ctx, target)
		}
		if len(pending) == 0 {
			return target, nil
		}
		head := pending[0]
		if poll && s.now().Before(s.sendDue(head)) {
			return nil, nil
		}
		done, err := s.sendFirst(ctx, head)
		switch {
		case errors.Is(err, errClaimed) || errors.Is(err, errNotFirst) || errors.Is(err, errOpDone):
			if poll {
				return nil, nil
			}
			if !s.wait(ctx, id, deadline) {
				return s.operation(ctx, target)
			}
			continue
		case err != nil:
			return target, err
		case !done:
			// Vipps' answer was lost: the operation is sent again later,
			// and nothing after it before.
			if target == nil {
				return nil, nil
			}
			return s.operation(ctx, target)
		case target != nil && head.ID == target.ID:
			return head, nil
		}
	}
	return target, fmt.Errorf("operations of %s: too many turns", id)
}

// sendDue is when the poller sends op, the payment's first pending
// operation: once the shop's request that queued it has stopped waiting
// (OpWait), or OpResumeAfter after its answer was lost.
func (s *Service) sendDue(op *Operation) time.Time {
	if op.Sends > 0 {
		return op.SentAt.Add(OpResumeAfter)
	}
	return op.CreatedAt.Add(s.cfg.OpWait)
}

// operation returns op as stored now, also when ctx has ended (the answer
// to the shop is the operation as it stands).
func (s *Service) operation(ctx context.Context, op *Operation) (*Operation, error) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	ops, err := s.store.Operations(ctx, op.OrderID, false)
	if err != nil {
		return op, fmt.Errorf("%s %s: %w", op.Kind, op.OrderID, err)
	}
	for _, o := range ops {
		if o.ID == op.ID {
			return o, nil
		}
	}
	return op, fmt.Errorf("%s %s: operation %d: %w", op.Kind, op.OrderID, op.ID, ErrNotFound)
}

// sendFirst claims op, the payment's first pending operation, sends it to
// Vipps and records the answer. done is false when op stays pending (the
// answer was lost). It fails with errClaimed when another sender holds the
// claim, errNotFirst when op is not first, errOpDone when op is no longer
// pending.
func (s *Service) sendFirst(ctx context.Context, op *Operation) (done bool, err error) {
	token := rand.Text()
	var (
		decided bool // ended without asking Vipps
		resolve bool // a cancel sent before: read the log first
		claim   = *op
	)
	_, err = s.record(ctx, op.OrderID, rec{op: &claim, first: true, opChange: func(o *Operation, p *Payment, now time.Time) error {
		decided, resolve = false, false
		if p.OpOwner != "" && now.Before(p.OpUntil) {
			return errClaimed
		}
		switch {
		case o.Kind == OpCancel && o.Sends > 0 && p.cancelDone():
			o.Status, decided = OpSucceeded, true // the log shows it done
			return nil
		case o.Kind != OpCancel && o.Sends > 0 && p.hasRequest(opLog(o.Kind), o.RequestID):
			o.Status, decided = OpSucceeded, true
			return nil
		case o.Sends == 0:
			if refused := p.allows(o.Kind, o.Amount, o.ReleaseRemaining); refused != nil {
				o.Status, o.Error, decided = OpFailed, &VippsError{Op: string(o.Kind), Message: refused.why(), At: now}, true
				return nil
			}
		}
		p.OpOwner, p.OpUntil = token, now.Add(s.claimFor())
		if o.Kind == OpCancel && o.Sends > 0 {
			// Cancel has no X-Request-Id: before it is sent again, the
			// log, read under the claim, says whether a send was done.
			resolve = true
			return nil
		}
		o.Sends++
		o.SentAt = now
		return nil
	}, change: func(p *Payment, now time.Time) ([]Event, error) {
		if decided && claim.Status == OpFailed {
			return []Event{opFailedEvent(&claim, now)}, nil
		}
		return nil, nil
	}})
	if err != nil {
		return false, err
	}
	if resolve {
		if decided, err = s.resolveCancel(ctx, &claim, token); err != nil || decided {
			*op = claim
			return decided, err
		}
	}
	*op = claim
	if decided {
		return true, nil
	}
	resp, verr := s.call(ctx, op)
	return s.finish(ctx, op, token, resp, verr)
}

// resolveCancel reads the log for a cancel sent before whose answer was
// lost, under the claim token: done reports that the log shows the
// payment cancelled or released, and the cancel is stored as succeeded;
// else the send about to be made is counted.
func (s *Service) resolveCancel(ctx context.Context, op *Operation, token string) (done bool, err error) {
	_, _, _ = s.refresh(ctx, op.OrderID, "", nil) // a failed check leaves the facts as they were
	_, err = s.record(ctx, op.OrderID, rec{op: op, opChange: func(o *Operation, p *Payment, now time.Time) error {
		if p.OpOwner != token {
			return errClaimed // the claim ran out and was taken
		}
		if done = p.cancelDone(); done {
			o.Status = OpSucceeded
			return nil
		}
		o.Sends++
		o.SentAt = now
		return nil
	}, change: func(p *Payment, now time.Time) ([]Event, error) {
		if done && p.OpOwner == token {
			p.OpOwner, p.OpUntil = "", time.Time{}
		}
		return nil, nil
	}})
	return done, err
}

// opLog is the log operation of a capture or refund.
func opLog(k OpKind) vipps.Operation {
	if k == OpRefund {
		return vipps.OperationRefund
	}
	return vipps.OperationCapture
}

func opFailedEvent(op *Operation, now time.Time) Event {
	return Event{Type: EventOperationFailed, Amount: op.Amount, Data: mustJSON(op.Error), At: now}
}

// call sends op to Vipps, for at most CallTimeout. When the shop's request
// ends first, the call ends too: its outcome is then unknown, which the
// service resolves as after any lost answer.
func (s *Service) call(ctx context.Context, op *Operation) (*vipps.TransactionResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	switch op.Kind {
	case OpCapture:
		return s.vipps.Capture(ctx, op.OrderID, vipps.CaptureRequest{Amount: op.Amount, TransactionText: op.Text, RequestID: op.RequestID})
	case OpRefund:
		return s.vipps.Refund(ctx, op.OrderID, vipps.CaptureRequest{Amount: op.Amount, TransactionText: op.Text, RequestID: op.RequestID})
	case OpCancel:
		return s.vipps.Cancel(ctx, op.OrderID, vipps.CancelRequest{TransactionText: op.Text, ShouldReleaseRemainingFunds: op.ReleaseRemaining})
	}
	return nil, fmt.Errorf("operation %d: unknown kind %q: %w", op.ID, op.Kind, vipps.ErrInvalidRequest)
}

// finish records Vipps' answer to op, sent under the claim token: the fact
// a capture or refund reports, the operation's end, and the claim's end,
// in one transaction. A lost answer leaves op pending; a refusal fails it
// and makes the payment due for a check at once, since Vipps knows
// something the service does not. A cancel is judged by the log: it
// succeeded when the log shows the payment cancelled or released, whatever
// the answer said.
func (s *Service) finish(ctx context.Context, op *Operation, token string, resp *vipps.TransactionResponse, verr error) (bool, error) {
	log := s.log.With("order_id", op.OrderID, "op", string(op.Kind), "request_id", op.RequestID)
	ve, isVipps := errors.AsType[*vipps.Error](verr)
	unknown := verr != nil && !errors.Is(verr, vipps.ErrInvalidRequest) &&
		(errors.Is(verr, vipps.ErrOutcomeUnknown) || !isVipps || ve.Retryable())
	// Refused before it was processed (rate limited, the order locked):
	// not done, and not to be sent again before Vipps allows.
	var wait time.Duration
	if unknown && ve != nil && !errors.Is(verr, vipps.ErrOutcomeUnknown) &&
		(ve.RateLimited() || ve.Locked() || ve.Has(vipps.GroupVippsError, "98")) {
		wait = max(ve.RetryAfter, throttleWait)
	}
	switch {
	case wait > 0:
		log.Warn("Vipps asks to wait before the operation is sent again", append(vippsAttrs(verr), "wait", wait)...)
	case unknown:
		log.Warn("operation outcome unknown; it will be sent again with the same X-Request-Id", vippsAttrs(verr)...)
	case verr != nil:
		log.Error("Vipps refused the operation", vippsAttrs(verr)...)
	default:
		log.Info("operation succeeded", "amount", int64(resp.TransactionInfo.Amount))
	}
	if op.Kind == OpCancel && wait == 0 {
		// Learn what the cancel did (Vipps logs CANCEL or VOID): a refused
		// or unanswered cancel may be one whose earlier send did it.
		_, _, _ = s.refresh(ctx, op.OrderID, "", nil) // when it fails, the poller checks again
	}
	// Store the answer even when the shop's request has ended: Vipps has
	// acted on it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CallTimeout)
	defer cancel()
	var fact *Fact
	if verr == nil && op.Kind != OpCancel {
		i := resp.TransactionInfo
		fact = &Fact{Operation: opLog(op.Kind), Success: true, Amount: i.Amount, TransactionID: i.TransactionID,
			RequestID: op.RequestID, At: i.TimeStamp.Time.UTC(), Source: string(op.Kind)}
	}
	_, err := s.record(ctx, op.OrderID, rec{op: op, opChange: func(o *Operation, p *Payment, now time.Time) error {
		switch {
		case o.Kind == OpCancel && wait == 0 && p.cancelDone():
			o.Status, o.Error = OpSucceeded, nil
		case unknown:
		case o.Kind == OpCancel && verr == nil:
			// Vipps said done, and the log did not show it yet: trust the
			// answer; the check due now brings the log's entry.
			o.Status = OpSucceeded
		case verr != nil:
			o.Status, o.Error = OpFailed, vippsError(string(o.Kind), verr, now)
		default:
			o.Status, o.Error = OpSucceeded, nil
		}
		return nil
	}, change: func(p *Payment, now time.Time) ([]Event, error) {
		if p.OpOwner == token {
			p.OpOwner, p.OpUntil = "", time.Time{}
			if wait > 0 {
				// Nobody sends before Vipps allows: the claim holds on.
				p.OpOwner, p.OpUntil = "throttled", now.Add(wait)
			}
		}
		var ev []Event
		switch {
		case op.Status == OpFailed:
			p.LastError = op.Error
			ev = append(ev, opFailedEvent(op, now))
			if !p.State.Final() {
				p.NextCheckAt = now
			}
		case fact != nil:
			f := *fact
			f.SeenAt = now
			p.learn(f)
			b := Derive(p.Facts, p.Amounts.Authorized)
			if sum := resp.TransactionSummary; sum.CapturedAmount > b.Amounts.Captured || sum.RefundedAmount > b.Amounts.Refunded {
				// Vipps' totals show more than the service knows: another
				// entry of the log is not learned yet.
				p.NextCheckAt = now
			}
		case op.Kind == OpCancel && op.Status == OpSucceeded && !p.cancelDone():
			p.NextCheckAt = now
		}
		return ev, nil
	}})
	if errors.Is(err, errOpDone) {
		// Another sender ended it (this sender's claim had run out).
		got, gerr := s.operation(ctx, op)
		*op = *got
		return op.Status != OpPending, gerr
	}
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", op.Kind, op.OrderID, err)
	}
	return op.Status != OpPending, nil
}

// wait waits for a change of the payment in this process, a short while
// (another replica's change is seen by reading again), or the deadline.
// It reports false when the deadline or ctx ended.
func (s *Service) wait(ctx context.Context, id vipps.OrderID, deadline time.Time) bool {
	left := deadline.Sub(s.now())
	if left <= 0 || ctx.Err() != nil {
		return false
	}
	t := time.NewTimer(min(left, 100*time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-s.changes.wait(id):
	case <-t.C:
	}
	return true
}

// changes wakes the requests of this process that wait for a payment to
// change.
type changes struct {
	mu sync.Mutex
	m  map[vipps.OrderID]chan struct{}
}

// wait returns a channel that is closed at the payment's next change.
func (c *changes) wait(id vipps.OrderID) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[vipps.OrderID]chan struct{}{}
	}
	ch := c.m[id]
	if ch == nil {
		ch = make(chan struct{})
		c.m[id] = ch
	}
	return ch
}

// notify wakes the waiters of the payment.
func (c *changes) notify(id vipps.OrderID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.m[id]; ch != nil {
		close(ch)
		delete(c.m, id)
	}
}
