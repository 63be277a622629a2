package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// orderIDs is the payments' ids in the payments' order.
func orderIDs(ps []*payment.Payment) []vipps.OrderID {
	out := make([]vipps.OrderID, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.OrderID)
	}
	return out
}

func toOrderIDs(ss ...string) []vipps.OrderID {
	out := make([]vipps.OrderID, 0, len(ss))
	for _, s := range ss {
		out = append(out, vipps.OrderID(s))
	}
	return out
}

func mustList(t *testing.T, s payment.Store, f payment.ListFilter) []*payment.Payment {
	t.Helper()
	ps, err := s.List(t.Context(), f)
	if err != nil {
		t.Fatalf("List(%+v) = %v, want nil", f, err)
	}
	return ps
}

// checkSameAsGet checks that what a query returned is what Get returns.
func checkSameAsGet(t *testing.T, s payment.Store, what string, ps []*payment.Payment) {
	t.Helper()
	for i, p := range ps {
		if diff := cmp.Diff(mustGet(t, s, p.OrderID), p, opts); diff != "" {
			t.Errorf("%s[%d] differs from Get (-get +%s):\n%s", what, i, what, diff)
		}
	}
}

// listFixture is a payment as List sees it.
type listFixture struct {
	id, ref, text string
	state         payment.State
	created       time.Time
	phone         string
	// user is the userDetails express checkout shared, as JSON; "" for
	// none, "-" to keep fullPayment's shipping (which has none).
	user                         string
	authorized, captured, refund vipps.Amount
}

// listFixtures, newest first: shop-9, acme-30, acme-3, acme-2 (a tie with
// acme-3, broken by the orderId), acme-1, other, plain, undated.
var listFixtures = []listFixture{
	{"acme-1", "Order-10", "Two mugs, blå", payment.Reserved, t0, "91234567",
		`{"firstName":"Ola","lastName":"Nordmann","email":"ola@example.no","mobileNumber":"4791234567"}`, 25000, 10000, 0},
	{"acme-2", "order-11", "ÆRLIG KAFFE", payment.Captured, t0.Add(time.Minute), "",
		`{"firstName":"Åse","lastName":"Ødegård","email":"ASE.ODEGARD@Example.com","mobileNumber":"4748000000"}`, 5000, 5000, 1000},
	{"acme-3", "", "100% wool_socks", payment.Reserved, t0.Add(time.Minute).In(oslo), "48000001", "", 10000, 0, 0},
	{"acme-30", "x-acme", "Tea", payment.Cancelled, t0.Add(2 * time.Minute), "41111111", "-", 3000, 0, 0},
	{"shop-9", "ACME-x", "Socks", payment.Created, t0.Add(3 * time.Minute), "", "", 1000, 0, 0},
	{"other", "zzz", "gift for acme fans", payment.Failed, t0.Add(-time.Minute), "", "", 2000, 0, 0},
	{"plain", "zzz2", `100 wool socks, size 4\5`, payment.Reserved, t0.Add(-2 * time.Minute), "", "", 7000, 3000, 3000},
	{"undated", "zzz3", "no time", payment.Created, time.Time{}, "", "", 500, 0, 0},
}

func createListFixtures(t *testing.T, s payment.Store) {
	t.Helper()
	for _, f := range listFixtures {
		p := fullPayment(f.id)
		p.ShopRef, p.Text, p.State, p.CreatedAt, p.Phone = f.ref, f.text, f.state, f.created, f.phone
		p.Amounts = payment.Amounts{Authorized: f.authorized, Captured: f.captured, Refunded: f.refund,
			RemainingToRefund: f.captured - f.refund}
		switch f.user {
		case "-":
		case "":
			p.Shipping = nil
		default:
			p.Shipping = json.RawMessage(`{"shippingDetails":{"address":{"city":"Oslo"}},"userDetails":` + f.user + `}`)
		}
		mustCreate(t, s, p)
	}
}

// t0s is t0 in whole seconds: a bound of a created range, as the admin
// list sets them (stores keep times to the microsecond only).
var t0s = t0.Truncate(time.Second)

// wantTotals is what Totals should return for f: the sums of the payments
// of ps that f matches.
func wantTotals(f payment.ListFilter, ps []*payment.Payment) payment.Totals {
	var t payment.Totals
	for _, p := range ps {
		if !f.Match(p) {
			continue
		}
		t.Count++
		if payment.TotalsCountAuthorized(p.State) {
			t.Authorized += p.Amounts.Authorized
		}
		t.Captured += p.Amounts.Captured
		t.Refunded += p.Amounts.Refunded
	}
	return t
}

func testList(t *testing.T, open func(t *testing.T) payment.Store) {
	s := open(t)
	createListFixtures(t, s)
	all := toOrderIDs("shop-9", "acme-30", "acme-3", "acme-2", "acme-1", "other", "plain", "undated")
	var stored []*payment.Payment
	for _, id := range all {
		stored = append(stored, mustGet(t, s, id))
	}
	tests := []struct {
		name string
		f    payment.ListFilter
		want []vipps.OrderID
	}{
		{"all, newest first", payment.ListFilter{}, all},
		{"state", payment.ListFilter{State: payment.Reserved}, toOrderIDs("acme-3", "acme-1", "plain")},
		{"state without payments", payment.ListFilter{State: payment.Voided}, nil},
		{"orderId prefix", payment.ListFilter{Query: "acme-3"}, toOrderIDs("acme-30", "acme-3")},
		{"whole orderId", payment.ListFilter{Query: "acme-30"}, toOrderIDs("acme-30")},
		{"orderId or shop ref, any case, or text", payment.ListFilter{Query: "ACME"},
			toOrderIDs("shop-9", "acme-30", "acme-3", "acme-2", "acme-1", "other")},
		{"part of orderId or shop ref", payment.ListFilter{Query: "cme-"}, toOrderIDs("shop-9", "acme-30", "acme-3", "acme-2", "acme-1")},
		{"end of orderId", payment.ListFilter{Query: "e-30"}, toOrderIDs("acme-30")},
		{"shop ref prefix, any case", payment.ListFilter{Query: "ORDER-1"}, toOrderIDs("acme-2", "acme-1")},
		{"text contains", payment.ListFilter{Query: "mug"}, toOrderIDs("acme-1")},
		{"text contains, any case", payment.ListFilter{Query: "tWO MUGS"}, toOrderIDs("acme-1")},
		{"text contains, any case beyond ASCII", payment.ListFilter{Query: "ærlig k"}, toOrderIDs("acme-2")},
		{"text contains, query in upper case beyond ASCII", payment.ListFilter{Query: "BLÅ"}, toOrderIDs("acme-1")},
		{"phone given at create", payment.ListFilter{Query: "9123"}, toOrderIDs("acme-1")},
		{"phone with the country code", payment.ListFilter{Query: "+47 9123"}, toOrderIDs("acme-1")},
		{"phone or the express user's mobile", payment.ListFilter{Query: "48000"}, toOrderIDs("acme-3", "acme-2")},
		{"first name", payment.ListFilter{Query: "ola"}, toOrderIDs("acme-1")},
		{"first and last name", payment.ListFilter{Query: "Ola Nordmann"}, toOrderIDs("acme-1")},
		{"names beyond ASCII, other case", payment.ListFilter{Query: "åSE ØDEGÅRD"}, toOrderIDs("acme-2")},
		{"e-mail, any case", payment.ListFilter{Query: "ase.odegard@EXAMPLE.com"}, toOrderIDs("acme-2")},
		{"part of e-mails", payment.ListFilter{Query: "@example"}, toOrderIDs("acme-2", "acme-1")},
		{"every word must match", payment.ListFilter{Query: "ola kaffe"}, nil},
		{"words in any order, in any fields", payment.ListFilter{Query: "socks wool"}, toOrderIDs("acme-3", "plain")},
		{"words of name and text", payment.ListFilter{Query: "nordmann  blå\t"}, toOrderIDs("acme-1")},
		{"JSON keys are not searched", payment.ListFilter{Query: "firstName"}, nil},
		{"the address is not searched", payment.ListFilter{Query: "oslo"}, nil},
		{"white space only", payment.ListFilter{Query: "  "}, all},
		{"percent is no wildcard", payment.ListFilter{Query: "100%"}, toOrderIDs("acme-3")},
		{"percent alone", payment.ListFilter{Query: "%"}, toOrderIDs("acme-3")},
		{"underscore is no wildcard", payment.ListFilter{Query: "l_s"}, toOrderIDs("acme-3")},
		{"underscore alone", payment.ListFilter{Query: "_"}, toOrderIDs("acme-3")},
		{"backslash is no escape", payment.ListFilter{Query: `4\5`}, toOrderIDs("plain")},
		{"trailing backslash", payment.ListFilter{Query: `\`}, toOrderIDs("plain")},
		{"quote", payment.ListFilter{Query: `'`}, nil},
		{"no match", payment.ListFilter{Query: "nothing like it"}, nil},
		{"state and query", payment.ListFilter{State: payment.Reserved, Query: "acme"}, toOrderIDs("acme-3", "acme-1")},
		{"partly captured", payment.ListFilter{Part: payment.PartlyCaptured}, toOrderIDs("acme-1", "plain")},
		{"partly refunded", payment.ListFilter{Part: payment.PartlyRefunded}, toOrderIDs("acme-2")},
		{"partly captured and a query", payment.ListFilter{Part: payment.PartlyCaptured, Query: "wool"}, toOrderIDs("plain")},
		{"unknown part", payment.ListFilter{Part: "bogus"}, nil},
		{"created range", payment.ListFilter{CreatedFrom: t0s, CreatedTo: t0s.Add(2 * time.Minute)}, toOrderIDs("acme-3", "acme-2", "acme-1")},
		{"created range, other zone", payment.ListFilter{CreatedFrom: t0s.In(oslo), CreatedTo: t0s.Add(2 * time.Minute).In(oslo)}, toOrderIDs("acme-3", "acme-2", "acme-1")},
		{"created from", payment.ListFilter{CreatedFrom: t0s.Add(2 * time.Minute)}, toOrderIDs("shop-9", "acme-30")},
		{"created to", payment.ListFilter{CreatedTo: t0s}, toOrderIDs("other", "plain")},
		{"created range, state and query", payment.ListFilter{CreatedTo: t0.Add(time.Hour), State: payment.Reserved, Query: "wool"}, toOrderIDs("acme-3", "plain")},
		{"before, first of a tie", payment.ListFilter{Before: &payment.Cursor{CreatedAt: t0.Add(time.Minute), OrderID: "acme-3"}},
			toOrderIDs("acme-2", "acme-1", "other", "plain", "undated")},
		{"before, last of a tie", payment.ListFilter{Before: &payment.Cursor{CreatedAt: t0.Add(time.Minute), OrderID: "acme-2"}},
			toOrderIDs("acme-1", "other", "plain", "undated")},
		{"before, time in another zone", payment.ListFilter{Before: &payment.Cursor{CreatedAt: t0.Add(time.Minute).In(oslo), OrderID: "acme-3"}},
			toOrderIDs("acme-2", "acme-1", "other", "plain", "undated")},
		{"before, between payments", payment.ListFilter{Before: &payment.Cursor{CreatedAt: t0.Add(30 * time.Second), OrderID: "zzzz"}},
			toOrderIDs("acme-1", "other", "plain", "undated")},
		{"before the undated", payment.ListFilter{Before: &payment.Cursor{OrderID: "undated"}}, nil},
		{"before, zero time", payment.ListFilter{Before: &payment.Cursor{OrderID: "zzzz"}}, toOrderIDs("undated")},
		{"before, with state and query", payment.ListFilter{State: payment.Reserved, Query: "100",
			Before: &payment.Cursor{CreatedAt: t0.Add(time.Minute), OrderID: "acme-3"}}, toOrderIDs("plain")},
		{"before, with a created range", payment.ListFilter{CreatedFrom: t0s, Before: &payment.Cursor{CreatedAt: t0.Add(time.Minute), OrderID: "acme-3"}},
			toOrderIDs("acme-2", "acme-1")},
		{"limit", payment.ListFilter{Limit: 3}, all[:3]},
		{"limit with state", payment.ListFilter{State: payment.Reserved, Limit: 2}, toOrderIDs("acme-3", "acme-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustList(t, s, tt.f)
			if diff := cmp.Diff(tt.want, orderIDs(got)); diff != "" && (len(tt.want) != 0 || len(got) != 0) {
				t.Errorf("List(%+v) mismatch (-want +got):\n%s", tt.f, diff)
			}
			checkSameAsGet(t, s, "List", got)

			// Totals sums what List returns on every page.
			whole := tt.f
			whole.Before, whole.Limit = nil, 0
			totals, err := s.Totals(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("Totals(%+v) = %v, want nil", tt.f, err)
			}
			if diff := cmp.Diff(wantTotals(whole, stored), totals); diff != "" {
				t.Errorf("Totals(%+v) mismatch (-want +got):\n%s", tt.f, diff)
			}
			if tt.f.Before == nil && tt.f.Limit == 0 {
				var matched []vipps.OrderID
				for _, p := range stored {
					if tt.f.Match(p) {
						matched = append(matched, p.OrderID)
					}
				}
				if diff := cmp.Diff(tt.want, matched); diff != "" && (len(tt.want) != 0 || len(matched) != 0) {
					t.Errorf("ListFilter(%+v).Match mismatch (-want +got):\n%s", tt.f, diff)
				}
			}
		})
	}

	t.Run("totals", func(t *testing.T) {
		want := payment.Totals{Count: 8, Authorized: 25000 + 5000 + 10000 + 7000, Captured: 10000 + 5000 + 3000, Refunded: 1000 + 3000}
		got, err := s.Totals(t.Context(), payment.ListFilter{})
		if err != nil {
			t.Fatalf("Totals = %v, want nil", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Totals mismatch (-want +got):\n%s", diff)
		}
		got, err = s.Totals(t.Context(), payment.ListFilter{Query: "nothing like it"})
		if err != nil || got != (payment.Totals{}) {
			t.Errorf("Totals(no match) = %+v, %v; want zero, nil", got, err)
		}
	})

	t.Run("pages", func(t *testing.T) {
		for _, size := range []int{1, 2, 3, 8} {
			var (
				got   []vipps.OrderID
				f     = payment.ListFilter{Limit: size}
				pages int
			)
			for ; pages <= len(all); pages++ {
				page := mustList(t, s, f)
				if len(page) > size {
					t.Errorf("page size %d: page %d has %d payments", size, pages, len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, orderIDs(page)...)
				last := page[len(page)-1]
				f.Before = &payment.Cursor{CreatedAt: last.CreatedAt, OrderID: last.OrderID}
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("page size %d: pages mismatch (-want +got):\n%s", size, diff)
			}
		}
	})

	t.Run("limits", func(t *testing.T) {
		s := open(t)
		const n = 501
		var newest []vipps.OrderID
		for i := range n {
			p := newPayment(fmt.Sprintf("p%03d", i))
			p.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			mustCreate(t, s, p)
			newest = append([]vipps.OrderID{p.OrderID}, newest...)
		}
		tests := []struct {
			limit, want int
		}{
			{0, 50},
			{-1, 50},
			{1, 1},
			{7, 7},
			{500, 500},
			{501, 500},
			{100000, 500},
		}
		for _, tt := range tests {
			got := orderIDs(mustList(t, s, payment.ListFilter{Limit: tt.limit}))
			if diff := cmp.Diff(newest[:tt.want], got); diff != "" {
				t.Errorf("List(Limit %d) mismatch (-want +got):\n%s", tt.limit, diff)
			}
		}
	})

	t.Run("empty store", func(t *testing.T) {
		s := open(t)
		if got := mustList(t, s, payment.ListFilter{}); len(got) != 0 {
			t.Errorf("List(empty store) = %v, want none", orderIDs(got))
		}
		if got, err := s.Totals(t.Context(), payment.ListFilter{}); err != nil || got != (payment.Totals{}) {
			t.Errorf("Totals(empty store) = %+v, %v; want zero, nil", got, err)
		}
	})
}

func testByUser(t *testing.T, open func(t *testing.T) payment.Store) {
	s := open(t)
	mk := func(id, user string, created time.Time) {
		p := fullPayment(id)
		p.UserID, p.CreatedAt = user, created
		mustCreate(t, s, p)
	}
	// Stored and named out of order.
	mk("b", "u1", t0.Add(time.Minute))
	mk("a", "u1", t0.Add(2*time.Minute))
	mk("d", "u1", t0)
	mk("c", "u1", t0.In(oslo))
	mk("e", "u2", t0)
	mk("f", "", t0)
	mk("g", "", t0.Add(time.Minute))
	mk("h", "u1x", t0)

	// Consent removed: no longer the user's.
	gone := fullPayment("gone")
	gone.UserID = "u1"
	mustCreate(t, s, gone)
	gone.UserID = ""
	if err := s.Update(t.Context(), gone, event("gone", payment.EventConsentRemoved, t0)); err != nil {
		t.Fatalf("Update(gone) = %v", err)
	}

	tests := []struct {
		user string
		want []vipps.OrderID
	}{
		{"u1", toOrderIDs("c", "d", "b", "a")},
		{"u2", toOrderIDs("e")},
		{"nobody", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.user), func(t *testing.T) {
			got, err := s.ByUser(t.Context(), tt.user)
			if err != nil {
				t.Fatalf("ByUser(%q) = %v, want nil", tt.user, err)
			}
			if diff := cmp.Diff(tt.want, orderIDs(got)); diff != "" && (len(tt.want) != 0 || len(got) != 0) {
				t.Errorf("ByUser(%q) mismatch (-want +got):\n%s", tt.user, diff)
			}
			checkSameAsGet(t, s, "ByUser", got)
		})
	}
}

func mustStats(t *testing.T, s payment.Store) payment.Stats {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats = %v, want nil", err)
	}
	return st
}

func testStats(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("empty store", func(t *testing.T) {
		st := mustStats(t, open(t))
		if st.Payments == nil || st.Tasks == nil {
			t.Errorf("Stats(empty store) = %+v, want maps that are not nil", st)
		}
		if len(st.Payments) != 0 || len(st.Tasks) != 0 {
			t.Errorf("Stats(empty store) = %+v, want empty maps", st)
		}
	})

	t.Run("counts", func(t *testing.T) {
		s := open(t)
		mk := func(id string, state payment.State, tasks ...payment.Task) {
			p := newPayment(id)
			p.State = state
			mustCreate(t, s, p, withTasks(event(id, payment.EventCreated, t0), tasks...))
		}
		receipt := payment.Task{Kind: payment.TaskReceipt}
		mk("a", payment.Reserved, webhook(`{}`), webhook(`{}`))
		mk("b", payment.Reserved, receipt)
		mk("c", payment.Captured, webhook(`{}`), receipt)
		mk("d", payment.Created)
		// A state change moves the payment from one count to another.
		d := mustGet(t, s, "d")
		d.State = payment.Failed
		if err := s.Update(t.Context(), d, withTasks(event("d", payment.EventFailed, t0), webhook(`{}`))); err != nil {
			t.Fatalf("Update(d) = %v", err)
		}
		tasksOf := func(id vipps.OrderID) []*payment.Task {
			ts := mustTasks(t, s, id)
			if len(ts) != 2 {
				t.Fatalf("Tasks(%s) = %d tasks, want 2", id, len(ts))
			}
			return ts
		}
		done, dead := tasksOf("a")[0], tasksOf("c")[1]
		done.Status, dead.Status = payment.TaskDone, payment.TaskDead
		mustUpdateTask(t, s, done, &payment.TaskAttempt{At: t0, StatusCode: 200})
		mustUpdateTask(t, s, dead, &payment.TaskAttempt{At: t0, StatusCode: 500, Error: "HTTP 500"})

		want := payment.Stats{
			Payments: map[payment.State]int{payment.Reserved: 2, payment.Captured: 1, payment.Failed: 1},
			Tasks: map[payment.TaskKind]map[payment.TaskStatus]int{
				payment.TaskWebhook: {payment.TaskPending: 3, payment.TaskDone: 1},
				payment.TaskReceipt: {payment.TaskPending: 1, payment.TaskDead: 1},
			},
		}
		if diff := cmp.Diff(want, mustStats(t, s)); diff != "" {
			t.Errorf("Stats mismatch (-want +got):\n%s", diff)
		}
	})
}

// testConsentRemovals: the latest removal of a user is kept, to the
// microsecond and in UTC whatever the zone it was given in; removals
// before the given bound are deleted as one is added.
func testConsentRemovals(t *testing.T, open func(t *testing.T) payment.Store) {
	s := open(t)
	ctx := t.Context()
	t0 := t0.Truncate(time.Microsecond) // what the stores keep
	removedAt := func(key string) time.Time {
		t.Helper()
		at, err := s.ConsentRemovedAt(ctx, key)
		if err != nil {
			t.Fatalf("ConsentRemovedAt(%s) = %v", key, err)
		}
		return at
	}
	add := func(key string, at, before time.Time) {
		t.Helper()
		if err := s.AddConsentRemoval(ctx, key, at, before); err != nil {
			t.Fatalf("AddConsentRemoval(%s, %v) = %v", key, at, err)
		}
	}
	if at := removedAt("k1"); !at.IsZero() {
		t.Errorf("an unknown user's removal = %v, want the zero time", at)
	}
	later := t0.Add(time.Hour + 123456*time.Microsecond)
	add("k1", later.In(oslo), time.Time{})
	add("k1", t0, time.Time{}) // an older one arriving late changes nothing
	if at := removedAt("k1"); !at.Equal(later) || at.Location() != time.UTC {
		t.Errorf("k1 removed at %v, want %v in UTC", at, later)
	}
	add("k2", t0.Add(2*time.Hour), time.Time{})
	if at := removedAt("k2"); !at.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("k2 removed at %v, want %v", at, t0.Add(2*time.Hour))
	}
	// A removal of k3 at t0+3h that forgets those before t0+90m: k1 goes,
	// k2 stays.
	add("k3", t0.Add(3*time.Hour), t0.Add(90*time.Minute))
	if at := removedAt("k1"); !at.IsZero() {
		t.Errorf("k1 after the keep = %v, want forgotten", at)
	}
	if at := removedAt("k2"); at.IsZero() {
		t.Error("k2 within the keep was forgotten")
	}
	if at := removedAt("k3"); !at.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("k3 removed at %v, want %v", at, t0.Add(3*time.Hour))
	}
}
