package payment_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// entries builds a log, newest first as Vipps sends it, from oldest-first
// operations.
func entries(ops ...vipps.LogEntry) []vipps.LogEntry {
	out := make([]vipps.LogEntry, len(ops))
	for i, e := range ops {
		out[len(ops)-1-i] = e
	}
	return out
}

func ok(op vipps.Operation, a vipps.Amount) vipps.LogEntry {
	return vipps.LogEntry{Operation: op, Amount: a, OperationSuccess: true}
}

func TestObserve(t *testing.T) {
	init := ok(vipps.OperationInitiate, 20000)
	tests := []struct {
		name    string
		log     []vipps.LogEntry
		summary *vipps.TransactionSummary
		want    payment.Observation
	}{
		{"empty log", nil, nil, payment.Observation{State: payment.Created}},
		{"initiated", entries(init), nil,
			payment.Observation{State: payment.Initiated, Amounts: payment.Amounts{Authorized: 20000}}},
		{"reserved", entries(init, ok(vipps.OperationReserve, 20000)), nil,
			payment.Observation{State: payment.Reserved, Amounts: payment.Amounts{Authorized: 20000, RemainingToCapture: 20000}}},
		{"failed reserve is no reservation", entries(init, vipps.LogEntry{Operation: vipps.OperationReserve, Amount: 20000}), nil,
			payment.Observation{State: payment.Failed, Reason: vipps.OperationReserve, Amounts: payment.Amounts{Authorized: 20000}}},
		{"failed sale", entries(init, vipps.LogEntry{Operation: vipps.OperationSale, Amount: 20000}), nil,
			payment.Observation{State: payment.Failed, Reason: vipps.OperationSale, Amounts: payment.Amounts{Authorized: 20000}}},
		{"cancelled before approval", entries(init, ok(vipps.OperationCancel, 20000)), nil,
			payment.Observation{State: payment.Cancelled, Reason: vipps.OperationCancel, Amounts: payment.Amounts{Authorized: 20000}}},
		{"partly captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000)), nil,
			payment.Observation{State: payment.Reserved, Amounts: payment.Amounts{Authorized: 20000, Captured: 5000, RemainingToCapture: 15000, RemainingToRefund: 5000}}},
		{"a failed capture counts for nothing", entries(init, ok(vipps.OperationReserve, 20000), vipps.LogEntry{Operation: vipps.OperationCapture, Amount: 5000}), nil,
			payment.Observation{State: payment.Reserved, Amounts: payment.Amounts{Authorized: 20000, RemainingToCapture: 20000}}},
		{"captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000), ok(vipps.OperationCapture, 15000)), nil,
			payment.Observation{State: payment.Captured, Amounts: payment.Amounts{Authorized: 20000, Captured: 20000, RemainingToRefund: 20000}}},
		{"rest released after a partial capture", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 10000), ok(vipps.OperationVoid, 10000)), nil,
			payment.Observation{State: payment.Captured, Amounts: payment.Amounts{Authorized: 20000, Captured: 10000, RemainingToRefund: 10000}}},
		{"partly refunded", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 20000), ok(vipps.OperationRefund, 5000)), nil,
			payment.Observation{State: payment.Captured, Amounts: payment.Amounts{Authorized: 20000, Captured: 20000, Refunded: 5000, RemainingToRefund: 15000}}},
		{"what was captured is refunded, more can be captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000), ok(vipps.OperationRefund, 5000)), nil,
			payment.Observation{State: payment.Reserved, Amounts: payment.Amounts{Authorized: 20000, Captured: 5000, Refunded: 5000, RemainingToCapture: 15000}}},
		{"refunded", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 20000), ok(vipps.OperationRefund, 20000)), nil,
			payment.Observation{State: payment.Refunded, Amounts: payment.Amounts{Authorized: 20000, Captured: 20000, Refunded: 20000}}},
		{"voided", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationVoid, 20000)), nil,
			payment.Observation{State: payment.Voided, Amounts: payment.Amounts{Authorized: 20000}}},
		{"direct capture", entries(init, ok(vipps.OperationSale, 20000)), nil,
			payment.Observation{State: payment.Captured, DirectCapture: true, Amounts: payment.Amounts{Authorized: 20000, Captured: 20000, RemainingToRefund: 20000}}},
		{"summary wins over the log", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 10000)),
			&vipps.TransactionSummary{CapturedAmount: 10000, RemainingAmountToCapture: 0, RemainingAmountToRefund: 10000},
			payment.Observation{State: payment.Captured, Amounts: payment.Amounts{Authorized: 20000, Captured: 10000, RemainingToRefund: 10000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := payment.Observe(&vipps.PaymentDetails{OrderID: "o-1", TransactionLogHistory: tt.log, TransactionSummary: tt.summary})
			if err != nil {
				t.Fatalf("Observe() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Observe() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObserveRefusesNonsense(t *testing.T) {
	init := ok(vipps.OperationInitiate, 20000)
	for name, d := range map[string]*vipps.PaymentDetails{
		"nil":                       nil,
		"no successful initiate":    {TransactionLogHistory: entries(vipps.LogEntry{Operation: vipps.OperationInitiate})},
		"refunded more than taken":  {TransactionLogHistory: entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 100), ok(vipps.OperationRefund, 200))},
		"captured more than booked": {TransactionLogHistory: entries(init, ok(vipps.OperationReserve, 100)), TransactionSummary: &vipps.TransactionSummary{CapturedAmount: 200}},
	} {
		if _, err := payment.Observe(d); err == nil {
			t.Errorf("Observe(%s) = nil error", name)
		}
	}
}

// TestObserveAgainstSimulator runs real flows and checks that what Observe
// makes of the simulator's details is what happened.
func TestObserveAgainstSimulator(t *testing.T) {
	srv := vippstest.NewServer(t)
	ctx := t.Context()
	c := srv.Client
	initiate := func(t *testing.T, id vipps.OrderID, amount vipps.Amount) {
		t.Helper()
		_, err := c.Initiate(ctx, vipps.InitiateRequest{
			MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/cb", FallBack: "https://shop.example/back"},
			Transaction:  vipps.InitiateTransaction{OrderID: id, Amount: amount, TransactionText: "socks"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		amount vipps.Amount
		act    func(t *testing.T, id vipps.OrderID)
		want   payment.State
		amts   payment.Amounts
	}{
		{"initiated", 20000, func(*testing.T, vipps.OrderID) {}, payment.Initiated, payment.Amounts{Authorized: 20000}},
		{"reserved", 20000, func(t *testing.T, id vipps.OrderID) { must(t, srv.Sim.Approve(id, "")) },
			payment.Reserved, payment.Amounts{Authorized: 20000, RemainingToCapture: 20000}},
		{"rejected", 20000, func(t *testing.T, id vipps.OrderID) { must(t, srv.Sim.Reject(id)) }, payment.Cancelled, payment.Amounts{Authorized: 20000}},
		{"timed out", 20000, func(t *testing.T, id vipps.OrderID) { must(t, srv.Sim.Expire(id)) }, payment.Cancelled, payment.Amounts{Authorized: 20000}},
		{"card refused", 182, func(t *testing.T, id vipps.OrderID) { must(t, srv.Sim.Approve(id, "")) }, payment.Failed, payment.Amounts{Authorized: 182}},
		{"voided", 20000, func(t *testing.T, id vipps.OrderID) {
			must(t, srv.Sim.Approve(id, ""))
			_, err := c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "out of stock"})
			must(t, err)
		}, payment.Voided, payment.Amounts{Authorized: 20000}},
		{"partly captured, rest released, refunded", 20000, func(t *testing.T, id vipps.OrderID) {
			must(t, srv.Sim.Approve(id, ""))
			_, err := c.Capture(ctx, id, vipps.CaptureRequest{Amount: 5000, TransactionText: "first"})
			must(t, err)
			_, err = c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "rest", ShouldReleaseRemainingFunds: true})
			must(t, err)
			_, err = c.Refund(ctx, id, vipps.CaptureRequest{TransactionText: "back"})
			must(t, err)
		}, payment.Refunded, payment.Amounts{Authorized: 20000, Captured: 5000, Refunded: 5000}},
		{"captured, partly refunded", 20000, func(t *testing.T, id vipps.OrderID) {
			must(t, srv.Sim.Approve(id, ""))
			_, err := c.Capture(ctx, id, vipps.CaptureRequest{TransactionText: "all"})
			must(t, err)
			_, err = c.Refund(ctx, id, vipps.CaptureRequest{Amount: 2000, TransactionText: "some"})
			must(t, err)
		}, payment.Captured, payment.Amounts{Authorized: 20000, Captured: 20000, Refunded: 2000, RemainingToRefund: 18000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := vipps.NewOrderID("observe")
			initiate(t, id, tt.amount)
			tt.act(t, id)
			d, err := c.Details(ctx, id)
			must(t, err)
			got, err := payment.Observe(d)
			must(t, err)
			if got.State != tt.want {
				t.Errorf("Observe().State = %s, want %s", got.State, tt.want)
			}
			if diff := cmp.Diff(tt.amts, got.Amounts); diff != "" {
				t.Errorf("Observe().Amounts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateFlags(t *testing.T) {
	for _, s := range []payment.State{payment.Created, payment.Initiated, payment.Reserved, payment.Captured, payment.Refunded, payment.Cancelled, payment.Voided, payment.Failed} {
		if !s.Valid() {
			t.Errorf("%s.Valid() = false", s)
		}
		if s.Final() && s.WaitingForCustomer() {
			t.Errorf("%s is both final and waiting", s)
		}
	}
	if payment.State("paid").Valid() {
		t.Error(`State("paid").Valid() = true`)
	}
}

func TestScheduleNext(t *testing.T) {
	sent := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := payment.DefaultSchedule
	at := func(d time.Duration) time.Time { return sent.Add(d) }
	tests := []struct {
		name   string
		st     payment.State
		now    time.Duration // after sent
		want   time.Duration // after sent
		noMore bool
	}{
		{"first check 5 s after the redirect", payment.Initiated, 0, 5 * time.Second, false},
		{"still before the first check", payment.Created, 3 * time.Second, 5 * time.Second, false},
		{"every 2 s while the customer can act", payment.Initiated, 5 * time.Second, 7 * time.Second, false},
		{"the last check lands on the deadline", payment.Initiated, 10*time.Minute - time.Second, 10 * time.Minute, false},
		{"right after the deadline: 2 s", payment.Initiated, 10 * time.Minute, 10*time.Minute + 2*time.Second, false},
		{"backing off: half the overdue time", payment.Initiated, 10*time.Minute + 10*time.Second, 10*time.Minute + 15*time.Second, false},
		{"capped at a minute", payment.Initiated, 20 * time.Minute, 21 * time.Minute, false},
		{"reserved: the merchant acts, no polling", payment.Reserved, time.Minute, 0, true},
		{"final: no polling", payment.Cancelled, time.Minute, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Next(tt.st, sent, at(tt.now))
			if ok == tt.noMore {
				t.Fatalf("Next(%s, +%v) ok = %v, want %v", tt.st, tt.now, ok, !tt.noMore)
			}
			if ok && !got.Equal(at(tt.want)) {
				t.Errorf("Next(%s, +%v) = +%v, want +%v", tt.st, tt.now, got.Sub(sent), tt.want)
			}
		})
	}
	if d := (payment.Schedule{}).Deadline(sent); !d.Equal(at(10 * time.Minute)) {
		t.Errorf("zero Schedule Deadline = %v, want sent+10m", d)
	}
}

// TestScheduleCountsChecks checks the guidelines' budget: a payment that
// waits the full 10 minutes costs at most one check per 2 s (about 300),
// well under Vipps' 120 details calls per minute per orderId, and the
// schedule never stops for a waiting payment.
func TestScheduleCountsChecks(t *testing.T) {
	sent := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	now, checks := sent, 0
	perMinute := map[int64]int{}
	for now.Before(sent.Add(time.Hour)) {
		next, ok := payment.DefaultSchedule.Next(payment.Initiated, sent, now)
		if !ok || !next.After(now) {
			t.Fatalf("Next at +%v = %v, %v; want a later check", now.Sub(sent), next, ok)
		}
		now = next
		checks++
		perMinute[int64(now.Sub(sent)/time.Minute)]++
	}
	for m, n := range perMinute {
		if n > 31 {
			t.Errorf("minute %d has %d checks; want at most 31", m, n)
		}
	}
	if checks > 400 {
		t.Errorf("an hour of waiting costs %d checks; want at most 400", checks)
	}
}
