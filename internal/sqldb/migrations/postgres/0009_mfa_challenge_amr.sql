-- How the first step of a login awaiting its second factor authenticated
-- (RFC 8176 amr values, space-separated): "pwd" for a password, "fed" for a
-- sign-in through an upstream provider. The session the second step opens
-- carries it with "otp". Challenges from before were password logins.
ALTER TABLE mfa_challenges ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
