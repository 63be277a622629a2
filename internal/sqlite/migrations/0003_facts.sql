-- The books: every entry of Vipps' transaction log the service has learned,
-- stored once and never changed; a payment's state and amounts derive from
-- them. Events name the fact they report, one event of a type per fact.
-- A payment's first pending operation is claimed by one sender at a time.
-- Times are Unix microseconds in UTC; NULL is the zero time.

CREATE TABLE facts (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id       TEXT NOT NULL REFERENCES payments (order_id),
	operation      TEXT NOT NULL,
	success        INTEGER NOT NULL,
	amount         INTEGER NOT NULL,
	transaction_id TEXT NOT NULL,
	request_id     TEXT NOT NULL,
	at             INTEGER,
	source         TEXT NOT NULL,
	seen_at        INTEGER
) STRICT;

CREATE INDEX facts_order_id ON facts (order_id, seq);

-- One log entry is one fact, whichever of its ids an answer carried.
CREATE UNIQUE INDEX facts_request_id ON facts (order_id, operation, success, request_id)
	WHERE request_id <> '';
CREATE UNIQUE INDEX facts_transaction_id ON facts (order_id, operation, success, transaction_id)
	WHERE transaction_id <> '';
CREATE UNIQUE INDEX facts_anonymous ON facts (order_id, operation, success, at, amount)
	WHERE request_id = '' AND transaction_id = '';

-- Facts are never changed or deleted.
CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
BEGIN
	SELECT RAISE(ABORT, 'facts are never changed');
END;
CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts
BEGIN
	SELECT RAISE(ABORT, 'facts are never deleted');
END;

ALTER TABLE events ADD COLUMN fact TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX events_fact ON events (order_id, type, fact) WHERE fact <> '';

ALTER TABLE payments ADD COLUMN op_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN op_until INTEGER;

ALTER TABLE operations ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operations ADD COLUMN sent_at INTEGER;

-- Payments not yet ended are checked again at once, so that their facts
-- are learned.
UPDATE payments SET next_check_at = coalesce(updated_at, created_at, 0)
	WHERE state IN ('created', 'initiated', 'reserved', 'captured') AND next_check_at IS NULL;
