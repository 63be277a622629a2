package payment

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/vippskit/vipps"
)

// Store keeps payments, their events and operations. Every method that
// changes a payment appends its events in the same transaction, so that no
// change is ever stored without its event or the other way round.
// Implementations: internal/sqlite and internal/postgres, both held to
// internal/storetest.
type Store interface {
	// Create stores a new payment with its first events. It fails with
	// ErrExists when the orderId is taken. It sets p.Version to 1. A new
	// attempt is a change of its shop order's other attempts (payments of
	// the same non-empty ShopRef): their versions are incremented in the
	// same transaction, so that a change of one of them based on an older
	// read (which looked for newer attempts) conflicts.
	Create(ctx context.Context, p *Payment, events ...Event) error

	// Get returns the payment with its Facts (oldest first), or
	// ErrNotFound.
	Get(ctx context.Context, id vipps.OrderID) (*Payment, error)

	// GetPending returns what Get and Operations(id, true) return, the
	// payment and its pending operations (oldest first), as of one
	// moment, in one read: what a change of the payment starts from.
	GetPending(ctx context.Context, id vipps.OrderID) (*Payment, []*Operation, error)

	// TokenHash returns the hash of the payment's callback token ("" for
	// a payment without one), or ErrNotFound. It reads nothing else, so
	// that checking a callback for an orderId costs the same whether the
	// payment exists or not.
	TokenHash(ctx context.Context, id vipps.OrderID) (string, error)

	// Attempts returns the payments of a shop order reference, oldest
	// attempt first.
	Attempts(ctx context.Context, shopRef string) ([]*Payment, error)

	// Update stores p if the stored version is still p.Version (else
	// ErrConflict), adds those of p.Facts that have no Seq yet (setting
	// it), appends events, and increments p.Version. Stored facts are never
	// changed or deleted, and a fact matching a stored one (see
	// [Fact.Same]) or a second event of one type for one fact (Event.Fact)
	// is refused with ErrConflict: the caller read too old a payment.
	Update(ctx context.Context, p *Payment, events ...Event) error

	// Events returns the payment's history, oldest first.
	Events(ctx context.Context, id vipps.OrderID) ([]Event, error)

	// Snapshot returns the payment with its facts, its events and its
	// operations (oldest first) as of one moment, in one read, or
	// ErrNotFound: what an answer about the payment shows.
	Snapshot(ctx context.Context, id vipps.OrderID) (*Snapshot, error)

	// Lease takes up to limit payments whose NextCheckAt is due at now and
	// whose lease is free or expired, and leases them to owner until
	// now+ttl, so that several replicas never check the same payment at
	// once. It returns them with the lease set.
	Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*Payment, error)

	// AddOperation stores op as pending (setting op.ID) and appends events.
	// In the same transaction it makes the payment due for a check no later
	// than op.CreatedAt+OpResumeAfter (bumping its Version), so that the
	// poller sends a pending operation after a crash. When an operation
	// with the same payment, kind and idempotency key exists, it returns
	// that one and ErrExists, and changes nothing.
	//
	// With a claim, it also claims the payment for sending op at once
	// (Payment.OpOwner and OpUntil), and counts the send (op.Sends 1,
	// op.SentAt op.CreatedAt), when the payment's version is still
	// claim.Version, no other operation of it is pending and no claim on it
	// holds at op.CreatedAt; else op is only queued (Sends 0).
	AddOperation(ctx context.Context, op *Operation, claim *Claim, events ...Event) (*Operation, error)

	// UpdateOperation stores op's Status, Error, Sends, SentAt and
	// UpdatedAt and, as Update does, its payment p with facts and events,
	// in one transaction: a change of an operation and its effect on the
	// payment are stored together or not at all. It is compare-and-set on
	// a pending operation: when op is no longer pending as stored, or p's
	// version is not the stored one, it stores nothing and fails with
	// ErrConflict; ErrNotFound for an unknown operation or payment.
	UpdateOperation(ctx context.Context, op *Operation, p *Payment, events ...Event) error

	// Operations returns the payment's operations, oldest first; with
	// pendingOnly, only those still pending.
	Operations(ctx context.Context, id vipps.OrderID, pendingOnly bool) ([]*Operation, error)

	// List returns payments newest first (CreatedAt, then OrderID, both
	// descending), filtered.
	List(ctx context.Context, f ListFilter) ([]*Payment, error)

	// Totals counts and sums the payments that List would return for f
	// with neither Before nor Limit (see [Totals]), in one consistent
	// read.
	Totals(ctx context.Context, f ListFilter) (Totals, error)

	// ByUser returns the payments whose UserID is userID, oldest first.
	ByUser(ctx context.Context, userID string) ([]*Payment, error)

	// AddConsentRemoval records that the user of userKey ([UserKey])
	// removed their consent at at, keeping the latest time of the user's,
	// and deletes the records of removals before before, in one
	// transaction.
	AddConsentRemoval(ctx context.Context, userKey string, at, before time.Time) error

	// ConsentRemovedAt returns when the user of userKey last removed
	// their consent, or the zero time for none recorded.
	ConsentRemovedAt(ctx context.Context, userKey string) (time.Time, error)

	// Stats counts payments and tasks.
	Stats(ctx context.Context) (Stats, error)

	// LeaseTasks takes up to limit pending tasks due at now whose lease is
	// free or expired, oldest NextAttemptAt first, and leases them to owner
	// until now+ttl.
	LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*Task, error)

	// UpdateTask stores the task's Status, Attempts, NextAttemptAt and
	// LastError, frees its lease, and appends attempt (if not nil) to its
	// log, in one transaction. ErrNotFound for an unknown task.
	UpdateTask(ctx context.Context, t *Task, attempt *TaskAttempt) error

	// RetryTask makes a task pending and due at now again (staff asking for
	// a redelivery); its attempts and log are kept. ErrNotFound for an
	// unknown task.
	RetryTask(ctx context.Context, id int64, now time.Time) error

	// Tasks returns the payment's tasks, oldest first, each with its Log.
	Tasks(ctx context.Context, id vipps.OrderID) ([]*Task, error)

	// Attention returns what needs a person (see [AttentionFilter] and
	// [AttentionLists]): a few bounded queries on indexes, each list at
	// most AttentionLimit(f.Limit) long, none per row.
	Attention(ctx context.Context, f AttentionFilter) (*AttentionLists, error)

	// AddExchanges stores exchanges with Vipps (setting nothing in xs),
	// and then keeps only the newest keep (by ID) of each payment they
	// are about, in one transaction. Exchanges about an unknown payment
	// are left out.
	AddExchanges(ctx context.Context, xs []Exchange, keep int) error

	// Exchanges returns the payment's exchanges with Vipps, newest first;
	// none for an unknown payment.
	Exchanges(ctx context.Context, id vipps.OrderID) ([]Exchange, error)

	// DeleteExchanges deletes the payment's exchanges with Vipps. Deleting
	// none is no error.
	DeleteExchanges(ctx context.Context, id vipps.OrderID) error
}

// Scrubber is a Store that can make what it erased unreadable on disk, such
// as a SQLite store whose write-ahead log still holds the rows before an
// erasure until it is checkpointed. [Service.RemoveConsent] scrubs a store
// that has it after it has stored an erasure.
type Scrubber interface {
	// Scrub makes the values erased by committed changes unreadable in
	// the store's files. It is safe to repeat.
	Scrub(ctx context.Context) error
}

// SortLeased puts payments in the order Store.Lease returns them: earliest
// NextCheckAt first, then by OrderID.
func SortLeased(ps []*Payment) {
	slices.SortFunc(ps, func(a, b *Payment) int {
		return cmp.Or(a.NextCheckAt.Compare(b.NextCheckAt), cmp.Compare(a.OrderID, b.OrderID))
	})
}

// SortLeasedTasks puts tasks in the order Store.LeaseTasks returns them:
// oldest NextAttemptAt first, then by ID.
func SortLeasedTasks(ts []*Task) {
	slices.SortFunc(ts, func(a, b *Task) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
}

// TaskUpdatedAt is the time Store.UpdateTask stores as the task's
// UpdatedAt: attempt.At, or the current time when there is no attempt or
// it has no time.
func TaskUpdatedAt(attempt *TaskAttempt) time.Time {
	if attempt != nil && !attempt.At.IsZero() {
		return attempt.At
	}
	return time.Now()
}

// AppendTaskRow adds one row of tasks joined with their attempts, ordered
// by task and then attempt, to ts: t if it is a task not seen yet, and
// attempt, if not nil, to the log of the last task. Store.Tasks reads
// tasks and logs in one query this way.
func AppendTaskRow(ts []*Task, t *Task, attempt *TaskAttempt) []*Task {
	if n := len(ts); n == 0 || ts[n-1].ID != t.ID {
		ts = append(ts, t)
	}
	if attempt != nil {
		last := ts[len(ts)-1]
		last.Log = append(last.Log, *attempt)
	}
	return ts
}

// OpResumeAfter is how long an operation may stay pending before the poller
// sends it again (with the same X-Request-Id).
const OpResumeAfter = 30 * time.Second

// Claim is a claim on a payment for sending its first pending operation:
// by Owner, until Until, granted only if the payment is still at Version
// (what the operation was checked against).
type Claim struct {
	Owner   string
	Until   time.Time
	Version int64
}
