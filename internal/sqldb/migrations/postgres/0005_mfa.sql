-- Multi-factor authentication of migrations/sqlite/0005_mfa.sql, in
-- PostgreSQL's types. Nothing here is a working secret: TOTP secrets are
-- sealed (AES-GCM) under a key derived from the server secret, recovery codes
-- and challenge tokens are stored as keyed or plain hashes.

-- How each session's user authenticated (RFC 8176 amr values, space-
-- separated), so refreshed tokens keep amr and aal. Sessions from before
-- MFA were password logins.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

CREATE TABLE user_totp (
    user_id        BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret         BYTEA       NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    -- NULL while the enrolment is pending.
    confirmed_at   TIMESTAMPTZ,
    -- The latest time step whose code was accepted: replay protection.
    last_used_step BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BYTEA       NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE mfa_challenges (
    token_hash BYTEA       PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT        NOT NULL DEFAULT '',
    scope      TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);
