// Package payment is the payment service's domain: the states a payment goes
// through as the shop sees them, how they follow from what Vipps reports,
// when to ask Vipps again, and the [Service] that runs payments.
//
// The service never trusts a callback or a redirect alone: both only make it
// call /details sooner. [Observe] turns the details answer into a [State] and
// [Amounts]; [Schedule] says when to poll a payment whose outcome depends on
// the customer, after Vipps' polling guidelines.
//
// # The service
//
// [Service.Create] stores a payment before it initiates it at Vipps, with a
// random callback token whose hash alone is kept, an orderId derived from
// the shop's reference ("<prefix>-<shopRef>", then "-1", "-2" for new
// attempts), and a first check due, so that a crash between the two steps
// loses nothing. [Service.OnCallback] records a callback and checks details;
// [Service.Poll] is the poller's step for a due payment.
//
// Every change is derived by comparing what Vipps reports with what is
// stored, and is stored in one transaction with its events (and the
// webhook and receipt tasks those events queue, a transactional outbox),
// under optimistic concurrency: a callback, the poller, an operation's
// answer and another replica seeing the same change record it once.
//
// [Service.Capture], [Service.Refund] and [Service.Cancel] store the
// operation with its X-Request-Id (and the shop's idempotency key) before
// calling Vipps. An answer lost to a timeout or a crash leaves the operation
// pending and the payment due for a check: the poller sends it again with
// the same X-Request-Id, which Vipps applies once. Vipps' answer is stored
// with the operation's end in one transaction ([Store.FinishOperation]); a
// refusal also makes the payment due for a check at once, since Vipps knows
// something the service does not. A repeated request with the same key
// returns the first operation.
//
// Payments left waiting are resolved: one Vipps never received fails once
// the customer's time is up, one Vipps still shows as waiting a minute
// ([StaleAfter]) after that is cancelled, and an older attempt of a shop
// order that the customer approves after a newer attempt was started is
// released.
//
// Errors wrap the sentinels [ErrInvalid], [ErrNotFound], [ErrState],
// [ErrExists], [ErrConflict], [ErrIdempotencyMismatch], or a *vipps.Error;
// the web layer maps them to statuses in one place.
package payment
