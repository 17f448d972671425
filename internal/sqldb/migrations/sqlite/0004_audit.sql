-- The audit log: append-only, one row per security-relevant event (see
-- gatehouse.AuditEvent). Rows are never updated; they are deleted only by
-- retention (PruneAudit), which records that it did. It never holds a
-- password, a hash or a token.
CREATE TABLE audit_events (
	-- AUTOINCREMENT: ids are the paging cursor, so one is never handed out
	-- again, even after the newest rows were pruned.
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	-- UTC text as in users.created_at: fixed width, so text order is time order.
	at         TEXT    NOT NULL,
	event      TEXT    NOT NULL,
	outcome    TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
	reason     TEXT    NOT NULL DEFAULT '',
	-- NULL when no account is known. No foreign key: the history of a
	-- deleted user must outlive the user.
	user_id    INTEGER,
	login      TEXT    NOT NULL DEFAULT '',
	session_id TEXT    NOT NULL DEFAULT '',
	client_ip  TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	request_id TEXT    NOT NULL DEFAULT '',
	-- A JSON object of strings, '' when there is none.
	detail     TEXT    NOT NULL DEFAULT ''
);
-- Retention deletes by time, and --since reads by it.
CREATE INDEX audit_events_at ON audit_events (at);
-- The filters the CLI (and the admin API to come) offer, each in id order so
-- that a page is one index range scan.
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_event ON audit_events (event, id);
CREATE INDEX audit_events_client_ip ON audit_events (client_ip, id);
