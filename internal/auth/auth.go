// Package auth holds gatehouse's use cases: register, log in, and
// authenticate a request's access token. It reaches storage only through the
// domain's interfaces and knows nothing of HTTP: callers pass plain values and
// get *gatehouse.Error values back, whose codes the HTTP layer maps to statuses.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// Service runs the use cases. It is safe for concurrent use.
type Service struct {
	users       gatehouse.UserStore
	sessions    gatehouse.SessionStore
	revocations Revocations
	hasher      Hasher
	policy      pwhash.Policy
	tokens      *tokens.Manager
	refreshKey  []byte
	lifetimes   Lifetimes
	now         func() time.Time
	log         *slog.Logger
	limiter     gatehouse.RateLimiter // nil: no rate limits (the operator's commands)
	audit       gatehouse.AuditLog    // nil: events are logged only
	limits      Limits
	mfa         gatehouse.MFAStore // nil: no second factors
	mfaKeys     *mfaKeys
	totpIssuer  string
	email       *emailFlows
}

// Revocations is the set of revoked sessions the per-request check consults
// (inmem.Revocations in one process). Sync must make every revocation
// committed so far visible to Revoked.
type Revocations interface {
	Revoked(sessionID string) bool
	Sync(ctx context.Context) error
	// Changed returns a channel closed the next time Sync learns of a new
	// revocation.
	Changed() <-chan struct{}
}

// Lifetimes bound sessions and their refresh tokens.
type Lifetimes struct {
	// Refresh is the sliding lifetime of a session: each refresh extends it
	// to now + Refresh.
	Refresh time.Duration
	// Session caps a session's whole life, however often it is refreshed.
	Session time.Duration
	// Grace is how long after a rotation the immediately previous refresh
	// token is still honoured (concurrent refreshes from one client).
	Grace time.Duration
}

// Deps are what a Service needs.
type Deps struct {
	Users       gatehouse.UserStore
	Sessions    gatehouse.SessionStore
	Revocations Revocations
	Hasher      Hasher
	Policy      pwhash.Policy
	Tokens      *tokens.Manager
	// RefreshKey (32 bytes, derived from the server secret) keys the MAC
	// that makes refresh tokens; it never leaves the process.
	RefreshKey []byte
	Lifetimes  Lifetimes
	Now        func() time.Time
	Logger     *slog.Logger
	// Limiter keeps the rate limit budgets (inmem.RateLimiter in one
	// process, redis.RateLimiter shared); nil turns every limit off.
	Limiter gatehouse.RateLimiter
	Limits  Limits
	// Audit records security events; nil: they are logged only.
	Audit gatehouse.AuditLog
	// MFA keeps second factors (see mfa.go); nil turns MFA off. MFAKey
	// (at least 32 bytes, derived from the server secret) seals TOTP
	// secrets and MACs recovery codes; TOTPIssuer names the service in
	// authenticator apps.
	MFA        gatehouse.MFAStore
	MFAKey     []byte
	TOTPIssuer string
	// Email configures verification and password reset; zero: off.
	Email Email
}

// New returns a Service. It panics if d.MFA is set with an MFAKey shorter
// than 32 bytes: a wiring mistake, not a condition to run with.
func New(d Deps) *Service {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	limits := d.Limits
	if limits.KnownClient <= 0 {
		limits.KnownClient = defaultKnownClient
	}
	s := &Service{
		users: d.Users, sessions: d.Sessions, revocations: d.Revocations,
		hasher: d.Hasher, policy: d.Policy.WithDefaults(), tokens: d.Tokens,
		refreshKey: d.RefreshKey, lifetimes: d.Lifetimes, now: now, log: log, audit: d.Audit,
		limiter: d.Limiter, limits: limits, email: newEmailFlows(d.Email),
	}
	s.initMFA(d)
	return s
}

// Hasher hashes and verifies passwords: a *pwhash.Hasher in process, or a
// pool of worker processes (internal/hashpool) in the server.
type Hasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (ok, rehash bool, err error)
	VerifyDummy(password string) bool
}

// unreadableHash reports whether a Verify error is about the stored hash
// (malformed, or a scheme we do not know) rather than the hasher failing.
func unreadableHash(err error) bool {
	return errors.Is(err, pwhash.ErrMalformedHash) || errors.Is(err, pwhash.ErrUnknownHash)
}

// Client describes who asks, as far as the HTTP layer knows: recorded with
// the session, shown in the session list.
type Client struct {
	IP        string
	UserAgent string
	ClientID  string // OAuth client_id, if the client sent one
	Scope     string // requested scope, if any
}

// RegisterInput is a registration request.
type RegisterInput struct {
	Username string
	Email    string
	Password string
	// ClientIP is the address the request came from, for the per-address
	// registration limit ("" from the operator's commands).
	ClientIP string
	// Roles are given to the new account in the same transaction; only an
	// operator or an admin sets them (Admin.CreateUser), never
	// self-registration.
	Roles []string
}

// Register creates an account. Invalid input gives a CodeValidation error that
// lists every problem at once; a taken username or email gives
// CodeUsernameTaken or CodeEmailTaken, decided by the store's unique
// constraint so that concurrent registrations of one name cannot both win.
func (s *Service) Register(ctx context.Context, in RegisterInput) (u *gatehouse.User, err error) {
	defer func() {
		var id int64
		if u != nil {
			id = u.ID
		}
		s.auditResult(ctx, gatehouse.EventRegister, id, "", err)
	}()
	var fields []gatehouse.FieldError
	username, usernameKey, p := normalizeUsername(in.Username)
	fields = appendProblem(fields, "username", p)
	email, emailKey, p := normalizeEmail(in.Email)
	fields = appendProblem(fields, "email", p)
	if in.Password == "" {
		fields = appendProblem(fields, "password", &problem{typ: "missing"})
	} else {
		for _, pp := range s.policy.Check(in.Password, in.Username, in.Email) {
			fields = appendProblem(fields, "password", &problem{typ: pp.Type, args: pp.Args})
		}
	}
	if len(fields) > 0 {
		return nil, gatehouse.ValidationError(fields...)
	}
	// After validation (cheap, and a user fixing a weak password should not
	// spend the budget), before the hash and the insert: what a mass
	// registration costs us.
	if err := s.limitIP(ctx, scopeRegisterIP, s.limits.RegisterIP, in.ClientIP); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u = &gatehouse.User{
		Username:     username,
		UsernameKey:  usernameKey,
		Email:        email,
		EmailKey:     emailKey,
		PasswordHash: hash,
		IsActive:     true,
		Roles:        in.Roles,
	}
	if err := s.users.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func appendProblem(fields []gatehouse.FieldError, field string, p *problem) []gatehouse.FieldError {
	if p == nil {
		return fields
	}
	return append(fields, gatehouse.FieldError{Loc: []string{"body", field}, Type: p.typ, Key: p.typ, Args: p.args})
}

// TokenPair is what a login or a refresh hands out.
type TokenPair struct {
	AccessToken  string
	ExpiresAt    time.Time
	ExpiresIn    int // seconds
	RefreshToken string
	Scope        string
	User         *gatehouse.User
	Session      *gatehouse.Session
}

var errInvalidCredentials = &gatehouse.Error{Code: gatehouse.CodeInvalidCredentials}

// Login checks a username (or email) and password and issues an access token.
//
// Rate limits apply before any hashing, so a refused attempt costs no hash:
// attempts per client address, attempts per account from that address
// (given back on success), and attempts per account from every address
// (which a known client passes): see Limits. A refused attempt gives
// CodeRateLimited with a *gatehouse.RateLimitedError cause.
//
// Unknown user, undecodable login and wrong password give one identical error,
// and an unknown user costs a verification against a dummy hash, so neither
// the answer nor its timing tells whether an account exists. A correct
// password for a deactivated account gives CodeInactiveUser: only someone who
// knows the password learns that.
func (s *Service) Login(ctx context.Context, login, password string, client Client) (*TokenPair, error) {
	pair, u, err := s.login(ctx, login, password, client)
	s.auditLogin(ctx, u, pair, err)
	return pair, err
}

// login is Login without the audit record; it returns the user the login
// named, when there is one, for the record.
func (s *Service) login(ctx context.Context, login, password string, client Client) (*TokenPair, *gatehouse.User, error) {
	if login == "" || password == "" {
		var fields []gatehouse.FieldError
		if login == "" {
			fields = appendProblem(fields, "username", &problem{typ: "missing"})
		}
		if password == "" {
			fields = appendProblem(fields, "password", &problem{typ: "missing"})
		}
		return nil, nil, gatehouse.ValidationError(fields...)
	}
	// Bound the work an anonymous caller can ask of the hash function.
	if len(password) > s.policy.MaxBytes {
		return nil, nil, gatehouse.ValidationError(gatehouse.FieldError{
			Loc: []string{"body", "password"}, Type: "password_too_long", Key: "password_too_long",
			Args: map[string]any{"max": s.policy.MaxBytes},
		})
	}
	ipErr := s.limitIP(ctx, scopeLoginIP, s.limits.LoginIP, client.IP)
	u, err := s.findLogin(ctx, login)
	if ipErr != nil {
		if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
			u = nil
		}
		return nil, u, s.longestWait(ctx, ipErr, u, login, client)
	}
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		if _, err := s.guardLogin(ctx, nil, login, client); err != nil {
			return nil, u, err
		}
		s.hasher.VerifyDummy(password)
		return nil, u, errInvalidCredentials
	}
	if err != nil {
		return nil, u, err
	}
	guard, err := s.guardLogin(ctx, u, login, client)
	if err != nil {
		return nil, u, err
	}
	if u.PasswordHash == "" {
		// An account made by a provider sign-in may have no password: it
		// fails as a wrong password would, after as much hashing, so the
		// answer tells nothing of how the account signs in.
		s.hasher.VerifyDummy(password)
		return nil, u, errInvalidCredentials
	}
	ok, rehash, err := s.hasher.Verify(password, u.PasswordHash)
	if unreadableHash(err) {
		// A stored hash we cannot read is an operator's problem; the caller
		// learns only that the login failed.
		s.log.LogAttrs(ctx, slog.LevelError, "stored password hash unreadable", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
		return nil, u, errInvalidCredentials
	}
	if err != nil {
		// The hasher itself failed (a worker process died): a server
		// error, not the caller's wrong password.
		return nil, u, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return nil, u, errInvalidCredentials
	}
	if !u.IsActive {
		return nil, u, &gatehouse.Error{Code: gatehouse.CodeInactiveUser}
	}
	if err := s.checkVerified(u); err != nil {
		return nil, u, err
	}
	s.loginSucceeded(ctx, guard)
	if rehash {
		s.upgradeHash(ctx, u, password)
	}
	if err := s.secondFactor(ctx, u, client); err != nil {
		return nil, u, err
	}
	pair, err := s.startSession(ctx, u, client)
	return pair, u, err
}

// findLogin looks a user up by email when the login contains '@' (usernames
// never do), else by username. A login that cannot be normalised cannot name
// an account, so it is simply not found.
func (s *Service) findLogin(ctx context.Context, login string) (*gatehouse.User, error) {
	if strings.Contains(login, "@") {
		_, key, p := normalizeEmail(login)
		if p != nil {
			return nil, &gatehouse.Error{Code: gatehouse.CodeNotFound}
		}
		return s.users.UserByEmail(ctx, key)
	}
	_, key, p := normalizeUsername(login)
	if p != nil {
		return nil, &gatehouse.Error{Code: gatehouse.CodeNotFound}
	}
	return s.users.UserByUsername(ctx, key)
}

// upgradeHash replaces a legacy hash (bcrypt from the tutorial's database, or
// argon2id with outdated parameters) with a current one, as passlib's
// deprecated="auto" does. A failure is logged, never fatal to the login: the
// old hash still works and the next login tries again.
func (s *Service) upgradeHash(ctx context.Context, u *gatehouse.User, password string) {
	hash, err := s.hasher.Hash(password)
	if err == nil {
		err = s.users.SetPasswordHash(ctx, u.ID, hash)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "password rehash failed", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
		return
	}
	u.PasswordHash = hash
	s.log.LogAttrs(ctx, slog.LevelInfo, "password hash upgraded to argon2id", slog.Int64("user_id", u.ID))
}

var errInvalidToken = &gatehouse.Error{Code: gatehouse.CodeInvalidToken}

// Authenticate verifies an access token and returns its user. This is the hot
// path of every protected request: a verified-token cache, a map look-up in
// the revocation set and a user cache keep it to a few microseconds. A
// missing, malformed, expired, forged or revoked token, and a token whose
// user no longer exists, all give CodeInvalidToken;
// a deactivated user gives CodeInactiveUser (as the tutorial answers).
func (s *Service) Authenticate(ctx context.Context, token string) (*gatehouse.User, tokens.Claims, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return nil, tokens.Claims{}, &gatehouse.Error{Code: gatehouse.CodeInvalidToken, Err: err}
	}
	if s.revocations.Revoked(claims.SessionID) {
		return nil, tokens.Claims{}, &gatehouse.Error{Code: gatehouse.CodeInvalidToken, Err: errors.New("session revoked")}
	}
	id, err := claims.UserID()
	if err != nil {
		return nil, tokens.Claims{}, &gatehouse.Error{Code: gatehouse.CodeInvalidToken, Err: err}
	}
	u, err := s.users.UserByID(ctx, id)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, tokens.Claims{}, errInvalidToken
	}
	if err != nil {
		return nil, tokens.Claims{}, fmt.Errorf("load token user: %w", err)
	}
	if !u.IsActive {
		return nil, tokens.Claims{}, &gatehouse.Error{Code: gatehouse.CodeInactiveUser}
	}
	return u, claims, nil
}
