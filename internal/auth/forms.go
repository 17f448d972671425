package auth

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// What the hosted pages (internal/pages) need beyond the API's use cases:
// which features are on, the pending enrolment shown again, and a link's
// token checked before its form is shown.

// MFAEnabled reports whether second factors are configured.
func (s *Service) MFAEnabled() bool { return s.mfaOn() }

// EmailEnabled reports whether email verification and password reset
// links can be sent.
func (s *Service) EmailEnabled() bool { return s.email.on() }

// PendingTOTP returns u's pending (not yet confirmed) TOTP enrolment again:
// the same secret EnrolTOTP handed out, its URI and QR code, so that a page
// may show it until it is confirmed, without replacing a secret the user
// may already have scanned. Only the user's own session reaches it, and it
// is never shown again once confirmed. CodeMFAEnrolmentNotFound without a
// pending enrolment, CodeMFAAlreadyEnabled when TOTP is confirmed.
func (s *Service) PendingTOTP(ctx context.Context, u *gatehouse.User) (*TOTPEnrolment, error) {
	if !s.mfaOn() {
		return nil, errMFAOff
	}
	t, err := s.pendingTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	raw, err := s.mfaKeys.openSecret(u.ID, t.Secret)
	if err != nil {
		return nil, err
	}
	return s.enrolment(u, raw)
}

// CheckLinkToken reports whether token is a usable link token of purpose
// (gatehouse.PurposeVerifyEmail or PurposePasswordReset), without using
// it: a page checks the link before showing its form, so that a dead link
// says so at once rather than after the user has typed a new password.
// CodeInvalidLinkToken when it is unknown, expired, used or superseded.
func (s *Service) CheckLinkToken(ctx context.Context, purpose, token string) error {
	if !s.email.on() {
		return errMailOff
	}
	if token == "" || len(token) > maxLinkToken {
		return errInvalidLinkToken
	}
	_, err := s.email.Tokens.OneTimeToken(ctx, hashLinkToken(token), purpose, s.now().UTC().Truncate(time.Microsecond))
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return errInvalidLinkToken
	}
	return err
}
