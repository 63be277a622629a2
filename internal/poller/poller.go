package poller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vippskit/vipps/internal/payment"
)

// Config configures a [Poller]. Service and Owner are required.
type Config struct {
	Service *payment.Service
	// Owner names this replica in leases; unique per process.
	Owner string
	// Interval is the wait between polls when nothing was due; 0 means
	// 250 ms.
	Interval time.Duration
	// Batch is how many payments one Poll leases; 0 means 100.
	Batch int
	// Workers is how many payments are checked at once; 0 means 8.
	Workers int
	// LeaseTTL is how long a lease holds; 0 means 1 minute. A replica that
	// dies holding leases delays those payments by at most this.
	LeaseTTL time.Duration
	// Drain bounds the work in flight when Run's context ends; 0 means 10 s.
	Drain time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger: nil discards.
	Logger *slog.Logger
	// Observe, when set, is told the outcome of every payment checked.
	Observe func(err error)
}

// Poller checks the payments that are due (Payment.NextCheckAt) through the
// Service: leased, so that several replicas on one database never check the
// same payment at once.
type Poller struct {
	cfg Config
	log *slog.Logger
}

// New returns a Poller.
func New(cfg Config) (*Poller, error) {
	if cfg.Service == nil || cfg.Owner == "" {
		return nil, fmt.Errorf("poller: Service and Owner are required")
	}
	cfg.Interval = or(cfg.Interval, 250*time.Millisecond)
	cfg.Batch = or(cfg.Batch, 100)
	cfg.Workers = or(cfg.Workers, 8)
	cfg.LeaseTTL = or(cfg.LeaseTTL, time.Minute)
	cfg.Drain = or(cfg.Drain, 10*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Poller{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Poll leases the payments due now and checks each; it returns how many it
// leased. Errors of single payments are logged (their next check is
// already scheduled); the error returned is the lease's.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	due, err := p.cfg.Service.Store().Lease(ctx, p.cfg.Owner, p.cfg.Now(), p.cfg.LeaseTTL, p.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("poll: %w", err)
	}
	each(due, p.cfg.Workers, func(pay *payment.Payment) {
		err := p.cfg.Service.Poll(ctx, pay, p.cfg.Owner)
		if err != nil {
			p.log.Error("checking payment failed", "order_id", pay.OrderID, "err", err)
		}
		if p.cfg.Observe != nil {
			p.cfg.Observe(err)
		}
	})
	return len(due), nil
}

// Run polls until ctx ends, then lets the checks in flight finish (at most
// Config.Drain) and returns.
func (p *Poller) Run(ctx context.Context) error {
	loop(ctx, p.cfg.Drain, p.cfg.Interval, p.cfg.Batch, p.Poll, p.log.With("component", "poller"))
	return nil
}

// each runs f on every item, at most workers at once, and waits for all.
func each[T any](items []T, workers int, f func(T)) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(it)
		})
	}
	wg.Wait()
}

// loop calls poll until ctx ends: again at once after a full batch, after
// interval otherwise. The work in flight when ctx ends gets drain more to
// finish; its context ends then.
func loop(ctx context.Context, drain, interval time.Duration, batch int, poll func(context.Context) (int, error), log *slog.Logger) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(drain, cancel) })()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// select picks at random when the timer is ready too: start no
		// poll once ctx has ended.
		if ctx.Err() != nil {
			return
		}
		n, err := poll(work)
		if err != nil {
			log.Error("poll failed", "err", err)
		}
		if n < batch {
			t.Reset(interval)
		} else {
			t.Reset(0)
		}
	}
}
