package servicetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/sqlite"
	"github.com/vippskit/vipps/vippstest"
)

// Env is the payment service on loopback for one test. Its helpers fail
// the test T on any error.
type Env struct {
	// T is the test the helpers report to; see [Env.In].
	T testing.TB
	// Sim is the Vipps simulator, with a client for it.
	Sim *vippstest.Server
	// Store is the store the Env opened; it is closed when the test ends.
	Store Store
	// Service is the payment service on Store, talking to Sim.
	Service *payment.Service
	// Clock is the time of Service and of the pollers and outboxes the Env
	// makes; only the test moves it.
	Clock Clock
	// URL is the loopback server's base URL, such as
	// http://127.0.0.1:41234, and the service's PublicURL.
	URL string
	// Client is a client of the loopback server.
	Client *http.Client
	// Logger is the service's logger (and the handler's, if it wants it):
	// slog text at debug level, to Logs and to the test's output. In a
	// benchmark it discards: what a benchmark prints is its measurements.
	Logger *slog.Logger
	// Logs holds all that Logger wrote.
	Logs *Logs
	// Exchanges keeps the service's exchanges with Vipps in Store, running
	// until the test ends; see [Env.FlushExchanges].
	Exchanges *payment.ExchangeLog

	poller  *poller.Poller
	handled *handled // nil with WithHandler
}

// Store is the store an Env opened: a [payment.Store] that is closed when
// the test ends. Close closes it earlier; every call fails from then on.
type Store interface {
	payment.Store
	Close() error
}

// Option changes what New builds an Env from.
type Option func(*options)

type options struct {
	sim      []func(*vippstest.Config)
	payment  []func(*payment.Config)
	clock    Clock
	postgres bool
	handler  func(*Env) http.Handler
}

// WithSim configures the simulator (vippstest.NewServer's options).
func WithSim(opts ...func(*vippstest.Config)) Option {
	return func(o *options) { o.sim = append(o.sim, opts...) }
}

// WithPayment changes the service's configuration. The options run after
// New has set Store, Vipps, PublicURL, Now and Logger, so that they may
// wrap the store or the Vipps client.
func WithPayment(opts ...func(*payment.Config)) Option {
	return func(o *options) { o.payment = append(o.payment, opts...) }
}

// WithClock sets the Env's clock (a [WallClock] by default).
func WithClock(c Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithPostgres puts the store on PostgreSQL, in a schema of its own that
// is dropped when the test ends: see [PostgresDSN]. Without
// VIPPS_TEST_POSTGRES the test is skipped.
func WithPostgres() Option {
	return func(o *options) { o.postgres = true }
}

// WithHandler serves what h returns on the loopback server instead of the
// Env's callback handler. h runs once Service exists and before the server
// takes requests. If the handler has a method Shutdown(context.Context)
// error, it is called when the test ends, after the loopback server has
// closed. [Env.Approve] needs the Env's own callback handler.
func WithHandler(h func(*Env) http.Handler) Option {
	return func(o *options) { o.handler = h }
}

// The configuration of every Env's service, before WithPayment.
const (
	// OrderIDPrefix makes orderIds such as shop-10042.
	OrderIDPrefix = "shop"
	returnKey     = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
)

// shipping returns the static shipping options of every Env's service:
// Posten, 49 kr, the default.
func shipping() []vipps.ShippingOption {
	return []vipps.ShippingOption{{IsDefault: true, ShippingCost: 49, ShippingMethod: "Posten", ShippingMethodID: "posten"}}
}

// New starts an Env for t. Without options it has a SQLite store, a
// WallClock, the order ID prefix "shop", one static express shipping
// option (Posten, 49 kr), no webhooks, and Vipps' callbacks served under
// "/vipps" by a callback handler wired to the service.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &Env{T: t, Clock: o.clock, Logs: &Logs{}}
	if e.Clock == nil {
		e.Clock = &WallClock{}
	}
	e.Logger = slog.New(slog.DiscardHandler)
	if _, bench := t.(*testing.B); !bench {
		e.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(e.Logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.Sim = vippstest.NewServer(t, o.sim...)
	e.Store = openStore(t, o.postgres)

	// The service needs the loopback server's URL, and the handler needs
	// the service: take the listener's address first, and start serving
	// once both exist.
	hs := httptest.NewUnstartedServer(nil)
	var h http.Handler
	t.Cleanup(func() {
		hs.Close()
		if s, ok := h.(interface{ Shutdown(context.Context) error }); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("shutting down the handler: %v", err)
			}
		}
	})
	e.URL = "http://" + hs.Listener.Addr().String()
	e.startExchanges()
	// The service's own client, which reports its exchanges; Sim.Client
	// stays the test's, for calls behind the service's back.
	client := e.Sim.NewClient(e.Sim.Merchant, func(c *vipps.Config) { c.OnExchange = e.Exchanges.Observe })
	cfg := payment.Config{
		Store: e.Store, Vipps: client, PublicURL: e.URL, Now: e.Clock.Now, Logger: e.Logger,
		ReturnKey: []byte(returnKey), OrderIDPrefix: OrderIDPrefix, Shipping: shipping(), Exchanges: e.Exchanges,
	}
	for _, f := range o.payment {
		f(&cfg)
	}
	var err error
	if e.Service, err = payment.NewService(cfg); err != nil {
		t.Fatalf("payment.NewService: %v", err)
	}
	if o.handler != nil {
		h = o.handler(e)
	} else {
		h = e.callbacks()
	}
	hs.Config.Handler = h
	hs.Start()
	e.Client = hs.Client()
	e.poller = e.NewPoller("test")
	return e
}

// startExchanges starts the Env's ExchangeLog on its store, stopped (and
// drained) when the test ends, before the store closes.
func (e *Env) startExchanges() {
	e.T.Helper()
	var err error
	if e.Exchanges, err = payment.NewExchangeLog(payment.ExchangeLogConfig{Store: e.Store, Logger: e.Logger}); err != nil {
		e.T.Fatalf("payment.NewExchangeLog: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Exchanges.Run(ctx) //nolint:errcheck // Run reports nothing
	}()
	e.T.Cleanup(func() {
		cancel()
		<-done
	})
}

// FlushExchanges waits until the exchanges with Vipps made so far are
// stored; after 10 s it fails the test.
func (e *Env) FlushExchanges() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(e.T.Context(), 10*time.Second)
	defer cancel()
	if err := e.Exchanges.Flush(ctx); err != nil {
		e.T.Fatalf("FlushExchanges() = %v", err)
	}
}

// openStore opens the Env's store and closes it when the test ends.
func openStore(t testing.TB, pg bool) Store {
	t.Helper()
	var st Store
	if pg {
		s, err := postgres.Open(t.Context(), PostgresDSN(t))
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		st = pgStore{s}
	} else {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vipps.db"))
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		st = s
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pgStore is a postgres.Store with the Close of a Store.
type pgStore struct{ *postgres.Store }

func (s pgStore) Close() error {
	s.Store.Close()
	return nil
}

// callbacks returns the Env's callback handler: the service's callback,
// shipping and consent functions under "/vipps", counting the transaction
// callbacks handled for Approve.
func (e *Env) callbacks() http.Handler {
	e.T.Helper()
	e.handled = &handled{n: map[vipps.OrderID]int{}, changed: make(chan struct{})}
	st, svc := e.Store, e.Service
	cb, err := callback.New(callback.Config{
		Prefix: "/vipps",
		Lookup: func(ctx context.Context, id vipps.OrderID) (string, error) {
			p, err := st.Get(ctx, id)
			if err != nil {
				return "", callback.ErrUnknownOrder
			}
			return p.AuthTokenHash, nil
		},
		OnTransaction: func(ctx context.Context, cb *vipps.TransactionCallback) error {
			err := svc.OnCallback(ctx, cb)
			e.handled.add(cb.OrderID)
			return err
		},
		ShippingOptions:         svc.ShippingOptions,
		FallbackShippingOptions: svc.FallbackShipping(),
		OnConsentRemoved:        svc.RemoveConsent,
		Logger:                  e.Logger,
	})
	if err != nil {
		e.T.Fatalf("callback.New: %v", err)
	}
	return cb
}

// handled counts the transaction callbacks the service has handled, by
// orderId.
type handled struct {
	mu      sync.Mutex
	n       map[vipps.OrderID]int
	changed chan struct{} // closed and replaced on every add
}

func (h *handled) add(id vipps.OrderID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[id]++
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *handled) count(id vipps.OrderID) (int, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[id], h.changed
}

// In returns a copy of e that reports to t: call it first thing in a
// subtest, so that the helpers fail the subtest and not its parent.
func (e *Env) In(t testing.TB) *Env {
	c := *e
	c.T = t
	return &c
}

// NewPoller returns a Poller of the service, named owner in leases, on the
// Env's clock, with opts applied to its configuration.
func (e *Env) NewPoller(owner string, opts ...func(*poller.Config)) *poller.Poller {
	e.T.Helper()
	cfg := poller.Config{Store: e.Store, Service: e.Service, Owner: owner, Loop: poller.Loop{Now: e.Clock.Now}}
	return configured(e.T, "poller.New", poller.New, cfg, opts)
}

// NewOutbox returns an Outbox of the service and store, named owner in
// leases, on the Env's clock, with opts applied to its configuration.
func (e *Env) NewOutbox(owner string, opts ...func(*poller.OutboxConfig)) *poller.Outbox {
	e.T.Helper()
	cfg := poller.OutboxConfig{Store: e.Store, Service: e.Service, Owner: owner, Loop: poller.Loop{Now: e.Clock.Now}}
	return configured(e.T, "poller.NewOutbox", poller.NewOutbox, cfg, opts)
}

// configured applies opts to cfg and returns what newFn, named name in a
// failure, makes of it; an error ends the test.
func configured[C, T any](t testing.TB, name string, newFn func(C) (T, error), cfg C, opts []func(*C)) T {
	t.Helper()
	for _, o := range opts {
		o(&cfg)
	}
	v, err := newFn(cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// Poll checks the payments due, once, with the Env's Poller (owner
// "test"), and returns how many it leased.
func (e *Env) Poll() int {
	e.T.Helper()
	n, err := e.poller.Poll(e.T.Context())
	if err != nil {
		e.T.Fatalf("Poll(...) = %d, %v", n, err)
	}
	return n
}

// Create creates a payment through the service; Amount defaults to
// 1000 øre and Text to "Test order".
func (e *Env) Create(req payment.CreateRequest) *payment.Payment {
	e.T.Helper()
	if req.Amount == 0 {
		req.Amount = 1000
	}
	if req.Text == "" {
		req.Text = "Test order"
	}
	p, err := e.Service.Create(e.T.Context(), req)
	if err != nil {
		e.T.Fatalf("Create(%+v) = %v", req, err)
	}
	return p
}

// Approve has the simulator's user approve the payment, waits until the
// Env's callback handler has handled a transaction callback for it, and
// returns the payment as stored then. It fails the test after 10 s, or at
// once when the Env serves another handler (WithHandler).
func (e *Env) Approve(id vipps.OrderID) *payment.Payment {
	e.T.Helper()
	if e.handled == nil {
		e.T.Fatalf("Approve(%s): the Env serves another handler than its callback handler", id)
	}
	before, _ := e.handled.count(id)
	if err := e.Sim.Sim.Approve(id, ""); err != nil {
		e.T.Fatalf("Approve(%s) = %v", id, err)
	}
	timeout := time.After(10 * time.Second)
	for {
		n, changed := e.handled.count(id)
		if n > before {
			return e.Get(id)
		}
		select {
		case <-changed:
		case <-timeout:
			e.T.Fatalf("the callback of %s was not handled within 10 s", id)
		}
	}
}

// Get returns the payment as stored.
func (e *Env) Get(id vipps.OrderID) *payment.Payment {
	e.T.Helper()
	p, err := e.Store.Get(e.T.Context(), id)
	if err != nil {
		e.T.Fatalf("Get(%s) = %v", id, err)
	}
	return p
}

// Events returns the payment's stored events, oldest first.
func (e *Env) Events(id vipps.OrderID) []payment.Event {
	e.T.Helper()
	evs, err := e.Store.Events(e.T.Context(), id)
	if err != nil {
		e.T.Fatalf("Events(%s) = %v", id, err)
	}
	return evs
}

// EventTypes returns the types of the payment's stored events, oldest
// first.
func (e *Env) EventTypes(id vipps.OrderID) []payment.EventType {
	e.T.Helper()
	var out []payment.EventType
	for _, ev := range e.Events(id) {
		out = append(out, ev.Type)
	}
	return out
}

// WaitFor reads the payment and its events from the store until cond
// holds, and returns the payment; after 10 s it fails the test, naming
// what it waited for. Callbacks are handled after Vipps has been answered,
// so what they change is stored a moment later.
func (e *Env) WaitFor(id vipps.OrderID, what string, cond func(*payment.Payment, []payment.Event) bool) *payment.Payment {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := e.Get(id)
		if cond(p, e.Events(id)) {
			return p
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("payment %s: no %s after 10 s; it is %s", id, what, p.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitState waits until the stored payment is in state want, and returns
// it; after 10 s it fails the test.
func (e *Env) WaitState(id vipps.OrderID, want payment.State) *payment.Payment {
	e.T.Helper()
	return e.WaitFor(id, "state "+string(want), func(p *payment.Payment, _ []payment.Event) bool { return p.State == want })
}

// Logs is what an Env's Logger wrote, or what any writer a test reads while
// another goroutine writes (a command's output). It is safe for concurrent
// use.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns all that was written.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
