-- The books: every entry of Vipps' transaction log the service has learned,
-- stored once and never changed; a payment's state and amounts derive from
-- them. Events name the fact they report, one event of a type per fact.
-- A payment's first pending operation is claimed by one sender at a time.

CREATE TABLE facts (
	seq            bigserial PRIMARY KEY,
	order_id       text NOT NULL REFERENCES payments (order_id),
	operation      text NOT NULL,
	success        boolean NOT NULL,
	amount         bigint NOT NULL,
	transaction_id text NOT NULL,
	request_id     text NOT NULL,
	at             timestamptz,
	source         text NOT NULL,
	seen_at        timestamptz
);

CREATE INDEX facts_order_id ON facts (order_id, seq);

-- One log entry is one fact, whichever of its ids an answer carried.
CREATE UNIQUE INDEX facts_request_id ON facts (order_id, operation, success, request_id)
	WHERE request_id <> '';
CREATE UNIQUE INDEX facts_transaction_id ON facts (order_id, operation, success, transaction_id)
	WHERE transaction_id <> '';
CREATE UNIQUE INDEX facts_anonymous ON facts (order_id, operation, success, at, amount)
	WHERE request_id = '' AND transaction_id = '';

-- Facts are never changed or deleted.
CREATE FUNCTION facts_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'facts are never changed or deleted';
END;
$$;
CREATE TRIGGER facts_kept BEFORE UPDATE OR DELETE ON facts
	FOR EACH ROW EXECUTE FUNCTION facts_are_kept();

ALTER TABLE events ADD COLUMN fact text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX events_fact ON events (order_id, type, fact) WHERE fact <> '';

ALTER TABLE payments
	ADD COLUMN op_owner text NOT NULL DEFAULT '',
	ADD COLUMN op_until timestamptz;

ALTER TABLE operations
	ADD COLUMN sends   integer NOT NULL DEFAULT 0,
	ADD COLUMN sent_at timestamptz;

-- Payments not yet ended are checked again at once, so that their facts
-- are learned.
UPDATE payments SET next_check_at = coalesce(updated_at, created_at, now())
	WHERE state IN ('created', 'initiated', 'reserved', 'captured') AND next_check_at IS NULL;
