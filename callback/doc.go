// Package callback serves the endpoints that Vipps calls on an eCom v2
// merchant, as one [http.Handler]:
//
//   - POST {callbackPrefix}/v2/payments/{orderId}: the transaction callback,
//     sent once when the user approves (RESERVED for regular payments,
//     RESERVE for express, SALE for direct capture), when the payment fails
//     (RESERVE_FAILED, SALE_FAILED, with errorInfo), when the user rejects it
//     (CANCELLED) or when it times out (REJECTED);
//   - POST {shippingDetailsPrefix}/v2/payments/{orderId}/shippingDetails:
//     express checkout asks for the shipping options of an address;
//   - DELETE {consentRemovalPrefix}/v2/consents/{userId}: the user withdrew
//     the consent to share their profile with the merchant.
//
// The merchant supplies plain funcs in a [Config] and gets a [Handler] from
// [New]. At initiate it sends a fresh token from [NewAuthToken] as
// merchantInfo.authToken and stores the token's hash; [Config.Lookup] returns
// that hash for an orderId. Use the same URL for all three prefixes (or
// different ones that all reach the handler).
//
// The reference is the eCom v2 documentation at
// https://developer.vippsmobilepay.com/docs/APIs/ecom-api/; the decisions
// below fill the gaps it leaves.
//
// # Mounting and paths
//
// Vipps appends "/v2/..." to the prefix literally, so a prefix that ends in
// "/" gives "https://shop.example/vipps//v2/payments/o1". The handler accepts
// any run of slashes after [Config.Prefix] and never redirects, since Vipps
// does not follow redirects. An [http.ServeMux] does redirect such paths, so
// put the handler in front of the mux with [Handler.Wrap], or serve it at the
// top of the server, rather than registering it on the mux. With
// http.StripPrefix leave Config.Prefix empty. Paths are matched in their
// escaped form: an orderId must match ^[a-zA-Z0-9-]{1,50}$ (else 400), and a
// userId is everything after "/v2/consents/", path-unescaped, so
// "uiJskNQ6qNN1iwN891uuob%3D%3D" is "uiJskNQ6qNN1iwN891uuob==" and "+" stays
// "+". Unknown paths get 404, a wrong method 405 with Allow.
//
// # Authentication
//
// Vipps sends the authToken given at initiate as the Authorization header of
// the transaction callback and the shippingDetails request, as the raw token;
// "Bearer <token>" is accepted too. The handler hashes the header with
// SHA-256 and compares it with the stored hash in constant time, so it never
// needs the token itself and a leaked database holds no usable tokens. A
// missing header gets 401 without calling Lookup. A wrong token and an
// unknown orderId (Lookup returns "" or [ErrUnknownOrder]) both get the same
// 401, after the same comparison work, so that the answer does not tell
// whether an orderId exists. Lookup failing otherwise, or returning a hash
// that is not hex SHA-256, gets 500. Nothing else of the merchant's is called
// for a request that is refused. Payments initiated without an authToken
// cannot be served by this package: always send one.
//
// Vipps sends no token with consent removal, and a userId is not tied to one
// payment, so consent removal is not authenticated: the handler calls
// [Config.OnConsentRemoved] for any well-formed userId and answers 200 when it
// returns nil (500 otherwise). The func must delete what the merchant stored
// about that userId and nothing else, ignore userIds it does not know, and
// tolerate repeats. The worst a forged request can then do is make the
// merchant forget a customer's profile as if they had withdrawn the consent,
// and userIds are opaque values that Vipps shows only to the merchant. To keep
// strangers away from the endpoint anyway, send a consentRemovalPrefix with a
// long random path segment at initiate and set [Config.ConsentPrefix] to its
// path: consent removal is then served there only.
//
// # Transaction callbacks
//
// Vipps waits 3 s for the answer and tries once. The handler authenticates
// the callback, decodes and validates it, puts it on a bounded queue and
// answers 200; [Config.OnTransaction] runs later on a pool of workers owned by
// the Handler. When the queue is full the callback waits up to
// [Config.QueueWait] for room and is then answered 503; during and after
// [Handler.Shutdown] it is answered 503 at once. Vipps does not retry either,
// and callbacks also get lost on the way, so the merchant must poll
// GET /ecomm/v2/payments/{orderId}/details for every payment that has not
// reached a final state, and should confirm a callback with /details before
// shipping goods. A callback whose body orderId differs from the path is
// refused with 400. A status outside the documented ones is logged and passed
// on; check it with [vipps.CallbackStatus.Known]. Errors and panics of
// OnTransaction are logged, never sent to Vipps.
//
// # Shipping details
//
// Vipps waits 10 s for the shipping options. [Config.ShippingOptions] runs
// with a deadline of [Config.ShippingTimeout] (8 s unless set). If it fails,
// panics, returns invalid options (a negative or non-finite cost, an empty,
// too long or repeated method or id) or misses the deadline, the handler
// answers with [Config.FallbackShippingOptions] when there are any, and 503
// otherwise. The answer always echoes the request's addressId and the path's
// orderId, and sends an empty list as [] (the app then shows that no shipping
// method is available). Costs are NOK, not øre.
//
// # Decoding
//
// Bodies are limited to [Config.MaxBodyBytes] (64 KiB; more gets 413) and
// must be a JSON object; anything malformed gets 400 with the reason in plain
// text. Decoding is lenient: merchantSerialNumber and addressId may be JSON
// strings or numbers, timestamps may lack a zone (UTC is assumed), the express
// address may carry zipCode or postCode, country is passed on as sent ("NO"
// or "Norway"), addressLine2 may be null, and unknown fields are ignored.
//
// # Logging
//
// Every refused request and every failing merchant func is logged on
// [Config.Logger] with snake_case keys and order_id (user_id for consent
// removal) on every line. The auth token is never logged.
package callback
