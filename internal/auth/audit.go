package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse"
)

// record writes a security event to the audit log and the structured log.
// The request facts come from the context the HTTP layer filled. A failure to
// record is logged, never the caller's failure: the event already happened.
func (s *Service) record(ctx context.Context, e *gatehouse.AuditEvent) {
	ri := gatehouse.RequestInfoFrom(ctx)
	e.ClientIP, e.UserAgent, e.RequestID = ri.ClientIP, ri.UserAgent, ri.ID
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
		if gatehouse.IsCode(err, gatehouse.CodeRateLimited) {
			e.Event, e.Reason = gatehouse.EventRateLimited, event
		}
	}
	s.record(ctx, e)
}
