-- The tutorial's users table, with its column names kept so that its database
-- can be imported, plus the case-folded keys on which uniqueness is enforced:
-- "Alice" and "alice" are one account, so username and email themselves are
-- not unique, their keys are.
CREATE TABLE users (
	-- AUTOINCREMENT: without it SQLite hands out the id of the highest deleted
	-- row again, and a token still naming a deleted user would name a new one.
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	username        TEXT    NOT NULL,
	username_key    TEXT    NOT NULL UNIQUE,
	email           TEXT    NOT NULL,
	email_key       TEXT    NOT NULL UNIQUE,
	hashed_password TEXT    NOT NULL,
	is_active       BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
	-- UTC as 'YYYY-MM-DD HH:MM:SS.ffffff': fixed width, so text order is time
	-- order, and the tutorial's CURRENT_TIMESTAMP values ('YYYY-MM-DD HH:MM:SS')
	-- sort correctly among them.
	created_at      TEXT    NOT NULL
);
