package gatehouse

import (
	"context"
	"time"
)

// CodeEmailDisabled (404): the email flows (verification and password reset
// links) are off, because no mail relay is configured.
const CodeEmailDisabled = "email_disabled"

// Message is one email: a plain-text body and an HTML alternative of the same
// content, to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers email: an SMTP relay in production, the log in
// development (internal/mail). Send may block for as long as the relay
// takes; use cases call it off the request path.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Purposes of a OneTimeToken. A token works only for its own purpose.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposePasswordReset = "password_reset"
)

// RevokedPasswordReset is the revocation reason of the sessions a password
// reset ends.
const RevokedPasswordReset = "password_reset"

// Audit events of email verification and password reset.
const (
	EventEmailVerificationRequested = "email_verification_requested"
	EventEmailVerified              = "email_verified"
	EventPasswordResetRequested     = "password_reset_requested"
	EventPasswordReset              = "password_reset"
	// EventMailFailed is a message the relay did not accept (or that could
	// not be queued); Detail "purpose" says which.
	EventMailFailed = "mail_failed"
)

// Audit reasons of the email flows.
const (
	ReasonAlreadyVerified = "already_verified"
	ReasonNoEmail         = "no_email"
)

// OneTimeToken is a single-use secret sent by email (a verification or
// password reset link). Only the SHA-256 of the secret is stored (Hash, in
// hex), so a copy of the database holds no usable link.
type OneTimeToken struct {
	Hash      string // hex SHA-256 of the secret the link carries
	Purpose   string // PurposeVerifyEmail or PurposePasswordReset
	UserID    int64
	EmailKey  string // the address the link was sent to; the token dies if the user's address changes
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// EmailTokenStore persists one-time tokens and the changes they authorise.
// Each method is one transaction; consuming a token is a conditional update
// (unused, unexpired), so that two requests with one token cannot both
// succeed.
type EmailTokenStore interface {
	// CreateOneTimeToken inserts t. With supersede, every unused token of the
	// same user and purpose is marked used first, in the same transaction,
	// so only the newest link works.
	CreateOneTimeToken(ctx context.Context, t *OneTimeToken, supersede bool) error

	// OneTimeToken returns the unused token with that hash and purpose that
	// has not expired at now, or an *Error with code CodeNotFound.
	OneTimeToken(ctx context.Context, hash, purpose string, now time.Time) (*OneTimeToken, error)

	// VerifyEmail consumes the verify_email token with that hash at `at` and
	// marks the user's email verified, provided the user's email key is still
	// the one the token was sent to. It returns the user's id, or an *Error
	// with code CodeNotFound when no such usable token exists.
	VerifyEmail(ctx context.Context, hash string, at time.Time) (userID int64, err error)

	// ResetPassword consumes the password_reset token with that hash at `at`,
	// sets the user's password hash, marks the email verified (the link
	// proved the mailbox) and revokes every live session of the user (reason
	// RevokedPasswordReset), in one transaction. In the same transaction it
	// applies the pre-hijacking rule (docs/security.md): every linked
	// identity, and the TOTP (pending or confirmed) with its recovery codes,
	// that was attached before the address was verified (all of them when
	// it was not verified before this reset) is removed, and so are the
	// user's unredeemed provider sign-in codes and link attempts. It returns
	// what it did, or an *Error with code CodeNotFound when no such usable
	// token exists.
	ResetPassword(ctx context.Context, hash, passwordHash string, at time.Time) (PasswordResetResult, error)

	// PruneOneTimeTokens deletes tokens that expired before `before`, used or
	// not, and returns how many.
	PruneOneTimeTokens(ctx context.Context, before time.Time) (int64, error)
}

// PasswordResetResult is what a password reset changed.
type PasswordResetResult struct {
	UserID int64
	// WasUnverified: the address had not been verified before the reset.
	WasUnverified bool
	// IdentitiesRemoved and TOTPRemoved tell what the pre-hijacking rule
	// took away: linked identities, and a TOTP with its recovery codes,
	// attached while nobody had proved the address.
	IdentitiesRemoved int
	TOTPRemoved       bool
}
