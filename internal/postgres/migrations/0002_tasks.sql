-- The shop's order page and receipt of a payment; tasks queued with events
-- (webhooks, receipts), delivered at least once, and the log of their
-- attempts.

ALTER TABLE payments
	ADD COLUMN order_url text NOT NULL DEFAULT '',
	ADD COLUMN receipt   jsonb;

-- ByUser looks only at payments with a user.
CREATE INDEX payments_user_id ON payments (user_id, created_at NULLS FIRST, order_id)
	WHERE user_id <> '';

-- List walks payments newest first.
CREATE INDEX payments_created_at ON payments (created_at DESC NULLS LAST, order_id DESC);

CREATE TABLE tasks (
	id              bigserial PRIMARY KEY,
	kind            text NOT NULL,
	order_id        text NOT NULL REFERENCES payments (order_id),
	event_seq       bigint NOT NULL REFERENCES events (seq),
	payload         json,
	status          text NOT NULL,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz, -- NULL: due at once
	last_error      text NOT NULL DEFAULT '',
	lease_owner     text NOT NULL DEFAULT '',
	lease_until     timestamptz,
	created_at      timestamptz,
	updated_at      timestamptz
);

CREATE INDEX tasks_order_id ON tasks (order_id, id);

-- The delivery work list: only pending tasks are indexed.
CREATE INDEX tasks_due ON tasks (next_attempt_at NULLS FIRST, id) WHERE status = 'pending';

CREATE TABLE task_attempts (
	id          bigserial PRIMARY KEY,
	task_id     bigint NOT NULL REFERENCES tasks (id),
	at          timestamptz,
	duration_us bigint NOT NULL DEFAULT 0,
	status_code integer NOT NULL DEFAULT 0,
	error       text NOT NULL DEFAULT ''
);

CREATE INDEX task_attempts_task_id ON task_attempts (task_id, id);
