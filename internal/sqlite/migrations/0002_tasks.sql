-- The shop's order page and receipt of a payment; tasks queued with events
-- (webhooks, receipts), delivered at least once, and the log of their
-- attempts. Times are Unix microseconds in UTC; NULL is the zero time.

ALTER TABLE payments ADD COLUMN order_url TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN receipt TEXT;

-- ByUser looks only at payments with a user.
CREATE INDEX payments_user_id ON payments (user_id, created_at, order_id)
	WHERE user_id <> '';

-- List walks payments newest first.
CREATE INDEX payments_created_at ON payments (created_at, order_id);

CREATE TABLE tasks (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL,
	order_id        TEXT NOT NULL REFERENCES payments (order_id),
	event_seq       INTEGER NOT NULL REFERENCES events (seq),
	payload         TEXT,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER, -- NULL: due at once
	last_error      TEXT NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_until     INTEGER,
	created_at      INTEGER,
	updated_at      INTEGER
) STRICT;

CREATE INDEX tasks_order_id ON tasks (order_id, id);

-- LeaseTasks looks only at pending tasks.
CREATE INDEX tasks_due ON tasks (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE task_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	task_id     INTEGER NOT NULL REFERENCES tasks (id),
	at          INTEGER,
	duration_us INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	error       TEXT NOT NULL
) STRICT;

CREATE INDEX task_attempts_task_id ON task_attempts (task_id, id);
