package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// taskOpts compares tasks: Log may be nil or empty, and the store assigns
// ID (checked apart).
var taskOpts = cmp.Options{
	opts,
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().Type() == reflect.TypeFor[[]payment.TaskAttempt]() }, cmpopts.EquateEmpty()),
	cmpopts.IgnoreFields(payment.Task{}, "ID"),
}

// withTasks returns e queueing ts.
func withTasks(e payment.Event, ts ...payment.Task) payment.Event {
	e.Tasks = ts
	return e
}

func webhook(payload string) payment.Task {
	return payment.Task{Kind: payment.TaskWebhook, Payload: json.RawMessage(payload)}
}

// queued is the task a store must hold for q, queued with event e of the
// payment id, which the store keeps as seq.
func queued(id vipps.OrderID, seq int64, e payment.Event, q payment.Task) *payment.Task {
	next := q.NextAttemptAt
	if next.IsZero() {
		next = e.At
	}
	return &payment.Task{
		Kind:          q.Kind,
		OrderID:       id,
		EventSeq:      seq,
		Payload:       q.Payload,
		Status:        payment.TaskPending,
		NextAttemptAt: next,
		CreatedAt:     e.At,
		UpdatedAt:     e.At,
	}
}

// queuedWith is the tasks a store must hold for events, given as stored
// (stored, as Events returns them, with Seq) and as sent (sent, with Tasks).
func queuedWith(t *testing.T, id vipps.OrderID, stored, sent []payment.Event) []*payment.Task {
	t.Helper()
	if len(stored) != len(sent) {
		t.Fatalf("Events(%s) = %d events, want %d", id, len(stored), len(sent))
	}
	var want []*payment.Task
	for i, e := range sent {
		for _, q := range e.Tasks {
			want = append(want, queued(id, stored[i].Seq, e, q))
		}
	}
	return want
}

func mustTasks(t *testing.T, s payment.Store, id vipps.OrderID) []*payment.Task {
	t.Helper()
	ts, err := s.Tasks(t.Context(), id)
	if err != nil {
		t.Fatalf("Tasks(%s) = %v, want nil", id, err)
	}
	return ts
}

// checkTasks compares the payment's tasks, and checks that their IDs are
// set and distinct.
func checkTasks(t *testing.T, s payment.Store, id vipps.OrderID, want []*payment.Task) []*payment.Task {
	t.Helper()
	got := mustTasks(t, s, id)
	if diff := cmp.Diff(want, got, taskOpts); diff != "" {
		t.Errorf("Tasks(%s) mismatch (-want +got):\n%s", id, diff)
	}
	seen := make(map[int64]bool)
	for i, tk := range got {
		if tk.ID <= 0 || seen[tk.ID] {
			t.Errorf("Tasks(%s)[%d].ID = %d, want > 0 and unique", id, i, tk.ID)
		}
		seen[tk.ID] = true
	}
	return got
}

// queueTask creates the payment id with one event at `at` that queues one
// task due at next, and returns the task as stored.
func queueTask(t *testing.T, s payment.Store, id string, next, at time.Time) *payment.Task {
	t.Helper()
	q := webhook(`{"order":"` + id + `"}`)
	q.NextAttemptAt = next
	mustCreate(t, s, newPayment(id), withTasks(event(id, payment.EventCreated, at), q))
	ts := mustTasks(t, s, vipps.OrderID(id))
	if len(ts) != 1 {
		t.Fatalf("Tasks(%s) = %d tasks, want 1", id, len(ts))
	}
	return ts[0]
}

func mustLeaseTasks(t *testing.T, s payment.Store, owner string, now time.Time, ttl time.Duration, limit int) []*payment.Task {
	t.Helper()
	ts, err := s.LeaseTasks(t.Context(), owner, now, ttl, limit)
	if err != nil {
		t.Fatalf("LeaseTasks(%s, %v, %v, %d) = %v, want nil", owner, now, ttl, limit, err)
	}
	for _, tk := range ts {
		if len(tk.Log) != 0 {
			t.Errorf("LeaseTasks(%s): task %d has a Log, want none", owner, tk.ID)
		}
	}
	return ts
}

func mustUpdateTask(t *testing.T, s payment.Store, tk *payment.Task, attempt *payment.TaskAttempt) {
	t.Helper()
	if err := s.UpdateTask(t.Context(), tk, attempt); err != nil {
		t.Fatalf("UpdateTask(%d) = %v, want nil", tk.ID, err)
	}
}

// taskOrders is the payments of the tasks, in the tasks' order.
func taskOrders(ts []*payment.Task) []vipps.OrderID {
	out := make([]vipps.OrderID, 0, len(ts))
	for _, tk := range ts {
		out = append(out, tk.OrderID)
	}
	return out
}

func testTasks(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("queued with Create", func(t *testing.T) {
		s := open(t)
		created := event("acme-1", payment.EventCreated, t0) // no tasks
		// Everything but Kind, Payload and NextAttemptAt is the store's
		// to set.
		stray := payment.Task{
			ID: 77, Kind: payment.TaskWebhook, OrderID: "someone-else", EventSeq: 99,
			Payload: json.RawMessage(`{"event":"reserved","amount":1000}`),
			Status:  payment.TaskDead, Attempts: 3, LastError: "boom",
			LeaseOwner: "w", LeaseUntil: t0.Add(time.Hour),
			CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour),
			Log: []payment.TaskAttempt{{At: t0, StatusCode: 500}},
		}
		later := payment.Task{Kind: payment.TaskReceipt, NextAttemptAt: t0.Add(time.Minute).In(oslo)}
		reserved := withTasks(payment.Event{OrderID: "acme-1", Type: payment.EventReserved, State: payment.Reserved,
			Amount: 1000, At: t0.Add(time.Second)}, stray, later)
		sent := []payment.Event{created, reserved}
		mustCreate(t, s, newPayment("acme-1"), sent...)
		evs := checkEvents(t, s, "acme-1", []payment.Event{created, withTasks(reserved)})
		checkTasks(t, s, "acme-1", queuedWith(t, "acme-1", evs, sent))
	})

	t.Run("queued with Update", func(t *testing.T) {
		s := open(t)
		created := withTasks(event("acme-1", payment.EventCreated, t0), webhook(`{"n":1}`))
		mustCreate(t, s, newPayment("acme-1"), created)
		p := mustGet(t, s, "acme-1")
		p.State = payment.Reserved
		reserved := withTasks(event("acme-1", payment.EventReserved, t0.Add(time.Second)), webhook(`{"n":2}`))
		callback := event("acme-1", payment.EventCallback, t0.Add(2*time.Second))
		captured := withTasks(event("acme-1", payment.EventCaptured, t0.Add(3*time.Second)),
			webhook(`{"n":3}`), payment.Task{Kind: payment.TaskReceipt, Payload: json.RawMessage(`{"n":4}`)})
		if err := s.Update(t.Context(), p, reserved, callback, captured); err != nil {
			t.Fatalf("Update = %v, want nil", err)
		}
		sent := []payment.Event{created, reserved, callback, captured}
		checkTasks(t, s, "acme-1", queuedWith(t, "acme-1", mustEvents(t, s, "acme-1"), sent))
	})

	t.Run("queued with AddOperation", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		queuedEv := withTasks(event("acme-1", payment.EventOperationQueued, t0), webhook(`{"op":"capture"}`))
		mustAdd(t, s, newOp("acme-1", payment.OpCapture, "k1", t0), queuedEv)
		checkTasks(t, s, "acme-1", queuedWith(t, "acme-1", mustEvents(t, s, "acme-1"), []payment.Event{queuedEv}))
	})

	// A change that fails queues nothing.
	failures := []struct {
		name    string
		id      vipps.OrderID
		fail    func(t *testing.T, s payment.Store, e payment.Event) error
		wantErr error
	}{
		{
			name: "Create of a taken orderId", id: "acme-1", wantErr: payment.ErrExists,
			fail: func(t *testing.T, s payment.Store, e payment.Event) error {
				return s.Create(t.Context(), fullPayment("acme-1"), e)
			},
		},
		{
			name: "Update with a stale version", id: "acme-1", wantErr: payment.ErrConflict,
			fail: func(t *testing.T, s payment.Store, e payment.Event) error {
				stale := mustGet(t, s, "acme-1")
				fresh := mustGet(t, s, "acme-1")
				if err := s.Update(t.Context(), fresh); err != nil {
					t.Fatalf("Update = %v, want nil", err)
				}
				return s.Update(t.Context(), stale, e)
			},
		},
		{
			name: "Update of an unknown payment", id: "ghost", wantErr: payment.ErrNotFound,
			fail: func(t *testing.T, s payment.Store, e payment.Event) error {
				p := newPayment("ghost")
				p.Version = 1
				return s.Update(t.Context(), p, e)
			},
		},
		{
			name: "AddOperation with a known key", id: "acme-1", wantErr: payment.ErrExists,
			fail: func(t *testing.T, s payment.Store, e payment.Event) error {
				mustAdd(t, s, newOp("acme-1", payment.OpCapture, "k1", t0))
				_, err := s.AddOperation(t.Context(), newOp("acme-1", payment.OpCapture, "k1", t0), nil, e)
				return err
			},
		},
		{
			name: "AddOperation on an unknown payment", id: "ghost", wantErr: payment.ErrNotFound,
			fail: func(t *testing.T, s payment.Store, e payment.Event) error {
				_, err := s.AddOperation(t.Context(), newOp("ghost", payment.OpCapture, "k1", t0), nil, e)
				return err
			},
		},
	}
	for _, tt := range failures {
		t.Run("none after failed "+tt.name, func(t *testing.T) {
			s := open(t)
			mustCreate(t, s, newPayment("acme-1"), event("acme-1", payment.EventCreated, t0))
			e := withTasks(event(string(tt.id), payment.EventFailed, t0.Add(time.Minute)), webhook(`{"lost":true}`))
			if err := tt.fail(t, s, e); !errors.Is(err, tt.wantErr) {
				t.Fatalf("%s = %v, want %v", tt.name, err, tt.wantErr)
			}
			if got := mustTasks(t, s, tt.id); len(got) != 0 {
				t.Errorf("Tasks(%s) after failed %s = %d tasks, want none", tt.id, tt.name, len(got))
			}
			if got := mustLeaseTasks(t, s, "w", t0.Add(time.Hour), time.Minute, 10); len(got) != 0 {
				t.Errorf("LeaseTasks after failed %s = %v, want none", tt.name, taskOrders(got))
			}
		})
	}

	t.Run("per payment, in queued order", func(t *testing.T) {
		s := open(t)
		// Queued later with an earlier time: order is the queue's, not the
		// events' times.
		a1 := withTasks(event("a", payment.EventCreated, t0.Add(time.Hour)), webhook(`{"a":1}`))
		b1 := withTasks(event("b", payment.EventCreated, t0), webhook(`{"b":1}`))
		a2 := withTasks(event("a", payment.EventReserved, t0), webhook(`{"a":2}`))
		mustCreate(t, s, newPayment("a"), a1)
		mustCreate(t, s, newPayment("b"), b1)
		a := mustGet(t, s, "a")
		if err := s.Update(t.Context(), a, a2); err != nil {
			t.Fatalf("Update(a) = %v", err)
		}
		ta := checkTasks(t, s, "a", queuedWith(t, "a", mustEvents(t, s, "a"), []payment.Event{a1, a2}))
		tb := checkTasks(t, s, "b", queuedWith(t, "b", mustEvents(t, s, "b"), []payment.Event{b1}))
		if len(ta) == 2 && len(tb) == 1 && (ta[0].ID == tb[0].ID || ta[1].ID == tb[0].ID) {
			t.Errorf("tasks of a and b share an ID: %d, %d and %d", ta[0].ID, ta[1].ID, tb[0].ID)
		}
		if got := mustTasks(t, s, "zzz"); len(got) != 0 {
			t.Errorf("Tasks(unknown) = %d tasks, want none", len(got))
		}
	})
}

func testAddOperationCheck(t *testing.T, open func(t *testing.T) payment.Store) {
	due := t0.Add(payment.OpResumeAfter) // for an operation created at t0
	tests := []struct {
		name       string
		next, want time.Time
	}{
		{"none becomes due", time.Time{}, due},
		{"later becomes due", t0.Add(time.Hour), due},
		{"a second later becomes due", due.Add(time.Second), due},
		{"equal stays", due, due},
		{"sooner stays", t0.Add(5 * time.Second), t0.Add(5 * time.Second)},
		{"overdue stays", t0.Add(-time.Hour), t0.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			p := fullPayment("acme-1")
			p.NextCheckAt = tt.next
			mustCreate(t, s, p)
			before := mustGet(t, s, "acme-1")
			mustAdd(t, s, newOp("acme-1", payment.OpCapture, "k1", t0.In(oslo)))
			want := *before
			want.NextCheckAt, want.Version = tt.want, before.Version+1
			if diff := cmp.Diff(&want, mustGet(t, s, "acme-1"), opts); diff != "" {
				t.Errorf("Get after AddOperation mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("older read conflicts", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		stale := mustGet(t, s, "acme-1")
		mustAdd(t, s, newOp("acme-1", payment.OpRefund, "k1", t0))
		stale.Text = "from before the operation"
		if err := s.Update(t.Context(), stale); !errors.Is(err, payment.ErrConflict) {
			t.Errorf("Update(read before AddOperation) = %v, want ErrConflict: it would undo the check", err)
		}
		fresh := mustGet(t, s, "acme-1")
		if diff := cmp.Diff(due, fresh.NextCheckAt, opts); diff != "" {
			t.Errorf("NextCheckAt after a stale Update (-want +got):\n%s", diff)
		}
		fresh.Text = "read after the operation"
		if err := s.Update(t.Context(), fresh); err != nil {
			t.Errorf("Update(read after AddOperation) = %v, want nil", err)
		}
	})

	t.Run("known key changes nothing", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		mustAdd(t, s, newOp("acme-1", payment.OpCapture, "k1", t0.Add(time.Hour)))
		before := mustGet(t, s, "acme-1")
		// Created sooner: it would move the check if it were stored.
		if _, err := s.AddOperation(t.Context(), newOp("acme-1", payment.OpCapture, "k1", t0), nil); !errors.Is(err, payment.ErrExists) {
			t.Fatalf("AddOperation(known key) = %v, want ErrExists", err)
		}
		if diff := cmp.Diff(before, mustGet(t, s, "acme-1"), opts); diff != "" {
			t.Errorf("AddOperation(known key) changed the payment (-before +after):\n%s", diff)
		}
	})

	t.Run("unknown payment", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"))
		before := mustGet(t, s, "acme-1")
		if _, err := s.AddOperation(t.Context(), newOp("ghost", payment.OpCapture, "k1", t0), nil); !errors.Is(err, payment.ErrNotFound) {
			t.Fatalf("AddOperation(unknown payment) = %v, want ErrNotFound", err)
		}
		if diff := cmp.Diff(before, mustGet(t, s, "acme-1"), opts); diff != "" {
			t.Errorf("AddOperation(unknown payment) changed another payment (-before +after):\n%s", diff)
		}
	})

	t.Run("leased when due", func(t *testing.T) {
		s := open(t)
		p := newPayment("acme-1")
		p.State = payment.Reserved // not polled any more
		mustCreate(t, s, p)
		mustCreate(t, s, newPayment("other"))
		if got := mustLease(t, s, "a", t0.Add(time.Hour), time.Minute, 10); len(got) != 0 {
			t.Fatalf("Lease before AddOperation = %v, want none", ids(got))
		}
		mustAdd(t, s, newOp("acme-1", payment.OpCapture, "k1", t0))
		if got := mustLease(t, s, "a", due.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Errorf("Lease before the operation may resume = %v, want none", ids(got))
		}
		got := mustLease(t, s, "a", due, time.Minute, 10)
		if diff := cmp.Diff(sortedIDs("acme-1"), ids(got)); diff != "" {
			t.Errorf("Lease when the operation may resume (-want +got):\n%s", diff)
		}
	})
}

// taskFixture is a task in a given situation at t0, queued with its own
// payment.
type taskFixture struct {
	id        string
	next, at  time.Time
	status    payment.TaskStatus // as set by UpdateTask; "" leaves it pending
	leaseAt   time.Time          // when not zero, leased to "other" then,
	leaseTTL  time.Duration      // for this long
	due       bool               // whether LeaseTasks at t0 may take it
	wantIndex int                // its place among the due ones
}

// taskFixtures are created in order; the leased ones first, so that their
// leases take nothing else.
var taskFixtures = []taskFixture{
	{id: "lease-expired", next: t0.Add(-2 * time.Hour), at: t0.Add(-2 * time.Hour),
		leaseAt: t0.Add(-40 * time.Second), leaseTTL: 30 * time.Second, due: true, wantIndex: 1},
	{id: "leased", next: t0.Add(-2 * time.Hour), at: t0.Add(-2 * time.Hour),
		leaseAt: t0.Add(-10 * time.Second), leaseTTL: 20 * time.Second},
	{id: "overdue", next: t0.Add(-time.Hour), at: t0.Add(-3 * time.Hour), due: true, wantIndex: 2},
	{id: "due-in-oslo", next: t0.Add(-time.Second).In(oslo), at: t0.Add(-time.Hour), due: true, wantIndex: 3},
	{id: "due-now", at: t0, due: true, wantIndex: 4}, // NextAttemptAt from the event
	{id: "no-time", due: true, wantIndex: 0},         // no time at all: due at once
	{id: "future", next: t0.Add(time.Second), at: t0.Add(-time.Hour)},
	{id: "done", next: t0.Add(-time.Hour), at: t0.Add(-time.Hour), status: payment.TaskDone},
	{id: "dead", next: t0.Add(-time.Hour), at: t0.Add(-time.Hour), status: payment.TaskDead},
}

func createTaskFixtures(t *testing.T, s payment.Store, fs []taskFixture) map[vipps.OrderID]*payment.Task {
	t.Helper()
	m := make(map[vipps.OrderID]*payment.Task)
	for _, f := range fs {
		tk := queueTask(t, s, f.id, f.next, f.at)
		if f.status != "" {
			tk.Status = f.status
			mustUpdateTask(t, s, tk, &payment.TaskAttempt{At: t0.Add(-time.Hour), StatusCode: 200})
		}
		if !f.leaseAt.IsZero() {
			got := mustLeaseTasks(t, s, "other", f.leaseAt, f.leaseTTL, 10)
			if diff := cmp.Diff([]vipps.OrderID{tk.OrderID}, taskOrders(got)); diff != "" {
				t.Fatalf("fixture %s: LeaseTasks mismatch (-want +got):\n%s", f.id, diff)
			}
		}
		ts := mustTasks(t, s, tk.OrderID)
		m[tk.OrderID] = ts[0]
	}
	return m
}

func testLeaseTasks(t *testing.T, open func(t *testing.T) payment.Store) {
	const ttl = 30 * time.Second

	t.Run("due and free only, oldest first", func(t *testing.T) {
		s := open(t)
		before := createTaskFixtures(t, s, taskFixtures)
		// The oldest first, then the rest: a limit takes the oldest.
		got := mustLeaseTasks(t, s, "me", t0, ttl, 1)
		got = append(got, mustLeaseTasks(t, s, "me", t0, ttl, 100)...)
		var want []vipps.OrderID
		for _, f := range taskFixtures {
			if f.due {
				want = append(want, "")
			}
		}
		for _, f := range taskFixtures {
			if f.due {
				want[f.wantIndex] = vipps.OrderID(f.id)
			}
		}
		if diff := cmp.Diff(want, taskOrders(got)); diff != "" {
			t.Errorf("LeaseTasks(me, t0) mismatch (-want +got):\n%s", diff)
		}
		for _, tk := range got {
			// Apart from the lease, the task is as it was.
			want := *before[tk.OrderID]
			want.LeaseOwner, want.LeaseUntil = "me", t0.Add(ttl)
			if diff := cmp.Diff(&want, tk, taskOpts); diff != "" {
				t.Errorf("LeaseTasks: task of %s (-want +got):\n%s", tk.OrderID, diff)
			}
			if tk.ID != want.ID {
				t.Errorf("LeaseTasks: task of %s has ID %d, want %d", tk.OrderID, tk.ID, want.ID)
			}
			if diff := cmp.Diff([]*payment.Task{tk}, mustTasks(t, s, tk.OrderID), taskOpts); diff != "" {
				t.Errorf("Tasks(%s) after LeaseTasks differs from what it returned (-lease +tasks):\n%s", tk.OrderID, diff)
			}
		}
		for _, f := range taskFixtures {
			if f.due {
				continue
			}
			id := vipps.OrderID(f.id)
			if diff := cmp.Diff([]*payment.Task{before[id]}, mustTasks(t, s, id), taskOpts); diff != "" {
				t.Errorf("LeaseTasks changed the task of %s, which it did not take (-before +after):\n%s", id, diff)
			}
		}
	})

	t.Run("empty store", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, newPayment("acme-1"), event("acme-1", payment.EventCreated, t0))
		if got := mustLeaseTasks(t, s, "me", t0, ttl, 10); len(got) != 0 {
			t.Errorf("LeaseTasks(no tasks) = %v, want none", taskOrders(got))
		}
	})

	t.Run("limit and second owner", func(t *testing.T) {
		s := open(t)
		// One event, tasks queued out of due order.
		var qs []payment.Task
		for _, m := range []int{3, 1, 5, 2, 4} {
			q := webhook(fmt.Sprintf(`{"m":%d}`, m))
			q.NextAttemptAt = t0.Add(-time.Duration(m) * time.Minute)
			qs = append(qs, q)
		}
		mustCreate(t, s, newPayment("acme-1"), withTasks(event("acme-1", payment.EventCreated, t0), qs...))
		nexts := func(ts []*payment.Task) []time.Time {
			var out []time.Time
			for _, tk := range ts {
				out = append(out, tk.NextAttemptAt)
			}
			return out
		}
		if got := mustLeaseTasks(t, s, "z", t0, ttl, 0); len(got) != 0 {
			t.Errorf("LeaseTasks(limit 0) = %d tasks, want none", len(got))
		}
		first := mustLeaseTasks(t, s, "a", t0, ttl, 2)
		if diff := cmp.Diff([]time.Time{t0.Add(-5 * time.Minute), t0.Add(-4 * time.Minute)}, nexts(first), opts); diff != "" {
			t.Errorf("LeaseTasks(a, limit 2): NextAttemptAt mismatch (-want +got):\n%s", diff)
		}
		second := mustLeaseTasks(t, s, "b", t0.Add(time.Second), ttl, 10)
		if diff := cmp.Diff([]time.Time{t0.Add(-3 * time.Minute), t0.Add(-2 * time.Minute), t0.Add(-time.Minute)}, nexts(second), opts); diff != "" {
			t.Errorf("LeaseTasks(b, limit 10): NextAttemptAt mismatch (-want +got):\n%s", diff)
		}
		for _, tk := range second {
			if tk.LeaseOwner != "b" {
				t.Errorf("LeaseTasks(b): task %d leased to %q, want b", tk.ID, tk.LeaseOwner)
			}
		}
		if got := mustLeaseTasks(t, s, "c", t0.Add(2*time.Second), ttl, 10); len(got) != 0 {
			t.Errorf("LeaseTasks(c) = %d tasks, want none: all leased", len(got))
		}
	})

	t.Run("after expiry", func(t *testing.T) {
		s := open(t)
		queueTask(t, s, "p1", t0.Add(-time.Minute), t0.Add(-time.Minute))
		queueTask(t, s, "p2", t0.Add(-time.Minute), t0.Add(-time.Minute))
		first := mustLeaseTasks(t, s, "a", t0, ttl, 10)
		if len(first) != 2 {
			t.Fatalf("LeaseTasks(a) = %v, want 2 tasks", taskOrders(first))
		}
		if got := mustLeaseTasks(t, s, "b", t0.Add(ttl), ttl, 10); len(got) != 0 {
			t.Errorf("LeaseTasks(b) as the lease ends = %v, want none", taskOrders(got))
		}
		got := mustLeaseTasks(t, s, "b", t0.Add(ttl+time.Second), ttl, 10)
		if diff := cmp.Diff(taskOrders(first), taskOrders(got)); diff != "" {
			t.Errorf("LeaseTasks(b) after expiry mismatch (-want +got):\n%s", diff)
		}
		for _, tk := range got {
			if tk.LeaseOwner != "b" || cmp.Diff(t0.Add(2*ttl+time.Second), tk.LeaseUntil, opts) != "" {
				t.Errorf("LeaseTasks(b): %s leased to %q until %v, want b until %v", tk.OrderID, tk.LeaseOwner, tk.LeaseUntil, t0.Add(2*ttl+time.Second))
			}
		}
	})

	t.Run("concurrent owners", func(t *testing.T) {
		const (
			payments = 20
			perEvent = 3
			owners   = 4
			rounds   = 3
			limit    = 3
		)
		s := open(t)
		for i := range payments {
			id := fmt.Sprintf("p%02d", i)
			var qs []payment.Task
			for j := range perEvent {
				q := webhook(fmt.Sprintf(`{"j":%d}`, j))
				q.NextAttemptAt = t0.Add(-time.Duration(i*perEvent+j) * time.Second)
				qs = append(qs, q)
			}
			mustCreate(t, s, newPayment(id), withTasks(event(id, payment.EventCreated, t0), qs...))
		}
		for round := range rounds {
			// Each round starts after the last round's leases expired.
			now := t0.Add(time.Duration(round) * 2 * ttl)
			taken := leaseRace(t, round, owners, payments*perEvent, limit, "LeaseTasks",
				func(owner string) ([]int64, error) {
					ts, err := s.LeaseTasks(t.Context(), owner, now, ttl, limit)
					var keys []int64
					for _, tk := range ts {
						keys = append(keys, tk.ID)
					}
					return keys, err
				})
			if len(taken) != payments*perEvent {
				t.Errorf("round %d: %d tasks leased, want %d", round, len(taken), payments*perEvent)
			}
			for i := range payments {
				for _, tk := range mustTasks(t, s, vipps.OrderID(fmt.Sprintf("p%02d", i))) {
					if tk.LeaseOwner != taken[tk.ID] {
						t.Errorf("round %d: task %d: LeaseOwner = %q, want %q", round, tk.ID, tk.LeaseOwner, taken[tk.ID])
					}
				}
			}
		}
	})
}

func testUpdateTask(t *testing.T, open func(t *testing.T) payment.Store) {
	const ttl = 30 * time.Second

	t.Run("attempts logged", func(t *testing.T) {
		s := open(t)
		queueTask(t, s, "acme-1", t0, t0)
		other := queueTask(t, s, "acme-2", t0.Add(time.Hour), t0)
		leased := mustLeaseTasks(t, s, "w", t0, ttl, 10)
		if len(leased) != 1 {
			t.Fatalf("LeaseTasks = %v, want the task of acme-1", taskOrders(leased))
		}
		tk := leased[0]

		tk.Attempts, tk.NextAttemptAt, tk.LastError = 1, t0.Add(time.Minute), "HTTP 500"
		a1 := payment.TaskAttempt{At: t0.Add(time.Second).In(oslo), Duration: 1234567 * time.Nanosecond,
			StatusCode: 500, Error: "HTTP 500: Internal Server Error"}
		mustUpdateTask(t, s, tk, &a1)
		if diff := cmp.Diff(a1.At, tk.UpdatedAt, opts); diff != "" {
			t.Errorf("UpdateTask: t.UpdatedAt (-attempt.At +got):\n%s", diff)
		}
		if tk.LeaseOwner != "" || !tk.LeaseUntil.IsZero() {
			t.Errorf("UpdateTask: t's lease = %q until %v, want cleared", tk.LeaseOwner, tk.LeaseUntil)
		}
		want := *tk
		want.Log = []payment.TaskAttempt{a1}
		checkTasks(t, s, "acme-1", []*payment.Task{&want})

		tk.Status, tk.Attempts, tk.NextAttemptAt, tk.LastError = payment.TaskDone, 2, time.Time{}, ""
		a2 := payment.TaskAttempt{At: t0.Add(time.Minute + time.Second), Duration: 80 * time.Millisecond, StatusCode: 204}
		mustUpdateTask(t, s, tk, &a2)
		want = *tk
		want.Log = []payment.TaskAttempt{a1, a2}
		want.UpdatedAt = a2.At
		checkTasks(t, s, "acme-1", []*payment.Task{&want})

		checkTasks(t, s, "acme-2", []*payment.Task{other})
	})

	t.Run("frees the lease", func(t *testing.T) {
		s := open(t)
		queueTask(t, s, "acme-1", t0, t0)
		leased := mustLeaseTasks(t, s, "a", t0, ttl, 10)
		if len(leased) != 1 {
			t.Fatalf("LeaseTasks(a) = %v, want one task", taskOrders(leased))
		}
		tk := leased[0]
		tk.Attempts, tk.LastError = 1, "timeout" // due again at once
		mustUpdateTask(t, s, tk, &payment.TaskAttempt{At: t0.Add(time.Second), Duration: 10 * time.Second, Error: "timeout"})
		got := mustLeaseTasks(t, s, "b", t0.Add(2*time.Second), ttl, 10)
		if len(got) != 1 || got[0].ID != tk.ID || got[0].LeaseOwner != "b" {
			t.Errorf("LeaseTasks(b) before a's lease ended = %+v, want task %d leased to b: UpdateTask frees the lease", got, tk.ID)
		}
	})

	t.Run("without attempt", func(t *testing.T) {
		s := open(t)
		tk := queueTask(t, s, "acme-1", t0, t0)
		a1 := payment.TaskAttempt{At: t0.Add(time.Second), Duration: time.Second, StatusCode: 410, Error: "HTTP 410"}
		tk.Attempts, tk.LastError = 1, "HTTP 410"
		mustUpdateTask(t, s, tk, &a1)

		tk.Status = payment.TaskDead // staff gives up
		start := time.Now()
		mustUpdateTask(t, s, tk, nil)
		end := time.Now()
		got := mustTasks(t, s, "acme-1")
		if len(got) != 1 {
			t.Fatalf("Tasks = %d tasks, want 1", len(got))
		}
		if at := got[0].UpdatedAt; at.Before(start.Add(-time.Microsecond)) || at.After(end.Add(time.Microsecond)) {
			t.Errorf("UpdateTask(no attempt): UpdatedAt = %v, want the time of the call, in [%v, %v]", at, start, end)
		}
		want := *tk
		want.Log = []payment.TaskAttempt{a1}
		checkTasks(t, s, "acme-1", []*payment.Task{&want})
	})

	t.Run("unknown task", func(t *testing.T) {
		s := open(t)
		tk := queueTask(t, s, "acme-1", t0, t0)
		ghost := *tk
		ghost.ID = tk.ID + 1000
		ghost.Status = payment.TaskDone
		err := s.UpdateTask(t.Context(), &ghost, &payment.TaskAttempt{At: t0, StatusCode: 200})
		if !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("UpdateTask(unknown id) = %v, want ErrNotFound", err)
		}
		checkTasks(t, s, "acme-1", []*payment.Task{tk})
	})
}

func testRetryTask(t *testing.T, open func(t *testing.T) payment.Store) {
	const ttl = 30 * time.Second
	retryAt := t0.Add(time.Hour)

	for _, status := range []payment.TaskStatus{payment.TaskDead, payment.TaskDone} {
		t.Run(string(status), func(t *testing.T) {
			s := open(t)
			tk := queueTask(t, s, "acme-1", t0, t0)
			tk.Status, tk.Attempts, tk.LastError, tk.NextAttemptAt = status, 5, "gave up", time.Time{}
			a := payment.TaskAttempt{At: t0.Add(time.Minute), Duration: time.Second, StatusCode: 502, Error: "HTTP 502"}
			mustUpdateTask(t, s, tk, &a)
			if got := mustLeaseTasks(t, s, "w", retryAt, ttl, 10); len(got) != 0 {
				t.Fatalf("LeaseTasks(%s task) = %v, want none", status, taskOrders(got))
			}

			if err := s.RetryTask(t.Context(), tk.ID, retryAt.In(oslo)); err != nil {
				t.Fatalf("RetryTask(%d) = %v, want nil", tk.ID, err)
			}
			want := *tk
			want.Status, want.NextAttemptAt, want.UpdatedAt = payment.TaskPending, retryAt, retryAt
			want.Log = []payment.TaskAttempt{a}
			checkTasks(t, s, "acme-1", []*payment.Task{&want})

			if got := mustLeaseTasks(t, s, "w", retryAt.Add(-time.Second), ttl, 10); len(got) != 0 {
				t.Errorf("LeaseTasks before the retry is due = %v, want none", taskOrders(got))
			}
			got := mustLeaseTasks(t, s, "w", retryAt, ttl, 10)
			if len(got) != 1 || got[0].ID != tk.ID {
				t.Errorf("LeaseTasks when the retry is due = %+v, want task %d", got, tk.ID)
			}
		})
	}

	t.Run("leased", func(t *testing.T) {
		s := open(t)
		queueTask(t, s, "acme-1", t0, t0)
		leased := mustLeaseTasks(t, s, "a", t0, ttl, 10)
		if len(leased) != 1 {
			t.Fatalf("LeaseTasks(a) = %v, want one task", taskOrders(leased))
		}
		if err := s.RetryTask(t.Context(), leased[0].ID, t0.Add(time.Second)); err != nil {
			t.Fatalf("RetryTask = %v, want nil", err)
		}
		got := mustLeaseTasks(t, s, "b", t0.Add(time.Second), ttl, 10)
		if len(got) != 1 || got[0].LeaseOwner != "b" {
			t.Errorf("LeaseTasks(b) after RetryTask = %+v, want the task leased to b: RetryTask frees the lease", got)
		}
	})

	t.Run("unknown task", func(t *testing.T) {
		s := open(t)
		tk := queueTask(t, s, "acme-1", t0, t0)
		if err := s.RetryTask(t.Context(), tk.ID+1000, retryAt); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("RetryTask(unknown id) = %v, want ErrNotFound", err)
		}
		checkTasks(t, s, "acme-1", []*payment.Task{tk})
	})
}
