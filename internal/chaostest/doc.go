// Package chaostest is the chaos suite of the payment service: it proves
// (or disproves) that the service's books equal Vipps' truth when
// everything that can go wrong does. It has no API; it is its tests.
//
// TestChaos builds cmd/vipps once and runs real processes over real HTTP,
// on loopback only:
//
//   - `vipps sim` on a free port: the Vipps simulator, which is the truth
//     and is never killed;
//   - `vipps serve` pointed at it: one replica on a SQLite file, and two
//     replicas on a throwaway PostgreSQL cluster of the suite's own (initdb
//     into a temporary directory, pg_ctl on a free port, the socket in the
//     temporary directory; never the machine's shared server);
//   - a webhook receiver in the test process that checks every signature.
//
// A driver plays a shop with many payments at once: it creates payments
// through the shop API (a fifth of them express checkouts, with the
// simulator reserving the shipping on top of the amount for half the seeds,
// the shipping options asked of the shop for half the seeds (one request in
// ten failing, one in twenty answered too late for the service, which then
// offers its static ones), and a third of their customers removing their
// consent in the app, at once or after the shop's operations), approves,
// rejects, expires or cancels them as the user and the shop would, and then
// captures, refunds, voids and releases, sending requests several times at
// once with the same idempotency key, at once with different keys, and
// again later with the same key. Meanwhile it injects the simulator's
// request faults (500, 429, timeouts, drops, timeouts and drops after the
// change was made, delays) and callback faults (drop, delay, duplicate,
// reorder), fails the shop's webhook endpoint (500, 500 after handling the
// event, an answer after the service's timeout; one delivery in ten, at
// most twice per event), kills service processes with SIGKILL and restarts
// them on the same port and database, restarts the PostgreSQL cluster
// with an immediate shutdown, and fills the SQLite replica's disk for a few
// seconds while it serves (its RLIMIT_FSIZE at one byte: every write to its
// files fails, as on a full disk).
//
// Then it clears the faults and waits (bounded) until every payment as the
// service stores it equals the simulator's, and checks the invariants:
// state and amounts equal Vipps'; no capture or refund applied twice or
// unasked; one operation per shop key; operation statuses agree with Vipps'
// log; webhooks signed, summing to the truth, with the final amounts last;
// receipts once; an express checkout's shipping stored as Vipps has it, and
// whether it was charged on top told right, the shop's option when the shop
// answered in time and the static one when not, and none kept after a
// consent removal the service acknowledged; one shop order never holds
// money in two attempts; no 5xx outside the windows where a process or the
// database was down, and never a 500 (a database that is away is told as
// 503). Each invariant is reported with counts and the first
// offending orderIds, and fails the test when violated.
//
// The small run is part of `go test ./...` (about 150 payments per
// database, a few minutes). Flags make it large or narrow:
//
//	go test ./internal/chaostest/ -v
//	go test ./internal/chaostest/ -v -chaos.payments=10000 -timeout 2h
//	go test ./internal/chaostest/ -v -chaos.db=postgres -chaos.seed=42
//	go test ./internal/chaostest/ -v -chaos.faults=false -chaos.kills=0 -chaos.dbrestarts=0 -chaos.diskfull=0
//
// The seed is logged; the same seed repeats the same random choices
// (the interleavings of a concurrent run differ). Without the PostgreSQL
// binaries (/usr/lib/postgresql/*/bin) the PostgreSQL run is skipped, or
// fails when the environment variable CI is set. -short skips the suite.
package chaostest
