package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// emailTokenStore is the gatehouse.EmailTokenStore of a DB.
type emailTokenStore struct{ db *DB }

var _ gatehouse.EmailTokenStore = (*emailTokenStore)(nil)

// EmailTokens returns the gatehouse.EmailTokenStore backed by db.
func (db *DB) EmailTokens() gatehouse.EmailTokenStore { return &emailTokenStore{db: db} }

// CreateOneTimeToken inserts t, first retiring the user's unused tokens of
// the same purpose when supersede is set.
func (s *emailTokenStore) CreateOneTimeToken(ctx context.Context, t *gatehouse.OneTimeToken, supersede bool) error {
	tv := s.db.dialect.timeValue
	_, err := inTx(ctx, s.db, "create one-time token", func(tx runner) (struct{}, error) {
		if supersede {
			if _, err := tx.exec(ctx, `UPDATE one_time_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`,
				tv(t.CreatedAt), t.UserID, t.Purpose); err != nil {
				return struct{}{}, err
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO one_time_tokens (token_hash, purpose, user_id, email_key, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, t.Hash, t.Purpose, t.UserID, t.EmailKey, tv(t.CreatedAt), tv(t.ExpiresAt))
		return struct{}{}, err
	})
	return err
}

// OneTimeToken returns a usable token.
func (s *emailTokenStore) OneTimeToken(ctx context.Context, hash, purpose string, now time.Time) (*gatehouse.OneTimeToken, error) {
	t := &gatehouse.OneTimeToken{}
	err := s.db.pool().queryRow(ctx, `SELECT token_hash, purpose, user_id, email_key, created_at, expires_at FROM one_time_tokens
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`, hash, purpose, s.db.dialect.timeValue(now)).
		Scan(&t.Hash, &t.Purpose, &t.UserID, &t.EmailKey, scanTime(&t.CreatedAt), scanTime(&t.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "one-time token: no usable token")
	}
	if err != nil {
		return nil, fmt.Errorf("one-time token: %w", err)
	}
	return t, nil
}

// consume marks the usable token with that hash and purpose used at `at` and
// returns its user, within tx. The WHERE clause is the whole check: of two
// transactions consuming one token, the second finds used_at set and no row.
// A token whose address is no longer the user's is not consumed.
func consume(ctx context.Context, tx runner, hash, purpose string, at time.Time) (int64, error) {
	var userID int64
	err := tx.queryRow(ctx, `UPDATE one_time_tokens SET used_at = ?
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		AND email_key = (SELECT email_key FROM users WHERE users.id = one_time_tokens.user_id)
		RETURNING user_id`, tx.d.timeValue(at), hash, purpose, tx.d.timeValue(at)).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, gatehouse.Errorf(gatehouse.CodeNotFound, "consume %s token: no usable token", purpose)
	}
	return userID, err
}

// VerifyEmail consumes a verification token and marks the address verified,
// in one transaction. An address verified before keeps its first time.
func (s *emailTokenStore) VerifyEmail(ctx context.Context, hash string, at time.Time) (int64, error) {
	return inTx(ctx, s.db, "verify email", func(tx runner) (int64, error) {
		id, err := consume(ctx, tx, hash, gatehouse.PurposeVerifyEmail, at)
		if err != nil {
			return 0, err
		}
		_, err = tx.exec(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?`, s.db.dialect.timeValue(at), id)
		return id, err
	})
}

// ResetPassword consumes a reset token, sets the hash, marks the address
// verified, revokes every session of the user and applies the
// pre-hijacking rule, in one transaction. The user's row is locked (where
// the dialect has row locks) before the revocation, for the reason
// changeAndRevoke gives, and before the removals, so that a concurrent
// verification cannot move the time they compare against.
func (s *emailTokenStore) ResetPassword(ctx context.Context, hash, passwordHash string, at time.Time) (gatehouse.PasswordResetResult, error) {
	return inTx(ctx, s.db, "reset password", func(tx runner) (gatehouse.PasswordResetResult, error) {
		var r gatehouse.PasswordResetResult
		id, err := consume(ctx, tx, hash, gatehouse.PurposePasswordReset, at)
		if err != nil {
			return r, err
		}
		r.UserID = id
		var verifiedAt time.Time
		if err := tx.queryRow(ctx, `SELECT email_verified_at FROM users WHERE id = ?`+s.db.dialect.forUpdate, id).
			Scan(scanNullTime(&verifiedAt)); err != nil {
			return r, err
		}
		r.WasUnverified = verifiedAt.IsZero()
		if _, err := revokeWhere(ctx, tx, `user_id = ?`, []any{id}, gatehouse.RevokedPasswordReset, at); err != nil {
			return r, err
		}
		// So does a second step the old password had opened, and a provider
		// sign-in or link under way: its code would open a session, or link
		// an identity, past this reset.
		for _, q := range []string{`DELETE FROM mfa_challenges WHERE user_id = ?`, `DELETE FROM oauth_codes WHERE user_id = ?`,
			`DELETE FROM oauth_logins WHERE link_user_id = ?`} {
			if _, err := tx.exec(ctx, q, id); err != nil {
				return r, err
			}
		}
		// Pre-hijacking: what was attached before anyone proved the address
		// may be a stranger's, who registered with it first; the mailbox's
		// owner is taking the account over now.
		before, args := "", []any{id}
		if !r.WasUnverified {
			before, args = ` AND created_at < ?`, append(args, s.db.dialect.timeValue(verifiedAt))
		}
		res, err := tx.exec(ctx, `DELETE FROM identities WHERE user_id = ?`+before, args...)
		if err != nil {
			return r, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return r, err
		}
		r.IdentitiesRemoved = int(n)
		if res, err = tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = ?`+before, args...); err != nil {
			return r, err
		}
		if n, err = res.RowsAffected(); err != nil {
			return r, err
		}
		if r.TOTPRemoved = n > 0; r.TOTPRemoved {
			if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
				return r, err
			}
		}
		// Other reset links of the user die with this one.
		if _, err := tx.exec(ctx, `UPDATE one_time_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`,
			s.db.dialect.timeValue(at), id, gatehouse.PurposePasswordReset); err != nil {
			return r, err
		}
		_, err = tx.exec(ctx, `UPDATE users SET hashed_password = ?, email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?`,
			passwordHash, s.db.dialect.timeValue(at), id)
		return r, err
	})
}

// PruneOneTimeTokens deletes tokens that expired before `before`.
func (s *emailTokenStore) PruneOneTimeTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.pool().exec(ctx, `DELETE FROM one_time_tokens WHERE expires_at < ?`, s.db.dialect.timeValue(before))
	if err != nil {
		return 0, fmt.Errorf("prune one-time tokens: %w", err)
	}
	return res.RowsAffected()
}
