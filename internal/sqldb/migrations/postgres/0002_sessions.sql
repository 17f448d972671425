-- Sessions and the revocation log of migrations/sqlite/0002_sessions.sql, in
-- PostgreSQL's types. Refresh tokens themselves are never stored: the n-th
-- token of a session is a MAC under a server key over (id, counter, seed), so
-- this table alone cannot mint one.
CREATE TABLE sessions (
    -- COLLATE "C": ordered by bytes, as SQLite orders them (ListSessions
    -- breaks ties by id).
    id                  TEXT        COLLATE "C" PRIMARY KEY,
    user_id             BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          TIMESTAMPTZ NOT NULL,
    last_used_at        TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL,
    client_ip           TEXT        NOT NULL DEFAULT '',
    user_agent          TEXT        NOT NULL DEFAULT '',
    client_id           TEXT        NOT NULL DEFAULT '',
    scope               TEXT        NOT NULL DEFAULT '',
    counter             BIGINT      NOT NULL DEFAULT 0,
    seed                BYTEA       NOT NULL,
    rotated_at          TIMESTAMPTZ NOT NULL,
    access_expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at          TIMESTAMPTZ,
    revoke_reason       TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The revocation log: what the in-process revocation set, other instances and
-- resource servers (GET /auth/revocations) follow by seq. An entry is useful
-- until expires_at, when the last access token of its session expires.
--
-- seq comes from a sequence, which never goes back, but PostgreSQL may commit
-- a smaller seq after a larger one; the store's writers of this table take
-- turns under an advisory lock so that a follower's cursor never passes a seq
-- still to commit (see revokeWhere).
CREATE TABLE revocations (
    seq        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT        COLLATE "C" NOT NULL,
    user_id    BIGINT      NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);
