// Package webhook is for shops that receive the webhooks of the vippskit
// payment service (vipps serve -webhook-url): the [Event] they carry,
// [Verify] and [ParseEvent] to check their signature, [Sign] and
// [NewRequest] for senders, and [TestPayload] for a shop's own tests; and
// for shops that answer its shipping requests (vipps serve -shipping-url):
// [ShippingRequest], [VerifyShipping] and [ParseShippingRequest]. It
// plays the part of stripe-go's webhook package: ParseEvent is its
// ConstructEvent, Verify its ValidatePayload, TestPayload its
// GenerateTestSignedPayload.
//
// The package uses the standard library and the root package
// github.com/vippskit/vipps only, for [vipps.Amount] (øre),
// [vipps.OrderID] and [vipps.Secret]: the root package is standard library
// only too, so importing it costs a shop nothing, and the event's amounts
// and ids have the same types as everywhere else in vippskit.
//
// # Receiving a webhook
//
// The service POSTs one event per request, as JSON, to the shop's URL. The
// shop reads the body (64 KiB is plenty), checks it with [ParseEvent] and
// the shared secret, records what it learnt (dropping repeats, see below),
// and answers 2xx. Any other answer, a redirect included, or none within
// the service's attempt timeout (10 s by default) is a failed attempt: answer
// first and do slow work later. Answer an event type you do not know with
// 2xx too: types may be added. Answer a webhook whose signature fails with
// 400; it is retried, and the service's attempt log shows your answer.
//
// # The delivery contract
//
//   - At least once. An event is delivered until the shop answers 2xx, and
//     may arrive more than once: when an answer is lost or late, when a
//     replica dies during an attempt, when staff send it again.
//   - One stable id per fact. Each event reports one fact learnt from Vipps
//     (a reservation, each capture, each refund, a release, a cancellation,
//     a failure) and carries the same id on every delivery. Record the ids
//     you have handled, in the same transaction as their effect, and drop
//     repeats: never act on a difference of amounts.
//   - Retries. A failed attempt is retried after 5 s, doubling up to 2 h,
//     20 attempts in all (about 19 hours); then the event is dead
//     until staff send it again from the admin UI. Events are delivered
//     independently of each other, several at a time: a slow answer ties
//     up one delivery for at most the attempt timeout, not the queue.
//   - Order. Deliveries may arrive out of order: a retried event after a
//     later one. Within a payment, a higher id is a later fact; order by id.
//   - Amounts. [Event.Amount] is what the fact moved; [Event.Amounts] are the
//     payment's totals with the fact counted: Authorized, Captured and
//     Refunded never go down from an event to a later one. The Amount of a
//     payment's captured events sums to what Vipps captured, that of its
//     refunded events to what Vipps refunded, and that of its voided events
//     to what was released. The event with the highest id carries the
//     payment's final Amounts.
//
// # Signatures
//
// The [SignatureHeader] of the example in [Event], sent compact, signed at
// 1767225600 with the secret "whsec-0123456789abcdef", is
//
//	Vippskit-Signature: t=1767225600,v1=5c6b91d7bf44b8d8a979ad74df05e9bc8f62d0b18c111689417293f3efc52dab
//
// where t is when the service signed (unix seconds) and v1 the hex
// HMAC-SHA256 of "<t>.<body>" keyed with the webhook secret. [Verify]
// recomputes it over the body exactly as received (before any decoding),
// compares in constant time, and refuses a timestamp more than
// [DefaultTolerance] (5 minutes) away from its clock, either way, so that a
// recorded webhook cannot be replayed later. The header may carry
// several v1 entries, one per secret the service signs with, and a
// [Verifier] may accept several secrets: a webhook passes when any entry
// matches any secret. Other schemes (v0, v2) are ignored.
//
// To rotate the secret: give the shop's Verifier the new secret besides the
// old one; then give the service the new one; then drop the old one. A
// sender that signs with both for a while ([SignAll]) lets receivers that
// hold either one accept its webhooks meanwhile. The
// [EventIDHeader] and [EventTypeHeader] repeat the body's id and type for
// routing, but are not signed: act on the body.
//
// # Shipping requests
//
// With -shipping-url, the service asks the shop for the shipping options of
// the address a customer chose in an express checkout: a POST of a
// [ShippingRequest], which the shop answers with a JSON array of
// [vipps.ShippingOption] within 5 s. The service follows no redirect (the
// body carries the customer's address): a redirect, like any other failure,
// makes it answer Vipps with its static options. The request is signed with
// the webhook secret, but for another purpose: the
// [ShippingSignatureHeader] carries "t=<unix seconds>,v1=<hex>" keyed with
// HMAC-SHA256(secret, "vippskit-signature/shipping") instead of the secret
// itself (see [Purpose]), so that a shipping request never passes [Verify]
// and a webhook never passes [VerifyShipping]. Check it with
// [ParseShippingRequest], or a [Verifier] with Purpose [PurposeShipping]
// during a rotation.
package webhook
