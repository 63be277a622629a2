package poller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// gatedVipps is the simulator's client with a hook run before every
// Details call, so that a test can hold a check in flight.
type gatedVipps struct {
	payment.Vipps
	mu   sync.Mutex
	hook func(ctx context.Context, id vipps.OrderID) error
}

func (g *gatedVipps) setHook(h func(ctx context.Context, id vipps.OrderID) error) {
	g.mu.Lock()
	g.hook = h
	g.mu.Unlock()
}

func (g *gatedVipps) Details(ctx context.Context, id vipps.OrderID) (*vipps.PaymentDetails, error) {
	g.mu.Lock()
	h := g.hook
	g.mu.Unlock()
	if h != nil {
		if err := h(ctx, id); err != nil {
			return nil, err
		}
	}
	return g.Vipps.Details(ctx, id)
}

// env is the shared harness (internal/servicetest) under the names these
// tests use, on a servicetest.ManualClock: it stands still until a test
// moves it, so that stored times compare exactly. vipps is the service's
// Vipps client, which a test can hold in Details.
type env struct {
	*servicetest.Env
	t     *testing.T
	sim   *vippstest.Server
	store servicetest.Store
	svc   *payment.Service
	clock servicetest.Clock
	vipps *gatedVipps
}

func newEnv(t *testing.T, opts ...func(*payment.Config)) *env {
	t.Helper()
	g := &gatedVipps{}
	gate := func(c *payment.Config) { g.Vipps, c.Vipps = c.Vipps, g }
	e := servicetest.New(t, servicetest.WithClock(servicetest.NewManualClock(time.Now())),
		servicetest.WithPayment(append([]func(*payment.Config){gate}, opts...)...))
	return &env{Env: e, t: t, sim: e.Sim, store: e.Store, svc: e.Service, clock: e.Clock, vipps: g}
}

func withWebhooks(c *payment.Config) { c.Webhooks = true }

func (e *env) create(req payment.CreateRequest) *payment.Payment {
	e.t.Helper()
	return e.Create(req)
}

// approve approves the payment in the simulator and waits until the
// service has handled the callback; the payment is then reserved.
func (e *env) approve(id vipps.OrderID) *payment.Payment {
	e.t.Helper()
	p := e.Approve(id)
	if p.State != payment.Reserved {
		e.t.Fatalf("after approval and its callback, payment %s is %s, want reserved", id, p.State)
	}
	return p
}

func (e *env) get(id vipps.OrderID) *payment.Payment {
	e.t.Helper()
	return e.Get(id)
}

// tasks returns the payment's webhook and receipt tasks; supersede tasks
// are left out (TestSupersedeByOutbox has them).
func (e *env) tasks(id vipps.OrderID) []*payment.Task {
	e.t.Helper()
	ts, err := e.store.Tasks(context.Background(), id)
	if err != nil {
		e.t.Fatalf("Tasks(%s) = %v", id, err)
	}
	return slices.DeleteFunc(ts, func(t *payment.Task) bool { return t.Kind == payment.TaskSupersede })
}

func (e *env) events(id vipps.OrderID) []payment.Event {
	e.t.Helper()
	return e.Events(id)
}

// details counts the details requests the simulator got, by orderId.
func (e *env) details() map[vipps.OrderID]int {
	n := map[vipps.OrderID]int{}
	for _, r := range e.sim.Sim.Requests() {
		if r.Op == "details" {
			n[r.OrderID]++
		}
	}
	return n
}

func (e *env) poller(owner string, opts ...func(*poller.Config)) *poller.Poller {
	e.t.Helper()
	return e.NewPoller(owner, opts...)
}

// observed collects what a Poller or Outbox reports through Observe.
type observed struct {
	mu   sync.Mutex
	errs []error
	ch   chan error // when set, each outcome is sent here too
}

func (o *observed) add(err error) {
	o.mu.Lock()
	o.errs = append(o.errs, err)
	ch := o.ch
	o.mu.Unlock()
	if ch != nil {
		ch <- err
	}
}

func (o *observed) all() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.errs...)
}

// start runs run (a Poller's or an Outbox's Run) in a goroutine of its own,
// with a ctx that cancel ends, as the end of the test does; done receives
// what run returned.
func start(t *testing.T, run func(context.Context) error) (cancel context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan error, 1)
	go func() { ch <- run(ctx) }()
	return cancel, ch
}

// within returns what ch gives within d, or ends the test with msg.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, msg string) (v T) {
	t.Helper()
	select {
	case v = <-ch:
	case <-time.After(d):
		t.Fatal(msg)
	}
	return v
}

// hold returns a channel that stays open until release is called; the
// test's cleanup releases it too, so that nothing it holds outlives the
// test (and, registered before, the servers the test closes).
func hold(t *testing.T) (held <-chan struct{}, release func()) {
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return ch, release
}

func TestNew(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name    string
		cfg     poller.Config
		wantErr bool
	}{
		{"complete", poller.Config{Store: e.store, Service: e.svc, Owner: "a"}, false},
		{"no store", poller.Config{Service: e.svc, Owner: "a"}, true},
		{"no service", poller.Config{Store: e.store, Owner: "a"}, true},
		{"no owner", poller.Config{Store: e.store, Service: e.svc}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := poller.New(tt.cfg)
			if (err != nil) != tt.wantErr || (err == nil) != (p != nil) {
				t.Errorf("New(%+v) = %v, %v; want error %v", tt.cfg, p, err, tt.wantErr)
			}
		})
	}
}

func TestPollChecksDuePaymentsAndFreesLeases(t *testing.T) {
	e := newEnv(t)
	// Vipps' callbacks are lost: only the poller learns what happened.
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	t0 := e.clock.Now()
	first := e.create(payment.CreateRequest{})
	e.clock.Advance(3 * time.Second)
	second := e.create(payment.CreateRequest{})
	if err := e.sim.Sim.Approve(first.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	var obs observed
	pl := e.poller("a", func(c *poller.Config) { c.Observe = obs.add })

	// first is due at t0+5s (FirstDelay), second at t0+8s.
	steps := []struct {
		at          time.Duration // since t0
		wantLeased  int
		wantDetails map[vipps.OrderID]int
	}{
		{3 * time.Second, 0, map[vipps.OrderID]int{}},
		{5 * time.Second, 1, map[vipps.OrderID]int{first.OrderID: 1}},
		{7 * time.Second, 0, map[vipps.OrderID]int{first.OrderID: 1}}, // first is reserved: no more checks
		{8 * time.Second, 1, map[vipps.OrderID]int{first.OrderID: 1, second.OrderID: 1}},
	}
	for _, s := range steps {
		e.clock.Advance(t0.Add(s.at).Sub(e.clock.Now()))
		n, err := pl.Poll(context.Background())
		if err != nil || n != s.wantLeased {
			t.Fatalf("at t0+%v: Poll(...) = %d, %v; want %d, nil", s.at, n, err, s.wantLeased)
		}
		if diff := cmp.Diff(s.wantDetails, e.details()); diff != "" {
			t.Fatalf("at t0+%v: details requests by order (-want +got):\n%s", s.at, diff)
		}
	}
	for _, err := range obs.all() {
		if err != nil {
			t.Errorf("Observe got %v, want every check to succeed", err)
		}
	}
	if got := len(obs.all()); got != 2 {
		t.Errorf("Observe called %d times, want 2", got)
	}

	type row struct {
		State       payment.State
		NextCheckAt time.Time
		LeaseOwner  string
		LeaseUntil  time.Time
	}
	for _, tt := range []struct {
		id   vipps.OrderID
		want row
	}{
		// Reserved: nothing depends on the customer any more.
		{first.OrderID, row{State: payment.Reserved}},
		// Still waiting: checked again Interval (2 s) after this check.
		{second.OrderID, row{State: payment.Initiated, NextCheckAt: t0.Add(10 * time.Second)}},
	} {
		p := e.get(tt.id)
		got := row{p.State, p.NextCheckAt, p.LeaseOwner, p.LeaseUntil}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("payment %s after Poll (-want +got):\n%s", tt.id, diff)
		}
	}
}

func TestPollTakesOverExpiredLease(t *testing.T) {
	e := newEnv(t)
	p := e.create(payment.CreateRequest{})
	now := e.clock.Advance(payment.DefaultSchedule.FirstDelay)
	// A replica leases the payment and dies.
	leased, err := e.store.Lease(context.Background(), "crashed", now, time.Minute, 10)
	if err != nil || len(leased) != 1 {
		t.Fatalf("Lease(crashed) = %d payments, %v; want 1", len(leased), err)
	}
	pl := e.poller("b", func(c *poller.Config) { c.LeaseTTL = time.Minute })
	if n, err := pl.Poll(context.Background()); n != 0 || err != nil {
		t.Fatalf("Poll(...) while another lease holds = %d, %v; want 0, nil", n, err)
	}
	if got := e.details()[p.OrderID]; got != 0 {
		t.Fatalf("details requests while another lease holds = %d, want 0", got)
	}
	e.clock.Advance(time.Minute + time.Millisecond)
	if n, err := pl.Poll(context.Background()); n != 1 || err != nil {
		t.Fatalf("Poll(...) after the lease expired = %d, %v; want 1, nil", n, err)
	}
	if got := e.details()[p.OrderID]; got != 1 {
		t.Errorf("details requests after the takeover = %d, want 1", got)
	}
	if got := e.get(p.OrderID); got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
		t.Errorf("lease after the check = %q until %v, want none", got.LeaseOwner, got.LeaseUntil)
	}
}

func TestTwoPollersNeverCheckOnePaymentTwice(t *testing.T) {
	e := newEnv(t)
	const payments = 50
	var ids []vipps.OrderID
	for range payments {
		ids = append(ids, e.create(payment.CreateRequest{}).OrderID)
	}
	var obs observed
	pollers := []*poller.Poller{
		e.poller("a", func(c *poller.Config) { c.Batch, c.Workers, c.Observe = 7, 4, obs.add }),
		e.poller("b", func(c *poller.Config) { c.Batch, c.Workers, c.Observe = 7, 4, obs.add }),
	}
	// Round 1 is the first check (FirstDelay), round 2 the next (Interval).
	for round, advance := range []time.Duration{payment.DefaultSchedule.FirstDelay, payment.DefaultSchedule.Interval} {
		e.clock.Advance(advance)
		var (
			wg     sync.WaitGroup
			leased atomic.Int64
			start  = make(chan struct{})
			errs   = make(chan error, len(pollers))
		)
		for _, pl := range pollers {
			wg.Go(func() {
				<-start
				for {
					n, err := pl.Poll(context.Background())
					if err != nil {
						errs <- err
						return
					}
					if n == 0 {
						return
					}
					leased.Add(int64(n))
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: Poll(...) = %v", round+1, err)
		}
		if got := leased.Load(); got != payments {
			t.Errorf("round %d: the pollers leased %d payments, want %d", round+1, got, payments)
		}
		got := e.details()
		want := map[vipps.OrderID]int{}
		for _, id := range ids {
			want[id] = round + 1
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: details requests by order (-want +got):\n%s", round+1, diff)
		}
	}
	for _, err := range obs.all() {
		if err != nil {
			t.Errorf("Observe got %v, want every check to succeed", err)
		}
	}
	for _, id := range ids {
		if p := e.get(id); p.LeaseOwner != "" {
			t.Errorf("payment %s: lease held by %q after the rounds, want none", id, p.LeaseOwner)
		}
	}
}

func TestRunDrain(t *testing.T) {
	for _, tt := range []struct {
		name  string
		drain time.Duration
		// release lets the check in flight finish after ctx ends; without
		// it, the check waits until Drain cuts it.
		release bool
	}{
		{"work in flight finishes", time.Minute, true},
		{"work in flight is cut at Drain", 200 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.create(payment.CreateRequest{})
			e.clock.Advance(payment.DefaultSchedule.FirstDelay)
			started := make(chan struct{}, 1)
			release, releaseCheck := hold(t)
			ended := make(chan error, 1) // why the held check stopped waiting
			e.vipps.setHook(func(ctx context.Context, id vipps.OrderID) error {
				started <- struct{}{}
				var err error
				select {
				case <-release:
				case <-ctx.Done():
					err = ctx.Err()
				}
				ended <- err
				return err
			})
			obs := observed{ch: make(chan error, 1)}
			pl := e.poller("a", func(c *poller.Config) { c.Drain, c.Observe = tt.drain, obs.add })

			cancel, done := start(t, pl.Run)
			within(t, started, 10*time.Second, "Run did not check the due payment within 10 s")
			cancelled := time.Now()
			cancel()
			if tt.release {
				releaseCheck()
			}
			err := within(t, done, tt.drain+10*time.Second, fmt.Sprintf("Run did not return within Drain (%v) + 10 s of ctx ending", tt.drain))
			elapsed := time.Since(cancelled)
			if err != nil {
				t.Errorf("Run(...) = %v, want nil", err)
			}
			why := <-ended
			checkErr := <-obs.ch
			if tt.release {
				if why != nil || checkErr != nil {
					t.Errorf("check in flight: ended by %v, outcome %v; want it to finish (nil, nil)", why, checkErr)
				}
				if got := e.get(p.OrderID); got.LeaseOwner != "" {
					t.Errorf("lease after a finished check = %q, want none", got.LeaseOwner)
				}
				if got := e.details()[p.OrderID]; got != 1 {
					t.Errorf("details requests = %d, want 1", got)
				}
				return
			}
			if !errors.Is(why, context.Canceled) || checkErr == nil {
				t.Errorf("check in flight: ended by %v, outcome %v; want context.Canceled and an error", why, checkErr)
			}
			if elapsed < tt.drain || elapsed > tt.drain+5*time.Second {
				t.Errorf("Run returned %v after ctx ended, want Drain (%v) and not much more", elapsed, tt.drain)
			}
		})
	}
}

// countingStore counts the leases taken through it.
type countingStore struct {
	payment.Store
	leases atomic.Int64
}

func (s *countingStore) Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Payment, error) {
	s.leases.Add(1)
	return s.Store.Lease(ctx, owner, now, ttl, limit)
}

func (s *countingStore) LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error) {
	s.leases.Add(1)
	return s.Store.LeaseTasks(ctx, owner, now, ttl, limit)
}

// TestRunAfterCtxEnded checks that Run starts no work once its context has
// ended, even though its timer is ready too. Each run could poll by chance
// if Run picked the timer over ctx; 50 runs make that certain to show.
func TestRunAfterCtxEnded(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.store}
	svc, err := payment.NewService(payment.Config{Store: cs, Vipps: e.vipps, PublicURL: "http://127.0.0.1:1",
		ReturnKey: []byte(strings.Repeat("k", 32)), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := poller.New(poller.Config{Store: cs, Service: svc, Owner: "a", Loop: poller.Loop{Now: e.clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := poller.NewOutbox(poller.OutboxConfig{Store: cs, Service: svc, Owner: "a", Loop: poller.Loop{Now: e.clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"Poller", pl.Run},
		{"Outbox", ob.Run},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs.leases.Store(0)
			for range 50 {
				if err := tt.run(ctx); err != nil {
					t.Fatalf("Run(cancelled ctx) = %v, want nil", err)
				}
			}
			if n := cs.leases.Load(); n != 0 {
				t.Errorf("50 × Run(cancelled ctx) leased %d times, want 0", n)
			}
		})
	}
}
