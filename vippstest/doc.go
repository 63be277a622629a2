// Package vippstest simulates the Vipps eCom API v2 test environment, so
// that code using Vipps can be tested end to end without network access.
//
// A [Simulator] is an http.Handler that keeps payments in memory and
// behaves like apitest.vipps.no: the access token API, every eCom v2
// endpoint (initiate, capture, cancel, refund, details, the deprecated
// status, force approve), Userinfo and Order Management (images,
// categories, receipts). It validates strictly and answers with Vipps'
// error shapes, follows the payment state machine and its permission
// matrix, keeps idempotency keys, and sends transaction callbacks.
//
// In tests, [NewServer] starts one on loopback and hands back a ready
// [vipps.Client]:
//
//	srv := vippstest.NewServer(t)
//	res, err := srv.Client.Initiate(ctx, req)
//	srv.Sim.Approve(req.Transaction.OrderID, "")   // the user approves
//	srv.Sim.Advance(11 * time.Minute)              // or lets it time out
//
// The test hooks act as the user and the clock: [Simulator.Approve],
// [Simulator.Reject], [Simulator.Expire], [Simulator.RemoveConsent],
// [Simulator.Advance]; and let tests look inside: [Simulator.Payment],
// [Simulator.Requests] (every request with its headers, to check that the
// Vipps-System headers were sent), [Simulator.Callbacks],
// [Simulator.ShippingCalls], [Simulator.ConsentRemovals]. A person can act
// as the user in a browser instead: see "The browser app". The sim
// command of cmd/vipps runs a simulator as a server.
//
// # Control API
//
// The hooks are also served as JSON under /_sim/, for tests in other
// languages and for people driving the sim command with curl:
//
//	GET  /_sim/clock                        {"now": "..."}
//	POST /_sim/clock/advance                {"duration": "10m"} → {"now": "..."}
//	GET  /_sim/payments                     every payment (see Payment)
//	GET  /_sim/payments/{orderId}           one payment (add ?msn= when ambiguous)
//	POST /_sim/payments/{orderId}/approve   {"phoneNumber": "91234567"}, optional
//	POST /_sim/payments/{orderId}/reject
//	POST /_sim/payments/{orderId}/expire
//	GET  /_sim/requests                     the request log (see Request)
//	GET  /_sim/callbacks                    callback deliveries (see Callback)
//	GET  /_sim/shipping-calls               shippingDetails calls (see ShippingCall)
//	GET  /_sim/consent-removals             consent removals sent (see ConsentRemoval)
//	POST /_sim/consents/{userId}/remove     ?msn= optional → the requests sent
//	GET  /_sim/faults                       injected faults; more routes under Faults
//
// Errors are {"error": "..."} with 404 (no such payment), 409 (ambiguous
// orderId, or the payment is past that point), 501 (not simulated yet),
// 502 (the merchant's shippingDetails gave no usable answer) or 400.
// Cross-site browser requests are refused (http.CrossOriginProtection).
//
// # The browser app
//
// The initiate url opens a small "Vipps app" in the browser (server-rendered
// HTML forms, no JavaScript, with a "Simulator — not real Vipps" banner),
// so that a person can walk through a shop's checkout by hand:
//
//	GET  /dwo-api-application/v1/deeplink/vippsgateway?v=2&token=…   landing page, app screen or outcome
//	POST /dwo-api-application/v1/deeplink/vippsgateway/phone         the phone number step
//	POST /dwo-api-application/v1/deeplink/vippsgateway/app           approve, reject, pick an address
//	GET  /_sim/users/{phone}                                         the user's payment history
//	POST /_sim/users/{phone}/consents/remove                         "remove access" on that page
//	GET  /_sim/images/{msn}/{imageId}                                an Order Management image
//
// The landing page shows the merchant, the amount, the transaction text and
// the orderId and asks for the phone number (pre-filled from
// customerInfo.mobileNumber; spaces and +47 are repaired, anything else is
// the User 81 text). The same browser then plays the app on that user's
// phone: Approve or Reject, and for express checkout a delivery address
// (every user has a home and a work address, with addressIds of 1000 and
// up), a shipping option and, while the user has not consented to share
// their details with that merchant, a consent checkbox. The app acts
// through the same state changes as the hooks and sends the same
// callbacks; then the browser is redirected (303) to fallBack. With isApp,
// fallBack INTENT or an app's own scheme it gets a result page with a link
// instead (never to javascript: and the like), and with skipLandingPage a
// result page without one: the link opens the app screen for
// customerInfo.mobileNumber directly. An isApp payment's app is at the
// same path with the token of its vippsMT:// url.
//
// Decisions of the browser app:
//   - The link is valid for 5 minutes from initiate: a link nobody gave a
//     phone number on in that time shows an expired page (410). After the
//     phone number step the user has until the 10-minute payment timeout.
//     A payment that is no longer waiting shows its outcome.
//   - Every page sends X-Frame-Options: DENY, a Content-Security-Policy with
//     frame-ancestors 'none' (and nothing but the simulator's own style
//     sheet and images), Referrer-Policy: no-referrer and Cache-Control:
//     no-store. Forms are refused (403) when posted from another site
//     (http.CrossOriginProtection) or without the page's hidden token, an
//     HMAC of the landing token (or of the phone number, on the history
//     page) under a key of the simulator's own.
//   - The app state (phone number, picks, options fetched) lives with the
//     simulator, not in cookies, and is not kept in snapshots.
//
// Express shipping details: for an express payment without
// staticShippingDetails, picking an address (in the app, or the first
// address for Approve and the control API) makes the simulator POST
// shippingDetailsPrefix + "/v2/payments/" + orderId + "/shippingDetails"
// with {addressId, addressLine1, addressLine2 (null when the address has
// none), city, country "NO", postCode, addressType}, Authorization set to
// the authToken when one was given, a 10-second timeout, one attempt,
// redirects not followed. The answer must be 200 with the addressId and
// orderId echoed and options that each have isDefault, shippingCost (NOK,
// not negative), shippingMethod (1-256 characters) and a unique
// shippingMethodId (1-100). A timeout, a refused connection, another
// status or an empty list shows "No shipping methods found"; a malformed
// answer shows "Payment failed". Either way the payment keeps waiting and
// the user may try again or reject; Approve fails with [ErrShipping]. The
// call is made without holding the simulator's lock; the payment is
// checked again afterwards. Every call is in [Simulator.ShippingCalls].
//
// Consent removal: [Simulator.RemoveConsent] (the control API, or "remove
// access" on the history page) sends DELETE consentRemovalPrefix +
// "/v2/consents/" + userId, the userId percent-encoded byte by byte
// outside A-Z a-z 0-9 - . _ ~ (so '=' is %3D, as in the reference), once
// per distinct prefix of the user's approved express payments with that
// merchant, with no Authorization header, one attempt and a 3-second
// timeout. Afterwards the browser app asks for consent again before that
// merchant's next express checkout shares the user's details; payments
// already approved keep their details (which /details shows as
// "[Expired]" after 7 days anyway), and Userinfo (scope) sharing is not
// touched. Approve through the hook or the control API counts as
// consenting.
//
// The history page lists the payments the user approved or was signed in
// to in the app, newest first, with the status, what was captured and
// refunded, the shipping choice, and what the merchant sent through Order
// Management: the category (a link to orderDetailsUrl, with its image) and
// the receipt (order lines, total, VAT). Image bytes live for the run, and
// in the snapshot when there is one.
//
// # Metrics
//
// GET /metrics serves Prometheus metrics from a registry that belongs to
// the simulator (never the global one, so simulators in one process keep
// apart; [Simulator.Metrics] returns it). Scrapes are neither recorded
// nor counted, and change nothing:
//
//	vippstest_requests_total{op,code}          requests by op and HTTP status
//	vippstest_request_duration_seconds{op}     time to answer, in real time (histogram)
//	vippstest_payments{msn,status}             payments held, by what /status says
//	vippstest_callbacks_total{status,outcome}  callbacks by status and outcome
//	vippstest_tokens_issued_total{msn}         access tokens issued
//	vippstest_tokens_active{msn}               access tokens not yet expired
//	vippstest_snapshot_writes_total{result}    snapshot writes: ok or error
//
// op is [Request.Op], "control" for the control API and "unknown" for
// unknown paths; code is "0" when a fault sent no answer. A callback's
// outcome is delivered (2xx), rejected (another HTTP status), failed (no
// answer) or not_sent (after Close, or dropped or held back by a callback
// fault). The gauges are read when scraped; a payment whose timeout fell
// due shows INITIATE until the next request or hook applies it. Counters
// start at zero with every simulator; a snapshot does not carry them.
//
// # Snapshots
//
// With Config.SnapshotPath the state survives restarts (the sim command's
// -snapshot). New loads the file, or creates it when it is missing, so an
// unwritable path fails at once. Every unlock of the simulator's state
// wakes a saver goroutine (owned by the simulator, stopped by Close) that
// waits a quarter of a second, so that a burst of requests costs one
// write, and then writes the whole state atomically (a temporary file in
// the same directory, fsync, rename) unless the file holds it already.
// Close writes it a last time: a clean stop loses nothing, a crash at
// most the last quarter second. A failed write is logged and retried on
// the next change; Close returns its error.
//
// The file holds the payments with everything the simulator knows about
// them (the log, idempotency keys with their answers byte for byte, the
// user, the shipping choice, how far the browser app got), access tokens
// not yet expired (so clients with a cached token carry on), Userinfo
// and express consents, Order Management categories, receipts and
// images, the clock offset added by Advance and the transaction id
// counter. The offset, not the time: with the real clock time passes
// while the simulator is down, and timeouts that fell due meanwhile are
// applied at the first request. It does not hold the request, callback,
// shippingDetails and consent-removal logs, metrics, injected faults,
// rate-limit windows or the browser app's form key (a page opened before
// a restart must be reloaded).
//
// The file is JSON with "format": "vippstest-snapshot" and "version": 1.
// A file that is not valid JSON, not a snapshot, of a newer version, with
// fields this version does not know, or naming merchants that are not
// configured makes New fail with the file name; it is never replaced
// silently. Delete it to start afresh.
//
// # Merchants file
//
// [LoadMerchants] reads the sales units for Config.Merchants from a JSON
// file (the sim command's -merchants). Given merchants replace the
// default one.
//
//	[{"msn": "123456", "clientId": "id", "clientSecret": "secret",
//	  "subscriptionKey": "key", "name": "Shop", "directCapture": false,
//	  "skipLandingPageAllowed": false, "ninAllowed": false}]
//
// msn, clientId, clientSecret and subscriptionKey are required; MSNs,
// client ids and subscription keys must be unique. Errors name the file,
// the line and the JSON path of every bad entry ("merchants.json:3:
// [1].clientId is required").
//
// # Rate limits
//
// Vipps' limits (reference §11) are on by default: per minute, initiate 2
// and capture, cancel and refund 5 each per orderId and MSN; details and
// status 120 each per orderId and subscription key. Config.RateLimits
// turns them off or scales them. Each endpoint has its own counter, kept
// on the simulator's clock in a sliding window: a request counts for one
// window (a minute) after it was made, so Advance(time.Minute) frees
// every counter; [Simulator.ResetRateLimits] (DELETE /_sim/rate-limits)
// does so without moving the clock.
//
// Every request that passes the gateway's authentication (a valid
// subscription key and access token of one merchant) counts, including
// those the API then refuses (a duplicate orderId, a second cancel) and
// idempotent replays: the gateway cannot tell them apart. Requests refused
// with 401 do not count, nor do requests answered 429 (a client that keeps
// retrying is not locked out for longer), requests a fault answers without
// handling them, the control API, the landing page and the endpoints not
// listed above.
//
// Vipps does not document the 429 body. The simulator answers as the
// rate-limit policy of Azure API Management does, in the guide's gateway
// object, with Retry-After in whole seconds (rounded up) until the oldest
// counted request leaves the window:
//
//	HTTP/1.1 429 Too Many Requests
//	Retry-After: 42
//
//	{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 42 seconds."}
//
// On a frozen clock (Config.Now) no time passes for the simulator: a
// client that honours Retry-After waits up to a minute and is refused
// again. Tests that reach a limit on purpose use a client without retries
// or Advance the clock; tests that make many calls on one order set
// RateLimits.Disabled.
//
// # Faults
//
// [Simulator.InjectFault] makes API requests fail, to test what a client
// does when Vipps fails. A [Fault] matches requests by op ([Request.Op]),
// orderId (the path, or the body of initiate) and MSN (of the keys), each
// optional, and hits Count of them (0: until removed); a request is hit by
// at most one fault, the oldest that matches. The kinds:
//
//	server-error         500 VippsError 99 (Order Management: a problem document); nothing changes
//	rate-limited         429 as the rate limiter answers, Retry-After from retryAfter; nothing changes
//	timeout              held, not handled; dropped when the client gives up, delay passes or Close
//	timeout-after-apply  handled (the change is made, an X-Request-Id remembered), then held like timeout
//	drop                 the connection is closed at once; nothing changes
//	drop-after-apply     handled, then the connection is closed at once
//	delay                waits delay, then handled as usual (not at all if the client gives up first)
//
// A retry with the same X-Request-Id after timeout-after-apply gets the
// idempotent replay of the answer the client never saw: that is how to
// test "Vipps timed out after committing" (no double capture).
//
// Delays are real time, not the simulator's clock. A held request does
// not hold the simulator's lock; it ends with its client's context, its
// delay or Close, whichever comes first. No answer means the handler
// aborts with http.ErrAbortHandler and the server closes the connection
// (a caller of ServeHTTP without a net/http server sees that panic). The
// request log names the fault (Fault, FaultID); status 0 means that no
// answer was sent, and a warning says what happened, for the after-apply
// kinds with the status that was not sent. Faults that answer without
// handling the request do not count against the rate limits; delay and
// the after-apply kinds do. The control API and the landing page are never
// hit. Faults are not kept in snapshots.
//
// # Callback faults
//
// [Simulator.InjectCallbackFault] changes how transaction callbacks reach
// the merchant. A [CallbackFault] matches callbacks by orderId, MSN and
// status, each optional, Count times (0: until removed):
//
//	drop       not sent; recorded as "not sent: dropped by callback fault cf1"
//	delay      sent after delay (real time); WaitCallbacks waits for it, Close does not
//	duplicate  sent twice: again once the merchant has answered the first
//	reorder    held back, then sent right after the next callback that is not held back
//
// Reorder makes a callback arrive after a later one. Several held
// callbacks are sent one by one, newest first, so they arrive in reverse
// order; [Simulator.ReleaseCallbacks] sends them without waiting for
// another callback. Held callbacks are not in flight: WaitCallbacks does
// not wait for them, and Close records them as not sent, as it does a
// delayed callback (Close cancels the delay instead of waiting it out).
// The callback log names the fault (Fault, FaultID).
//
// The control API for faults and rate limits:
//
//	GET    /_sim/faults                    the faults in force, with their hits
//	POST   /_sim/faults                    {"kind": "timeout-after-apply", "op": "capture", "orderId": "...",
//	                                        "merchantSerialNumber": "...", "count": 1, "delay": "2s",
//	                                        "retryAfter": "1s"} → 201 and the fault with its id
//	DELETE /_sim/faults                    remove every fault
//	DELETE /_sim/faults/{id}               remove one (404 if there is none)
//	GET    /_sim/callback-faults           the callback faults in force
//	POST   /_sim/callback-faults           {"kind": "reorder", "orderId": "...", "status": "RESERVED",
//	                                        "count": 1, "delay": "250ms"} → 201 and the fault with its id
//	DELETE /_sim/callback-faults[/{id}]    remove every callback fault, or one
//	POST   /_sim/callbacks/release         send the held callbacks → {"released": 2}
//	DELETE /_sim/rate-limits               forget the requests counted so far
//
// Durations are Go duration strings; unknown fields and kinds are 400.
//
// # How it is built
//
// Every route goes through one wrapper (handle in simulator.go) that takes
// the lock, applies what is due on the clock, records the request and
// writes the reply; rate limits and faults apply there too (ratelimit.go,
// faults.go), keyed on the op names of [Request.Op]. The browser app
// (app.go) and the calls to merchants (shipping.go, consent.go) lock by
// themselves, so that no network call holds the lock.
//
// # Decisions
//
// The reference leaves some behaviour open. The simulator decides as
// follows; everything here is a choice, not a fact about Vipps.
//
// Credentials and errors:
//   - Access tokens are JWT-shaped but opaque: a random signature keys a
//     table. They live Config.TokenLifetime (1 h) on the simulator's clock,
//     so Advance can expire them. Every numeric field of the token answer
//     is a JSON string.
//   - 401 for a missing or unknown subscription key uses the guide's
//     gateway object {"statusCode", "message"} with the documented texts;
//     401 for a missing, unknown, expired or foreign bearer token or bad
//     client credentials uses the spec's {"responseInfo", "result"} object.
//     Both shapes are documented; using both keeps clients honest.
//   - Userinfo is called without a subscription key; with one it is a 401
//     (as older docs say). Its errors are OAuth-style {"error",
//     "error_description"}: 404 for an unknown sub, 403 after 168 hours.
//   - A Merchant-Serial-Number header or body merchantSerialNumber that is
//     not the MSN of the keys: initiate answers 403 Merchant 37 with the
//     "Invalid MSN" text; calls on an order answer 404 Merchant 35, since
//     the order does not exist for that MSN.
//   - Unknown paths answer 404 with the gateway object, as Azure API
//     Management does; so does a known path with the wrong method.
//   - InvalidRequest errors name the field by its JSON path
//     ("transaction.orderId", "merchantInfo.callbackPrefix"), one entry per
//     problem, all with the same contextId.
//   - Malformed JSON, merchantSerialNumber as a JSON number, "fallback"
//     instead of "fallBack" and non-integer amounts answer 500 VippsError 99,
//     as real Vipps does; Lenient accepts the MSN number and "fallback" and
//     makes the other two a 400. Duplicate orderId is 400 Merchant 34.
//   - customerInfo.mobileNumber and customerPhoneNumber are repaired like
//     Vipps does (spaces, +47, 0047, with a warning); what cannot be
//     repaired is 400 User 81.
//   - URLs: callbackPrefix, consentRemovalPrefix and shippingDetailsPrefix
//     must be https, fallBack https or an app scheme or INTENT (not checked
//     with isApp). http to loopback (localhost, 127.0.0.0/8, ::1) is
//     accepted with a warning in the request log, since real Vipps would
//     refuse it; Lenient accepts http to any host. DNS is not checked.
//   - Order Management errors are problem documents; its
//     Merchant-Serial-Number header is required (400 without it, unless
//     Lenient). A category naming an image that was not uploaded is 404.
//     Receipts are returned as they were posted.
//
// Payments:
//   - The initiate url is {base}/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=…
//     ("vippsMT://?token=…" with isApp), where base is the scheme and host
//     the request came in on. The token is unpadded base64url, so it has
//     no '='. The page there is the browser app.
//   - Transaction ids are ten digits, counting up from 5000000001 per
//     simulator: INITIATE, RESERVE or SALE, and the user's outcome (reject,
//     timeout, failed reservation) share the payment's id; every capture,
//     cancel and refund gets a fresh one.
//   - /details leaves out transactionSummary while the payment waits for
//     the user, and includes it (zeros where nothing happened) once it has
//     left INITIATE in any way. bankIdentificationNumber (492560) is
//     present once a user has acted with a card.
//   - The log: the user rejecting and the 10-minute timeout are CANCEL
//     (with the payment's transaction id; /status says CANCEL and REJECTED);
//     a failed reservation is RESERVE (SALE for direct capture) with
//     operationSuccess false and /status FAILED; a merchant cancel is CANCEL
//     before approval and VOID after; releasing the rest after partial
//     captures is VOID for the released amount. Refused operations
//     (Payment 51, 61, ...) are not logged.
//   - The cancel answer's transactionInfo.amount is the payment's amount,
//     as in Vipps' example.
//   - Capture and refund with amount 0 or no amount take all that remains.
//     Amounts below 100 øre are allowed for captures and refunds (only
//     initiate needs 100). A partial capture or refund without X-Request-Id
//     is 400 InvalidRequest "X-Request-Id" (Lenient: allowed with a warning);
//     an X-Request-Id over 40 characters is 400 too.
//   - Permission matrix, where the reference marks the answer as inferred:
//     capture when nothing remains to capture (fully captured, released, or
//     SALE) is Payment 61; refund before approval is Payment 72; refund after
//     a user reject, timeout or failed reservation is Payment 73; cancel of a
//     payment the merchant already cancelled or voided is VippsError 92,
//     after a user reject, timeout or failed reservation Payment 52; cancel
//     with shouldReleaseRemainingFunds when nothing remains is Payment 51.
//     Cancel more than 180 days after reservation is Payment 52.
//   - Time limits are counted from the reservation on the simulator's
//     clock: capture and cancel 180 days, refund 365 days.
//   - Idempotency: keys are kept per payment and endpoint (capture, refund,
//     approve). Only successful answers are kept: a replay with the same
//     body gets the first answer byte for byte and changes nothing; a
//     different body is 400 VippsError 93. A refused request keeps nothing,
//     so it can be retried with the same key once the state allows it.
//     Cancel has no key; repeating it gets VippsError 92.
//   - Timeout: a payment nobody acts on for 10 minutes of the simulator's
//     clock times out (the 5-minute link limit applies to the browser app
//     only).
//     Timeouts are applied when any request arrives, on every hook and on
//     Advance, so with the real clock they happen lazily.
//   - Force approve needs the token of the payment's url; it is refused
//     with VippsError 91 for express and skipLandingPage payments, 92 when
//     the payment is already approved and 91 when it is over. The BankID
//     precondition (Payment 1082) is not simulated. It answers 200 with an
//     empty body.
//   - Magic amounts (Approve and the control API only; not force approve):
//     151 insufficient funds, 182 refused, 183 fraud, 197 3-D Secure denied
//     fail with Payment 42; 184 withdrawal limit with 43; 186 expired card
//     with 44; 187 invalid card with 41. 201 leaves the result unknown for
//     an hour, then fails with 45. 202 (SCA required) succeeds, as if the
//     user completed SCA. A failure sends RESERVE_FAILED (SALE_FAILED) with
//     errorInfo.
//   - The simulated user follows from the phone number: the same number is
//     the same person (name, email, address, sub) in every run.
//   - Express checkout: Approve picks the user's home address and the
//     default shipping option (else the first by priority), of
//     staticShippingDetails or of the merchant's shippingDetails answer;
//     the browser app lets the user pick both. The shipping cost is not
//     added to the reserved amount, unless Config.ExpressAddsShipping (or
//     vipps sim -express-adds-shipping) says so: Vipps does not document
//     which. Shipping and user details in /details read "[Expired]" after
//     7 days.
//   - Payments with a scope get userDetails and sub in /details at once,
//     and userDetails in the (regular-status) callback.
//
// Callbacks:
//   - One POST to callbackPrefix + "/v2/payments/" + orderId, concatenated
//     literally, for approve, reject, failed reservation and timeout (never
//     for merchant operations), with Authorization set to the authToken
//     verbatim when one was given. One attempt, 3-second timeout, redirects
//     not followed. Regular payments say RESERVED, express RESERVE, direct
//     capture SALE; failed ones RESERVE_FAILED or SALE_FAILED; CANCELLED and
//     REJECTED otherwise. Only approved express payments carry shipping and
//     user details (address with zipCode, as Vipps sends it).
//   - Each delivery runs on a goroutine owned by the simulator; Close waits
//     for them and stops new ones. [Simulator.WaitCallbacks] waits for those
//     in flight; [Simulator.Callbacks] lists the outcomes.
//
// The request and callback logs keep the latest 10,000 entries; secrets in
// request headers are redacted.
package vippstest
