// Package storetest is the conformance suite that every [payment.Store]
// must pass: internal/sqlite and internal/postgres run [Run] from their own
// tests against a real database.
//
// The suite pins down what the interface's comments leave open:
//
//   - Times may come back rounded to the microsecond and in any location;
//     they are compared as instants. Zero times (SentAt, NextCheckAt,
//     LeaseUntil) come back zero.
//   - JSON (Payment.Shipping, Event.Data) may come back reformatted; it is
//     compared by value. Nil comes back empty.
//   - Events are stored under the payment's OrderID, with Seq increasing
//     across all payments.
//   - Update of an unknown payment, and UpdateOperation of an unknown
//     operation, fail with ErrNotFound; so does AddOperation for an unknown
//     payment.
//   - UpdateOperation stores Status, Error and UpdatedAt.
//   - FinishOperation stores the operation and the payment (with its events
//     and their tasks) together or not at all: with a stale payment it
//     fails with ErrConflict, with an unknown operation with ErrNotFound,
//     and with an operation of another payment with an error; the
//     operation then stays pending.
//   - Lease takes payments with a non-zero NextCheckAt <= now and no lease or
//     one with LeaseUntil < now. The payments it returns carry the stored
//     Version, so that an Update right after the lease succeeds; taking a
//     lease is a change, so an Update based on a read from before the lease
//     fails with ErrConflict instead of undoing the lease.
//   - Events and Operations of an unknown payment are empty.
//   - Payment.Receipt comes back equal as a value; nil stays nil, and a
//     non-nil empty receipt stays non-nil.
//   - AddOperation increments the payment's Version whether or not it moves
//     NextCheckAt; with ErrExists it changes nothing, also not the Version.
//   - A task is stored under the payment its event belongs to, whatever its
//     OrderID says, as pending with no attempts, error or lease, whatever
//     the queued Task says. Store.Tasks lists tasks in the order they were
//     queued. A task whose NextAttemptAt is zero (an event without At) is
//     due at once.
//   - List's Query matches case-insensitively also beyond ASCII (æøå), and
//     takes % and _ literally. A payment without CreatedAt counts as the
//     oldest. A Limit below 0 means the default, as 0 does. ByUser("")
//     returns no payments.
//   - Stats counts only what exists: no zero entries, maps never nil.
//   - LeaseTasks takes a task whose LeaseUntil < now, as Lease does, and
//     returns the tasks without Log.
//   - UpdateTask sets UpdatedAt to attempt.At, or to the current time when
//     there is no attempt (or it has no At), in the store and in the task it
//     is given, whose lease it clears too. An attempt's Duration may come back
//     rounded to the microsecond. UpdateTask does not check the lease owner.
//   - RetryTask keeps Attempts and LastError, and sets UpdatedAt to now.
//   - A task's Log may come back nil or empty when it has no attempts.
package storetest
