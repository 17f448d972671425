-- The asymmetric keys that sign access tokens (HS256 secrets come from the
-- configuration and are never stored). private_key is PKCS #8 DER sealed by
-- the token package with a key the database does not hold, so a copy of this
-- table alone cannot sign; public_key is PKIX DER.
CREATE TABLE signing_keys (
	kid         TEXT PRIMARY KEY,
	alg         TEXT NOT NULL,
	private_key BLOB NOT NULL,
	public_key  BLOB NOT NULL,
	-- UTC text as in users.created_at: fixed width, so text order is time order.
	created_at  TEXT NOT NULL,
	-- NULL for the current key; for a rotated-out key, when it stops verifying.
	retires_at  TEXT,
	-- 1 on the current key and NULL on every other: the UNIQUE constraint
	-- (NULLs never collide) lets at most one row be current, whatever two
	-- processes adding keys at once do, and the CHECK ties it to retires_at
	-- so that the two can never disagree about which key signs.
	current     INTEGER UNIQUE CHECK (current = 1),
	CHECK ((current IS NULL) = (retires_at IS NOT NULL))
);
