package tokens

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newManager(tb testing.TB, clk *clock, mod func(*Options)) *Manager {
	tb.Helper()
	opts := Options{Secret: testSecret, TTL: 30 * time.Minute, Leeway: 30 * time.Second, CacheEntries: 100, Now: clk.now}
	if mod != nil {
		mod(&opts)
	}
	m, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// forge signs arbitrary claims and headers, as an attacker with (or without)
// the secret would.
func forge(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestIssueVerify(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	m := newManager(t, clk, func(o *Options) { o.Issuer = "https://auth.example"; o.Audience = "api" })
	tok, issued, err := m.Issue(42, "알리스")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "42" || got.Username != "알리스" || got.ID == "" || got.ID != issued.ID {
		t.Errorf("claims = %+v", got)
	}
	if id, _ := got.UserID(); id != 42 {
		t.Errorf("UserID = %d", id)
	}
	if !got.ExpiresAt.Equal(clk.t.Add(30*time.Minute)) || got.Issuer != "https://auth.example" || len(got.Audience) != 1 {
		t.Errorf("claims = %+v", got)
	}
	// The sub claim must be a JSON string on the wire (RFC 7519 §4.1.2).
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if !strings.Contains(string(payload), `"sub":"42"`) {
		t.Errorf("payload %s lacks string sub", payload)
	}
	// Two tokens never share a jti.
	tok2, _, _ := m.Issue(42, "알리스")
	if tok2 == tok {
		t.Error("two issues gave the same token")
	}
}

func TestVerifyRejectsAttacks(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	now := clk.t
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "1", "username": "a", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "x"}
	}
	with := func(mod func(jwt.MapClaims)) jwt.MapClaims { c := valid(); mod(c); return c }

	fetched := atomic.Int32{}
	keyServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer keyServer.Close()

	good := forge(t, jwt.SigningMethodHS256, testSecret, valid(), nil)
	parts := strings.Split(good, ".")

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."},
		{"alg None mixed case", b64(`{"alg":"None","typ":"JWT"}`) + "." + parts[1] + "."},
		{"alg HS512 with the right secret", forge(t, jwt.SigningMethodHS512, testSecret, valid(), nil)},
		{"alg HS384 with the right secret", forge(t, jwt.SigningMethodHS384, testSecret, valid(), nil)},
		{"header claims RS256 over an HMAC signature", b64(`{"alg":"RS256","typ":"JWT"}`) + "." + parts[1] + "." + parts[2]},
		{"wrong secret", forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-!!"), valid(), nil)},
		{"tampered payload", parts[0] + "." + b64(`{"sub":"2","username":"a","exp":9999999999}`) + "." + parts[2]},
		{"stripped signature", parts[0] + "." + parts[1] + "."},
		{"no exp (the tutorial's never-expiring token)", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "exp") }), nil)},
		{"expired beyond leeway", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-31 * time.Second).Unix() }), nil)},
		{"not yet valid beyond leeway", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), nil)},
		{"issued in the future", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), nil)},
		{"integer sub (as the tutorial issues)", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = 1 }), nil)},
		{"missing sub", forge(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "sub") }), nil)},
		{"crit header", forge(t, jwt.SigningMethodHS256, testSecret, valid(), map[string]any{"crit": []string{"exp"}})},
		{"jku pointing at an attacker's keys", forge(t, jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret!"), valid(), map[string]any{"jku": keyServer.URL, "x5u": keyServer.URL, "kid": keyServer.URL})},
		{"oversized", parts[0] + "." + b64(`{"sub":"1","pad":"`+strings.Repeat("A", MaxTokenBytes)+`"}`) + "." + parts[2]},
		{"empty", ""},
		{"garbage", "not-a-jwt"},
		{"two segments", parts[0] + "." + parts[1]},
		{"non-base64 segments", "%%%.%%%.%%%"},
	}
	m := newManager(t, clk, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Verify(tt.token)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("verification fetched a URL from the token %d times", n)
	}
	if _, err := m.Verify(good); err != nil {
		t.Errorf("the untampered token was refused: %v", err)
	}
}

func TestIssuerAudience(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	strict := newManager(t, clk, func(o *Options) { o.Issuer = "https://a"; o.Audience = "api" })
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
			tok, _, err := newManager(t, clk, tt.mod).Issue(1, "a")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := strict.Verify(tok); !errors.Is(err, ErrInvalid) {
				t.Errorf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestLeewayAndCache(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	m := newManager(t, clk, nil)
	tok, c, _ := m.Issue(7, "bob")
	if _, err := m.Verify(tok); err != nil { // now cached
		t.Fatal(err)
	}
	clk.t = c.ExpiresAt.Add(29 * time.Second) // within 30 s leeway
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	clk.t = c.ExpiresAt.Add(31 * time.Second)
	if _, err := m.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("cached token past expiry: %v", err)
	}
	// Same answer without the cache.
	nc := newManager(t, clk, func(o *Options) { o.CacheEntries = 0 })
	if _, err := nc.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("uncached token past expiry: %v", err)
	}
}

func TestCacheHitNeedsExactToken(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	m := newManager(t, clk, nil)
	tok, _, _ := m.Issue(7, "bob")
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
	// A cached token with its last signature character changed must not hit.
	last := tok[len(tok)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	if _, err := m.Verify(tok[:len(tok)-1] + string(repl)); !errors.Is(err, ErrInvalid) {
		t.Errorf("altered signature accepted: %v", err)
	}
}

func TestCacheBounded(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	m := newManager(t, clk, func(o *Options) { o.CacheEntries = 16 })
	for i := range 100 {
		tok, _, _ := m.Issue(int64(i+1), "u")
		if _, err := m.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.cache.entries); n > 16 {
		t.Errorf("cache holds %d entries, bound is 16", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no secret", Options{TTL: time.Minute}},
		{"no ttl", Options{Secret: testSecret}},
		{"leeway too large", Options{Secret: testSecret, TTL: time.Minute, Leeway: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Error("New succeeded")
			}
		})
	}
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

func BenchmarkIssue(b *testing.B) {
	m := newManager(b, &clock{time.Now()}, func(o *Options) { o.Now = time.Now })
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Issue(1, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		cache int
	}{{"uncached", 0}, {"cached", 1000}} {
		b.Run(tc.name, func(b *testing.B) {
			m := newManager(b, &clock{}, func(o *Options) { o.Now = time.Now; o.CacheEntries = tc.cache })
			tok, _, _ := m.Issue(1, "bench")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyMapClaims is the baseline the issue measured: generic map
// claims, the way most tutorials verify.
func BenchmarkVerifyMapClaims(b *testing.B) {
	m := newManager(b, &clock{}, func(o *Options) { o.Now = time.Now })
	tok, _, _ := m.Issue(1, "bench")
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return testSecret, nil }); err != nil {
			b.Fatal(err)
		}
	}
}
