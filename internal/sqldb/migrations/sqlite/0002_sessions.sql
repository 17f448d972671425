-- Sessions: one per login, the chain of refresh tokens handed to one client.
-- Refresh tokens themselves are never stored: the n-th token of a session is a
-- MAC under a server key over (id, counter, seed), so this table alone cannot
-- mint one.
CREATE TABLE sessions (
    id                  TEXT    PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          TEXT    NOT NULL,
    last_used_at        TEXT    NOT NULL,
    expires_at          TEXT    NOT NULL,
    absolute_expires_at TEXT    NOT NULL,
    client_ip           TEXT    NOT NULL DEFAULT '',
    user_agent          TEXT    NOT NULL DEFAULT '',
    client_id           TEXT    NOT NULL DEFAULT '',
    scope               TEXT    NOT NULL DEFAULT '',
    counter             INTEGER NOT NULL DEFAULT 0,
    seed                BLOB    NOT NULL,
    rotated_at          TEXT    NOT NULL,
    access_expires_at   TEXT    NOT NULL,
    revoked_at          TEXT,
    revoke_reason       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The revocation log: what the in-process revocation set, other instances and
-- resource servers (GET /auth/revocations) follow by seq. An entry is useful
-- until expires_at, when the last access token of its session expires.
CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    revoked_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);
