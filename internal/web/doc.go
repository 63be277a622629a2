// Package web serves the payment service over HTTP: the shop's JSON API,
// Vipps' callbacks, the customer's return page, the staff's admin UI, a
// demo shop and the operations endpoints. routes.go lists every route;
// [New] wires them to a [payment.Service]. Errors map to HTTP statuses in
// one function, statusOf (errors.go), and are worded for an answer in
// one, messageOf: no answer shows a store's or a library's text.
//
// # The shop's API
//
// Every request under /api/ needs "Authorization: Bearer <Config.APIKey>"
// (compared in constant time; else 401 with WWW-Authenticate). Bodies are
// JSON objects of at most 64 KiB (else 413); unknown fields, data after
// the object and wrong types are 400 naming the field. Names are
// camelCase; amounts are integer øre; times are RFC 3339.
//
// apiRoutes in routes.go lists the routes; each handler in api.go says what
// it does and whether it is safe to retry, and the types it decodes
// (createBody, amountBody, cancelBody, vipps.Receipt) are the bodies:
// create a payment, read it (?vipps=1 adds vippsLog, Vipps' /details log,
// newest first), capture, refund, cancel, set its receipt, and check it
// with Vipps now. Create answers 201 {orderId, url, returnUrl, payment};
// the others answer a payment or an operation answer (below).
//
// Create answers url, where to send the customer (Vipps' landing page or
// app), and returnUrl, the service's return page that Vipps sends the
// customer back to; payment.returnUrl is the shop's own page given at
// create. Create is not idempotent: every call is a new payment, and with
// a shopRef the next attempt of that order ("-1", "-2", ...). When Vipps
// refuses the payment (422) or does not answer (504), the error answer
// carries the stored payment too.
//
// A payment:
//
//	{"orderId", "shopRef", "attempt", "kind": "regular"|"express", "text",
//	 "state": "created"|"initiated"|"reserved"|"captured"|"refunded"|"cancelled"|"voided"|"failed",
//	 "amounts": {"authorized", "captured", "refunded", "remainingToCapture", "remainingToRefund"},
//	 "returnUrl", "orderUrl", "vippsUrl", "receipt", "createdAt", "updatedAt", "nextCheckAt",
//	 "lastError": {"op", "statusCode", "group", "code", "message", "contextId", "at"},
//	 "express": {"shippingDetails", "userDetails"},
//	 "shipping": {"method", "methodId", "cost", "charged": "added"|"notAdded"|"unknown"},
//	 "events": [{"seq", "type", "state", "amount", "data", "at"}],
//	 "operations": [operation],
//	 "vippsLog": [{"operation", "amount", "operationSuccess", "transactionText", "transactionId", "timeStamp", "requestId"}]}
//
// shopRef, returnUrl, orderUrl, vippsUrl, receipt, nextCheckAt, lastError,
// express, shipping, vippsLog and an event's data are left out when empty.
// The callback token's hash and the poller's lease are never shown.
//
// express is what an approved express checkout shared, as Vipps sent it:
// Vipps' data in Vipps' shapes, so its shippingDetails.shippingCost is NOK
// as Vipps writes it. shipping is the service's own view of it, in øre
// like every amount of the service: the method chosen, the cost, and
// whether Vipps reserved the cost on top of the amount initiated. Vipps
// does not document which it does (reference §8.6 item 4, §14 item 29),
// so charged is decided from what the service knows, the amount initiated
// (the INITIATE entry of Vipps' log) and the amount reserved: "added" when
// reserved = initiated + cost, "notAdded" when reserved = initiated (also a
// free option), "unknown" otherwise (see payment.ShippingCharge). A shop
// that captures shipping should capture at most what was reserved either
// way.
//
// Capture and refund take all that remains when amount is 0 or absent.
// The idempotency key comes from the body or the Idempotency-Key header
// (both: they must agree, else 400). The same key with the same body
// returns the first operation and does nothing again; with another body it
// is 409. Without a key every request is a new operation. The operation
// answer is
//
//	{"operation": {"id", "kind", "idempotencyKey", "requestId", "amount", "text",
//	               "releaseRemaining", "status": "pending"|"succeeded"|"failed",
//	               "error", "createdAt", "updatedAt"},
//	 "payment": payment,
//	 "error": error object}
//
// with status 200 when Vipps did it, 202 when Vipps' answer was lost (the
// operation stays pending and is sent again with the same X-Request-Id,
// by the poller or by the shop's retry with the same key), and 422 with
// "error" when Vipps refused it.
//
// Every failure answers
//
//	{"error": {"status", "message", "group"?, "code"?, "contextId"?, "requestId"}}
//
// where message says what to fix; group, code and contextId are Vipps'
// when Vipps refused (message is then the merchant text of the Vipps
// error). A 5xx never shows internals: "internal error; see the service
// log (request id …)", and the log line has the same request id, which is
// also the X-Request-Id header of every answer. A database that cannot be
// used just now (payment.ErrUnavailable: a full disk, a restart, a lost
// connection) is 503 with Retry-After and a message that says to retry
// with the same idempotency key. An unknown route is 404
// with "routes", the API's routes; a known path with another method is 405
// with Allow.
//
// # The admin
//
// Staff sign in at /admin/login (admin_auth.go) with accounts of package
// staff; the session is a cookie (HttpOnly, SameSite=Strict, Path=/admin/)
// whose token the store keeps hashed. Every admin route names the least
// role that may use it (adminRoutes in routes.go): without a session a GET
// is sent to sign in and back, a POST is 401; a role below the route's is
// 403. The signed-in member of staff is the payment.Actor of the changes
// the admin makes, so the history says who did what.
//
// # Limits
//
// Wrong admin sign-ins (POST /admin/login) are limited per address (an IPv6 address by its
// /64) and for all addresses together (see adminLoginBurst in admin.go);
// past a limit the answer is 429 with Retry-After, for a right password
// too, until the wait is over. An address that signed in rightly is exempt
// from the global limit for 12 hours. The first few wrong sign-ins a
// minute are logged at warn level (address and user name given, never the
// password), the rest counted in one line. Demo shop purchases are limited
// the same way (shopBuyBurst in shop.go). The limiters hold at most 10,000
// addresses. Behind a reverse proxy every request comes from the proxy's
// address, so the per-address limits become one limit for everyone.
//
// A demo order belongs to the browser that placed it: POST /shop/buy gives
// it an HttpOnly, SameSite=Lax cookie (Secure over https) with the order's
// key, and the order page and "try again" answer 403 without it.
//
// # Operations
//
// GET /healthz answers 200 "ok" while the process serves; GET /readyz
// answers 200 "ok" when Config.Ready reports within 2 s that the service
// can take payments, else 503 "not ready: <reason>". Every request gets a
// debug log line (an error line when it ends 5xx) with method, path (never
// the query), status, duration, request_id and order_id when the path
// names one; never a header or a body.
package web
