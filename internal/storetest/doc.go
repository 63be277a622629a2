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
//   - Lease takes payments with a non-zero NextCheckAt <= now and no lease or
//     one with LeaseUntil < now. The payments it returns carry the stored
//     Version, so that an Update right after the lease succeeds; taking a
//     lease is a change, so an Update based on a read from before the lease
//     fails with ErrConflict instead of undoing the lease.
//   - Events and Operations of an unknown payment are empty.
package storetest
