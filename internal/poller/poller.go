package poller

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vippskit/vipps/internal/payment"
)

// Leaser leases the payments that are due for a check; payment.Store is
// one (see its Lease).
type Leaser interface {
	Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Payment, error)
}

// Config configures a [Poller]. Store, Service and Owner are required.
type Config struct {
	// Store leases the due payments, so that several replicas never check
	// the same payment at once.
	Store   Leaser
	Service *payment.Service
	// Owner names this replica in leases; unique per process.
	Owner string
	// Loop: Interval, Workers, Drain, Now and Logger.
	Loop
	// Batch is how many payments one Poll leases; 0 means 100. Run
	// leases at most as many as it has idle workers, and at most Batch.
	Batch int
	// LeaseTTL is how long a lease holds; 0 means 1 minute. A replica that
	// dies holding leases delays those payments by at most this.
	LeaseTTL time.Duration
	// Observe, when set, is told the outcome of every payment checked.
	Observe func(err error)
}

// Loop is what a [Poller] and an [Outbox] share of their configuration:
// how Run goes through the due work (payments to check, tasks to attempt).
type Loop struct {
	// Interval is the wait between leases when nothing more was due; 0
	// means 250 ms.
	Interval time.Duration
	// Workers is how many payments are checked, or tasks attempted, at
	// once; 0 means 8. Run keeps them busy: each starts on the next due
	// one as soon as it is done with one, so a slow one holds up one
	// worker, not the others.
	Workers int
	// Drain bounds the work in flight when Run's context ends; 0 means 10 s.
	Drain time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger: nil discards.
	Logger *slog.Logger
}

// withDefaults returns l with its zero values replaced by their defaults.
func (l Loop) withDefaults() Loop {
	l.Interval = cmp.Or(l.Interval, 250*time.Millisecond)
	l.Workers = cmp.Or(l.Workers, 8)
	l.Drain = cmp.Or(l.Drain, 10*time.Second)
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.Logger == nil {
		l.Logger = slog.New(slog.DiscardHandler)
	}
	return l
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
	if cfg.Store == nil || cfg.Service == nil || cfg.Owner == "" {
		return nil, fmt.Errorf("poller: Store, Service and Owner are required")
	}
	cfg.Loop = cfg.Loop.withDefaults()
	cfg.Batch = cmp.Or(cfg.Batch, 100)
	cfg.LeaseTTL = cmp.Or(cfg.LeaseTTL, time.Minute)
	return &Poller{cfg: cfg, log: cfg.Logger}, nil
}

// Poll leases the payments due now (at most Batch) and checks each, at
// most Workers at once; it returns how many it leased once all are
// checked. It is Run's work as a single step, for tests. Errors of single
// payments are logged (their next check is already scheduled); the error
// returned is the lease's.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	return pollOnce(ctx, p.pace(), p.lease, p.check)
}

func (p *Poller) lease(ctx context.Context, n int) ([]*payment.Payment, error) {
	due, err := p.cfg.Store.Lease(ctx, p.cfg.Owner, p.cfg.Now(), p.cfg.LeaseTTL, n)
	if err != nil {
		return nil, fmt.Errorf("poll: %w", err)
	}
	return due, nil
}

func (p *Poller) pace() pace {
	return pace{p.cfg.Workers, p.cfg.Batch, p.cfg.Interval, p.cfg.Drain}
}

// check checks one leased payment.
func (p *Poller) check(ctx context.Context, pay *payment.Payment) {
	err := p.cfg.Service.Poll(ctx, pay, p.cfg.Owner)
	if err != nil {
		p.log.Error("checking payment failed", "order_id", pay.OrderID, "err", err)
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(err)
	}
}

// Run checks due payments until ctx ends, each as soon as a worker is free
// (see [dispatch]), then lets the checks in flight finish (at most
// Config.Drain) and returns.
func (p *Poller) Run(ctx context.Context) error {
	dispatch(ctx, p.pace(), p.lease, p.check, p.log.With("component", "poller"))
	return nil
}

// pollOnce is the single step of a Poller or an Outbox: it leases what is
// due (at most p.batch) and does each item, at most p.workers at once,
// and returns how many it leased once all are done.
func pollOnce[T any](ctx context.Context, p pace, lease func(ctx context.Context, n int) ([]T, error),
	do func(ctx context.Context, item T)) (int, error) {
	due, err := lease(ctx, p.batch)
	if err != nil {
		return 0, err
	}
	var g errgroup.Group
	g.SetLimit(p.workers)
	for _, it := range due {
		g.Go(func() error { do(ctx, it); return nil })
	}
	g.Wait() //nolint:errcheck // do reports nothing
	return len(due), nil
}

// pace is how dispatch leases and runs work.
type pace struct {
	workers  int           // items worked on at once
	batch    int           // most items leased at once
	interval time.Duration // wait after a lease that found less than it asked for
	drain    time.Duration // how long work in flight may go on once ctx ends
}

// dispatch runs work on a fixed pool of p.workers until ctx ends. It leases
// only as many items as there are idle workers (at most p.batch) and starts
// each at once, so that no leased item waits in a queue while its lease
// runs out; and it leases again as soon as a worker is free, so that one
// slow item holds up only its own worker. After a lease that got all it
// asked for, more may be due: it leases again as soon as a worker is free;
// otherwise after p.interval. Once ctx ends it leases no more and waits for
// the work in flight, whose context ends p.drain later.
func dispatch[T any](ctx context.Context, p pace, lease func(ctx context.Context, n int) ([]T, error),
	do func(ctx context.Context, item T), log *slog.Logger) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.drain, cancel) })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait() // before stop: once ctx ends, the drain timer ends the work in flight
	exited := make(chan struct{})
	defer close(exited)

	idle := p.workers
	freed := make(chan struct{}, p.workers) // one send per item done
	next := time.NewTimer(0)                // the next lease, once a worker is idle
	defer next.Stop()
	for {
		var due <-chan time.Time
		if idle > 0 {
			due = next.C
		}
		select {
		case <-ctx.Done():
			return
		case <-freed:
			idle++
			continue
		case <-due:
		}
		// select picks at random when several cases are ready: start no
		// lease once ctx has ended.
		if ctx.Err() != nil {
			return
		}
		n := min(idle, p.batch)
		items, err := lease(work, n)
		if err != nil {
			log.Error("lease failed", "err", err)
		}
		for _, it := range items {
			idle--
			wg.Go(func() {
				defer func() {
					select {
					case freed <- struct{}{}:
					case <-exited:
					}
				}()
				do(work, it)
			})
		}
		if err == nil && len(items) >= n {
			next.Reset(0)
		} else {
			next.Reset(p.interval)
		}
	}
}
