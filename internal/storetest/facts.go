package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// fact returns a log entry of payment id.
func fact(id string, op vipps.Operation, amount vipps.Amount, txID, reqID string, at time.Time) payment.Fact {
	return payment.Fact{OrderID: vipps.OrderID(id), Operation: op, Success: true, Amount: amount,
		TransactionID: txID, RequestID: reqID, At: at, Source: "details", SeenAt: at.Add(time.Second)}
}

// learn stores facts with p through Update, and reports the error.
func learn(t *testing.T, s payment.Store, p *payment.Payment, events []payment.Event, fs ...payment.Fact) error {
	t.Helper()
	p.Facts = append(p.Facts, fs...)
	return s.Update(t.Context(), p, events...)
}

func testFacts(t *testing.T, open func(t *testing.T) payment.Store) {
	setup := func(t *testing.T) payment.Store {
		s := open(t)
		mustCreate(t, s, newPayment("a"), event("a", payment.EventCreated, t0))
		mustCreate(t, s, newPayment("b"), event("b", payment.EventCreated, t0))
		return s
	}

	t.Run("stored in order and read back", func(t *testing.T) {
		s := setup(t)
		p := mustGet(t, s, "a")
		if len(p.Facts) != 0 {
			t.Fatalf("Get(new payment).Facts = %v, want none", p.Facts)
		}
		failed := fact("a", vipps.OperationReserve, 1000, "500", "", t0.In(oslo))
		failed.Success = false
		first := []payment.Fact{
			fact("a", vipps.OperationInitiate, 1000, "500", "", t0),
			failed,
			fact("a", vipps.OperationReserve, 1000, "500", "", t0.Add(time.Second)),
		}
		if err := learn(t, s, p, nil, first...); err != nil {
			t.Fatalf("Update(with facts) = %v, want nil", err)
		}
		capture := fact("a", vipps.OperationCapture, 400, "", "req-1", t0.Add(time.Minute))
		capture.Source = "capture"
		anon := fact("a", vipps.OperationVoid, 600, "", "", t0.Add(2*time.Minute))
		if err := learn(t, s, p, nil, capture, anon); err != nil {
			t.Fatalf("Update(more facts) = %v, want nil", err)
		}
		got := mustGet(t, s, "a")
		if diff := cmp.Diff(p.Facts, got.Facts, opts); diff != "" {
			t.Errorf("Get.Facts mismatch (-want +got):\n%s", diff)
		}
		for i := 1; i < len(got.Facts); i++ {
			if got.Facts[i].Seq <= got.Facts[i-1].Seq {
				t.Errorf("Get.Facts: Seq %d after %d, want increasing", got.Facts[i].Seq, got.Facts[i-1].Seq)
			}
		}
		if b := mustGet(t, s, "b"); len(b.Facts) != 0 {
			t.Errorf("Get(b).Facts = %v, want none", b.Facts)
		}
	})

	t.Run("a fact is stored once", func(t *testing.T) {
		s := setup(t)
		p := mustGet(t, s, "a")
		stored := []payment.Fact{
			fact("a", vipps.OperationCapture, 400, "7001", "req-1", t0),
			fact("a", vipps.OperationRefund, 100, "", "", t0.Add(time.Minute)),
		}
		if err := learn(t, s, p, nil, stored...); err != nil {
			t.Fatal(err)
		}
		want := mustGet(t, s, "a")
		for _, tt := range []struct {
			name string
			f    payment.Fact
		}{
			{"same request id", fact("a", vipps.OperationCapture, 400, "", "req-1", t0.Add(time.Hour))},
			{"same transaction id", fact("a", vipps.OperationCapture, 400, "7001", "", t0.Add(time.Hour))},
			{"same time and amount, no ids", fact("a", vipps.OperationRefund, 100, "", "", t0.Add(time.Minute))},
		} {
			t.Run(tt.name, func(t *testing.T) {
				q := mustGet(t, s, "a")
				ev := payment.Event{OrderID: "a", Type: payment.EventCaptured, State: payment.Reserved, Amount: 400, At: t0, Fact: "dup"}
				err := learn(t, s, q, []payment.Event{ev}, tt.f)
				if !errors.Is(err, payment.ErrConflict) {
					t.Fatalf("Update(fact stored already) = %v, want ErrConflict", err)
				}
				if got := mustGet(t, s, "a"); !cmp.Equal(want, got, opts) {
					t.Errorf("Update(fact stored already) changed the payment:\n%s", cmp.Diff(want, got, opts))
				}
			})
		}
		// The same ids are another fact for another operation, success or
		// payment.
		q := mustGet(t, s, "a")
		refund := fact("a", vipps.OperationRefund, 400, "7001", "req-1", t0)
		failed := fact("a", vipps.OperationCapture, 400, "7001", "req-1", t0)
		failed.Success = false
		if err := learn(t, s, q, nil, refund, failed); err != nil {
			t.Errorf("Update(other operation and success, same ids) = %v, want nil", err)
		}
		b := mustGet(t, s, "b")
		if err := learn(t, s, b, nil, fact("b", vipps.OperationCapture, 400, "7001", "req-1", t0)); err != nil {
			t.Errorf("Update(other payment, same ids) = %v, want nil", err)
		}
	})

	t.Run("one event of a type per fact", func(t *testing.T) {
		s := setup(t)
		p := mustGet(t, s, "a")
		f := fact("a", vipps.OperationCapture, 400, "7001", "req-1", t0)
		ev := payment.Event{OrderID: "a", Type: payment.EventCaptured, State: payment.Reserved, Amount: 400, At: t0, Fact: f.Key()}
		if err := learn(t, s, p, []payment.Event{ev}, f); err != nil {
			t.Fatal(err)
		}
		want := mustEvents(t, s, "a")
		q := mustGet(t, s, "a")
		if err := s.Update(t.Context(), q, ev); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("Update(second event of the fact) = %v, want ErrConflict", err)
		}
		if got := mustEvents(t, s, "a"); len(got) != len(want) {
			t.Errorf("Events after a refused event = %d, want %d", len(got), len(want))
		}
		// Another type for the same fact, and events of no fact, are fine.
		other := ev
		other.Type = payment.EventReserved
		plain := event("a", payment.EventCallback, t0)
		if err := s.Update(t.Context(), q, other, plain, plain); err != nil {
			t.Errorf("Update(other type of the fact, plain events) = %v, want nil", err)
		}
		got := mustEvents(t, s, "a")
		if len(got) != len(want)+3 || got[len(got)-3].Fact != f.Key() {
			t.Errorf("Events = %+v, want %d with the fact kept", got, len(want)+3)
		}
	})

	t.Run("concurrent writers store a fact once", func(t *testing.T) {
		s := setup(t)
		const writers = 8
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range writers {
			p := mustGet(t, s, "a")
			wg.Go(func() {
				f := fact("a", vipps.OperationCapture, 400, "7001", "req-1", t0)
				ev := payment.Event{OrderID: "a", Type: payment.EventCaptured, State: payment.Reserved, Amount: 400, At: t0, Fact: f.Key()}
				err := learn(t, s, p, []payment.Event{ev}, f)
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case !errors.Is(err, payment.ErrConflict):
					t.Errorf("Update = %v, want nil or ErrConflict", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d of %d writers stored the fact, want 1", ok, writers)
		}
		if got := mustGet(t, s, "a").Facts; len(got) != 1 {
			t.Errorf("Get.Facts = %v, want one", got)
		}
		var captured int
		for _, e := range mustEvents(t, s, "a") {
			if e.Type == payment.EventCaptured {
				captured++
			}
		}
		if captured != 1 {
			t.Errorf("%d captured events, want 1", captured)
		}
	})
}
