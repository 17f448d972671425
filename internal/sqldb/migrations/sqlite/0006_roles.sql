-- Roles (see gatehouse.User.Roles): one row per role a user holds beyond
-- "user", which every user holds implicitly and which is never stored. The
-- CHECK repeats gatehouse.ValidRole, so that no writer can store a role no
-- token could carry.
CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT    NOT NULL CHECK (length(role) BETWEEN 1 AND 64 AND role NOT GLOB '*[^a-z0-9_:-]*' AND role <> 'user'),
	PRIMARY KEY (user_id, role)
) WITHOUT ROWID;
-- "Who holds this role": the admin API's role filter and the last-admin check.
CREATE INDEX user_roles_role ON user_roles (role, user_id);

-- The admin who acted, for the admin API's events; NULL otherwise (as
-- user_id, no foreign key: the history outlives the admin).
ALTER TABLE audit_events ADD COLUMN actor_id INTEGER;
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
