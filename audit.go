package gatehouse

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEvent is one entry of the audit log: who did what, from where, and
// whether it worked. It never holds a password, a password hash or a token:
// only the fields below exist, and Detail is for small, non-secret facts.
type AuditEvent struct {
	ID      int64     // set by AuditLog.Record; the log's order and cursor
	At      time.Time // when it happened; Record stamps the store's clock when zero
	Event   string    // one of the Event constants
	Outcome string    // OutcomeSuccess or OutcomeFailure
	Reason  string    // a stable snake_case code, usually an error code (invalid_credentials, rate_limited)
	UserID  int64     // the account concerned; 0 when unknown
	// ActorID is the admin who acted on UserID through the admin API; 0
	// when the account acted itself, or an operator at the command line.
	ActorID int64

	// Login is the normalised login name (username or email key) that was
	// tried. It is kept only when it names an account (UserID != 0); see
	// Clean for why a name that matches no account is dropped.
	Login string

	SessionID string
	ClientIP  string
	UserAgent string
	RequestID string

	// Detail holds a few more facts (a count, an algorithm, a client id),
	// bounded by Clean. Never a secret: keys that name one are dropped.
	Detail map[string]string
}

// Outcomes of an AuditEvent.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Audit event names. They are stored and filtered on, so, like error codes,
// a name is never changed once released.
const (
	EventRegister        = "register"
	EventLogin           = "login" // Outcome and Reason tell success from each kind of failure
	EventLogout          = "logout"
	EventLogoutAll       = "logout_all"
	EventRefresh         = "refresh"
	EventRefreshReuse    = "refresh_reuse" // a rotated refresh token came back: its session was revoked
	EventSessionRevoked  = "session_revoked"
	EventPasswordChanged = "password_changed"
	EventUserCreated     = "user_created" // by an operator (gatehouse user create)
	EventUserImported    = "user_imported"
	EventUserActivated   = "user_activated"
	EventUserDeactivated = "user_deactivated"
	EventUserDeleted     = "user_deleted"
	EventRateLimited     = "rate_limited"
	EventKeyRotated      = "key_rotated"
	// Admin API events (ActorID is the admin). The account changes above
	// (user_created, user_activated, user_deactivated, user_deleted) are
	// recorded with an ActorID when an admin made them.
	EventUserRolesSet        = "user_roles_set"        // Detail "roles": the roles now held
	EventUserSessionsRevoked = "user_sessions_revoked" // Detail "count"
	EventAdminRead           = "admin_read"            // an admin read users or the audit log (Detail "what")
	EventAdminDenied         = "admin_denied"          // a non-admin called the admin API
	// EventAuditPruned is recorded by AuditLog.PruneAudit itself, so that
	// the one way entries leave the log leaves a trace in it.
	EventAuditPruned = "audit_pruned"
)

// Audit reasons beyond the error codes, which serve as reasons as they are.
// The log is for operators, so it may tell apart what a client is never told
// apart (an unknown account from a wrong password).
const (
	ReasonUnknownUser   = "unknown_user"
	ReasonWrongPassword = "wrong_password"
)

// AuditFilter selects audit events. Zero fields select everything.
type AuditFilter struct {
	After    int64     // only ids greater than After: the paging cursor
	Before   int64     // only ids less than Before (0: no bound): the cursor of a Newest listing
	Newest   bool      // by descending id, the newest first (else ascending)
	Limit    int       // at most this many (must be positive)
	Event    string    // only this event
	UserID   int64     // only this account
	ActorID  int64     // only what this admin did
	ClientIP string    // only this client address, compared exactly
	Since    time.Time // only At >= Since
	Until    time.Time // only At < Until
}

// AuditLog is the append-only audit log. Nothing changes an entry once
// recorded, and entries leave only by retention (PruneAudit). Implementations
// must be safe for concurrent use.
type AuditLog interface {
	// Record appends e.Clean() and sets e.ID and, when it was zero, e.At. The
	// other fields of e are left as given. It returns an error when e.Event
	// is empty or e.Outcome is neither OutcomeSuccess nor OutcomeFailure.
	Record(ctx context.Context, e *AuditEvent) error

	// ListAudit returns up to f.Limit events matching f, by ascending id
	// (descending with f.Newest, paged by Before);
	// none is an empty result, not an error. A caller pages by passing the
	// last id seen as the next f.After. Details of no entries come back as a
	// nil map.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// PruneAudit deletes the events whose At is before `before` and returns
	// how many it deleted. When it deleted any, it then records an
	// EventAuditPruned event (Detail "deleted" and "before"). It may delete
	// in several transactions, so that a large first prune never holds the
	// log locked against Record for long.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// Bounds of the stored fields, in bytes, applied by Clean. A user agent or a
// request id comes from the client and may be any size; the log must not
// become a way to fill the disk.
const (
	AuditMaxShort     = 64  // Event, Reason, ClientIP
	AuditMaxID        = 128 // SessionID, RequestID
	AuditMaxLogin     = 320 // an email address at its longest
	AuditMaxUserAgent = 512
	AuditMaxDetail    = 16  // entries of Detail
	AuditMaxDetailKey = 64  // bytes of a Detail key
	AuditMaxDetailVal = 256 // bytes of a Detail value
)

// secretWords are the parts of a Detail key that Clean refuses: whatever a
// caller meant to keep under such a name, it is what the log must never hold.
var secretWords = []string{"password", "passwd", "secret", "token", "hash", "cookie", "authorization", "credential", "key"}

// Clean returns a copy of e as the log keeps it:
//
//   - Every string is valid UTF-8 without NUL (invalid bytes and NUL become
//     U+FFFD: PostgreSQL refuses both in text) and cut, on a rune boundary,
//     to its bound above.
//   - Login is dropped unless UserID names an account. A name that matches no
//     account is all too often a password typed into the name field, and
//     NIST SP 800-92 and the OWASP Logging Cheat Sheet both say not to log
//     what may be a password. Failures against unknown accounts still carry
//     the client address, user agent and reason, which is what spotting
//     credential stuffing needs.
//   - Detail keeps at most AuditMaxDetail entries (the first in key order),
//     and none whose key contains a word such as "password", "token", "hash"
//     or "key": a guard against a careless caller, not a licence to try.
func (e *AuditEvent) Clean() AuditEvent {
	c := *e
	c.At = e.At.UTC().Truncate(time.Microsecond)
	c.Event = clip(e.Event, AuditMaxShort)
	c.Outcome = clip(e.Outcome, AuditMaxShort)
	c.Reason = clip(e.Reason, AuditMaxShort)
	c.Login = clip(e.Login, AuditMaxLogin)
	if e.UserID == 0 {
		c.Login = ""
	}
	c.SessionID = clip(e.SessionID, AuditMaxID)
	c.ClientIP = clip(e.ClientIP, AuditMaxShort)
	c.UserAgent = clip(e.UserAgent, AuditMaxUserAgent)
	c.RequestID = clip(e.RequestID, AuditMaxID)
	c.Detail = nil
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(c.Detail) == AuditMaxDetail {
			break
		}
		ck := clip(k, AuditMaxDetailKey)
		if ck == "" || secretKey(ck) {
			continue
		}
		if c.Detail == nil {
			c.Detail = make(map[string]string)
		}
		c.Detail[ck] = clip(e.Detail[k], AuditMaxDetailVal)
	}
	return c
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// clip returns s as valid UTF-8 without NUL, cut to at most max bytes on a
// rune boundary.
func clip(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	// Step back from max to the start of a rune; a valid string has one
	// within utf8.UTFMax bytes.
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// AuditAttrs returns e.Clean() as slog attributes, so that a use case can
// log the event it records as one structured line with the same fields and
// the same guarantees: nothing but the fields of AuditEvent, bounded, and
// Login only for a known account. Empty fields are left out; Detail becomes
// a group, in key order.
func AuditAttrs(e *AuditEvent) []slog.Attr {
	c := e.Clean()
	attrs := make([]slog.Attr, 0, 12)
	if c.ID != 0 {
		attrs = append(attrs, slog.Int64("audit_id", c.ID))
	}
	attrs = append(attrs, slog.String("event", c.Event), slog.String("outcome", c.Outcome))
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	str("reason", c.Reason)
	if c.UserID != 0 {
		attrs = append(attrs, slog.Int64("user_id", c.UserID))
	}
	if c.ActorID != 0 {
		attrs = append(attrs, slog.Int64("actor_id", c.ActorID))
	}
	str("login", c.Login)
	str("session_id", c.SessionID)
	str("client_ip", c.ClientIP)
	str("user_agent", c.UserAgent)
	str("request_id", c.RequestID)
	if len(c.Detail) > 0 {
		keys := make([]string, 0, len(c.Detail))
		for k := range c.Detail {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		group := make([]any, 0, len(keys))
		for _, k := range keys {
			group = append(group, slog.String(k, c.Detail[k]))
		}
		attrs = append(attrs, slog.Group("detail", group...))
	}
	return attrs
}
