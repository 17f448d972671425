package tokens

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
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
	"github.com/golang-jwt/jwt/v5"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	testSealKey = bytes.Repeat([]byte{0x5e}, SealKeyBytes)
	t0          = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

const (
	testTTL    = 30 * time.Minute
	testLeeway = 30 * time.Second
	// testRetire is how long a rotated-out key verifies: the TTL plus leeway,
	// as New requires, plus a margin.
	testRetire = testTTL + time.Minute
)

// algorithms lists every supported algorithm, for tests run on each.
var algorithms = []string{HS256, RS256, ES256, EdDSA}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// memKeys is an in-memory gatehouse.KeyStore with the semantics the SQL
// store has (TestMemKeys runs storetest.RunKeyStore on it): AddSigningKey
// is a compare-and-swap on the current key. It counts the reads of its
// keys, which a reload makes, and lets a test hold them up.
type memKeys struct {
	mu   sync.Mutex
	keys []*gatehouse.SigningKey // the last added first
	// beforeAdd, if set, runs once at the start of the next AddSigningKey,
	// to let a test play another instance that adds a key meanwhile.
	beforeAdd func()
	// onRead, if set, runs at the start of every SigningKeys, after reads
	// is counted.
	onRead func()
	// readErr, if set, is what SigningKeys returns.
	readErr error
	// reads counts the calls of SigningKeys.
	reads atomic.Int64
}

func (s *memKeys) AddSigningKey(_ context.Context, k *gatehouse.SigningKey, replaces string, retireOld time.Time) error {
	s.mu.Lock()
	hook := s.beforeAdd
	s.beforeAdd = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *gatehouse.SigningKey
	for _, o := range s.keys {
		if o.ID == k.ID {
			return errors.New("duplicate kid")
		}
		if o.Current() {
			cur = o
		}
	}
	switch {
	case cur == nil && replaces != "":
		return gatehouse.Errorf(gatehouse.CodeConflict, "key %s is not current: none is", replaces)
	case cur != nil && cur.ID != replaces:
		return gatehouse.Errorf(gatehouse.CodeConflict, "key %s is current, not %q", cur.ID, replaces)
	}
	if cur != nil {
		cur.RetiresAt = retireOld
	}
	s.keys = append([]*gatehouse.SigningKey{cloneKey(k)}, s.keys...)
	return nil
}

func (s *memKeys) SigningKeys(context.Context) ([]*gatehouse.SigningKey, error) {
	s.reads.Add(1)
	s.mu.Lock()
	hook, err := s.onRead, s.readErr
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*gatehouse.SigningKey, len(s.keys))
	for i, k := range s.keys {
		out[i] = cloneKey(k)
	}
	slices.SortStableFunc(out, func(a, b *gatehouse.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// setOnRead sets onRead, for reads from other goroutines.
func (s *memKeys) setOnRead(f func()) {
	s.mu.Lock()
	s.onRead = f
	s.mu.Unlock()
}

// TestMemKeys holds the fake to the contract the real stores keep, so that
// what the tests here show of the ring holds on them too.
func TestMemKeys(t *testing.T) {
	storetest.RunKeyStore(t, func(*testing.T) gatehouse.KeyStore { return &memKeys{} })
}

// edit changes the stored rows, as someone with write access to the
// database could.
func (s *memKeys) edit(f func(keys []*gatehouse.SigningKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.keys)
}

func cloneKey(k *gatehouse.SigningKey) *gatehouse.SigningKey {
	c := *k
	c.PrivateKey = bytes.Clone(k.PrivateKey)
	c.PublicKey = bytes.Clone(k.PublicKey)
	return &c
}

// newRing returns a ring of alg: HMAC over testSecret for HS256, else keys
// loaded from (and on first use generated into) store.
func newRing(tb testing.TB, alg string, clk *clock, store gatehouse.KeyStore) *KeyRing {
	tb.Helper()
	if alg == HS256 {
		r, err := NewHMACKeyRing(testSecret)
		if err != nil {
			tb.Fatal(err)
		}
		r.now = clk.now
		return r
	}
	r, err := LoadKeyRing(tb.Context(), store, alg, testSealKey, testRetire, clk.now)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func newManager(tb testing.TB, clk *clock, keys *KeyRing, mod func(*Options)) *Manager {
	tb.Helper()
	opts := Options{Keys: keys, TTL: testTTL, Leeway: testLeeway, CacheEntries: 100, Now: clk.now}
	if mod != nil {
		mod(&opts)
	}
	m, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func params(userID int64) IssueParams {
	return IssueParams{UserID: userID, Username: "u", SessionID: "sess-1"}
}

func mustIssue(tb testing.TB, m *Manager, p IssueParams) (string, Claims) {
	tb.Helper()
	tok, c, err := m.Issue(p)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, c
}

// signer returns the ring's current key, to forge tokens with it.
func signer(r *KeyRing) *ringKey { return r.state.Load().signer }

// forge signs claims as an attacker with (or without) the right key would.
// The header starts as a valid one for kid (typ at+jwt); header entries are
// then set, or deleted when nil.
func forge(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims, header map[string]any) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// validClaims are the claims of a good token at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "1", "username": "a", "sid": "sess-1", "jti": "x",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func without(c jwt.MapClaims, names ...string) jwt.MapClaims {
	for _, n := range names {
		delete(c, n)
	}
	return c
}

func with(c jwt.MapClaims, name string, v any) jwt.MapClaims { c[name] = v; return c }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// decodeSegment returns segment i of tok, JSON-decoded.
func decodeSegment(tb testing.TB, tok string, i int) map[string]any {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func wantInvalid(tb testing.TB, m *Manager, tok string) {
	tb.Helper()
	if c, err := m.Verify(tok); !errors.Is(err, ErrInvalid) {
		tb.Errorf("Verify = %+v, %v; want ErrInvalid", c, err)
	}
}

func TestIssueVerify(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			ring := newRing(t, alg, clk, &memKeys{})
			m := newManager(t, clk, ring, func(o *Options) { o.Issuer = "https://auth.example"; o.Audience = "api" })
			p := IssueParams{UserID: 42, Username: "알리스", SessionID: "s-9", ClientID: "mobile", Scope: "read write"}
			tok, issued := mustIssue(t, m, p)

			got, err := m.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			want := Claims{
				Subject: "42", Username: "알리스", SessionID: "s-9", ClientID: "mobile", Scope: "read write",
				ID: issued.ID, Issuer: "https://auth.example", Audience: []string{"api"},
				IssuedAt: t0, NotBefore: t0, ExpiresAt: t0.Add(testTTL), KeyID: signer(ring).id,
			}
			checkClaims(t, "Verify", got, want)
			checkClaims(t, "Issue", issued, want)
			if id, _ := got.UserID(); id != 42 {
				t.Errorf("UserID = %d", id)
			}

			t.Run("Header", func(t *testing.T) {
				h := decodeSegment(t, tok, 0)
				wantH := map[string]any{"alg": alg, "kid": signer(ring).id, "typ": "at+jwt"}
				if len(h) != len(wantH) {
					t.Errorf("header %v, want %v", h, wantH)
				}
				for k, v := range wantH {
					if h[k] != v {
						t.Errorf("header %s = %v, want %v", k, h[k], v)
					}
				}
			})
			t.Run("Payload", func(t *testing.T) {
				pl := decodeSegment(t, tok, 1)
				// sub is a JSON string (RFC 7519 §4.1.2); RFC 9068 names.
				for k, v := range map[string]any{"sub": "42", "sid": "s-9", "client_id": "mobile", "scope": "read write", "iss": "https://auth.example"} {
					if pl[k] != v {
						t.Errorf("payload %s = %#v, want %#v", k, pl[k], v)
					}
				}
			})
			t.Run("OptionalClaimsOmitted", func(t *testing.T) {
				tok, _ := mustIssue(t, m, params(1))
				pl := decodeSegment(t, tok, 1)
				for _, k := range []string{"client_id", "scope"} {
					if _, ok := pl[k]; ok {
						t.Errorf("payload has %s with no value: %v", k, pl)
					}
				}
			})
			t.Run("UniqueJTI", func(t *testing.T) {
				tok2, c2 := mustIssue(t, m, p)
				if tok2 == tok || c2.ID == issued.ID {
					t.Error("two issues gave the same token or jti")
				}
			})
		})
	}
}

func checkClaims(tb testing.TB, what string, got, want Claims) {
	tb.Helper()
	if got.Subject != want.Subject || got.Username != want.Username || got.SessionID != want.SessionID ||
		got.ClientID != want.ClientID || got.Scope != want.Scope || got.ID != want.ID || got.Issuer != want.Issuer ||
		!slices.Equal(got.Audience, want.Audience) || !got.IssuedAt.Equal(want.IssuedAt) ||
		!got.NotBefore.Equal(want.NotBefore) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.KeyID != want.KeyID {
		tb.Errorf("%s claims = %+v\nwant %+v", what, got, want)
	}
}

func TestIssueRejectsBadParams(t *testing.T) {
	clk := newClock()
	m := newManager(t, clk, newRing(t, HS256, clk, nil), nil)
	tests := []struct {
		name string
		p    IssueParams
	}{
		{"NoSession", IssueParams{UserID: 1, Username: "a"}},
		{"NoUser", IssueParams{Username: "a", SessionID: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, _, err := m.Issue(tt.p); err == nil {
				t.Errorf("Issue gave %q", tok)
			}
		})
	}
}

// TestVerifyAcceptsTypVariants checks the media type comparison of typ
// (RFC 7515 §4.1.9): case-insensitive, "application/" optional.
func TestVerifyAcceptsTypVariants(t *testing.T) {
	clk := newClock()
	ring := newRing(t, HS256, clk, nil)
	m := newManager(t, clk, ring, nil)
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+Jwt"} {
		t.Run(typ, func(t *testing.T) {
			tok := forge(t, jwt.SigningMethodHS256, testSecret, signer(ring).id, validClaims(clk.now()), map[string]any{"typ": typ})
			if _, err := m.Verify(tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestVerifyRejectsAttacks runs the attacks on an HS256 ring, whose key an
// attacker may try to guess, replay or route around.
func TestVerifyRejectsAttacks(t *testing.T) {
	clk := newClock()
	now := clk.now()
	ring := newRing(t, HS256, clk, nil)
	kid := signer(ring).id
	valid := func() jwt.MapClaims { return validClaims(now) }

	fetched := atomic.Int32{}
	keyServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer keyServer.Close()

	hs := func(c jwt.MapClaims, h map[string]any) string {
		return forge(t, jwt.SigningMethodHS256, testSecret, kid, c, h)
	}
	good := hs(valid(), nil)
	parts := strings.Split(good, ".")
	otherKid := signer(mustHMACRing(t, []byte("another-secret-another-secret-!!"))).id

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", b64(`{"alg":"none","typ":"at+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "."},
		{"alg None mixed case", b64(`{"alg":"None","typ":"at+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "."},
		{"alg HS512 with the right secret", forge(t, jwt.SigningMethodHS512, testSecret, kid, valid(), nil)},
		{"alg HS384 with the right secret", forge(t, jwt.SigningMethodHS384, testSecret, kid, valid(), nil)},
		{"header claims RS256 over an HMAC signature", b64(`{"alg":"RS256","typ":"at+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2]},
		{"header claims ES256 over an HMAC signature", b64(`{"alg":"ES256","typ":"at+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2]},
		{"wrong secret", forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-!!"), kid, valid(), nil)},
		{"wrong secret with its own kid", forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-!!"), otherKid, valid(), nil)},
		{"tampered payload", parts[0] + "." + b64(`{"sub":"2","sid":"sess-1","username":"a","exp":9999999999}`) + "." + parts[2]},
		{"stripped signature", parts[0] + "." + parts[1] + "."},
		{"no exp (the tutorial's never-expiring token)", hs(without(valid(), "exp"), nil)},
		{"expired beyond leeway", hs(with(valid(), "exp", now.Add(-31*time.Second).Unix()), nil)},
		{"not yet valid beyond leeway", hs(with(valid(), "nbf", now.Add(time.Minute).Unix()), nil)},
		{"issued in the future", hs(with(valid(), "iat", now.Add(time.Hour).Unix()), nil)},
		{"integer sub (as the tutorial issues)", hs(with(valid(), "sub", 1), nil)},
		{"missing sub", hs(without(valid(), "sub"), nil)},
		{"missing sid", hs(without(valid(), "sid"), nil)},
		{"empty sid", hs(with(valid(), "sid", ""), nil)},
		{"integer sid", hs(with(valid(), "sid", 7), nil)},
		{"missing kid", hs(valid(), map[string]any{"kid": nil})},
		{"empty kid", hs(valid(), map[string]any{"kid": ""})},
		{"non-string kid", hs(valid(), map[string]any{"kid": 1})},
		{"unknown kid", hs(valid(), map[string]any{"kid": "no-such-key"})},
		{"missing typ", hs(valid(), map[string]any{"typ": nil})},
		{"typ JWT (an ID token or another JWT)", hs(valid(), map[string]any{"typ": "JWT"})},
		{"typ at+jwt as a prefix", hs(valid(), map[string]any{"typ": "at+jwt2"})},
		{"non-string typ", hs(valid(), map[string]any{"typ": true})},
		{"crit header", hs(valid(), map[string]any{"crit": []string{"exp"}})},
		{"jku pointing at an attacker's keys", forge(t, jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret!"), keyServer.URL, valid(), map[string]any{"jku": keyServer.URL, "x5u": keyServer.URL})},
		{"jku with the real kid", forge(t, jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret!"), kid, valid(), map[string]any{"jku": keyServer.URL, "x5u": keyServer.URL})},
		{"oversized", parts[0] + "." + b64(`{"sub":"1","pad":"`+strings.Repeat("A", MaxTokenBytes)+`"}`) + "." + parts[2]},
		{"empty", ""},
		{"garbage", "not-a-jwt"},
		{"two segments", parts[0] + "." + parts[1]},
		{"non-base64 segments", "%%%.%%%.%%%"},
		{"newline inside a segment", parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2]},
		{"padded segment", parts[0] + "." + parts[1] + "." + parts[2] + "="},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good)},
		{"four segments", good + ".e30"},
		{"padding bits set in the signature", setPaddingBits(t, good)},
	}
	m := newManager(t, clk, ring, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, m, tt.token)
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("verification fetched a URL from the token %d times", n)
	}
	if _, err := m.Verify(good); err != nil {
		t.Errorf("the untampered token was refused: %v", err)
	}
}

// setPaddingBits respells tok's signature with the unused low bits of its
// last character set: a non-canonical encoding of the same bytes.
func setPaddingBits(tb testing.TB, tok string) string {
	tb.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	// The last character carries (len*6)%8 bits that encode nothing.
	if (len(sig)*6)%8 == 0 {
		tb.Fatalf("signature of %d characters has no padding bits", len(sig))
	}
	v := strings.IndexByte(alphabet, sig[len(sig)-1])
	return tok[:len(tok)-1] + string(alphabet[v|1])
}

func mustHMACRing(tb testing.TB, secret []byte) *KeyRing {
	tb.Helper()
	r, err := NewHMACKeyRing(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// attackerKeys are keys of every kind that the server does not hold.
type attackerKeys map[string]crypto.Signer

func newAttackerKeys(tb testing.TB) attackerKeys {
	tb.Helper()
	ks := attackerKeys{}
	for alg, a := range asymmetric {
		k, err := a.generate()
		if err != nil {
			tb.Fatal(err)
		}
		ks[alg] = k
	}
	return ks
}

// TestAsymmetricAttacks attacks rings of each asymmetric algorithm: the
// algorithm-confusion forgeries (the public key, which is published, used as
// an HMAC secret), algorithm substitution under a valid kid, and tokens
// that lack what the profile requires although signed with the real key.
func TestAsymmetricAttacks(t *testing.T) {
	attacker := newAttackerKeys(t)
	for _, alg := range []string{RS256, ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			ring := newRing(t, alg, clk, &memKeys{})
			m := newManager(t, clk, ring, nil)
			real := signer(ring)
			der, err := x509.MarshalPKIXPublicKey(real.verifyKey)
			if err != nil {
				t.Fatal(err)
			}
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			var jwks struct{ Keys []json.RawMessage }
			if err := json.Unmarshal(ring.JWKS(), &jwks); err != nil || len(jwks.Keys) != 1 {
				t.Fatalf("JWKS: %v, %d keys", err, len(jwks.Keys))
			}
			valid := func() jwt.MapClaims { return validClaims(clk.now()) }
			hs := func(secret []byte) string { return forge(t, jwt.SigningMethodHS256, secret, real.id, valid(), nil) }

			type attack struct {
				name  string
				token string
			}
			tests := []attack{
				{"HS256 with the public key PEM as secret", hs(pemKey)},
				{"HS256 with the public key PEM without its last newline", hs(bytes.TrimSuffix(pemKey, []byte("\n")))},
				{"HS256 with the public key DER as secret", hs(der)},
				{"HS256 with the published JWK as secret", hs(jwks.Keys[0])},
				{"HS256 with the public key PEM and no kid", forge(t, jwt.SigningMethodHS256, pemKey, "", valid(), map[string]any{"kid": nil})},
				{"attacker's key under the real kid", forge(t, real.method, attacker[alg], real.id, valid(), nil)},
				{"attacker's key with its own kid", forge(t, real.method, attacker[alg], "attacker", valid(), nil)},
				{"attacker's key embedded as jwk header", forge(t, real.method, attacker[alg], real.id, valid(), map[string]any{"jwk": map[string]any{"kty": "EC"}})},
				{"real key, no kid", forge(t, real.method, real.signKey, "", valid(), map[string]any{"kid": nil})},
				{"real key, unknown kid", forge(t, real.method, real.signKey, "no-such-key", valid(), nil)},
				{"real key, no typ", forge(t, real.method, real.signKey, real.id, valid(), map[string]any{"typ": nil})},
				{"real key, typ JWT", forge(t, real.method, real.signKey, real.id, valid(), map[string]any{"typ": "JWT"})},
				{"real key, no sid", forge(t, real.method, real.signKey, real.id, without(valid(), "sid"), nil)},
				{"real key, no exp", forge(t, real.method, real.signKey, real.id, without(valid(), "exp"), nil)},
				{"real key, crit", forge(t, real.method, real.signKey, real.id, valid(), map[string]any{"crit": []string{"exp"}})},
			}
			// Substitution: another asymmetric algorithm named in the header
			// under the real kid, signed with a key of that algorithm.
			for other, key := range attacker {
				if other != alg {
					tests = append(tests, attack{"alg " + other + " under the " + alg + " kid", forge(t, asymmetric[other].method, key, real.id, valid(), nil)})
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					wantInvalid(t, m, tt.token)
				})
			}
			// The forger itself is right: with everything valid it passes.
			if _, err := m.Verify(forge(t, real.method, real.signKey, real.id, valid(), nil)); err != nil {
				t.Errorf("a valid forged token was refused: %v", err)
			}
		})
	}
}

// TestAlgorithmChange switches a deployment from ES256 to RS256: the
// ES256 key keeps verifying its tokens while it retires, but only for
// ES256, and the new key only for RS256.
func TestAlgorithmChange(t *testing.T) {
	clk := newClock()
	store := &memKeys{}
	before := newManager(t, clk, newRing(t, ES256, clk, store), nil)
	oldTok, oldClaims := mustIssue(t, before, params(1))
	changedAt := clk.advance(time.Minute)

	ring := newRing(t, RS256, clk, store)
	m := newManager(t, clk, ring, nil)
	states := ring.States(changedAt)
	if len(states) != 2 || states[0].Algorithm != RS256 || states[0].State != KeyCurrent ||
		states[1].ID != oldClaims.KeyID || states[1].State != KeyRetiring || !states[1].RetiresAt.Equal(changedAt.Add(testRetire)) {
		t.Fatalf("States = %+v", states)
	}
	newTok, newClaims := mustIssue(t, m, params(1))
	if decodeSegment(t, newTok, 0)["alg"] != RS256 {
		t.Errorf("new token header %v", decodeSegment(t, newTok, 0))
	}
	for name, tok := range map[string]string{"ES256 token": oldTok, "RS256 token": newTok} {
		if _, err := m.Verify(tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	attacker := newAttackerKeys(t)
	es := ring.state.Load().byKID[oldClaims.KeyID]
	der, _ := x509.MarshalPKIXPublicKey(es.verifyKey)
	valid := validClaims(clk.now())
	tests := []struct {
		name  string
		token string
	}{
		{"RS256 under the ES256 kid", forge(t, jwt.SigningMethodRS256, attacker[RS256], oldClaims.KeyID, valid, nil)},
		{"ES256 under the RS256 kid", forge(t, jwt.SigningMethodES256, attacker[ES256], newClaims.KeyID, valid, nil)},
		{"EdDSA under the RS256 kid", forge(t, jwt.SigningMethodEdDSA, attacker[EdDSA], newClaims.KeyID, valid, nil)},
		{"HS256 with the ES256 public key DER under its kid", forge(t, jwt.SigningMethodHS256, der, oldClaims.KeyID, valid, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, m, tt.token)
		})
	}
}

// TestKeyForPinsAlgorithm checks the per-key fence on its own: the parser's
// method list and the JWT library's key type checks stop these tokens
// first, but a key must refuse every algorithm but its own by itself, so
// that widening the list or a library change cannot reopen confusion.
func TestKeyForPinsAlgorithm(t *testing.T) {
	clk := newClock()
	rings := map[string]*KeyRing{HS256: newRing(t, HS256, clk, nil)}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		rings[alg] = newRing(t, alg, clk, &memKeys{})
	}
	for keyAlg, ring := range rings {
		for _, headerAlg := range algorithms {
			t.Run(headerAlg+" header over "+keyAlg+" key", func(t *testing.T) {
				tok := &jwt.Token{
					Header: map[string]any{"alg": headerAlg, "typ": "at+jwt", "kid": signer(ring).id},
					Method: jwt.GetSigningMethod(headerAlg),
				}
				k, err := keyFor(ring.state.Load(), tok, clk.now())
				if headerAlg == keyAlg {
					if err != nil || k != signer(ring) {
						t.Errorf("keyFor = %v, %v; want the ring's key", k, err)
					}
				} else if err == nil {
					t.Errorf("keyFor gave the %s key for alg %s", keyAlg, headerAlg)
				}
			})
		}
	}
}

// TestRotation rotates an ES256 ring on a pinned clock: tokens of the old
// key verify until it retires, new tokens carry the new kid, the JWKS
// lists both keys and then only the new one.
func TestRotation(t *testing.T) {
	clk := newClock()
	ring := newRing(t, ES256, clk, &memKeys{})
	m := newManager(t, clk, ring, nil)
	uncached := newManager(t, clk, ring, func(o *Options) { o.CacheEntries = 0 })
	old := signer(ring)
	oldTok, _ := mustIssue(t, m, params(1))
	if _, err := m.Verify(oldTok); err != nil { // now cached
		t.Fatal(err)
	}
	// A token of the old key that outlives it, as an instance that had not
	// reloaded yet could sign: the key's retirement must stop it.
	lateClaims := validClaims(t0)
	lateClaims["exp"] = t0.Add(24 * time.Hour).Unix()
	lateTok := forge(t, old.method, old.signKey, old.id, lateClaims, nil)
	if _, err := m.Verify(lateTok); err != nil {
		t.Fatal(err)
	}

	rotatedAt := clk.advance(time.Minute)
	k, err := ring.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == old.id || k.Algorithm != ES256 || k.PrivateKey != nil || !k.CreatedAt.Equal(rotatedAt) {
		t.Errorf("Rotate = %+v; want a new ES256 key created at %v, without its private key", *k, rotatedAt)
	}
	newTok, newClaims := mustIssue(t, m, params(2))
	if newClaims.KeyID != k.ID || decodeSegment(t, newTok, 0)["kid"] != k.ID {
		t.Errorf("new token kid %q (header %v), want %s", newClaims.KeyID, decodeSegment(t, newTok, 0)["kid"], k.ID)
	}

	t.Run("WhileRetiring", func(t *testing.T) {
		for _, mm := range []struct {
			name string
			m    *Manager
		}{{"cached", m}, {"uncached", uncached}} {
			for _, tok := range []string{oldTok, lateTok, newTok} {
				if _, err := mm.m.Verify(tok); err != nil {
					t.Errorf("%s: %v", mm.name, err)
				}
			}
		}
		if got := jwksKids(t, ring); !slices.Equal(got, []string{k.ID, old.id}) {
			t.Errorf("JWKS kids %q, want %q", got, []string{k.ID, old.id})
		}
		checkStates(t, ring.States(clk.now()), []string{k.ID, old.id}, []string{KeyCurrent, KeyRetiring})
	})

	t.Run("AfterRetirement", func(t *testing.T) {
		clk.set(rotatedAt.Add(testRetire))
		for _, mm := range []struct {
			name string
			m    *Manager
		}{{"cached", m}, {"uncached", uncached}} {
			wantInvalid(t, mm.m, oldTok)
			wantInvalid(t, mm.m, lateTok)
		}
		if _, err := uncached.Verify(lateTok); err == nil || !strings.Contains(err.Error(), "retired") {
			t.Errorf("late token: %v, want a retired-key error", err)
		}
		fresh, _ := mustIssue(t, m, params(3))
		if _, err := m.Verify(fresh); err != nil {
			t.Errorf("token of the new key: %v", err)
		}
		if got := jwksKids(t, ring); !slices.Equal(got, []string{k.ID}) {
			t.Errorf("JWKS kids %q, want only %s", got, k.ID)
		}
		checkStates(t, ring.States(clk.now()), []string{k.ID, old.id}, []string{KeyCurrent, KeyRetired})
	})

	t.Run("RetiredKeyNotLoaded", func(t *testing.T) {
		if err := ring.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, ok := ring.state.Load().byKID[old.id]; ok {
			t.Error("a retired key was loaded")
		}
		checkStates(t, ring.States(clk.now()), []string{k.ID, old.id}, []string{KeyCurrent, KeyRetired})
	})
}

func jwksKids(tb testing.TB, r *KeyRing) []string {
	tb.Helper()
	var set struct {
		Keys []struct{ Kid string }
	}
	if err := json.Unmarshal(r.JWKS(), &set); err != nil {
		tb.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func checkStates(tb testing.TB, got []KeyState, ids, states []string) {
	tb.Helper()
	var gotIDs, gotStates []string
	for _, s := range got {
		gotIDs = append(gotIDs, s.ID)
		gotStates = append(gotStates, s.State)
	}
	if !slices.Equal(gotIDs, ids) || !slices.Equal(gotStates, states) {
		tb.Errorf("States = %q %q, want %q %q", gotIDs, gotStates, ids, states)
	}
}

// TestReload rotates through one ring and checks that another ring on the
// same store, as another process would hold, learns the new key on Reload
// and signs with it from then on.
func TestReload(t *testing.T) {
	clk := newClock()
	store := &memKeys{}
	a, b := newRing(t, ES256, clk, store), newRing(t, ES256, clk, store)
	if signer(a).id != signer(b).id {
		t.Fatalf("second ring on the store made its own key %s, want the first's %s", signer(b).id, signer(a).id)
	}
	ma, mb := newManager(t, clk, a, nil), newManager(t, clk, b, nil)
	oldTok, _ := mustIssue(t, ma, params(1))
	oldKid := signer(a).id

	clk.advance(time.Minute)
	k, err := b.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	newTok, _ := mustIssue(t, mb, params(1))
	if _, c := mustIssue(t, ma, params(1)); c.KeyID != oldKid {
		t.Errorf("before Reload the ring signs with %s, want %s", c.KeyID, oldKid)
	}

	if err := a.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if _, err := ma.Verify(tok); err != nil {
			t.Errorf("%s token after Reload: %v", name, err)
		}
	}
	if _, c := mustIssue(t, ma, params(1)); c.KeyID != k.ID {
		t.Errorf("after Reload the ring signs with %s, want %s", c.KeyID, k.ID)
	}
	if got, want := jwksKids(t, a), []string{k.ID, oldKid}; !slices.Equal(got, want) {
		t.Errorf("JWKS after Reload lists %q, want %q", got, want)
	}
}

// TestRotateConflict rotates through a ring whose view of the store is out
// of date, as an instance that had not reloaded since another one rotated:
// the rotation must not be made, and the ring must come to hold the key
// that won.
func TestRotateConflict(t *testing.T) {
	t.Run("Stale", func(t *testing.T) {
		clk := newClock()
		store := &memKeys{}
		a, b := newRing(t, ES256, clk, store), newRing(t, ES256, clk, store)
		original := signer(a).id
		clk.advance(time.Minute)
		won, err := b.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Rotate(t.Context())
		if !gatehouse.IsCode(err, gatehouse.CodeConflict) || !strings.Contains(err.Error(), "someone else rotated") {
			t.Fatalf("Rotate = %v, want a CodeConflict saying someone else rotated", err)
		}
		if keys, _ := store.SigningKeys(t.Context()); len(keys) != 2 || keys[0].ID != won.ID || !keys[0].Current() {
			t.Errorf("store holds %d keys; want the first and the winner %s, current", len(keys), won.ID)
		}
		if signer(a).id != won.ID {
			t.Errorf("after the conflict the ring signs with %s, want the winner's %s", signer(a).id, won.ID)
		}
		// Now up to date, the ring rotates.
		clk.advance(time.Minute)
		k, err := a.Rotate(t.Context())
		if err != nil {
			t.Fatalf("Rotate after the conflict: %v", err)
		}
		checkStates(t, a.States(clk.now()), []string{k.ID, won.ID, original}, []string{KeyCurrent, KeyRetiring, KeyRetiring})
	})

	// Instances that loaded the same current key rotate at once: exactly
	// one rotation is made.
	t.Run("Race", func(t *testing.T) {
		clk := newClock()
		store := &memKeys{}
		rings := make([]*KeyRing, 8)
		for i := range rings {
			rings[i] = newRing(t, ES256, clk, store)
		}
		clk.advance(time.Minute)
		errs := make([]error, len(rings))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range rings {
			wg.Go(func() {
				<-start
				_, errs[i] = r.Rotate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !gatehouse.IsCode(err, gatehouse.CodeConflict):
				t.Errorf("ring %d: Rotate = %v, want nil or CodeConflict", i, err)
			}
		}
		keys, _ := store.SigningKeys(t.Context())
		if won != 1 || len(keys) != 2 {
			t.Errorf("%d rotations won and the store holds %d keys; want 1 and 2", won, len(keys))
		}
		for i, r := range rings {
			if signer(r).id != keys[0].ID {
				t.Errorf("ring %d signs with %s, want the winner's %s", i, signer(r).id, keys[0].ID)
			}
		}
	})
}

// TestVerifyReloadsOnUnknownKid verifies, on one instance, a token signed
// by the key another instance has just rotated in: it must verify at once,
// the one store read it costs making the ring sign with the new key too.
func TestVerifyReloadsOnUnknownKid(t *testing.T) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			store := &memKeys{}
			a, b := newRing(t, alg, clk, store), newRing(t, alg, clk, store)
			ma, mb := newManager(t, clk, a, nil), newManager(t, clk, b, nil)
			clk.advance(time.Minute)
			k, err := b.Rotate(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			newTok, _ := mustIssue(t, mb, params(1))
			before := store.reads.Load()
			if c, err := ma.Verify(newTok); err != nil || c.KeyID != k.ID {
				t.Fatalf("Verify = %+v, %v; want the new key's token verified", c, err)
			}
			if n := store.reads.Load() - before; n != 1 {
				t.Errorf("%d store reads, want 1", n)
			}
			if _, c := mustIssue(t, ma, params(1)); c.KeyID != k.ID {
				t.Errorf("after the reload the ring signs with %s, want %s", c.KeyID, k.ID)
			}
			// Known now: verifying again reads nothing.
			if _, err := newManager(t, clk, a, nil).Verify(newTok); err != nil || store.reads.Load()-before != 1 {
				t.Errorf("second Verify: %v, %d store reads in all; want no error and 1", err, store.reads.Load()-before)
			}
		})
	}
}

// unknownKidToken returns a well-formed token signed with the ring's key
// under a kid the ring does not hold: what an attacker flooding the server
// with made-up kids sends.
func unknownKidToken(tb testing.TB, r *KeyRing, now time.Time) string {
	tb.Helper()
	k := signer(r)
	return forge(tb, k.method, k.signKey, rand.Text(), validClaims(now), nil)
}

// TestUnknownKidReloadBounded floods a ring with tokens of made-up kids, in
// turns and at once, on a pinned clock: they may cost at most one store
// read per second, however many there are.
func TestUnknownKidReloadBounded(t *testing.T) {
	clk := newClock()
	store := &memKeys{}
	ring := newRing(t, ES256, clk, store)
	m := newManager(t, clk, ring, nil)
	base := store.reads.Load()
	steps := []struct {
		name       string
		advance    time.Duration
		goroutines int // each verifying 50 tokens
		wantReads  int64
	}{
		{"FirstMissReloads", 0, 1, 1},
		{"ConcurrentFloodSameSecond", 0, 8, 1},
		{"JustUnderASecond", time.Second - time.Nanosecond, 8, 1},
		{"ASecondAfter", time.Nanosecond, 8, 2},
		{"ClockStepsBack", -time.Hour, 1, 3},
		{"AfterTheStepBack", 0, 8, 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.advance(st.advance)
			toks := make([]string, 50)
			for i := range toks {
				toks[i] = unknownKidToken(t, ring, clk.now())
			}
			var wg sync.WaitGroup
			for range st.goroutines {
				wg.Go(func() {
					for _, tok := range toks {
						wantInvalid(t, m, tok)
					}
				})
			}
			wg.Wait()
			if n := store.reads.Load() - base; n != st.wantReads {
				t.Errorf("%d store reads in all, want %d", n, st.wantReads)
			}
		})
	}
}

// TestUnknownKidReloadSingleFlight verifies a token of a newly rotated key
// from many goroutines at once while the store is slow to answer: they must
// share one reload, and all of them accept the token once it is done.
func TestUnknownKidReloadSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		store := &memKeys{}
		a, b := newRing(t, ES256, clk, store), newRing(t, ES256, clk, store)
		ma := newManager(t, clk, a, func(o *Options) { o.CacheEntries = 0 })
		clk.advance(time.Minute)
		if _, err := b.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		newTok, _ := mustIssue(t, newManager(t, clk, b, nil), params(1))

		release := make(chan struct{})
		store.setOnRead(func() { <-release })
		before := store.reads.Load()
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = ma.Verify(newTok) })
		}
		// Every goroutine is now blocked: one in the store, the others
		// waiting for its reload.
		synctest.Wait()
		if got := store.reads.Load() - before; got != 1 {
			t.Errorf("%d store reads while the reload runs, want 1", got)
		}
		close(release)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
		if got := store.reads.Load() - before; got != 1 {
			t.Errorf("%d store reads in all, want 1", got)
		}
	})
}

// TestUnknownKidReloadFails checks that a miss whose reload fails refuses
// the token, says why for the log, and leaves the ring as it was.
func TestUnknownKidReloadFails(t *testing.T) {
	clk := newClock()
	store := &memKeys{}
	ring := newRing(t, ES256, clk, store)
	m := newManager(t, clk, ring, nil)
	kid := signer(ring).id
	store.mu.Lock()
	store.readErr = errors.New("database is down")
	store.mu.Unlock()
	_, err := m.Verify(unknownKidToken(t, ring, clk.now()))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("Verify = %v, want ErrInvalid naming the reload failure", err)
	}
	if signer(ring).id != kid {
		t.Errorf("the ring signs with %s after a failed reload, want %s", signer(ring).id, kid)
	}
	tok, _ := mustIssue(t, m, params(1))
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("a token of the ring's key after a failed reload: %v", err)
	}
}

// TestUnknownKidNoReload sends tokens with made-up kids that fail before
// their kid is looked up, and one to an HMAC ring: none may read the store.
// The last case shows that a reload was possible all along.
func TestUnknownKidNoReload(t *testing.T) {
	clk := newClock()
	store := &memKeys{}
	ring := newRing(t, ES256, clk, store)
	m := newManager(t, clk, ring, nil)
	k := signer(ring)
	valid := func() jwt.MapClaims { return validClaims(clk.now()) }
	es := func(claims jwt.MapClaims, h map[string]any) string {
		return forge(t, k.method, k.signKey, rand.Text(), claims, h)
	}
	good := strings.Split(es(valid(), nil), ".")

	hmacStore := &memKeys{}
	hmacRing := mustHMACRing(t, testSecret)
	hmacRing.now = clk.now
	hmacRing.store = hmacStore // to count reads it must never make
	hm := newManager(t, clk, hmacRing, nil)

	tests := []struct {
		name  string
		m     *Manager
		token string
	}{
		{"malformed", m, "not-a-jwt"},
		{"non-base64 segments", m, "%%%.%%%.%%%"},
		{"header not JSON", m, b64("{") + "." + good[1] + "." + good[2]},
		{"oversized", m, good[0] + "." + b64(`{"pad":"`+strings.Repeat("A", MaxTokenBytes)+`"}`) + "." + good[2]},
		{"typ JWT", m, es(valid(), map[string]any{"typ": "JWT"})},
		{"no typ", m, es(valid(), map[string]any{"typ": nil})},
		{"crit", m, es(valid(), map[string]any{"crit": []string{"exp"}})},
		{"no kid", m, es(valid(), map[string]any{"kid": nil})},
		{"alg none", m, b64(`{"alg":"none","typ":"at+jwt","kid":"`+rand.Text()+`"}`) + "." + good[1] + "."},
		{"alg HS256 on an asymmetric ring", m, forge(t, jwt.SigningMethodHS256, testSecret, rand.Text(), valid(), nil)},
		{"HMAC ring", hm, forge(t, jwt.SigningMethodHS256, testSecret, rand.Text(), valid(), nil)},
	}
	base := store.reads.Load()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, tt.m, tt.token)
			if n := store.reads.Load() - base + hmacStore.reads.Load(); n != 0 {
				t.Errorf("%d store reads, want none", n)
			}
		})
	}
	wantInvalid(t, m, es(valid(), nil))
	if n := store.reads.Load() - base; n != 1 {
		t.Errorf("a well-formed token of an unknown kid made %d store reads, want 1", n)
	}
}

// TestListKeys lists keys without loading a ring: nothing is added to an
// empty store, and keys no seal key opens are listed all the same.
func TestListKeys(t *testing.T) {
	clk := newClock()
	full := &memKeys{}
	ring := newRing(t, ES256, clk, full)
	first := signer(ring).id
	clk.advance(time.Minute)
	if _, err := ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := signer(ring).id
	clk.advance(time.Minute)
	if _, err := ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	third := signer(ring).id
	// The first key retired; the second retires a testRetire after the last rotation.
	now := clk.now().Add(testRetire - time.Second)

	broken := &memKeys{readErr: errors.New("database is down")}
	tests := []struct {
		name   string
		store  gatehouse.KeyStore
		ids    []string
		states []string
		err    bool
	}{
		{name: "Empty", store: &memKeys{}},
		{name: "Rotated", store: full, ids: []string{third, second, first}, states: []string{KeyCurrent, KeyRetiring, KeyRetired}},
		{name: "StoreFails", store: broken, err: true},
		{name: "NoStore", store: nil, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ListKeys(t.Context(), tt.store, now)
			if tt.err {
				if err == nil {
					t.Errorf("ListKeys = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkStates(t, got, tt.ids, tt.states)
			keys, _ := tt.store.SigningKeys(t.Context())
			if len(keys) != len(tt.ids) {
				t.Errorf("the store holds %d keys after ListKeys, want %d", len(keys), len(tt.ids))
			}
		})
	}
	t.Run("MatchesStates", func(t *testing.T) {
		got, err := ListKeys(t.Context(), full, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := ring.States(now); !slices.Equal(got, want) {
			t.Errorf("ListKeys = %+v\nStates   %+v", got, want)
		}
	})
}

func TestLoadKeyRing(t *testing.T) {
	t.Run("FirstStartThenReuse", func(t *testing.T) {
		clk := newClock()
		store := &memKeys{}
		first := newRing(t, EdDSA, clk, store)
		clk.advance(time.Hour)
		again := newRing(t, EdDSA, clk, store)
		keys, _ := store.SigningKeys(t.Context())
		if len(keys) != 1 || signer(again).id != signer(first).id || keys[0].ID != signer(first).id {
			t.Errorf("store has %d keys; rings sign with %s and %s", len(keys), signer(first).id, signer(again).id)
		}
		if !keys[0].CreatedAt.Equal(t0) || keys[0].Algorithm != EdDSA || !keys[0].Current() {
			t.Errorf("stored key %+v", *keys[0])
		}
	})

	t.Run("SealedAtRest", func(t *testing.T) {
		clk := newClock()
		store := &memKeys{}
		ring := newRing(t, ES256, clk, store)
		keys, _ := store.SigningKeys(t.Context())
		der, err := x509.MarshalPKCS8PrivateKey(signer(ring).signKey)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(keys[0].PrivateKey, der) || bytes.Contains(keys[0].PrivateKey, der[len(der)-32:]) {
			t.Error("the stored private key contains the key in clear")
		}
		pub, _ := x509.MarshalPKIXPublicKey(signer(ring).verifyKey)
		if !bytes.Equal(keys[0].PublicKey, pub) {
			t.Error("the stored public key is not the PKIX DER of the key")
		}
	})

	// Two instances find no key at the same instant; the other one adds
	// its key first, so ours conflicts and theirs must be used.
	t.Run("ConflictUsesTheWinner", func(t *testing.T) {
		clk := newClock()
		theirStore := &memKeys{}
		theirs := newRing(t, ES256, clk, theirStore)
		theirKeys, _ := theirStore.SigningKeys(t.Context())
		store := &memKeys{}
		store.beforeAdd = func() {
			if err := store.AddSigningKey(t.Context(), theirKeys[0], "", t0); err != nil {
				t.Error(err)
			}
		}
		ours := newRing(t, ES256, clk, store)
		if signer(ours).id != signer(theirs).id {
			t.Errorf("ring signs with %s, want the winner's %s", signer(ours).id, signer(theirs).id)
		}
		if keys, _ := store.SigningKeys(t.Context()); len(keys) != 1 {
			t.Errorf("store has %d keys, want only the winner's", len(keys))
		}
	})

	t.Run("ConflictWithAnotherAlgorithm", func(t *testing.T) {
		clk := newClock()
		theirStore := &memKeys{}
		newRing(t, EdDSA, clk, theirStore)
		theirKeys, _ := theirStore.SigningKeys(t.Context())
		store := &memKeys{}
		store.beforeAdd = func() {
			if err := store.AddSigningKey(t.Context(), theirKeys[0], "", t0); err != nil {
				t.Error(err)
			}
		}
		_, err := LoadKeyRing(t.Context(), store, ES256, testSealKey, testRetire, clk.now)
		if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_JWT_ALG") {
			t.Errorf("LoadKeyRing = %v, want an error about instances disagreeing", err)
		}
	})

	t.Run("BadArguments", func(t *testing.T) {
		tests := []struct {
			name        string
			store       gatehouse.KeyStore
			alg         string
			sealKey     []byte
			retireAfter time.Duration
		}{
			{"HS256", &memKeys{}, HS256, testSealKey, time.Hour},
			{"none", &memKeys{}, "none", testSealKey, time.Hour},
			{"ES384", &memKeys{}, "ES384", testSealKey, time.Hour},
			{"lower-case es256", &memKeys{}, "es256", testSealKey, time.Hour},
			{"no store", nil, ES256, testSealKey, time.Hour},
			{"short seal key", &memKeys{}, ES256, testSealKey[:16], time.Hour},
			{"no seal key", &memKeys{}, ES256, nil, time.Hour},
			{"zero retirement", &memKeys{}, ES256, testSealKey, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := LoadKeyRing(t.Context(), tt.store, tt.alg, tt.sealKey, tt.retireAfter, nil); err == nil {
					t.Error("LoadKeyRing succeeded")
				}
			})
		}
	})
}

// TestLoadKeyRingTampered alters the stored rows as someone with write
// access to the database could. LoadKeyRing must refuse to start rather
// than sign or verify with a key it cannot vouch for, and must not add a
// fresh key over the altered ones.
func TestLoadKeyRingTampered(t *testing.T) {
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _ := x509.MarshalPKIXPublicKey(otherKey.Public())
	otherDER, _ := x509.MarshalPKCS8PrivateKey(otherKey)
	testSealer, err := newSealer(testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sealKey []byte
		// tamper edits the rows: keys[0] is current, keys[1] retiring, keys[2] retired.
		tamper func(keys []*gatehouse.SigningKey)
		ok     bool
	}{
		{name: "Untouched", ok: true, tamper: func([]*gatehouse.SigningKey) {}},
		{name: "WrongSealKey", sealKey: bytes.Repeat([]byte{1}, SealKeyBytes), tamper: func([]*gatehouse.SigningKey) {}},
		{name: "BitFlipped", tamper: func(k []*gatehouse.SigningKey) { k[0].PrivateKey[len(k[0].PrivateKey)/2] ^= 1 }},
		{name: "Truncated", tamper: func(k []*gatehouse.SigningKey) { k[0].PrivateKey = k[0].PrivateKey[:20] }},
		{name: "VersionByteChanged", tamper: func(k []*gatehouse.SigningKey) { k[0].PrivateKey[0] = 2 }},
		{name: "Empty", tamper: func(k []*gatehouse.SigningKey) { k[0].PrivateKey = nil }},
		{name: "MovedToAnotherRow", tamper: func(k []*gatehouse.SigningKey) { k[0].PrivateKey, k[1].PrivateKey = k[1].PrivateKey, k[0].PrivateKey }},
		{name: "RetiringKeyTampered", tamper: func(k []*gatehouse.SigningKey) { k[1].PrivateKey[5] ^= 1 }},
		{name: "AlgorithmChanged", tamper: func(k []*gatehouse.SigningKey) { k[0].Algorithm = EdDSA }},
		{name: "KidChanged", tamper: func(k []*gatehouse.SigningKey) { k[0].ID = "chosen-kid" }},
		{name: "PublicKeyReplaced", tamper: func(k []*gatehouse.SigningKey) { k[0].PublicKey = otherPub }},
		// Sealed properly (as only a holder of the seal key, or a bug, could)
		// under a kid that is not the key's thumbprint.
		{name: "KidNotThumbprint", tamper: func(k []*gatehouse.SigningKey) {
			k[0].ID = "chosen-kid"
			k[0].PrivateKey = testSealer.seal(k[0].ID, k[0].Algorithm, otherDER)
			k[0].PublicKey = otherPub
		}},
		{name: "UnknownAlgorithm", tamper: func(k []*gatehouse.SigningKey) { k[1].Algorithm = "PS256" }},
		{name: "TwoCurrent", tamper: func(k []*gatehouse.SigningKey) { k[1].RetiresAt = time.Time{} }},
		// A retired row verifies nothing and is never unsealed, so damage
		// to it must not keep the server from starting.
		{name: "RetiredKeyTampered", ok: true, tamper: func(k []*gatehouse.SigningKey) { k[2].PrivateKey = []byte("junk") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			store := &memKeys{}
			ring := newRing(t, ES256, clk, store)
			for range 2 {
				clk.advance(testRetire)
				if _, err := ring.Rotate(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			store.edit(tt.tamper)
			before, _ := store.SigningKeys(t.Context())
			sealKey := testSealKey
			if tt.sealKey != nil {
				sealKey = tt.sealKey
			}
			_, err := LoadKeyRing(t.Context(), store, ES256, sealKey, testRetire, clk.now)
			if tt.ok {
				if err != nil {
					t.Fatalf("LoadKeyRing: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadKeyRing accepted the altered store")
			}
			for _, s := range []string{string(sealKey), base64.StdEncoding.EncodeToString(sealKey), string(before[0].PrivateKey)} {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error reveals key material: %v", err)
				}
			}
			if after, _ := store.SigningKeys(t.Context()); len(after) != len(before) {
				t.Errorf("LoadKeyRing added a key over unreadable ones: %d keys, had %d", len(after), len(before))
			}
			// Reload refuses the same way and keeps the ring as it was.
			if err := ring.Reload(t.Context()); tt.sealKey == nil && err == nil {
				t.Error("Reload accepted the altered store")
			}
		})
	}
}

// TestSeal checks that a sealed key opens only under the key, kid and alg
// it was sealed with.
func TestSeal(t *testing.T) {
	s, err := newSealer(testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newSealer(bytes.Repeat([]byte{1}, SealKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("pkcs8 bytes")
	sealed := s.seal("ab", "ES256", secret)
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed bytes contain the plaintext")
	}
	if again := s.seal("ab", "ES256", secret); bytes.Equal(again, sealed) {
		t.Error("two seals of one key are equal: the nonce is not random")
	}
	tests := []struct {
		name     string
		s        *sealer
		kid, alg string
		ok       bool
	}{
		{"Same", s, "ab", "ES256", true},
		{"OtherKid", s, "ac", "ES256", false},
		{"OtherAlg", s, "ab", "EdDSA", false},
		{"BoundaryMoved", s, "a", "bES256", false},
		{"OtherSealKey", other, "ab", "ES256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.open(tt.kid, tt.alg, sealed)
			if tt.ok != (err == nil) || (tt.ok && !bytes.Equal(got, secret)) {
				t.Errorf("open = %q, %v; want success %v", got, err, tt.ok)
			}
		})
	}
	if _, err := newSealer(testSealKey[:31]); err == nil {
		t.Error("newSealer accepted a 31-byte key")
	}
}

func TestHMACKeyRing(t *testing.T) {
	ring := mustHMACRing(t, testSecret)
	kid := signer(ring).id
	t.Run("JWKSEmpty", func(t *testing.T) {
		if got := string(ring.JWKS()); got != `{"keys":[]}` {
			t.Errorf("JWKS = %s", got)
		}
	})
	t.Run("KidHidesSecret", func(t *testing.T) {
		for _, form := range []string{string(testSecret), base64.RawURLEncoding.EncodeToString(testSecret), base64.StdEncoding.EncodeToString(testSecret)} {
			for i := 0; i+8 <= len(form); i++ {
				if strings.Contains(kid, form[i:i+8]) {
					t.Fatalf("kid %q contains %q of the secret", kid, form[i:i+8])
				}
			}
		}
		if len(kid) != 12 {
			t.Errorf("kid %q, want 12 characters", kid)
		}
	})
	t.Run("KidStable", func(t *testing.T) {
		if again := signer(mustHMACRing(t, bytes.Clone(testSecret))).id; again != kid {
			t.Errorf("kid %s then %s for one secret", kid, again)
		}
		if other := signer(mustHMACRing(t, []byte("another secret"))).id; other == kid {
			t.Errorf("two secrets share kid %s", kid)
		}
	})
	t.Run("SecretCopied", func(t *testing.T) {
		secret := bytes.Clone(testSecret)
		r := mustHMACRing(t, secret)
		clk := newClock()
		m := newManager(t, clk, r, nil)
		tok, _ := mustIssue(t, m, params(1))
		secret[0] ^= 1
		if _, err := m.Verify(tok); err != nil {
			t.Errorf("changing the caller's slice changed the key: %v", err)
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		if _, err := ring.Rotate(t.Context()); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") {
			t.Errorf("Rotate = %v, want an error naming GATEHOUSE_SECRET_KEY", err)
		}
	})
	t.Run("Reload", func(t *testing.T) {
		if err := ring.Reload(t.Context()); err != nil {
			t.Error(err)
		}
	})
	t.Run("States", func(t *testing.T) {
		checkStates(t, ring.States(t0), []string{kid}, []string{KeyCurrent})
		if ring.Algorithm() != HS256 {
			t.Errorf("Algorithm = %s", ring.Algorithm())
		}
	})
	t.Run("EmptySecret", func(t *testing.T) {
		if _, err := NewHMACKeyRing(nil); err == nil {
			t.Error("NewHMACKeyRing accepted an empty secret")
		}
	})
}

// TestJWKS rebuilds each published key from its JWK members and compares it
// with the ring's key, and checks that nothing private is published.
func TestJWKS(t *testing.T) {
	for _, alg := range []string{RS256, ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			ring := newRing(t, alg, clk, &memKeys{})
			k := signer(ring)
			var set struct{ Keys []map[string]string }
			body := ring.JWKS()
			if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("JWKS %s: %v", body, err)
			}
			j := set.Keys[0]
			if j["kid"] != k.id || j["use"] != "sig" || j["alg"] != alg {
				t.Errorf("JWK %v", j)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
				if _, ok := j[private]; ok {
					t.Errorf("JWK publishes private member %q", private)
				}
			}
			dec := func(s string) []byte {
				b, err := base64.RawURLEncoding.DecodeString(s)
				if err != nil {
					t.Fatalf("member %q: %v", s, err)
				}
				return b
			}
			var pub crypto.PublicKey
			switch alg {
			case RS256:
				if j["kty"] != "RSA" || j["e"] != "AQAB" {
					t.Errorf("JWK %v", j)
				}
				pub = &rsa.PublicKey{N: new(big.Int).SetBytes(dec(j["n"])), E: 65537}
			case ES256:
				x, y := dec(j["x"]), dec(j["y"])
				if j["kty"] != "EC" || j["crv"] != "P-256" || len(x) != 32 || len(y) != 32 {
					t.Errorf("JWK %v", j)
				}
				p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
				if err != nil {
					t.Fatal(err)
				}
				pub = p
			case EdDSA:
				if j["kty"] != "OKP" || j["crv"] != "Ed25519" {
					t.Errorf("JWK %v", j)
				}
				pub = ed25519.PublicKey(dec(j["x"]))
			}
			if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.verifyKey) {
				t.Error("the JWK is not the ring's public key")
			}
			// RFC 7638: the kid is the thumbprint of the published members.
			jj := &jwk{Kty: j["kty"], Crv: j["crv"], N: j["n"], E: j["e"], X: j["x"], Y: j["y"]}
			if jj.thumbprint() != k.id {
				t.Errorf("kid %s is not the thumbprint %s", k.id, jj.thumbprint())
			}
			t.Run("CallerGetsACopy", func(t *testing.T) {
				b := ring.JWKS()
				b[0] = 'X'
				if !bytes.Equal(ring.JWKS(), body) {
					t.Error("changing the returned slice changed the document")
				}
			})
		})
	}
}

// TestThumbprintRFC7638 checks the thumbprint against the example of
// RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	j := &jwk{
		Kty: "RSA",
		E:   "AQAB",
		N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs" +
			"tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91" +
			"CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
	}
	if got := j.thumbprint(); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint = %s", got)
	}
}

func TestValidAlgorithm(t *testing.T) {
	tests := []struct {
		alg  string
		want bool
	}{
		{"HS256", true}, {"RS256", true}, {"ES256", true}, {"EdDSA", true},
		{"none", false}, {"", false}, {"HS512", false}, {"ES384", false}, {"PS256", false}, {"es256", false}, {"Ed25519", false},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			if got := ValidAlgorithm(tt.alg); got != tt.want {
				t.Errorf("ValidAlgorithm(%q) = %v", tt.alg, got)
			}
		})
	}
	if !ValidAlgorithm(DefaultAlgorithm) || DefaultAlgorithm == HS256 {
		t.Errorf("DefaultAlgorithm %q", DefaultAlgorithm)
	}
}

func TestIssuerAudience(t *testing.T) {
	clk := newClock()
	ring := newRing(t, HS256, clk, nil)
	strict := newManager(t, clk, ring, func(o *Options) { o.Issuer = "https://a"; o.Audience = "api" })
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"no iss or aud", nil},
		{"other issuer", func(o *Options) { o.Issuer = "https://b"; o.Audience = "api" }},
		{"other audience", func(o *Options) { o.Issuer = "https://a"; o.Audience = "other" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _ := mustIssue(t, newManager(t, clk, ring, tt.mod), params(1))
			wantInvalid(t, strict, tok)
		})
	}
}

func TestLeewayAndCache(t *testing.T) {
	clk := newClock()
	ring := newRing(t, HS256, clk, nil)
	m := newManager(t, clk, ring, nil)
	tok, c := mustIssue(t, m, params(7))
	if _, err := m.Verify(tok); err != nil { // now cached
		t.Fatal(err)
	}
	clk.set(c.ExpiresAt.Add(29 * time.Second)) // within 30 s leeway
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	clk.set(c.ExpiresAt.Add(31 * time.Second))
	if _, err := m.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("cached token past expiry: %v", err)
	}
	// Same answer without the cache.
	nc := newManager(t, clk, ring, func(o *Options) { o.CacheEntries = 0 })
	if _, err := nc.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("uncached token past expiry: %v", err)
	}
}

func TestCacheHitNeedsExactToken(t *testing.T) {
	for _, alg := range []string{HS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			m := newManager(t, clk, newRing(t, alg, clk, &memKeys{}), nil)
			tok, _ := mustIssue(t, m, params(7))
			if _, err := m.Verify(tok); err != nil {
				t.Fatal(err)
			}
			// A cached token with its last signature character changed must not hit.
			last := tok[len(tok)-1]
			repl := byte('A')
			if last == 'A' {
				repl = 'B'
			}
			wantInvalid(t, m, tok[:len(tok)-1]+string(repl))
		})
	}
}

func TestCacheBounded(t *testing.T) {
	clk := newClock()
	m := newManager(t, clk, newRing(t, HS256, clk, nil), func(o *Options) { o.CacheEntries = 16 })
	for i := range 100 {
		tok, _ := mustIssue(t, m, params(int64(i+1)))
		if _, err := m.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.cache.entries); n > 16 {
		t.Errorf("cache holds %d entries, bound is 16", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	clk := newClock()
	hmacRing := newRing(t, HS256, clk, nil)
	shortRetire, err := LoadKeyRing(t.Context(), &memKeys{}, ES256, testSealKey, testTTL, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
	}{
		{"no keys", Options{TTL: time.Minute}},
		{"no ttl", Options{Keys: hmacRing}},
		{"leeway too large", Options{Keys: hmacRing, TTL: time.Minute, Leeway: 2 * time.Minute}},
		{"negative leeway", Options{Keys: hmacRing, TTL: time.Minute, Leeway: -time.Second}},
		{"keys retire before their tokens expire", Options{Keys: shortRetire, TTL: testTTL, Leeway: testLeeway}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

// TestConcurrentRotation issues and verifies from several goroutines while
// another rotates, reloads and serves the JWKS; run with -race. Every token
// issued must verify, whichever key signed it.
func TestConcurrentRotation(t *testing.T) {
	clk := newClock()
	ring := newRing(t, EdDSA, clk, &memKeys{})
	m := newManager(t, clk, ring, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, _, err := m.Issue(params(int64(i + 1)))
				if err != nil {
					t.Error(err)
					return
				}
				for range 2 { // uncached, then cached
					if _, err := m.Verify(tok); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for range 5 {
		clk.advance(time.Second)
		if _, err := ring.Rotate(t.Context()); err != nil {
			t.Error(err)
		}
		if err := ring.Reload(t.Context()); err != nil {
			t.Error(err)
		}
		ring.JWKS()
		ring.States(clk.now())
	}
	close(stop)
	wg.Wait()
}

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s1, path, created, err := LoadOrCreateSecret(dir)
	if err != nil || !created || len(s1) != 32 {
		t.Fatalf("first call: %d bytes, created=%v, err=%v", len(s1), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	s2, _, created, err := LoadOrCreateSecret(dir)
	if err != nil || created || string(s1) != string(s2) {
		t.Fatalf("second call: created=%v err=%v same=%v", created, err, string(s1) == string(s2))
	}
	t.Run("refuses a world-readable file", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(path, 0o600)
		if _, _, _, err := LoadOrCreateSecret(dir); err == nil {
			t.Error("accepted a 0644 secret file")
		}
	})
	t.Run("refuses a corrupt file", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := LoadOrCreateSecret(dir)
		if err == nil || strings.Contains(err.Error(), "short") {
			t.Errorf("err = %v; want an error that does not echo the content", err)
		}
	})
}

// benchManager returns a manager of alg on the real clock, with a cache of
// cacheEntries (0: none).
func benchManager(b *testing.B, alg string, cacheEntries int) *Manager {
	b.Helper()
	var ring *KeyRing
	var err error
	if alg == HS256 {
		ring, err = NewHMACKeyRing(testSecret)
	} else {
		ring, err = LoadKeyRing(b.Context(), &memKeys{}, alg, testSealKey, testRetire, nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(Options{Keys: ring, TTL: testTTL, Leeway: testLeeway, CacheEntries: cacheEntries})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkIssue(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(alg, func(b *testing.B) {
			m := benchManager(b, alg, 0)
			p := IssueParams{UserID: 1, Username: "bench", SessionID: "s-1"}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := m.Issue(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range algorithms {
		for _, tc := range []struct {
			name  string
			cache int
		}{{"uncached", 0}, {"cached", 1000}} {
			b.Run(alg+"/"+tc.name, func(b *testing.B) {
				m := benchManager(b, alg, tc.cache)
				tok, _, err := m.Issue(IssueParams{UserID: 1, Username: "bench", SessionID: "s-1"})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Verify(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerifyMapClaims is the baseline the issue measured: generic map
// claims, the way most tutorials verify.
func BenchmarkVerifyMapClaims(b *testing.B) {
	m := benchManager(b, HS256, 0)
	tok, _, err := m.Issue(IssueParams{UserID: 1, Username: "bench", SessionID: "s-1"})
	if err != nil {
		b.Fatal(err)
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return testSecret, nil }); err != nil {
			b.Fatal(err)
		}
	}
}
