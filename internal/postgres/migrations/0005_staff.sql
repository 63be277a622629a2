-- Staff accounts of the admin and their sessions (package staff). A name is
-- unique compared case-insensitively: name_key is its lower-case form. A
-- session is stored as the SHA-256 of its token only.

CREATE TABLE staff_accounts (
	id            bigserial PRIMARY KEY,
	name          text NOT NULL,
	name_key      text NOT NULL UNIQUE,
	role          text NOT NULL,
	password_hash text NOT NULL,
	disabled      boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	updated_by    text NOT NULL DEFAULT ''
);

CREATE TABLE staff_sessions (
	hash       text PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL
);

CREATE INDEX staff_sessions_account ON staff_sessions (account_id);
