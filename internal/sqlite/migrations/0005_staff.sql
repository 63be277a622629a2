-- Staff accounts of the admin and their sessions (package staff). A name is
-- unique compared case-insensitively: name_key is its lower-case form. A
-- session is stored as the SHA-256 of its token only.
-- Times are Unix microseconds in UTC.

CREATE TABLE staff_accounts (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT NOT NULL,
	name_key      TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	updated_by    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE staff_sessions (
	hash       TEXT PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX staff_sessions_account ON staff_sessions (account_id);
