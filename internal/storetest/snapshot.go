package storetest

import (
	"encoding/json"
	"errors"
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
