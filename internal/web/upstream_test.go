package web

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/upstream"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// These tests run the whole provider sign-in against real OpenID providers
// on loopback: mockoidc (github.com/oauth2-proxy/mockoidc), and, for what
// mockoidc cannot be made to do (a token for another audience, signed by
// another key, without a nonce), a small provider built here. The browser
// is played by the test: it follows each redirect by hand.

const (
	appRedirect = "https://app.test/callback"
	callbackURL = testIssuer + "/auth/oauth/%s/callback"
)

// noRedirects is a client that stops at each redirect, as the test plays
// the browser.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func startMockOIDC(tb testing.TB) *mockoidc.MockOIDC {
	tb.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Shutdown() })
	return m
}

func mockProvider(tb testing.TB, name string, m *mockoidc.MockOIDC, now func() time.Time) gatehouse.Upstream {
	tb.Helper()
	up, err := upstream.New(upstream.Config{
		Name: name, Type: upstream.TypeOIDC, Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
		RedirectURL: strings.Replace(callbackURL, "%s", name, 1),
	}, &http.Client{Timeout: 5 * time.Second}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return up
}

// newOIDCEnv is a test server with the providers ups makes.
func newOIDCEnv(tb testing.TB, ups func(now func() time.Time) map[string]gatehouse.Upstream) *testEnv {
	return newTestEnv(tb, envOptions{upstreams: ups, redirectURIs: []string{appRedirect, "myapp://cb"}})
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// flow is one sign-in as the app and the browser see it.
type flow struct {
	verifier string
	// providerURL is where gatehouse sent the browser.
	providerURL string
}

// start asks gatehouse to begin a sign-in with provider.
func (e *testEnv) start(tb testing.TB, provider, appState string) flow {
	tb.Helper()
	verifier, challenge := pkce()
	q := url.Values{"redirect_uri": {appRedirect}, "state": {appState}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	res := e.do(tb, httptest.NewRequest(http.MethodGet, "/auth/oauth/"+provider+"?"+q.Encode(), nil))
	if res.status != http.StatusFound {
		tb.Fatalf("start: %d %s", res.status, res.body)
	}
	if res.header.Get("Cache-Control") != "no-store" {
		tb.Errorf("start: Cache-Control %q", res.header.Get("Cache-Control"))
	}
	return flow{verifier: verifier, providerURL: res.header.Get("Location")}
}

// authorize plays the browser at the provider: it returns the callback
// URL (path and query) the provider sends it back to.
func authorize(tb testing.TB, providerURL string) string {
	tb.Helper()
	res, err := noRedirects.Get(providerURL)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		tb.Fatalf("provider answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if !strings.HasPrefix(loc.String(), testIssuer+"/auth/oauth/") {
		tb.Fatalf("provider sent the browser to %s", loc)
	}
	return loc.RequestURI()
}

// callback delivers the provider's redirect to gatehouse and returns the
// app URL gatehouse redirects to (nil with the response when it does not).
func (e *testEnv) callback(tb testing.TB, uri string) (*url.URL, response) {
	tb.Helper()
	res := e.do(tb, httptest.NewRequest(http.MethodGet, uri, nil))
	if res.status != http.StatusFound {
		return nil, res
	}
	loc, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), appRedirect+"?") {
		tb.Fatalf("callback redirected to %s, not the app", loc)
	}
	if res.header.Get("Referrer-Policy") != "no-referrer" || res.header.Get("Cache-Control") != "no-store" {
		tb.Errorf("callback redirect headers %v", res.header)
	}
	return loc, res
}

// signIn runs a whole sign-in and returns the app's one-time code.
func (e *testEnv) signIn(tb testing.TB, provider string) (code, verifier string) {
	tb.Helper()
	f := e.start(tb, provider, "app-state")
	loc, res := e.callback(tb, authorize(tb, f.providerURL))
	if loc == nil {
		tb.Fatalf("callback: %d %s", res.status, res.body)
	}
	q := loc.Query()
	if q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != "app-state" {
		tb.Fatalf("app redirect %s", loc)
	}
	return q.Get("code"), f.verifier
}

func (e *testEnv) exchange(tb testing.TB, code, redirectURI, verifier string) response {
	tb.Helper()
	return e.do(tb, tokenRequest(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}))
}

// providerToken signs in through provider and returns an access token.
func (e *testEnv) providerToken(tb testing.TB, provider string) string {
	tb.Helper()
	code, verifier := e.signIn(tb, provider)
	res := e.exchange(tb, code, appRedirect, verifier)
	if res.status != http.StatusOK {
		tb.Fatalf("exchange: %d %s", res.status, res.body)
	}
	return res.json(tb)["access_token"].(string)
}

// startLink starts a link for the holder of access and plays the browser
// through the provider; it returns the app URL the browser comes back to
// and the link's PKCE verifier.
func (e *testEnv) startLink(tb testing.TB, access, provider, appState string) (*url.URL, string) {
	tb.Helper()
	verifier, challenge := pkce()
	res := e.do(tb, authed(http.MethodPost, "/users/me/identities", access, map[string]string{
		"provider": provider, "redirect_uri": appRedirect, "state": appState, "code_challenge": challenge, "code_challenge_method": "S256",
	}))
	if res.status != http.StatusOK {
		tb.Fatalf("link start: %d %s", res.status, res.body)
	}
	loc, cres := e.callback(tb, authorize(tb, res.json(tb)["authorization_url"].(string)))
	if loc == nil {
		tb.Fatalf("link callback: %d %s", cres.status, cres.body)
	}
	return loc, verifier
}

func (e *testEnv) confirmLink(tb testing.TB, access, code, verifier string) response {
	tb.Helper()
	return e.do(tb, authed(http.MethodPost, "/users/me/identities/confirm", access, map[string]string{
		"code": code, "redirect_uri": appRedirect, "code_verifier": verifier,
	}))
}

// link links a provider account to the holder of access.
func (e *testEnv) link(tb testing.TB, access, provider string) map[string]any {
	tb.Helper()
	loc, verifier := e.startLink(tb, access, provider, "L")
	if loc.Query().Get("code") == "" || loc.Query().Get("state") != "L" {
		tb.Fatalf("link callback redirect %s", loc)
	}
	res := e.confirmLink(tb, access, loc.Query().Get("code"), verifier)
	if res.status != http.StatusOK {
		tb.Fatalf("link confirm: %d %s", res.status, res.body)
	}
	return res.json(tb)
}

func (e *testEnv) meOf(tb testing.TB, access string) map[string]any {
	tb.Helper()
	res := e.do(tb, bearerRequest("/users/me", access))
	if res.status != http.StatusOK {
		tb.Fatalf("/users/me: %d %s", res.status, res.body)
	}
	return res.json(tb)
}

func TestProviderSignInWholeFlow(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-1", Email: "Jane.Doe@Example.com", EmailVerified: true, PreferredUsername: "jane.doe"})

	// The provider URL carries state, nonce and an S256 challenge, and
	// neither our verifier nor anything of the app's PKCE.
	f := e.start(t, "corp", "xyz")
	pu, _ := url.Parse(f.providerURL)
	pq := pu.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if pq.Get(p) == "" {
			t.Errorf("provider URL lacks %s: %s", p, pu)
		}
	}
	if pq.Get("code_challenge_method") != "S256" || pq.Get("client_id") != m.ClientID || pq.Get("redirect_uri") != testIssuer+"/auth/oauth/corp/callback" {
		t.Errorf("provider URL %s", pu)
	}
	loc, res := e.callback(t, authorize(t, f.providerURL))
	if loc == nil {
		t.Fatalf("callback: %d %s", res.status, res.body)
	}
	q := loc.Query()
	if q.Get("state") != "xyz" || len(q.Get("code")) < 40 || q.Has("access_token") || q.Has("error") {
		t.Fatalf("app redirect %s", loc)
	}
	tok := e.exchange(t, q.Get("code"), appRedirect, f.verifier)
	if tok.status != http.StatusOK || tok.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("exchange: %d %s", tok.status, tok.body)
	}
	body := tok.json(t)
	if body["token_type"] != "bearer" || body["refresh_token"] == "" {
		t.Errorf("token response %v", body)
	}
	me := e.meOf(t, body["access_token"].(string))
	if me["username"] != "jane.doe" || me["email"] != "Jane.Doe@Example.com" {
		t.Errorf("new user %v", me)
	}
	// The refresh token works like a password login's.
	if r := e.refresh(t, body["refresh_token"].(string)); r.status != http.StatusOK {
		t.Errorf("refresh: %d %s", r.status, r.body)
	}
	// The identity is listed; signing in again finds the same user.
	ids := e.do(t, bearerRequest("/users/me/identities", body["access_token"].(string)))
	list := ids.json(t)["identities"].([]any)
	if ids.status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["provider"] != "corp" || list[0].(map[string]any)["subject"] != "sub-1" {
		t.Fatalf("identities: %d %s", ids.status, ids.body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-1", Email: "changed@example.com", EmailVerified: true, PreferredUsername: "other"})
	again := e.meOf(t, e.providerToken(t, "corp"))
	if again["id"] != me["id"] {
		t.Errorf("second sign-in is user %v, want %v", again["id"], me["id"])
	}
	// The user has no password: a password login fails as a wrong one.
	if r := e.login(t, "jane.doe", ""); r.status != http.StatusUnprocessableEntity {
		t.Errorf("empty password login: %d", r.status)
	}
	if r := e.login(t, "jane.doe", "any-password-at-all"); r.status != http.StatusUnauthorized || r.code(t) != gatehouse.CodeInvalidCredentials {
		t.Errorf("password login of a password-less user: %d %s", r.status, r.body)
	}
	// Audited: the provider sign-ins, the code exchanges.
	logins := e.auditEvents(t, gatehouse.EventProviderLogin)
	if len(logins) != 2 || logins[0].Outcome != gatehouse.OutcomeSuccess || logins[0].Detail["provider"] != "corp" || logins[0].Detail["created"] != "true" || logins[1].Detail["created"] != "" {
		t.Errorf("provider_login events %+v", logins)
	}
	if ex := e.auditEvents(t, gatehouse.EventCodeExchanged); len(ex) != 2 || ex[0].SessionID == "" {
		t.Errorf("code_exchanged events %+v", ex)
	}
}

func TestProviderStateForgedOrReplayed(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	second := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now), "other": mockProvider(t, "other", second, now)}
	})
	f := e.start(t, "corp", "s")
	cb := authorize(t, f.providerURL)
	cbURL, _ := url.Parse(cb)
	code := cbURL.Query().Get("code")
	state := cbURL.Query().Get("state")
	for _, tc := range []struct{ name, uri string }{
		{"forged", "/auth/oauth/corp/callback?" + url.Values{"code": {code}, "state": {rand.Text()}}.Encode()},
		{"missing", "/auth/oauth/corp/callback?" + url.Values{"code": {code}}.Encode()},
		{"of another provider", "/auth/oauth/other/callback?" + url.Values{"code": {code}, "state": {state}}.Encode()},
	} {
		loc, res := e.callback(t, tc.uri)
		if loc != nil || res.status != http.StatusBadRequest || res.code(t) != gatehouse.CodeInvalidState {
			t.Errorf("%s state: %v %d %s", tc.name, loc, res.status, res.body)
		}
	}
	// A state sent to the wrong provider's callback is spent: the sign-in
	// must start again. A fresh one succeeds once, and its replay fails.
	if loc, res := e.callback(t, cb); loc != nil || res.code(t) != gatehouse.CodeInvalidState {
		t.Errorf("state after a misdirected use: %v %s", loc, res.body)
	}
	f = e.start(t, "corp", "s")
	cb = authorize(t, f.providerURL)
	if loc, res := e.callback(t, cb); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("first use: %v %d %s", loc, res.status, res.body)
	}
	if loc, res := e.callback(t, cb); loc != nil || res.status != http.StatusBadRequest || res.code(t) != gatehouse.CodeInvalidState {
		t.Errorf("replayed state: %v %d %s", loc, res.status, res.body)
	}
	// An expired sign-in (ten minutes) is refused too.
	f = e.start(t, "corp", "s")
	cb = authorize(t, f.providerURL)
	e.clock.Add(10*time.Minute + time.Second)
	if loc, res := e.callback(t, cb); loc != nil || res.code(t) != gatehouse.CodeInvalidState {
		t.Errorf("expired state: %v %s", loc, res.body)
	}
	if ev := e.auditEvents(t, gatehouse.EventProviderLogin); len(ev) < 5 || ev[0].Reason != gatehouse.CodeInvalidState {
		t.Errorf("refused states audited as %+v", ev)
	}
}

func TestProviderNonceReused(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	// Sign-in A's authorization (its nonce) completed under sign-in B's
	// state: the ID token carries A's nonce, B expects its own.
	a := e.start(t, "corp", "a")
	b := e.start(t, "corp", "b")
	au, _ := url.Parse(a.providerURL)
	bu, _ := url.Parse(b.providerURL)
	q := au.Query()
	q.Set("state", bu.Query().Get("state"))
	q.Set("code_challenge", bu.Query().Get("code_challenge")) // so that the provider's PKCE check passes
	au.RawQuery = q.Encode()
	loc, res := e.callback(t, authorize(t, au.String()))
	if loc == nil {
		t.Fatalf("callback: %d %s", res.status, res.body)
	}
	if lq := loc.Query(); lq.Get("error") != "access_denied" || lq.Get("error_code") != gatehouse.CodeUpstreamFailed || lq.Has("code") || lq.Get("state") != "b" {
		t.Errorf("ID token with another sign-in's nonce: app redirect %s", loc)
	}
	if n := len(e.auditEvents(t, gatehouse.EventCodeExchanged)); n != 0 {
		t.Errorf("%d codes exchanged", n)
	}
}

func TestProviderIDTokenExpired(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	f := e.start(t, "corp", "s")
	cb := authorize(t, f.providerURL)
	// The provider's ID token lives ten minutes (mockoidc's AccessTTL);
	// gatehouse's clock reads it eleven minutes later.
	e.clock.Add(9 * time.Minute)
	m.FastForward(-11 * time.Minute)
	loc, res := e.callback(t, cb)
	if loc == nil || loc.Query().Get("error_code") != gatehouse.CodeUpstreamFailed || loc.Query().Has("code") {
		t.Fatalf("expired ID token: %v %d %s", loc, res.status, res.body)
	}
}

// fakeOIDC is an OpenID provider built for the cases mockoidc cannot
// express: mutate changes each ID token's claims, signer signs it.
type fakeOIDC struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	mu       sync.Mutex
	nonces   map[string]string // code → nonce
	mutate   func(jwt.MapClaims)
	signer   *rsa.PrivateKey // nil: key
	userinfo map[string]any
}

func startFakeOIDC(tb testing.TB) *fakeOIDC {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeOIDC{key: key, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := f.srv.URL
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
			"jwks_uri": base + "/jwks", "userinfo_endpoint": base + "/userinfo",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		enc := base64.RawURLEncoding
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
			"n": enc.EncodeToString(key.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := rand.Text()
		f.mu.Lock()
		f.nonces[code] = q.Get("nonce")
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		nonce, ok := f.nonces[r.PostForm.Get("code")]
		delete(f.nonces, r.PostForm.Get("code"))
		mutate, signer := f.mutate, f.signer
		f.mu.Unlock()
		if !ok || r.PostForm.Get("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		now := time.Now()
		claims := jwt.MapClaims{
			"iss": f.srv.URL, "sub": "fake-1", "aud": "fake-client", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"nonce": nonce, "email": "fake@example.com", "email_verified": true, "preferred_username": "fake",
		}
		if mutate != nil {
			mutate(claims)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		if signer == nil {
			signer = key
		}
		idt, err := tok.SignedString(signer)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(f.userinfo)
	})
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOIDC) set(mutate func(jwt.MapClaims), signer *rsa.PrivateKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mutate, f.signer = mutate, signer
}

func fakeProvider(tb testing.TB, typ string, f *fakeOIDC, now func() time.Time) gatehouse.Upstream {
	tb.Helper()
	up, err := upstream.New(upstream.Config{
		Name: "fake", Type: typ, Issuer: f.srv.URL, ClientID: "fake-client", ClientSecret: "fake-secret",
		RedirectURL: testIssuer + "/auth/oauth/fake/callback",
	}, f.srv.Client(), now)
	if err != nil {
		tb.Fatal(err)
	}
	return up
}

// Each ID token here is refused, and no one is signed in.
func TestProviderIDTokenRefused(t *testing.T) {
	t.Parallel()
	f := startFakeOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"fake": fakeProvider(t, upstream.TypeOIDC, f, now)}
	})
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(jwt.MapClaims)
		signer *rsa.PrivateKey
	}{
		{"wrong audience", func(c jwt.MapClaims) { c["aud"] = "another-client" }, nil},
		{"wrong issuer", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }, nil},
		{"expired", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, nil},
		{"no nonce", func(c jwt.MapClaims) { delete(c, "nonce") }, nil},
		{"other nonce", func(c jwt.MapClaims) { c["nonce"] = "guessed" }, nil},
		{"forged signature", nil, otherKey},
		{"no subject", func(c jwt.MapClaims) { delete(c, "sub") }, nil},
	}
	for _, tc := range tests {
		f.set(tc.mutate, tc.signer)
		fl := e.start(t, "fake", "s")
		loc, res := e.callback(t, authorize(t, fl.providerURL))
		if loc == nil || loc.Query().Get("error_code") != gatehouse.CodeUpstreamFailed || loc.Query().Has("code") {
			t.Errorf("%s: %v %d %s", tc.name, loc, res.status, res.body)
		}
	}
	if _, err := e.users.UserByUsername(t.Context(), "fake"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("a refused token made a user: %v", err)
	}
	// The control: the same provider, a good token.
	f.set(nil, nil)
	if me := e.meOf(t, e.providerToken(t, "fake")); me["username"] != "fake" {
		t.Errorf("good token: %v", me)
	}
}

// Kakao's ID token says nothing of email_verified: the user-info endpoint
// is asked, and believed only about the same subject.
func TestProviderEmailVerifiedFromUserInfo(t *testing.T) {
	t.Parallel()
	f := startFakeOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"fake": fakeProvider(t, upstream.TypeKakao, f, now)}
	})
	f.set(func(c jwt.MapClaims) {
		delete(c, "email_verified")
		c["sub"] = "k1"
		c["email"] = "k1@example.com"
		c["preferred_username"] = "k1"
	}, nil)
	f.mu.Lock()
	f.userinfo = map[string]any{"sub": "someone-else", "email": "k1@example.com", "email_verified": true}
	f.mu.Unlock()
	if me := e.meOf(t, e.providerToken(t, "fake")); me["email"] != "" {
		t.Errorf("email believed from another subject's user info: %v", me)
	}
	f.set(func(c jwt.MapClaims) {
		delete(c, "email_verified")
		c["sub"] = "k2"
		c["email"] = "k2@example.com"
		c["preferred_username"] = "k2"
	}, nil)
	f.mu.Lock()
	f.userinfo = map[string]any{"sub": "k2", "email": "k2@example.com", "email_verified": "true"}
	f.mu.Unlock()
	if me := e.meOf(t, e.providerToken(t, "fake")); me["email"] != "k2@example.com" {
		t.Errorf("verified email from user info: %v", me)
	}
}

func TestProviderEmailOfExistingAccountNeverLinks(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	access := e.token(t, "alice", "alice@example.com", "correct horse battery staple")

	// An attacker's provider account claims alice's email, unverified —
	// and then verified: neither links nor signs in, nor makes a user.
	for _, verified := range []bool{false, true} {
		m.QueueUser(&mockoidc.MockUser{Subject: "attacker", Email: "ALICE@example.com", EmailVerified: verified, PreferredUsername: "alice"})
		f := e.start(t, "corp", "s")
		loc, res := e.callback(t, authorize(t, f.providerURL))
		if loc == nil || loc.Query().Get("error_code") != gatehouse.CodeAccountExists || loc.Query().Get("error") != "access_denied" || loc.Query().Has("code") {
			t.Fatalf("verified=%v: %v %d %s", verified, loc, res.status, res.body)
		}
		if !strings.Contains(loc.Query().Get("error_description"), "sign in to it") {
			t.Errorf("error_description %q", loc.Query().Get("error_description"))
		}
	}
	if _, err := e.identities.IdentityBySubject(t.Context(), "corp", "attacker"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Fatalf("identity linked on an email: %v", err)
	}
	if list, _ := e.users.ListUsers(t.Context(), 0, 10); len(list) != 1 {
		t.Fatalf("%d users, want alice alone", len(list))
	}

	// Alice, signed in, links her provider account: that is the proof.
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-corp", Email: "alice@example.com", EmailVerified: true})
	if ident := e.link(t, access, "corp"); ident["provider"] != "corp" || ident["subject"] != "alice-at-corp" || ident["email_verified"] != true {
		t.Errorf("linked identity %v", ident)
	}
	aliceID := e.meOf(t, access)["id"]
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-corp", Email: "alice@example.com", EmailVerified: true})
	if me := e.meOf(t, e.providerToken(t, "corp")); me["id"] != aliceID {
		t.Errorf("sign-in through the linked identity is user %v, want %v", me["id"], aliceID)
	}
	// Another user cannot link the same provider account.
	bob := e.token(t, "bob", "bob@example.com", "correct horse battery staple")
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-at-corp"})
	if loc, _ := e.startLink(t, bob, "corp", ""); loc.Query().Get("error_code") != gatehouse.CodeIdentityTaken || loc.Query().Has("code") {
		t.Errorf("link of another user's identity: %v", loc)
	}
	if ev := e.auditEvents(t, gatehouse.EventIdentityLinked); len(ev) != 2 || ev[0].Outcome != gatehouse.OutcomeSuccess || ev[1].Reason != gatehouse.CodeIdentityTaken {
		t.Errorf("identity_linked events %+v", ev)
	}
	// Refused starts of a link.
	_, challenge := pkce()
	for name, edit := range map[string]func(map[string]any){
		"unknown provider":   func(b map[string]any) { b["provider"] = "nope" },
		"foreign redirect":   func(b map[string]any) { b["redirect_uri"] = "https://evil.example/cb" },
		"redirect by prefix": func(b map[string]any) { b["redirect_uri"] = appRedirect + "/../x" },
		"missing redirect":   func(b map[string]any) { delete(b, "redirect_uri") },
		"missing provider":   func(b map[string]any) { delete(b, "provider") },
		"missing challenge":  func(b map[string]any) { delete(b, "code_challenge") },
		"plain challenge":    func(b map[string]any) { b["code_challenge_method"] = "plain" },
		"state not a string": func(b map[string]any) { b["state"] = 5 },
	} {
		body := map[string]any{"provider": "corp", "redirect_uri": appRedirect, "code_challenge": challenge, "code_challenge_method": "S256"}
		edit(body)
		if res := e.do(t, authed(http.MethodPost, "/users/me/identities", access, body)); res.status < 400 || res.status >= 500 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
}

func TestUnlinkLastIdentityRefused(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now), "second": mockProvider(t, "second", m, now)}
	})
	m.QueueUser(&mockoidc.MockUser{Subject: "u1", PreferredUsername: "nopass"})
	access := e.providerToken(t, "corp")
	if me := e.meOf(t, access); me["email"] != "" || me["username"] != "nopass" {
		t.Errorf("user without email: %v", me)
	}
	ids := e.do(t, bearerRequest("/users/me/identities", access)).json(t)["identities"].([]any)
	first := ids[0].(map[string]any)["id"].(float64)
	del := func(id any) response {
		return e.do(t, authed(http.MethodDelete, "/users/me/identities/"+fmt.Sprint(id), access, nil))
	}
	if res := del(first); res.status != http.StatusConflict || res.code(t) != gatehouse.CodeLastSignInMethod {
		t.Fatalf("unlink of the last identity: %d %s", res.status, res.body)
	}
	// A second identity, linked: then the first may go, the second not.
	m.QueueUser(&mockoidc.MockUser{Subject: "u1-second"})
	e.link(t, access, "second")
	if res := del(first); res.status != http.StatusNoContent {
		t.Fatalf("unlink one of two: %d %s", res.status, res.body)
	}
	ids = e.do(t, bearerRequest("/users/me/identities", access)).json(t)["identities"].([]any)
	second := ids[0].(map[string]any)["id"]
	if res := del(second); res.status != http.StatusConflict {
		t.Errorf("unlink of the new last identity: %d %s", res.status, res.body)
	}
	for _, bad := range []any{"abc", "0", "999999", first} {
		if res := del(bad); res.status != http.StatusNotFound {
			t.Errorf("unlink %v: %d %s", bad, res.status, res.body)
		}
	}
	// Setting a password (no current one to give) makes it a way in.
	res := e.do(t, authed(http.MethodPost, "/users/me/password", access, map[string]string{"current_password": "", "new_password": "a long fresh passphrase 42"}))
	if res.status != http.StatusNoContent {
		t.Fatalf("set first password: %d %s", res.status, res.body)
	}
	if res := del(second); res.status != http.StatusNoContent {
		t.Errorf("unlink with a password set: %d %s", res.status, res.body)
	}
	if r := e.login(t, "nopass", "a long fresh passphrase 42"); r.status != http.StatusOK {
		t.Errorf("login with the new password: %d %s", r.status, r.body)
	}
	// Now that a password is set, it must be given to change it.
	res = e.do(t, authed(http.MethodPost, "/users/me/password", access, map[string]string{"current_password": "", "new_password": "another fresh passphrase 43"}))
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("change without the current password: %d %s", res.status, res.body)
	}
	ev := e.auditEvents(t, gatehouse.EventIdentityUnlinked)
	// refused, unlinked, refused, two unknown ids, unlinked.
	if len(ev) != 6 || ev[0].Reason != gatehouse.CodeLastSignInMethod || ev[1].Outcome != gatehouse.OutcomeSuccess || ev[1].Detail["provider"] != "corp" {
		t.Errorf("identity_unlinked events %+v", ev)
	}
}

func TestProviderCodeExchange(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	wantGrantError := func(name string, res response) {
		t.Helper()
		if res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_grant" {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	// A wrong verifier is refused, and spends the code.
	code, verifier := e.signIn(t, "corp")
	other, _ := pkce()
	wantGrantError("wrong verifier", e.exchange(t, code, appRedirect, other))
	wantGrantError("right verifier after a wrong one", e.exchange(t, code, appRedirect, verifier))
	// The code is good once.
	code, verifier = e.signIn(t, "corp")
	if res := e.exchange(t, code, appRedirect, verifier); res.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", res.status, res.body)
	}
	wantGrantError("second use", e.exchange(t, code, appRedirect, verifier))
	// Bound to its redirect_uri, and to sixty seconds.
	code, verifier = e.signIn(t, "corp")
	wantGrantError("other redirect_uri", e.exchange(t, code, "myapp://cb", verifier))
	code, verifier = e.signIn(t, "corp")
	e.clock.Add(61 * time.Second)
	wantGrantError("expired", e.exchange(t, code, appRedirect, verifier))
	wantGrantError("unknown code", e.exchange(t, rand.Text(), appRedirect, verifier))
	wantGrantError("malformed verifier", e.exchange(t, rand.Text(), appRedirect, "short"))
	wantGrantError("huge code", e.exchange(t, strings.Repeat("a", 10000), appRedirect, verifier))
	res := e.do(t, tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {appRedirect}}))
	if res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_request" {
		t.Errorf("missing code_verifier: %d %s", res.status, res.body)
	}
	if ev := e.auditEvents(t, gatehouse.EventCodeExchanged); len(ev) < 6 || ev[0].Outcome != gatehouse.OutcomeFailure {
		t.Errorf("code_exchanged events %+v", ev)
	}
}

func TestProviderStartRefused(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	_, challenge := pkce()
	good := url.Values{"redirect_uri": {appRedirect}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s"}}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q.Encode()
	}
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown provider", "/auth/oauth/nope?" + good.Encode(), 404, gatehouse.CodeNotFound},
		{"foreign redirect_uri", "/auth/oauth/corp?" + with("redirect_uri", "https://evil.example/callback"), 400, gatehouse.CodeInvalidRedirectURI},
		{"redirect_uri by prefix", "/auth/oauth/corp?" + with("redirect_uri", appRedirect+"x"), 400, gatehouse.CodeInvalidRedirectURI},
		{"no redirect_uri", "/auth/oauth/corp?" + with("redirect_uri", ""), 400, gatehouse.CodeInvalidRequest},
		{"no challenge", "/auth/oauth/corp?" + with("code_challenge", ""), 400, gatehouse.CodeInvalidRequest},
		{"plain method", "/auth/oauth/corp?" + with("code_challenge_method", "plain"), 400, gatehouse.CodeInvalidRequest},
		{"no method", "/auth/oauth/corp?" + with("code_challenge_method", ""), 400, gatehouse.CodeInvalidRequest},
		{"bad challenge", "/auth/oauth/corp?" + with("code_challenge", "abc"), 400, gatehouse.CodeInvalidRequest},
		{"long state", "/auth/oauth/corp?" + with("state", strings.Repeat("s", 600)), 400, gatehouse.CodeInvalidRequest},
		{"repeated", "/auth/oauth/corp?" + good.Encode() + "&state=again", 400, gatehouse.CodeInvalidRequest},
	}
	for _, tc := range tests {
		res := e.do(t, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if res.status != tc.status || res.code(t) != tc.code || res.header.Get("Location") != "" {
			t.Errorf("%s: %d %s", tc.name, res.status, res.body)
		}
	}
	// Discovery names the authorization_code grant.
	if res := e.do(t, httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil)); !strings.Contains(string(res.body), `"authorization_code"`) {
		t.Errorf("discovery: %s", res.body)
	}
	// The provider list.
	if res := e.do(t, httptest.NewRequest(http.MethodGet, "/auth/oauth", nil)); res.status != 200 ||
		!strings.Contains(string(res.body), `"providers":["corp"`) || !strings.Contains(string(res.body), `"details":[{"name":"corp","label":"Corp SSO"}`) {
		t.Errorf("provider list: %d %s", res.status, res.body)
	}
}

// Without providers the routes do not exist, and the token endpoint knows
// no authorization_code grant.
func TestNoProvidersConfigured(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOptions{})
	for _, p := range []string{"/auth/oauth/google?redirect_uri=x", "/auth/oauth/google/callback?state=x&code=y"} {
		if res := e.do(t, httptest.NewRequest(http.MethodGet, p, nil)); res.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.status)
		}
	}
	if res := e.do(t, httptest.NewRequest(http.MethodGet, "/auth/oauth", nil)); res.status != 200 || !strings.Contains(string(res.body), `"providers":[]`) || !strings.Contains(string(res.body), `"details":[]`) {
		t.Errorf("provider list: %d %s", res.status, res.body)
	}
	access := e.token(t, "carol", "carol@example.com", "correct horse battery staple")
	if res := e.do(t, bearerRequest("/users/me/identities", access)); res.status != 200 {
		t.Errorf("identities: %d %s", res.status, res.body)
	}
	res := e.exchange(t, "x", appRedirect, strings.Repeat("v", 43))
	if res.status != http.StatusBadRequest || res.json(t)["error"] != "unsupported_grant_type" {
		t.Errorf("authorization_code grant: %d %s", res.status, res.body)
	}
}

// A link URL started by one user and completed in another user's browser
// links nothing: the code comes back to the victim's app, which cannot
// confirm it — it is neither the starter's session nor the starter's
// verifier. Link and sign-in codes are not interchangeable.
func TestLinkCodeBoundToStarter(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	mallory := e.token(t, "mallory", "mallory@example.com", "correct horse battery staple")
	victim := e.token(t, "victim", "victim@example.com", "correct horse battery staple")
	wantGrant := func(name string, res response) {
		t.Helper()
		if res.status != http.StatusBadRequest || res.code(t) != gatehouse.CodeInvalidGrant {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	// Mallory starts a link; the victim's browser completes it at the
	// provider with the victim's account.
	m.QueueUser(&mockoidc.MockUser{Subject: "victim-at-corp"})
	loc, malloryVerifier := e.startLink(t, mallory, "corp", "")
	code := loc.Query().Get("code")
	_, victimVerifier := pkce()
	wantGrant("victim's session, victim's verifier", e.confirmLink(t, victim, code, victimVerifier))
	m.QueueUser(&mockoidc.MockUser{Subject: "victim-at-corp"})
	loc, malloryVerifier = e.startLink(t, mallory, "corp", "")
	wantGrant("victim's session, the starter's verifier", e.confirmLink(t, victim, loc.Query().Get("code"), malloryVerifier))
	if _, err := e.identities.IdentityBySubject(t.Context(), "corp", "victim-at-corp"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Fatalf("victim's provider account linked: %v", err)
	}
	// A link's code is no sign-in code, and a sign-in's code links nothing.
	m.QueueUser(&mockoidc.MockUser{Subject: "m2"})
	loc, v := e.startLink(t, mallory, "corp", "")
	wantGrant("link code at the token endpoint", e.exchange(t, loc.Query().Get("code"), appRedirect, v))
	m.QueueUser(&mockoidc.MockUser{Subject: "m3"})
	signInCode, v := e.signIn(t, "corp")
	wantGrant("sign-in code confirmed as a link", e.confirmLink(t, mallory, signInCode, v))
	// The starter's own confirmation works, once; confirming an existing
	// link again through a new code answers it again.
	m.QueueUser(&mockoidc.MockUser{Subject: "m4"})
	loc, v = e.startLink(t, mallory, "corp", "")
	if res := e.confirmLink(t, mallory, loc.Query().Get("code"), v); res.status != http.StatusOK {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	wantGrant("second confirmation", e.confirmLink(t, mallory, loc.Query().Get("code"), v))
	m.QueueUser(&mockoidc.MockUser{Subject: "m4"})
	if ident := e.link(t, mallory, "corp"); ident["subject"] != "m4" {
		t.Errorf("relink %v", ident)
	}
	ids := e.do(t, bearerRequest("/users/me/identities", mallory)).json(t)["identities"].([]any)
	if len(ids) != 1 {
		t.Errorf("mallory's identities %v", ids)
	}
	// Malformed confirmations.
	for name, body := range map[string]any{
		"missing verifier": map[string]string{"code": "x", "redirect_uri": appRedirect},
		"code not string":  map[string]any{"code": 1, "redirect_uri": appRedirect, "code_verifier": "v"},
	} {
		if res := e.do(t, authed(http.MethodPost, "/users/me/identities/confirm", mallory, body)); res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
}
