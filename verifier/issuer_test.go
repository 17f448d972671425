package verifier_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

// This file is a fake gatehouse: discovery, JWKS and the revocation feed,
// speaking the wire formats the real server implements, with knobs to
// misbehave and counters to prove what was fetched.

// clock is a settable clock for Config.Now.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// testKey is a signing key of the fake issuer and its public forms.
type testKey struct {
	kid    string
	method jwt.SigningMethod
	priv   crypto.Signer
	jwk    map[string]any
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var b64 = base64.RawURLEncoding

// newKey makes a key for alg: "ES256", "ES384", "RS256" (one RSA key shared by
// the test binary: generating them is slow) or "EdDSA".
func newKey(alg string) *testKey {
	k := &testKey{kid: rand.Text()[:10], method: jwt.GetSigningMethod(alg)}
	switch alg {
	case "ES256", "ES384":
		curve, crv, size := elliptic.P256(), "P-256", 32
		if alg == "ES384" {
			curve, crv, size = elliptic.P384(), "P-384", 48
		}
		priv, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			panic(err)
		}
		point, _ := priv.PublicKey.Bytes()
		k.priv = priv
		k.jwk = map[string]any{"kty": "EC", "crv": crv, "x": b64.EncodeToString(point[1 : 1+size]), "y": b64.EncodeToString(point[1+size:])}
	case "RS256":
		priv := rsaKey()
		k.priv = priv
		k.jwk = map[string]any{"kty": "RSA", "n": b64.EncodeToString(priv.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(priv.E)).Bytes())}
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		k.priv = priv
		k.jwk = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(priv.Public().(ed25519.PublicKey))}
	default:
		panic("newKey: " + alg)
	}
	k.jwk["kid"], k.jwk["alg"], k.jwk["use"] = k.kid, alg, "sig"
	return k
}

// publicDER and publicPEM are the encodings an attacker would try as an HMAC
// secret.
func (k *testKey) publicDER() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		panic(err)
	}
	return der
}

func (k *testKey) publicPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.publicDER()})
}

// revocation is one entry of the fake feed's log.
type revocation struct {
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

// Feed modes.
const (
	feedNormal  = ""
	feedDown    = "down"    // 503 to every poll
	feedInstant = "instant" // answers at once, never holds a poll
)

type fakeIssuer struct {
	URL string
	srv *httptest.Server

	mu              sync.Mutex
	keys            []*testKey
	maxAge          int    // Cache-Control max-age of the JWKS; 0: no header
	discoveryIssuer string // the issuer the discovery document names; default URL
	noFeed          bool   // discovery lists no revocation_feed_endpoint

	discoveryHits, jwksHits, feedHits, snapshots atomic.Int64
	held                                         atomic.Int64 // polls being held now
	lastWait                                     atomic.Value // the wait parameter of the last poll

	feedMu       sync.Mutex
	clientID     string
	clientSecret string
	mode         string
	epoch        int // part of every cursor; bumping it invalidates them all
	revs         []revocation
	changed      chan struct{} // closed (and replaced) on every change
}

const (
	feedClientID     = "notes"
	feedClientSecret = "notes-feed-secret-0123456789"
)

// startFakeIssuer serves a fake gatehouse publishing keys.
func startFakeIssuer(keys ...*testKey) *fakeIssuer {
	f := &fakeIssuer{keys: keys, clientID: feedClientID, clientSecret: feedClientSecret, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.serveDiscovery)
	mux.HandleFunc("GET /jwks", f.serveJWKS)
	mux.HandleFunc("GET /auth/revocations", f.serveFeed)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

func newFakeIssuer(tb testing.TB, keys ...*testKey) *fakeIssuer {
	tb.Helper()
	f := startFakeIssuer(keys...)
	tb.Cleanup(f.Close)
	return f
}

// Close wakes held polls and stops the server.
func (f *fakeIssuer) Close() {
	f.setMode(feedDown)
	f.srv.Close()
}

func (f *fakeIssuer) publish(keys ...*testKey) {
	f.mu.Lock()
	f.keys = keys
	f.mu.Unlock()
}

func (f *fakeIssuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	f.discoveryHits.Add(1)
	f.mu.Lock()
	iss, noFeed := f.discoveryIssuer, f.noFeed
	f.mu.Unlock()
	if iss == "" {
		iss = f.URL
	}
	doc := map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              f.URL + "/jwks",
		"token_endpoint":                        f.URL + "/auth/login",
		"id_token_signing_alg_values_supported": []string{"ES256", "RS256", "EdDSA"},
	}
	if !noFeed {
		doc["revocation_feed_endpoint"] = f.URL + "/auth/revocations"
	}
	writeJSON(w, http.StatusOK, doc)
}

func (f *fakeIssuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	f.jwksHits.Add(1)
	f.mu.Lock()
	keys := make([]map[string]any, len(f.keys))
	for i, k := range f.keys {
		keys[i] = k.jwk
	}
	if f.maxAge > 0 {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(f.maxAge))
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// serveFeed implements GET /auth/revocations?since=CURSOR&wait=SECONDS.
func (f *fakeIssuer) serveFeed(w http.ResponseWriter, r *http.Request) {
	f.feedHits.Add(1)
	q := r.URL.Query()
	f.lastWait.Store(q.Get("wait"))
	wait, err := strconv.Atoi(q.Get("wait"))
	if err != nil || wait <= 0 {
		wait = 25
	}
	timer := time.NewTimer(time.Duration(min(wait, 60)) * time.Second)
	defer timer.Stop()
	since := q.Get("since")
	for {
		f.feedMu.Lock()
		mode, epoch, revs, changed := f.mode, f.epoch, f.revs, f.changed
		id, secret, ok := r.BasicAuth()
		authorized := ok && id == f.clientID && secret == f.clientSecret
		f.feedMu.Unlock()
		if mode == feedDown {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "down for maintenance", "code": "not_ready"})
			return
		}
		if !authorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid client credentials", "code": "invalid_client"})
			return
		}
		cursor := func(n int) string { return fmt.Sprintf("%d-%d", epoch, n) }
		if since == "" {
			f.snapshots.Add(1)
			writeJSON(w, http.StatusOK, map[string]any{"revocations": nonNil(revs), "cursor": cursor(len(revs))})
			return
		}
		var e, n int
		if _, err := fmt.Sscanf(since, "%d-%d", &e, &n); err != nil || e != epoch || n > len(revs) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Unknown cursor", "code": "invalid_cursor"})
			return
		}
		if n < len(revs) || mode == feedInstant {
			writeJSON(w, http.StatusOK, map[string]any{"revocations": nonNil(revs[n:]), "cursor": cursor(len(revs))})
			return
		}
		f.held.Add(1)
		select {
		case <-changed:
			f.held.Add(-1)
		case <-timer.C:
			f.held.Add(-1)
			writeJSON(w, http.StatusOK, map[string]any{"revocations": []revocation{}, "cursor": since})
			return
		case <-r.Context().Done():
			f.held.Add(-1)
			return
		}
	}
}

func nonNil(revs []revocation) []revocation {
	if revs == nil {
		return []revocation{}
	}
	return revs
}

// change applies edit to the feed's state and wakes every held poll.
func (f *fakeIssuer) change(edit func()) {
	f.feedMu.Lock()
	defer f.feedMu.Unlock()
	edit()
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeIssuer) revoke(sid string, exp time.Time) {
	f.change(func() { f.revs = append(f.revs, revocation{SID: sid, Exp: exp.Unix()}) })
}

func (f *fakeIssuer) setMode(mode string)    { f.change(func() { f.mode = mode }) }
func (f *fakeIssuer) setFeedSecret(s string) { f.change(func() { f.clientSecret = s }) }
func (f *fakeIssuer) invalidateCursors()     { f.change(func() { f.epoch++ }) }
func (f *fakeIssuer) waitHeld(tb testing.TB) {
	tb.Helper()
	waitFor(tb, "a held poll", func() bool { return f.held.Load() > 0 })
}
func (f *fakeIssuer) setDiscoveryIssuer(s string) {
	f.mu.Lock()
	f.discoveryIssuer = s
	f.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// claims returns the claims of a valid token issued at now.
func (f *fakeIssuer) claims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       f.URL,
		"sub":       "42",
		"aud":       "notes",
		"exp":       now.Add(30 * time.Minute).Unix(),
		"nbf":       now.Unix(),
		"iat":       now.Unix(),
		"jti":       rand.Text(),
		"sid":       "s1",
		"username":  "alice",
		"client_id": "notes-web",
		"scope":     "notes:read profile",
	}
}

// tokenEdit changes a token's header or claims before it is signed.
type tokenEdit func(header map[string]any, claims jwt.MapClaims)

func withClaim(name string, v any) tokenEdit {
	return func(_ map[string]any, c jwt.MapClaims) {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
}

func withHeader(name string, v any) tokenEdit {
	return func(h map[string]any, _ jwt.MapClaims) {
		if v == nil {
			delete(h, name)
		} else {
			h[name] = v
		}
	}
}

// token signs an access token with k, as gatehouse would, then edited.
func (f *fakeIssuer) token(k *testKey, now time.Time, edits ...tokenEdit) string {
	return sign(k.method, k.priv, k.kid, f.claims(now), edits...)
}

// sign makes a JWS with any method and key: the attacks need both freely.
func sign(method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims, edits ...tokenEdit) string {
	t := jwt.NewWithClaims(method, claims)
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = kid
	for _, e := range edits {
		e(t.Header, claims)
	}
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

// waitFor polls cond for up to 5 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer collects log output across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// config is the verifier configuration most tests start from: the fake
// issuer, audience "notes", a pinned clock, no revocation checking.
func (f *fakeIssuer) config(clk *clock) verifier.Config {
	return verifier.Config{Issuer: f.URL, Audience: "notes", Now: clk.Now, Logger: discardLogger()}
}

func feedConfig() *verifier.RevocationConfig {
	return &verifier.RevocationConfig{ClientID: feedClientID, ClientSecret: feedClientSecret, Wait: 20 * time.Second}
}

func newVerifier(tb testing.TB, cfg verifier.Config) *verifier.Verifier {
	tb.Helper()
	v, err := verifier.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// mustVerify fails the test unless token verifies.
func mustVerify(tb testing.TB, v *verifier.Verifier, token string) *verifier.Claims {
	tb.Helper()
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return c
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	p, _ := json.Marshal(claims)
	parts[1] = b64.EncodeToString(p)
	return strings.Join(parts, ".")
}

// rawToken builds a JWS from literal JSON header and payload and a signature.
func rawToken(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}
