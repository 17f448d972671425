-- Email verification and password reset. email_verified_at is NULL until the
-- user follows a verification (or password reset) link.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

-- Single-use tokens sent by email. Only the SHA-256 of the secret is kept
-- (hex), so the table holds no usable link. A token is consumed by setting
-- used_at in a conditional UPDATE, so it works once.
CREATE TABLE one_time_tokens (
	token_hash TEXT    PRIMARY KEY,
	purpose    TEXT    NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- The email key the link was sent to: a token for an address the user
	-- no longer has is worthless.
	email_key  TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	expires_at TEXT    NOT NULL,
	used_at    TEXT
);
-- Superseding a user's older tokens, and the cascade on user deletion.
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
-- Pruning by expiry.
CREATE INDEX one_time_tokens_expires ON one_time_tokens (expires_at);
