package payment_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// derived is what the facts of a log say: the state (Initiated or Created
// when they determine none) and the amounts.
func derived(d *vipps.PaymentDetails) (payment.State, payment.Amounts, bool) {
	b := payment.Derive(payment.FactsOf(d, time.Time{}), 20000)
	st := b.State
	switch {
	case st != "":
	case b.Initiated:
		st = payment.Initiated
	default:
		st = payment.Created
	}
	return st, b.Amounts, b.DirectCapture
}

func TestDerive(t *testing.T) {
	init := ok(vipps.OperationInitiate, 20000)
	a := func(auth, capt, refd, remCapt, remRefd vipps.Amount) payment.Amounts {
		return payment.Amounts{Authorized: auth, Captured: capt, Refunded: refd, RemainingToCapture: remCapt, RemainingToRefund: remRefd}
	}
	tests := []struct {
		name    string
		log     []vipps.LogEntry
		summary *vipps.TransactionSummary
		state   payment.State
		amounts payment.Amounts
		direct  bool
	}{
		{"empty log", nil, nil, payment.Created, a(20000, 0, 0, 0, 0), false},
		{"initiated", entries(init), nil, payment.Initiated, a(20000, 0, 0, 0, 0), false},
		{"reserved", entries(init, ok(vipps.OperationReserve, 20000)), nil, payment.Reserved, a(20000, 0, 0, 20000, 0), false},
		{"reserved with shipping added", entries(init, ok(vipps.OperationReserve, 20490)), nil, payment.Reserved, a(20490, 0, 0, 20490, 0), false},
		{"failed reserve is no reservation", entries(init, vipps.LogEntry{Operation: vipps.OperationReserve, Amount: 20000}), nil,
			payment.Failed, a(20000, 0, 0, 0, 0), false},
		{"failed sale", entries(init, vipps.LogEntry{Operation: vipps.OperationSale, Amount: 20000}), nil, payment.Failed, a(20000, 0, 0, 0, 0), false},
		{"reserved after a failed try", entries(init, vipps.LogEntry{Operation: vipps.OperationReserve, Amount: 20000}, ok(vipps.OperationReserve, 20000)), nil,
			payment.Reserved, a(20000, 0, 0, 20000, 0), false},
		{"cancelled before approval", entries(init, ok(vipps.OperationCancel, 20000)), nil, payment.Cancelled, a(20000, 0, 0, 0, 0), false},
		{"partly captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000)), nil,
			payment.Reserved, a(20000, 5000, 0, 15000, 5000), false},
		{"a failed capture counts for nothing", entries(init, ok(vipps.OperationReserve, 20000), vipps.LogEntry{Operation: vipps.OperationCapture, Amount: 5000}), nil,
			payment.Reserved, a(20000, 0, 0, 20000, 0), false},
		{"captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000), ok(vipps.OperationCapture, 15000)), nil,
			payment.Captured, a(20000, 20000, 0, 0, 20000), false},
		{"rest released after a partial capture", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 10000), ok(vipps.OperationVoid, 10000)), nil,
			payment.Captured, a(20000, 10000, 0, 0, 10000), false},
		{"partly refunded", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 20000), ok(vipps.OperationRefund, 5000)), nil,
			payment.Captured, a(20000, 20000, 5000, 0, 15000), false},
		{"what was captured is refunded, more can be captured", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 5000), ok(vipps.OperationRefund, 5000)), nil,
			payment.Reserved, a(20000, 5000, 5000, 15000, 0), false},
		{"refunded", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 20000), ok(vipps.OperationRefund, 20000)), nil,
			payment.Refunded, a(20000, 20000, 20000, 0, 0), false},
		{"voided", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationVoid, 20000)), nil, payment.Voided, a(20000, 0, 0, 0, 0), false},
		{"direct capture", entries(init, ok(vipps.OperationSale, 20000)), nil, payment.Captured, a(20000, 20000, 0, 0, 20000), true},
		// The summary is one answer's arithmetic; only log entries are facts.
		{"the summary counts for nothing", entries(init, ok(vipps.OperationReserve, 20000), ok(vipps.OperationCapture, 10000)),
			&vipps.TransactionSummary{CapturedAmount: 3000, RemainingAmountToCapture: 0, RemainingAmountToRefund: 3000},
			payment.Reserved, a(20000, 10000, 0, 10000, 10000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, am, direct := derived(&vipps.PaymentDetails{OrderID: "o-1", TransactionLogHistory: tt.log, TransactionSummary: tt.summary})
			if st != tt.state || direct != tt.direct {
				t.Errorf("Derive() state %s, direct %v; want %s, %v", st, direct, tt.state, tt.direct)
			}
			if diff := cmp.Diff(tt.amounts, am); diff != "" {
				t.Errorf("Derive() amounts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFactSame(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	base := payment.Fact{Operation: vipps.OperationCapture, Success: true, Amount: 500, TransactionID: "7001", RequestID: "r1", At: at}
	with := func(f func(*payment.Fact)) payment.Fact { g := base; f(&g); return g }
	tests := []struct {
		name string
		g    payment.Fact
		same bool
	}{
		{"identical", base, true},
		{"the answer has the request id only", with(func(g *payment.Fact) { g.TransactionID = "" }), true},
		{"the log has the transaction id only", with(func(g *payment.Fact) { g.RequestID = "" }), true},
		{"other request and transaction", with(func(g *payment.Fact) { g.RequestID, g.TransactionID = "r2", "7002" }), false},
		{"other operation", with(func(g *payment.Fact) { g.Operation = vipps.OperationRefund }), false},
		{"failed", with(func(g *payment.Fact) { g.Success = false }), false},
		{"no ids on either side, same time and amount", payment.Fact{Operation: vipps.OperationCapture, Success: true, Amount: 500, At: at}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Same(&tt.g); got != tt.same {
				t.Errorf("Same() = %v, want %v", got, tt.same)
			}
			if got := tt.g.Same(&base); got != tt.same {
				t.Errorf("Same() reversed = %v, want %v", got, tt.same)
			}
		})
	}
	anon := payment.Fact{Operation: vipps.OperationVoid, Success: true, Amount: 500, At: at}
	if other := anon; !anon.Same(&other) {
		t.Error("two id-less entries of one time and amount are not the same fact")
	}
	later := anon
	later.At = at.Add(time.Millisecond)
	if anon.Same(&later) {
		t.Error("id-less entries of other times are the same fact")
	}
	if k1, k2 := base.Key(), with(func(g *payment.Fact) { g.Success = false }).Key(); k1 == k2 {
		t.Errorf("Key() of a success and a failure are both %q", k1)
	}
}

// TestDeriveOnlyGrows adds a log's facts in the orders that answers can
// bring them in, and checks that no step lowers what was captured, refunded
// or released, and that the end is the same. Captures and refunds may be
// learned from their own answers, in any order once the reservation is
// known (the service sends nothing before); a release only from /details,
// which shows every capture before it.
func TestDeriveOnlyGrows(t *testing.T) {
	log := entries(ok(vipps.OperationInitiate, 20000), ok(vipps.OperationReserve, 20000),
		ok(vipps.OperationCapture, 3000), ok(vipps.OperationCapture, 4000), ok(vipps.OperationRefund, 1000),
		ok(vipps.OperationRefund, 2000), ok(vipps.OperationVoid, 13000))
	for i := range log {
		log[i].TransactionID = fmt.Sprint(7000 + i)
	}
	all := payment.FactsOf(&vipps.PaymentDetails{TransactionLogHistory: log}, time.Time{})
	want := payment.Derive(all, 20000)
	rng := rand.New(rand.NewPCG(1, 2))
	possible := func(order []int) bool {
		pos := make([]int, len(order))
		for p, i := range order {
			pos[i] = p
		}
		for i, f := range all {
			switch f.Operation {
			case vipps.OperationCapture, vipps.OperationRefund:
				if pos[i] < pos[1] {
					return false // before the reservation
				}
			case vipps.OperationVoid:
				if pos[i] < pos[2] || pos[i] < pos[3] {
					return false // before a capture
				}
			}
		}
		return true
	}
	for tries := 0; tries < 500; {
		order := rng.Perm(len(all))
		if !possible(order) {
			continue
		}
		tries++
		var (
			fs   []payment.Fact
			prev payment.Books
		)
		for _, i := range order {
			fs = append(fs, all[i])
			b := payment.Derive(fs, 20000)
			if b.Amounts.Captured < prev.Amounts.Captured || b.Amounts.Refunded < prev.Amounts.Refunded || b.Released < prev.Released {
				t.Fatalf("order %v: %+v after %+v: an amount went down", order, b, prev)
			}
			prev = b
		}
		if diff := cmp.Diff(want, prev); diff != "" {
			t.Fatalf("order %v: end mismatch (-want +got):\n%s", order, diff)
		}
	}
	if want.State != payment.Captured || want.Released != 13000 || want.Amounts.RemainingToRefund != 4000 {
		t.Errorf("Derive() = %+v, want captured, 13000 released, 4000 left to refund", want)
	}
}

// TestDeriveAgainstSimulator runs real flows and checks that what Derive
// makes of the simulator's details is what happened.
func TestDeriveAgainstSimulator(t *testing.T) {
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
			id := vipps.NewOrderID("derive")
			initiate(t, id, tt.amount)
			tt.act(t, id)
			d, err := c.Details(ctx, id)
			must(t, err)
			b := payment.Derive(payment.FactsOf(d, time.Now()), tt.amount)
			st := b.State
			if st == "" && b.Initiated {
				st = payment.Initiated
			}
			if st != tt.want {
				t.Errorf("Derive().State = %s, want %s", st, tt.want)
			}
			if diff := cmp.Diff(tt.amts, b.Amounts); diff != "" {
				t.Errorf("Derive().Amounts mismatch (-want +got):\n%s", diff)
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

func TestListFilterWords(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"  socks  Ola ", []string{"socks", "Ola"}},
		{"+47 91234567", []string{"91234567"}},
		{"+4791234567", []string{"91234567"}},
		{"0047 912 34 567", []string{"912", "34", "567"}},
		{"+47", nil},
		{"+47abc", []string{"+47abc"}},
		{"order-+47", []string{"order-+47"}},
	}
	for _, tt := range tests {
		got := payment.ListFilter{Query: tt.query}.Words()
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListFilter{Query: %q}.Words() = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestListFilterPatterns(t *testing.T) {
	got := payment.ListFilter{Query: `Æble 50% a_b c\d +47 912`}.Patterns()
	want := []string{`%æble%`, `%50\%%`, `%a\_b%`, `%c\\d%`, `%912%`}
	if !slices.Equal(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
}

// TestStaffMessageIn: staff read Vipps' errors in English as stored, in
// bokmål from Vipps' error code with Vipps' own words after it, and other
// errors as stored in either.
func TestStaffMessageIn(t *testing.T) {
	stored := &payment.VippsError{Op: "details", StatusCode: 500, Group: "VippsError", Code: "99",
		Message:      "Vipps reported an internal error; this is usually a malformed request. Check the request, then retry. (Vipps: Internal error.)",
		VippsMessage: "Internal error."}
	if got := stored.StaffMessageIn("en"); got != stored.Message {
		t.Errorf("StaffMessageIn(en) = %q, want the stored message", got)
	}
	if got, want := stored.StaffMessageIn("nb"), "Vipps meldte en intern feil; som regel er forespørselen feil utformet. Sjekk forespørselen, og prøv igjen. (Vipps: Internal error.)"; got != want {
		t.Errorf("StaffMessageIn(nb) = %q, want %q", got, want)
	}
	network := &payment.VippsError{Op: "details", Message: "dial tcp: connection refused"}
	if got := network.StaffMessageIn("nb"); got != network.Message {
		t.Errorf("StaffMessageIn(nb) of a network error = %q, want it as stored", got)
	}
	if got := (*payment.VippsError)(nil).StaffMessageIn("nb"); got != "" {
		t.Errorf("StaffMessageIn of no error = %q", got)
	}
}
