-- The email verification and password reset schema of
-- migrations/sqlite/0007_email_tokens.sql, in PostgreSQL's types.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

CREATE TABLE one_time_tokens (
	token_hash TEXT        COLLATE "C" PRIMARY KEY,
	purpose    TEXT        NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
	user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email_key  TEXT        COLLATE "C" NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires ON one_time_tokens (expires_at);
