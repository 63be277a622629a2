// Package poller runs the payment service's background work: [Poller]
// checks payments whose next check is due (the polling guidelines, pending
// operations after a crash, payments left unresolved), and [Outbox]
// delivers the tasks queued with events: webhooks to the shop, signed and
// retried until delivered, and receipts to Vipps' Order Management API.
//
// Both take leases on their rows, so several replicas of the service on one
// PostgreSQL database share the work and never do one piece twice at once.
// Each has a single step (Poll) apart from its loop (Run), so tests drive
// the step with an injected clock.
package poller
