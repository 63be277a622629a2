package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

func mustAttention(t *testing.T, s payment.Store, f payment.AttentionFilter) *payment.AttentionLists {
	t.Helper()
	l, err := s.Attention(t.Context(), f)
	if err != nil {
		t.Fatalf("Attention(%+v) = %v, want nil", f, err)
	}
	return l
}

// reserved creates the payment id reserved (1000 øre, remaining as given)
// at `at` by a RESERVE fact, created a minute before.
func reserved(t *testing.T, s payment.Store, id string, remaining vipps.Amount, state payment.State, at time.Time) {
	t.Helper()
	p := newPayment(id)
	p.CreatedAt, p.UpdatedAt = at.Add(-time.Minute), at.Add(-time.Minute)
	mustCreate(t, s, p)
	p.State, p.Amounts = state, payment.Amounts{Authorized: 1000, Captured: 1000 - remaining, RemainingToCapture: remaining}
	if err := learn(t, s, p, nil, fact(id, vipps.OperationReserve, 1000, "tx-"+id, "", at)); err != nil {
		t.Fatalf("Update(%s) = %v", id, err)
	}
}

func testAttention(t *testing.T, open func(t *testing.T) payment.Store) {
	now := t0.Add(200 * 24 * time.Hour)
	filter := payment.AttentionFilter{
		OpsBefore:      now.Add(-payment.OpUnknownAfter),
		ReservedBefore: now.Add(-payment.ReservationWarnAfter),
		CheckFailures:  3,
	}

	t.Run("empty store", func(t *testing.T) {
		s := open(t)
		got := mustAttention(t, s, filter)
		if len(got.Operations)+len(got.Tasks)+len(got.Reservations)+len(got.Unreachable) != 0 {
			t.Errorf("Attention of an empty store = %+v, want nothing", got)
		}
	})

	t.Run("operations pending past the grace period", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"op-old", "op-new", "op-done"} {
			mustCreate(t, s, newPayment(id))
		}
		old := newOp("op-old", payment.OpCapture, "k1", now.Add(-time.Hour))
		mustAdd(t, s, old)
		mustAdd(t, s, newOp("op-new", payment.OpCapture, "k1", now.Add(-time.Minute)))
		done := newOp("op-done", payment.OpCapture, "k1", now.Add(-2*time.Hour))
		mustAdd(t, s, done)
		done.Status, done.UpdatedAt = payment.OpSucceeded, now.Add(-time.Hour)
		if err := s.UpdateOperation(t.Context(), done, mustGet(t, s, "op-done")); err != nil {
			t.Fatalf("UpdateOperation(op-done) = %v", err)
		}
		got := mustAttention(t, s, filter)
		if diff := cmp.Diff([]*payment.Operation{old}, got.Operations, opts); diff != "" {
			t.Errorf("Attention().Operations mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("failing and dead tasks, dead first", func(t *testing.T) {
		s := open(t)
		queueTask(t, s, "t-never", now, now.Add(-3*time.Hour)) // never tried: not failing
		failing := queueTask(t, s, "t-failing", now, now.Add(-3*time.Hour))
		dead := queueTask(t, s, "t-dead", now, now.Add(-3*time.Hour))
		done := queueTask(t, s, "t-done", now, now.Add(-3*time.Hour))
		failing.Attempts, failing.LastError, failing.NextAttemptAt = 2, "the shop answered 503", now.Add(time.Minute)
		mustUpdateTask(t, s, failing, &payment.TaskAttempt{At: now.Add(-2 * time.Hour), StatusCode: 503, Error: failing.LastError})
		dead.Attempts, dead.LastError, dead.Status = 20, "the shop answered 500", payment.TaskDead
		mustUpdateTask(t, s, dead, &payment.TaskAttempt{At: now.Add(-time.Hour), StatusCode: 500, Error: dead.LastError})
		done.Attempts, done.Status = 1, payment.TaskDone
		mustUpdateTask(t, s, done, &payment.TaskAttempt{At: now.Add(-time.Hour), StatusCode: 200})
		got := mustAttention(t, s, filter)
		if diff := cmp.Diff([]*payment.Task{dead, failing}, got.Tasks, taskOpts); diff != "" {
			t.Errorf("Attention().Tasks mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("reservations close to the limit", func(t *testing.T) {
		s := open(t)
		old := now.Add(-payment.ReservationWarnAfter - time.Hour)
		reserved(t, s, "r-old", 1000, payment.Reserved, old)
		reserved(t, s, "r-older-partly", 400, payment.Reserved, old.Add(-24*time.Hour))
		reserved(t, s, "r-young", 1000, payment.Reserved, now.Add(-24*time.Hour))
		reserved(t, s, "r-captured", 0, payment.Captured, old)
		// Created long ago, reserved only lately: the reservation counts.
		late := newPayment("r-late")
		late.CreatedAt = old.Add(-time.Hour)
		mustCreate(t, s, late)
		late.State, late.Amounts = payment.Reserved, payment.Amounts{Authorized: 1000, RemainingToCapture: 1000}
		if err := learn(t, s, late, nil, fact("r-late", vipps.OperationReserve, 1000, "tx-late", "", now.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
		got := mustAttention(t, s, filter)
		var ids []vipps.OrderID
		for _, r := range got.Reservations {
			ids = append(ids, r.Payment.OrderID)
			if len(r.Payment.Facts) != 0 {
				t.Errorf("Attention().Reservations: %s has facts, want none", r.Payment.OrderID)
			}
		}
		if diff := cmp.Diff(toOrderIDs("r-older-partly", "r-old"), ids); diff != "" {
			t.Errorf("Attention().Reservations mismatch (-want +got):\n%s", diff)
		}
		if len(got.Reservations) == 2 {
			if at := got.Reservations[1].ReservedAt; !cmp.Equal(at, old, opts) {
				t.Errorf("Attention().Reservations[1].ReservedAt = %v, want %v (the RESERVE fact)", at, old)
			}
			want := mustGet(t, s, "r-old")
			want.Facts = nil
			if diff := cmp.Diff(want, got.Reservations[1].Payment, opts); diff != "" {
				t.Errorf("Attention().Reservations[1].Payment mismatch (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("payments whose checks fail", func(t *testing.T) {
		s := open(t)
		for i, n := range []int{0, 2, 3, 7} {
			p := newPayment(fmt.Sprintf("c-%d", n))
			mustCreate(t, s, p)
			if n == 0 {
				continue
			}
			p.CheckFailures, p.CheckFailedSince, p.CheckError = n, now.Add(-time.Duration(i)*time.Minute), "Vipps answered 500"
			if err := s.Update(t.Context(), p); err != nil {
				t.Fatalf("Update(%s) = %v", p.OrderID, err)
			}
		}
		got := mustAttention(t, s, filter)
		var ids []vipps.OrderID
		for _, p := range got.Unreachable {
			ids = append(ids, p.OrderID)
		}
		if diff := cmp.Diff(toOrderIDs("c-7", "c-3"), ids); diff != "" {
			t.Errorf("Attention().Unreachable mismatch (-want +got):\n%s", diff)
		}
		if len(got.Unreachable) > 0 && got.Unreachable[0].CheckError != "Vipps answered 500" {
			t.Errorf("Attention().Unreachable[0].CheckError = %q, want the stored one", got.Unreachable[0].CheckError)
		}
	})

	t.Run("limit", func(t *testing.T) {
		s := open(t)
		for i := range 4 {
			id := fmt.Sprintf("l-%d", i)
			mustCreate(t, s, newPayment(id))
			mustAdd(t, s, newOp(id, payment.OpRefund, "k", now.Add(-time.Duration(10-i)*time.Hour)))
		}
		f := filter
		f.Limit = 3
		got := mustAttention(t, s, f)
		var ids []vipps.OrderID
		for _, op := range got.Operations {
			ids = append(ids, op.OrderID)
		}
		if diff := cmp.Diff(toOrderIDs("l-0", "l-1", "l-2"), ids); diff != "" {
			t.Errorf("Attention(Limit 3).Operations mismatch (-want +got):\n%s", diff)
		}
	})
}

func testExchanges(t *testing.T, open func(t *testing.T) payment.Store) {
	x := func(id string, n int) payment.Exchange {
		return payment.Exchange{
			OrderID: vipps.OrderID(id), At: t0.Add(time.Duration(n) * time.Second), Op: "details", Method: "GET",
			Path: "/ecomm/v2/payments/" + id + "/details", StatusCode: 200, Duration: 1500 * time.Microsecond,
			RequestID: fmt.Sprintf("req-%d", n), Request: "", Response: fmt.Sprintf("{\n  \"n\": %d, \"æøå\": true\n}", n),
			Error: "",
		}
	}
	ignoreID := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())

	t.Run("a batch of more than keep, and keep 0", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("y-1"))
		mustCreate(t, s, newPayment("y-2"))
		var xs []payment.Exchange
		for n := range 5 {
			xs = append(xs, x("y-1", n+1))
		}
		if err := s.AddExchanges(t.Context(), append(xs, x("y-2", 9)), 2); err != nil {
			t.Fatalf("AddExchanges = %v", err)
		}
		got, err := s.Exchanges(t.Context(), "y-1")
		if err != nil {
			t.Fatalf("Exchanges(y-1) = %v", err)
		}
		if diff := cmp.Diff([]payment.Exchange{x("y-1", 5), x("y-1", 4)}, got, opts, ignoreID); diff != "" {
			t.Errorf("Exchanges(y-1) after 5 in one batch, keep 2 (-want +got):\n%s", diff)
		}
		if err := s.AddExchanges(t.Context(), []payment.Exchange{x("y-2", 10)}, 0); err != nil {
			t.Fatalf("AddExchanges keep 0 = %v", err)
		}
		if got, err := s.Exchanges(t.Context(), "y-2"); err != nil || len(got) != 0 {
			t.Errorf("Exchanges(y-2) after keep 0 = %d, %v; want none", len(got), err)
		}
		if got, err := s.Exchanges(t.Context(), "y-1"); err != nil || len(got) != 2 {
			t.Errorf("Exchanges(y-1) after another payment's keep 0 = %d, %v; want its 2", len(got), err)
		}
	})

	t.Run("newest first, kept to the newest", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("x-1"))
		mustCreate(t, s, newPayment("x-2"))
		failed := x("x-1", 1)
		failed.StatusCode, failed.Response, failed.Error = 0, "", "dial tcp: connection refused"
		if err := s.AddExchanges(t.Context(), []payment.Exchange{failed, x("x-1", 2), x("x-2", 3), x("unknown", 4)}, 3); err != nil {
			t.Fatalf("AddExchanges = %v", err)
		}
		if err := s.AddExchanges(t.Context(), []payment.Exchange{x("x-1", 5), x("x-1", 6)}, 3); err != nil {
			t.Fatalf("AddExchanges = %v", err)
		}
		got, err := s.Exchanges(t.Context(), "x-1")
		if err != nil {
			t.Fatalf("Exchanges(x-1) = %v", err)
		}
		if diff := cmp.Diff([]payment.Exchange{x("x-1", 6), x("x-1", 5), x("x-1", 2)}, got, opts, ignoreID); diff != "" {
			t.Errorf("Exchanges(x-1) mismatch (-want +got):\n%s", diff)
		}
		for i := 1; i < len(got); i++ {
			if got[i].ID >= got[i-1].ID || got[i].ID <= 0 {
				t.Errorf("Exchanges(x-1) IDs %d then %d, want positive and decreasing", got[i-1].ID, got[i].ID)
			}
		}
		got, err = s.Exchanges(t.Context(), "x-2")
		if err != nil || len(got) != 1 {
			t.Errorf("Exchanges(x-2) = %d, %v; want 1 (the other payment keeps its own)", len(got), err)
		}
		got, err = s.Exchanges(t.Context(), "unknown")
		if err != nil || len(got) != 0 {
			t.Errorf("Exchanges(unknown) = %v, %v; want none (not stored for an unknown payment)", got, err)
		}
	})

	t.Run("a failed exchange", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("x-1"))
		failed := x("x-1", 1)
		failed.StatusCode, failed.Response, failed.Error = 0, "", "dial tcp: connection refused"
		failed.Request = strings.Repeat("å", 100)
		if err := s.AddExchanges(t.Context(), []payment.Exchange{failed}, 50); err != nil {
			t.Fatalf("AddExchanges = %v", err)
		}
		got, err := s.Exchanges(t.Context(), "x-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]payment.Exchange{failed}, got, opts, ignoreID); diff != "" {
			t.Errorf("Exchanges(x-1) mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("x-1"))
		mustCreate(t, s, newPayment("x-2"))
		if err := s.AddExchanges(t.Context(), []payment.Exchange{x("x-1", 1), x("x-2", 2)}, 50); err != nil {
			t.Fatal(err)
		}
		for range 2 { // deleting none is no error
			if err := s.DeleteExchanges(t.Context(), "x-1"); err != nil {
				t.Fatalf("DeleteExchanges(x-1) = %v", err)
			}
		}
		if got, err := s.Exchanges(t.Context(), "x-1"); err != nil || len(got) != 0 {
			t.Errorf("Exchanges(x-1) after delete = %v, %v; want none", got, err)
		}
		if got, err := s.Exchanges(t.Context(), "x-2"); err != nil || len(got) != 1 {
			t.Errorf("Exchanges(x-2) after deleting x-1's = %d, %v; want 1", len(got), err)
		}
	})
}
