-- Consent removals of express checkout customers (payment.Service
-- RemoveConsent): a removal that arrives before the service has learnt of
-- a payment's reservation must still keep what the customer shared from
-- being stored when it learns of it. user_key is the SHA-256 of the Vipps
-- userId (payment.UserKey), never the id itself; removed_at is the latest
-- removal, in Unix microseconds UTC. Rows older than the keep are deleted
-- as new ones are added.

CREATE TABLE consent_removals (
	user_key   TEXT PRIMARY KEY,
	removed_at INTEGER NOT NULL
) STRICT;

CREATE INDEX consent_removals_removed_at ON consent_removals (removed_at);
