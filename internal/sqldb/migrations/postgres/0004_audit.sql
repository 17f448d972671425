-- The audit log of migrations/sqlite/0004_audit.sql, in PostgreSQL's types:
-- append-only, one row per security-relevant event (see
-- gatehouse.AuditEvent). Rows are never updated; they are deleted only by
-- retention (PruneAudit), which records that it did. It never holds a
-- password, a hash or a token.
CREATE TABLE audit_events (
	-- ALWAYS: no one inserts an id of their own. An identity never hands out
	-- an id twice, which the paging cursor relies on.
	id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         TIMESTAMPTZ NOT NULL,
	-- COLLATE "C" on the columns filtered by equality: bytes compared, as
	-- SQLite compares them.
	event      TEXT        COLLATE "C" NOT NULL,
	outcome    TEXT        NOT NULL CONSTRAINT audit_events_outcome CHECK (outcome IN ('success', 'failure')),
	reason     TEXT        NOT NULL DEFAULT '',
	-- NULL when no account is known. No foreign key: the history of a
	-- deleted user must outlive the user.
	user_id    BIGINT,
	login      TEXT        NOT NULL DEFAULT '',
	session_id TEXT        NOT NULL DEFAULT '',
	client_ip  TEXT        COLLATE "C" NOT NULL DEFAULT '',
	user_agent TEXT        NOT NULL DEFAULT '',
	request_id TEXT        NOT NULL DEFAULT '',
	-- A JSON object of strings, '' when there is none; text rather than
	-- JSONB so that it reads back as written, as from SQLite.
	detail     TEXT        NOT NULL DEFAULT ''
);
-- Retention deletes by time, and --since reads by it.
CREATE INDEX audit_events_at ON audit_events (at);
-- The filters the CLI (and the admin API to come) offer, each in id order so
-- that a page is one index range scan.
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_event ON audit_events (event, id);
CREATE INDEX audit_events_client_ip ON audit_events (client_ip, id);
