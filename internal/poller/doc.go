// Package poller runs the payment service's background work: [Poller]
// checks payments whose next check is due (the polling guidelines, pending
// operations after a crash, payments left unresolved), and [Outbox]
// delivers the tasks queued with events: webhooks to the shop, signed (see
// package github.com/vippskit/vipps/webhook) and retried until delivered,
// and receipts to Vipps' Order Management API.
//
// Both take leases on their rows, so several replicas of the service on one
// PostgreSQL database share the work and never do one piece twice at once.
// Each has a single step (Poll: lease a batch, work on it, wait for all of
// it) apart from its loop (Run), so tests drive the step with an injected
// clock. Run does not wait for a batch: it keeps a fixed pool of workers
// busy, leasing only as many rows as it has idle workers and leasing again
// as soon as one is free, so that a slow payment or shop holds up only its
// own worker, and no leased row waits in a queue while its lease runs out.
// Each outbox attempt has its own timeout (OutboxConfig.AttemptTimeout),
// shorter than the lease.
package poller
