package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// testSnapshot: Snapshot reads what Get, Events and Operations read, and
// while a writer changes the payment, every snapshot is one moment: the
// payment's version, its events and its operations agree.
func testSnapshot(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("same as the three reads", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("a"), event("a", payment.EventCreated, t0))
		mustCreate(t, s, newPayment("b"), event("b", payment.EventCreated, t0))
		mustAdd(t, s, newOp("a", payment.OpCapture, "k1", t0), event("a", payment.EventOperationQueued, t0.Add(time.Second)))
		snap, err := s.Snapshot(t.Context(), "a")
		if err != nil {
			t.Fatalf("Snapshot(a) = %v", err)
		}
		want := &payment.Snapshot{Payment: mustGet(t, s, "a"), Events: mustEvents(t, s, "a"), Operations: mustOps(t, s, "a", false)}
		if diff := cmp.Diff(want, snap, opts); diff != "" {
			t.Errorf("Snapshot(a) mismatch (-Get, Events, Operations +Snapshot):\n%s", diff)
		}
		if _, err := s.Snapshot(t.Context(), "nope"); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("Snapshot(nope) = %v, want ErrNotFound", err)
		}
	})

	t.Run("every field as written", func(t *testing.T) {
		// The stores read a snapshot's facts, events and operations their
		// own way (JSON rows, arrays of records), apart from Get, Events
		// and Operations: compare with what was written, every field set.
		s := open(t)
		p := fullPayment("full")
		mustCreate(t, s, p, payment.Event{OrderID: "full", Type: payment.EventCreated, State: payment.Created,
			Amount: 25000, Data: json.RawMessage(`{"why":"æøå \"quoted\"","n":[1,2]}`), At: t0, Fact: "f-0"})
		if err := learn(t, s, p, []payment.Event{event("full", payment.EventReserved, t0.Add(time.Minute))},
			fact("full", vipps.OperationReserve, 25000, "tx-1", "req-1", t0.Add(time.Minute))); err != nil {
			t.Fatalf("Update with a fact = %v", err)
		}
		op := newOp("full", payment.OpCapture, "k1", t0.Add(2*time.Minute))
		op.ReleaseRemaining = true
		mustAdd(t, s, op)
		p = mustGet(t, s, "full") // the operation moved its version and check
		op.Status, op.Sends, op.SentAt, op.UpdatedAt = payment.OpFailed, 2, t0.Add(3*time.Minute), t0.Add(4*time.Minute)
		op.Error = &payment.VippsError{Op: "capture", StatusCode: 400, Group: "Merchant", Code: "61",
			Message: "Captured amount exceeds the reserved amount", ContextID: "ctx-9", At: t0.Add(4 * time.Minute)}
		if err := s.UpdateOperation(t.Context(), op, p); err != nil {
			t.Fatalf("UpdateOperation = %v", err)
		}
		snap, err := s.Snapshot(t.Context(), "full")
		if err != nil {
			t.Fatalf("Snapshot(full) = %v", err)
		}
		if diff := cmp.Diff(p, snap.Payment, opts); diff != "" {
			t.Errorf("Snapshot's payment (-written +read):\n%s", diff)
		}
		if diff := cmp.Diff([]*payment.Operation{op}, snap.Operations, opts); diff != "" {
			t.Errorf("Snapshot's operations (-written +read):\n%s", diff)
		}
		if len(snap.Events) != 2 || string(snap.Events[0].Data) != `{"why":"æøå \"quoted\"","n":[1,2]}` ||
			snap.Events[0].Fact != "f-0" || snap.Events[0].Amount != 25000 || !snap.Events[0].At.Equal(t0.Truncate(time.Microsecond)) ||
			snap.Events[1].Type != payment.EventReserved || snap.Events[0].Seq >= snap.Events[1].Seq {
			t.Errorf("Snapshot's events = %+v, want the two written, in order, data byte for byte", snap.Events)
		}
	})

	t.Run("one moment while a writer writes", func(t *testing.T) {
		s := open(t)
		p := newPayment("a")
		mustCreate(t, s, p, event("a", payment.EventCreated, t0))
		const updates = 40
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range updates {
				p.UpdatedAt = t0.Add(time.Duration(i+1) * time.Second)
				// Each update adds one event: version n has n events.
				if err := s.Update(t.Context(), p, event("a", payment.EventCallback, p.UpdatedAt)); err != nil {
					t.Errorf("Update %d = %v", i, err)
					return
				}
			}
		})
		for range 200 {
			snap, err := s.Snapshot(t.Context(), "a")
			if err != nil {
				t.Fatalf("Snapshot = %v", err)
			}
			if got, want := len(snap.Events), int(snap.Payment.Version); got != want {
				t.Fatalf("a snapshot of version %d has %d events; want %d: not one moment", snap.Payment.Version, got, want)
			}
		}
		wg.Wait()
	})
}

// testGetPending: GetPending reads what Get and Operations(pending) read,
// the finished operations left out, and while a writer adds and finishes
// operations, every read is one moment: the pending operations agree with
// the payment's version.
func testGetPending(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("same as the two reads", func(t *testing.T) {
		s := open(t)
		p := fullPayment("gp")
		mustCreate(t, s, p, event("gp", payment.EventCreated, t0))
		if err := learn(t, s, p, nil, fact("gp", vipps.OperationReserve, 25000, "tx-1", "req-1", t0)); err != nil {
			t.Fatalf("Update with a fact = %v", err)
		}
		done := newOp("gp", payment.OpCapture, "k1", t0)
		mustAdd(t, s, done)
		mustAdd(t, s, newOp("gp", payment.OpRefund, "k2", t0.Add(time.Second)))
		p = mustGet(t, s, "gp")
		done.Status, done.UpdatedAt = payment.OpSucceeded, t0.Add(time.Minute)
		if err := s.UpdateOperation(t.Context(), done, p); err != nil {
			t.Fatalf("UpdateOperation = %v", err)
		}
		mustAdd(t, s, newOp("gp", payment.OpCancel, "k3", t0.Add(2*time.Second)))
		got, pending, err := s.GetPending(t.Context(), "gp")
		if err != nil {
			t.Fatalf("GetPending(gp) = %v", err)
		}
		if diff := cmp.Diff(mustGet(t, s, "gp"), got, opts); diff != "" {
			t.Errorf("GetPending(gp) payment (-Get +GetPending):\n%s", diff)
		}
		want := mustOps(t, s, "gp", true)
		if len(want) != 2 || want[0].Kind != payment.OpRefund || want[1].Kind != payment.OpCancel {
			t.Fatalf("Operations(gp, pending) = %+v, want the refund and the cancel", want)
		}
		if diff := cmp.Diff(want, pending, opts); diff != "" {
			t.Errorf("GetPending(gp) operations (-Operations(pending) +GetPending):\n%s", diff)
		}

		mustCreate(t, s, newPayment("none"))
		if _, pending, err := s.GetPending(t.Context(), "none"); err != nil || len(pending) != 0 {
			t.Errorf("GetPending(none) = %d operations, %v; want none", len(pending), err)
		}
		if _, _, err := s.GetPending(t.Context(), "nope"); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("GetPending(nope) = %v, want ErrNotFound", err)
		}
	})

	t.Run("one moment while a writer writes", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("a"))
		const ops = 30
		var wg sync.WaitGroup
		wg.Go(func() {
			// Each AddOperation adds a pending operation and increments the
			// version; each UpdateOperation finishes it and increments it
			// again: at an even version one is pending, at an odd one none.
			for i := range ops {
				op := newOp("a", payment.OpCapture, fmt.Sprintf("k%d", i), t0.Add(time.Duration(i)*time.Second))
				if _, err := s.AddOperation(t.Context(), op, nil); err != nil {
					t.Errorf("AddOperation %d = %v", i, err)
					return
				}
				p, err := s.Get(t.Context(), "a")
				if err != nil {
					t.Errorf("Get = %v", err)
					return
				}
				op.Status, op.UpdatedAt = payment.OpSucceeded, op.CreatedAt.Add(time.Millisecond)
				if err := s.UpdateOperation(t.Context(), op, p); err != nil {
					t.Errorf("UpdateOperation %d = %v", i, err)
					return
				}
			}
		})
		for range 200 {
			p, pending, err := s.GetPending(t.Context(), "a")
			if err != nil {
				t.Fatalf("GetPending = %v", err)
			}
			if want := int(p.Version-1) % 2; len(pending) != want {
				t.Fatalf("GetPending at version %d: %d pending operations, want %d: not one moment", p.Version, len(pending), want)
			}
		}
		wg.Wait()
	})
}
