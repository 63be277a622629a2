// Package sqlite is a [payment.Store] on SQLite, through the pure-Go driver
// modernc.org/sqlite, for a service that runs as one process (or several on
// one machine).
//
// [Open] applies the embedded, numbered migrations (migrations/NNNN_*.sql)
// that the database lacks, in order, in one transaction, and records them
// in schema_migrations; it refuses a database whose schema is newer than
// the program. [Store.Migrate] does the same on its own for `vipps migrate`.
//
// The database runs in WAL mode with foreign keys on and a busy timeout.
// Writes go through a pool of one connection, and every write transaction
// begins IMMEDIATE, so writers of one process queue in Go instead of
// failing with SQLITE_BUSY, and a write never has to upgrade a read lock.
// Reads use a separate pool and run alongside the writer, as WAL allows.
//
// Tasks queued with events (webhooks, receipts) go into the tasks table in
// the event's transaction; [Store.LeaseTasks] takes due ones in an
// IMMEDIATE transaction, as [Store.Lease] takes due payments.
//
// Times are stored as Unix microseconds in UTC, NULL for the zero time, and
// come back in UTC; durations as microseconds. JSON (shipping details,
// errors, receipts, event data, task payloads) is stored as text, NULL for
// nil.
//
// The store opens its connections through a driver of its own, which adds
// one SQL function, vipps_fold (lower case for all of Unicode, where
// SQLite's lower and LIKE fold ASCII only), so that [Store.List] matches
// "Blå" with "BLÅ".
package sqlite
