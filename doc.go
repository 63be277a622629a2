// Package vipps is a client for the Vipps eCom API v2 and the APIs an eCom
// merchant uses with it: the access token API, Userinfo and Order Management.
//
// A [Client] covers every eCom v2 endpoint: [Client.Initiate] (regular and
// express checkout), [Client.Capture] and [Client.Refund] (full and partial),
// [Client.Cancel], [Client.Details], the deprecated [Client.Status], the test
// environment's [Client.Approve], [Client.UserInfo], and Order Management's
// [Client.UploadImage], [Client.PutCategory], [Client.AddReceipt] and
// [Client.GetOrder].
//
// The client fetches and caches the access token, refreshes it before it
// expires (one refresh at a time), and fetches a new one once when Vipps
// answers 401. Every request carries the subscription key, the
// Merchant-Serial-Number and the four Vipps-System headers. Capture, refund and
// approve carry an X-Request-Id idempotency key, which the caller may choose
// (and should store before the call); it is the same on every retry.
//
// Calls are retried on network errors, 5xx, 429 (honouring Retry-After) and
// VippsError 94 (order locked), with jittered exponential backoff, never past
// the context's deadline. Initiate is not idempotent and is retried only when
// the request provably never left this process. When a call may have reached
// Vipps without an answer, its error wraps [ErrOutcomeUnknown].
//
// Errors from Vipps are [*Error] values, whatever shape Vipps used (an error
// array, an API gateway object, an Order Management problem document, or an
// error array in a 200 answer). Get at them with errors.AsType:
//
//	if e, ok := errors.AsType[*vipps.Error](err); ok && e.DuplicateOrderID() { ... }
//
// Money is [Amount], integer øre, except shipping costs, which Vipps sends as
// [NOK]. Order ids are [OrderID]; [NewOrderID], [OrderIDFor] and
// [OrderID.Attempt] make ids that follow Vipps' recommendations.
//
// The reference used for every fact about Vipps is the eCom v2 documentation at
// https://developer.vippsmobilepay.com/docs/APIs/ecom-api/.
package vipps
