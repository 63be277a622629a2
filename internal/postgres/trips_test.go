package postgres_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
)

// tripCounter is a pgx tracer that counts what a store sends to the
// server. A query outside a batch is one round trip, and so is a batch;
// begin and commit are queries like others. A round trip that starts
// outside a transaction starts one: a begin, a statement of its own or a
// batch (one implicit transaction). Statements counts every statement,
// those of batches too. Statements prepared the first time a connection
// sees them are not counted: they are a cost of a new connection, not of
// a payment.
type tripCounter struct {
	mu sync.Mutex
	tripCount
}

// tripCount is what a tripCounter counted.
type tripCount struct {
	trips, transactions, statements int
	byKind                          map[string]int // round trips by what they start with
}

func (c *tripCounter) add(conn *pgx.Conn, kind string, statements int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKind == nil {
		c.byKind = map[string]int{}
	}
	c.trips++
	c.statements += statements
	if conn.PgConn().TxStatus() == 'I' {
		c.transactions++
	}
	c.byKind[kind]++
}

func (c *tripCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.add(conn, sqlKind(data.SQL), 1)
	return ctx
}

func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCounter) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	qs := data.Batch.QueuedQueries
	c.add(conn, fmt.Sprintf("batch of %d: %s", len(qs), sqlKind(qs[0].SQL)), len(qs))
	return ctx
}

func (c *tripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// take returns the counts so far and starts again from zero.
func (c *tripCounter) take() tripCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.tripCount
	c.tripCount = tripCount{}
	return got
}

// sqlKind is the first few words of a statement, enough to tell the
// store's statements apart in a log.
func sqlKind(sql string) string {
	w := strings.Fields(sql)
	return strings.Join(w[:min(len(w), 6)], " ")
}

// tracer is a store whose queries a test can count (see Store.Trace in
// export_test.go).
type tracer interface {
	Trace(ctx context.Context, t pgx.QueryTracer) error
}

// reservedWatch tells the test when an update leaves a payment reserved,
// so that it waits for the callback's check without reading the database.
type reservedWatch struct {
	payment.Store
	reserved chan vipps.OrderID
}

func (w *reservedWatch) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	err := w.Store.Update(ctx, p, events...)
	if err == nil && p.State == payment.Reserved {
		select {
		case w.reserved <- p.OrderID:
		default:
		}
	}
	return err
}

// TestRoundTripsPerPayment counts the round trips, transactions and
// statements that completed payments cost the store, through the real
// service against the simulator: create, the customer's approval (its
// callback and the details check that it causes), a full capture, and the
// exchanges with Vipps logged: figures that do not depend on the
// machine's speed. It fails when a transaction costs more than one round
// trip: every store call on this path is one batch or one statement.
func TestRoundTripsPerPayment(t *testing.T) {
	watch := &reservedWatch{reserved: make(chan vipps.OrderID, 16)}
	e := servicetest.New(t, servicetest.WithPostgres(), servicetest.WithPayment(func(cfg *payment.Config) {
		watch.Store = cfg.Store
		cfg.Store = watch
	}))
	var c tripCounter
	if err := e.Store.(tracer).Trace(t.Context(), &c); err != nil {
		t.Fatalf("Trace() = %v", err)
	}
	pay := func() {
		t.Helper()
		p := e.Create(payment.CreateRequest{})
		if err := e.Sim.Sim.Approve(p.OrderID, ""); err != nil {
			t.Fatalf("Approve(%s) = %v", p.OrderID, err)
		}
		timeout := time.After(10 * time.Second)
		for reserved := false; !reserved; {
			select {
			case id := <-watch.reserved:
				reserved = id == p.OrderID
			case <-timeout:
				t.Fatalf("payment %s not reserved after 10 s", p.OrderID)
			}
		}
		op, err := e.Service.Capture(t.Context(), p.OrderID, payment.OpRequest{})
		if err != nil || op.Status != payment.OpSucceeded {
			t.Fatalf("Capture(%s) = %+v, %v, want succeeded", p.OrderID, op, err)
		}
		e.FlushExchanges()
	}
	pay() // the connections prepare their statements
	c.take()
	const n = 10
	for range n {
		pay()
	}
	got := c.take()
	per := func(v int) float64 { return float64(v) / n }
	t.Logf("per completed payment: %.1f round trips, %.1f transactions, %.1f statements",
		per(got.trips), per(got.transactions), per(got.statements))
	if got.trips != got.transactions {
		t.Errorf("%d payments: %d round trips for %d transactions, want one each", n, got.trips, got.transactions)
	}
	for _, k := range slices.SortedFunc(maps.Keys(got.byKind), func(a, b string) int {
		return cmp.Or(cmp.Compare(got.byKind[b], got.byKind[a]), strings.Compare(a, b))
	}) {
		t.Logf("%5.1f  %s", per(got.byKind[k]), k)
	}
}
