package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// mfaStore is the gatehouse.MFAStore of a DB.
type mfaStore struct{ db *DB }

var _ gatehouse.MFAStore = (*mfaStore)(nil)

// MFA returns the gatehouse.MFAStore backed by db.
func (db *DB) MFA() gatehouse.MFAStore { return &mfaStore{db: db} }

// PutPendingTOTP upserts the pending enrolment; the conflict clause's WHERE
// leaves a confirmed row alone, which the affected count then tells.
func (s *mfaStore) PutPendingTOTP(ctx context.Context, t *gatehouse.TOTP) error {
	tv := s.db.dialect.timeValue
	res, err := s.db.pool().exec(ctx, `INSERT INTO user_totp (user_id, secret, created_at, confirmed_at, last_used_step)
		VALUES (?, ?, ?, NULL, 0)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_used_step = 0
		WHERE user_totp.confirmed_at IS NULL`, t.UserID, t.Secret, tv(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("put pending totp: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("put pending totp: %w", err)
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.CodeMFAAlreadyEnabled, "put pending totp: user %d has a confirmed totp", t.UserID)
	}
	return nil
}

func (s *mfaStore) TOTPByUser(ctx context.Context, userID int64) (*gatehouse.TOTP, error) {
	return scanTOTP(s.db.pool().queryRow(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_used_step
		FROM user_totp WHERE user_id = ?`, userID))
}

func scanTOTP(row rowScanner) (*gatehouse.TOTP, error) {
	t := new(gatehouse.TOTP)
	err := row.Scan(&t.UserID, &t.Secret, scanTime(&t.CreatedAt), scanNullTime(&t.ConfirmedAt), &t.LastUsedStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "totp: none for the user")
	}
	if err != nil {
		return nil, fmt.Errorf("scan totp: %w", err)
	}
	return t, nil
}

func (s *mfaStore) ConfirmTOTP(ctx context.Context, userID int64, secret []byte, step int64, codeHashes [][]byte, at time.Time) error {
	tv := s.db.dialect.timeValue
	_, err := inTx(ctx, s.db, "confirm totp", func(tx runner) (struct{}, error) {
		res, err := tx.exec(ctx, `UPDATE user_totp SET confirmed_at = ?, last_used_step = ?
			WHERE user_id = ? AND secret = ? AND confirmed_at IS NULL`, tv(at), step, userID, secret)
		if err != nil {
			return struct{}{}, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return struct{}{}, err
		} else if n == 0 {
			t, err := scanTOTP(tx.queryRow(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_used_step
				FROM user_totp WHERE user_id = ?`, userID))
			if err == nil && t.Confirmed() {
				return struct{}{}, gatehouse.Errorf(gatehouse.CodeMFAAlreadyEnabled, "confirm totp: confirmed already")
			}
			return struct{}{}, gatehouse.Errorf(gatehouse.CodeMFAEnrolmentNotFound, "confirm totp: no such pending enrolment")
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return struct{}{}, err
		}
		for _, h := range codeHashes {
			if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	return err
}

// UseTOTPStep is one conditional UPDATE: of two requests with codes of one
// step, the database lets exactly one raise last_used_step.
func (s *mfaStore) UseTOTPStep(ctx context.Context, userID, step int64) error {
	_, err := inTx(ctx, s.db, "use totp step", func(tx runner) (struct{}, error) {
		res, err := tx.exec(ctx, `UPDATE user_totp SET last_used_step = ?
			WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_used_step < ?`, step, userID, step)
		if err != nil {
			return struct{}{}, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return struct{}{}, err
		} else if n > 0 {
			return struct{}{}, nil
		}
		t, err := scanTOTP(tx.queryRow(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_used_step
			FROM user_totp WHERE user_id = ?`, userID))
		if err != nil {
			return struct{}{}, err
		}
		if !t.Confirmed() {
			return struct{}{}, gatehouse.Errorf(gatehouse.CodeNotFound, "use totp step: not confirmed")
		}
		return struct{}{}, gatehouse.Errorf(gatehouse.CodeConflict, "use totp step: step %d not after %d", step, t.LastUsedStep)
	})
	return err
}

func (s *mfaStore) UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) (int, error) {
	return inTx(ctx, s.db, "use recovery code", func(tx runner) (int, error) {
		res, err := tx.exec(ctx, `UPDATE recovery_codes SET used_at = ?
			WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, s.db.dialect.timeValue(at), userID, codeHash)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if n == 0 {
			return 0, gatehouse.Errorf(gatehouse.CodeNotFound, "use recovery code: no such unused code")
		}
		return countUnused(ctx, tx, userID)
	})
}

// ReplaceRecoveryCodes locks the confirmed TOTP row first: a concurrent
// DeleteTOTP waits for the commit, or has already removed the row.
func (s *mfaStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte) error {
	_, err := inTx(ctx, s.db, "replace recovery codes", func(tx runner) (struct{}, error) {
		var found int64
		err := tx.queryRow(ctx, `SELECT user_id FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL`+s.db.dialect.forUpdate, userID).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return struct{}{}, gatehouse.Errorf(gatehouse.CodeNotFound, "replace recovery codes: no confirmed totp")
		}
		if err != nil {
			return struct{}{}, err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return struct{}{}, err
		}
		for _, h := range codeHashes {
			if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	return err
}

func (s *mfaStore) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := countUnused(ctx, s.db.pool(), userID)
	if err != nil {
		return 0, fmt.Errorf("recovery codes left: %w", err)
	}
	return n, nil
}

func countUnused(ctx context.Context, r runner, userID int64) (int, error) {
	var n int
	err := r.queryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, err
}

func (s *mfaStore) DeleteTOTP(ctx context.Context, userID int64) error {
	_, err := inTx(ctx, s.db, "delete totp", func(tx runner) (struct{}, error) {
		res, err := tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = ?`, userID)
		if err := expectRow(res, err, "delete totp"); err != nil {
			return struct{}{}, err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return struct{}{}, err
		}
		_, err = tx.exec(ctx, `DELETE FROM mfa_challenges WHERE user_id = ?`, userID)
		return struct{}{}, err
	})
	return err
}

// DisableTOTP deletes as DeleteTOTP does and revokes the user's other
// sessions, in one transaction. The user's row is locked first (where the
// dialect has row locks), for the reason changeAndRevoke gives: a session
// created meanwhile would escape the revocation.
func (s *mfaStore) DisableTOTP(ctx context.Context, userID int64, keepSession string, at time.Time) (int, error) {
	return inTx(ctx, s.db, "disable totp", func(tx runner) (int, error) {
		var found int64
		err := tx.queryRow(ctx, `SELECT id FROM users WHERE id = ?`+s.db.dialect.forUpdate, userID).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, gatehouse.Errorf(gatehouse.CodeNotFound, "disable totp: no user %d", userID)
		} else if err != nil {
			return 0, err
		}
		res, err := tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = ?`, userID)
		if err := expectRow(res, err, "disable totp"); err != nil {
			return 0, err
		}
		for _, q := range []string{`DELETE FROM recovery_codes WHERE user_id = ?`, `DELETE FROM mfa_challenges WHERE user_id = ?`} {
			if _, err := tx.exec(ctx, q, userID); err != nil {
				return 0, err
			}
		}
		return revokeWhere(ctx, tx, `user_id = ? AND id <> ?`, []any{userID, keepSession}, gatehouse.RevokedMFADisabled, at)
	})
}

func (s *mfaStore) CreateMFAChallenge(ctx context.Context, c *gatehouse.MFAChallenge) error {
	tv := s.db.dialect.timeValue
	_, err := inTx(ctx, s.db, "create mfa challenge", func(tx runner) (struct{}, error) {
		// Expired challenges go here, a few at a time as logins come,
		// rather than in a loop of their own.
		if _, err := tx.exec(ctx, `DELETE FROM mfa_challenges WHERE expires_at < ?`, tv(c.CreatedAt)); err != nil {
			return struct{}{}, err
		}
		_, err := tx.exec(ctx, `INSERT INTO mfa_challenges (token_hash, user_id, client_id, scope, created_at, expires_at, amr)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.TokenHash, c.UserID, clientText(c.ClientID), clientText(c.Scope), tv(c.CreatedAt), tv(c.ExpiresAt), challengeAMR(c.AMR))
		return struct{}{}, err
	})
	return err
}

func (s *mfaStore) MFAChallenge(ctx context.Context, tokenHash []byte, now time.Time) (*gatehouse.MFAChallenge, error) {
	c := new(gatehouse.MFAChallenge)
	var amr string
	err := s.db.pool().queryRow(ctx, `SELECT token_hash, user_id, client_id, scope, created_at, expires_at, amr
		FROM mfa_challenges WHERE token_hash = ? AND expires_at > ?`, tokenHash, s.db.dialect.timeValue(now)).
		Scan(&c.TokenHash, &c.UserID, &c.ClientID, &c.Scope, scanTime(&c.CreatedAt), scanTime(&c.ExpiresAt), &amr)
	c.AMR = strings.Fields(amr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.CodeNotFound, "mfa challenge: none live")
	}
	if err != nil {
		return nil, fmt.Errorf("mfa challenge: %w", err)
	}
	return c, nil
}

func (s *mfaStore) ConsumeMFAChallenge(ctx context.Context, tokenHash []byte, now time.Time) error {
	res, err := s.db.pool().exec(ctx, `DELETE FROM mfa_challenges WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, s.db.dialect.timeValue(now))
	return expectRow(res, err, "consume mfa challenge")
}

// challengeAMR is the stored form of a challenge's first-step methods:
// space-separated, as sessions keep theirs; a password when none.
func challengeAMR(amr []string) string {
	if len(amr) == 0 {
		return gatehouse.AMRPassword
	}
	return strings.Join(amr, " ")
}
