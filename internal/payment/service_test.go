package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
	"github.com/vippskit/vipps/webhook"
)

// env is the shared harness (internal/servicetest) under the names these
// tests use.
type env struct {
	*servicetest.Env
	t     testing.TB
	sim   *vippstest.Server
	store servicetest.Store
	svc   *payment.Service
	clock servicetest.Clock
}

func newEnv(t testing.TB, opts ...func(*payment.Config)) *env {
	t.Helper()
	return newEnvSim(t, nil, opts...)
}

// newEnvSim is newEnv with the simulator configured by simOpts.
func newEnvSim(t testing.TB, simOpts []func(*vippstest.Config), opts ...func(*payment.Config)) *env {
	t.Helper()
	e := servicetest.New(t, servicetest.WithSim(simOpts...), servicetest.WithPayment(opts...))
	return &env{Env: e, t: t, sim: e.Sim, store: e.Store, svc: e.Service, clock: e.Clock}
}

func (e *env) create(req payment.CreateRequest) *payment.Payment {
	e.t.Helper()
	return e.Create(req)
}

func (e *env) waitState(id vipps.OrderID, want payment.State) *payment.Payment {
	e.t.Helper()
	return e.WaitState(id, want)
}

func (e *env) poll() {
	e.t.Helper()
	e.Poll()
}

func (e *env) eventTypes(id vipps.OrderID) []payment.EventType {
	e.t.Helper()
	return e.EventTypes(id)
}

// simOps counts the requests the simulator got for an order, by op.
func (e *env) simOps(id vipps.OrderID) map[string]int {
	n := map[string]int{}
	for _, r := range e.sim.Sim.Requests() {
		if strings.Contains(r.Path, string(id)) || strings.Contains(r.Body, string(id)) {
			n[r.Op]++
		}
	}
	return n
}

func (e *env) op(kind string, id vipps.OrderID, r payment.OpRequest) *payment.Operation {
	e.t.Helper()
	ctx := context.Background()
	var (
		op  *payment.Operation
		err error
	)
	switch kind {
	case "capture":
		op, err = e.svc.Capture(ctx, id, r)
	case "refund":
		op, err = e.svc.Refund(ctx, id, r)
	case "cancel":
		op, err = e.svc.Cancel(ctx, id, r)
	}
	if err != nil {
		e.t.Fatalf("%s(%s, %+v) = %v", kind, id, r, err)
	}
	return op
}

func TestRegularFlowToRefund(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{Amount: 1000, ShopRef: "10042"})
	if p.OrderID != "shop-10042" || p.State != payment.Initiated || p.VippsURL == "" {
		t.Fatalf("Create = %s %s %q, want shop-10042 initiated with a URL", p.OrderID, p.State, p.VippsURL)
	}
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	p = e.waitState(p.OrderID, payment.Reserved)
	if !p.NextCheckAt.IsZero() {
		t.Errorf("reserved payment NextCheckAt = %v, want none", p.NextCheckAt)
	}
	steps := []struct {
		kind   string
		amount vipps.Amount
		state  payment.State
	}{
		{"capture", 300, payment.Reserved},
		{"capture", 0, payment.Captured},
		{"refund", 200, payment.Captured},
		{"refund", 0, payment.Refunded},
	}
	for _, s := range steps {
		op := e.op(s.kind, p.OrderID, payment.OpRequest{Amount: s.amount})
		if op.Status != payment.OpSucceeded {
			t.Fatalf("%s %d: status %s (%+v)", s.kind, s.amount, op.Status, op.Error)
		}
		if got, _ := e.svc.Get(context.Background(), p.OrderID); got.State != s.state {
			t.Fatalf("after %s %d: state %s, want %s", s.kind, s.amount, got.State, s.state)
		}
	}
	got, _ := e.svc.Get(context.Background(), p.OrderID)
	want := payment.Amounts{Authorized: 1000, Captured: 1000, Refunded: 1000}
	if diff := cmp.Diff(want, got.Amounts); diff != "" {
		t.Errorf("amounts (-want +got):\n%s", diff)
	}
	wantEvents := []payment.EventType{"created", "initiated", "callback_received", "reserved",
		"operation_queued", "captured", "operation_queued", "captured",
		"operation_queued", "refunded", "operation_queued", "refunded"}
	if diff := cmp.Diff(wantEvents, e.eventTypes(p.OrderID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := e.simOps(p.OrderID); n["capture"] != 2 || n["refund"] != 2 || n["details"] != 1 {
		t.Errorf("simulator requests = %v, want 2 captures, 2 refunds, 1 details", n)
	}
}

func TestVoid(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	e.sim.Sim.Approve(p.OrderID, "")
	e.waitState(p.OrderID, payment.Reserved)
	if op := e.op("cancel", p.OrderID, payment.OpRequest{}); op.Status != payment.OpSucceeded {
		t.Fatalf("cancel: %s %+v", op.Status, op.Error)
	}
	got := e.waitState(p.OrderID, payment.Voided)
	if !got.State.Final() || !got.NextCheckAt.IsZero() {
		t.Errorf("voided payment: final %v, next check %v", got.State.Final(), got.NextCheckAt)
	}
	if _, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{}); !errors.Is(err, payment.ErrState) {
		t.Errorf("Capture(voided) = %v, want ErrState", err)
	}
}

// TestRefusedOperation: Vipps refuses a capture (the money was captured
// behind the service's back). The operation ends failed with Vipps' error,
// stored with the payment's error and an operation_failed event in one
// step, and the payment is checked again at once.
func TestRefusedOperation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.create(payment.CreateRequest{Amount: 2000})
	e.sim.Sim.Approve(p.OrderID, "")
	e.waitState(p.OrderID, payment.Reserved)
	if _, err := e.sim.Client.Capture(ctx, p.OrderID, vipps.CaptureRequest{TransactionText: "elsewhere", RequestID: "outside-1"}); err != nil {
		t.Fatal(err)
	}
	op, err := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{Amount: 1000})
	if err != nil || op.Status != payment.OpFailed || op.Error == nil || op.Error.Code == "" {
		t.Fatalf("Capture = %+v, %v; want a failed operation with Vipps' error", op, err)
	}
	ops, err := e.store.Operations(ctx, p.OrderID, false)
	if err != nil || len(ops) != 1 || ops[0].Status != payment.OpFailed || ops[0].Error == nil || ops[0].Error.Code != op.Error.Code {
		t.Errorf("stored operations = %+v, %v; want the one, failed with code %s", ops, err, op.Error.Code)
	}
	got, err := e.store.Get(ctx, p.OrderID)
	if err != nil || got.LastError == nil || got.LastError.Code != op.Error.Code {
		t.Fatalf("payment = %+v, %v; want its last error %+v", got, err, op.Error)
	}
	if types := e.eventTypes(p.OrderID); !slices.Contains(types, payment.EventOperationFailed) {
		t.Errorf("events = %v, want %s", types, payment.EventOperationFailed)
	}
	// The poller learns what happened from /details.
	e.clock.Advance(time.Hour)
	e.poll()
	if got := e.waitState(p.OrderID, payment.Captured); got.Amounts.Captured != 2000 {
		t.Errorf("after a check: captured %d, want 2000 (captured elsewhere)", got.Amounts.Captured)
	}
}

func TestCancelBeforeApproval(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	if op := e.op("cancel", p.OrderID, payment.OpRequest{}); op.Status != payment.OpSucceeded {
		t.Fatalf("cancel: %s %+v", op.Status, op.Error)
	}
	e.waitState(p.OrderID, payment.Cancelled)
	if types := e.eventTypes(p.OrderID); types[len(types)-1] != payment.EventCancelled {
		t.Errorf("events = %v, want the last cancelled", types)
	}
}

func TestLostCallbackResolvedByPolling(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	p := e.create(payment.CreateRequest{})
	e.sim.Sim.Approve(p.OrderID, "")
	e.sim.Sim.WaitCallbacks()
	e.poll() // not due yet: nothing happens
	if got, _ := e.svc.Get(context.Background(), p.OrderID); got.State != payment.Initiated {
		t.Fatalf("before the first check: %s, want initiated", got.State)
	}
	e.clock.Advance(payment.DefaultSchedule.FirstDelay)
	e.poll()
	got := e.waitState(p.OrderID, payment.Reserved)
	if got.LeaseOwner != "" {
		t.Errorf("lease still held by %q", got.LeaseOwner)
	}
}

func TestDuplicateAndLateCallbacks(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDuplicate}); err != nil {
		t.Fatal(err)
	}
	p := e.create(payment.CreateRequest{})
	e.sim.Sim.Approve(p.OrderID, "")
	e.sim.Sim.WaitCallbacks()
	e.waitState(p.OrderID, payment.Reserved)
	// The merchant captures before a late copy of the callback arrives.
	e.op("capture", p.OrderID, payment.OpRequest{})
	if err := e.svc.OnCallback(context.Background(), &vipps.TransactionCallback{OrderID: p.OrderID,
		TransactionInfo: vipps.CallbackTransactionInfo{Status: vipps.CallbackReserved, Amount: 1000}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		types := e.eventTypes(p.OrderID)
		n := map[payment.EventType]int{}
		for _, ty := range types {
			n[ty]++
		}
		if n[payment.EventCallback] == 3 {
			if n[payment.EventReserved] != 1 || n[payment.EventCaptured] != 1 {
				t.Errorf("events = %v, want one reserved and one captured", types)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events = %v, want 3 callbacks recorded", types)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, _ := e.svc.Get(context.Background(), p.OrderID); got.State != payment.Captured {
		t.Errorf("state = %s after a late RESERVED callback, want captured", got.State)
	}
}

func TestCaptureTimeoutAfterCommitIsNotRepeated(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{Amount: 1000})
	e.sim.Sim.Approve(p.OrderID, "")
	e.waitState(p.OrderID, payment.Reserved)
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultTimeoutAfterApply, Op: "capture", OrderID: p.OrderID}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	op, err := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{Amount: 600, Key: "ship-1"})
	cancel()
	if err != nil || op.Status != payment.OpPending {
		t.Fatalf("Capture under a timeout = %v, %v; want a pending operation", op, err)
	}
	e.sim.Sim.ClearFaults()
	if sp, _ := e.sim.Sim.Payment(p.OrderID); sp.Summary.CapturedAmount != 600 {
		t.Fatalf("simulator captured %d, want 600 (the capture was applied)", sp.Summary.CapturedAmount)
	}
	// The shop retries with the same key before the poller does: the same
	// X-Request-Id goes to Vipps, which answers with the first result.
	op2, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Amount: 600, Key: "ship-1"})
	if err != nil || op2.Status != payment.OpSucceeded || op2.ID != op.ID || op2.RequestID != op.RequestID {
		t.Fatalf("retry = %+v, %v; want the same operation, succeeded", op2, err)
	}
	if sp, _ := e.sim.Sim.Payment(p.OrderID); sp.Summary.CapturedAmount != 600 {
		t.Errorf("simulator captured %d after the retry, want 600", sp.Summary.CapturedAmount)
	}
	got, _ := e.svc.Get(context.Background(), p.OrderID)
	if got.Amounts.Captured != 600 || got.Amounts.RemainingToCapture != 400 {
		t.Errorf("amounts = %+v, want 600 captured, 400 left", got.Amounts)
	}
	if _, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Amount: 500, Key: "ship-1"}); !errors.Is(err, payment.ErrIdempotencyMismatch) {
		t.Errorf("same key, other amount = %v, want ErrIdempotencyMismatch", err)
	}
}

func TestPendingOperationResentByPoller(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{Amount: 1000})
	e.sim.Sim.Approve(p.OrderID, "")
	e.waitState(p.OrderID, payment.Reserved)
	e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultTimeoutAfterApply, Op: "capture", OrderID: p.OrderID})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	op, _ := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{})
	cancel()
	e.sim.Sim.ClearFaults()
	if op == nil || op.Status != payment.OpPending {
		t.Fatalf("Capture = %+v, want pending", op)
	}
	stored, _ := e.svc.Get(context.Background(), p.OrderID)
	if stored.NextCheckAt.IsZero() {
		t.Fatal("a payment with a pending operation has no next check")
	}
	e.clock.Advance(payment.OpResumeAfter)
	e.poll()
	ops, _ := e.svc.Operations(context.Background(), p.OrderID)
	if ops[0].Status != payment.OpSucceeded {
		t.Fatalf("after the poller: %s, want succeeded", ops[0].Status)
	}
	got := e.waitState(p.OrderID, payment.Captured)
	if sp, _ := e.sim.Sim.Payment(p.OrderID); sp.Summary.CapturedAmount != 1000 || got.Amounts.Captured != 1000 {
		t.Errorf("captured: simulator %d, service %d; want 1000 both", sp.Summary.CapturedAmount, got.Amounts.Captured)
	}
	if !got.NextCheckAt.IsZero() {
		t.Errorf("NextCheckAt = %v after the operation ended, want none", got.NextCheckAt)
	}
}

func TestShopOrderAttempts(t *testing.T) {
	e := newEnv(t)
	first := e.create(payment.CreateRequest{ShopRef: "A-7"})
	second := e.create(payment.CreateRequest{ShopRef: "A-7"})
	if first.OrderID != "shop-A-7" || second.OrderID != "shop-A-7--1" || second.Attempt != 1 {
		t.Fatalf("attempts = %s, %s (%d); want shop-A-7, shop-A-7--1 (1)", first.OrderID, second.OrderID, second.Attempt)
	}
	// The customer approves the old attempt after all: it is released.
	e.sim.Sim.Approve(first.OrderID, "")
	e.waitState(first.OrderID, payment.Voided)
	if types := e.eventTypes(first.OrderID); !containsType(types, payment.EventSuperseded) {
		t.Errorf("events = %v, want superseded", types)
	}
	e.sim.Sim.Approve(second.OrderID, "")
	e.waitState(second.OrderID, payment.Reserved)
	if _, err := e.svc.Create(context.Background(), payment.CreateRequest{Amount: 1000, Text: "x", ShopRef: "A-7"}); !errors.Is(err, payment.ErrState) {
		t.Errorf("Create for a paid shop order = %v, want ErrState", err)
	}
}

// TestShopRefsThatLookLikeAttempts: the shopRef "60001-1" and the second
// attempt of "60001" once had one orderId, and whichever came second was
// refused. Now each gets its own, in either order, and an orderId stored in
// the old form ("-1") is passed over.
func TestShopRefsThatLookLikeAttempts(t *testing.T) {
	type want struct {
		shopRef string
		id      vipps.OrderID
		attempt int
	}
	for _, tt := range []struct {
		name string
		// legacy is stored first: the second attempt of 60001 in the old
		// form.
		legacy bool
		steps  []want
	}{
		{"attempt first", false, []want{
			{"60001", "shop-60001", 0}, {"60001", "shop-60001--1", 1}, {"60001-1", "shop-60001-1", 0}, {"60001-1", "shop-60001-1--1", 1},
		}},
		{"shopRef first", false, []want{
			{"60001-1", "shop-60001-1", 0}, {"60001", "shop-60001", 0}, {"60001", "shop-60001--1", 1}, {"60001-1", "shop-60001-1--1", 1},
		}},
		{"old attempt stored", true, []want{
			{"60001-1", "shop-60001-1--1", 0}, {"60001-1", "shop-60001-1--2", 1}, {"60001", "shop-60001--2", 2},
		}},
		{"same base", false, []want{
			{"60001-1", "shop-60001-1", 0}, {"60001 1", "shop-60001-1--1", 0}, {"60001-1", "shop-60001-1--2", 1}, {"60001 1", "shop-60001-1--3", 1},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			if tt.legacy {
				now := time.Now()
				for i, id := range []vipps.OrderID{"shop-60001", "shop-60001-1"} {
					old := &payment.Payment{OrderID: id, ShopRef: "60001", Attempt: i, Kind: payment.Regular, Text: "Old",
						State: payment.Cancelled, Amounts: payment.Amounts{Authorized: 1000}, CreatedAt: now, UpdatedAt: now}
					if err := e.store.Create(ctx, old, payment.Event{Type: payment.EventCreated, State: payment.Created, At: now}); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, w := range tt.steps {
				p, err := e.svc.Create(ctx, payment.CreateRequest{Amount: 1000, Text: "Socks", ShopRef: w.shopRef})
				if err != nil {
					t.Fatalf("Create(shopRef %q) = %v, want %s", w.shopRef, err, w.id)
				}
				if p.OrderID != w.id || p.Attempt != w.attempt || p.ShopRef != w.shopRef {
					t.Errorf("Create(shopRef %q) = %s (attempt %d), want %s (attempt %d)", w.shopRef, p.OrderID, p.Attempt, w.id, w.attempt)
				}
				if _, err := e.sim.Sim.Payment(p.OrderID); err != nil {
					t.Errorf("Vipps has no payment %s: %v", p.OrderID, err)
				}
			}
			for _, ref := range []string{"60001", "60001-1"} {
				as, err := e.svc.Attempts(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range as {
					if a.Attempt != i {
						t.Errorf("attempts of %q: %s is attempt %d, want %d", ref, a.OrderID, a.Attempt, i)
					}
				}
			}
		})
	}
}

func containsType(ts []payment.EventType, t payment.EventType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func TestStalePaymentIsCancelled(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	e.clock.Advance(payment.DefaultSchedule.CustomerTimeLimit + payment.StaleAfter)
	e.poll()
	got := e.waitState(p.OrderID, payment.Cancelled)
	if types := e.eventTypes(p.OrderID); types[len(types)-1] != payment.EventExpired {
		t.Errorf("events = %v, want the last expired", types)
	}
	if !got.NextCheckAt.IsZero() {
		t.Errorf("NextCheckAt = %v, want none", got.NextCheckAt)
	}
}

func TestRejectedAndFailed(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	e.sim.Sim.Reject(p.OrderID)
	e.waitState(p.OrderID, payment.Cancelled)

	// Vipps answers initiate with a 500: the payment may exist, so it stays
	// created and is checked; Vipps never having it, it fails once the
	// customer's time is up.
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "initiate", Count: 1}); err != nil {
		t.Fatal(err)
	}
	unsure, err := e.svc.Create(context.Background(), payment.CreateRequest{Amount: 1000, Text: "x"})
	if !errors.Is(err, vipps.ErrOutcomeUnknown) {
		t.Fatalf("Create under a Vipps 500 = %v, want ErrOutcomeUnknown", err)
	}
	got, _ := e.svc.Get(context.Background(), unsure.OrderID)
	if got.State != payment.Created || got.LastError == nil || got.LastError.StatusCode != 500 || got.NextCheckAt.IsZero() {
		t.Fatalf("stored: %s, error %+v, next check %v; want created with the 500 and a next check", got.State, got.LastError, got.NextCheckAt)
	}
	e.clock.Advance(payment.DefaultSchedule.FirstDelay)
	e.poll()
	if got, _ := e.svc.Get(context.Background(), unsure.OrderID); got.State != payment.Created {
		t.Fatalf("after a check in time: %s, want created", got.State)
	}
	e.clock.Advance(payment.DefaultSchedule.CustomerTimeLimit)
	e.poll()
	got = e.waitState(unsure.OrderID, payment.Failed)
	if !strings.Contains(got.LastError.Message, "never received") || !got.NextCheckAt.IsZero() {
		t.Errorf("failed payment: error %q, next check %v", got.LastError.Message, got.NextCheckAt)
	}
}

// TestFailedReservationKeepsTheReason: the customer's card has expired
// (the simulator's magic amount 186). /details only says that the
// reservation failed; the callback says why, and the service keeps that
// for the return page, once, however often the callback comes.
func TestFailedReservationKeepsTheReason(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDuplicate}); err != nil {
		t.Fatal(err)
	}
	p := e.create(payment.CreateRequest{Amount: 186})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.waitState(p.OrderID, payment.Failed)
	// The duplicate callback may still be on its way.
	waitFor := func(ok func() bool) {
		deadline := time.Now().Add(5 * time.Second)
		for !ok() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	count := func(typ payment.EventType) int {
		n := 0
		for _, ty := range e.eventTypes(p.OrderID) {
			if ty == typ {
				n++
			}
		}
		return n
	}
	waitFor(func() bool { return count(payment.EventCallback) == 2 })
	got, err := e.svc.Get(context.Background(), p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastError == nil || got.LastError.Group != "Payment" || got.LastError.Code != "44" || got.LastError.Op != "callback" {
		t.Fatalf("failed payment's error = %+v, want the callback's Payment 44", got.LastError)
	}
	if msg := got.LastError.CustomerMessage(); !strings.Contains(msg, "card has expired") {
		t.Errorf("customer message = %q, want it to say the card has expired", msg)
	}
	if n, m := count(payment.EventCallback), count(payment.EventVippsError); n != 2 || m != 1 {
		t.Errorf("%d callback events and %d error events, want 2 and 1 (the same error recorded once)", n, m)
	}
}

// TestCheckReportsVippsFailure: a check Vipps cannot answer returns why,
// every time, with the payment as stored and the error recorded once.
func TestCheckReportsVippsFailure(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "details"}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		got, err := e.svc.Check(context.Background(), p.OrderID)
		if ve, ok := errors.AsType[*vipps.Error](err); !ok || ve.StatusCode != 500 {
			t.Fatalf("Check #%d = %v, want Vipps' 500", i+1, err)
		}
		if got == nil || got.State != payment.Initiated || got.LastError == nil || got.LastError.Op != "details" {
			t.Fatalf("Check #%d payment = %+v, want it initiated with the details error", i+1, got)
		}
	}
	n := 0
	for _, ty := range e.eventTypes(p.OrderID) {
		if ty == payment.EventVippsError {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d error events, want 1", n)
	}
}

// TestExpressFlows takes express payments to REFUND and to VOID: the
// simulator asks the service for shipping options, and the service
// captures, refunds or cancels what Vipps reserved. Whether Vipps adds the
// shipping cost (49 kr here) to the reservation is undocumented, so both
// are tried: the service goes by the reserved amount from /details.
func TestExpressFlows(t *testing.T) {
	for _, addsShipping := range []bool{false, true} {
		for _, end := range []payment.State{payment.Refunded, payment.Voided} {
			t.Run(fmt.Sprintf("%s/adds shipping %v", end, addsShipping), func(t *testing.T) {
				e := newEnvSim(t, []func(*vippstest.Config){func(c *vippstest.Config) { c.ExpressAddsShipping = addsShipping }})
				p := e.create(payment.CreateRequest{Amount: 1000, Express: true})
				if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
					t.Fatal(err)
				}
				total := vipps.Amount(1000)
				if addsShipping {
					total += 4900
				}
				got := e.waitState(p.OrderID, payment.Reserved)
				if got.Kind != payment.Express || got.Amounts.Authorized != total || len(got.Shipping) == 0 || got.UserID == "" {
					t.Fatalf("reserved express payment: kind %s, authorized %d, shipping %s, user %q; want express, %d, shipping and user stored",
						got.Kind, got.Amounts.Authorized, got.Shipping, got.UserID, total)
				}
				kinds := []string{"cancel"}
				if end == payment.Refunded {
					kinds = []string{"capture", "refund"}
				}
				for _, k := range kinds {
					if op := e.op(k, p.OrderID, payment.OpRequest{}); op.Status != payment.OpSucceeded {
						t.Fatalf("%s: %s %+v", k, op.Status, op.Error)
					}
				}
				got = e.waitState(p.OrderID, end)
				want := payment.Amounts{Authorized: total}
				if end == payment.Refunded {
					want.Captured, want.Refunded = total, total
				}
				if diff := cmp.Diff(want, got.Amounts); diff != "" {
					t.Errorf("amounts (-want +got):\n%s", diff)
				}
				if !got.NextCheckAt.IsZero() {
					t.Errorf("final payment is due for a check at %v", got.NextCheckAt)
				}
			})
		}
	}
}

func TestExpressConsentRemoval(t *testing.T) {
	e := newEnv(t, func(c *payment.Config) { c.Webhooks = true })
	p := e.create(payment.CreateRequest{Express: true})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	got := e.waitState(p.OrderID, payment.Reserved)
	if got.UserID == "" || len(got.Shipping) == 0 {
		t.Fatalf("express payment stored no user (%q) or shipping (%s)", got.UserID, got.Shipping)
	}
	if _, err := e.sim.Sim.RemoveConsent(context.Background(), e.sim.Merchant.MSN, got.UserID); err != nil {
		t.Fatal(err)
	}
	after, _ := e.svc.Get(context.Background(), p.OrderID)
	if after.UserID != "" || after.Shipping != nil {
		t.Errorf("after consent removal: user %q, shipping %s; want both gone", after.UserID, after.Shipping)
	}
	tasks, err := e.store.Tasks(context.Background(), p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, tk := range tasks {
		var ev webhook.Event
		if len(tk.Payload) > 0 { // a consent check has none
			if err := json.Unmarshal(tk.Payload, &ev); err != nil {
				t.Fatal(err)
			}
		}
		got2 = append(got2, strings.TrimSpace(string(tk.Kind)+" "+string(ev.Type)))
	}
	if diff := cmp.Diff([]string{"consent_check", "webhook reserved", "webhook consent_removed"}, got2); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
}

func TestReturnToken(t *testing.T) {
	e := newEnv(t)
	tok := e.svc.ReturnToken("shop-1")
	if !e.svc.CheckReturnToken("shop-1", tok) || e.svc.CheckReturnToken("shop-2", tok) || e.svc.CheckReturnToken("shop-1", "") {
		t.Error("CheckReturnToken accepts a token of another order or an empty one, or refuses the right one")
	}
	if u := e.svc.ReturnURL("shop-1"); !strings.HasSuffix(u, "/return/shop-1?t="+tok) {
		t.Errorf("ReturnURL = %q", u)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		req  payment.CreateRequest
		want string
	}{
		{"small amount", payment.CreateRequest{Amount: 99, Text: "x"}, "at least 100 øre"},
		{"no text", payment.CreateRequest{Amount: 100}, "text is required"},
		{"phone", payment.CreateRequest{Amount: 100, Text: "x", Phone: "+4791234567"}, "8 digits"},
		{"return url", payment.CreateRequest{Amount: 100, Text: "x", ReturnURL: "/relative"}, "returnUrl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Create(context.Background(), tt.req)
			if !errors.Is(err, payment.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Create = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

// TestConsentRemovedBeforeDetailsKnown: the customer approves an express
// payment and removes the consent before the service has learnt of the
// reservation (the callback was lost). The check that then reads /details
// must not keep what the customer shared; the payment's history says why
// it has none.
func TestConsentRemovedBeforeDetailsKnown(t *testing.T) {
	e := newEnv(t, func(c *payment.Config) { c.Webhooks = true })
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	p := e.create(payment.CreateRequest{Express: true})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.sim.Sim.WaitCallbacks()
	d, err := e.sim.Client.Details(t.Context(), p.OrderID)
	if err != nil || d.UserDetails == nil {
		t.Fatalf("details = %v, %v; want the user's details", d, err)
	}
	if _, err := e.sim.Sim.RemoveConsent(t.Context(), e.sim.Merchant.MSN, d.UserDetails.UserID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Get(t.Context(), p.OrderID); got.State != payment.Initiated {
		t.Fatalf("before the check: %s, want initiated (the callback was lost)", got.State)
	}
	if _, err := e.svc.Check(t.Context(), p.OrderID); err != nil {
		t.Fatal(err)
	}
	got := e.Get(p.OrderID)
	if got.State != payment.Reserved || got.UserID != "" || got.Shipping != nil {
		t.Errorf("after the check: %s, user %q, shipping %s; want reserved with neither", got.State, got.UserID, got.Shipping)
	}
	if types := e.eventTypes(p.OrderID); !slices.Contains(types, payment.EventConsentRemoved) {
		t.Errorf("events = %v, want consent_removed among them", types)
	}
	e.FlushExchanges()
	xs, err := e.store.Exchanges(t.Context(), p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if strings.Contains(x.Response, d.UserDetails.UserID) || strings.Contains(x.Response, d.UserDetails.Email) {
			t.Errorf("exchange %s %s keeps the user's details after the consent removal", x.Method, x.Path)
		}
	}
}

// TestConsentRemovalRacesCheck: a consent removal and the check that first
// learns of the reservation, at once. Whichever comes first, the details
// are not kept, and the history says so once.
func TestConsentRemovalRacesCheck(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop, Count: 1000}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p := e.create(payment.CreateRequest{Express: true, ShopRef: fmt.Sprintf("race-%d", i)})
		if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
			t.Fatal(err)
		}
		d, err := e.sim.Client.Details(t.Context(), p.OrderID)
		if err != nil || d.UserDetails == nil {
			t.Fatalf("details = %v, %v; want the user's details", d, err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			if _, err := e.svc.Check(t.Context(), p.OrderID); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			<-start
			if err := e.svc.RemoveConsent(t.Context(), d.UserDetails.UserID); err != nil {
				t.Error(err)
			}
		})
		close(start)
		wg.Wait()
		got := e.Get(p.OrderID)
		if got.State != payment.Reserved || got.UserID != "" || got.Shipping != nil {
			t.Errorf("%s: %s, user %q, shipping %s; want reserved with neither", p.OrderID, got.State, got.UserID, got.Shipping)
		}
		n := 0
		for _, typ := range e.eventTypes(p.OrderID) {
			if typ == payment.EventConsentRemoved {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d consent_removed events, want 1", p.OrderID, n)
		}
	}
}

// TestConsentCheckTask: the check that stores an express customer's
// details queues a consent check, which the outbox runs: a no-op for a
// customer who kept their consent, an erasure for one whose removal was
// recorded before it ran (as when the process stopped between storing the
// details and its own look at the removals).
func TestConsentCheckTask(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	approve := func(phone string) *payment.Payment {
		t.Helper()
		p := e.create(payment.CreateRequest{Express: true})
		if err := e.sim.Sim.Approve(p.OrderID, phone); err != nil {
			t.Fatal(err)
		}
		got := e.waitState(p.OrderID, payment.Reserved)
		if got.UserID == "" || got.Shipping == nil {
			t.Fatalf("%s stored no user or shipping", p.OrderID)
		}
		return got
	}
	kept := approve("")
	gone := approve("98000001")
	// The removal of gone's customer, recorded after the check looked.
	if err := e.store.AddConsentRemoval(ctx, payment.UserKey(gone.UserID), e.clock.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := e.Get(gone.OrderID); got.UserID == "" {
		t.Fatal("the details were erased before the outbox ran")
	}
	if _, err := e.NewOutbox("test").Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.Get(kept.OrderID); got.UserID != kept.UserID || got.Shipping == nil {
		t.Errorf("%s after its consent check: user %q, shipping %s; want both kept", kept.OrderID, got.UserID, got.Shipping)
	}
	if got := e.Get(gone.OrderID); got.UserID != "" || got.Shipping != nil {
		t.Errorf("%s after its consent check: user %q, shipping %s; want both gone", gone.OrderID, got.UserID, got.Shipping)
	}
	for _, p := range []*payment.Payment{kept, gone} {
		tasks, err := e.store.Tasks(ctx, p.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tk := range tasks {
			got = append(got, string(tk.Kind)+" "+string(tk.Status))
		}
		if diff := cmp.Diff([]string{"consent_check done"}, got); diff != "" {
			t.Errorf("%s: tasks (-want +got):\n%s", p.OrderID, diff)
		}
	}
	if types := e.eventTypes(gone.OrderID); !slices.Contains(types, payment.EventConsentRemoved) {
		t.Errorf("events of %s = %v, want consent_removed among them", gone.OrderID, types)
	}
}

// TestConsentRemovalRecordsPaced: consent removals come without
// credentials, so their records are paced; one over the pace still erases
// what is stored, is logged, and is not remembered.
func TestConsentRemovalRecordsPaced(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	payment.SetConsentRecordPace(e.svc, rate.NewLimiter(0, 2)) // two, then none
	p := e.create(payment.CreateRequest{Express: true})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	user := e.waitState(p.OrderID, payment.Reserved).UserID
	for _, id := range []string{"flood-1", "flood-2", user} {
		if err := e.svc.RemoveConsent(ctx, id); err != nil {
			t.Fatalf("RemoveConsent(%s) = %v", id, err)
		}
	}
	for id, want := range map[string]bool{"flood-1": true, "flood-2": true, user: false} {
		at, err := e.store.ConsentRemovedAt(ctx, payment.UserKey(id))
		if err != nil {
			t.Fatal(err)
		}
		if got := !at.IsZero(); got != want {
			t.Errorf("removal of %s remembered = %v, want %v", id, got, want)
		}
	}
	if got := e.Get(p.OrderID); got.UserID != "" || got.Shipping != nil {
		t.Errorf("over the pace: user %q, shipping %s; want both erased all the same", got.UserID, got.Shipping)
	}
	if !strings.Contains(e.Logs.String(), "consent removals arrive faster than the service records them") {
		t.Error("a removal over the pace was not logged")
	}
}
