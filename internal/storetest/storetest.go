package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Run runs the conformance suite against the stores that open returns. open
// must return a fresh, empty store each time it is called; Run calls it once
// per subtest and leaves closing the store to open (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("Create", func(t *testing.T) { testCreate(t, open) })
	t.Run("Get", func(t *testing.T) { testGet(t, open) })
	t.Run("TokenHash", func(t *testing.T) { testTokenHash(t, open) })
	t.Run("Attempts", func(t *testing.T) { testAttempts(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, open) })
	t.Run("Facts", func(t *testing.T) { testFacts(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("Lease", func(t *testing.T) { testLease(t, open) })
	t.Run("Operations", func(t *testing.T) { testOperations(t, open) })
	t.Run("AddOperation schedules a check", func(t *testing.T) { testAddOperationCheck(t, open) })
	t.Run("List", func(t *testing.T) { testList(t, open) })
	t.Run("ByUser", func(t *testing.T) { testByUser(t, open) })
	t.Run("ConsentRemovals", func(t *testing.T) { testConsentRemovals(t, open) })
	t.Run("Stats", func(t *testing.T) { testStats(t, open) })
	t.Run("Tasks", func(t *testing.T) { testTasks(t, open) })
	t.Run("LeaseTasks", func(t *testing.T) { testLeaseTasks(t, open) })
	t.Run("UpdateTask", func(t *testing.T) { testUpdateTask(t, open) })
	t.Run("RetryTask", func(t *testing.T) { testRetryTask(t, open) })
	t.Run("Attention", func(t *testing.T) { testAttention(t, open) })
	t.Run("Exchanges", func(t *testing.T) { testExchanges(t, open) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, open) })
	t.Run("GetPending", func(t *testing.T) { testGetPending(t, open) })
}

// t0 is the suite's clock: a fixed instant with nanoseconds, so that stores
// that round to microseconds are caught by the comparisons' margin and
// nothing else.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// oslo is a zone that is not UTC, to check that instants survive.
var oslo = time.FixedZone("CET", 3600)

// opts compares records as the stores may return them.
var opts = cmp.Options{
	cmpopts.EquateApproxTime(time.Microsecond),
	cmp.Comparer(equalJSON),
	cmp.Comparer(equalMicros),
}

// equalMicros compares durations (of task attempts) as stores keep them:
// to the microsecond.
func equalMicros(a, b time.Duration) bool {
	d := a - b
	return d > -time.Microsecond && d < time.Microsecond
}

// equalJSON compares JSON by value; empty equals empty.
func equalJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == 0 && len(b) == 0
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(va, vb)
}

// ignoreSeq leaves out the store-assigned Seq; the tests check it apart.
var ignoreSeq = cmpopts.IgnoreFields(payment.Event{}, "Seq")

// newPayment returns a minimal payment: every optional field zero or nil.
func newPayment(id string) *payment.Payment {
	return &payment.Payment{
		OrderID:   vipps.OrderID(id),
		MSN:       "123456",
		Kind:      payment.Regular,
		Text:      "Order " + id,
		State:     payment.Created,
		Amounts:   payment.Amounts{Authorized: 1000},
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

// fullPayment returns a payment with every field set.
func fullPayment(id string) *payment.Payment {
	return &payment.Payment{
		OrderID:       vipps.OrderID(id),
		ShopRef:       "shop-" + id,
		Attempt:       2,
		MSN:           "654321",
		Kind:          payment.Express,
		Text:          "Two mugs, æøå",
		Phone:         "91234567",
		ReturnURL:     "https://shop.example/return?order=" + id,
		AuthTokenHash: "sha256:0123456789abcdef",
		VippsURL:      "https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=x",
		State:         payment.Reserved,
		Amounts: payment.Amounts{
			Authorized:         25000,
			Captured:           10000,
			Refunded:           2500,
			RemainingToCapture: 15000,
			RemainingToRefund:  7500,
		},
		OrderURL: "https://shop.example/orders/" + id,
		Receipt:  fullReceipt(),
		UserID:   "user-42",
		Shipping: json.RawMessage(`{"address":{"city":"Oslo","postCode":"0150"},"shippingCost":49.5,"shippingMethodId":"posten"}`),
		LastError: &payment.VippsError{
			Op:         "capture",
			StatusCode: 400,
			Group:      "Merchant",
			Code:       "61",
			Message:    "Captured amount exceeds the reserved amount",
			ContextID:  "ctx-1",
			At:         t0.Add(3 * time.Minute),
		},
		CheckFailures:    4,
		CheckFailedSince: t0.Add(2 * time.Minute),
		CheckError:       "Vipps answered 503: try again later",
		CreatedAt:        t0,
		UpdatedAt:        t0.Add(5 * time.Minute),
		SentAt:           t0.Add(time.Minute),
		NextCheckAt:      t0.Add(10 * time.Minute),
		LeaseOwner:       "replica-1",
		LeaseUntil:       t0.Add(6 * time.Minute),
	}
}

// fullReceipt returns a receipt with every field set somewhere.
func fullReceipt() *vipps.Receipt {
	return &vipps.Receipt{
		OrderLines: []vipps.OrderLine{
			{
				Name: "Mug, blå", ID: "mug-1", TotalAmount: 20000, TotalAmountExcludingTax: 16000,
				TotalTaxAmount: 4000, TaxPercentage: 25,
				UnitInfo:   &vipps.UnitInfo{UnitPrice: 10000, Quantity: "2", QuantityUnit: "PCS"},
				Discount:   500,
				ProductURL: "https://shop.example/mug",
			},
			{Name: "Returned mug", ID: "mug-2", TotalAmount: -10000, TotalAmountExcludingTax: -8000,
				TotalTaxAmount: -2000, TaxPercentage: 25, IsReturn: true},
			{Name: "Posten", ID: "ship", TotalAmount: 4950, TotalAmountExcludingTax: 3960,
				TotalTaxAmount: 990, TaxPercentage: 25, IsShipping: true},
		},
		BottomLine: vipps.BottomLine{
			Currency:       "NOK",
			TipAmount:      1000,
			PosID:          "pos-1",
			ReceiptNumber:  "R-0042",
			PaymentSources: &vipps.PaymentSources{GiftCard: 1000, Card: 13950},
			Barcode:        &vipps.Barcode{Format: "EAN-13", Data: "5901234123457"},
		},
	}
}

func event(id string, typ payment.EventType, at time.Time) payment.Event {
	return payment.Event{OrderID: vipps.OrderID(id), Type: typ, State: payment.Created, At: at}
}

func mustCreate(t *testing.T, s payment.Store, p *payment.Payment, events ...payment.Event) {
	t.Helper()
	if err := s.Create(t.Context(), p, events...); err != nil {
		t.Fatalf("Create(%s) = %v, want nil", p.OrderID, err)
	}
}

func mustGet(t *testing.T, s payment.Store, id vipps.OrderID) *payment.Payment {
	t.Helper()
	p, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v, want nil", id, err)
	}
	return p
}

func mustEvents(t *testing.T, s payment.Store, id vipps.OrderID) []payment.Event {
	t.Helper()
	evs, err := s.Events(t.Context(), id)
	if err != nil {
		t.Fatalf("Events(%s) = %v, want nil", id, err)
	}
	return evs
}

// checkEvents compares a payment's history and checks that Seq increases.
func checkEvents(t *testing.T, s payment.Store, id vipps.OrderID, want []payment.Event) []payment.Event {
	t.Helper()
	got := mustEvents(t, s, id)
	if len(got) == 0 && len(want) == 0 {
		return got
	}
	if diff := cmp.Diff(want, got, opts, ignoreSeq); diff != "" {
		t.Errorf("Events(%s) mismatch (-want +got):\n%s", id, diff)
	}
	checkSeq(t, got)
	return got
}

func checkSeq(t *testing.T, evs []payment.Event) {
	t.Helper()
	for i, e := range evs {
		if e.Seq <= 0 {
			t.Errorf("event %d (%s): Seq = %d, want > 0", i, e.Type, e.Seq)
		}
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Errorf("event %d (%s): Seq = %d, want > %d", i, e.Type, e.Seq, evs[i-1].Seq)
		}
	}
}

func testCreate(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("sets version 1", func(t *testing.T) {
		s := open(t)
		p := newPayment("acme-1")
		p.Version = 7 // ignored: a new payment starts at 1
		mustCreate(t, s, p)
		if p.Version != 1 {
			t.Errorf("Create: p.Version = %d, want 1", p.Version)
		}
		if got := mustGet(t, s, p.OrderID); got.Version != 1 {
			t.Errorf("Get after Create: Version = %d, want 1", got.Version)
		}
	})

	tests := []struct {
		name   string
		events []payment.Event
	}{
		{"no events", nil},
		{"one event", []payment.Event{event("acme-1", payment.EventCreated, t0)}},
		{"events in order", []payment.Event{
			event("acme-1", payment.EventCreated, t0),
			{OrderID: "acme-1", Type: payment.EventInitiated, State: payment.Initiated, Amount: 1000,
				Data: json.RawMessage(`{"url":"https://x"}`), At: t0.Add(time.Second)},
			event("acme-1", payment.EventVippsError, t0.Add(2*time.Second)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			mustCreate(t, s, newPayment("acme-1"), tt.events...)
			checkEvents(t, s, "acme-1", tt.events)
		})
	}

	t.Run("a new attempt changes the others", func(t *testing.T) {
		s := open(t)
		first := newPayment("acme-1")
		first.ShopRef = "order-1"
		mustCreate(t, s, first)
		other := newPayment("other-1")
		other.ShopRef = "order-2"
		mustCreate(t, s, other)
		stale := mustGet(t, s, "acme-1")
		second := newPayment("acme-1-1")
		second.ShopRef, second.Attempt = "order-1", 1
		mustCreate(t, s, second)
		if got := mustGet(t, s, "acme-1"); got.Version != stale.Version+1 {
			t.Errorf("first attempt's version %d after a second, want %d", got.Version, stale.Version+1)
		}
		if err := s.Update(t.Context(), stale); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("Update(read before the new attempt) = %v, want ErrConflict", err)
		}
		if got := mustGet(t, s, "other-1"); got.Version != 1 {
			t.Errorf("another order's version %d, want 1", got.Version)
		}
	})

	t.Run("taken orderId", func(t *testing.T) {
		s := open(t)
		first := newPayment("acme-1")
		firstEvents := []payment.Event{event("acme-1", payment.EventCreated, t0)}
		mustCreate(t, s, first, firstEvents...)

		second := fullPayment("acme-1")
		err := s.Create(t.Context(), second, event("acme-1", payment.EventFailed, t0.Add(time.Hour)))
		if !errors.Is(err, payment.ErrExists) {
			t.Fatalf("Create(taken orderId) = %v, want ErrExists", err)
		}
		if diff := cmp.Diff(first, mustGet(t, s, "acme-1"), opts); diff != "" {
			t.Errorf("Get after failed Create mismatch (-want +got):\n%s", diff)
		}
		checkEvents(t, s, "acme-1", firstEvents)
	})
}

func testGet(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("unknown", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		p, err := s.Get(t.Context(), "acme-2")
		if !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("Get(unknown) = %v, %v, want nil, ErrNotFound", p, err)
		}
	})

	inOslo := fullPayment("acme-3")
	for _, tm := range []*time.Time{&inOslo.CreatedAt, &inOslo.UpdatedAt, &inOslo.SentAt,
		&inOslo.NextCheckAt, &inOslo.LeaseUntil, &inOslo.LastError.At} {
		*tm = tm.In(oslo)
	}
	errOnly := newPayment("acme-4")
	errOnly.LastError = &payment.VippsError{Op: "initiate", Message: "timeout"} // zero At, no status
	emptyJSON := newPayment("acme-5")
	emptyJSON.Shipping = json.RawMessage(`{}`)
	big := fullPayment("acme-6")
	big.Amounts = payment.Amounts{Authorized: 1 << 40, RemainingToCapture: 1 << 40}
	big.Attempt = 1000
	emptyReceipt := newPayment("acme-7")
	emptyReceipt.Receipt = &vipps.Receipt{} // not nil: the shop sent one, with no lines
	emptyReceipt.OrderURL = "https://shop.example/o?id=7&x=%20"

	tests := []struct {
		name string
		p    *payment.Payment
	}{
		{"zero optional fields", newPayment("acme-1")},
		{"every field set", fullPayment("acme-2")},
		{"times not in UTC", inOslo},
		{"error with zero fields", errOnly},
		{"empty JSON object", emptyJSON},
		{"large amounts", big},
		{"empty receipt", emptyReceipt},
	}
	for _, tt := range tests {
		t.Run("round trip/"+tt.name, func(t *testing.T) {
			s := open(t)
			want := *tt.p
			want.Version = 1
			mustCreate(t, s, tt.p)
			got := mustGet(t, s, tt.p.OrderID)
			if diff := cmp.Diff(&want, got, opts); diff != "" {
				t.Errorf("Get(%s) mismatch (-want +got):\n%s", tt.p.OrderID, diff)
			}
			if got.LastError == nil != (want.LastError == nil) {
				t.Errorf("Get(%s).LastError = %v, want %v", tt.p.OrderID, got.LastError, want.LastError)
			}
			if got.Receipt == nil != (want.Receipt == nil) {
				t.Errorf("Get(%s).Receipt = %v, want %v", tt.p.OrderID, got.Receipt, want.Receipt)
			}
			zeros := []struct {
				name      string
				got, want time.Time
			}{
				{"SentAt", got.SentAt, want.SentAt},
				{"NextCheckAt", got.NextCheckAt, want.NextCheckAt},
				{"LeaseUntil", got.LeaseUntil, want.LeaseUntil},
			}
			for _, z := range zeros {
				if z.got.IsZero() != z.want.IsZero() {
					t.Errorf("Get(%s).%s = %v, want %v", tt.p.OrderID, z.name, z.got, z.want)
				}
			}

		})
	}
}

func testTokenHash(t *testing.T, open func(t *testing.T) payment.Store) {
	s := open(t)
	mustCreate(t, s, fullPayment("with-token"))
	mustCreate(t, s, newPayment("without-token"))
	tests := []struct {
		id      vipps.OrderID
		want    string
		wantErr error
	}{
		{"with-token", "sha256:0123456789abcdef", nil},
		{"without-token", "", nil},
		{"unknown", "", payment.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := s.TokenHash(t.Context(), tt.id)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("TokenHash(%s) = %q, %v; want %q, %v", tt.id, got, err, tt.want, tt.wantErr)
		}
	}
}

func testAttempts(t *testing.T, open func(t *testing.T) payment.Store) {
	s := open(t)
	mk := func(id, ref string, attempt int) *payment.Payment {
		p := newPayment(id)
		p.ShopRef, p.Attempt = ref, attempt
		return p
	}
	// Stored out of order, and named out of order, so that neither order
	// passes for the attempts' order.
	for _, p := range []*payment.Payment{
		mk("o1-b", "order-1", 2),
		mk("o2-a", "order-2", 0),
		mk("o1-a", "order-1", 1),
		mk("o1-c", "order-1", 0),
		mk("none", "", 0),
	} {
		mustCreate(t, s, p)
	}
	tests := []struct {
		ref  string
		want []vipps.OrderID
	}{
		{"order-1", []vipps.OrderID{"o1-c", "o1-a", "o1-b"}},
		{"order-2", []vipps.OrderID{"o2-a"}},
		{"order-3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ps, err := s.Attempts(t.Context(), tt.ref)
			if err != nil {
				t.Fatalf("Attempts(%s) = %v, want nil", tt.ref, err)
			}
			var got []vipps.OrderID
			for i, p := range ps {
				got = append(got, p.OrderID)
				if diff := cmp.Diff(mustGet(t, s, p.OrderID), p, opts); diff != "" {
					t.Errorf("Attempts(%s)[%d] differs from Get (-get +attempts):\n%s", tt.ref, i, diff)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Attempts(%s) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func testUpdate(t *testing.T, open func(t *testing.T) payment.Store) {
	created := event("acme-1", payment.EventCreated, t0)

	tests := []struct {
		name   string
		start  func() *payment.Payment
		change func(p *payment.Payment)
		events []payment.Event
	}{
		{
			name:  "set fields",
			start: func() *payment.Payment { return newPayment("acme-1") },
			change: func(p *payment.Payment) {
				q := fullPayment("acme-1")
				q.Version = p.Version
				*p = *q
			},
			events: []payment.Event{
				{OrderID: "acme-1", Type: payment.EventReserved, State: payment.Reserved, Amount: 25000, At: t0.Add(time.Minute)},
				{OrderID: "acme-1", Type: payment.EventCaptured, State: payment.Reserved, Amount: 10000,
					Data: json.RawMessage(`{"requestId":"r-1"}`), At: t0.Add(2 * time.Minute)},
			},
		},
		{
			name:  "clear fields",
			start: func() *payment.Payment { return fullPayment("acme-1") },
			change: func(p *payment.Payment) {
				p.LastError = nil
				p.Shipping = nil
				p.Receipt = nil
				p.OrderURL = ""
				p.UserID = ""
				p.NextCheckAt = time.Time{}
				p.LeaseOwner, p.LeaseUntil = "", time.Time{}
				p.SentAt = time.Time{}
				p.State = payment.Cancelled
				p.UpdatedAt = t0.Add(time.Hour)
			},
			events: []payment.Event{{OrderID: "acme-1", Type: payment.EventConsentRemoved, State: payment.Reserved, At: t0.Add(time.Hour)}},
		},
		{
			name:   "no events",
			start:  func() *payment.Payment { return newPayment("acme-1") },
			change: func(p *payment.Payment) { p.State = payment.Initiated; p.VippsURL = "https://x" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			mustCreate(t, s, tt.start(), created)
			p := mustGet(t, s, "acme-1")
			tt.change(p)
			if err := s.Update(t.Context(), p, tt.events...); err != nil {
				t.Fatalf("Update = %v, want nil", err)
			}
			if p.Version != 2 {
				t.Errorf("Update: p.Version = %d, want 2", p.Version)
			}
			if diff := cmp.Diff(p, mustGet(t, s, "acme-1"), opts); diff != "" {
				t.Errorf("Get after Update mismatch (-want +got):\n%s", diff)
			}
			checkEvents(t, s, "acme-1", append([]payment.Event{created}, tt.events...))
		})
	}

	t.Run("versions increase", func(t *testing.T) {
		s := open(t)
		p := newPayment("acme-1")
		mustCreate(t, s, p)
		for want := int64(2); want <= 4; want++ {
			p.Text = fmt.Sprintf("v%d", want)
			if err := s.Update(t.Context(), p); err != nil {
				t.Fatalf("Update #%d = %v, want nil", want-1, err)
			}
			if p.Version != want {
				t.Errorf("Update #%d: p.Version = %d, want %d", want-1, p.Version, want)
			}
		}
		if got := mustGet(t, s, "acme-1"); got.Version != 4 || got.Text != "v4" {
			t.Errorf("Get = version %d, text %q, want 4, %q", got.Version, got.Text, "v4")
		}
	})

	t.Run("stale version", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"), created)
		a := mustGet(t, s, "acme-1")
		b := mustGet(t, s, "acme-1")

		a.State = payment.Initiated
		aEvent := event("acme-1", payment.EventInitiated, t0.Add(time.Second))
		if err := s.Update(t.Context(), a, aEvent); err != nil {
			t.Fatalf("Update(a) = %v, want nil", err)
		}

		b.State = payment.Failed
		b.Text = "stale"
		err := s.Update(t.Context(), b, event("acme-1", payment.EventFailed, t0.Add(2*time.Second)))
		if !errors.Is(err, payment.ErrConflict) {
			t.Fatalf("Update(stale) = %v, want ErrConflict", err)
		}
		if b.Version != 1 {
			t.Errorf("Update(stale): b.Version = %d, want 1 (unchanged)", b.Version)
		}
		if diff := cmp.Diff(a, mustGet(t, s, "acme-1"), opts); diff != "" {
			t.Errorf("Get after stale Update mismatch (-want +got):\n%s", diff)
		}
		checkEvents(t, s, "acme-1", []payment.Event{created, aEvent})
	})

	t.Run("version ahead", func(t *testing.T) {
		s := open(t)
		p := newPayment("acme-1")
		mustCreate(t, s, p)
		p.Version = 5
		if err := s.Update(t.Context(), p); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("Update(version 5 of 1) = %v, want ErrConflict", err)
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		// Each writer reads, adds one øre and retries on ErrConflict: no
		// increment may be lost, and each has its event.
		const writers, increments = 4, 10
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range increments {
					for try := 0; ; try++ {
						if try == 1000 {
							t.Errorf("writer %d: increment %d: still conflicting after %d tries", w, i, try)
							return
						}
						p, err := s.Get(t.Context(), "acme-1")
						if err != nil {
							t.Errorf("writer %d: Get = %v", w, err)
							return
						}
						p.Amounts.Captured++
						err = s.Update(t.Context(), p, event("acme-1", payment.EventCaptured, t0))
						if errors.Is(err, payment.ErrConflict) {
							continue
						}
						if err != nil {
							t.Errorf("writer %d: Update = %v, want nil or ErrConflict", w, err)
							return
						}
						break
					}
				}
			})
		}
		wg.Wait()
		p := mustGet(t, s, "acme-1")
		if p.Amounts.Captured != writers*increments || p.Version != 1+writers*increments {
			t.Errorf("after concurrent updates: Captured = %d, Version = %d, want %d, %d",
				p.Amounts.Captured, p.Version, writers*increments, 1+writers*increments)
		}
		evs := mustEvents(t, s, "acme-1")
		if len(evs) != writers*increments {
			t.Errorf("after concurrent updates: %d events, want %d", len(evs), writers*increments)
		}
		checkSeq(t, evs)
	})

	t.Run("unknown payment", func(t *testing.T) {
		s := open(t)
		p := newPayment("acme-1")
		p.Version = 1
		err := s.Update(t.Context(), p, event("acme-1", payment.EventInitiated, t0))
		if !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("Update(unknown) = %v, want ErrNotFound", err)
		}
		if evs, _ := s.Events(t.Context(), "acme-1"); len(evs) != 0 {
			t.Errorf("Events after Update(unknown) = %d events, want none", len(evs))
		}
	})
}

func testEvents(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("oldest first, Seq across payments", func(t *testing.T) {
		s := open(t)
		a, b := newPayment("a"), newPayment("b")
		a1 := event("a", payment.EventCreated, t0)
		b1 := event("b", payment.EventCreated, t0)
		a2 := event("a", payment.EventInitiated, t0.Add(time.Second))
		a3 := payment.Event{OrderID: "a", Type: payment.EventReserved, State: payment.Reserved, Amount: 1000,
			Data: json.RawMessage(`{"n":[1,2,3],"s":"x"}`), At: t0.Add(2 * time.Second).In(oslo)}
		b2 := event("b", payment.EventCancelled, t0.Add(3*time.Second))
		mustCreate(t, s, a, a1)
		mustCreate(t, s, b, b1)
		if err := s.Update(t.Context(), a, a2, a3); err != nil {
			t.Fatalf("Update(a) = %v", err)
		}
		if err := s.Update(t.Context(), b, b2); err != nil {
			t.Fatalf("Update(b) = %v", err)
		}
		ga := checkEvents(t, s, "a", []payment.Event{a1, a2, a3})
		gb := checkEvents(t, s, "b", []payment.Event{b1, b2})
		if len(ga) != 3 || len(gb) != 2 {
			t.FailNow()
		}
		// Stored in the order a1 b1 a2 a3 b2.
		all := []payment.Event{ga[0], gb[0], ga[1], ga[2], gb[1]}
		checkSeq(t, all)
	})

	t.Run("unknown payment", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("a"), event("a", payment.EventCreated, t0))
		evs, err := s.Events(t.Context(), "b")
		if len(evs) != 0 || (err != nil && !errors.Is(err, payment.ErrNotFound)) {
			t.Errorf("Events(unknown) = %v, %v, want none", evs, err)
		}
	})
}

// leaseFixture is a payment in a given lease situation at t0.
type leaseFixture struct {
	id          string
	nextCheckAt time.Time
	owner       string
	until       time.Time
	due         bool // whether Lease at t0 may take it
}

var leaseFixtures = []leaseFixture{
	{id: "overdue", nextCheckAt: t0.Add(-time.Hour), due: true},
	{id: "due-now", nextCheckAt: t0, due: true},
	{id: "due-in-oslo", nextCheckAt: t0.Add(-time.Second).In(oslo), due: true},
	{id: "future", nextCheckAt: t0.Add(time.Second)},
	{id: "never", nextCheckAt: time.Time{}},
	{id: "never-old-lease", owner: "gone", until: t0.Add(-time.Hour)},
	{id: "leased", nextCheckAt: t0.Add(-time.Minute), owner: "other", until: t0.Add(time.Second)},
	{id: "lease-expired", nextCheckAt: t0.Add(-time.Minute), owner: "other", until: t0.Add(-time.Second), due: true},
}

func createFixtures(t *testing.T, s payment.Store, fs []leaseFixture) map[vipps.OrderID]*payment.Payment {
	t.Helper()
	m := make(map[vipps.OrderID]*payment.Payment)
	for _, f := range fs {
		p := newPayment(f.id)
		p.NextCheckAt, p.LeaseOwner, p.LeaseUntil = f.nextCheckAt, f.owner, f.until
		mustCreate(t, s, p)
		m[p.OrderID] = mustGet(t, s, p.OrderID)
	}
	return m
}

func mustLease(t *testing.T, s payment.Store, owner string, now time.Time, ttl time.Duration, limit int) []*payment.Payment {
	t.Helper()
	ps, err := s.Lease(t.Context(), owner, now, ttl, limit)
	if err != nil {
		t.Fatalf("Lease(%s, %v, %v, %d) = %v, want nil", owner, now, ttl, limit, err)
	}
	return ps
}

func ids(ps []*payment.Payment) []vipps.OrderID {
	out := make([]vipps.OrderID, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.OrderID)
	}
	slices.Sort(out)
	return out
}

func sortedIDs(ss ...string) []vipps.OrderID {
	out := make([]vipps.OrderID, 0, len(ss))
	for _, s := range ss {
		out = append(out, vipps.OrderID(s))
	}
	slices.Sort(out)
	return out
}

func testLease(t *testing.T, open func(t *testing.T) payment.Store) {
	const ttl = 30 * time.Second

	t.Run("due and free only", func(t *testing.T) {
		s := open(t)
		before := createFixtures(t, s, leaseFixtures)
		got := mustLease(t, s, "me", t0, ttl, 100)
		var want []string
		for _, f := range leaseFixtures {
			if f.due {
				want = append(want, f.id)
			}
		}
		if diff := cmp.Diff(sortedIDs(want...), ids(got)); diff != "" {
			t.Errorf("Lease(me, t0) mismatch (-want +got):\n%s", diff)
		}
		for _, p := range got {
			if p.LeaseOwner != "me" || cmp.Diff(t0.Add(ttl), p.LeaseUntil, opts) != "" {
				t.Errorf("Lease: %s leased to %q until %v, want %q until %v", p.OrderID, p.LeaseOwner, p.LeaseUntil, "me", t0.Add(ttl))
			}
			if diff := cmp.Diff(p, mustGet(t, s, p.OrderID), opts); diff != "" {
				t.Errorf("Get(%s) after Lease differs from what Lease returned (-lease +get):\n%s", p.OrderID, diff)
			}
			// Apart from the lease (and perhaps the version), the payment is
			// as it was.
			want := *before[p.OrderID]
			want.LeaseOwner, want.LeaseUntil, want.Version = p.LeaseOwner, p.LeaseUntil, p.Version
			if diff := cmp.Diff(&want, p, opts); diff != "" {
				t.Errorf("Lease changed %s beyond the lease (-before +after):\n%s", p.OrderID, diff)
			}
		}
		for _, f := range leaseFixtures {
			if f.due {
				continue
			}
			if diff := cmp.Diff(before[vipps.OrderID(f.id)], mustGet(t, s, vipps.OrderID(f.id)), opts); diff != "" {
				t.Errorf("Lease changed %s, which it did not take (-before +after):\n%s", f.id, diff)
			}
		}
	})

	t.Run("empty store", func(t *testing.T) {
		s := open(t)
		if got := mustLease(t, s, "me", t0, ttl, 10); len(got) != 0 {
			t.Errorf("Lease(empty store) = %v, want none", ids(got))
		}
	})

	t.Run("limit and second owner", func(t *testing.T) {
		s := open(t)
		var fs []leaseFixture
		for i := range 5 {
			fs = append(fs, leaseFixture{id: fmt.Sprintf("p%d", i), nextCheckAt: t0.Add(-time.Duration(i) * time.Minute)})
		}
		createFixtures(t, s, fs)
		first := mustLease(t, s, "a", t0, ttl, 2)
		if len(first) != 2 {
			t.Fatalf("Lease(a, limit 2) = %v, want 2 payments", ids(first))
		}
		second := mustLease(t, s, "b", t0.Add(time.Second), ttl, 10)
		if len(second) != 3 {
			t.Fatalf("Lease(b, limit 10) = %v, want the other 3", ids(second))
		}
		for _, id := range ids(second) {
			if slices.Contains(ids(first), id) {
				t.Errorf("Lease(b) took %s, leased to a", id)
			}
		}
		if got := mustLease(t, s, "c", t0.Add(2*time.Second), ttl, 10); len(got) != 0 {
			t.Errorf("Lease(c) = %v, want none: all leased", ids(got))
		}
	})

	t.Run("after expiry", func(t *testing.T) {
		s := open(t)
		createFixtures(t, s, []leaseFixture{
			{id: "p1", nextCheckAt: t0.Add(-time.Minute)},
			{id: "p2", nextCheckAt: t0.Add(-time.Minute)},
		})
		first := mustLease(t, s, "a", t0, ttl, 10)
		if len(first) != 2 {
			t.Fatalf("Lease(a) = %v, want 2 payments", ids(first))
		}
		if got := mustLease(t, s, "b", t0.Add(ttl-time.Second), ttl, 10); len(got) != 0 {
			t.Errorf("Lease(b) before expiry = %v, want none", ids(got))
		}
		got := mustLease(t, s, "b", t0.Add(ttl+time.Second), ttl, 10)
		if diff := cmp.Diff(ids(first), ids(got)); diff != "" {
			t.Errorf("Lease(b) after expiry mismatch (-want +got):\n%s", diff)
		}
		for _, p := range got {
			if p.LeaseOwner != "b" {
				t.Errorf("Lease(b): %s leased to %q, want b", p.OrderID, p.LeaseOwner)
			}
		}
	})

	t.Run("update after lease", func(t *testing.T) {
		s := open(t)
		createFixtures(t, s, []leaseFixture{{id: "p1", nextCheckAt: t0.Add(-time.Minute)}})
		got := mustLease(t, s, "a", t0, ttl, 10)
		if len(got) != 1 {
			t.Fatalf("Lease(a) = %v, want p1", ids(got))
		}
		p := got[0]
		p.State = payment.Cancelled
		p.NextCheckAt = time.Time{} // never again
		if err := s.Update(t.Context(), p, event("p1", payment.EventCancelled, t0.Add(time.Second))); err != nil {
			t.Fatalf("Update after Lease = %v, want nil", err)
		}
		if got := mustLease(t, s, "b", t0.Add(time.Hour), ttl, 10); len(got) != 0 {
			t.Errorf("Lease(b) of a payment never due = %v, want none", ids(got))
		}
	})

	t.Run("older read conflicts", func(t *testing.T) {
		s := open(t)
		createFixtures(t, s, []leaseFixture{{id: "p1", nextCheckAt: t0.Add(-time.Minute)}})
		stale := mustGet(t, s, "p1")
		if got := mustLease(t, s, "a", t0, ttl, 10); len(got) != 1 {
			t.Fatalf("Lease(a) = %v, want p1", ids(got))
		}
		stale.Text = "from before the lease"
		if err := s.Update(t.Context(), stale); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("Update(read before Lease) = %v, want ErrConflict: it would undo the lease", err)
		}
		if got := mustGet(t, s, "p1"); got.LeaseOwner != "a" {
			t.Errorf("Get after stale Update: LeaseOwner = %q, want a", got.LeaseOwner)
		}
	})

	t.Run("concurrent owners", func(t *testing.T) {
		const (
			payments = 60
			owners   = 4
			rounds   = 5
			limit    = 3
		)
		s := open(t)
		var fs []leaseFixture
		for i := range payments {
			fs = append(fs, leaseFixture{id: fmt.Sprintf("p%02d", i), nextCheckAt: t0.Add(-time.Duration(i) * time.Second)})
		}
		createFixtures(t, s, fs)
		for round := range rounds {
			// Each round starts after the last round's leases expired.
			now := t0.Add(time.Duration(round) * 2 * ttl)
			taken := leaseRace(t, round, owners, payments, limit, "Lease",
				func(owner string) ([]vipps.OrderID, error) {
					ps, err := s.Lease(t.Context(), owner, now, ttl, limit)
					return ids(ps), err
				})
			if len(taken) != payments {
				t.Errorf("round %d: %d payments leased, want %d", round, len(taken), payments)
			}
			for id, owner := range taken {
				if got := mustGet(t, s, id); got.LeaseOwner != owner {
					t.Errorf("round %d: Get(%s).LeaseOwner = %q, want %q", round, id, got.LeaseOwner, owner)
				}
			}
		}
	})
}

// leaseRace lets owners lease concurrently until lease hands out nothing
// (or bound calls each), and returns who got each key. It reports a key
// handed to two owners and a batch over limit.
func leaseRace[K comparable](t *testing.T, round, owners, bound, limit int, name string, lease func(owner string) ([]K, error)) map[K]string {
	t.Helper()
	var (
		mu    sync.Mutex
		taken = make(map[K]string)
		wg    sync.WaitGroup
	)
	for o := range owners {
		owner := fmt.Sprintf("owner-%d", o)
		wg.Go(func() {
			for range bound { // bounded; ends when nothing is left
				keys, err := lease(owner)
				if err != nil {
					t.Errorf("round %d: %s(%s) = %v, want nil", round, name, owner, err)
					return
				}
				if len(keys) == 0 {
					return
				}
				if len(keys) > limit {
					t.Errorf("round %d: %s(%s) = %d, limit %d", round, name, owner, len(keys), limit)
				}
				mu.Lock()
				for _, k := range keys {
					if prev, ok := taken[k]; ok {
						t.Errorf("round %d: %v leased to %s and to %s", round, k, prev, owner)
					}
					taken[k] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return taken
}

func newOp(id string, kind payment.OpKind, key string, at time.Time) *payment.Operation {
	return &payment.Operation{
		OrderID:        vipps.OrderID(id),
		Kind:           kind,
		IdempotencyKey: key,
		RequestID:      "req-" + key + "-" + string(kind),
		Amount:         500,
		Text:           "op " + key,
		CreatedAt:      at,
		UpdatedAt:      at,
	}
}

func mustAdd(t *testing.T, s payment.Store, op *payment.Operation, events ...payment.Event) {
	t.Helper()
	got, err := s.AddOperation(t.Context(), op, nil, events...)
	if err != nil {
		t.Fatalf("AddOperation(%s %s %s) = %v, want nil", op.OrderID, op.Kind, op.IdempotencyKey, err)
	}
	if op.ID == 0 {
		t.Errorf("AddOperation(%s %s %s): op.ID = 0, want set", op.OrderID, op.Kind, op.IdempotencyKey)
	}
	if op.Status != payment.OpPending {
		t.Errorf("AddOperation: op.Status = %q, want %q", op.Status, payment.OpPending)
	}
	if got != nil {
		if diff := cmp.Diff(op, got, opts); diff != "" {
			t.Errorf("AddOperation returned a different operation (-op +returned):\n%s", diff)
		}
	}
}

func mustOps(t *testing.T, s payment.Store, id vipps.OrderID, pendingOnly bool) []*payment.Operation {
	t.Helper()
	ops, err := s.Operations(t.Context(), id, pendingOnly)
	if err != nil {
		t.Fatalf("Operations(%s, %v) = %v, want nil", id, pendingOnly, err)
	}
	return ops
}

func checkOps(t *testing.T, s payment.Store, id vipps.OrderID, pendingOnly bool, want []*payment.Operation) {
	t.Helper()
	got := mustOps(t, s, id, pendingOnly)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("Operations(%s, pendingOnly=%v) mismatch (-want +got):\n%s", id, pendingOnly, diff)
	}
}

func testOperations(t *testing.T, open func(t *testing.T) payment.Store) {
	setup := func(t *testing.T) payment.Store {
		s := open(t)
		mustCreate(t, s, newPayment("a"), event("a", payment.EventCreated, t0))
		mustCreate(t, s, newPayment("b"))
		return s
	}

	t.Run("add", func(t *testing.T) {
		s := setup(t)
		op := newOp("a", payment.OpCancel, "k1", t0.In(oslo))
		op.ReleaseRemaining = true
		op.Amount = 0
		op.Status = payment.OpFailed // ignored: stored as pending
		queued := payment.Event{OrderID: "a", Type: payment.EventOperationQueued, State: payment.Created,
			Data: json.RawMessage(`{"kind":"cancel"}`), At: t0.Add(time.Second)}
		mustAdd(t, s, op, queued)
		checkOps(t, s, "a", false, []*payment.Operation{op})
		checkEvents(t, s, "a", []payment.Event{event("a", payment.EventCreated, t0), queued})
	})

	t.Run("same key", func(t *testing.T) {
		s := setup(t)
		first := newOp("a", payment.OpCapture, "k1", t0)
		mustAdd(t, s, first, event("a", payment.EventOperationQueued, t0))

		again := newOp("a", payment.OpCapture, "k1", t0.Add(time.Minute))
		again.Amount = 999 // a different request: the store still returns the first
		got, err := s.AddOperation(t.Context(), again, nil, event("a", payment.EventOperationQueued, t0.Add(time.Minute)))
		if !errors.Is(err, payment.ErrExists) {
			t.Fatalf("AddOperation(same key) = %v, want ErrExists", err)
		}
		if diff := cmp.Diff(first, got, opts); diff != "" {
			t.Errorf("AddOperation(same key) returned (-first +got):\n%s", diff)
		}
		checkOps(t, s, "a", false, []*payment.Operation{first})
		checkEvents(t, s, "a", []payment.Event{
			event("a", payment.EventCreated, t0),
			event("a", payment.EventOperationQueued, t0),
		})
	})

	t.Run("same key, other kind or payment", func(t *testing.T) {
		s := setup(t)
		ops := []*payment.Operation{
			newOp("a", payment.OpCapture, "k1", t0),
			newOp("a", payment.OpRefund, "k1", t0.Add(time.Second)),
			newOp("a", payment.OpCapture, "k2", t0.Add(2*time.Second)),
			newOp("b", payment.OpCapture, "k1", t0.Add(3*time.Second)),
		}
		seen := make(map[int64]bool)
		for _, op := range ops {
			mustAdd(t, s, op)
			if seen[op.ID] {
				t.Errorf("AddOperation: ID %d given twice", op.ID)
			}
			seen[op.ID] = true
		}
		checkOps(t, s, "a", false, ops[:3])
		checkOps(t, s, "b", false, ops[3:])
	})

	t.Run("unknown payment", func(t *testing.T) {
		s := setup(t)
		_, err := s.AddOperation(t.Context(), newOp("zzz", payment.OpCapture, "k1", t0), nil)
		if !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("AddOperation(unknown payment) = %v, want ErrNotFound", err)
		}
		ops, err := s.Operations(t.Context(), "zzz", false)
		if len(ops) != 0 || (err != nil && !errors.Is(err, payment.ErrNotFound)) {
			t.Errorf("Operations(unknown) = %v, %v, want none", ops, err)
		}
	})

	t.Run("update", func(t *testing.T) {
		s := setup(t)
		capture := newOp("a", payment.OpCapture, "k1", t0)
		queued := event("a", payment.EventOperationQueued, t0)
		mustAdd(t, s, capture, queued)
		other := newOp("a", payment.OpRefund, "k2", t0)
		mustAdd(t, s, other)

		// A claim: still pending, sent once, the payment claimed.
		p := mustGet(t, s, "a")
		capture.Sends, capture.SentAt, capture.UpdatedAt = 1, t0.Add(time.Second), t0.Add(time.Second)
		p.OpOwner, p.OpUntil = "sender-1", t0.Add(time.Minute)
		if err := s.UpdateOperation(t.Context(), capture, p); err != nil {
			t.Fatalf("UpdateOperation(claim) = %v, want nil", err)
		}
		checkOps(t, s, "a", true, []*payment.Operation{capture, other})

		// The end, with its effect on the payment and a fact.
		version := p.Version
		capture.Status, capture.UpdatedAt = payment.OpSucceeded, t0.Add(time.Minute)
		p.State, p.Amounts.Captured, p.NextCheckAt = payment.Captured, 500, time.Time{}
		p.OpOwner, p.OpUntil = "", time.Time{}
		p.Facts = append(p.Facts, payment.Fact{OrderID: "a", Operation: vipps.OperationCapture, Success: true, Amount: 500,
			TransactionID: "5001", RequestID: capture.RequestID, At: t0, Source: "capture", SeenAt: t0.Add(time.Minute)})
		captured := payment.Event{OrderID: "a", Type: payment.EventCaptured, State: payment.Captured, Amount: 500,
			At: t0.Add(time.Minute), Fact: p.Facts[0].Key(), Tasks: []payment.Task{{Kind: payment.TaskReceipt}}}
		if err := s.UpdateOperation(t.Context(), capture, p, captured); err != nil {
			t.Fatalf("UpdateOperation = %v, want nil", err)
		}
		if p.Version != version+1 {
			t.Errorf("UpdateOperation: p.Version = %d, want %d", p.Version, version+1)
		}
		if p.Facts[0].Seq == 0 {
			t.Error("UpdateOperation: the new fact has no Seq")
		}
		if diff := cmp.Diff(p, mustGet(t, s, "a"), opts); diff != "" {
			t.Errorf("Get after UpdateOperation mismatch (-want +got):\n%s", diff)
		}
		checkOps(t, s, "a", false, []*payment.Operation{capture, other})
		checkOps(t, s, "a", true, []*payment.Operation{other})
		captured.Tasks = nil
		checkEvents(t, s, "a", []payment.Event{event("a", payment.EventCreated, t0), queued, captured})
		if ts, err := s.Tasks(t.Context(), "a"); err != nil || len(ts) != 1 || ts[0].Kind != payment.TaskReceipt {
			t.Errorf("Tasks after UpdateOperation = %v, %v; want the receipt", ts, err)
		}

		// Ended operations stay ended: compare-and-set on pending.
		again := *capture
		again.Status, again.Error = payment.OpFailed, &payment.VippsError{Op: "capture", Message: "late", At: t0}
		q := mustGet(t, s, "a")
		if err := s.UpdateOperation(t.Context(), &again, q); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("UpdateOperation(ended operation) = %v, want ErrConflict", err)
		}
		checkOps(t, s, "a", false, []*payment.Operation{capture, other})
	})

	t.Run("add with a claim", func(t *testing.T) {
		s := setup(t)
		p := mustGet(t, s, "a")
		claim := &payment.Claim{Owner: "sender-1", Until: t0.Add(time.Minute), Version: p.Version}
		first := newOp("a", payment.OpCapture, "k1", t0)
		if _, err := s.AddOperation(t.Context(), first, claim); err != nil {
			t.Fatal(err)
		}
		if first.Sends != 1 || !first.SentAt.Equal(t0) {
			t.Errorf("AddOperation(claim on a free payment): Sends %d, SentAt %v; want 1, %v", first.Sends, first.SentAt, t0)
		}
		got := mustGet(t, s, "a")
		if got.OpOwner != "sender-1" || !cmp.Equal(got.OpUntil, claim.Until, opts) {
			t.Errorf("after a claim: OpOwner %q until %v, want sender-1 until %v", got.OpOwner, got.OpUntil, claim.Until)
		}
		checkOps(t, s, "a", true, []*payment.Operation{first})

		// Not while another operation is pending, on a stale version, or
		// while another claim holds.
		for _, tt := range []struct {
			name  string
			claim func(p *payment.Payment) *payment.Claim
		}{
			{"another pending", func(p *payment.Payment) *payment.Claim {
				return &payment.Claim{Owner: "sender-2", Until: t0.Add(time.Hour), Version: p.Version}
			}},
			{"stale version", func(p *payment.Payment) *payment.Claim {
				return &payment.Claim{Owner: "sender-2", Until: t0.Add(time.Hour), Version: p.Version - 1}
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := mustGet(t, s, "a")
				op := newOp("a", payment.OpRefund, tt.name, t0)
				if _, err := s.AddOperation(t.Context(), op, tt.claim(p)); err != nil {
					t.Fatal(err)
				}
				if op.Sends != 0 {
					t.Errorf("AddOperation(claim, %s): Sends %d, want 0", tt.name, op.Sends)
				}
				if got := mustGet(t, s, "a"); got.OpOwner != "sender-1" {
					t.Errorf("AddOperation(claim, %s): OpOwner %q, want sender-1 still", tt.name, got.OpOwner)
				}
			})
		}

		b := mustGet(t, s, "b")
		b.OpOwner, b.OpUntil = "sender-9", t0.Add(time.Minute)
		if err := s.Update(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		held := newOp("b", payment.OpCapture, "k1", t0)
		if _, err := s.AddOperation(t.Context(), held, &payment.Claim{Owner: "sender-2", Until: t0.Add(time.Hour), Version: b.Version}); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, "b"); held.Sends != 0 || got.OpOwner != "sender-9" {
			t.Errorf("AddOperation(claim while another holds): Sends %d, OpOwner %q; want 0, sender-9", held.Sends, got.OpOwner)
		}
	})

	t.Run("add with a claim after another ran out", func(t *testing.T) {
		s := setup(t)
		b := mustGet(t, s, "b")
		b.OpOwner, b.OpUntil = "sender-9", t0.Add(-time.Second)
		if err := s.Update(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		op := newOp("b", payment.OpCapture, "k1", t0)
		if _, err := s.AddOperation(t.Context(), op, &payment.Claim{Owner: "sender-2", Until: t0.Add(time.Hour), Version: b.Version}); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, "b"); op.Sends != 1 || got.OpOwner != "sender-2" {
			t.Errorf("AddOperation(claim after one ran out): Sends %d, OpOwner %q; want 1, sender-2", op.Sends, got.OpOwner)
		}
		checkOps(t, s, "b", true, []*payment.Operation{op})
	})

	t.Run("update stale", func(t *testing.T) {
		s := setup(t)
		p := mustGet(t, s, "a")
		capture := newOp("a", payment.OpCapture, "k1", t0)
		mustAdd(t, s, capture) // a change of the payment: p is stale
		want := mustGet(t, s, "a")
		done := *capture
		done.Status, done.UpdatedAt = payment.OpSucceeded, t0.Add(time.Minute)
		p.State = payment.Captured
		p.Facts = append(p.Facts, payment.Fact{Operation: vipps.OperationCapture, Success: true, Amount: 500, RequestID: "r1", At: t0, Source: "capture"})
		err := s.UpdateOperation(t.Context(), &done, p, event("a", payment.EventCaptured, t0.Add(time.Minute)))
		if !errors.Is(err, payment.ErrConflict) {
			t.Fatalf("UpdateOperation(stale payment) = %v, want ErrConflict", err)
		}
		if p.Facts[0].Seq != 0 {
			t.Errorf("UpdateOperation(stale payment) left fact Seq %d, want 0", p.Facts[0].Seq)
		}
		if diff := cmp.Diff(want, mustGet(t, s, "a"), opts); diff != "" {
			t.Errorf("Get after a failed UpdateOperation mismatch (-want +got):\n%s", diff)
		}
		checkOps(t, s, "a", true, []*payment.Operation{capture}) // still pending
		checkEvents(t, s, "a", []payment.Event{event("a", payment.EventCreated, t0)})
	})

	t.Run("update unknown", func(t *testing.T) {
		s := setup(t)
		op := newOp("a", payment.OpCapture, "k1", t0)
		mustAdd(t, s, op)
		want := mustGet(t, s, "a")
		ghost := *op
		ghost.ID = op.ID + 1000
		ghost.Status = payment.OpSucceeded
		p := mustGet(t, s, "a")
		p.State = payment.Captured
		if err := s.UpdateOperation(t.Context(), &ghost, p, event("a", payment.EventCaptured, t0)); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("UpdateOperation(unknown operation) = %v, want ErrNotFound", err)
		}
		if diff := cmp.Diff(want, mustGet(t, s, "a"), opts); diff != "" {
			t.Errorf("Get after a failed UpdateOperation mismatch (-want +got):\n%s", diff)
		}
		checkEvents(t, s, "a", []payment.Event{event("a", payment.EventCreated, t0)})

		// An operation of another payment is refused.
		b := mustGet(t, s, "b")
		done := *op
		done.Status = payment.OpSucceeded
		if err := s.UpdateOperation(t.Context(), &done, b); err == nil {
			t.Error("UpdateOperation(operation of a, payment b) = nil, want an error")
		}
		checkOps(t, s, "a", true, []*payment.Operation{op})
	})
}
