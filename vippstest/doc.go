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
// Elsewhere, [New] returns a [Simulator] to serve with any http.Server;
// the sim command of cmd/vipps runs one as a server ("vipps sim").
//
// The test hooks act as the user and the clock: [Simulator.Approve],
// [Simulator.Reject], [Simulator.Expire], [Simulator.RemoveConsent],
// [Simulator.Advance]; and let tests look inside: [Simulator.Payment],
// [Simulator.Requests] (every request with its headers, to check that the
// Vipps-System headers were sent), [Simulator.Callbacks],
// [Simulator.ShippingCalls], [Simulator.ConsentRemovals].
//
// Beyond the Vipps APIs the simulator serves:
//   - a control API under /_sim/: the hooks as JSON, for tests in other
//     languages and for curl;
//   - a small browser "Vipps app" at the initiate url, so that a person can
//     walk through a checkout by hand, and each user's history page;
//   - Prometheus metrics at /metrics ([Simulator.Metrics]).
//
// To test what goes wrong, [Simulator.InjectFault] makes API requests fail
// (server errors, timeouts before or after the change is made, dropped
// connections, delays) and [Simulator.InjectCallbackFault] drops, delays,
// duplicates or reorders callbacks. Vipps' rate limits apply by default
// ([RateLimits]). With [Config].SnapshotPath the state survives restarts;
// [LoadMerchants] reads sales units from a file.
//
// DESIGN.md, beside this file, lists the control API and the browser app's
// routes, the metrics, the snapshot file, the fault kinds, and every
// decision the simulator makes where the Vipps reference leaves the
// behaviour open: those are choices, not facts about Vipps.
package vippstest
