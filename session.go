package gatehouse

import (
	"context"
	"time"
)

// Session is one login: the chain of refresh tokens handed to one client and
// the access tokens issued from it. Revoking the session kills all of them.
//
// Refresh tokens are not stored: the n-th token of a session is a MAC, under a
// server key, over the session id, n and the session's random Seed, so a copy
// of the database alone cannot mint or replay one, and the current token can
// be derived again (see auth's grace window).
type Session struct {
	ID                string
	UserID            int64
	CreatedAt         time.Time
	LastUsedAt        time.Time
	ExpiresAt         time.Time // sliding: a refresh pushes it forward, never past AbsoluteExpiresAt
	AbsoluteExpiresAt time.Time // the cap on the session's whole life
	ClientIP          string
	UserAgent         string
	ClientID          string // the OAuth client_id the session was created for, if any
	Scope             string // the scope granted at login, if any
	// AMR lists how the user authenticated (RFC 8176: "pwd", "otp"),
	// carried by every access token of the session as amr, with its aal.
	AMR []string

	Counter   int64     // generation of the current refresh token
	Seed      []byte    // 32 random bytes, fixed for the session's life
	RotatedAt time.Time // when Counter last advanced (start of the grace window)

	// AccessExpiresAt is the latest exp of any access token issued from the
	// session: after it, a revocation of the session need not be remembered.
	AccessExpiresAt time.Time

	RevokedAt    time.Time // zero while the session is live
	RevokeReason string
}

// Live reports whether the session can still be used at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) && now.Before(s.AbsoluteExpiresAt)
}

// Revocation reasons, recorded with the session and shown in its listing.
const (
	RevokedLogout          = "logout"
	RevokedLogoutAll       = "logout_all"
	RevokedByUser          = "revoked_by_user"
	RevokedReuseDetected   = "refresh_token_reuse"
	RevokedPasswordChanged = "password_changed"
	RevokedUserDeactivated = "user_deactivated"
	RevokedUserDeleted     = "user_deleted"
	RevokedByAdmin         = "revoked_by_admin"
)

// Revocation is one revoked session, as published to the in-process
// revocation set, to other instances, and to resource servers. Seq orders
// revocations and is the feed's cursor.
type Revocation struct {
	Seq       int64
	SessionID string
	UserID    int64
	RevokedAt time.Time
	// ExpiresAt is when the last access token of the session expires; after
	// it the revocation can be forgotten.
	ExpiresAt time.Time
}

// SessionStore persists sessions and the revocation log. Every method that
// revokes writes the sessions and their Revocation rows in one transaction.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error

	// SessionByID returns the session, live or not, or an *Error with code
	// CodeNotFound.
	SessionByID(ctx context.Context, id string) (*Session, error)

	// RotateSession advances a live session's refresh counter from `from` to
	// from+1, setting RotatedAt and LastUsedAt to at, ExpiresAt to expiresAt and
	// AccessExpiresAt to accessExpiresAt if that is later. It returns the
	// updated session; an *Error with code CodeConflict if the counter is no
	// longer `from` (a concurrent refresh won); or CodeNotFound if there is no
	// live session with that id.
	RotateSession(ctx context.Context, id string, from int64, at, expiresAt, accessExpiresAt time.Time) (*Session, error)

	// TouchSession records a use of a live session that does not rotate it
	// (the grace window): LastUsedAt = at, AccessExpiresAt raised to
	// accessExpiresAt. CodeNotFound if there is no live session with that id.
	TouchSession(ctx context.Context, id string, at, accessExpiresAt time.Time) error

	// RevokeSession revokes the live session id, if userID is 0 or owns it, and
	// records the revocation. CodeNotFound if there is no such live session.
	RevokeSession(ctx context.Context, id string, userID int64, reason string, at time.Time) error

	// RevokeUserSessions revokes every live session of userID except `except`
	// ("" for none) and records each revocation. It returns how many it revoked.
	RevokeUserSessions(ctx context.Context, userID int64, except, reason string, at time.Time) (int, error)

	// ListSessions returns the user's live sessions at now, newest first.
	ListSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)

	// RevocationsSince returns revocations with Seq > seq whose ExpiresAt is
	// after now, in Seq order, and the highest Seq in the log (the cursor to
	// ask from next; seq itself when there is nothing newer).
	RevocationsSince(ctx context.Context, seq int64, now time.Time) ([]Revocation, int64, error)

	// CountActiveSessions returns how many sessions are live at now.
	CountActiveSessions(ctx context.Context, now time.Time) (int64, error)

	// PruneSessions deletes sessions that expired before `before` and
	// revocations whose ExpiresAt is before it. It returns how many rows it
	// deleted in all.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
}
