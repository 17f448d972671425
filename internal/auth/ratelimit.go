package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Limits are the rate limits the use cases apply when Deps.Limiter is set.
// A zero Limit is off. See docs/security.md, "Rate limits and lockout", for
// the model and the reasons behind the defaults.
type Limits struct {
	// LoginIP bounds every login attempt (POST /auth/login and the token
	// endpoint's password grant) from one client address, whatever the
	// account: password spraying and credential stuffing from one source.
	LoginIP gatehouse.Limit
	// LoginAccount bounds the attempts on one account from one client
	// address. A successful login gives the whole budget back, so only
	// failures accumulate: the online-guessing limit that a stranger on
	// another address cannot spend for the real user.
	LoginAccount gatehouse.Limit
	// LoginAccountAllIPs bounds the attempts on one account from every
	// address together (NIST SP 800-63B: at most 100 failures in 30 days),
	// against guessing spread over many addresses. A known client (an
	// address that logged in to the account successfully within KnownClient)
	// is counted but never refused by it, so an attacker exhausting it
	// cannot lock the real user out; a success gives its attempt back.
	LoginAccountAllIPs gatehouse.Limit
	// KnownClient is how long a successful login makes its address known to
	// the account. Default 30 days.
	KnownClient time.Duration
	// RegisterIP bounds registrations from one client address.
	RegisterIP gatehouse.Limit
	// RefreshIP bounds refresh token exchanges from one client address.
	RefreshIP gatehouse.Limit
	// MFA bounds the second-factor attempts on one account (the login's
	// second step, confirming and disabling TOTP), from every address
	// together; a success gives the budget back. The login's second step
	// also counts against LoginIP.
	MFA gatehouse.Limit
}

const defaultKnownClient = 30 * 24 * time.Hour

// Scopes of a RateLimitedError, and the first segment of the limiter keys.
const (
	scopeLoginIP       = "login_ip"
	scopeLoginAccount  = "login_account"
	scopeLoginAllIPs   = "login_account_all_ips"
	scopeRegisterIP    = "register_ip"
	scopeRefreshIP     = "refresh_ip"
	scopeKnownClientRL = "known_client"
)

// limitKey names a budget. Client addresses are grouped as attackers get
// them: an IPv6 client holds a whole /64 (a home or a cloud server gets one),
// so one budget per /128 would be no limit at all.
func limitKey(scope string, parts ...string) string {
	return scope + ":" + strings.Join(parts, ":")
}

// clientKey is the budget key of a client address.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip // "" when the HTTP layer knew no address: those share a budget
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// accountKey names an account for the limiter: the user id when the login
// names one, so its username and its email share one budget, else the
// normalised login. Accounts that do not exist are limited exactly like
// those that do, so a 429 tells nothing about existence. Hashed so that
// usernames and addresses are not written into the limiter's store (Redis).
func accountKey(u *gatehouse.User, login string) string {
	var name string
	switch {
	case u != nil:
		name = "id\x00" + strconv.FormatInt(u.ID, 10)
	case strings.Contains(login, "@"):
		_, key, _ := normalizeEmail(login)
		name = "email\x00" + key
	default:
		_, key, _ := normalizeUsername(login)
		name = "username\x00" + key
	}
	if strings.HasSuffix(name, "\x00") { // a login that does not normalise
		name += strings.ToLower(login)
	}
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// take takes one event from a budget, answering the CodeRateLimited error
// when it is spent. A limiter that fails lets the request through: the
// shared limiter already falls back to the in-process one, so an error here
// is a bug to log, not a reason to refuse every login.
func (s *Service) take(ctx context.Context, scope, key string, l gatehouse.Limit) error {
	d, ok := s.allow(ctx, key, l, 1)
	if ok && !d.Allowed {
		return rateLimited(scope, d.RetryAfter)
	}
	return nil
}

// allow asks the limiter; ok is false when it failed (logged).
func (s *Service) allow(ctx context.Context, key string, l gatehouse.Limit, cost int) (gatehouse.Decision, bool) {
	d, err := s.limiter.Allow(ctx, key, l, cost)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed; request let through", slog.String("key", key), slog.String("error", err.Error()))
		return gatehouse.Decision{Allowed: true}, false
	}
	return d, true
}

func rateLimited(scope string, retryAfter time.Duration) error {
	secs := max(int64((retryAfter+time.Second-1)/time.Second), 1)
	return &gatehouse.Error{
		Code: gatehouse.CodeRateLimited,
		Args: map[string]any{"seconds": secs},
		Err:  &gatehouse.RateLimitedError{RetryAfter: retryAfter, Scope: scope},
	}
}

// loginGuard is what a login attempt took from the budgets, so that a
// success can give it back.
type loginGuard struct {
	account string // accountKey
	client  string // clientKey
}

// guardLogin applies the login limits to an attempt on account u (nil when
// the login names no account) from client, before any hashing, so a refused
// attempt costs no hash. The per-address limit was taken by the caller
// before the account was looked up.
func (s *Service) guardLogin(ctx context.Context, u *gatehouse.User, login string, client Client) (loginGuard, error) {
	g := loginGuard{account: accountKey(u, login), client: clientKey(client.IP)}
	if s.limiter == nil {
		return g, nil
	}
	pairKey := limitKey(scopeLoginAccount, g.account, g.client)
	if err := s.take(ctx, scopeLoginAccount, pairKey, s.limits.LoginAccount); err != nil {
		return g, err
	}
	d, ok := s.allow(ctx, limitKey(scopeLoginAllIPs, g.account), s.limits.LoginAccountAllIPs, 1)
	if !ok || d.Allowed || s.known(ctx, g) {
		return g, nil
	}
	// Refused before any work: the attempt is not held against this
	// address's own budget for the account.
	s.allow(ctx, pairKey, s.limits.LoginAccount, -1)
	return g, rateLimited(scopeLoginAllIPs, d.RetryAfter)
}

// known reports whether the client logged in to the account successfully
// within KnownClient: a budget of one, spent by the success.
func (s *Service) known(ctx context.Context, g loginGuard) bool {
	d, ok := s.allow(ctx, limitKey(scopeKnownClientRL, g.account, g.client), s.knownLimit(), 0)
	return ok && d.Remaining == 0
}

func (s *Service) knownLimit() gatehouse.Limit {
	return gatehouse.Limit{N: 1, Per: s.limits.KnownClient}
}

// loginSucceeded gives a successful attempt back: the address's failures on
// the account are forgotten, the attempt returns to the account's budget,
// and the address becomes known to the account for KnownClient from now.
// Failures here are logged only: the user has proved the password.
func (s *Service) loginSucceeded(ctx context.Context, g loginGuard) {
	if s.limiter == nil {
		return
	}
	if err := s.limiter.Reset(ctx, limitKey(scopeLoginAccount, g.account, g.client)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "rate limiter reset failed", slog.String("error", err.Error()))
	}
	s.allow(ctx, limitKey(scopeLoginAllIPs, g.account), s.limits.LoginAccountAllIPs, -1)
	knownKey := limitKey(scopeKnownClientRL, g.account, g.client)
	_ = s.limiter.Reset(ctx, knownKey) // restart the window from this login
	s.allow(ctx, knownKey, s.knownLimit(), 1)
}

// limitIP takes one event from an address's budget for scope.
func (s *Service) limitIP(ctx context.Context, scope string, l gatehouse.Limit, ip string) error {
	if s.limiter == nil {
		return nil
	}
	return s.take(ctx, scope, limitKey(scope, clientKey(ip)), l)
}

// longestWait is the error for a login refused by the per-address limit:
// its Retry-After is the longest wait of every login budget that would also
// refuse the attempt, so that a client honouring Retry-After is let through
// then rather than refused by the next limit in line. It only asks (cost 0):
// the attempt takes nothing from the account's budgets.
func (s *Service) longestWait(ctx context.Context, ipErr error, u *gatehouse.User, login string, client Client) error {
	g := loginGuard{account: accountKey(u, login), client: clientKey(client.IP)}
	var rl *gatehouse.RateLimitedError
	if !errors.As(ipErr, &rl) {
		return ipErr
	}
	wait, scope := rl.RetryAfter, rl.Scope
	if d, ok := s.allow(ctx, limitKey(scopeLoginAccount, g.account, g.client), s.limits.LoginAccount, 0); ok && d.RetryAfter > wait {
		wait, scope = d.RetryAfter, scopeLoginAccount
	}
	if d, ok := s.allow(ctx, limitKey(scopeLoginAllIPs, g.account), s.limits.LoginAccountAllIPs, 0); ok && d.RetryAfter > wait && !s.known(ctx, g) {
		wait, scope = d.RetryAfter, scopeLoginAllIPs
	}
	return rateLimited(scope, wait)
}
