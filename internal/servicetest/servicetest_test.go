package servicetest_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// TestEnv takes a payment to reserved through each store: the simulator's
// callback reaches the service on loopback.
func TestEnv(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []servicetest.Option
	}{
		{"sqlite", nil},
		{"postgres", []servicetest.Option{servicetest.WithPostgres()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := servicetest.New(t, tt.opts...)
			p := e.Create(payment.CreateRequest{ShopRef: "10042"})
			if p.OrderID != servicetest.OrderIDPrefix+"-10042" || p.State != payment.Initiated {
				t.Fatalf("Create = %s %s, want %s-10042 initiated", p.OrderID, p.State, servicetest.OrderIDPrefix)
			}
			if got := e.Approve(p.OrderID); got.State != payment.Reserved || got.Amounts.Authorized != 1000 {
				t.Errorf("Approve = %s, authorized %d; want reserved, 1000", got.State, got.Amounts.Authorized)
			}
			if got := e.EventTypes(p.OrderID); len(got) == 0 || got[0] != payment.EventCreated {
				t.Errorf("EventTypes = %v, want created first", got)
			}
			if n := e.Poll(); n != 0 {
				t.Errorf("Poll() = %d, want 0 (nothing due)", n)
			}
		})
	}
}

// TestLostCallback: with the callback lost, the payment is reserved once
// the clock reaches its first check and the Env's poller runs.
func TestLostCallback(t *testing.T) {
	e := servicetest.New(t)
	if _, err := e.Sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	p := e.Create(payment.CreateRequest{})
	if err := e.Sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.Sim.Sim.WaitCallbacks()
	if n := e.Poll(); n != 0 {
		t.Fatalf("Poll() before the first check = %d, want 0", n)
	}
	e.Clock.Advance(payment.DefaultSchedule.FirstDelay)
	if n := e.Poll(); n != 1 {
		t.Fatalf("Poll() at the first check = %d, want 1", n)
	}
	e.WaitState(p.OrderID, payment.Reserved)
}

// shutdownCounter is a handler that counts its Shutdown calls.
type shutdownCounter struct {
	http.Handler
	n *atomic.Int32
}

func (s shutdownCounter) Shutdown(context.Context) error {
	s.n.Add(1)
	return nil
}

func TestWithHandler(t *testing.T) {
	var shutdowns atomic.Int32
	t.Run("serve", func(t *testing.T) {
		e := servicetest.New(t, servicetest.WithHandler(func(e *servicetest.Env) http.Handler {
			if e.Service == nil || !strings.HasPrefix(e.URL, "http://127.0.0.1:") {
				t.Errorf("the handler's Env has service %v and URL %q, want both", e.Service, e.URL)
			}
			return shutdownCounter{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }), &shutdowns}
		}))
		resp, err := e.Client.Get(e.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("GET / = %d, want %d from the handler", resp.StatusCode, http.StatusTeapot)
		}
	})
	if n := shutdowns.Load(); n != 1 {
		t.Errorf("the handler was shut down %d times, want 1", n)
	}
}

func TestClocks(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 6789012, time.UTC)
	m := servicetest.NewManualClock(start)
	if got, want := m.Now(), start.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("NewManualClock(%v).Now() = %v, want %v", start, got, want)
	}
	if got, want := m.Advance(time.Hour), start.Truncate(time.Millisecond).Add(time.Hour); !got.Equal(want) || !m.Now().Equal(want) {
		t.Errorf("ManualClock.Advance(1h) = %v, Now() = %v; want %v", got, m.Now(), want)
	}

	var w servicetest.WallClock
	before := time.Now()
	if got := w.Now(); got.Before(before) || got.After(time.Now()) {
		t.Errorf("WallClock{}.Now() = %v, want real time", got)
	}
	w.Advance(time.Hour)
	if got := w.Now(); got.Before(before.Add(time.Hour)) || got.After(time.Now().Add(time.Hour)) {
		t.Errorf("WallClock.Now() after Advance(1h) = %v, want an hour ahead of real time", got)
	}
}
