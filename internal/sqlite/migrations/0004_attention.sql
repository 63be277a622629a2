-- What needs a person (the admin's attention page), and the exchanges with
-- Vipps shown on a payment's page. Times are Unix microseconds in UTC; NULL
-- is the zero time.

-- Failed details calls in a row, since when, and the latest error.
ALTER TABLE payments ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN check_failed_since INTEGER;
ALTER TABLE payments ADD COLUMN check_error TEXT NOT NULL DEFAULT '';

-- Attention looks only at payments whose checks fail,
CREATE INDEX payments_check_failing ON payments (check_failed_since, order_id)
	WHERE check_failures > 0;
-- at reservations not fully captured, oldest first,
CREATE INDEX payments_reserved ON payments (created_at, order_id)
	WHERE state = 'reserved' AND remaining_to_capture > 0;
-- at pending operations, oldest first,
CREATE INDEX operations_pending_age ON operations (created_at, id)
	WHERE status = 'pending';
-- and at deliveries that failed.
CREATE INDEX tasks_failing ON tasks (updated_at, id)
	WHERE status = 'dead' OR (status = 'pending' AND attempts > 0);

-- HTTP requests to Vipps about a payment and the answers, masked: the
-- newest few of each payment.
CREATE TABLE exchanges (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id    TEXT NOT NULL REFERENCES payments (order_id),
	at          INTEGER,
	op          TEXT NOT NULL,
	method      TEXT NOT NULL,
	path        TEXT NOT NULL,
	status_code INTEGER NOT NULL,
	duration_us INTEGER NOT NULL,
	request_id  TEXT NOT NULL,
	request     TEXT NOT NULL,
	response    TEXT NOT NULL,
	error       TEXT NOT NULL
) STRICT;

CREATE INDEX exchanges_order_id ON exchanges (order_id, id);
