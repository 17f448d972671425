package gatehouse

import (
	"context"
	"time"
)

// Error codes of multi-factor authentication (see error.go for the rules
// every code follows).
const (
	CodeMFARequired          = "mfa_required"              // 401: password right; finish with POST /auth/login/mfa and the mfa_token
	CodeInvalidMFAToken      = "invalid_mfa_token"         // 401: mfa_token unknown, expired, used, or its user's MFA gone
	CodeInvalidMFACode       = "invalid_mfa_code"          // 401: the second step's code is wrong, replayed or used up
	CodeWrongMFACode         = "wrong_mfa_code"            // 400: a signed-in user's code (confirm, disable) is wrong or replayed
	CodeMFAAlreadyEnabled    = "mfa_already_enabled"       // 409: TOTP is confirmed already; disable it first
	CodeMFANotEnabled        = "mfa_not_enabled"           // 409: there is no confirmed TOTP to disable
	CodeMFAEnrolmentNotFound = "mfa_enrolment_not_started" // 409: confirm without a pending enrolment
)

// Audit events of multi-factor authentication. Like every event name, never
// renamed once released.
const (
	EventMFAEnrolled      = "mfa_enrolled"       // TOTP confirmed; recovery codes issued
	EventMFADisabled      = "mfa_disabled"       // TOTP and recovery codes removed
	EventMFALogin         = "mfa_login"          // the second step of a login; Outcome and Reason tell
	EventRecoveryCodeUsed = "recovery_code_used" // a recovery code completed a login (Detail "remaining")
	// EventRecoveryCodesRegenerated: the user replaced their recovery
	// codes with new ones (Detail "proof": "code" or "password").
	EventRecoveryCodesRegenerated = "recovery_codes_regenerated"
	// EventMFAReset: an admin (ActorID) or an operator at the command line
	// (Detail "via": "cli") removed a user's TOTP and recovery codes.
	EventMFAReset = "mfa_reset"
)

// RevokedMFADisabled is the revocation reason of the sessions that end when
// their user turns TOTP off (every one but the session that did it).
const RevokedMFADisabled = "mfa_disabled"

// Audit reasons of the second step beyond the error codes.
const (
	ReasonCodeReplayed = "code_replayed" // a TOTP code of a time step already used
)

// Authentication methods (RFC 8176) recorded on a session and carried by
// its access tokens as amr.
const (
	AMRPassword = "pwd" // a password
	AMROTP      = "otp" // a one-time password: a TOTP code or a recovery code
	AMRFed      = "fed" // a sign-in through an upstream provider (federation)
)

// Authenticator assurance levels (NIST SP 800-63B), the aal claim.
const (
	AAL1 = "aal1" // one factor
	AAL2 = "aal2" // two factors: a password or a provider sign-in, and a one-time password
)

// AALOf returns the assurance level a session authenticated by amr reached.
func AALOf(amr []string) string {
	for _, m := range amr {
		if m == AMROTP {
			return AAL2
		}
	}
	return AAL1
}

// MFARequiredError is the hidden cause of a CodeMFARequired error: the
// mfa_token the client completes the login with, and when it expires.
type MFARequiredError struct {
	Token     string
	ExpiresIn time.Duration
}

func (e *MFARequiredError) Error() string { return "second factor required" }

// TOTP is a user's time-based one-time password authenticator (RFC 6238:
// SHA-1, 6 digits, 30-second steps, as every authenticator app reads it).
type TOTP struct {
	UserID int64
	// Secret is the shared secret sealed (AES-GCM, bound to the user) with
	// a key derived from the server secret: the store never sees it in
	// the clear, so a copy of the database yields no working second factor.
	Secret    []byte
	CreatedAt time.Time
	// ConfirmedAt is zero while the enrolment is pending: the user has not
	// yet proved, with a code, that the authenticator holds the secret.
	ConfirmedAt time.Time
	// LastUsedStep is the latest time step (Unix time / 30) whose code was
	// accepted; a code of that step or an earlier one is refused (RFC 6238
	// §5.2: a code is accepted once only).
	LastUsedStep int64
}

// Confirmed reports whether the TOTP is active.
func (t *TOTP) Confirmed() bool { return !t.ConfirmedAt.IsZero() }

// MFAChallenge is the pending second step of a login whose password was
// right: the client holds an opaque token, the store only its SHA-256.
type MFAChallenge struct {
	TokenHash []byte
	UserID    int64
	ClientID  string // the OAuth client_id and scope of the password step,
	Scope     string // given to the session the second step opens
	// AMR is how the first step authenticated ("pwd", or "fed" for a
	// provider sign-in); the second step's session carries it with "otp".
	// Empty means a password.
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MFAStore persists second factors and login challenges. Implementations
// must be safe for concurrent use; each method is one transaction, and the
// uses of a code (TOTP step, recovery code) are single atomic updates, so
// that of two concurrent requests with one code exactly one succeeds.
type MFAStore interface {
	// PutPendingTOTP stores t as the user's pending enrolment, replacing
	// any pending one (LastUsedStep 0). It returns an *Error with code
	// CodeMFAAlreadyEnabled when the user has a confirmed TOTP.
	PutPendingTOTP(ctx context.Context, t *TOTP) error

	// TOTPByUser returns the user's TOTP, pending or confirmed, or an
	// *Error with code CodeNotFound.
	TOTPByUser(ctx context.Context, userID int64) (*TOTP, error)

	// ConfirmTOTP activates the pending TOTP of the user, provided its
	// sealed secret is still `secret` (a concurrent re-enrolment did not
	// replace it), setting ConfirmedAt = at and LastUsedStep = step, and
	// replaces the user's recovery codes with codeHashes, in one
	// transaction. CodeMFAEnrolmentNotFound if there is no such pending
	// TOTP; CodeMFAAlreadyEnabled if it is confirmed already.
	ConfirmTOTP(ctx context.Context, userID int64, secret []byte, step int64, codeHashes [][]byte, at time.Time) error

	// UseTOTPStep records that the code of time step `step` was accepted:
	// LastUsedStep is raised to step in one conditional update. It returns
	// an *Error with code CodeConflict when LastUsedStep is already step or
	// later (a replay), and CodeNotFound when the user has no confirmed
	// TOTP.
	UseTOTPStep(ctx context.Context, userID, step int64) error

	// UseRecoveryCode marks the user's unused recovery code with hash
	// codeHash used at `at`, in one conditional update, and returns how
	// many unused codes remain. CodeNotFound when there is no such unused
	// code.
	UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) (remaining int, err error)

	// ReplaceRecoveryCodes replaces every recovery code of the user, used
	// or not, with codeHashes, in one transaction, provided the user has a
	// confirmed TOTP (held under lock, so that a concurrent DeleteTOTP
	// cannot leave codes without a TOTP). CodeNotFound if there is none.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte) error

	// RecoveryCodesLeft returns how many unused recovery codes the user has.
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)

	// DeleteTOTP removes the user's TOTP, its recovery codes and pending
	// login challenges, in one transaction. CodeNotFound if the user has no
	// TOTP.
	DeleteTOTP(ctx context.Context, userID int64) error

	// DisableTOTP is DeleteTOTP for the user turning their own second
	// factor off: in the same transaction it revokes every live session of
	// the user except keepSession (reason RevokedMFADisabled), whose
	// tokens claim a second factor the account no longer has. It returns
	// how many sessions it revoked; CodeNotFound, changing nothing, if the
	// user has no TOTP.
	DisableTOTP(ctx context.Context, userID int64, keepSession string, at time.Time) (revoked int, err error)

	// CreateMFAChallenge inserts c, and deletes the challenges (of anyone)
	// that expired before c.CreatedAt.
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error

	// MFAChallenge returns the challenge with that token hash if it has not
	// expired at now, or an *Error with code CodeNotFound.
	MFAChallenge(ctx context.Context, tokenHash []byte, now time.Time) (*MFAChallenge, error)

	// ConsumeMFAChallenge deletes the challenge if it has not expired at
	// now: of concurrent calls, one succeeds and the others get
	// CodeNotFound, so a challenge completes one login at most.
	ConsumeMFAChallenge(ctx context.Context, tokenHash []byte, now time.Time) error
}
