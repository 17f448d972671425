package verifier_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

func TestVerifyAccepts(t *testing.T) {
	es, rs, ed := newKey("ES256"), newKey("RS256"), newKey("EdDSA")
	f := newFakeIssuer(t, es, rs, ed)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	now := clk.Now()

	tests := []struct {
		name  string
		key   *testKey
		edits []tokenEdit
	}{
		{"ES256", es, nil},
		{"RS256", rs, nil},
		{"EdDSA", ed, nil},
		{"typ application/at+jwt", es, []tokenEdit{withHeader("typ", "application/at+jwt")}},
		{"typ in capitals", es, []tokenEdit{withHeader("typ", "AT+JWT")}},
		{"expired within the leeway", es, []tokenEdit{withClaim("exp", now.Add(-20*time.Second).Unix())}},
		{"nbf within the leeway", es, []tokenEdit{withClaim("nbf", now.Add(20*time.Second).Unix())}},
		{"audience among several", es, []tokenEdit{withClaim("aud", []string{"billing", "notes"})}},
		{"no nbf", es, []tokenEdit{withClaim("nbf", nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustVerify(t, v, f.token(tt.key, now, tt.edits...))
			if c.Subject != "42" || c.Username != "alice" || c.SessionID != "s1" || c.ClientID != "notes-web" ||
				c.Issuer != f.URL || c.ID == "" || !slices.Contains(c.Audience, "notes") || !c.IssuedAt.Equal(now) {
				t.Errorf("claims = %+v", c)
			}
			if len(tt.edits) == 0 && (!c.ExpiresAt.Equal(now.Add(30*time.Minute)) || !c.NotBefore.Equal(now)) {
				t.Errorf("times = %+v", c)
			}
			if !c.HasScope("notes:read") || !c.HasScope("profile") || c.HasScope("notes") || c.HasScope("") {
				t.Errorf("HasScope wrong for scope %q", c.Scope)
			}
		})
	}
}

// TestVerifyRefusesAttacks tries every trick of RFC 8725 §2 and a few more;
// each must be refused as an invalid token, without fetching anything a
// token points to.
func TestVerifyRefusesAttacks(t *testing.T) {
	es, rs, ed := newKey("ES256"), newKey("RS256"), newKey("EdDSA")
	f := newFakeIssuer(t, es, rs, ed)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	now := clk.Now()

	var attackerHits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
	}))
	defer attacker.Close()
	evil := newKey("ES256") // the attacker's own key, never published by the issuer
	es384 := newKey("ES384")

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"not a JWS", "not.a.token"},
		{"two segments", "eyJhbGciOiJFUzI1NiJ9.e30"},
		{"JWE (five segments)", "a.b.c.d.e"},
		{"oversize", f.token(es, now, withClaim("pad", strings.Repeat("x", verifier.MaxTokenBytes)))},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, es.kid, f.claims(now))},
		{"alg NONE, hand-made", rawToken(`{"alg":"NONE","typ":"at+jwt","kid":"`+es.kid+`"}`, `{"sub":"42","sid":"s1"}`, nil)},
		{"alg missing", rawToken(`{"typ":"at+jwt","kid":"`+es.kid+`"}`, `{"sub":"42","sid":"s1"}`, []byte("sig"))},
		{"HS256 keyed with the RSA public key PEM", sign(jwt.SigningMethodHS256, rs.publicPEM(), rs.kid, f.claims(now))},
		{"HS256 keyed with the RSA public key DER", sign(jwt.SigningMethodHS256, rs.publicDER(), rs.kid, f.claims(now))},
		{"HS256 keyed with the EC public key PEM", sign(jwt.SigningMethodHS256, es.publicPEM(), es.kid, f.claims(now))},
		{"HS256 keyed with the EC public key DER", sign(jwt.SigningMethodHS256, es.publicDER(), es.kid, f.claims(now))},
		{"RS256 signature under the EC key's kid", sign(jwt.SigningMethodRS256, rs.priv, es.kid, f.claims(now))},
		{"ES256 signature under the RSA key's kid", sign(jwt.SigningMethodES256, es.priv, rs.kid, f.claims(now))},
		{"EdDSA signature under the EC key's kid", sign(jwt.SigningMethodEdDSA, ed.priv, es.kid, f.claims(now))},
		{"PS256 with the RS256 key", sign(jwt.SigningMethodPS256, rs.priv, rs.kid, f.claims(now))},
		{"ES384, not an accepted algorithm", sign(jwt.SigningMethodES384, es384.priv, es384.kid, f.claims(now))},
		{"signed by another key under a published kid", sign(jwt.SigningMethodES256, evil.priv, es.kid, f.claims(now))},
		{"payload changed after signing", tamper(f.token(es, now), map[string]any{"sub": "1", "sid": "s1", "exp": now.Add(time.Hour).Unix(), "iss": f.URL, "aud": "notes"})},
		{"unknown kid", f.token(evil, now)},
		{"no kid", f.token(es, now, withHeader("kid", nil))},
		{"kid not a string", f.token(es, now, withHeader("kid", 7))},
		{"typ JWT", f.token(es, now, withHeader("typ", "JWT"))},
		{"typ missing", f.token(es, now, withHeader("typ", nil))},
		{"typ application/jwt", f.token(es, now, withHeader("typ", "application/jwt"))},
		{"crit header", f.token(es, now, withHeader("crit", []string{"exp"}))},
		{"crit empty", f.token(es, now, withHeader("crit", []string{}))},
		{"jku to the attacker", sign(jwt.SigningMethodES256, evil.priv, evil.kid, f.claims(now), withHeader("jku", attacker.URL+"/jwks"))},
		{"x5u to the attacker", sign(jwt.SigningMethodES256, evil.priv, evil.kid, f.claims(now), withHeader("x5u", attacker.URL+"/cert.pem"))},
		{"embedded jwk", sign(jwt.SigningMethodES256, evil.priv, "", f.claims(now), withHeader("kid", nil), withHeader("jwk", evil.jwk))},
		{"x5c", sign(jwt.SigningMethodES256, evil.priv, evil.kid, f.claims(now), withHeader("x5c", []string{"MIIB"}))},
		{"expired beyond the leeway", f.token(es, now, withClaim("exp", now.Add(-31*time.Second).Unix()))},
		{"no exp", f.token(es, now, withClaim("exp", nil))},
		{"nbf beyond the leeway", f.token(es, now, withClaim("nbf", now.Add(31*time.Second).Unix()))},
		{"issued in the future", f.token(es, now, withClaim("iat", now.Add(31*time.Second).Unix()))},
		{"wrong issuer", f.token(es, now, withClaim("iss", attacker.URL))},
		{"issuer with a trailing slash", f.token(es, now, withClaim("iss", f.URL+"/"))},
		{"no issuer", f.token(es, now, withClaim("iss", nil))},
		{"wrong audience", f.token(es, now, withClaim("aud", "billing"))},
		{"no audience", f.token(es, now, withClaim("aud", nil))},
		{"no sid", f.token(es, now, withClaim("sid", nil))},
		{"empty sid", f.token(es, now, withClaim("sid", ""))},
		{"sid not a string", f.token(es, now, withClaim("sid", 12))},
		{"no sub", f.token(es, now, withClaim("sub", nil))},
		{"integer sub, as the tutorial issues", f.token(es, now, withClaim("sub", 42))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("err = %v, want one matching ErrInvalidToken", err)
			}
		})
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("the attacker's server was fetched %d times", n)
	}
}

func TestVerifyHMAC(t *testing.T) {
	secret := []byte("a-tutorial-deployment-secret-of-32-bytes-or-more")
	clk := newClock()
	now := clk.Now()
	// No server at all: an HMAC deployment needs no discovery or JWKS.
	const issuer = "https://auth.example.com"
	v := newVerifier(t, verifier.Config{Issuer: issuer, HMACSecret: secret, Now: clk.Now, Logger: discardLogger()})
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": issuer, "sub": "42", "sid": "s1", "username": "alice", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}
	}
	rs := newKey("RS256")

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"HS256 with the secret", sign(jwt.SigningMethodHS256, secret, "", claims()), true},
		{"HS256 without kid", sign(jwt.SigningMethodHS256, secret, "", claims(), withHeader("kid", nil)), true},
		{"HS256 with another secret", sign(jwt.SigningMethodHS256, []byte("another-secret-of-more-than-32-bytes!!"), "", claims()), false},
		{"HS384 with the secret", sign(jwt.SigningMethodHS384, secret, "", claims()), false},
		{"RS256", sign(jwt.SigningMethodRS256, rs.priv, rs.kid, claims()), false},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims()), false},
		{"typ JWT", sign(jwt.SigningMethodHS256, secret, "", claims(), withHeader("typ", "JWT")), false},
		{"wrong issuer", sign(jwt.SigningMethodHS256, secret, "", claims(), withClaim("iss", "https://evil.example")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	es := newKey("ES256")
	f := newFakeIssuer(t, es)
	mismatched := newFakeIssuer(t, es)
	mismatched.setDiscoveryIssuer("https://auth.example.com")
	noFeed := newFakeIssuer(t, es)
	noFeed.noFeed = true
	symmetric := newFakeIssuer(t)
	symmetric.keys = []*testKey{{kid: "hs", jwk: map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": "c2VjcmV0"}}}
	feed := func(edit func(*verifier.RevocationConfig)) *verifier.RevocationConfig {
		rc := feedConfig()
		edit(rc)
		return rc
	}
	secret := []byte(strings.Repeat("s", 32))

	tests := []struct {
		name string
		cfg  verifier.Config
		want string
	}{
		{"no key source", verifier.Config{}, "set Issuer, JWKSURL or HMACSecret"},
		{"leeway above a minute", verifier.Config{Issuer: f.URL, Leeway: 61 * time.Second}, "Leeway"},
		{"negative leeway", verifier.Config{Issuer: f.URL, Leeway: -time.Second}, "Leeway"},
		{"alg none", verifier.Config{Issuer: f.URL, Algorithms: []string{"none"}}, "not supported"},
		{"HS256 without a secret", verifier.Config{Issuer: f.URL, Algorithms: []string{"HS256"}}, "not supported"},
		{"HMAC secret and JWKS URL", verifier.Config{JWKSURL: f.URL + "/jwks", HMACSecret: secret}, "exclude"},
		{"short HMAC secret", verifier.Config{HMACSecret: []byte("short")}, "32 bytes"},
		{"HMAC secret with RS256", verifier.Config{HMACSecret: secret, Algorithms: []string{"RS256"}}, "only HS256"},
		{"plain http to a remote host", verifier.Config{Issuer: "http://auth.example.com"}, "https"},
		{"plain http JWKS URL", verifier.Config{JWKSURL: "http://auth.example.com/jwks"}, "https"},
		{"refresh interval below the minimum", verifier.Config{Issuer: f.URL, MinRefreshInterval: time.Minute, RefreshInterval: time.Second}, "RefreshInterval"},
		{"discovery names another issuer", verifier.Config{Issuer: mismatched.URL}, "names issuer"},
		{"no discovery document", verifier.Config{Issuer: f.URL + "/tenant"}, "404"},
		{"issuer unreachable", verifier.Config{Issuer: "http://127.0.0.1:1"}, "discovery"},
		{"JWKS without a usable key", verifier.Config{Issuer: symmetric.URL}, "no usable key"},
		{"JWKS of other algorithms only", verifier.Config{Issuer: f.URL, Algorithms: []string{"RS256"}}, "no usable key"},
		{"feed without credentials", verifier.Config{Issuer: f.URL, Revocations: &verifier.RevocationConfig{}}, "ClientID and ClientSecret"},
		{"feed with a wrong secret", verifier.Config{Issuer: f.URL, Revocations: feed(func(rc *verifier.RevocationConfig) { rc.ClientSecret = "wrong" })}, "401 invalid_client"},
		{"feed not found", verifier.Config{Issuer: f.URL, Revocations: feed(func(rc *verifier.RevocationConfig) { rc.URL = f.URL + "/nope" })}, "404"},
		{"feed not published", verifier.Config{Issuer: noFeed.URL, Revocations: feedConfig()}, "revocation_feed_endpoint"},
		{"feed URL needs an issuer", verifier.Config{JWKSURL: f.URL + "/jwks", Revocations: feedConfig()}, "Revocations.URL"},
		{"feed wait above a minute", verifier.Config{Issuer: f.URL, Revocations: feed(func(rc *verifier.RevocationConfig) { rc.Wait = 61 * time.Second })}, "Wait"},
		{"unknown policy", verifier.Config{Issuer: f.URL, Revocations: feed(func(rc *verifier.RevocationConfig) { rc.Policy = 7 })}, "Policy"},
		{"client timeout shorter than the long poll", verifier.Config{Issuer: f.URL, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Revocations: feedConfig()}, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = discardLogger()
			v, err := verifier.New(context.Background(), tt.cfg)
			if err == nil {
				v.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), feedClientSecret) {
				t.Errorf("the feed secret is in the error: %v", err)
			}
		})
	}
}

// A redirect to another host could hand over an attacker's keys: refused,
// and the other host is never asked.
func TestRedirectToAnotherOriginRefused(t *testing.T) {
	var hits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()
	_, err := verifier.New(context.Background(), verifier.Config{JWKSURL: redirector.URL + "/jwks", Logger: discardLogger()})
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("err = %v", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the other origin was fetched")
	}
}

// Anyone can send tokens with made-up kids; however many arrive, the JWKS is
// fetched at most once per MinRefreshInterval.
func TestUnknownKidRefreshIsRateLimited(t *testing.T) {
	f := newFakeIssuer(t, newKey("ES256"))
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	if n := f.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times at start", n)
	}
	flood := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), f.token(newKey("EdDSA"), clk.Now())); err == nil {
					t.Error("a token with an unknown kid was accepted")
				}
			})
		}
		wg.Wait()
	}

	clk.Advance(31 * time.Second) // past the interval since the first fetch
	flood(50)
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("after a flood of 50 unknown kids: %d fetches, want 2", n)
	}
	clk.Advance(20 * time.Second)
	flood(20)
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("20 s later: %d fetches, want still 2", n)
	}
	clk.Advance(11 * time.Second)
	flood(20)
	if n := f.jwksHits.Load(); n != 3 {
		t.Errorf("after the interval: %d fetches, want 3", n)
	}
	if st := v.Stats(); st.KeyRefreshes != 3 || st.KeyRefreshFailures != 0 || st.Keys != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// Gatehouse rotates its key: a token with the new kid is accepted after one
// refresh, tokens of the old key keep verifying while it is published, and
// once it is removed they are refused (even those verified before).
func TestKeyRotation(t *testing.T) {
	oldKey, newK := newKey("ES256"), newKey("EdDSA")
	f := newFakeIssuer(t, oldKey)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	oldToken := f.token(oldKey, clk.Now())
	mustVerify(t, v, oldToken)

	clk.Advance(time.Minute)
	f.publish(newK, oldKey)
	newToken := f.token(newK, clk.Now())
	mustVerify(t, v, newToken)
	mustVerify(t, v, oldToken)
	if n := f.jwksHits.Load(); n != 2 {
		t.Errorf("%d JWKS fetches, want 2", n)
	}

	// The old key leaves the set; the periodic refresh (10 min) notices.
	f.publish(newK)
	clk.Advance(10 * time.Minute)
	mustVerify(t, v, newToken) // starts the refresh in the background
	waitFor(t, "the periodic refresh", func() bool { return v.Stats().KeyRefreshes == 3 })
	if _, err := v.Verify(context.Background(), oldToken); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("token of a removed key: err = %v", err)
	}
	mustVerify(t, v, newToken)
	if st := v.Stats(); st.Keys != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A JWKS max-age shorter than RefreshInterval brings the periodic refresh
// forward, but never below MinRefreshInterval.
func TestPeriodicRefreshFollowsMaxAge(t *testing.T) {
	k := newKey("ES256")
	tests := []struct {
		name   string
		maxAge int
		after  time.Duration // the refresh happens after this long, not before
	}{
		{"no max-age", 0, 10 * time.Minute},
		{"max-age 2 minutes", 120, 2 * time.Minute},
		{"max-age 1 second", 1, 30 * time.Second},
		{"max-age 1 hour", 3600, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIssuer(t, k)
			f.maxAge = tt.maxAge
			clk := newClock()
			v := newVerifier(t, f.config(clk))
			token := f.token(k, clk.Now())
			clk.Advance(tt.after - time.Second)
			mustVerify(t, v, token)
			time.Sleep(20 * time.Millisecond)
			if n := f.jwksHits.Load(); n != 1 {
				t.Fatalf("refreshed before %v", tt.after)
			}
			clk.Advance(time.Second)
			mustVerify(t, v, token)
			waitFor(t, "the refresh", func() bool { return v.Stats().KeyRefreshes == 2 })
		})
	}
}

// The issuer down does not lose the keys we have.
func TestRefreshFailureKeepsKeys(t *testing.T) {
	k := newKey("ES256")
	f := startFakeIssuer(k)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	token := f.token(k, clk.Now())
	f.Close()
	clk.Advance(11 * time.Minute)
	mustVerify(t, v, token)
	waitFor(t, "the failed refresh", func() bool { return v.Stats().KeyRefreshFailures == 1 })
	clk.Advance(time.Minute)
	mustVerify(t, v, f.token(k, clk.Now()))
	if st := v.Stats(); st.Keys != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestJWKSKeysChecked(t *testing.T) {
	good := newKey("ES256")
	rs := newKey("RS256")
	twin := newKey("EdDSA")
	twin2 := newKey("EdDSA")
	twin.kid, twin2.kid = "twin", "twin"
	twin.jwk["kid"], twin2.jwk["kid"] = "twin", "twin"
	withJWK := func(k *testKey, edit func(map[string]any)) *testKey {
		c := *k
		c.kid = rand.Text()[:8]
		c.jwk = map[string]any{}
		for name, v := range k.jwk {
			c.jwk[name] = v
		}
		c.jwk["kid"] = c.kid
		edit(c.jwk)
		return &c
	}
	tests := []struct {
		name string
		key  *testKey
	}{
		{"use enc", withJWK(good, func(j map[string]any) { j["use"] = "enc" })},
		{"key_ops without verify", withJWK(good, func(j map[string]any) { j["key_ops"] = []string{"encrypt"} })},
		{"private part published", withJWK(good, func(j map[string]any) { j["d"] = "AAAA" })},
		{"EC alg not fitting the curve", withJWK(good, func(j map[string]any) { j["alg"] = "ES384" })},
		{"EC point off the curve", withJWK(good, func(j map[string]any) { j["y"] = j["x"] })},
		{"RSA key without alg", withJWK(rs, func(j map[string]any) { delete(j, "alg") })},
		{"RSA key of 1024 bits", withJWK(rs, func(j map[string]any) { j["n"] = b64.EncodeToString(make([]byte, 128)) })},
		{"two keys under one kid", twin},
	}
	keys := []*testKey{good}
	for _, tt := range tests {
		keys = append(keys, tt.key)
	}
	keys = append(keys, twin2)
	f := newFakeIssuer(t, keys...)
	clk := newClock()
	cfg := f.config(clk)
	var logs logBuffer
	cfg.Logger = newTextLogger(&logs)
	v := newVerifier(t, cfg)
	if st := v.Stats(); st.Keys != 1 {
		t.Errorf("%d usable keys, want 1 (only the good one); log:\n%s", st.Keys, &logs)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), f.token(tt.key, clk.Now())); err == nil {
				t.Error("a token of a refused key was accepted")
			}
		})
	}
	mustVerify(t, v, f.token(good, clk.Now()))
}

// A cached token is still checked against the clock and revocations, and the
// claims returned are the caller's own.
func TestVerifiedTokenCache(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	token := f.token(k, clk.Now())
	c := mustVerify(t, v, token)
	c.Audience[0] = "mutated"
	c.Username = "mallory"
	c2 := mustVerify(t, v, token)
	if c2.Audience[0] != "notes" || c2.Username != "alice" {
		t.Errorf("the cache handed out shared claims: %+v", c2)
	}
	if n := v.Stats().CachedTokens; n != 1 {
		t.Errorf("%d cached tokens", n)
	}
	clk.Advance(30*time.Minute + 30*time.Second)
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("expired cached token: err = %v", err)
	}
	if n := v.Stats().CachedTokens; n != 0 {
		t.Errorf("%d cached tokens after expiry", n)
	}
}

// The cache stays within its bound: expired tokens go first, then others.
func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	k := newKey("EdDSA")
	f := newFakeIssuer(t, k)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	verifier.SetCacheEntries(v, 8)
	short := withClaim("exp", clk.Now().Add(time.Minute).Unix())
	for range 6 {
		mustVerify(t, v, f.token(k, clk.Now(), short))
	}
	clk.Advance(2 * time.Minute) // those six expire
	for i := range 20 {
		mustVerify(t, v, f.token(k, clk.Now()))
		if n := v.Stats().CachedTokens; n > 8 {
			t.Fatalf("after %d more tokens: %d cached", i+1, n)
		}
	}
}

func TestClose(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	cfg := f.config(newClock())
	cfg.Revocations = feedConfig()
	v, err := verifier.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.waitHeld(t)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the held poll to end", func() bool { return f.held.Load() == 0 })
	hits := f.feedHits.Load()
	time.Sleep(100 * time.Millisecond)
	if f.feedHits.Load() != hits {
		t.Error("the feed is still polled after Close")
	}
	v.Close()
	mustVerify(t, v, f.token(k, cfg.Now()))
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		k := newKey(alg)
		f := newFakeIssuer(b, k)
		cfg := f.config(newClock())
		cfg.Revocations = feedConfig()
		v := newVerifier(b, cfg)
		token := f.token(k, cfg.Now())
		b.Run(alg+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/uncached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				verifier.ForgetTokens(v)
				if _, err := v.Verify(context.Background(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
