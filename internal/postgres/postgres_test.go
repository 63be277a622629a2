package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/internal/staff"
	"github.com/vippskit/vipps/internal/storetest"
)

// open opens a store on dsn, closed when the test ends.
func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newPayment(id vipps.OrderID) *payment.Payment {
	return &payment.Payment{
		OrderID: id, ShopRef: "shop-1", MSN: "123456", Kind: payment.Regular, Text: "socks",
		State: payment.Created, Amounts: payment.Amounts{Authorized: 49900},
		CreatedAt: t0, UpdatedAt: t0,
	}
}

// TestConformance runs the suite every payment.Store must pass, each
// subtest on a fresh schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) payment.Store { return open(t, servicetest.PostgresDSN(t)) })
}

// TestStaffConformance runs the suite every staff.Store must pass.
func TestStaffConformance(t *testing.T) {
	storetest.RunStaff(t, func(t *testing.T) staff.Store { return open(t, servicetest.PostgresDSN(t)) })
}

func TestStoreSmoke(t *testing.T) {
	ctx := t.Context()
	s := open(t, servicetest.PostgresDSN(t))

	p := newPayment("acme-1")
	p.Shipping = json.RawMessage(`{"b": 1, "a": [2]}`)
	p.LastError = &payment.VippsError{Op: "initiate", StatusCode: 400, Message: "bad", At: t0.Add(time.Microsecond)}
	if err := s.Create(ctx, p, payment.Event{Type: payment.EventCreated, State: payment.Created, At: t0}); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if p.Version != 1 {
		t.Errorf("Create() set Version = %d, want 1", p.Version)
	}
	if err := s.Create(ctx, newPayment("acme-1")); !errors.Is(err, payment.ErrExists) {
		t.Errorf("Create(again) = %v, want ErrExists", err)
	}
	got, err := s.Get(ctx, "acme-1")
	if err != nil {
		t.Fatalf("Get() = %v", err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("Get() mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Get(nope) = %v, want ErrNotFound", err)
	}

	stale := *got
	got.State, got.NextCheckAt = payment.Initiated, t0.Add(5*time.Second)
	if err := s.Update(ctx, got, payment.Event{Type: payment.EventInitiated, State: payment.Initiated, At: t0}); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	if err := s.Update(ctx, &stale); !errors.Is(err, payment.ErrConflict) {
		t.Errorf("Update(stale) = %v, want ErrConflict", err)
	}
	if err := s.Update(ctx, newPayment("nope")); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Update(nope) = %v, want ErrNotFound", err)
	}
	evs, err := s.Events(ctx, "acme-1")
	if err != nil {
		t.Fatalf("Events() = %v", err)
	}
	if len(evs) != 2 || evs[0].Type != payment.EventCreated || evs[1].Type != payment.EventInitiated || evs[0].Seq >= evs[1].Seq {
		t.Errorf("Events() = %+v, want created then initiated", evs)
	}

	if l, err := s.Lease(ctx, "r1", t0, time.Minute, 10); err != nil || len(l) != 0 {
		t.Errorf("Lease(before due) = %d payments, %v; want none", len(l), err)
	}
	l, err := s.Lease(ctx, "r1", t0.Add(5*time.Second), time.Minute, 10)
	if err != nil || len(l) != 1 || l[0].LeaseOwner != "r1" || !l[0].LeaseUntil.Equal(t0.Add(65*time.Second)) {
		t.Fatalf("Lease(due) = %+v, %v; want acme-1 leased to r1", l, err)
	}
	if l2, err := s.Lease(ctx, "r2", t0.Add(6*time.Second), time.Minute, 10); err != nil || len(l2) != 0 {
		t.Errorf("Lease(leased) = %d payments, %v; want none", len(l2), err)
	}
	if l2, err := s.Lease(ctx, "r2", t0.Add(66*time.Second), time.Minute, 10); err != nil || len(l2) != 1 {
		t.Errorf("Lease(expired lease) = %d payments, %v; want 1", len(l2), err)
	}

	op := &payment.Operation{OrderID: "acme-1", Kind: payment.OpCapture, IdempotencyKey: "k1", RequestID: "r-1", Amount: 100, CreatedAt: t0}
	if _, err := s.AddOperation(ctx, op, nil, payment.Event{Type: payment.EventOperationQueued, At: t0}); err != nil {
		t.Fatalf("AddOperation() = %v", err)
	}
	if op.ID == 0 || op.Status != payment.OpPending {
		t.Errorf("AddOperation() set ID %d, Status %q; want an id, pending", op.ID, op.Status)
	}
	again, err := s.AddOperation(ctx, &payment.Operation{OrderID: "acme-1", Kind: payment.OpCapture, IdempotencyKey: "k1"}, nil,
		payment.Event{Type: payment.EventOperationQueued, At: t0})
	if !errors.Is(err, payment.ErrExists) || again == nil || again.ID != op.ID || again.RequestID != "r-1" {
		t.Errorf("AddOperation(same key) = %+v, %v; want the first one, ErrExists", again, err)
	}
	if _, err := s.AddOperation(ctx, &payment.Operation{OrderID: "nope", Kind: payment.OpCapture, IdempotencyKey: "k1"}, nil); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("AddOperation(no payment) = %v, want ErrNotFound", err)
	}
	if evs, _ := s.Events(ctx, "acme-1"); len(evs) != 3 {
		t.Errorf("after a repeated AddOperation, %d events, want 3", len(evs))
	}
	op.Status, op.Error = payment.OpSucceeded, nil
	stored, err := s.Get(ctx, "acme-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateOperation(ctx, op, stored); err != nil {
		t.Fatalf("UpdateOperation() = %v", err)
	}
	if ops, err := s.Operations(ctx, "acme-1", true); err != nil || len(ops) != 0 {
		t.Errorf("Operations(pending) = %d, %v; want none", len(ops), err)
	}
	ops, err := s.Operations(ctx, "acme-1", false)
	if err != nil || len(ops) != 1 {
		t.Fatalf("Operations() = %d, %v; want 1", len(ops), err)
	}
	if diff := cmp.Diff(op, ops[0]); diff != "" {
		t.Errorf("Operations()[0] mismatch (-want +got):\n%s", diff)
	}
	if atts, err := s.Attempts(ctx, "shop-1"); err != nil || len(atts) != 1 || atts[0].OrderID != "acme-1" {
		t.Errorf("Attempts() = %v, %v; want acme-1", atts, err)
	}
}

// TestLeaseReplicas has two stores on one schema, as two replicas of the
// service, lease due payments at once; every payment must go to exactly one
// of them.
func TestLeaseReplicas(t *testing.T) {
	ctx := t.Context()
	dsn := servicetest.PostgresDSN(t)
	replicas := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const n = 300
	for i := range n {
		p := newPayment(vipps.OrderID(fmt.Sprintf("acme-%03d", i)))
		p.NextCheckAt = t0.Add(time.Duration(i%7) * time.Millisecond)
		if err := replicas[i%2].Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	seen := leaseFromReplicas(t, replicas, "Lease", func(s *postgres.Store, owner string) ([]string, error) {
		ps, err := s.Lease(ctx, owner, t0.Add(time.Second), time.Hour, 7)
		var names []string
		for _, p := range ps {
			names = append(names, string(p.OrderID))
		}
		return names, err
	})
	if len(seen) != n {
		t.Errorf("leased %d payments, want %d", len(seen), n)
	}
}

// leaseFromReplicas has four workers on each replica call lease (named op
// in failures) until it leases nothing, and returns who leased each thing,
// by the name lease gives it. A thing leased twice fails the test.
func leaseFromReplicas(t *testing.T, replicas []*postgres.Store, op string, lease func(s *postgres.Store, owner string) ([]string, error)) map[string]string {
	t.Helper()
	var (
		mu   sync.Mutex
		seen = map[string]string{}
		wg   sync.WaitGroup
	)
	for r, s := range replicas {
		for w := range 4 {
			owner := fmt.Sprintf("replica-%d-worker-%d", r, w)
			wg.Go(func() {
				for {
					names, err := lease(s, owner)
					if err != nil {
						t.Errorf("%s(%s) = %v", op, owner, err)
						return
					}
					if len(names) == 0 {
						return
					}
					mu.Lock()
					for _, name := range names {
						if prev, dup := seen[name]; dup {
							t.Errorf("%s leased to %s and %s", name, prev, owner)
						}
						seen[name] = owner
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return seen
}

// TestMigrateConcurrently opens several stores on one empty schema at once,
// as replicas starting together: all must succeed, and each migration must be
// applied once.
func TestMigrateConcurrently(t *testing.T) {
	dsn := servicetest.PostgresDSN(t)
	const n = 6
	errs := make([]error, n)
	stores := make([]*postgres.Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open() #%d = %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	if err := stores[0].Migrate(t.Context()); err != nil {
		t.Errorf("Migrate() again = %v", err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, versions int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || rows == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions; want each version once", rows, versions)
	}
}

// TestLeaseTasksReplicas has two stores on one schema, as two replicas of
// the service, lease due tasks at once; every task must go to exactly one of
// them.
func TestLeaseTasksReplicas(t *testing.T) {
	ctx := t.Context()
	dsn := servicetest.PostgresDSN(t)
	replicas := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const payments, perEvent = 100, 3
	for i := range payments {
		id := vipps.OrderID(fmt.Sprintf("acme-%03d", i))
		e := payment.Event{Type: payment.EventCreated, State: payment.Created, At: t0.Add(time.Duration(i%7) * time.Millisecond)}
		for range perEvent {
			e.Tasks = append(e.Tasks, payment.Task{Kind: payment.TaskWebhook, Payload: json.RawMessage(`{}`)})
		}
		if err := replicas[i%2].Create(ctx, newPayment(id), e); err != nil {
			t.Fatal(err)
		}
	}
	seen := leaseFromReplicas(t, replicas, "LeaseTasks", func(s *postgres.Store, owner string) ([]string, error) {
		ts, err := s.LeaseTasks(ctx, owner, t0.Add(time.Second), time.Hour, 7)
		var names []string
		for _, tk := range ts {
			names = append(names, fmt.Sprintf("task %d", tk.ID))
		}
		return names, err
	})
	if len(seen) != payments*perEvent {
		t.Errorf("leased %d tasks, want %d", len(seen), payments*perEvent)
	}
}

// TestMigrateUpgrade opens a database that an older program (migration 1
// only) filled: its payments must read back, with the new fields empty, and
// take the new fields and tasks.
func TestMigrateUpgrade(t *testing.T) {
	ctx := t.Context()
	dsn := servicetest.PostgresDSN(t)
	old, err := postgres.OpenVersion(ctx, dsn, 1)
	if err != nil {
		t.Fatalf("OpenVersion(1) = %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		old.Close()
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `INSERT INTO payments (order_id, shop_ref, msn, kind, text, state, authorized,
		remaining_to_capture, user_id, created_at, updated_at, version)
		VALUES ('old-1', 'ref-1', '123456', 'regular', 'Old socks', 'reserved', 1000, 1000, 'u1', $1, $1, 3)`, t0)
	if err == nil {
		_, err = conn.Exec(ctx, `INSERT INTO events (order_id, type, state, at) VALUES ('old-1', 'reserved', 'reserved', $1)`, t0)
	}
	old.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := open(t, dsn)
	storetest.CheckUpgraded(t, s, t0)
}

// TestSynchronousCommit: the store's commits wait for the server's
// durability: it never turns synchronous_commit off.
func TestSynchronousCommit(t *testing.T) {
	s := open(t, servicetest.PostgresDSN(t))
	if v, err := s.SynchronousCommit(t.Context()); err != nil || v == "off" || v == "local" {
		t.Errorf("synchronous_commit = %q, %v; want the durable default", v, err)
	}
}

// TestPoolSize checks the connection pool's size: defaultMaxConns (16),
// not pgx's four, unless the URL names one.
func TestPoolSize(t *testing.T) {
	dsn := servicetest.PostgresDSN(t)
	if got := open(t, dsn).MaxConns(); got != 16 {
		t.Errorf("pool of %d connections, want 16", got)
	}
	own := dsn + " pool_max_conns=3"
	if strings.Contains(dsn, "://") {
		own = dsn + "&pool_max_conns=3"
	}
	if got := open(t, own).MaxConns(); got != 3 {
		t.Errorf("with pool_max_conns=3: a pool of %d connections, want 3", got)
	}
}
