-- The asymmetric keys that sign access tokens, as in
-- migrations/sqlite/0003_signing_keys.sql (HS256 secrets come from the
-- configuration and are never stored). private_key is PKCS #8 DER sealed by
-- the token package with a key the database does not hold, so a copy of this
-- table alone cannot sign; public_key is PKIX DER.
CREATE TABLE signing_keys (
	-- COLLATE "C": ordered by bytes, as SQLite orders them (SigningKeys
	-- breaks ties by kid).
	kid         TEXT        COLLATE "C" PRIMARY KEY,
	alg         TEXT        NOT NULL,
	private_key BYTEA       NOT NULL,
	public_key  BYTEA       NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	-- NULL for the current key; for a rotated-out key, when it stops verifying.
	retires_at  TIMESTAMPTZ,
	-- 1 on the current key and NULL on every other: the unique constraint
	-- (NULLs never collide) lets at most one row be current, whatever two
	-- processes adding keys at once do, and the CHECK ties it to retires_at
	-- so that the two can never disagree about which key signs. The
	-- constraint is named because the store recognises a violation of it
	-- by name (postgresUniqueColumns).
	current     SMALLINT    CONSTRAINT signing_keys_current UNIQUE CHECK (current = 1),
	CHECK ((current IS NULL) = (retires_at IS NOT NULL))
);
