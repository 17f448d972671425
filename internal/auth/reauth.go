package auth

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// ReauthWindow is how recent the sign-in of a session must be for a
// sensitive change by a user who has no password to prove it is them
// (an account made through a provider): the session's own login, not a
// refresh, which keeps Session.CreatedAt.
const ReauthWindow = 10 * time.Minute

// reauthenticate is the "sudo" rule of changes a stolen access token must
// not be enough for (confirming a TOTP enrolment, setting a first
// password): the holder of u's session sessionID proves, now, that they are
// u. A user with a password gives it (a missing one is
// CodeReauthRequired with Key "reauth_password_required", a wrong one
// CodeWrongPassword); the guesses share the login budget of the account
// and the client address, as ChangePassword's do. A user without one has
// no secret to give: the session must have been opened by a sign-in less
// than ReauthWindow ago, else CodeReauthRequired (sign in again). fresh is
// u as stored now.
func (s *Service) reauthenticate(ctx context.Context, fresh *gatehouse.User, sessionID, password string) error {
	if len(password) > s.policy.MaxBytes {
		return gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "password"}, Type: "password_too_long",
			Key: "password_too_long", Args: map[string]any{"max": s.policy.MaxBytes}})
	}
	if fresh.PasswordHash == "" {
		if password != "" {
			s.hasher.VerifyDummy(password)
			return &gatehouse.Error{Code: gatehouse.CodeWrongPassword, Err: errors.New("the account has no password")}
		}
		return s.recentSignIn(ctx, fresh, sessionID)
	}
	if password == "" {
		return &gatehouse.Error{Code: gatehouse.CodeReauthRequired, Key: "reauth_password_required"}
	}
	guard, err := s.guardLogin(ctx, fresh, fresh.UsernameKey, Client{IP: gatehouse.RequestInfoFrom(ctx).ClientIP})
	if err != nil {
		return err
	}
	if err := s.checkCurrent(password, fresh.PasswordHash); err != nil {
		return err
	}
	s.loginSucceeded(ctx, guard)
	return nil
}

// recentSignIn checks that session sessionID of u is live and was opened
// by a sign-in less than ReauthWindow ago.
func (s *Service) recentSignIn(ctx context.Context, u *gatehouse.User, sessionID string) error {
	now := s.now()
	if sessionID == "" {
		return &gatehouse.Error{Code: gatehouse.CodeReauthRequired, Err: errors.New("no session")}
	}
	ss, err := s.sessions.SessionByID(ctx, sessionID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return &gatehouse.Error{Code: gatehouse.CodeReauthRequired, Err: err}
	}
	if err != nil {
		return err
	}
	if ss.UserID != u.ID || !ss.Live(now) || now.Sub(ss.CreatedAt) >= ReauthWindow {
		return &gatehouse.Error{Code: gatehouse.CodeReauthRequired, Err: errors.New("the session's sign-in is not recent")}
	}
	return nil
}
