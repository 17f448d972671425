-- Multi-factor authentication: TOTP authenticators, recovery codes, and the
-- pending second steps of logins. Nothing here is a working secret: TOTP
-- secrets are sealed (AES-GCM) under a key derived from the server secret,
-- recovery codes and challenge tokens are stored as keyed or plain hashes.

-- How each session's user authenticated (RFC 8176 amr values, space-
-- separated), so refreshed tokens keep amr and aal. Sessions from before
-- MFA were password logins.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

CREATE TABLE user_totp (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret         BLOB    NOT NULL,
    created_at     TEXT    NOT NULL,
    -- NULL while the enrolment is pending.
    confirmed_at   TEXT,
    -- The latest time step whose code was accepted: replay protection.
    last_used_step INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB    NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE mfa_challenges (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL DEFAULT '',
    scope      TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);
