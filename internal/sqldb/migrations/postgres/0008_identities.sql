-- The tables of migrations/sqlite/0008_identities.sql, in PostgreSQL's types.
-- The unique constraint is named because the store tells which key is taken
-- by the name of the constraint violated (postgresUniqueColumns).
CREATE TABLE identities (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT        COLLATE "C" NOT NULL,
    subject        TEXT        COLLATE "C" NOT NULL,
    email          TEXT        NOT NULL DEFAULT '',
    email_verified BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT identities_provider_subject UNIQUE (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE oauth_logins (
    state_hash     TEXT        COLLATE "C" PRIMARY KEY,
    provider       TEXT        NOT NULL,
    nonce          TEXT        NOT NULL,
    verifier       TEXT        NOT NULL,
    redirect_uri   TEXT        NOT NULL,
    app_state      TEXT        NOT NULL DEFAULT '',
    code_challenge TEXT        NOT NULL DEFAULT '',
    link_user_id   BIGINT      NOT NULL DEFAULT 0,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_logins_expires ON oauth_logins (expires_at);

CREATE TABLE oauth_codes (
    code_hash      TEXT        COLLATE "C" PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT        NOT NULL,
    redirect_uri   TEXT        NOT NULL,
    code_challenge TEXT        NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    link           BOOLEAN     NOT NULL DEFAULT FALSE,
    subject        TEXT        NOT NULL DEFAULT '',
    email          TEXT        NOT NULL DEFAULT '',
    email_verified BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
