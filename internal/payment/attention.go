package payment

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// This file is what needs a person: the admin's "needs attention" list.

// ReservationLimit is how long after the reservation Vipps lets a payment
// be captured or cancelled: 180 days (the reference's §8.4, "Time limits
// and timeouts"; the simulator expires reservations then too).
const ReservationLimit = 180 * 24 * time.Hour

// ReservationWarnAfter is how old a reservation that is not fully captured
// is when staff are told: a week before ReservationLimit, so that there is
// time to capture or release it.
const ReservationWarnAfter = ReservationLimit - 7*24*time.Hour

// OpUnknownAfter is how long an operation may stay pending before staff
// are told that its outcome is unknown: the poller sends it again after
// OpResumeAfter, so one still pending after this has not been settled
// by a resend.
const OpUnknownAfter = 2 * time.Minute

// CheckFailuresForAttention is how many /details calls of a payment must
// fail in a row before staff are told that Vipps cannot be asked about it.
const CheckFailuresForAttention = 3

// AttentionFilter says what Store.Attention selects.
type AttentionFilter struct {
	// OpsBefore selects pending operations created before it.
	OpsBefore time.Time
	// ReservedBefore selects payments in state Reserved with money left
	// to capture whose reservation (the first successful RESERVE or SALE
	// fact, or their creation when they have no such fact) is before it.
	ReservedBefore time.Time
	// CheckFailures selects payments with at least this many failed
	// details calls in a row (Payment.CheckFailures); 0 means 1.
	CheckFailures int
	// Limit bounds each list; 0 means 50, at most 500.
	Limit int
}

// AttentionLists is what Store.Attention returns: each list at most
// AttentionFilter.Limit long.
type AttentionLists struct {
	// Operations are pending operations created before OpsBefore, oldest
	// first.
	Operations []*Operation
	// Tasks are tasks that gave up (TaskDead) and pending tasks that
	// failed at least once: the dead first, then the others, each by
	// UpdatedAt (the last attempt), oldest first. Their Log is empty.
	Tasks []*Task
	// Reservations are the reservations made before ReservedBefore,
	// oldest first.
	Reservations []Reservation
	// Unreachable are payments whose details calls fail, failing
	// longest first (CheckFailedSince). Their Facts are empty.
	Unreachable []*Payment
}

// Reservation is a reserved payment with when it was reserved.
type Reservation struct {
	// Payment has no Facts.
	Payment    *Payment
	ReservedAt time.Time
}

// The default and the most of AttentionFilter.Limit.
const (
	defaultAttentionLimit = 50
	maxAttentionLimit     = 500
)

// AttentionLimit is the length of each of Store.Attention's lists for a
// Limit of n.
func AttentionLimit(n int) int {
	if n <= 0 {
		return defaultAttentionLimit
	}
	return min(n, maxAttentionLimit)
}

// AttentionKind is why a payment needs a person.
type AttentionKind string

// The kinds of attention, most urgent first.
const (
	// AttentionReservation: a reservation not fully captured is close to
	// Vipps' time limit (or past it): capture or release it.
	AttentionReservation AttentionKind = "reservation_expiring"
	// AttentionOperation: a capture, refund or cancel was sent and Vipps'
	// answer was lost; money may have moved.
	AttentionOperation AttentionKind = "operation_unknown"
	// AttentionTaskDead: a delivery (webhook to the shop, receipt to
	// Vipps) gave up.
	AttentionTaskDead AttentionKind = "task_dead"
	// AttentionUnreachable: Vipps could not be asked about the payment.
	AttentionUnreachable AttentionKind = "details_failing"
	// AttentionTaskFailing: a delivery failed and is being retried.
	AttentionTaskFailing AttentionKind = "task_failing"
)

// attentionRank orders the kinds, most urgent first.
var attentionRank = []AttentionKind{
	AttentionReservation, AttentionOperation, AttentionTaskDead, AttentionUnreachable, AttentionTaskFailing,
}

// AttentionItem is one thing a person should look at.
type AttentionItem struct {
	Kind    AttentionKind
	OrderID vipps.OrderID
	// Since is when the problem began: the reservation, the operation's
	// creation, the task's last attempt, the first failed check.
	Since time.Time
	// Deadline, for a reservation, is when Vipps' time limit ends.
	Deadline time.Time
	// One of these is set, by Kind.
	Payment   *Payment   // reservation, unreachable
	Operation *Operation // operation
	Task      *Task      // task dead or failing
}

// Attention is what needs a person, most urgent first.
type Attention struct {
	Items []AttentionItem
	// More is set when a list had more than the limit: there is more
	// than Items shows.
	More bool
}

// Attention returns what needs a person now, most urgent first: the kinds
// in the order of their constants, and within a kind the oldest first.
// Each kind has at most limit items (0 means 50, at most 500). It does
// not call Vipps.
func (s *Service) Attention(ctx context.Context, limit int) (*Attention, error) {
	now := s.now()
	n := AttentionLimit(limit)
	l, err := s.store.Attention(ctx, AttentionFilter{
		OpsBefore:      now.Add(-OpUnknownAfter),
		ReservedBefore: now.Add(-ReservationWarnAfter),
		CheckFailures:  CheckFailuresForAttention,
		Limit:          n + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	a := &Attention{}
	more := func(k int) bool { return k > n }
	a.More = more(len(l.Operations)) || more(len(l.Tasks)) || more(len(l.Reservations)) || more(len(l.Unreachable))
	for _, r := range first(l.Reservations, n) {
		a.Items = append(a.Items, AttentionItem{Kind: AttentionReservation, OrderID: r.Payment.OrderID, Since: r.ReservedAt,
			Deadline: r.ReservedAt.Add(ReservationLimit), Payment: r.Payment})
	}
	for _, op := range first(l.Operations, n) {
		a.Items = append(a.Items, AttentionItem{Kind: AttentionOperation, OrderID: op.OrderID, Since: op.CreatedAt, Operation: op})
	}
	for _, t := range first(l.Tasks, n) {
		k := AttentionTaskFailing
		if t.Status == TaskDead {
			k = AttentionTaskDead
		}
		a.Items = append(a.Items, AttentionItem{Kind: k, OrderID: t.OrderID, Since: t.UpdatedAt, Task: t})
	}
	for _, p := range first(l.Unreachable, n) {
		a.Items = append(a.Items, AttentionItem{Kind: AttentionUnreachable, OrderID: p.OrderID, Since: p.CheckFailedSince, Payment: p})
	}
	slices.SortStableFunc(a.Items, func(x, y AttentionItem) int {
		return cmp.Or(
			cmp.Compare(slices.Index(attentionRank, x.Kind), slices.Index(attentionRank, y.Kind)),
			x.Since.Compare(y.Since),
		)
	})
	return a, nil
}

// first is at most the first n of xs.
func first[T any](xs []T, n int) []T { return xs[:min(len(xs), n)] }

// Failing reports whether t failed at least once and is still retried.
func (t *Task) Failing() bool { return t.Status == TaskPending && t.Attempts > 0 }
