package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/servicetest"
)

// TestInBatchAtomic: a batch is one transaction. When a statement fails,
// those before it are undone and those after it do not run; the error is
// the failed statement's.
func TestInBatchAtomic(t *testing.T) {
	s := open(t, servicetest.PostgresDSN(t))
	insert := func(b *pgx.Batch, id string) {
		b.Queue(`INSERT INTO payments (order_id, state) VALUES ($1, 'created')`, id)
	}
	tests := []struct {
		name     string
		fail     func(b *pgx.Batch) // queued between the inserts of "before" and "after"
		wantCode string
	}{
		{"vipps_fail", func(b *pgx.Batch) {
			b.Queue(`SELECT vipps_fail('VP409', 'changed')`)
		}, "VP409"},
		{"a unique violation", func(b *pgx.Batch) { insert(b, "taken") }, "23505"},
		{"a foreign key violation", func(b *pgx.Batch) {
			b.Queue(`INSERT INTO events (order_id, type) VALUES ('ghost', 'created')`)
		}, "23503"},
	}
	mustBatch(t, s, func(b *pgx.Batch) { insert(b, "taken") })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			err := s.InBatch(t.Context(), func(b *pgx.Batch) {
				ran = ran[:0]
				insert(b, "before")
				b.Queue(`INSERT INTO events (order_id, type) VALUES ('before', 'created')`)
				tt.fail(b)
				insert(b, "after")
				for i, qq := range b.QueuedQueries {
					qq.Exec(func(pgconn.CommandTag) error {
						ran = append(ran, fmt.Sprint(i))
						return nil
					})
				}
			})
			if pe, ok := errors.AsType[*pgconn.PgError](err); !ok || pe.Code != tt.wantCode {
				t.Fatalf("InBatch() = %v, want SQLSTATE %s", err, tt.wantCode)
			}
			if got := strings.Join(ran, ","); got != "0,1" {
				t.Errorf("InBatch() read statements %s, want 0,1 (those before the failure)", got)
			}
			for _, id := range []vipps.OrderID{"before", "after"} {
				if _, err := s.Get(t.Context(), id); !errors.Is(err, payment.ErrNotFound) {
					t.Errorf("Get(%s) after the failed batch = %v, want ErrNotFound", id, err)
				}
			}
			evs, err := s.Events(t.Context(), "before")
			if err != nil || len(evs) != 0 {
				t.Errorf("Events(before) after the failed batch = %d events, %v; want none", len(evs), err)
			}
		})
	}
}

// TestInBatchRetries: a batch that PostgreSQL aborts for a serialization
// failure or a deadlock is sent again, whole, and what a failed attempt
// did is undone.
func TestInBatchRetries(t *testing.T) {
	tests := []struct {
		name         string
		failures     int    // how many attempts fail
		code         string // with this SQLSTATE
		wantAttempts int
		wantCode     string // "" for success
	}{
		{"success", 0, "", 1, ""},
		{"two serialization failures", 2, "40001", 3, ""},
		{"deadlocks every time", 100, "40P01", 5, "40P01"},
		{"not retryable", 3, "VP409", 1, "VP409"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, servicetest.PostgresDSN(t))
			attempts := 0
			err := s.InBatch(t.Context(), func(b *pgx.Batch) {
				attempts++
				b.Queue(`INSERT INTO payments (order_id, state) VALUES ('p', 'created')`)
				if attempts <= tt.failures {
					b.Queue(`SELECT vipps_fail($1, 'try again')`, tt.code)
				}
			})
			if attempts != tt.wantAttempts {
				t.Errorf("InBatch() sent %d batches, want %d", attempts, tt.wantAttempts)
			}
			pe, _ := errors.AsType[*pgconn.PgError](err)
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("InBatch() = %v, want nil", err)
			case tt.wantCode != "" && (pe == nil || pe.Code != tt.wantCode):
				t.Fatalf("InBatch() = %v, want SQLSTATE %s", err, tt.wantCode)
			}
			_, err = s.Get(t.Context(), "p")
			if stored := err == nil; stored != (tt.wantCode == "") {
				t.Errorf("Get(p) after InBatch = %v; want it stored only by a batch that succeeded", err)
			}
		})
	}
}

func mustBatch(t *testing.T, s *postgres.Store, queue func(*pgx.Batch)) {
	t.Helper()
	if err := s.InBatch(t.Context(), queue); err != nil {
		t.Fatalf("InBatch() = %v", err)
	}
}

// TestFoldedFailures: the store's calls decide in SQL, in their one batch,
// whether they may go on; each failure is the sentinel error it was, with
// a message that says why, and leaves the store as it was.
func TestFoldedFailures(t *testing.T) {
	ctx := t.Context()
	s := open(t, servicetest.PostgresDSN(t))
	other := newPayment("acme-0") // an older attempt of shop-1
	if err := s.Create(ctx, other); err != nil {
		t.Fatalf("Create(acme-0) = %v", err)
	}
	if err := s.Create(ctx, newPayment("acme-1"), payment.Event{Type: payment.EventCreated, State: payment.Created, At: t0}); err != nil {
		t.Fatalf("Create(acme-1) = %v", err)
	}
	done := &payment.Operation{OrderID: "acme-1", Kind: payment.OpCapture, IdempotencyKey: "k1", CreatedAt: t0}
	if _, err := s.AddOperation(ctx, done, nil); err != nil {
		t.Fatalf("AddOperation(k1) = %v", err)
	}
	p, err := s.Get(ctx, "acme-1")
	if err != nil {
		t.Fatal(err)
	}
	done.Status, done.UpdatedAt = payment.OpSucceeded, t0.Add(time.Second)
	if err := s.UpdateOperation(ctx, done, p); err != nil {
		t.Fatalf("UpdateOperation(k1) = %v", err)
	}
	before := snapshot(t, s, "acme-0", "acme-1")

	fresh := func() *payment.Payment {
		p, err := s.Get(ctx, "acme-1")
		if err != nil {
			t.Fatal(err)
		}
		p.State = payment.Failed
		return p
	}
	failed := payment.Event{Type: payment.EventFailed, State: payment.Failed, At: t0.Add(time.Minute),
		Tasks: []payment.Task{{Kind: payment.TaskWebhook, Payload: []byte(`{}`)}}}
	tests := []struct {
		name    string
		call    func() error
		want    error
		wantMsg string
	}{
		{"Create of a taken orderId, with a shop reference", func() error {
			return s.Create(ctx, newPayment("acme-1"), failed)
		}, payment.ErrExists, ""},
		{"Update of a stale version", func() error {
			p := fresh()
			p.Version--
			return s.Update(ctx, p, failed)
		}, payment.ErrConflict, "version 2 is not the stored one"},
		{"Update of an unknown payment", func() error {
			p := fresh()
			p.OrderID = "ghost"
			return s.Update(ctx, p, failed)
		}, payment.ErrNotFound, "no such payment"},
		{"UpdateOperation of a done operation", func() error {
			op := *done
			op.Status = payment.OpFailed
			return s.UpdateOperation(ctx, &op, fresh(), failed)
		}, payment.ErrConflict, "operation is succeeded, not pending"},
		{"UpdateOperation of an unknown operation", func() error {
			op := *done
			op.ID += 1000
			return s.UpdateOperation(ctx, &op, fresh(), failed)
		}, payment.ErrNotFound, "no such operation"},
		{"UpdateOperation of a stale payment", func() error {
			op := &payment.Operation{OrderID: "acme-1", Kind: payment.OpCapture, IdempotencyKey: "k2", CreatedAt: t0}
			if _, err := s.AddOperation(ctx, op, nil); err != nil {
				t.Fatalf("AddOperation(k2) = %v", err)
			}
			before = snapshot(t, s, "acme-0", "acme-1")
			p := fresh()
			p.Version--
			op.Status = payment.OpSucceeded
			return s.UpdateOperation(ctx, op, p, failed)
		}, payment.ErrConflict, "is not the stored one"},
		{"AddOperation with a known key and a claim", func() error {
			op := &payment.Operation{OrderID: "acme-1", Kind: payment.OpCapture, IdempotencyKey: "k1", CreatedAt: t0}
			got, err := s.AddOperation(ctx, op, &payment.Claim{Owner: "w", Until: t0.Add(time.Minute), Version: fresh().Version}, failed)
			if got == nil || got.ID != done.ID || got.Status != payment.OpSucceeded {
				t.Errorf("AddOperation(k1 again) = %+v, want the stored operation %d", got, done.ID)
			}
			return err
		}, payment.ErrExists, ""},
		{"AddOperation to an unknown payment, with a claim", func() error {
			op := &payment.Operation{OrderID: "ghost", Kind: payment.OpCapture, IdempotencyKey: "k3", CreatedAt: t0}
			_, err := s.AddOperation(ctx, op, &payment.Claim{Owner: "w", Until: t0.Add(time.Minute), Version: 1}, failed)
			return err
		}, payment.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
				t.Fatalf("%s = %v, want %v with %q", tt.name, err, tt.want, tt.wantMsg)
			}
			if diff := cmp.Diff(before, snapshot(t, s, "acme-0", "acme-1")); diff != "" {
				t.Errorf("%s changed the store (-before +after):\n%s", tt.name, diff)
			}
		})
	}
}

// snapshot reads the payments ids with their events, operations and tasks.
func snapshot(t *testing.T, s *postgres.Store, ids ...vipps.OrderID) map[vipps.OrderID]any {
	t.Helper()
	m := map[vipps.OrderID]any{}
	for _, id := range ids {
		snap, err := s.Snapshot(t.Context(), id)
		if err != nil {
			t.Fatalf("Snapshot(%s) = %v", id, err)
		}
		tasks, err := s.Tasks(t.Context(), id)
		if err != nil {
			t.Fatalf("Tasks(%s) = %v", id, err)
		}
		m[id] = struct {
			Snap  *payment.Snapshot
			Tasks []*payment.Task
		}{snap, tasks}
	}
	return m
}
