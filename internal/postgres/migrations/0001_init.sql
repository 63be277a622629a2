-- Payments, their events and the merchant's operations.

CREATE TABLE payments (
	order_id             text PRIMARY KEY,
	shop_ref             text NOT NULL DEFAULT '',
	attempt              integer NOT NULL DEFAULT 0,
	msn                  text NOT NULL DEFAULT '',
	kind                 text NOT NULL DEFAULT '',
	text                 text NOT NULL DEFAULT '',
	phone                text NOT NULL DEFAULT '',
	return_url           text NOT NULL DEFAULT '',
	auth_token_hash      text NOT NULL DEFAULT '',
	vipps_url            text NOT NULL DEFAULT '',
	state                text NOT NULL,
	authorized           bigint NOT NULL DEFAULT 0,
	captured             bigint NOT NULL DEFAULT 0,
	refunded             bigint NOT NULL DEFAULT 0,
	remaining_to_capture bigint NOT NULL DEFAULT 0,
	remaining_to_refund  bigint NOT NULL DEFAULT 0,
	user_id              text NOT NULL DEFAULT '',
	shipping             json,
	last_error           jsonb,
	created_at           timestamptz,
	updated_at           timestamptz,
	sent_at              timestamptz,
	next_check_at        timestamptz,
	lease_owner          text NOT NULL DEFAULT '',
	lease_until          timestamptz,
	version              bigint NOT NULL DEFAULT 1
);

CREATE INDEX payments_shop_ref ON payments (shop_ref, attempt);

-- The poller's work list: only rows that need a check are indexed.
CREATE INDEX payments_due ON payments (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE events (
	seq      bigserial PRIMARY KEY,
	order_id text NOT NULL REFERENCES payments (order_id),
	type     text NOT NULL,
	state    text NOT NULL DEFAULT '',
	amount   bigint NOT NULL DEFAULT 0,
	data     json,
	at       timestamptz
);

CREATE INDEX events_order_id ON events (order_id, seq);

CREATE TABLE operations (
	id                bigserial PRIMARY KEY,
	order_id          text NOT NULL REFERENCES payments (order_id),
	kind              text NOT NULL,
	idempotency_key   text NOT NULL,
	request_id        text NOT NULL DEFAULT '',
	amount            bigint NOT NULL DEFAULT 0,
	text              text NOT NULL DEFAULT '',
	release_remaining boolean NOT NULL DEFAULT false,
	status            text NOT NULL,
	error             jsonb,
	created_at        timestamptz,
	updated_at        timestamptz,
	UNIQUE (order_id, kind, idempotency_key)
);

CREATE INDEX operations_pending ON operations (order_id, id) WHERE status = 'pending';
