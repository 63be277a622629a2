package payment_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/vippstest"
)

// countingVipps counts the details calls the service makes.
type countingVipps struct {
	payment.Vipps
	details atomic.Int64
}

func (c *countingVipps) Details(ctx context.Context, id vipps.OrderID) (*vipps.PaymentDetails, error) {
	c.details.Add(1)
	return c.Vipps.Details(ctx, id)
}

func withCounter(c *countingVipps) func(*payment.Config) {
	return func(cfg *payment.Config) {
		c.Vipps = cfg.Vipps
		cfg.Vipps = c
	}
}

// notifyingStore tells waiters when a payment leaves the customer's hands,
// so that the benchmark waits without polling the database.
type notifyingStore struct {
	payment.Store
	mu      sync.Mutex
	waiters map[vipps.OrderID]chan payment.State
}

func (s *notifyingStore) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	err := s.Store.Update(ctx, p, events...)
	if err == nil && !p.State.WaitingForCustomer() {
		s.mu.Lock()
		if ch, ok := s.waiters[p.OrderID]; ok {
			delete(s.waiters, p.OrderID)
			ch <- p.State
		}
		s.mu.Unlock()
	}
	return err
}

// wait returns a channel that gets the payment's state once it is no
// longer waiting for the customer.
func (s *notifyingStore) wait(id vipps.OrderID) <-chan payment.State {
	ch := make(chan payment.State, 1)
	s.mu.Lock()
	s.waiters[id] = ch
	s.mu.Unlock()
	return ch
}

func withNotify(n *notifyingStore) func(*payment.Config) {
	return func(cfg *payment.Config) {
		n.Store, n.waiters = cfg.Store, map[vipps.OrderID]chan payment.State{}
		cfg.Store = n
	}
}

// waitReserved waits for the payment to leave the customer's hands.
func waitReserved(ctx context.Context, st payment.Store, id vipps.OrderID) (*payment.Payment, error) {
	for {
		p, err := st.Get(ctx, id)
		if err != nil || !p.State.WaitingForCustomer() {
			return p, err
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// BenchmarkCompletedPayments measures whole payments through the service on
// SQLite against the in-process simulator: create, approve (the simulator's
// user), the callback and the details check it triggers, and a full
// capture. It reports payments/s and details calls per payment.
func BenchmarkCompletedPayments(b *testing.B) {
	var counter countingVipps
	var notify notifyingStore
	e := newEnv(b, withCounter(&counter), withNotify(&notify))
	ctx := context.Background()
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := e.svc.Create(ctx, payment.CreateRequest{Amount: 1000, Text: "Bench"})
			if err != nil {
				b.Error(err)
				return
			}
			done := notify.wait(p.OrderID)
			if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
				b.Error(err)
				return
			}
			select {
			case st := <-done:
				if st != payment.Reserved {
					b.Errorf("payment %s: %s, want reserved", p.OrderID, st)
					return
				}
			case <-time.After(10 * time.Second):
				b.Errorf("payment %s: not reserved after 10 s", p.OrderID)
				return
			}
			op, err := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{})
			if err != nil || op.Status != payment.OpSucceeded {
				b.Errorf("capture %s: %v %v", p.OrderID, op, err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "payments/s")
	b.ReportMetric(float64(counter.details.Load())/float64(b.N), "details/payment")
}

// BenchmarkLostCallbacks approves payments whose callbacks all get lost and
// lets the poller (on the real clock) find out: it reports the details
// calls per payment and the slowest time from the user's approval to the
// payment being reserved in the service.
func BenchmarkLostCallbacks(b *testing.B) {
	var counter countingVipps
	e := newEnv(b, withCounter(&counter))
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pl, err := poller.New(poller.Config{Store: e.store, Service: e.svc, Owner: "bench",
		Loop: poller.Loop{Now: e.clock.Now, Interval: 50 * time.Millisecond}})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { pl.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	n := max(b.N, 20)
	ids := make([]vipps.OrderID, n)
	for i := range ids {
		p, err := e.svc.Create(ctx, payment.CreateRequest{Amount: 1000, Text: "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = p.OrderID
	}
	b.ResetTimer()
	// The users approve over three seconds, as real customers would.
	approved := make([]time.Time, n)
	var slowest []time.Duration
	var mu sync.Mutex
	var done sync.WaitGroup
	for i, id := range ids {
		time.Sleep(3 * time.Second / time.Duration(n))
		if err := e.sim.Sim.Approve(id, ""); err != nil {
			b.Fatal(err)
		}
		approved[i] = time.Now()
		done.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			p, err := waitReserved(wctx, e.store, id)
			if err != nil || p.State != payment.Reserved {
				b.Errorf("payment %s: %v", id, err)
				return
			}
			mu.Lock()
			slowest = append(slowest, time.Since(approved[i]))
			mu.Unlock()
		})
	}
	done.Wait()
	b.StopTimer()
	slices.Sort(slowest)
	b.ReportMetric(slowest[len(slowest)-1].Seconds(), "max-s-to-final")
	b.ReportMetric(float64(counter.details.Load())/float64(n), "details/payment")
}
