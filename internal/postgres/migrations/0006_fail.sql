-- A store call is one batch of statements that PostgreSQL runs as one
-- implicit transaction: a statement can only stop the ones after it, and
-- undo the ones before, by failing. vipps_fail is how a statement fails
-- when its condition does not hold, such as a compare-and-set that changed
-- nothing: it raises an error with the SQLSTATE code and the message given
-- (see tx.go for the codes). VOLATILE, so that it is called only where a
-- CASE or COALESCE reaches it, never folded in advance.
CREATE FUNCTION vipps_fail(code text, message text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END;
$$;
