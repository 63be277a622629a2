// Package servicetest runs the payment service for tests, the way it runs
// in production but on loopback: the Vipps simulator
// ([vippstest.NewServer]), a real store (SQLite in t.TempDir() by default,
// PostgreSQL with [WithPostgres]), the [payment.Service] on an injected
// [Clock], and a loopback HTTP server at the service's PublicURL, so that
// the simulator's callbacks reach the service as Vipps' would.
//
// [New] builds an [Env]; options change what it is built from. The tests
// of internal/payment, internal/poller and internal/web share it:
//
//	e := servicetest.New(t)
//	p := e.Create(payment.CreateRequest{Amount: 1000})
//	e.Approve(p.OrderID) // the customer approves; the callback is handled
//	e.Clock.Advance(payment.DefaultSchedule.FirstDelay)
//	e.Poll()
//
// # Time
//
// The simulator runs on real time; the service, its pollers and outboxes
// read [Env.Clock], which only a test moves forward. By default it is a
// [WallClock]: real time, ahead by what Advance added, so that the
// simulator and the service agree until a test jumps ahead. A
// [ManualClock] ([WithClock]) stands still until the test moves it, for
// tests that compare stored times exactly.
//
// # Callbacks
//
// By default the loopback server serves a [callback.Handler] under
// "/vipps" wired to the service, and [Env.Approve] waits until it has
// handled the callback. [WithHandler] serves another handler instead (the
// web tests serve their web.Server, which mounts its own).
//
// Everything is stopped by t.Cleanup, in order: the loopback server, then
// the handler's Shutdown (callbacks in progress may still call the
// simulator and the store), then the store, then the simulator.
package servicetest
