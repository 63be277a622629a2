package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
