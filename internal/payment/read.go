package payment

import (
	"context"
	"fmt"
	"slices"

	"github.com/vippskit/vipps"
)

// This file is what the service's pages and API read: the store's reads,
// each behind a method that says what it is for, so that no caller needs
// the store itself.

// History is a payment with everything stored about it.
type History struct {
	Payment *Payment
	// Events is the payment's history, oldest first.
	Events []Event
	// Operations are its captures, refunds and cancels, oldest first.
	Operations []*Operation
	// Tasks are its deliveries (webhooks, receipts), oldest first, each
	// with its log.
	Tasks []*Task
	// Exchanges are the HTTP requests sent to Vipps about it, with the
	// answers, masked: the newest first.
	Exchanges []Exchange
}

// Snapshot is a payment with its events and operations, read at one
// moment.
type Snapshot struct {
	Payment *Payment
	// Events is the payment's history, oldest first.
	Events []Event
	// Operations are its captures, refunds and cancels, oldest first.
	Operations []*Operation
}

// Snapshot returns the payment with its events and operations as of one
// moment, in one read, or ErrNotFound. It does not call Vipps. The shop's
// API answers with it.
func (s *Service) Snapshot(ctx context.Context, id vipps.OrderID) (*Snapshot, error) {
	snap, err := s.store.Snapshot(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("payment %s: %w", id, err)
	}
	return snap, nil
}

// History returns the payment with its events, operations, tasks and
// exchanges with Vipps, or ErrNotFound. It does not call Vipps.
func (s *Service) History(ctx context.Context, id vipps.OrderID) (*History, error) {
	snap, err := s.Snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	h := &History{Payment: snap.Payment, Events: snap.Events, Operations: snap.Operations}
	if h.Tasks, err = s.store.Tasks(ctx, id); err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", id, err)
	}
	if h.Exchanges, err = s.Exchanges(ctx, id); err != nil {
		return nil, err
	}
	return h, nil
}

// CallbackTokenHash returns the hash of the payment's callback token ("" if
// it has none), or ErrNotFound. It reads only that, so that a lookup costs
// the same for an orderId that exists and one that does not.
func (s *Service) CallbackTokenHash(ctx context.Context, id vipps.OrderID) (string, error) {
	return s.store.TokenHash(ctx, id)
}

// Events returns the payment's history, oldest first.
func (s *Service) Events(ctx context.Context, id vipps.OrderID) ([]Event, error) {
	ev, err := s.store.Events(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	return ev, nil
}

// List returns payments newest first, filtered (see [ListFilter]).
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Payment, error) {
	return s.store.List(ctx, f)
}

// Totals counts and sums all the payments of the filter f (every page;
// Before and Limit are ignored).
func (s *Service) Totals(ctx context.Context, f ListFilter) (Totals, error) {
	t, err := s.store.Totals(ctx, f)
	if err != nil {
		return Totals{}, fmt.Errorf("totals: %w", err)
	}
	return t, nil
}

// Stats counts payments by state and tasks by kind and status.
func (s *Service) Stats(ctx context.Context) (Stats, error) { return s.store.Stats(ctx) }

// Attempts returns the payments of a shop order reference, oldest attempt
// first.
func (s *Service) Attempts(ctx context.Context, shopRef string) ([]*Payment, error) {
	return s.store.Attempts(ctx, shopRef)
}

// RetryTask makes the payment's task taskID pending and due now again
// (staff asking for a redelivery), keeping its attempts and log, and
// returns it. A task that is done is returned as it is. ErrNotFound when
// the payment has no such task. A retry is recorded in the payment's
// history as an EventDeliveryRetried by the actor of ctx (see
// [WithActor]).
func (s *Service) RetryTask(ctx context.Context, id vipps.OrderID, taskID int64) (*Task, error) {
	tasks, err := s.store.Tasks(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", id, err)
	}
	i := slices.IndexFunc(tasks, func(t *Task) bool { return t.ID == taskID })
	if i < 0 {
		return nil, fmt.Errorf("payment %s has no task %d: %w", id, taskID, ErrNotFound)
	}
	t := tasks[i]
	if t.Status == TaskDone {
		return t, nil
	}
	now := s.now()
	if err := s.store.RetryTask(ctx, taskID, now); err != nil {
		return nil, fmt.Errorf("retry task %d of %s: %w", taskID, id, err)
	}
	t.Status, t.NextAttemptAt = TaskPending, now
	if _, err := s.note(ctx, id, EventDeliveryRetried, map[string]any{"task": taskID, "kind": t.Kind}); err != nil {
		return t, fmt.Errorf("retry task %d of %s: %w", taskID, id, err)
	}
	return t, nil
}
