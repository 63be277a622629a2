package payment

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vippskit/vipps"
)

// fakeDetails is a /details endpoint for the gate: each call answers the
// log as it is when the call is sent, after the call is let go.
type fakeDetails struct {
	calls atomic.Int32
	mu    sync.Mutex
	log   []vipps.LogEntry
	hold  chan struct{} // a call waits until it is closed; nil: no wait
}

func (f *fakeDetails) call(ctx context.Context) (*vipps.PaymentDetails, error) {
	f.calls.Add(1)
	f.mu.Lock()
	d := &vipps.PaymentDetails{OrderID: "o-1", TransactionLogHistory: append([]vipps.LogEntry(nil), f.log...)}
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return d, nil
}

func (f *fakeDetails) approve() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append([]vipps.LogEntry{{Operation: vipps.OperationReserve, OperationSuccess: true, Amount: 1000, TransactionID: "t1"}}, f.log...)
}

func reserved(d *vipps.PaymentDetails) bool { return confirms(d, vipps.CallbackReserved) }

// TestDetailsGate pins how the gate shares /details calls: in a bubble, so
// that "while a call is in flight" is exact.
func TestDetailsGate(t *testing.T) {
	t.Run("checks share the next call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var g detailsGate
			f := &fakeDetails{hold: make(chan struct{})}
			var wg sync.WaitGroup
			answers := make([]*vipps.PaymentDetails, 50)
			wg.Go(func() { answers[0], _ = g.ask(t.Context(), "o-1", time.Now, nil, f.call) })
			synctest.Wait() // the first call is in flight
			f.approve()     // after it was sent: it cannot show this
			for i := 1; i < 50; i++ {
				wg.Go(func() { answers[i], _ = g.ask(t.Context(), "o-1", time.Now, nil, f.call) })
			}
			synctest.Wait()
			close(f.hold)
			wg.Wait()
			if n := f.calls.Load(); n != 2 {
				t.Errorf("calls for 50 checks = %d, want 2", n)
			}
			for i, d := range answers[1:] {
				if !reserved(d) {
					t.Errorf("check %d got an answer sent before it asked", i+1)
				}
			}
			// A check after them asks anew, however young the answer.
			g.ask(t.Context(), "o-1", time.Now, nil, f.call)
			if n := f.calls.Load(); n != 3 {
				t.Errorf("calls after a later check = %d, want 3", n)
			}
		})
	})
	t.Run("callbacks share the call that shows their outcome", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var g detailsGate
			f := &fakeDetails{hold: make(chan struct{})}
			f.approve()
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					if d, err := g.ask(t.Context(), "o-1", time.Now, reserved, f.call); err != nil || !reserved(d) {
						t.Errorf("ask = %v, %v; want the reservation", d, err)
					}
				})
			}
			synctest.Wait()
			close(f.hold)
			wg.Wait()
			if n := f.calls.Load(); n != 1 {
				t.Errorf("calls for 50 callbacks = %d, want 1", n)
			}
			// Right after: answered by that call.
			time.Sleep(confirmedFor - time.Second)
			g.ask(t.Context(), "o-1", time.Now, reserved, f.call)
			if n := f.calls.Load(); n != 1 {
				t.Errorf("calls for a callback %v after the answer = %d, want still 1", confirmedFor-time.Second, n)
			}
			// A while later: asked anew.
			time.Sleep(time.Second)
			g.ask(t.Context(), "o-1", time.Now, reserved, f.call)
			if n := f.calls.Load(); n != 2 {
				t.Errorf("calls for a callback %v after the answer = %d, want 2", confirmedFor, n)
			}
		})
	})
	t.Run("an outcome no answer shows is asked", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var g detailsGate
			f := &fakeDetails{}
			g.ask(t.Context(), "o-1", time.Now, nil, f.call) // initiated only
			f.approve()
			d, _ := g.ask(t.Context(), "o-1", time.Now, reserved, f.call)
			if n := f.calls.Load(); n != 2 || !reserved(d) {
				t.Errorf("a RESERVED callback after an answer without it: %d calls, reserved %v; want 2, true", n, reserved(d))
			}
			cancelled := func(d *vipps.PaymentDetails) bool { return confirms(d, vipps.CallbackCancelled) }
			g.ask(t.Context(), "o-1", time.Now, cancelled, f.call)
			if n := f.calls.Load(); n != 3 {
				t.Errorf("a CANCELLED callback Vipps' log does not show: %d calls, want 3", n)
			}
		})
	})
	t.Run("a call cut by its sender's ctx is made again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var g detailsGate
			f := &fakeDetails{hold: make(chan struct{})}
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			wg.Go(func() { g.ask(ctx, "o-1", time.Now, nil, f.call) })
			synctest.Wait()
			var d *vipps.PaymentDetails
			var err error
			wg.Go(func() { d, err = g.ask(t.Context(), "o-1", time.Now, nil, f.call) })
			synctest.Wait()
			cancel() // the first sender gives up; the second waits for its own call
			synctest.Wait()
			close(f.hold)
			wg.Wait()
			if err != nil || d == nil {
				t.Errorf("ask after the first sender gave up = %v, %v; want an answer", d, err)
			}
		})
	})
	t.Run("a waiting callback that gives up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var g detailsGate
			f := &fakeDetails{hold: make(chan struct{})}
			var wg sync.WaitGroup
			wg.Go(func() { g.ask(t.Context(), "o-1", time.Now, nil, f.call) })
			synctest.Wait()
			ctx, cancel := context.WithCancel(t.Context())
			var err error
			wg.Go(func() { _, err = g.ask(ctx, "o-1", time.Now, reserved, f.call) })
			synctest.Wait()
			cancel()
			synctest.Wait()
			close(f.hold)
			wg.Wait()
			if err != context.Canceled {
				t.Errorf("ask with its ctx cancelled = %v, want context.Canceled", err)
			}
		})
	})
}

// TestDetailsGateForgets: the gate holds only payments with a call in
// flight or a recent answer.
func TestDetailsGateForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g detailsGate
		f := &fakeDetails{}
		for i := range 1000 {
			g.ask(t.Context(), vipps.OrderID(fmt.Sprintf("o-%d", i)), time.Now, nil, f.call)
			time.Sleep(confirmedFor / 100)
		}
		g.mu.Lock()
		n := len(g.m)
		g.mu.Unlock()
		if n > 512 {
			t.Errorf("the gate holds %d payments after 1000 were asked about over %v, want at most 512", n, 10*confirmedFor)
		}
	})
}
