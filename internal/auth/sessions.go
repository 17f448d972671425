package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// Refresh tokens are "<session id>.<counter>.<mac>", where mac is
// HMAC-SHA256 under the server's refresh key over the session id, the
// counter and the session's random 256-bit seed. So:
//   - nothing secret is stored: a copy of the database has seeds but not the
//     key, and cannot make a token;
//   - the n-th token of a session can be derived again, which is what lets
//     the grace window hand a second tab the very pair the first tab got,
//     keeping one chain per session (Supabase Auth's counter-based tokens work
//     the same way);
//   - a token of an older generation is recognisable as such, which is what
//     reuse detection needs.
const refreshMACLabel = "gatehouse refresh token v1\x00"

func (s *Service) refreshToken(ss *gatehouse.Session, counter int64) string {
	return ss.ID + "." + strconv.FormatInt(counter, 10) + "." + base64.RawURLEncoding.EncodeToString(s.refreshMAC(ss, counter))
}

func (s *Service) refreshMAC(ss *gatehouse.Session, counter int64) []byte {
	m := hmac.New(sha256.New, s.refreshKey)
	m.Write([]byte(refreshMACLabel))
	m.Write([]byte(ss.ID))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(counter, 10)))
	m.Write([]byte{0})
	m.Write(ss.Seed)
	return m.Sum(nil)
}

// parseRefreshToken splits a refresh token; ok is false for anything not of
// the form, which is then simply an invalid grant.
func parseRefreshToken(t string) (sid string, counter int64, mac []byte, ok bool) {
	if len(t) > 256 {
		return "", 0, nil, false
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 || parts[0] == "" {
		return "", 0, nil, false
	}
	counter, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || counter < 0 {
		return "", 0, nil, false
	}
	mac, err = base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(mac) != sha256.Size {
		return "", 0, nil, false
	}
	return parts[0], counter, mac, true
}

// startSession opens a session for u and issues its first pair. amr lists
// how the user authenticated (RFC 8176); none means a password.
func (s *Service) startSession(ctx context.Context, u *gatehouse.User, client Client, amr ...string) (*TokenPair, error) {
	if len(amr) == 0 {
		amr = []string{gatehouse.AMRPassword}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("session seed: %w", err)
	}
	ss := &gatehouse.Session{
		ID:                rand.Text(),
		UserID:            u.ID,
		CreatedAt:         now,
		LastUsedAt:        now,
		AbsoluteExpiresAt: now.Add(s.lifetimes.Session),
		ClientIP:          client.IP,
		UserAgent:         truncate(client.UserAgent, 512),
		ClientID:          truncate(client.ClientID, 128),
		Scope:             truncate(client.Scope, 512),
		Seed:              seed,
		RotatedAt:         now,
		AMR:               amr,
	}
	ss.ExpiresAt = minTime(now.Add(s.lifetimes.Refresh), ss.AbsoluteExpiresAt)
	access, claims, err := s.issue(u, ss)
	if err != nil {
		return nil, err
	}
	ss.AccessExpiresAt = accessCover(claims)
	if err := s.sessions.CreateSession(ctx, ss); err != nil {
		return nil, err
	}
	return s.pair(u, ss, ss.Counter, access, claims), nil
}

func (s *Service) issue(u *gatehouse.User, ss *gatehouse.Session) (string, tokens.Claims, error) {
	p := tokens.IssueParams{
		UserID: u.ID, Username: u.Username, SessionID: ss.ID, ClientID: ss.ClientID, Scope: ss.Scope,
		Roles: u.AllRoles(),
	}
	if len(ss.AMR) > 0 {
		p.AMR, p.AAL = ss.AMR, gatehouse.AALOf(ss.AMR)
	}
	return s.tokens.Issue(p)
}

func (s *Service) pair(u *gatehouse.User, ss *gatehouse.Session, counter int64, access string, claims tokens.Claims) *TokenPair {
	return &TokenPair{
		AccessToken:  access,
		ExpiresAt:    claims.ExpiresAt,
		ExpiresIn:    int(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
		RefreshToken: s.refreshToken(ss, counter),
		Scope:        ss.Scope,
		User:         u,
		Session:      ss,
	}
}

var errInvalidGrant = &gatehouse.Error{Code: gatehouse.CodeInvalidGrant}

// Refresh exchanges a refresh token for a new pair, rotating the session.
//
//   - The current token rotates the session: the next generation is handed
//     out and the presented token becomes "previous".
//   - The immediately previous token, within the grace window after the
//     rotation, gets the current pair again (a second tab that refreshed at
//     the same moment) and a fresh access token; the session stays one chain.
//   - Any other token of the session — older, or previous after the grace
//     window — is reuse: a copy of a refresh token is in two hands. The whole
//     session is revoked (committed before the request fails), so the
//     newest refresh token and every access token of the session die too.
//
// Every failure is CodeInvalidGrant; the reason is logged, not shown.
// Exchanges are limited per client address (CodeRateLimited) before
// anything is read: a refresh costs a database transaction.
func (s *Service) Refresh(ctx context.Context, token string, client Client) (pair *TokenPair, err error) {
	defer func() {
		// Successes and rate limits are recorded here; reuse is recorded
		// where it is detected. Other failures (a garbled or expired token)
		// are too common and too uninformative to fill the log with.
		switch {
		case err == nil:
			s.auditResult(ctx, gatehouse.EventRefresh, pair.User.ID, pair.Session.ID, nil)
		case gatehouse.IsCode(err, gatehouse.CodeRateLimited):
			s.auditResult(ctx, gatehouse.EventRefresh, 0, "", err)
		}
	}()
	if err := s.limitIP(ctx, scopeRefreshIP, s.limits.RefreshIP, client.IP); err != nil {
		return nil, err
	}
	sid, counter, mac, ok := parseRefreshToken(token)
	if !ok {
		return nil, errInvalidGrant
	}
	ss, err := s.sessions.SessionByID(ctx, sid)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidGrant
	}
	if err != nil {
		return nil, err
	}
	// A token we did not make (wrong MAC, or a generation from the future)
	// says nothing about the session: refuse it without touching anything.
	if counter > ss.Counter || !hmac.Equal(mac, s.refreshMAC(ss, counter)) {
		return nil, errInvalidGrant
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if !ss.Live(now) {
		return nil, errInvalidGrant
	}
	u, err := s.users.UserByID(ctx, ss.UserID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidGrant
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, errInvalidGrant
	}
	for {
		switch {
		case counter == ss.Counter:
			next, err := s.rotate(ctx, u, ss, now)
			if gatehouse.IsCode(err, gatehouse.CodeConflict) {
				// Another request rotated first: see where the chain is now.
				if ss, err = s.sessions.SessionByID(ctx, sid); err != nil {
					return nil, err
				}
				continue
			}
			return next, err
		case counter == ss.Counter-1 && now.Sub(ss.RotatedAt) <= s.lifetimes.Grace:
			return s.reissue(ctx, u, ss, now)
		default:
			return nil, s.reuseDetected(ctx, ss, counter, now)
		}
	}
}

// rotate advances the session and issues the next generation.
func (s *Service) rotate(ctx context.Context, u *gatehouse.User, ss *gatehouse.Session, now time.Time) (*TokenPair, error) {
	access, claims, err := s.issue(u, ss)
	if err != nil {
		return nil, err
	}
	expires := minTime(now.Add(s.lifetimes.Refresh), ss.AbsoluteExpiresAt)
	next, err := s.sessions.RotateSession(ctx, ss.ID, ss.Counter, now, expires, accessCover(claims))
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidGrant // revoked or expired meanwhile
	}
	if err != nil {
		return nil, err
	}
	return s.pair(u, next, next.Counter, access, claims), nil
}

// reissue answers the previous token inside the grace window with the
// current refresh token and a new access token.
func (s *Service) reissue(ctx context.Context, u *gatehouse.User, ss *gatehouse.Session, now time.Time) (*TokenPair, error) {
	access, claims, err := s.issue(u, ss)
	if err != nil {
		return nil, err
	}
	if err := s.sessions.TouchSession(ctx, ss.ID, now, accessCover(claims)); gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, errInvalidGrant
	} else if err != nil {
		return nil, err
	}
	return s.pair(u, ss, ss.Counter, access, claims), nil
}

// reuseDetected revokes the session and reports the grant invalid. The
// revocation is committed and synced before the caller's request fails.
func (s *Service) reuseDetected(ctx context.Context, ss *gatehouse.Session, counter int64, now time.Time) error {
	s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reuse detected: session revoked",
		slog.String("session_id", ss.ID), slog.Int64("user_id", ss.UserID),
		slog.Int64("presented_generation", counter), slog.Int64("current_generation", ss.Counter))
	s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventRefreshReuse, Outcome: gatehouse.OutcomeFailure,
		Reason: gatehouse.RevokedReuseDetected, UserID: ss.UserID, SessionID: ss.ID})
	err := s.sessions.RevokeSession(ctx, ss.ID, 0, gatehouse.RevokedReuseDetected, now)
	if err != nil && !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return err
	}
	if err := s.revocations.Sync(ctx); err != nil {
		return err
	}
	return &gatehouse.Error{Code: gatehouse.CodeInvalidGrant, Err: fmt.Errorf("refresh token reuse in session %s", ss.ID)}
}

// Logout revokes the caller's session, or, with all, every session of the
// user. The access token used for the call is refused from the next request.
func (s *Service) Logout(ctx context.Context, u *gatehouse.User, sessionID string, all bool) (err error) {
	defer func() {
		event := gatehouse.EventLogout
		if all {
			event = gatehouse.EventLogoutAll
		}
		s.auditResult(ctx, event, u.ID, sessionID, err)
	}()
	now := s.now().UTC().Truncate(time.Microsecond)
	if all {
		_, err = s.sessions.RevokeUserSessions(ctx, u.ID, "", gatehouse.RevokedLogoutAll, now)
	} else {
		err = s.sessions.RevokeSession(ctx, sessionID, u.ID, gatehouse.RevokedLogout, now)
		if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			err = nil // already revoked: logging out twice is fine
		}
	}
	if err != nil {
		return err
	}
	return s.revocations.Sync(ctx)
}

// Sessions lists the user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, u *gatehouse.User) ([]*gatehouse.Session, error) {
	return s.sessions.ListSessions(ctx, u.ID, s.now())
}

// RevokeSession revokes one of the user's own sessions; CodeNotFound if the
// user has no such live session.
func (s *Service) RevokeSession(ctx context.Context, u *gatehouse.User, sessionID string) (err error) {
	defer func() { s.auditResult(ctx, gatehouse.EventSessionRevoked, u.ID, sessionID, err) }()
	if err := s.sessions.RevokeSession(ctx, sessionID, u.ID, gatehouse.RevokedByUser, s.now().UTC()); err != nil {
		return err
	}
	return s.revocations.Sync(ctx)
}

// ChangePassword checks the current password, applies the policy to the new
// one, stores it and revokes every other session of the user, keeping the
// one making the change. A user without a password (made through a
// provider) sets a first one without current_password, but only from a
// session whose sign-in is less than ReauthWindow old (CodeReauthRequired
// otherwise): a stolen access token must not be enough to give the account
// a password the thief knows.
func (s *Service) ChangePassword(ctx context.Context, u *gatehouse.User, sessionID, current, next string) (err error) {
	defer func() { s.auditResult(ctx, gatehouse.EventPasswordChanged, u.ID, sessionID, err) }()
	var fields []gatehouse.FieldError
	// A user made by a provider sign-in, with no password yet, sets one
	// with current_password empty.
	if current == "" && u.PasswordHash != "" {
		fields = appendProblem(fields, "current_password", &problem{typ: "missing"})
	}
	if next == "" {
		fields = appendProblem(fields, "new_password", &problem{typ: "missing"})
	} else {
		for _, pp := range s.policy.Check(next, u.Username, u.Email) {
			fields = appendProblem(fields, "new_password", &problem{typ: pp.Type, args: pp.Args})
		}
	}
	if len(current) > s.policy.MaxBytes {
		fields = appendProblem(fields, "current_password", &problem{typ: "password_too_long", args: map[string]any{"max": s.policy.MaxBytes}})
	}
	if len(fields) > 0 {
		return gatehouse.ValidationError(fields...)
	}
	fresh, err := s.users.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	// The current password is a secret a stolen access token could guess
	// at here: the guesses share the login budget of this account and
	// address, so the endpoint is no side door around the login limits.
	guard, err := s.guardLogin(ctx, fresh, fresh.UsernameKey, Client{IP: gatehouse.RequestInfoFrom(ctx).ClientIP})
	if err != nil {
		return err
	}
	if fresh.PasswordHash == "" {
		if current != "" {
			s.hasher.VerifyDummy(current)
			return &gatehouse.Error{Code: gatehouse.CodeWrongPassword}
		}
		if err := s.recentSignIn(ctx, fresh, sessionID); err != nil {
			return err
		}
	} else if err := s.checkCurrent(current, fresh.PasswordHash); err != nil {
		return err
	}
	s.loginSucceeded(ctx, guard)
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.users.ChangePassword(ctx, u.ID, hash, sessionID, s.now().UTC()); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password changed; other sessions revoked", slog.Int64("user_id", u.ID))
	return s.revocations.Sync(ctx)
}

// accessCover is how long a revocation of the session must be remembered
// for this token: until it stops verifying, which is its exp plus the
// verifiers' clock-skew leeway (at most tokens.MaxLeeway), not exp alone.
func accessCover(c tokens.Claims) time.Time { return c.ExpiresAt.Add(tokens.MaxLeeway) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// truncate cuts s to at most n bytes on a rune boundary: client-supplied
// strings are stored, so they are bounded.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// checkCurrent verifies the current password given to change it.
func (s *Service) checkCurrent(current, hash string) error {
	ok, _, err := s.hasher.Verify(current, hash)
	if err != nil && !unreadableHash(err) {
		return fmt.Errorf("verify password: %w", err)
	}
	if err != nil || !ok {
		return &gatehouse.Error{Code: gatehouse.CodeWrongPassword, Err: err}
	}
	return nil
}
