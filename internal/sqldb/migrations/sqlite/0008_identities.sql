-- Sign-in through upstream providers (OAuth 2.0 / OpenID Connect).
--
-- identities links a user to an account at a provider. (provider, subject)
-- names the upstream account for good; the email is what the provider said
-- when the link was made, for display only, never a key to find a user by.
CREATE TABLE identities (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    email_verified BOOLEAN NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    created_at     TEXT    NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- A sign-in in progress, between the redirect to the provider and its
-- callback: keyed by the SHA-256 of the state, taken (deleted) once. The
-- PKCE verifier and nonce live ten minutes at most.
CREATE TABLE oauth_logins (
    state_hash     TEXT    PRIMARY KEY,
    provider       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    verifier       TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    app_state      TEXT    NOT NULL DEFAULT '',
    code_challenge TEXT    NOT NULL DEFAULT '',
    link_user_id   INTEGER NOT NULL DEFAULT 0,
    expires_at     TEXT    NOT NULL
);
CREATE INDEX oauth_logins_expires ON oauth_logins (expires_at);

-- One-time codes handed to apps in place of tokens: only their SHA-256 is
-- kept; bound to the app's redirect_uri and PKCE challenge; sixty seconds.
CREATE TABLE oauth_codes (
    code_hash      TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    -- A link's code carries the upstream account, linked when redeemed.
    link           BOOLEAN NOT NULL DEFAULT 0 CHECK (link IN (0, 1)),
    subject        TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    email_verified BOOLEAN NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1))
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
