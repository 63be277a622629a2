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
// Times are stored as Unix microseconds in UTC, NULL for the zero time, and
// come back in UTC; JSON (shipping details, errors, event data) is stored as
// text, NULL for nil.
package sqlite
