// Package payment is the payment service's domain: the states a payment goes
// through as the shop sees them, how they follow from what Vipps reports,
// when to ask Vipps again, and the [Service] that runs payments.
//
// # The books
//
// Vipps' transaction log is the truth. Every entry of it that the service
// learns, from a /details answer or from Vipps' answer to one of its own
// captures and refunds, is stored once as a [Fact] (two observations of
// one entry are matched by its X-Request-Id or transaction id) and never
// changed or deleted. A payment's state and amounts are a function of its
// facts ([Derive]): sums of captures, refunds and releases, which only grow.
// An answer that shows less than is stored (a replayed answer, a /details
// read before a later change, one operation's summary) adds no fact and so
// takes nothing away; a summary that shows more only makes the service read
// the log sooner.
//
// Events come from new facts, in the same transaction as the fact: one per
// reservation, capture, refund, release, cancel, carrying the fact's key,
// which the store keeps unique per payment and event type, so that no
// replica, retry or callback reports a capture twice. Webhooks are queued
// with their events (a transactional outbox) and carry the amounts just
// after their fact: the captured webhooks of a payment sum to what Vipps
// captured, likewise refunded and released (voided), and the last carries
// the final amounts.
//
// Every change, whether from a callback, the poller, an operation's answer
// or a check, goes through one path ([Service] record): read the payment
// with its facts, apply the change, derive, store under optimistic
// concurrency; on a concurrent change read again and apply anew.
//
// The service never trusts a callback or a redirect alone: both only make
// it read /details sooner. Checks of one payment share their /details call,
// and a callback that reports what an answer of the last few seconds shows
// already (a duplicate, a replay) is answered by that answer, so that a
// callback repeated a hundred times costs one call. [Schedule] says when to poll a payment whose
// outcome depends on the customer, after Vipps' polling guidelines.
//
// # Payments
//
// [Service.Create] stores a payment before it initiates it at Vipps, with a
// random callback token whose hash alone is kept, an orderId derived from
// the shop's reference ("<prefix>-<shopRef>", then "--1", "--2" for new
// attempts, so that no attempt is another shopRef's orderId), and a first check due, so that a crash between the two steps
// loses nothing. [Service.OnCallback] records a callback and checks details;
// [Service.Poll] is the poller's step for a due payment.
//
// # Operations
//
// [Service.Capture], [Service.Refund] and [Service.Cancel] store the
// operation with its X-Request-Id (and the shop's idempotency key) before
// calling Vipps. A payment has one operation in flight at Vipps at a time:
// the oldest pending operation is sent first, by whichever request or
// replica holds a claim on the payment, and the others wait their turn (a
// shop's request waits at most Config.OpWait, then answers pending). Before
// an operation is sent the first time it is checked against the facts: what
// no longer fits is refused without asking Vipps. An answer lost to a
// timeout or a crash leaves the operation pending and first: it is sent
// again with the same X-Request-Id (by the shop's retry, the next request,
// or the poller after [OpResumeAfter]), which Vipps applies once; a cancel,
// which has no X-Request-Id, is judged by the log before it is sent again.
// Refused for the rate limit or a locked order, an operation waits for
// Vipps' Retry-After. Ending an operation is compare-and-set on a pending
// one, stored with its fact and its effect in one transaction
// ([Store.UpdateOperation]); a refusal makes the payment due for a check at
// once, since Vipps knows something the service does not. A repeated
// request with the same key returns the first operation.
//
// Payments left waiting are resolved: one Vipps never received fails once
// the customer's time is up, one Vipps still shows as waiting a minute
// ([StaleAfter]) after that is cancelled, and an older attempt of a shop
// order that the customer approves after a newer attempt was started is
// released.
//
// Every call to Vipps is bounded by Config.CallTimeout, and every wait in a
// shop's request by that or Config.OpWait.
//
// Errors wrap the sentinels [ErrInvalid], [ErrNotFound], [ErrState],
// [ErrExists], [ErrConflict], [ErrIdempotencyMismatch], or a *vipps.Error;
// the web layer maps them to statuses in one place.
package payment
