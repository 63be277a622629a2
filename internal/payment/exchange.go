package payment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vippskit/vipps"
)

// Exchange is one HTTP request the service sent to Vipps about a payment,
// and the answer, as staff see it: the bodies masked by [MaskBody].
type Exchange struct {
	ID      int64 // assigned by the store
	OrderID vipps.OrderID
	At      time.Time
	// Op names the call ("capture", "details", ...).
	Op, Method, Path string
	// StatusCode is the HTTP status answered; 0 for no answer.
	StatusCode int
	Duration   time.Duration
	// RequestID is the X-Request-Id sent, if any.
	RequestID string
	// Request and Response are the bodies, masked and indented.
	Request, Response string
	// Error is why no answer could be read, if none was.
	Error string
}

// The bounds of what an ExchangeLog keeps, unless its config says
// otherwise.
const (
	// DefaultExchangesKept is how many exchanges are kept per payment:
	// the newest.
	DefaultExchangesKept = 50
	// DefaultExchangeBody bounds each body kept, in bytes.
	DefaultExchangeBody = 8 << 10
	// defaultExchangeBuffer is how many exchanges may wait to be stored.
	defaultExchangeBuffer = 1024
	// exchangeBatch is the most exchanges stored in one transaction.
	exchangeBatch = 100
	// DefaultExchangeLinger is how long an exchange waits for others to
	// be stored with it, unless the config says otherwise.
	DefaultExchangeLinger = 20 * time.Millisecond
	// exchangeWrite bounds the storing of one batch.
	exchangeWrite = 5 * time.Second
	// maxExchangeError bounds an exchange's Error, in bytes.
	maxExchangeError = 500
	// forgetFor is how long Forget holds back a payment's older
	// exchanges: longer than any call to Vipps takes.
	forgetFor = 10 * time.Minute
)

// ExchangeLogConfig configures an [ExchangeLog]. Store is required.
type ExchangeLogConfig struct {
	Store Store
	// Keep is how many exchanges are kept per payment, the newest; 0
	// means DefaultExchangesKept.
	Keep int
	// MaxBody bounds each body kept, in bytes; 0 means
	// DefaultExchangeBody.
	MaxBody int
	// Buffer is how many exchanges may wait to be stored; 0 means 1024.
	// An exchange that finds the buffer full is not kept (and counted in
	// a warning).
	Buffer int
	// Linger is how long Run waits, after an exchange comes, for more to
	// store with it in one transaction (at most 100): 0 means
	// DefaultExchangeLinger, a negative value not at all. Staff do not
	// see the difference; the store does: stored as they came, under
	// load, every few exchanges cost a transaction of their own.
	Linger time.Duration
	// Logger: nil discards.
	Logger *slog.Logger
}

// ExchangeLog keeps the HTTP exchanges the service has with Vipps about
// each payment, for staff: [ExchangeLog.Observe] is a
// vipps.Config.OnExchange. Observe only queues an exchange, so that a call
// to Vipps never waits for the store and never fails because of it; Run
// masks the queued exchanges and stores them in batches, one transaction
// each, keeping the newest Keep of each payment.
type ExchangeLog struct {
	store   Store
	keep    int
	maxBody int
	linger  time.Duration
	log     *slog.Logger
	queue   chan vipps.Exchange
	flushes chan chan struct{}
	dropped atomic.Int64

	// mu is held while a batch is stored, and by Forget: once Forget
	// returns, no exchange it forgot is being stored or will be.
	mu        sync.Mutex
	forgotten map[vipps.OrderID]time.Time // when Forget was called
}

// NewExchangeLog checks cfg and returns an ExchangeLog; Run it to store
// what it observes.
func NewExchangeLog(cfg ExchangeLogConfig) (*ExchangeLog, error) {
	if cfg.Store == nil {
		return nil, errors.New("exchange log: Store is required")
	}
	if cfg.Keep < 0 || cfg.MaxBody < 0 || cfg.Buffer < 0 {
		return nil, errors.New("exchange log: Keep, MaxBody and Buffer must not be negative")
	}
	l := &ExchangeLog{
		store:   cfg.Store,
		keep:    cmp.Or(cfg.Keep, DefaultExchangesKept),
		maxBody: cmp.Or(cfg.MaxBody, DefaultExchangeBody),
		linger:  cmp.Or(cfg.Linger, DefaultExchangeLinger),
		log:     cfg.Logger,
		queue:   make(chan vipps.Exchange, cmp.Or(cfg.Buffer, defaultExchangeBuffer)),
		flushes: make(chan chan struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// Observe queues an exchange about a payment to be stored; exchanges
// about no order are ignored. It never blocks: when the queue is full the
// exchange is dropped and counted. It is a vipps.Config.OnExchange.
func (l *ExchangeLog) Observe(x vipps.Exchange) {
	if x.OrderID == "" {
		return
	}
	select {
	case l.queue <- x:
	default:
		l.dropped.Add(1)
	}
}

// Run stores what Observe queues until ctx ends, then stores what is
// still queued (within a few seconds) and returns. An exchange waits up to
// the config's Linger for others to share its transaction; a Flush or the
// end of ctx ends the wait. A batch the store refuses is logged and
// dropped: the exchanges are for reading, and a payment never depends on
// them.
func (l *ExchangeLog) Run(ctx context.Context) error {
	for {
		var flush chan struct{}
		select {
		case <-ctx.Done():
			l.drain(context.WithoutCancel(ctx))
			return nil
		case x := <-l.queue:
			var xs []vipps.Exchange
			xs, flush = l.gather(ctx, x)
			l.write(ctx, xs)
		case flush = <-l.flushes:
		}
		if flush != nil {
			l.drain(ctx)
			close(flush)
		}
	}
}

// gather is x and what else comes within the linger, up to exchangeBatch.
// It returns early, with the Flush's channel, when a Flush comes, and when
// ctx ends.
func (l *ExchangeLog) gather(ctx context.Context, x vipps.Exchange) ([]vipps.Exchange, chan struct{}) {
	if l.linger < 0 {
		return l.batch(x), nil
	}
	xs := []vipps.Exchange{x}
	t := time.NewTimer(l.linger)
	defer t.Stop()
	for len(xs) < exchangeBatch {
		select { // what is queued already goes first
		case y := <-l.queue:
			xs = append(xs, y)
			continue
		default:
		}
		select {
		case y := <-l.queue:
			xs = append(xs, y)
		case <-t.C:
			return xs, nil
		case flush := <-l.flushes:
			return xs, flush
		case <-ctx.Done():
			return xs, nil
		}
	}
	return xs, nil
}

// Flush waits until every exchange observed before it is stored (or
// dropped), or ctx ends. Run must be running.
func (l *ExchangeLog) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case l.flushes <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batch is x and what else is queued, up to exchangeBatch.
func (l *ExchangeLog) batch(x vipps.Exchange) []vipps.Exchange {
	xs := []vipps.Exchange{x}
	for len(xs) < exchangeBatch {
		select {
		case y := <-l.queue:
			xs = append(xs, y)
		default:
			return xs
		}
	}
	return xs
}

// drain stores everything queued now.
func (l *ExchangeLog) drain(ctx context.Context) {
	for {
		select {
		case x := <-l.queue:
			l.write(ctx, l.batch(x))
		default:
			return
		}
	}
}

// Forget makes the log leave out the payment's exchanges that started
// before now (for 10 minutes, longer than any call to Vipps): those
// observed already and still waiting, and those of calls still under way.
// It waits for a batch being stored, so that once it returns the payment's
// stored exchanges can be deleted for good. Exchanges of later calls are
// kept. A nil ExchangeLog forgets nothing.
func (l *ExchangeLog) Forget(id vipps.OrderID) {
	if l == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.forgotten == nil {
		l.forgotten = map[vipps.OrderID]time.Time{}
	}
	for k, at := range l.forgotten {
		if now.Sub(at) > forgetFor {
			delete(l.forgotten, k)
		}
	}
	l.forgotten[id] = now
}

// write masks and stores a batch, but for what Forget forgot.
func (l *ExchangeLog) write(ctx context.Context, xs []vipps.Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Exchange, 0, len(xs))
	for _, x := range xs {
		if at, ok := l.forgotten[x.OrderID]; ok && x.Start.Before(at) {
			continue
		}
		out = append(out, l.masked(x))
	}
	if len(out) > 0 {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeWrite)
		defer cancel()
		if err := l.store.AddExchanges(wctx, out, l.keep); err != nil {
			l.log.Warn("storing the exchanges with Vipps failed; they are not shown to staff", "count", len(out), "err", err)
		}
	}
	if n := l.dropped.Swap(0); n > 0 {
		l.log.Warn("exchanges with Vipps were not kept: too many at once", "dropped", n)
	}
}

// masked is x as it is stored: bodies masked and bounded, no more than
// the error's text.
func (l *ExchangeLog) masked(x vipps.Exchange) Exchange {
	e := Exchange{
		OrderID: x.OrderID, At: x.Start, Op: x.Op, Method: x.Method, Path: x.Path, StatusCode: x.StatusCode,
		Duration: x.Duration, RequestID: x.RequestID,
		Request: MaskBody(x.RequestBody, l.maxBody), Response: MaskBody(x.ResponseBody, l.maxBody),
	}
	if x.Err != nil {
		e.Error = clipText(x.Err.Error(), maxExchangeError)
	}
	return e
}

// Exchanges returns the payment's exchanges with Vipps, newest first (at
// most the newest DefaultExchangesKept, or what the ExchangeLog keeps).
func (s *Service) Exchanges(ctx context.Context, id vipps.OrderID) ([]Exchange, error) {
	xs, err := s.store.Exchanges(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("exchanges of %s: %w", id, err)
	}
	return xs, nil
}
