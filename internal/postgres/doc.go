// Package postgres is a [payment.Store] on PostgreSQL, for a service run as
// several replicas on one database.
//
// [Open] connects with a pgx pool and applies the embedded numbered
// migrations (migrations/NNNN_name.sql) that the database lacks, in order,
// under a transaction-scoped advisory lock, so replicas starting at once
// never race. Each applied migration is recorded in schema_migrations.
//
// [Store.Lease] takes due payments, and [Store.LeaseTasks] due tasks (the
// webhooks and receipts queued with events), with SELECT ... FOR UPDATE
// SKIP LOCKED, so replicas polling at once never get the same one. [Store.Update]
// refuses a stale Version with [payment.ErrConflict]. Transactions that fail
// with a serialization failure or a deadlock are retried a few times.
//
// A call that changes a payment, its operations, tasks or exchanges is one
// round trip (an operation with a known key takes a second, to read the
// stored one): one pgx batch sent outside an explicit transaction, which
// PostgreSQL runs as one implicit transaction. Its conditions are checked in SQL, where a failed
// one fails its statement (with vipps_fail, migrations/0006_fail.sql),
// and so rolls back the batch, rather than in Go between round trips.
//
// Times are stored as timestamptz and read back in UTC, at PostgreSQL's
// microsecond precision; zero times and nil errors and receipts are stored
// as NULL, durations as microseconds. [Store.List] matches text with ILIKE,
// so case is folded as the database's locale folds it (beyond ASCII in any
// UTF-8 locale). The tables live in the first schema of the connection's
// search_path, which a DSN may set (search_path=name).
package postgres
