-- The roles of migrations/sqlite/0006_roles.sql, in PostgreSQL's types: one
-- row per role a user holds beyond "user", which every user holds implicitly
-- and which is never stored. The CHECK repeats gatehouse.ValidRole.
CREATE TABLE user_roles (
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT   COLLATE "C" NOT NULL
		CONSTRAINT user_roles_role_valid CHECK (role ~ '^[a-z0-9_:-]{1,64}$' AND role <> 'user'),
	PRIMARY KEY (user_id, role)
);
-- "Who holds this role": the admin API's role filter and the last-admin check.
CREATE INDEX user_roles_role ON user_roles (role, user_id);

-- The admin who acted, for the admin API's events; NULL otherwise (as
-- user_id, no foreign key: the history outlives the admin).
ALTER TABLE audit_events ADD COLUMN actor_id BIGINT;
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
