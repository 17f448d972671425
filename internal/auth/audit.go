package auth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// record writes a security event to the audit log and the structured log.
// The request facts come from the context the HTTP layer filled. A failure to
// record is logged, never the caller's failure: the event already happened.
func (s *Service) record(ctx context.Context, e *gatehouse.AuditEvent) {
	ri := gatehouse.RequestInfoFrom(ctx)
	e.ClientIP, e.UserAgent, e.RequestID = ri.ClientIP, ri.UserAgent, ri.ID
	if e.Event == gatehouse.EventRateLimited && !s.firstRefusal(ctx, e) {
		return
	}
	if s.audit != nil {
		if err := s.audit.Record(ctx, e); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "audit record failed", slog.String("event", e.Event), slog.String("error", err.Error()))
		}
	}
	level := slog.LevelInfo
	if e.Outcome == gatehouse.OutcomeFailure {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, "audit", gatehouse.AuditAttrs(e)...)
}

// auditLogin records a login attempt that got as far as the credentials
// (malformed requests are not security events).
func (s *Service) auditLogin(ctx context.Context, u *gatehouse.User, pair *TokenPair, err error) {
	e := &gatehouse.AuditEvent{Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeSuccess}
	if u != nil {
		e.UserID, e.Login = u.ID, u.UsernameKey
	}
	switch code := gatehouse.ErrorCode(err); code {
	case "":
		e.SessionID = pair.Session.ID
	case gatehouse.CodeValidation:
		return
	case gatehouse.CodeMFARequired:
		// The password step succeeded; the login completes (or not) as
		// an mfa_login event.
		e.Reason = code
	case gatehouse.CodeInvalidCredentials:
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, gatehouse.ReasonWrongPassword
		if u == nil {
			e.Reason = gatehouse.ReasonUnknownUser
		}
	case gatehouse.CodeRateLimited:
		e.Event, e.Outcome, e.Reason = gatehouse.EventRateLimited, gatehouse.OutcomeFailure, gatehouse.EventLogin
		var rl *gatehouse.RateLimitedError
		if errors.As(err, &rl) {
			e.Detail = map[string]string{"scope": rl.Scope}
		}
	default:
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, code
	}
	s.record(ctx, e)
}

// auditResult records event for user with the outcome err implies.
func (s *Service) auditResult(ctx context.Context, event string, userID int64, sessionID string, err error) {
	e := &gatehouse.AuditEvent{Event: event, Outcome: gatehouse.OutcomeSuccess, UserID: userID, SessionID: sessionID}
	if err != nil {
		if gatehouse.IsCode(err, gatehouse.CodeValidation) {
			return
		}
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
		var rl *gatehouse.RateLimitedError
		if errors.As(err, &rl) {
			e.Event, e.Reason = gatehouse.EventRateLimited, event
			e.Detail = map[string]string{"scope": rl.Scope}
		}
	}
	s.record(ctx, e)
}

// rateLimitedAuditEvery is how often one client's refusals by one limit on
// one account are recorded.
const rateLimitedAuditEvery = time.Minute

// firstRefusal reports whether e, a rate_limited event, is the first of its
// kind (limit, client address, account) this minute. The limits exist so
// that a flood costs little; an audit row per refused request would turn
// every refusal back into a database write, and fill the log with one
// attacker. The first refusal of each minute is recorded; metrics count
// them all.
func (s *Service) firstRefusal(ctx context.Context, e *gatehouse.AuditEvent) bool {
	if s.limiter == nil {
		return true
	}
	key := limitKey("audit_"+gatehouse.EventRateLimited, e.Reason, e.Detail["scope"], clientKey(e.ClientIP), strconv.FormatInt(e.UserID, 10))
	d, ok := s.allow(ctx, key, gatehouse.Limit{N: 1, Per: rateLimitedAuditEvery}, 1)
	return !ok || d.Allowed
}
