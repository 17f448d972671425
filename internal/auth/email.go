package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// Email configures email verification and password reset. A zero Email
// (no Tokens or no Mailer) turns the flows off: their use cases answer
// CodeEmailDisabled.
type Email struct {
	Tokens gatehouse.EmailTokenStore
	Mailer gatehouse.Mailer
	// RequireVerified refuses login (CodeEmailNotVerified) to users whose
	// email is not verified, once their password is proved.
	RequireVerified bool
	// PublicURL is the base of the links mailed (e.g.
	// https://auth.example.com): /ui/verify-email?token=… and
	// /ui/reset-password?token=… are appended.
	PublicURL string
	// VerifyTTL and ResetTTL bound the links' lives (default 24h and 30m).
	VerifyTTL time.Duration
	ResetTTL  time.Duration
	// IPLimit bounds link requests (both kinds together) from one client
	// address; AddressLimit those for one address or account, whoever asks.
	IPLimit      gatehouse.Limit
	AddressLimit gatehouse.Limit
	// QueueSize bounds the messages waiting to be sent (default 256);
	// Workers send them (default 2), each message within SendTimeout
	// (default 30s).
	QueueSize   int
	Workers     int
	SendTimeout time.Duration
}

// Link paths the mailed links point at. The API endpoints take the token
// directly (POST /auth/verify-email, POST /auth/password-reset), so a client
// may serve these paths itself.
const (
	VerifyEmailPath   = "/ui/verify-email"
	ResetPasswordPath = "/ui/reset-password"
)

// Rate limit scopes of the link requests.
const (
	scopeEmailIP      = "email_ip"
	scopeEmailAddress = "email_address"
)

// linkTokenBytes is the entropy of a link's token: 256 bits, beyond
// guessing, so the endpoints that take one need no rate limit of their own.
const linkTokenBytes = 32

// maxLinkToken bounds the token a client may send; ours are 43 characters.
const maxLinkToken = 256

//go:embed mailtemplates/*.txt mailtemplates/*.html
var mailTemplateFS embed.FS

// emailFlows is the state of the email use cases.
type emailFlows struct {
	Email
	text  map[string]*texttemplate.Template // by "purpose.lang"
	html  map[string]*htmltemplate.Template
	queue *mailQueue
}

func newEmailFlows(e Email) *emailFlows {
	if e.VerifyTTL <= 0 {
		e.VerifyTTL = 24 * time.Hour
	}
	if e.ResetTTL <= 0 {
		e.ResetTTL = 30 * time.Minute
	}
	if e.QueueSize <= 0 {
		e.QueueSize = 256
	}
	if e.Workers <= 0 {
		e.Workers = 2
	}
	if e.SendTimeout <= 0 {
		e.SendTimeout = 30 * time.Second
	}
	e.PublicURL = strings.TrimRight(e.PublicURL, "/")
	f := &emailFlows{Email: e, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{},
		queue: &mailQueue{jobs: make(chan mailJob, e.QueueSize)}}
	// The templates are embedded: a parse error is a bug the tests catch,
	// not a condition to handle at run time.
	for _, purpose := range []string{gatehouse.PurposeVerifyEmail, gatehouse.PurposePasswordReset} {
		for _, lang := range []i18n.Lang{i18n.English, i18n.Korean} {
			name := purpose + "." + lang.String()
			f.text[name] = texttemplate.Must(texttemplate.ParseFS(mailTemplateFS, "mailtemplates/"+name+".txt"))
			f.html[name] = htmltemplate.Must(htmltemplate.ParseFS(mailTemplateFS, "mailtemplates/"+name+".html"))
		}
	}
	return f
}

func (f *emailFlows) on() bool { return f.Tokens != nil && f.Mailer != nil }

var errMailOff = &gatehouse.Error{Code: gatehouse.CodeEmailDisabled, Err: fmt.Errorf("email is not configured")}

var errInvalidLinkToken = &gatehouse.Error{Code: gatehouse.CodeInvalidLinkToken}

// checkVerified is the login's verified-email rule.
func (s *Service) checkVerified(u *gatehouse.User) error {
	if s.email.RequireVerified && u.EmailVerifiedAt.IsZero() {
		return &gatehouse.Error{Code: gatehouse.CodeEmailNotVerified}
	}
	return nil
}

// EmailRequest asks for a link by email.
type EmailRequest struct {
	// User is the signed-in caller (a verification link for their own
	// address), or nil: then Email names the account.
	User     *gatehouse.User
	Email    string
	Lang     i18n.Lang // the language of the message
	ClientIP string
}

// RequestEmailVerification mails a verification link to the caller's
// address, or to Email's account. See requestLink for what it answers.
func (s *Service) RequestEmailVerification(ctx context.Context, in EmailRequest) error {
	return s.requestLink(ctx, gatehouse.PurposeVerifyEmail, gatehouse.EventEmailVerificationRequested, in)
}

// RequestPasswordReset mails a password reset link to Email's account. See
// requestLink for what it answers.
func (s *Service) RequestPasswordReset(ctx context.Context, in EmailRequest) error {
	in.User = nil
	return s.requestLink(ctx, gatehouse.PurposePasswordReset, gatehouse.EventPasswordResetRequested, in)
}

// requestLink validates a link request and applies its rate limits (per
// client address, and per address or account asked for, whether or not it
// exists), then leaves the rest to a mail worker: looking the account up,
// storing the token, sending. So the answer, and how long it takes, is the
// same whether the address belongs to an account or not, and a slow relay
// never holds a request. Only malformed input and spent budgets are
// answered with an error.
func (s *Service) requestLink(ctx context.Context, purpose, event string, in EmailRequest) (err error) {
	if !s.email.on() {
		return errMailOff
	}
	var key string // the email key asked for, "" for a signed-in user
	if in.User == nil {
		_, k, p := normalizeEmail(in.Email)
		if p != nil {
			return gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "email"}, Type: p.typ, Key: p.typ, Args: p.args})
		}
		key = k
	}
	defer func() {
		if err != nil {
			s.auditResult(ctx, event, userIDOf(in.User), "", err)
		}
	}()
	if s.limiter != nil {
		if err := s.take(ctx, scopeEmailIP, limitKey(scopeEmailIP, clientKey(in.ClientIP)), s.email.IPLimit); err != nil {
			return err
		}
		name := "email\x00" + key
		if in.User != nil {
			name = "id\x00" + strconv.FormatInt(in.User.ID, 10)
		}
		sum := sha256.Sum256([]byte(name))
		if err := s.take(ctx, scopeEmailAddress, limitKey(scopeEmailAddress, hex.EncodeToString(sum[:16])), s.email.AddressLimit); err != nil {
			return err
		}
	}
	signedIn := in.User
	s.email.queue.push(ctx, s, func(ctx context.Context) {
		u := signedIn
		if u == nil {
			var err error
			u, err = s.users.UserByEmail(ctx, key)
			if err != nil {
				reason := gatehouse.ReasonUnknownUser
				if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
					reason = gatehouse.CodeInternal
					s.log.LogAttrs(ctx, slog.LevelError, "link request: user look-up failed", slog.String("error", err.Error()))
				}
				s.record(ctx, &gatehouse.AuditEvent{Event: event, Outcome: gatehouse.OutcomeFailure, Reason: reason})
				return
			}
		}
		s.sendLink(ctx, purpose, event, u, in.Lang)
	})
	return nil
}

func userIDOf(u *gatehouse.User) int64 {
	if u == nil {
		return 0
	}
	return u.ID
}

// sendLink stores a new token for u and mails its link, on a mail worker.
func (s *Service) sendLink(ctx context.Context, purpose, event string, u *gatehouse.User, lang i18n.Lang) {
	e := &gatehouse.AuditEvent{Event: event, Outcome: gatehouse.OutcomeSuccess, UserID: u.ID, Login: u.UsernameKey}
	fail := func(reason string) {
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, reason
		s.record(ctx, e)
	}
	switch {
	case !u.IsActive:
		fail(gatehouse.CodeInactiveUser)
		return
	case u.Email == "":
		fail(gatehouse.ReasonNoEmail)
		return
	case purpose == gatehouse.PurposeVerifyEmail && !u.EmailVerifiedAt.IsZero():
		fail(gatehouse.ReasonAlreadyVerified)
		return
	}
	ttl, path := s.email.VerifyTTL, VerifyEmailPath
	if purpose == gatehouse.PurposePasswordReset {
		ttl, path = s.email.ResetTTL, ResetPasswordPath
	}
	secret, hash, err := newLinkToken()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "link token", slog.String("error", err.Error()))
		fail(gatehouse.CodeInternal)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &gatehouse.OneTimeToken{Hash: hash, Purpose: purpose, UserID: u.ID, EmailKey: u.EmailKey, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	// A new reset link retires the older ones: only the newest mail works.
	// Verification links all stay good until they expire, so a slow first
	// mail does not break the second.
	if err := s.email.Tokens.CreateOneTimeToken(ctx, t, purpose == gatehouse.PurposePasswordReset); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "store link token", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
		fail(gatehouse.CodeInternal)
		return
	}
	link := s.email.PublicURL + path + "?token=" + url.QueryEscape(secret)
	msg, err := s.email.render(purpose, lang, mailData{Username: u.Username, Email: u.Email, Link: link, Lifetime: lifetime(ttl, lang)})
	if err == nil {
		msg.To = u.Email
		err = s.email.Mailer.Send(ctx, msg)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sending mail failed", slog.Int64("user_id", u.ID), slog.String("purpose", purpose), slog.String("error", err.Error()))
		s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventMailFailed, Outcome: gatehouse.OutcomeFailure, Reason: gatehouse.CodeInternal,
			UserID: u.ID, Login: u.UsernameKey, Detail: map[string]string{"purpose": purpose}})
		return
	}
	e.Detail = map[string]string{"expires_at": t.ExpiresAt.Format(time.RFC3339)}
	s.record(ctx, e)
}

// newLinkToken returns a fresh secret for a link and the hex SHA-256 that
// is stored in its place.
func newLinkToken() (secret, hash string, err error) {
	b := make([]byte, linkTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, hashLinkToken(secret), nil
}

// hashLinkToken is what the store keeps of a token. A plain SHA-256 is
// enough: the token has 256 bits of entropy, so there is nothing to
// stretch, and the look-up must be by hash.
func hashLinkToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// VerifyEmail consumes a verification token: the user's address is
// verified. An unknown, expired, used or superseded token gives
// CodeInvalidLinkToken.
func (s *Service) VerifyEmail(ctx context.Context, token string) (err error) {
	if !s.email.on() {
		return errMailOff
	}
	if token == "" {
		return gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "token"}, Type: "missing", Key: "missing"})
	}
	var id int64
	defer func() { s.auditResult(ctx, gatehouse.EventEmailVerified, id, "", err) }()
	if len(token) > maxLinkToken {
		return errInvalidLinkToken
	}
	id, err = s.email.Tokens.VerifyEmail(ctx, hashLinkToken(token), s.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return errInvalidLinkToken
	}
	return err
}

// ResetPassword sets a new password with a reset token, which it consumes,
// and revokes every session of the user, all in one store transaction. The
// token is checked before the password is hashed, so a bad token costs no
// hash; the password policy applies as at registration (a weak password
// gives CodeValidation and leaves the token usable).
//
// The same transaction applies the pre-hijacking rule (docs/security.md):
// identities linked, and a TOTP enrolled, before the address was verified
// are removed. The password_reset event's Detail tells what was:
// "unverified" ("true" when the address was not verified before),
// "identities_removed" (a count) and "mfa_removed" ("true").
func (s *Service) ResetPassword(ctx context.Context, token, password string) (err error) {
	if !s.email.on() {
		return errMailOff
	}
	var fields []gatehouse.FieldError
	if token == "" {
		fields = appendProblem(fields, "token", &problem{typ: "missing"})
	}
	if password == "" {
		fields = appendProblem(fields, "new_password", &problem{typ: "missing"})
	}
	if len(fields) > 0 {
		return gatehouse.ValidationError(fields...)
	}
	var id int64
	var res gatehouse.PasswordResetResult
	defer func() {
		if err != nil {
			s.auditResult(ctx, gatehouse.EventPasswordReset, id, "", err)
			return
		}
		s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventPasswordReset, Outcome: gatehouse.OutcomeSuccess,
			UserID: id, Detail: resetDetail(res)})
	}()
	if len(token) > maxLinkToken {
		return errInvalidLinkToken
	}
	hash := hashLinkToken(token)
	t, err := s.email.Tokens.OneTimeToken(ctx, hash, gatehouse.PurposePasswordReset, s.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return errInvalidLinkToken
	}
	if err != nil {
		return err
	}
	u, err := s.users.UserByID(ctx, t.UserID)
	if err != nil {
		return err
	}
	id = u.ID
	if !u.IsActive {
		// Deactivation ends every way into the account, links mailed
		// before it included: only an admin brings it back.
		return &gatehouse.Error{Code: gatehouse.CodeInvalidLinkToken, Err: errors.New("reset link of a deactivated account")}
	}
	for _, pp := range s.policy.Check(password, u.Username, u.Email) {
		fields = appendProblem(fields, "new_password", &problem{typ: pp.Type, args: pp.Args})
	}
	if len(fields) > 0 {
		return gatehouse.ValidationError(fields...)
	}
	pwHash, err := s.hasher.Hash(password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res, err = s.email.Tokens.ResetPassword(ctx, hash, pwHash, s.now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return errInvalidLinkToken // used meanwhile by a concurrent request
	} else if err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password reset; every session revoked", slog.Int64("user_id", u.ID),
		slog.Int("identities_removed", res.IdentitiesRemoved), slog.Bool("mfa_removed", res.TOTPRemoved))
	return s.revocations.Sync(ctx)
}

// resetDetail is the password_reset event's Detail: what the pre-hijacking
// rule removed, nil when nothing was and the address was verified.
func resetDetail(r gatehouse.PasswordResetResult) map[string]string {
	d := map[string]string{}
	if r.WasUnverified {
		d["unverified"] = "true"
	}
	if r.IdentitiesRemoved > 0 {
		d["identities_removed"] = strconv.Itoa(r.IdentitiesRemoved)
	}
	if r.TOTPRemoved {
		d["mfa_removed"] = "true"
	}
	if len(d) == 0 {
		return nil
	}
	return d
}

// mailData fills the templates.
type mailData struct {
	Username, Email, Link, Lifetime string
}

// render makes the message of purpose in lang.
func (f *emailFlows) render(purpose string, lang i18n.Lang, d mailData) (gatehouse.Message, error) {
	name := purpose + "." + lang.String()
	var subject, text, html bytes.Buffer
	t := f.text[name]
	if err := t.ExecuteTemplate(&subject, "subject", d); err != nil {
		return gatehouse.Message{}, err
	}
	if err := t.ExecuteTemplate(&text, "text", d); err != nil {
		return gatehouse.Message{}, err
	}
	if err := f.html[name].ExecuteTemplate(&html, "html", d); err != nil {
		return gatehouse.Message{}, err
	}
	return gatehouse.Message{Subject: strings.TrimSpace(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// lifetime says d in words of lang, in whole hours when it is some, else
// in minutes.
func lifetime(d time.Duration, lang i18n.Lang) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if lang == i18n.Korean {
		if unit == "hour" {
			return strconv.Itoa(n) + "시간"
		}
		return strconv.Itoa(n) + "분"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}

// mailJob is one link request's work, with the request's context values
// (its id and client, for the audit record) but not its cancellation.
type mailJob struct {
	ctx context.Context
	run func(ctx context.Context)
}

// mailQueue holds link requests until a worker takes them: bounded, so a
// flood of requests costs memory up to QueueSize and no more (beyond it a
// request is dropped and logged, its answer unchanged).
type mailQueue struct {
	jobs chan mailJob

	mu      sync.Mutex
	pending int
	idle    chan struct{} // closed when pending drops to 0
}

func (q *mailQueue) push(ctx context.Context, s *Service, run func(ctx context.Context)) {
	q.mu.Lock()
	q.pending++
	if q.pending == 1 {
		q.idle = make(chan struct{})
	}
	q.mu.Unlock()
	select {
	case q.jobs <- mailJob{ctx: context.WithoutCancel(ctx), run: run}:
	default:
		q.done()
		s.log.LogAttrs(ctx, slog.LevelError, "mail queue full; link request dropped")
		s.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventMailFailed, Outcome: gatehouse.OutcomeFailure, Reason: gatehouse.CodeOverloaded})
	}
}

func (q *mailQueue) done() {
	q.mu.Lock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
	q.mu.Unlock()
}

// RunMail runs the mail workers until ctx ends, and then returns once each
// has finished the message in hand. Messages still queued then are dropped
// (logged): their links can be asked for again. Without RunMail, link
// requests queue up and are never sent.
func (s *Service) RunMail(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.email.Workers {
		wg.Go(func() {
			for {
				// Once ctx ends no new message is taken, even with some
				// queued (select picks among ready cases at random).
				if ctx.Err() != nil {
					return
				}
				select {
				case <-ctx.Done():
					return
				case j := <-s.email.queue.jobs:
					jctx, cancel := context.WithTimeout(j.ctx, s.email.SendTimeout)
					j.run(jctx)
					cancel()
					s.email.queue.done()
				}
			}
		})
	}
	wg.Wait()
	if n := len(s.email.queue.jobs); n > 0 {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "mail queue dropped at shutdown", slog.Int("messages", n))
	}
}

// WaitMail returns once no link request is queued or in progress, or when
// ctx ends (its error then). For graceful shutdown and tests.
func (s *Service) WaitMail(ctx context.Context) error {
	q := s.email.queue
	q.mu.Lock()
	if q.pending == 0 {
		q.mu.Unlock()
		return nil
	}
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
