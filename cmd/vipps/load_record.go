package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/sqlite"
)

// recordingStore is a payment.Store that records every write the service
// makes through it (Create, Update, AddOperation, UpdateOperation, and the
// leases and task writes), with copies of what was written, in the order
// the calls were made. vipps load runs one payment through the real
// service on it, then replays that payment's writes as the bound-sqlite
// scenario: the write transactions are recorded rather than written down
// from reading the code, so that the bound stays the service's own when
// the service changes how many writes a payment takes, or which.
//
// Reads pass through unrecorded. A store's optional interfaces (such as
// payment.Scrubber) are hidden by the wrapper; the load's payments need
// none of them.
type recordingStore struct {
	payment.Store
	mu    sync.Mutex
	calls []storeCall
}

// storeCall is one recorded write: the method, the payment it was about,
// copies of its arguments as they were passed, and its outcome.
type storeCall struct {
	method  string
	orderID vipps.OrderID // "" for writes of no one payment (leases)
	p       *payment.Payment
	op      *payment.Operation
	claim   *payment.Claim
	events  []payment.Event
	opID    int64 // AddOperation: the id the store gave the operation
	err     error
}

func (r *recordingStore) record(c storeCall) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

func (r *recordingStore) Create(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	c := storeCall{method: "Create", orderID: p.OrderID, p: clonePayment(p), events: cloneEvents(events)}
	c.err = r.Store.Create(ctx, p, events...)
	r.record(c)
	return c.err
}

func (r *recordingStore) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	c := storeCall{method: "Update", orderID: p.OrderID, p: clonePayment(p), events: cloneEvents(events)}
	c.err = r.Store.Update(ctx, p, events...)
	r.record(c)
	return c.err
}

func (r *recordingStore) AddOperation(ctx context.Context, op *payment.Operation, claim *payment.Claim, events ...payment.Event) (*payment.Operation, error) {
	c := storeCall{method: "AddOperation", orderID: op.OrderID, op: cloneOp(op), events: cloneEvents(events)}
	if claim != nil {
		cl := *claim
		c.claim = &cl
	}
	got, err := r.Store.AddOperation(ctx, op, claim, events...)
	if got != nil {
		c.opID = got.ID
	}
	c.err = err
	r.record(c)
	return got, err
}

func (r *recordingStore) UpdateOperation(ctx context.Context, op *payment.Operation, p *payment.Payment, events ...payment.Event) error {
	c := storeCall{method: "UpdateOperation", orderID: op.OrderID, op: cloneOp(op), p: clonePayment(p), events: cloneEvents(events)}
	c.err = r.Store.UpdateOperation(ctx, op, p, events...)
	r.record(c)
	return c.err
}

func (r *recordingStore) Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Payment, error) {
	ps, err := r.Store.Lease(ctx, owner, now, ttl, limit)
	r.record(storeCall{method: "Lease", err: err})
	return ps, err
}

func (r *recordingStore) LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error) {
	ts, err := r.Store.LeaseTasks(ctx, owner, now, ttl, limit)
	r.record(storeCall{method: "LeaseTasks", err: err})
	return ts, err
}

func (r *recordingStore) UpdateTask(ctx context.Context, t *payment.Task, attempt *payment.TaskAttempt) error {
	err := r.Store.UpdateTask(ctx, t, attempt)
	r.record(storeCall{method: "UpdateTask", orderID: t.OrderID, err: err})
	return err
}

func (r *recordingStore) RetryTask(ctx context.Context, id int64, now time.Time) error {
	err := r.Store.RetryTask(ctx, id, now)
	r.record(storeCall{method: "RetryTask", err: err})
	return err
}

// of returns the successful writes about the payment id, in order.
func (r *recordingStore) of(id vipps.OrderID) (writes []storeCall, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		switch {
		case c.orderID != id:
		case c.err != nil:
			failed++
		default:
			writes = append(writes, c)
		}
	}
	return writes, failed
}

func clonePayment(p *payment.Payment) *payment.Payment {
	if p == nil {
		return nil
	}
	c := *p
	c.Facts = slices.Clone(p.Facts)
	return &c
}

func cloneOp(op *payment.Operation) *payment.Operation {
	c := *op
	return &c
}

func cloneEvents(events []payment.Event) []payment.Event {
	c := slices.Clone(events)
	for i := range c {
		c[i].Tasks = slices.Clone(c[i].Tasks)
	}
	return c
}

// writeRecord is what the recording found: the write transactions the
// service made for one payment.
type writeRecord struct {
	OrderID  string   `json:"orderId"`
	Writes   int      `json:"writesPerPayment"`
	Sequence []string `json:"sequence"`
	// Failed counts writes about the payment that the store refused (a
	// conflict between the callback and another check); they are not
	// replayed.
	Failed int `json:"failed,omitempty"`
}

// recordPayment runs the real service (serve's own wiring, with its
// simulator, in this process) on a recording store, makes one payment
// through it as the service-sqlite scenario does, and returns the writes
// made for it.
func (l *loadRun) recordPayment(ctx context.Context) ([]storeCall, *writeRecord, error) {
	f, err := parseServeFlags(discardEnv(), []string{"-addr", "127.0.0.1:0", "-database", filepath.Join(l.dir, "record.db"),
		"-log-level", "error", "-shutdown-timeout", "2s"})
	if err != nil {
		return nil, nil, fmt.Errorf("record the writes of a payment: %w", err)
	}
	rs := &recordingStore{}
	f.wrapStore = func(st payment.Store) payment.Store {
		rs.Store = st
		return rs
	}
	app, err := startServe(ctx, f, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, fmt.Errorf("record the writes of a payment: %w", err)
	}
	hc := newLoadClient(1)
	d := &shopDriver{hc: hc, apiKey: f.apiKey, urls: []string{app.url}, sim: app.simURL}
	id, err := d.payment(ctx)
	hc.CloseIdleConnections()
	// Closing waits for the service's work in flight, so that a write
	// after the capture's answer is recorded too.
	if cerr := app.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("record the writes of a payment: %w", err)
	}
	writes, failed := rs.of(vipps.OrderID(id))
	rec := &writeRecord{OrderID: id, Writes: len(writes), Failed: failed}
	for _, w := range writes {
		rec.Sequence = append(rec.Sequence, w.method)
	}
	return writes, rec, nil
}

// setupBound records the service's writes of one payment and returns the
// bound-sqlite scenario, which replays them on a SQLite store of its own
// at synchronous=NORMAL.
func (l *loadRun) setupBound(ctx context.Context) (*scenario, *writeRecord, error) {
	writes, rec, err := l.recordPayment(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range writes {
		switch w.method {
		case "Create", "Update", "AddOperation", "UpdateOperation":
		default:
			return nil, nil, fmt.Errorf("bound-sqlite: the service wrote %s for a payment, which vipps load cannot replay yet", w.method)
		}
	}
	st, err := sqlite.OpenWith(ctx, filepath.Join(l.dir, "bound.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		return nil, nil, fmt.Errorf("bound-sqlite: %w", err)
	}
	l.onClose(st.Close)
	var n atomic.Int64
	// The bound runs in this process alone, so this process's CPU is the
	// writes' (and their driver's).
	sc := &scenario{name: scBoundSQLite, unit: "payments", pids: thisProcess, do: func(ctx context.Context) error {
		id := vipps.OrderID(fmt.Sprintf("bound-%s-%d", l.id, n.Add(1)))
		return replay(ctx, st, writes, id)
	}}
	return sc, rec, nil
}

// replay makes the recorded writes again, in order, for the payment id:
// the same arguments with the orderId replaced, operation ids mapped to
// those the store gives the replayed operations.
func replay(ctx context.Context, st payment.Store, writes []storeCall, id vipps.OrderID) error {
	ops := map[int64]int64{}
	for _, w := range writes {
		events := cloneEvents(w.events)
		for i := range events {
			events[i].OrderID = id
			for j := range events[i].Tasks {
				events[i].Tasks[j].OrderID = id
			}
		}
		var p *payment.Payment
		if w.p != nil {
			p = clonePayment(w.p)
			p.OrderID = id
			for i := range p.Facts {
				p.Facts[i].OrderID = id
			}
		}
		var op *payment.Operation
		if w.op != nil {
			op = cloneOp(w.op)
			op.OrderID = id
		}
		var err error
		switch w.method {
		case "Create":
			err = st.Create(ctx, p, events...)
		case "Update":
			err = st.Update(ctx, p, events...)
		case "AddOperation":
			var claim *payment.Claim
			if w.claim != nil {
				cl := *w.claim
				claim = &cl
			}
			op.ID = 0
			var got *payment.Operation
			if got, err = st.AddOperation(ctx, op, claim, events...); err == nil {
				ops[w.opID] = got.ID
			}
		case "UpdateOperation":
			op.ID = ops[w.op.ID]
			err = st.UpdateOperation(ctx, op, p, events...)
		}
		if err != nil {
			return fmt.Errorf("replay %s of %s: %w", w.method, id, err)
		}
	}
	return nil
}
