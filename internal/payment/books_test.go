package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
	"github.com/vippskit/vipps/webhook"
)

// The tests in this file are the scenarios in which the service's books
// once drifted from Vipps': answers lost, late, repeated and concurrent.
// Each ends with checkBooks: the stored payment, its events and its
// webhooks against what the simulator says.

func withWebhooks(c *payment.Config) { c.Webhooks = true }

// reserved creates a payment of amount and has the customer approve it.
func (e *env) reserved(amount vipps.Amount) *payment.Payment {
	e.t.Helper()
	p := e.create(payment.CreateRequest{Amount: amount})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		e.t.Fatal(err)
	}
	return e.waitState(p.OrderID, payment.Reserved)
}

// fault injects a request fault for the order.
func (e *env) fault(id vipps.OrderID, kind vippstest.FaultKind, op string, count int) {
	e.t.Helper()
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: kind, Op: op, OrderID: id, Count: count}); err != nil {
		e.t.Fatal(err)
	}
}

// webhooks returns the webhook bodies queued for a payment, oldest first.
func (e *env) webhooks(id vipps.OrderID) []webhook.Event {
	e.t.Helper()
	tasks, err := e.store.Tasks(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []webhook.Event
	for _, task := range tasks {
		if task.Kind != payment.TaskWebhook {
			continue
		}
		var w webhook.Event
		if err := json.Unmarshal(task.Payload, &w); err != nil {
			e.t.Fatal(err)
		}
		w.ID = task.EventSeq
		out = append(out, w)
	}
	return out
}

// checkBooks checks the payment's books against the simulator: state and
// amounts as Vipps has them; one captured (refunded) event per capture
// (refund) in Vipps' log, summing to Vipps' totals; one voided event for a
// release, of the amount released; and, with webhooks, the same for the
// webhooks, whose amounts never go backwards and whose last carries the
// final amounts. No operation is left pending.
func (e *env) checkBooks(id vipps.OrderID, webhooks bool) *payment.Payment {
	e.t.Helper()
	t := e.t
	ctx := context.Background()
	sp, err := e.sim.Sim.Payment(id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	sum := sp.Summary
	want := payment.Amounts{Authorized: p.Amounts.Authorized, Captured: sum.CapturedAmount, Refunded: sum.RefundedAmount,
		RemainingToCapture: sum.RemainingAmountToCapture, RemainingToRefund: sum.RemainingAmountToRefund}
	if p.Amounts != want {
		t.Errorf("stored amounts %+v, Vipps has %+v", p.Amounts, want)
	}
	d, err := e.sim.Client.Details(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var captures, refunds, releases []vipps.Amount
	for _, l := range d.TransactionLogHistory {
		if !l.OperationSuccess {
			continue
		}
		switch l.Operation {
		case vipps.OperationCapture:
			captures = append(captures, l.Amount)
		case vipps.OperationRefund:
			refunds = append(refunds, l.Amount)
		case vipps.OperationVoid:
			releases = append(releases, l.Amount)
		}
	}
	total := func(as []vipps.Amount) (n vipps.Amount) {
		for _, a := range as {
			n += a
		}
		return n
	}
	evs, err := e.store.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[payment.EventType][]vipps.Amount{}
	for _, ev := range evs {
		byType[ev.Type] = append(byType[ev.Type], ev.Amount)
	}
	check := func(what string, got map[payment.EventType][]vipps.Amount) {
		t.Helper()
		for _, c := range []struct {
			typ  payment.EventType
			want []vipps.Amount
		}{{payment.EventCaptured, captures}, {payment.EventRefunded, refunds}, {payment.EventVoided, releases}} {
			if len(got[c.typ]) != len(c.want) || total(got[c.typ]) != total(c.want) {
				t.Errorf("%s %s: %v (sum %d), Vipps' log has %v (sum %d)", what, c.typ, got[c.typ], total(got[c.typ]), c.want, total(c.want))
			}
		}
		if n := len(got[payment.EventReserved]); n != 1 {
			t.Errorf("%s reserved: %d, want 1", what, n)
		}
	}
	check("events", byType)
	if webhooks {
		ws := e.webhooks(id)
		byType := map[payment.EventType][]vipps.Amount{}
		var prev payment.Amounts
		for i, w := range ws {
			byType[payment.EventType(w.Type)] = append(byType[payment.EventType(w.Type)], w.Amount)
			a := payment.Amounts(w.Amounts)
			if a.Captured < prev.Captured || a.Refunded < prev.Refunded {
				t.Errorf("webhook %d (%s) amounts %+v after %+v: went backwards", i, w.Type, a, prev)
			}
			prev = a
		}
		check("webhooks", byType)
		if len(ws) > 0 && payment.Amounts(ws[len(ws)-1].Amounts) != p.Amounts {
			t.Errorf("last webhook carries %+v, the payment has %+v", ws[len(ws)-1].Amounts, p.Amounts)
		}
	}
	ops, err := e.svc.Operations(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.Status == payment.OpPending {
			t.Errorf("operation %d (%s, key %q) is still pending", op.ID, op.Kind, op.IdempotencyKey)
		}
	}
	return p
}

// Scenario 1: a capture applied at Vipps with every answer lost, then
// another capture, then the first repeated: the stored captured amount
// never falls back, and no capture is told twice.
func TestLostCaptureThenAnother(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks)
	p := e.reserved(10000)
	e.fault(p.OrderID, vippstest.FaultDropAfterApply, "capture", 4) // every try of the client
	op1 := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 1000})
	if op1.Status != payment.OpPending {
		t.Fatalf("capture with every answer lost = %s, want pending", op1.Status)
	}
	if sp, _ := e.sim.Sim.Payment(p.OrderID); sp.Summary.CapturedAmount != 1000 {
		t.Fatalf("simulator captured %d, want 1000 (the capture was applied)", sp.Summary.CapturedAmount)
	}
	op2 := e.op("capture", p.OrderID, payment.OpRequest{Key: "k2", Amount: 2000})
	if op2.Status != payment.OpSucceeded {
		t.Fatalf("second capture = %s (%v), want succeeded", op2.Status, op2.Error)
	}
	if got, _ := e.svc.Get(context.Background(), p.OrderID); got.Amounts.Captured != 3000 {
		t.Errorf("captured %d after the second capture, want 3000", got.Amounts.Captured)
	}
	again := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 1000})
	if again.ID != op1.ID || again.Status != payment.OpSucceeded {
		t.Errorf("repeated k1 = operation %d %s, want %d succeeded", again.ID, again.Status, op1.ID)
	}
	if got, _ := e.svc.Get(context.Background(), p.OrderID); got.Amounts.Captured != 3000 {
		t.Errorf("captured %d after k1 was repeated, want 3000", got.Amounts.Captured)
	}
	e.op("refund", p.OrderID, payment.OpRequest{Key: "r1", Amount: 500})
	e.poll()
	got := e.checkBooks(p.OrderID, true)
	if got.State != payment.Reserved || got.Amounts.Captured != 3000 || got.Amounts.Refunded != 500 {
		t.Errorf("payment %s with %+v, want reserved, 3000 captured, 500 refunded", got.State, got.Amounts)
	}
	// k1: 4 tries lost, then sent again (replayed) before k2 was sent;
	// its repeat by the shop sends nothing.
	if n := e.simOps(p.OrderID)["capture"]; n != 6 {
		t.Errorf("the simulator got %d captures, want 6", n)
	}
}

// noActionLimits lifts Vipps' limit of 5 captures (refunds, cancels) per
// order and minute.
func noActionLimits(c *vippstest.Config) {
	c.RateLimits.Capture, c.RateLimits.Refund, c.RateLimits.Cancel = -1, -1, -1
}

// Scenario 2: many captures, then many refunds, at once, with different
// keys: they are sent one at a time, what does not fit is refused, and the
// books add up.
func TestConcurrentOperations(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks, func(c *payment.Config) { c.OpWait = 30 * time.Second })
	p := e.reserved(10000)
	run := func(kind string) (ok, refused int) {
		var (
			wg sync.WaitGroup
			n1 atomic.Int32
			n2 atomic.Int32
		)
		for i := range 20 {
			wg.Go(func() {
				var (
					op  *payment.Operation
					err error
				)
				r := payment.OpRequest{Key: fmt.Sprintf("%s-%d", kind, i), Amount: 1000}
				if kind == "capture" {
					op, err = e.svc.Capture(context.Background(), p.OrderID, r)
				} else {
					op, err = e.svc.Refund(context.Background(), p.OrderID, r)
				}
				switch {
				case err == nil && op.Status == payment.OpSucceeded:
					n1.Add(1)
				case errors.Is(err, payment.ErrState), errors.Is(err, payment.ErrInvalid):
					n2.Add(1)
				case err == nil && op.Status == payment.OpFailed && op.Error != nil && op.Error.StatusCode == 0:
					n2.Add(1) // refused at its turn, without asking Vipps
				default:
					t.Errorf("%s %d = %+v, %v; want succeeded or refused", kind, i, op, err)
				}
			})
		}
		wg.Wait()
		return int(n1.Load()), int(n2.Load())
	}
	if ok, refused := run("capture"); ok != 10 || refused != 10 {
		t.Errorf("20 captures of 1000 on 10000: %d succeeded, %d refused; want 10 and 10", ok, refused)
	}
	if got := e.checkBooks(p.OrderID, true); got.State != payment.Captured {
		t.Errorf("after the captures: %s, want captured", got.State)
	}
	if ok, refused := run("refund"); ok != 10 || refused != 10 {
		t.Errorf("20 refunds of 1000 on 10000: %d succeeded, %d refused; want 10 and 10", ok, refused)
	}
	if got := e.checkBooks(p.OrderID, true); got.State != payment.Refunded {
		t.Errorf("after the refunds: %s, want refunded", got.State)
	}
	n := e.simOps(p.OrderID)
	if n["capture"] != 10 || n["refund"] != 10 {
		t.Errorf("the simulator got %d captures and %d refunds, want 10 each: nothing past what fits is sent", n["capture"], n["refund"])
	}
}

// The same key from many requests at once is one operation, done once.
func TestConcurrentSameKey(t *testing.T) {
	e := newEnv(t, withWebhooks)
	p := e.reserved(10000)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int64]bool{}
	)
	for range 10 {
		wg.Go(func() {
			op, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Key: "same", Amount: 4000})
			if err != nil || op.Status != payment.OpSucceeded {
				t.Errorf("Capture(same key) = %+v, %v; want succeeded", op, err)
				return
			}
			mu.Lock()
			ids[op.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("10 requests with one key made operations %v, want one", ids)
	}
	if n := e.simOps(p.OrderID)["capture"]; n != 1 {
		t.Errorf("the simulator got %d captures, want 1", n)
	}
	e.checkBooks(p.OrderID, true)
}

// heldDetails holds /details answers until released: a check that read
// Vipps before a change and stores after it.
type heldDetails struct {
	payment.Vipps
	hold    atomic.Bool
	read    chan struct{} // a held answer was read from Vipps
	release chan struct{}
}

func (h *heldDetails) Details(ctx context.Context, id vipps.OrderID) (*vipps.PaymentDetails, error) {
	d, err := h.Vipps.Details(ctx, id)
	if h.hold.CompareAndSwap(true, false) {
		h.read <- struct{}{}
		<-h.release
	}
	return d, err
}

// Scenario 3: a check whose /details answer was read before a capture and
// is stored after it changes nothing: no state goes back, no event is told
// twice.
func TestStaleDetailsAddNothing(t *testing.T) {
	h := &heldDetails{read: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, withWebhooks, func(c *payment.Config) { h.Vipps = c.Vipps; c.Vipps = h })
	p := e.reserved(10000)
	h.hold.Store(true)
	checked := make(chan error)
	go func() {
		_, err := e.svc.Check(context.Background(), p.OrderID)
		checked <- err
	}()
	<-h.read // the check has Vipps' answer: reserved, nothing captured
	e.op("capture", p.OrderID, payment.OpRequest{Key: "all"})
	before := e.eventTypes(p.OrderID)
	close(h.release)
	if err := <-checked; err != nil {
		t.Fatal(err)
	}
	if after := e.eventTypes(p.OrderID); !slices.Equal(before, after) {
		t.Errorf("the stale check added events %v", after[len(before):])
	}
	if got := e.checkBooks(p.OrderID, true); got.State != payment.Captured {
		t.Errorf("after the stale check: %s, want captured", got.State)
	}
}

// Scenario 4: a void applied at Vipps with every answer lost, and the log
// cannot be read then either; the shop repeats the key: the log says it
// was done, and it is not sent again.
func TestLostCancelRepeated(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks)
	p := e.reserved(10000)
	e.fault(p.OrderID, vippstest.FaultDropAfterApply, "cancel", 4)
	e.fault(p.OrderID, vippstest.FaultServerError, "details", 4) // and the log cannot be read
	op := e.op("cancel", p.OrderID, payment.OpRequest{Key: "c1"})
	if op.Status != payment.OpPending {
		t.Fatalf("cancel with every answer lost = %s, want pending", op.Status)
	}
	sent := e.simOps(p.OrderID)["cancel"]
	again := e.op("cancel", p.OrderID, payment.OpRequest{Key: "c1"})
	if again.ID != op.ID || again.Status != payment.OpSucceeded || again.Error != nil {
		t.Fatalf("repeated cancel = %d %s %v, want %d succeeded", again.ID, again.Status, again.Error, op.ID)
	}
	if n := e.simOps(p.OrderID)["cancel"]; n != sent {
		t.Errorf("the cancel was sent again (%d sends, %d before): the log showed it done", n, sent)
	}
	if got := e.checkBooks(p.OrderID, true); got.State != payment.Voided {
		t.Errorf("after the cancel: %s, want voided", got.State)
	}
}

// A cancel sent twice (the first answer lost, the second refused as done
// already) succeeded: the log, read at once, shows the void.
func TestCancelRefusedAsDone(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks)
	p := e.reserved(10000)
	e.fault(p.OrderID, vippstest.FaultDropAfterApply, "cancel", 1) // the client's retry is refused: done already
	op := e.op("cancel", p.OrderID, payment.OpRequest{Key: "c1"})
	if op.Status != payment.OpSucceeded {
		t.Fatalf("cancel = %s (%v), want succeeded", op.Status, op.Error)
	}
	if got := e.checkBooks(p.OrderID, true); got.State != payment.Voided {
		t.Errorf("after the cancel: %s, want voided", got.State)
	}
}

// Scenario 5: a capture with its answer lost, then "release the rest":
// the capture is resolved first, the release follows, and the void is
// told with the amount released.
func TestReleaseAfterLostCapture(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks)
	p := e.reserved(10000)
	e.fault(p.OrderID, vippstest.FaultDropAfterApply, "capture", 4)
	if op := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 4000}); op.Status != payment.OpPending {
		t.Fatalf("capture = %s, want pending", op.Status)
	}
	rel := e.op("cancel", p.OrderID, payment.OpRequest{Key: "rest", ReleaseRemaining: true})
	if rel.Status != payment.OpSucceeded {
		t.Fatalf("release = %s (%v), want succeeded", rel.Status, rel.Error)
	}
	got := e.checkBooks(p.OrderID, true)
	if got.State != payment.Captured || got.Amounts.Captured != 4000 || got.Amounts.RemainingToCapture != 0 {
		t.Errorf("after the release: %s %+v, want captured 4000, nothing left", got.State, got.Amounts)
	}
	var voided []vipps.Amount
	for _, w := range e.webhooks(p.OrderID) {
		if w.Type == webhook.EventVoided {
			voided = append(voided, w.Amount)
		}
	}
	if !slices.Equal(voided, []vipps.Amount{6000}) {
		t.Errorf("voided webhooks %v, want one of 6000", voided)
	}
}

// Scenario 6: what the client would refuse to send is refused at once,
// and nothing is stored.
func TestOperationRefusedLocally(t *testing.T) {
	e := newEnv(t)
	p := e.reserved(10000)
	long := strings.Repeat("x", 101)
	for _, kind := range []string{"capture", "refund", "cancel"} {
		var err error
		r := payment.OpRequest{Key: kind, Text: long}
		switch kind {
		case "capture":
			_, err = e.svc.Capture(context.Background(), p.OrderID, r)
		case "refund":
			_, err = e.svc.Refund(context.Background(), p.OrderID, r)
		case "cancel":
			_, err = e.svc.Cancel(context.Background(), p.OrderID, r)
		}
		if !errors.Is(err, payment.ErrInvalid) || !strings.Contains(err.Error(), "101 characters") {
			t.Errorf("%s with a 101-character text = %v, want ErrInvalid saying so", kind, err)
		}
	}
	if ops, _ := e.svc.Operations(context.Background(), p.OrderID); len(ops) != 0 {
		t.Errorf("refused operations were stored: %+v", ops)
	}
	if n := e.simOps(p.OrderID); n["capture"]+n["refund"]+n["cancel"] != 0 {
		t.Errorf("the simulator got %v", n)
	}
}

// failingStore fails the next operation updates that end an operation:
// the database went away after Vipps applied the capture.
type failingStore struct {
	payment.Store
	fail atomic.Int32
}

func (f *failingStore) UpdateOperation(ctx context.Context, op *payment.Operation, p *payment.Payment, events ...payment.Event) error {
	if op.Status != payment.OpPending && f.fail.Add(-1) >= 0 {
		return errors.New("connection refused: the database is restarting")
	}
	return f.Store.UpdateOperation(ctx, op, p, events...)
}

// Scenario 7: the database loses an operation's result (it went away
// after Vipps applied the capture). The operation stays pending under its
// claim; once the claim has run out it is sent again with the same
// X-Request-Id, and Vipps' replayed answer (made before later changes)
// adds nothing that is not so.
func TestLostResultReplayed(t *testing.T) {
	fs := &failingStore{}
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, withWebhooks, func(c *payment.Config) {
		fs.Store = c.Store
		c.Store = fs
		c.CallTimeout = 200 * time.Millisecond
	})
	p := e.reserved(10000)
	fs.fail.Store(1)
	if _, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Key: "k1", Amount: 6000}); err == nil {
		t.Fatal("capture while the database is away = nil error, want one")
	}
	// Vipps has it; the service does not know, and the claim holds.
	if sp, _ := e.sim.Sim.Payment(p.OrderID); sp.Summary.CapturedAmount != 6000 {
		t.Fatalf("simulator captured %d, want 6000", sp.Summary.CapturedAmount)
	}
	time.Sleep(400 * time.Millisecond) // the claim runs out
	op := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 6000})
	if op.Status != payment.OpSucceeded {
		t.Fatalf("repeated capture = %s (%v), want succeeded", op.Status, op.Error)
	}
	rel := e.op("cancel", p.OrderID, payment.OpRequest{Key: "rest", ReleaseRemaining: true})
	if rel.Status != payment.OpSucceeded {
		t.Fatalf("release = %s (%v), want succeeded", rel.Status, rel.Error)
	}
	got := e.checkBooks(p.OrderID, true)
	if got.State != payment.Captured || got.Amounts.RemainingToCapture != 0 {
		t.Errorf("after the release: %s %+v, want captured, nothing left to capture", got.State, got.Amounts)
	}
	if n := e.simOps(p.OrderID)["capture"]; n != 2 {
		t.Errorf("the simulator got %d captures, want 2 (one replayed)", n)
	}
}

// Vipps allows 5 captures per order and minute: operations past the limit
// wait their turn until Vipps allows more (Retry-After), and are not sent
// before; the waiting requests answer pending, the poller sends the rest.
func TestOperationsRateLimited(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){func(c *vippstest.Config) {
		c.RateLimits.Window = 500 * time.Millisecond
		c.RateLimits.Capture = 2
	}}, withWebhooks, func(c *payment.Config) { c.OpWait = 200 * time.Millisecond })
	p := e.reserved(6000)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			op, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Key: fmt.Sprint(i), Amount: 1000})
			if err != nil || op.Status == payment.OpFailed {
				t.Errorf("capture %d = %+v, %v; want succeeded or pending", i, op, err)
			}
		})
	}
	wg.Wait()
	// The poller sends what waits, when Vipps allows it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.clock.Advance(payment.OpResumeAfter)
		e.poll()
		if got, _ := e.svc.Get(context.Background(), p.OrderID); got.State == payment.Captured || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := e.checkBooks(p.OrderID, true)
	if got.State != payment.Captured || got.Amounts.Captured != 6000 {
		t.Errorf("after the captures: %s %+v, want all 6000 captured", got.State, got.Amounts)
	}
	var limited int
	for _, r := range e.sim.Sim.Requests() {
		if r.Op == "capture" && r.Status == 429 {
			limited++
		}
	}
	// Each refusal makes the service wait at least Retry-After (1 s) before
	// sending that operation again; the client's own 4 tries each time.
	if limited > 4*6 {
		t.Errorf("%d captures refused for the rate limit; the service keeps sending", limited)
	}
}

// The events the shop is told about are the webhook package's types.
func TestWebhookTypes(t *testing.T) {
	known := []webhook.EventType{webhook.EventReserved, webhook.EventCaptured, webhook.EventRefunded, webhook.EventCancelled,
		webhook.EventVoided, webhook.EventFailed, webhook.EventExpired, webhook.EventConsentRemoved}
	all := []payment.EventType{payment.EventCreated, payment.EventInitiated, payment.EventReserved, payment.EventCaptured,
		payment.EventRefunded, payment.EventCancelled, payment.EventVoided, payment.EventFailed, payment.EventExpired,
		payment.EventConsentRemoved, payment.EventCallback, payment.EventVippsError, payment.EventOperationQueued,
		payment.EventOperationFailed, payment.EventReceiptAdded, payment.EventReceiptSent, payment.EventSuperseded}
	var told []webhook.EventType
	for _, e := range all {
		if e.Webhook() {
			told = append(told, webhook.EventType(e))
		}
	}
	if !slices.Equal(told, known) {
		t.Errorf("events with webhooks %v, the webhook package knows %v", told, known)
	}
}

// A payment stored before the service kept facts takes Vipps' log as it
// is at its next check: what its events told already is not told again,
// what they missed is.
func TestPaymentFromBeforeFacts(t *testing.T) {
	e := newEnv(t, withWebhooks)
	ctx := context.Background()
	const id vipps.OrderID = "shop-legacy-1"
	c := e.sim.Client
	if _, err := c.Initiate(ctx, vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/cb", FallBack: "https://shop.example/back"},
		Transaction:  vipps.InitiateTransaction{OrderID: id, Amount: 1000, TransactionText: "Old socks"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Sim.Approve(id, ""); err != nil {
		t.Fatal(err)
	}
	for _, a := range []vipps.Amount{400, 100} {
		if _, err := c.Capture(ctx, id, vipps.CaptureRequest{Amount: a, TransactionText: "part"}); err != nil {
			t.Fatal(err)
		}
	}
	// As the service stored it before: reserved, the first capture seen.
	now := e.clock.Now()
	old := &payment.Payment{OrderID: id, MSN: "123456", Kind: payment.Regular, Text: "Old socks", State: payment.Reserved,
		Amounts:   payment.Amounts{Authorized: 1000, Captured: 400, RemainingToCapture: 600, RemainingToRefund: 400},
		CreatedAt: now, UpdatedAt: now}
	if err := e.store.Create(ctx, old, payment.Event{Type: payment.EventReserved, State: payment.Reserved, Amount: 1000, At: now},
		payment.Event{Type: payment.EventCaptured, State: payment.Reserved, Amount: 400, At: now}); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Check(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Facts) != 4 || p.Amounts.Captured != 500 || p.Amounts.RemainingToCapture != 500 {
		t.Errorf("after the check: %d facts, %+v; want 4 facts, 500 captured, 500 left", len(p.Facts), p.Amounts)
	}
	var captured []vipps.Amount
	for _, ev := range mustEvents(t, e, id) {
		if ev.Type == payment.EventCaptured {
			captured = append(captured, ev.Amount)
		}
	}
	if !slices.Equal(captured, []vipps.Amount{400, 100}) {
		t.Errorf("captured events %v, want the old 400 and the missed 100", captured)
	}
	if ws := e.webhooks(id); len(ws) != 1 || ws[0].Amount != 100 || ws[0].Amounts.Captured != 500 {
		t.Errorf("webhooks %+v, want one captured of 100 with 500 captured", ws)
	}
	// Checked again: nothing more.
	before := len(mustEvents(t, e, id))
	if _, err := e.svc.Check(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := len(mustEvents(t, e, id)); n != before {
		t.Errorf("a second check added %d events", n-before)
	}
}

func mustEvents(t *testing.T, e *env, id vipps.OrderID) []payment.Event {
	t.Helper()
	evs, err := e.store.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Scenario 8: Vipps asks to wait 55 s (Retry-After). The shop's request
// does not wait that long inside itself: the call ends at CallTimeout and
// the operation is answered pending, to be sent when Vipps allows.
func TestRetryAfterDoesNotHoldTheShop(t *testing.T) {
	e := newEnvSim(t, []func(*vippstest.Config){noActionLimits}, func(c *payment.Config) { c.CallTimeout, c.OpWait = 300*time.Millisecond, 200*time.Millisecond })
	p := e.reserved(10000)
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultRateLimited, Op: "capture", OrderID: p.OrderID, Count: 1, RetryAfter: 55 * time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	op := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 1000})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("capture under a 55 s Retry-After took %v", took)
	}
	if op.Status != payment.OpPending {
		t.Fatalf("capture = %s, want pending", op.Status)
	}
	got, _ := e.svc.Get(context.Background(), p.OrderID)
	if d := got.NextCheckAt.Sub(e.clock.Now()); d < 50*time.Second {
		t.Errorf("next send in %v, want after Vipps' 55 s", d)
	}
	// The shop asks again at once: nothing is sent before Vipps allows.
	if again := e.op("capture", p.OrderID, payment.OpRequest{Key: "k1", Amount: 1000}); again.Status != payment.OpPending {
		t.Errorf("repeated capture = %s, want pending", again.Status)
	}
	if n := e.simOps(p.OrderID)["capture"]; n != 1 {
		t.Errorf("the simulator got %d captures, want 1", n)
	}
	e.clock.Advance(time.Minute)
	e.poll()
	e.checkBooks(p.OrderID, false)
}
