package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse"
)

// Managing a confirmed second factor: new recovery codes for the user, and
// the admin's way out for a user who lost their authenticator.

// checkProof validates the proof a signed-in user gives for a change to
// their second factor: exactly one of a code and a password, the password
// within the policy's length.
func (s *Service) checkProof(code, password string) error {
	if (code == "") == (password == "") {
		return gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "code"}, Type: "code_or_password"})
	}
	if len(password) > s.policy.MaxBytes {
		return gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "password"}, Type: "password_too_long",
			Key: "password_too_long", Args: map[string]any{"max": s.policy.MaxBytes}})
	}
	return nil
}

// proveOwner checks that the holder of u's session is u, with the password
// or a code of u's confirmed TOTP t, which it uses up (a TOTP code's step,
// or a recovery code when recoveryOK). The caller has taken an attempt from
// the account's MFA budget. CodeWrongPassword or CodeWrongMFACode when the
// proof is wrong.
func (s *Service) proveOwner(ctx context.Context, u *gatehouse.User, t *gatehouse.TOTP, code, password string, recoveryOK bool) error {
	if password != "" {
		fresh, err := s.users.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		// An account without a password (made through a provider) has an
		// empty hash, which no password matches.
		ok, _, err := s.hasher.Verify(password, fresh.PasswordHash)
		if err != nil && !unreadableHash(err) {
			return fmt.Errorf("verify password: %w", err)
		}
		if err != nil || !ok {
			return &gatehouse.Error{Code: gatehouse.CodeWrongPassword}
		}
		return nil
	}
	if _, isTOTP := totpCode(code); !isTOTP && !recoveryOK {
		return &gatehouse.Error{Code: gatehouse.CodeWrongMFACode, Err: errors.New("not a TOTP code")}
	}
	if _, reason, err := s.useCode(ctx, u, t, code); err != nil {
		return err
	} else if reason != "" {
		return &gatehouse.Error{Code: gatehouse.CodeWrongMFACode, Err: errors.New(reason)}
	}
	return nil
}

// RegenerateRecoveryCodes replaces all of u's recovery codes, used or not,
// with RecoveryCodeCount new ones, returned this once and stored only as
// MACs, in one store transaction: the old codes stop working at once. The
// user proves it is them with a current TOTP code (not a recovery code: a
// recovery code alone must not mint ten more) or the password.
// CodeMFANotEnabled without a confirmed TOTP; CodeWrongMFACode or
// CodeWrongPassword when the proof is wrong; CodeRateLimited when the
// account's MFA budget is spent.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *gatehouse.User, code, password string) (codes []string, err error) {
	if !s.mfaOn() {
		return nil, errMFAOff
	}
	proof := "code"
	if password != "" {
		proof = "password"
	}
	defer func() {
		if gatehouse.IsCode(err, gatehouse.CodeMFANotEnabled) || gatehouse.IsCode(err, gatehouse.CodeValidation) {
			return
		}
		e := &gatehouse.AuditEvent{Event: gatehouse.EventRecoveryCodesRegenerated, Outcome: gatehouse.OutcomeSuccess,
			UserID: u.ID, Login: u.UsernameKey, Detail: map[string]string{"proof": proof}}
		if err != nil {
			e.Outcome, e.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		}
		s.record(ctx, e)
	}()
	if err := s.checkProof(code, password); err != nil {
		return nil, err
	}
	t, err := s.mfa.TOTPByUser(ctx, u.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) || err == nil && !t.Confirmed() {
		return nil, &gatehouse.Error{Code: gatehouse.CodeMFANotEnabled}
	}
	if err != nil {
		return nil, err
	}
	if err := s.takeMFA(ctx, u); err != nil {
		return nil, err
	}
	if err := s.proveOwner(ctx, u, t, code, password, false); err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes(u.ID)
	if err := s.mfa.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			return nil, &gatehouse.Error{Code: gatehouse.CodeMFANotEnabled} // disabled meanwhile
		}
		return nil, err
	}
	s.mfaSucceeded(ctx, u)
	return codes, nil
}

// newRecoveryCodes returns RecoveryCodeCount fresh codes for user id, as
// shown to the user and as stored.
func (s *Service) newRecoveryCodes(userID int64) (codes []string, hashes [][]byte) {
	codes = make([]string, RecoveryCodeCount)
	hashes = make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = s.mfaKeys.recoveryHash(userID, normalizeRecoveryCode(codes[i]))
	}
	return codes, hashes
}

// ResetMFA removes user id's TOTP (pending or confirmed), its recovery codes
// and pending sign-in challenges: the way back in for a user who lost their
// authenticator and their recovery codes, or whose secrets no longer open
// because the server secret changed. The user signs in with the password
// (or a provider) alone afterwards, and may enrol again. Every session of
// the user ends with it, as when the user turns TOTP off: their tokens
// claimed a second factor the account no longer has. An admin cannot reset their own second factor here (CodeAdminLockout):
// they remove it with a proof (DELETE /users/me/mfa/totp), so that a stolen
// admin token alone cannot take it away. CodeNotFound without MFA
// configured or without such a user; CodeMFANotEnabled when the user has no
// TOTP.
func (a *AdminAPI) ResetMFA(ctx context.Context, actor *gatehouse.User, id int64) (err error) {
	defer func() {
		if gatehouse.IsCode(err, gatehouse.CodeNotFound) && !a.svc.mfaOn() {
			return
		}
		a.record(ctx, gatehouse.EventMFAReset, actor, id, nil, err)
	}()
	if !a.svc.mfaOn() {
		return errMFAOff
	}
	if id == actor.ID {
		return &gatehouse.Error{Code: gatehouse.CodeAdminLockout, Key: "admin_self_mfa_reset"}
	}
	if _, err := a.svc.users.UserByID(ctx, id); err != nil {
		return err
	}
	_, err = a.svc.mfa.DisableTOTP(ctx, id, "", a.svc.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return &gatehouse.Error{Code: gatehouse.CodeMFANotEnabled}
	}
	if err != nil {
		return err
	}
	return a.svc.revocations.Sync(ctx)
}

// UserMFA reports user id's second factors to an admin; ok is false when
// second factors are not configured. It records nothing: the admin's view
// of the user (GetUser) is recorded already.
func (a *AdminAPI) UserMFA(ctx context.Context, id int64) (st MFAStatus, ok bool, err error) {
	if !a.svc.mfaOn() {
		return MFAStatus{}, false, nil
	}
	st, err = a.svc.MFAStatus(ctx, &gatehouse.User{ID: id})
	return st, err == nil, err
}
