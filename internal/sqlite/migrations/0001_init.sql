-- Payments, their events and the merchant's operations. Times are Unix
-- microseconds in UTC; NULL is the zero time. JSON columns hold text; NULL
-- is nil.

CREATE TABLE payments (
	order_id             TEXT PRIMARY KEY,
	shop_ref             TEXT NOT NULL,
	attempt              INTEGER NOT NULL,
	msn                  TEXT NOT NULL,
	kind                 TEXT NOT NULL,
	text                 TEXT NOT NULL,
	phone                TEXT NOT NULL,
	return_url           TEXT NOT NULL,
	auth_token_hash      TEXT NOT NULL,
	vipps_url            TEXT NOT NULL,
	state                TEXT NOT NULL,
	authorized           INTEGER NOT NULL,
	captured             INTEGER NOT NULL,
	refunded             INTEGER NOT NULL,
	remaining_to_capture INTEGER NOT NULL,
	remaining_to_refund  INTEGER NOT NULL,
	user_id              TEXT NOT NULL,
	shipping             TEXT,
	last_error           TEXT,
	created_at           INTEGER,
	updated_at           INTEGER,
	sent_at              INTEGER,
	next_check_at        INTEGER,
	lease_owner          TEXT NOT NULL,
	lease_until          INTEGER,
	version              INTEGER NOT NULL
) STRICT;

CREATE INDEX payments_shop_ref ON payments (shop_ref, attempt);

-- Lease looks only at payments with a next check.
CREATE INDEX payments_next_check_at ON payments (next_check_at)
	WHERE next_check_at IS NOT NULL;

CREATE TABLE events (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id TEXT NOT NULL REFERENCES payments (order_id),
	type     TEXT NOT NULL,
	state    TEXT NOT NULL,
	amount   INTEGER NOT NULL,
	data     TEXT,
	at       INTEGER
) STRICT;

CREATE INDEX events_order_id ON events (order_id, seq);

CREATE TABLE operations (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id          TEXT NOT NULL REFERENCES payments (order_id),
	kind              TEXT NOT NULL,
	idempotency_key   TEXT NOT NULL,
	request_id        TEXT NOT NULL,
	amount            INTEGER NOT NULL,
	text              TEXT NOT NULL,
	release_remaining INTEGER NOT NULL,
	status            TEXT NOT NULL,
	error             TEXT,
	created_at        INTEGER,
	updated_at        INTEGER,
	UNIQUE (order_id, kind, idempotency_key)
) STRICT;
