package payment_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// lastCallback returns the last transaction callback the simulator
// delivered for the payment, decoded as the service gets it.
func (e *env) lastCallback(id vipps.OrderID) *vipps.TransactionCallback {
	e.t.Helper()
	e.sim.Sim.WaitCallbacks()
	var cb *vipps.TransactionCallback
	for _, c := range e.sim.Sim.Callbacks() {
		if c.OrderID != id || !c.Delivered() {
			continue
		}
		cb = &vipps.TransactionCallback{}
		if err := json.Unmarshal(c.Body, cb); err != nil {
			e.t.Fatal(err)
		}
	}
	if cb == nil {
		e.t.Fatalf("no callback of %s was delivered", id)
	}
	return cb
}

// count counts the payment's stored events of type typ.
func (e *env) count(id vipps.OrderID, typ payment.EventType) int {
	e.t.Helper()
	n := 0
	for _, ty := range e.eventTypes(id) {
		if ty == typ {
			n++
		}
	}
	return n
}

// TestReplayedCallbackCoalesced: one callback replayed a hundred times at
// once, and a hundred times one after another, makes at most one more
// /details call than its first delivery; every copy is recorded, and the
// books stay right.
func TestReplayedCallbackCoalesced(t *testing.T) {
	for _, failed := range []bool{false, true} {
		name := "reserved"
		if failed {
			name = "failed"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withWebhooks)
			amount := vipps.Amount(1000)
			want := payment.Reserved
			if failed {
				amount, want = 186, payment.Failed // the simulator's expired card
			}
			p := e.create(payment.CreateRequest{Amount: amount})
			if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
				t.Fatal(err)
			}
			cb := e.lastCallback(p.OrderID)
			e.waitState(p.OrderID, want)
			ctx := context.Background()

			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() {
					if err := e.svc.OnCallback(ctx, cb); err != nil {
						t.Errorf("OnCallback(%s) = %v", cb.TransactionInfo.Status, err)
					}
				})
			}
			wg.Wait()
			for range 100 {
				if err := e.svc.OnCallback(ctx, cb); err != nil {
					t.Fatalf("OnCallback(%s) = %v", cb.TransactionInfo.Status, err)
				}
			}
			if n := e.simOps(p.OrderID)["details"]; n > 2 {
				t.Errorf("/details calls after 201 copies of one callback = %d, want at most 2", n)
			}
			if n := e.count(p.OrderID, payment.EventCallback); n != 201 {
				t.Errorf("callback events = %d, want 201 (every copy recorded)", n)
			}
			if failed {
				if n := e.count(p.OrderID, payment.EventFailed); n != 1 {
					t.Errorf("failed events = %d, want 1", n)
				}
				return
			}
			e.checkBooks(p.OrderID, true)
		})
	}
}

// TestNewOutcomeConfirmed: a callback that reports what the latest answer
// does not show is checked with /details, however young that answer.
func TestNewOutcomeConfirmed(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	ctx := context.Background()
	if _, err := e.svc.Check(ctx, p.OrderID); err != nil {
		t.Fatal(err)
	}
	before := e.simOps(p.OrderID)["details"]
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.waitState(p.OrderID, payment.Reserved)
	if n := e.simOps(p.OrderID)["details"]; n != before+1 {
		t.Errorf("/details calls = %d after the RESERVED callback, want %d", n, before+1)
	}
	// A callback claiming what Vipps does not show is looked up, and
	// changes nothing.
	fake := &vipps.TransactionCallback{OrderID: p.OrderID, TransactionInfo: vipps.CallbackTransactionInfo{Status: vipps.CallbackCancelled}}
	if err := e.svc.OnCallback(ctx, fake); err != nil {
		t.Fatal(err)
	}
	if n := e.simOps(p.OrderID)["details"]; n != before+2 {
		t.Errorf("/details calls = %d after a CANCELLED callback, want %d", n, before+2)
	}
	if got := e.checkBooks(p.OrderID, false); got.State != payment.Reserved {
		t.Errorf("state after a false CANCELLED callback = %s, want reserved", got.State)
	}
}
