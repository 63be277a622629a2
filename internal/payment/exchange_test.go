package payment_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
)

// TestExchanges: what the service says to Vipps about a payment is kept,
// newest first, with the X-Request-Id of each write and nothing personal,
// and goes when the customer removes the consent.
func TestExchanges(t *testing.T) {
	e := servicetest.New(t)
	ctx := t.Context()
	p := e.Create(payment.CreateRequest{Amount: 1000, Express: true, Phone: "91234567"})
	p = e.Approve(p.OrderID)
	op, err := e.Service.Capture(ctx, p.OrderID, payment.OpRequest{Key: "c1"})
	if err != nil || op.Status != payment.OpSucceeded {
		t.Fatalf("Capture = %+v, %v", op, err)
	}
	e.FlushExchanges()
	xs, err := e.Service.Exchanges(ctx, p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for i, x := range xs {
		ops = append(ops, x.Op)
		if i > 0 && x.ID >= xs[i-1].ID {
			t.Errorf("Exchanges(%s)[%d].ID = %d after %d, want newest first", p.OrderID, i, x.ID, xs[i-1].ID)
		}
		if x.StatusCode != 200 || x.Duration <= 0 || x.At.IsZero() || x.Method == "" || !strings.Contains(x.Path, string(p.OrderID)) && x.Op != "initiate" {
			t.Errorf("Exchanges(%s)[%d] = %+v, want a whole answered exchange", p.OrderID, i, x)
		}
	}
	if len(xs) == 0 || xs[0].Op != "capture" || ops[len(ops)-1] != "initiate" || !slices.Contains(ops, "details") {
		t.Fatalf("Exchanges(%s) ops = %v, want capture first, initiate last, details between", p.OrderID, ops)
	}
	if xs[0].RequestID != op.RequestID || !strings.Contains(xs[0].Response, `"capturedAmount": 1000`) {
		t.Errorf("capture exchange = %+v, want X-Request-Id %s and the amount captured", xs[0], op.RequestID)
	}

	// Nothing the customer shared survives: their details are stored on
	// the payment (until consent is removed), and never in an exchange.
	var d payment.ExpressDetails
	if err := json.Unmarshal(e.Get(p.OrderID).Shipping, &d); err != nil || d.User == nil || d.Shipping == nil {
		t.Fatalf("express details = %s, %v; want user and shipping", e.Get(p.OrderID).Shipping, err)
	}
	secrets := []string{d.User.FirstName, d.User.LastName, d.User.Email, d.User.UserID, `"` + d.User.MobileNumber + `"`,
		d.Shipping.Address.AddressLine1, d.Shipping.Address.City, `"` + d.Shipping.Address.PostCode + `"`, "91234567", "?t=", "token="}
	masked := false
	for _, x := range xs {
		for _, s := range secrets {
			if s != "" && s != `""` && (strings.Contains(x.Request, s) || strings.Contains(x.Response, s)) {
				t.Errorf("exchange %s keeps %q:\n%s\n%s", x.Op, s, x.Request, x.Response)
			}
		}
		masked = masked || strings.Contains(x.Response, `"mobileNumber": "****** `)
	}
	if !masked {
		t.Errorf("no exchange shows the customer's masked mobile number")
	}

	// A call under way when the consent goes: its exchange comes to the
	// log after the deletion, and is not kept either.
	late := vipps.Exchange{Op: "details", Method: "GET", OrderID: p.OrderID, Start: time.Now().Add(-time.Millisecond), StatusCode: 200}
	if err := e.Service.RemoveConsent(ctx, d.User.UserID); err != nil {
		t.Fatal(err)
	}
	e.Exchanges.Observe(late)
	e.FlushExchanges()
	if xs, err := e.Service.Exchanges(ctx, p.OrderID); err != nil || len(xs) != 0 {
		t.Errorf("Exchanges(%s) after consent removal = %d, %v; want none", p.OrderID, len(xs), err)
	}
}

// TestExchangeLogNeverWaits: Observe returns at once even when nothing
// stores what it queues; what does not fit is dropped, and counted.
func TestExchangeLogNeverWaits(t *testing.T) {
	e := servicetest.New(t)
	p := e.Create(payment.CreateRequest{})
	e.FlushExchanges() // the initiate, stored by the Env's own log
	l, err := payment.NewExchangeLog(payment.ExchangeLogConfig{Store: e.Store, Buffer: 2, Keep: 3, Logger: e.Logger})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 1000 {
		l.Observe(vipps.Exchange{Op: "details", Method: "GET", OrderID: p.OrderID, RequestID: string(rune('a' + i%26)), StatusCode: 200})
	}
	l.Observe(vipps.Exchange{Op: "token", Method: "POST"}) // about no payment: ignored
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("1000 Observe calls with nothing storing took %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		l.Observe(vipps.Exchange{Op: "details", Method: "GET", OrderID: p.OrderID, StatusCode: 200})
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-done
	xs, err := e.Store.Exchanges(t.Context(), p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	// 2 stored of the 1000, then 5: the newest 3 are kept, the Env's
	// initiate is gone.
	if len(xs) != 3 || countOp(xs, "details") != 3 {
		t.Errorf("after 7 stored with Keep 3, kept %d (%d details), want the newest 3 details", len(xs), countOp(xs, "details"))
	}
	if !strings.Contains(e.Logs.String(), "dropped=") {
		t.Errorf("dropped exchanges were not logged")
	}
}

func countOp(xs []payment.Exchange, op string) int {
	n := 0
	for _, x := range xs {
		if x.Op == op {
			n++
		}
	}
	return n
}

// batchCounter is a store that counts the batches of exchanges it is
// given to store.
type batchCounter struct {
	payment.Store
	mu      sync.Mutex
	batches []int
}

func (c *batchCounter) AddExchanges(ctx context.Context, xs []payment.Exchange, keep int) error {
	c.mu.Lock()
	c.batches = append(c.batches, len(xs))
	c.mu.Unlock()
	return c.Store.AddExchanges(ctx, xs, keep)
}

func (c *batchCounter) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

// TestExchangeLogLinger: exchanges that come within the linger share one
// transaction; the linger ends by itself, at a Flush, and when Run's
// context ends, and what waited is stored every time.
func TestExchangeLogLinger(t *testing.T) {
	e := servicetest.New(t)
	p := e.Create(payment.CreateRequest{})
	e.FlushExchanges()
	details := vipps.Exchange{Op: "details", Method: "GET", OrderID: p.OrderID, StatusCode: 200}
	start := func(t *testing.T, linger time.Duration) (*payment.ExchangeLog, *batchCounter, context.CancelFunc, chan struct{}) {
		c := &batchCounter{Store: e.Store}
		l, err := payment.NewExchangeLog(payment.ExchangeLogConfig{Store: c, Linger: linger, Logger: e.Logger})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			l.Observe(details)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); l.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return l, c, cancel, done
	}

	t.Run("a flush ends it", func(t *testing.T) {
		l, c, _, _ := start(t, time.Hour)
		time.Sleep(20 * time.Millisecond) // Run has taken the 10 (without a linger, stored them)
		for range 5 {
			l.Observe(details)
		}
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := c.sizes(); !slices.Equal(got, []int{15}) {
			t.Errorf("batches stored = %v, want the 10 exchanges and the 5 after them in one", got)
		}
	})

	t.Run("it ends by itself", func(t *testing.T) {
		_, c, _, _ := start(t, 10*time.Millisecond)
		deadline := time.Now().Add(10 * time.Second)
		for len(c.sizes()) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := c.sizes(); !slices.Equal(got, []int{10}) {
			t.Errorf("batches stored without a flush = %v, want the 10 exchanges in one", got)
		}
	})

	t.Run("the end of Run ends it", func(t *testing.T) {
		_, c, cancel, done := start(t, time.Hour)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10 s of its context's end")
		}
		if got := c.sizes(); !slices.Equal(got, []int{10}) {
			t.Errorf("batches stored at the end = %v, want the 10 exchanges in one", got)
		}
	})

	t.Run("none", func(t *testing.T) {
		l, c, _, _ := start(t, -1)
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := c.sizes(); !slices.Equal(got, []int{10}) {
			t.Errorf("batches stored with no linger = %v, want the 10 queued exchanges in one", got)
		}
		l.Observe(details)
		deadline := time.Now().Add(10 * time.Second)
		for len(c.sizes()) < 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := c.sizes(); !slices.Equal(got, []int{10, 1}) {
			t.Errorf("batches stored with no linger = %v, want a lone exchange stored alone", got)
		}
	})
}

// blockingStore is a store whose AddExchanges waits until released.
type blockingStore struct {
	payment.Store
	adding  chan struct{} // closed when AddExchanges is called
	release chan struct{}
}

func (b *blockingStore) AddExchanges(ctx context.Context, xs []payment.Exchange, keep int) error {
	close(b.adding)
	<-b.release
	return b.Store.AddExchanges(ctx, xs, keep)
}

// TestExchangeLogForget: Forget leaves out the payment's exchanges that
// started before it, waiting or still to come, and keeps later ones and
// other payments'; it waits for a batch being stored.
func TestExchangeLogForget(t *testing.T) {
	e := servicetest.New(t)
	p, q := e.Create(payment.CreateRequest{}), e.Create(payment.CreateRequest{})
	e.FlushExchanges()
	if err := e.Store.DeleteExchanges(t.Context(), p.OrderID); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.DeleteExchanges(t.Context(), q.OrderID); err != nil {
		t.Fatal(err)
	}
	x := func(id vipps.OrderID, start time.Time, rid string) vipps.Exchange {
		return vipps.Exchange{Op: "details", Method: "GET", OrderID: id, Start: start, RequestID: rid, StatusCode: 200}
	}

	t.Run("what started before", func(t *testing.T) {
		l, err := payment.NewExchangeLog(payment.ExchangeLogConfig{Store: e.Store, Linger: time.Hour, Logger: e.Logger})
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now().Add(-time.Millisecond)
		l.Observe(x(p.OrderID, before, "waiting"))
		l.Observe(x(q.OrderID, before, "other"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); l.Run(ctx) }()
		defer func() { cancel(); <-done }()
		l.Forget(p.OrderID)
		l.Observe(x(p.OrderID, before, "under way"))
		l.Observe(x(p.OrderID, time.Now().Add(time.Millisecond), "later"))
		if err := l.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[vipps.OrderID][]string{p.OrderID: {"later"}, q.OrderID: {"other"}} {
			xs, err := e.Store.Exchanges(t.Context(), id)
			var got []string
			for _, x := range xs {
				got = append(got, x.RequestID)
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("Exchanges(%s) after Forget = %v, %v; want %v", id, got, err, want)
			}
		}
	})

	t.Run("waits for a batch being stored", func(t *testing.T) {
		b := &blockingStore{Store: e.Store, adding: make(chan struct{}), release: make(chan struct{})}
		l, err := payment.NewExchangeLog(payment.ExchangeLogConfig{Store: b, Linger: -1, Logger: e.Logger})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); l.Run(ctx) }()
		var release sync.Once
		defer func() { release.Do(func() { close(b.release) }); cancel(); <-done }()
		l.Observe(x(p.OrderID, time.Now().Add(-time.Millisecond), "being stored"))
		<-b.adding
		forgot := make(chan struct{})
		go func() { defer close(forgot); l.Forget(p.OrderID) }()
		select {
		case <-forgot:
			t.Fatal("Forget returned while a batch of the payment was being stored")
		case <-time.After(50 * time.Millisecond):
		}
		release.Do(func() { close(b.release) })
		<-forgot
	})
}
