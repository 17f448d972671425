package gatehouse

import (
	"errors"
	"fmt"
)

// Error codes are stable, snake_case, and part of the API: clients branch on
// them, so a code is never renamed. The HTTP layer maps each to a status.
const (
	CodeValidation           = "validation_error"       // 422: one or more fields are invalid
	CodeUsernameTaken        = "username_taken"         // 400: as the tutorial answers
	CodeEmailTaken           = "email_taken"            // 400
	CodeInvalidCredentials   = "invalid_credentials"    // 401: unknown user or wrong password, never told apart
	CodeInvalidToken         = "invalid_token"          // 401: missing, malformed, expired, forged or orphaned token
	CodeInactiveUser         = "inactive_user"          // 400: as the tutorial answers
	CodeNotFound             = "not_found"              // 404
	CodeConflict             = "conflict"               // 409: a concurrent change won (stores report it; handlers decide)
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodePayloadTooLarge      = "payload_too_large"      // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeNotReady             = "not_ready"              // 503: a dependency is down
	CodeOverloaded           = "overloaded"             // 503: too many password hashes in progress; retry after Retry-After
	CodeInvalidGrant         = "invalid_grant"          // 400: a refresh token (or password grant) that is invalid, expired, revoked or reused (RFC 6749 §5.2)
	CodeUnsupportedGrantType = "unsupported_grant_type" // 400: RFC 6749 §5.2
	CodeInvalidRequest       = "invalid_request"        // 400: RFC 6749 §5.2: a parameter is missing or repeated
	CodeInvalidClient        = "invalid_client"         // 401: a client credential (the revocation feed's) is wrong
	CodeInvalidCursor        = "invalid_cursor"         // 400: a revocation feed cursor the server cannot continue from
	CodeWrongPassword        = "wrong_password"         // 400: the current password given to change it is wrong
	CodeRateLimited          = "rate_limited"           // 429: too many attempts; the cause is a *RateLimitedError (Retry-After)
	CodeEmailNotVerified     = "email_not_verified"     // 403: login needs a verified email (GATEHOUSE_REQUIRE_VERIFIED_EMAIL)
	CodeInvalidLinkToken     = "invalid_link_token"     // 400: an email link's token that is unknown, expired or used
	CodeForbidden            = "forbidden"              // 403: authenticated, but the user lacks the role the route requires
	CodeAdminLockout         = "admin_lockout"          // 409: an admin change that would leave no admin (self-deactivation, last admin's role)
	CodeInternal             = "internal"               // 500: anything unexpected; details only in the log

	// CodeReauthRequired (403): a sensitive change made with an access token
	// needs the current password, or, for an account without one, a sign-in
	// (not a refresh) less than 10 minutes old.
	CodeReauthRequired = "reauthentication_required"
)

// Error is the one error type of gatehouse. Code is stable and machine-readable;
// Key names the human message in the i18n catalogs (Code when empty) and Args
// fill its placeholders; Fields lists per-field problems of a validation error;
// Err is the hidden cause, logged but never shown to a client.
type Error struct {
	Code   string
	Key    string
	Args   map[string]any
	Fields []FieldError
	Err    error
}

// FieldError is one problem with one input field. Loc is the path of the field
// as FastAPI reports it (e.g. ["body", "password"]); Type is a stable
// machine-readable reason; Key and Args name the human message.
type FieldError struct {
	Loc  []string
	Type string
	Key  string
	Args map[string]any
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Key != "" && e.Key != e.Code {
		msg += " (" + e.Key + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// MessageKey is the i18n key of the error's message.
func (e *Error) MessageKey() string {
	if e.Key != "" {
		return e.Key
	}
	return e.Code
}

// Errorf returns an *Error with code and a hidden cause formatted from format.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and CodeInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries code.
func IsCode(err error, code string) bool { return err != nil && ErrorCode(err) == code }

// ValidationError returns a CodeValidation error listing fields.
func ValidationError(fields ...FieldError) *Error {
	return &Error{Code: CodeValidation, Fields: fields}
}
