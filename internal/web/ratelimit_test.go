package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/redis"
)

// defaultLimits are the shipped defaults (internal/config), so that the
// tests below check what a deployment gets.
func defaultLimits() *auth.Limits {
	return &auth.Limits{
		LoginIP:            gatehouse.Limit{N: 20, Per: time.Minute},
		LoginAccount:       gatehouse.Limit{N: 10, Per: 15 * time.Minute},
		LoginAccountAllIPs: gatehouse.Limit{N: 100, Per: 30 * 24 * time.Hour},
		RegisterIP:         gatehouse.Limit{N: 10, Per: time.Hour},
		RefreshIP:          gatehouse.Limit{N: 120, Per: time.Minute},
		MFA:                gatehouse.Limit{N: 5, Per: 15 * time.Minute},
	}
}

// from makes req come from ip, as the TCP peer.
func from(req *http.Request, ip string) *http.Request {
	req.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(ip), 40000).String()
	return req
}

func (e *testEnv) loginFrom(tb testing.TB, ip, username, password string) response {
	tb.Helper()
	return e.do(tb, from(formRequest("/auth/login", url.Values{"username": {username}, "password": {password}}), ip))
}

// retryAfter checks a 429 and returns its Retry-After.
func retryAfter(tb testing.TB, r response) time.Duration {
	tb.Helper()
	if r.status != http.StatusTooManyRequests || r.code(tb) != gatehouse.CodeRateLimited {
		tb.Fatalf("want 429 rate_limited, got %d %s", r.status, r.body)
	}
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		tb.Fatalf("Retry-After = %q, want whole seconds", r.header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// TestLoginRateLimitOneAccountOneIP: 60 rapid wrong passwords on one
// account from one address are stopped well before the 60th, every later
// one is refused without a check, and waiting Retry-After lets the next
// attempt through (and not a second earlier).
func TestLoginRateLimitOneAccountOneIP(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	e.register(t, "victim", "victim@example.com", "correct horse battery")
	const attacker = "198.51.100.7"
	first429 := 0
	var wait time.Duration
	for i := 1; i <= 60; i++ {
		r := e.loginFrom(t, attacker, "victim", "guess-"+strconv.Itoa(i))
		switch {
		case r.status == http.StatusUnauthorized && first429 == 0:
		case r.status == http.StatusTooManyRequests:
			if first429 == 0 {
				first429 = i
			}
			wait = retryAfter(t, r)
		default:
			t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	if first429 == 0 || first429 > 11 {
		t.Fatalf("first 429 at attempt %d, want by the 11th (10 failures per account and address)", first429)
	}
	// Even the right password is refused while limited: it is not checked.
	if r := e.loginFrom(t, attacker, "victim", "correct horse battery"); r.status != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d, want 429", r.status)
	}
	e.clock.Add(wait - time.Second)
	if r := e.loginFrom(t, attacker, "victim", "guess"); r.status != http.StatusTooManyRequests {
		t.Errorf("a second before Retry-After: %d, want 429", r.status)
	}
	e.clock.Add(time.Second)
	if r := e.loginFrom(t, attacker, "victim", "correct horse battery"); r.status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s, want 200", r.status, r.body)
	}
}

// TestLoginLockoutSparesKnownClient: failures from many addresses slow the
// account down for strangers, but the real user, from the address they
// logged in from before, still gets in; each address keeps its own limit.
func TestLoginLockoutSparesKnownClient(t *testing.T) {
	limits := &auth.Limits{
		LoginIP:            gatehouse.Limit{N: 20, Per: time.Minute},
		LoginAccount:       gatehouse.Limit{N: 3, Per: 15 * time.Minute},
		LoginAccountAllIPs: gatehouse.Limit{N: 5, Per: 30 * 24 * time.Hour},
	}
	e := newTestEnv(t, envOptions{limits: limits})
	e.register(t, "alice", "alice@example.com", "correct horse battery")
	const home = "192.0.2.10"
	if r := e.loginFrom(t, home, "alice", "correct horse battery"); r.status != http.StatusOK {
		t.Fatalf("first login: %d %s", r.status, r.body)
	}

	// Address A spends its own budget on the account: 3 failures, then 429.
	for i := range 3 {
		if r := e.loginFrom(t, "198.51.100.1", "alice", "wrong"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("A attempt %d: %d", i, r.status)
		}
	}
	retryAfter(t, e.loginFrom(t, "198.51.100.1", "alice", "wrong"))
	// B, with a fresh budget of its own, by email this time (one account,
	// one budget): 2 failures exhaust the account's budget for all addresses...
	for i := range 2 {
		if r := e.loginFrom(t, "198.51.100.2", "alice@example.com", "wrong"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("B attempt %d: %d", i, r.status)
		}
	}
	// ...so B is slowed down, and so is any other stranger, right password
	// or not.
	if d := retryAfter(t, e.loginFrom(t, "198.51.100.2", "alice", "wrong")); d < time.Hour {
		t.Errorf("account-wide Retry-After = %s, want hours (100 per 30 days refills one every 7.2 h)", d)
	}
	retryAfter(t, e.loginFrom(t, "203.0.113.9", "alice", "correct horse battery"))
	// The token endpoint's password grant is the same login.
	r := e.do(t, from(formRequest("/auth/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}}), "203.0.113.10"))
	if r.status != http.StatusTooManyRequests || r.json(t)["error"] != "slow_down" || r.code(t) != gatehouse.CodeRateLimited || r.header.Get("Retry-After") == "" {
		t.Errorf("token endpoint: %d %v %s", r.status, r.header, r.body)
	}

	// The real user, from home, gets in.
	if r := e.loginFrom(t, home, "alice", "correct horse battery"); r.status != http.StatusOK {
		t.Fatalf("real user from a known address: %d %s", r.status, r.body)
	}
	// A known address is still bound by its own limit.
	for i := range 3 {
		if r := e.loginFrom(t, home, "alice", "typo"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("home typo %d: %d", i, r.status)
		}
	}
	retryAfter(t, e.loginFrom(t, home, "alice", "correct horse battery"))

	// The address stops being known 30 days after its last success.
	e.clock.Add(30*24*time.Hour + time.Hour)
	for i := range 5 {
		e.loginFrom(t, "198.51.100."+strconv.Itoa(20+i), "alice", "wrong")
	}
	retryAfter(t, e.loginFrom(t, home, "alice", "correct horse battery"))
}

// TestLoginLimitsDoNotRevealAccounts: an account that does not exist is
// limited exactly like one that does, so a 429 says nothing about existence.
func TestLoginLimitsDoNotRevealAccounts(t *testing.T) {
	limits := &auth.Limits{LoginAccount: gatehouse.Limit{N: 2, Per: time.Hour}}
	e := newTestEnv(t, envOptions{limits: limits})
	e.register(t, "real", "real@example.com", "correct horse battery")
	var answers [2][]string
	for i, name := range []string{"real", "ghost"} {
		for range 4 {
			r := e.loginFrom(t, "198.51.100.1", name, "wrong")
			answers[i] = append(answers[i], strconv.Itoa(r.status)+" "+r.header.Get("Retry-After")+" "+string(r.body))
		}
	}
	for i := range answers[0] {
		if answers[0][i] != answers[1][i] {
			t.Errorf("attempt %d: existing %q, missing %q", i, answers[0][i], answers[1][i])
		}
	}
}

func TestRegisterAndRefreshRateLimits(t *testing.T) {
	limits := &auth.Limits{RegisterIP: gatehouse.Limit{N: 2, Per: time.Hour}, RefreshIP: gatehouse.Limit{N: 2, Per: time.Minute}}
	e := newTestEnv(t, envOptions{limits: limits})
	reg := func(ip, name string) response {
		return e.do(t, from(jsonRequest(http.MethodPost, "/auth/register", map[string]string{
			"username": name, "email": name + "@example.com", "password": "correct horse battery",
		}), ip))
	}
	for _, name := range []string{"one", "two"} {
		if r := reg("198.51.100.1", name); r.status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", name, r.status, r.body)
		}
	}
	// Invalid input does not spend the budget; it is answered 422 as ever.
	if r := reg("198.51.100.2", "bad name"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("invalid registration: %d", r.status)
	}
	retryAfter(t, reg("198.51.100.1", "three"))
	if r := reg("198.51.100.2", "three"); r.status != http.StatusCreated {
		t.Errorf("another address: %d %s", r.status, r.body)
	}

	rt := e.loginFrom(t, "198.51.100.1", "one", "correct horse battery").json(t)["refresh_token"].(string)
	refresh := func(ip, token string) response {
		return e.do(t, from(jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": token}), ip))
	}
	for range 2 {
		r := refresh("198.51.100.1", rt)
		if r.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		rt = r.json(t)["refresh_token"].(string)
	}
	retryAfter(t, refresh("198.51.100.1", rt))
	r := e.do(t, from(formRequest("/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), "198.51.100.1"))
	if r.status != http.StatusTooManyRequests || r.json(t)["error"] != "slow_down" {
		t.Errorf("refresh grant: %d %s", r.status, r.body)
	}
	// The refused exchanges did not touch the session: the token still works.
	if r := refresh("198.51.100.2", rt); r.status != http.StatusOK {
		t.Errorf("refresh from another address: %d %s", r.status, r.body)
	}
}

// TestSpoofedForwardedForIgnored: a client that is not a trusted proxy
// cannot escape its address's budget by writing X-Forwarded-For; a trusted
// proxy's X-Forwarded-For does name the client.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	limits := &auth.Limits{LoginIP: gatehouse.Limit{N: 3, Per: time.Minute}}
	e := newTestEnv(t, envOptions{limits: limits, trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	attempt := func(peer, xff string) response {
		req := from(formRequest("/auth/login", url.Values{"username": {"nobody"}, "password": {"x"}}), peer)
		req.Header.Set("X-Forwarded-For", xff)
		return e.do(t, req)
	}
	for i := range 3 {
		if r := attempt("203.0.113.5", "192.0.2."+strconv.Itoa(i+1)); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	retryAfter(t, attempt("203.0.113.5", "192.0.2.99"))
	// Through the trusted proxy, each client has its own budget.
	for i := range 5 {
		if r := attempt("10.0.0.1", "192.0.2."+strconv.Itoa(i+1)); r.status != http.StatusUnauthorized {
			t.Errorf("client %d behind the proxy: %d", i, r.status)
		}
	}
}

// TestRateLimitSharedAcrossInstances: two servers sharing one Redis (and
// prefix) share the budgets: failures through A are refused through B.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	u := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if u == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set: skipping the shared rate limit test")
	}
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "gatehouse-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		o, _ := goredis.ParseURL(u)
		rdb := goredis.NewClient(o)
		defer rdb.Close()
		ctx := context.Background()
		for it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator(); it.Next(ctx); {
			rdb.Del(ctx, it.Val())
		}
	})
	limits := &auth.Limits{LoginAccount: gatehouse.Limit{N: 3, Per: 15 * time.Minute}}
	instance := func() *testEnv {
		c, err := redis.Open(context.Background(), u, redis.Options{Prefix: prefix, CommandTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return newTestEnv(t, envOptions{limits: limits, limiter: c.RateLimiter(inmem.NewRateLimiter(nil))})
	}
	a, b2 := instance(), instance()
	// The two test servers have separate databases; the limits do not care
	// whether the account exists.
	for i := range 3 {
		if r := a.loginFrom(t, "198.51.100.1", "shared", "wrong"+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("A attempt %d: %d", i, r.status)
		}
	}
	retryAfter(t, b2.loginFrom(t, "198.51.100.1", "shared", "wrong"))
	if r := b2.loginFrom(t, "198.51.100.2", "shared", "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("another address through B: %d", r.status)
	}
}

// TestPasswordChangeShareLoginLimit: a stolen access token cannot guess the
// current password at POST /users/me/password faster than at the login: the
// guesses spend the same budget of the account and address.
func TestPasswordChangeShareLoginLimit(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	access := e.token(t, "victim", "victim@example.com", goodPassword)
	const thief = "203.0.113.66"
	first429 := 0
	for i := 1; i <= 30 && first429 == 0; i++ {
		req := authed(http.MethodPost, "/users/me/password", access, map[string]string{
			"current_password": "guess-" + strconv.Itoa(i), "new_password": "another long passphrase 42"})
		switch r := e.do(t, from(req, thief)); r.status {
		case http.StatusTooManyRequests:
			retryAfter(t, r)
			first429 = i
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	if first429 == 0 || first429 > 11 {
		t.Fatalf("first 429 at guess %d, want by the 11th", first429)
	}
	// The login from the same address is limited too: one budget.
	if r := e.loginFrom(t, thief, "victim", goodPassword); r.status != http.StatusTooManyRequests {
		t.Errorf("login after the guesses: %d, want 429", r.status)
	}
}

// TestRateLimitedAuditedOncePerMinute: a flood of refused logins writes one
// rate_limited audit row per limit, address and account each minute, not
// one per request.
func TestRateLimitedAuditedOncePerMinute(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	e.register(t, "victim", "victim@example.com", goodPassword)
	const attacker = "198.51.100.99"
	count := func() int {
		events, err := e.audit.ListAudit(t.Context(), gatehouse.AuditFilter{Event: gatehouse.EventRateLimited, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(events)
	}
	for i := range 40 {
		e.loginFrom(t, attacker, "victim", "guess-"+strconv.Itoa(i))
	}
	if n := count(); n != 1 {
		t.Fatalf("%d rate_limited rows after one minute's refusals, want 1", n)
	}
	e.clock.Add(time.Minute)
	e.loginFrom(t, attacker, "victim", "guess")
	if n := count(); n != 2 {
		t.Fatalf("%d rate_limited rows a minute later, want 2", n)
	}
}
