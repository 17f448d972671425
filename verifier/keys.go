package verifier

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// verifyKey is a public key and the one algorithm it was published for.
type verifyKey struct {
	alg string
	key crypto.PublicKey
}

// keySet is one fetched JWKS, by kid. It is never modified once built.
type keySet struct {
	keys      map[string]verifyKey
	fetchedAt time.Time
}

// keySource holds the current key set and refreshes it: on a token naming an
// unknown kid (at most once per minInterval, since anyone can send such
// tokens), and periodically (every maxInterval, or the JWKS's max-age if
// shorter) so that removed keys stop verifying.
type keySource struct {
	url         string
	client      *http.Client
	algorithms  []string
	minInterval time.Duration
	maxInterval time.Duration
	now         func() time.Time
	log         *slog.Logger
	onRemoved   func()          // a key left the set: forget tokens it verified
	ctx         context.Context // fetches run under it, not under one caller's
	bg          *background

	set  atomic.Pointer[keySet]
	next atomic.Int64 // unix nanoseconds: when the periodic refresh is due

	mu          sync.Mutex
	lastAttempt time.Time
	inflight    chan struct{} // closed when the running fetch ends; nil if none

	refreshes, failures atomic.Uint64
}

// load fetches the key set for the first time; New fails if it cannot.
func (s *keySource) load(ctx context.Context) error {
	now := s.now()
	s.lastAttempt = now
	set, interval, err := s.fetch(ctx)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	if len(set.keys) == 0 {
		return fmt.Errorf("verifier: the JWKS at %s has no usable key for the algorithms %v", s.url, s.algorithms)
	}
	s.install(set, interval, now)
	return nil
}

func (s *keySource) lookup(kid string) (verifyKey, bool) {
	k, ok := s.set.Load().keys[kid]
	return k, ok
}

// refreshIfDue starts a background refresh when the periodic one is due. On
// the hot path it costs one atomic load.
func (s *keySource) refreshIfDue(now time.Time) {
	if now.UnixNano() >= s.next.Load() {
		s.refresh(context.Background(), false)
	}
}

// refresh fetches the key set again, unless a fetch is already running or
// the last one began less than minInterval ago. With wait it returns when the
// running fetch ends (or ctx is done), so that the caller can look its kid
// up again; without, at once.
func (s *keySource) refresh(ctx context.Context, wait bool) {
	s.mu.Lock()
	ch := s.inflight
	if ch == nil {
		now := s.now()
		if s.ctx.Err() != nil || now.Sub(s.lastAttempt) < s.minInterval { // stopped, or too soon
			s.next.Store(s.lastAttempt.Add(s.minInterval).UnixNano())
			s.mu.Unlock()
			return
		}
		s.lastAttempt = now
		// Until this fetch succeeds, the next periodic try is minInterval away.
		s.next.Store(now.Add(s.minInterval).UnixNano())
		ch = make(chan struct{})
		s.inflight = ch
		started := s.bg.spawn(func() {
			s.update()
			s.mu.Lock()
			s.inflight = nil
			s.mu.Unlock()
			close(ch)
		})
		if !started { // Close was called
			s.inflight = nil
			s.mu.Unlock()
			return
		}
	}
	s.mu.Unlock()
	if !wait {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// update fetches the key set and installs it. On failure the keys we have
// stay: an unreachable issuer must not make every token unverifiable.
func (s *keySource) update() {
	set, interval, err := s.fetch(s.ctx)
	if err != nil {
		s.failures.Add(1)
		s.log.Warn("verifier: JWKS refresh failed; keeping the current keys", "url", s.url, "error", err)
		return
	}
	s.install(set, interval, s.now())
}

// install makes set current. If a key left the set (or changed), tokens it
// verified are dropped from the cache: a key is removed because it must no
// longer be trusted.
func (s *keySource) install(set *keySet, interval time.Duration, now time.Time) {
	old := s.set.Swap(set)
	s.refreshes.Add(1)
	s.next.Store(now.Add(interval).UnixNano())
	if old == nil {
		s.log.Info("verifier: keys loaded", "url", s.url, "kids", kids(set))
		return
	}
	removed := false
	for kid, k := range old.keys {
		if nk, ok := set.keys[kid]; !ok || nk.alg != k.alg || !sameKey(nk.key, k.key) {
			removed = true
			break
		}
	}
	if removed {
		s.onRemoved()
	}
	if removed || len(set.keys) != len(old.keys) {
		s.log.Info("verifier: keys changed", "url", s.url, "kids", kids(set))
	}
}

func sameKey(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func kids(set *keySet) []string {
	out := make([]string, 0, len(set.keys))
	for kid := range set.keys {
		out = append(out, kid)
	}
	slices.Sort(out)
	return out
}

func (s *keySource) stats(st *Stats) {
	set := s.set.Load()
	st.Keys = len(set.keys)
	st.LastKeyRefresh = set.fetchedAt
	st.KeyRefreshes = s.refreshes.Load()
	st.KeyRefreshFailures = s.failures.Load()
}

// fetch GETs the JWKS and keeps the keys usable for our algorithms. It
// returns how long the set may be used before the periodic refresh.
func (s *keySource) fetch(ctx context.Context) (*keySet, time.Duration, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	res, err := getJSON(ctx, s.client, s.url, maxJWKSBytes, &doc)
	if err != nil {
		return nil, 0, fmt.Errorf("JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, 0, fmt.Errorf("JWKS at %s has no \"keys\" member", s.url)
	}
	set := &keySet{keys: make(map[string]verifyKey, len(doc.Keys)), fetchedAt: s.now()}
	dup := map[string]bool{}
	for _, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			s.log.Warn("verifier: JWKS key ignored", "url", s.url, "error", err)
			continue
		}
		k, err := j.verifyKey()
		if err != nil {
			s.log.Warn("verifier: JWKS key ignored", "url", s.url, "kid", j.Kid, "error", err)
			continue
		}
		if !slices.Contains(s.algorithms, k.alg) {
			s.log.Debug("verifier: JWKS key ignored: algorithm not accepted", "url", s.url, "kid", j.Kid, "alg", k.alg)
			continue
		}
		if _, ok := set.keys[j.Kid]; ok || dup[j.Kid] {
			// Two keys under one kid: which one a token means is
			// ambiguous, so neither is used.
			s.log.Warn("verifier: JWKS has several keys with one kid; none of them is used", "url", s.url, "kid", j.Kid)
			delete(set.keys, j.Kid)
			dup[j.Kid] = true
			continue
		}
		set.keys[j.Kid] = k
	}
	interval := s.maxInterval
	if age, ok := maxAge(res.Header.Get("Cache-Control")); ok && age < interval {
		interval = max(age, s.minInterval)
	}
	return set, interval, nil
}

// maxAge returns the max-age directive of a Cache-Control header.
func maxAge(cc string) (time.Duration, bool) {
	for d := range strings.SplitSeq(cc, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(d), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<31)) * time.Second, true
	}
	return 0, false
}

// jwk is one JSON Web Key (RFC 7517), public members only.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	Alg    string   `json:"alg"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	D      string   `json:"d"`
}

var rsaAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

var ecCurves = map[string]struct {
	curve elliptic.Curve
	alg   string
	size  int
}{
	"P-256": {elliptic.P256(), "ES256", 32},
	"P-384": {elliptic.P384(), "ES384", 48},
	"P-521": {elliptic.P521(), "ES512", 66},
}

// verifyKey checks that j is a public signature key and decodes it with its
// algorithm. An EC or OKP key's curve fixes its algorithm; an RSA key must
// state it, since RS256 and PS512 keys look alike.
func (j *jwk) verifyKey() (verifyKey, error) {
	switch {
	case j.Kid == "":
		return verifyKey{}, errors.New("no kid")
	case j.Use != "" && j.Use != "sig":
		return verifyKey{}, fmt.Errorf("use %q is not sig", j.Use)
	case j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify"):
		return verifyKey{}, fmt.Errorf("key_ops %v lack verify", j.KeyOps)
	case j.D != "":
		// Whoever can read the JWKS can sign with this key.
		return verifyKey{}, errors.New("the JWKS publishes this key's private part")
	}
	b64 := base64.RawURLEncoding.Strict()
	switch j.Kty {
	case "EC":
		c, ok := ecCurves[j.Crv]
		if !ok {
			return verifyKey{}, fmt.Errorf("EC curve %q not supported", j.Crv)
		}
		if j.Alg != "" && j.Alg != c.alg {
			return verifyKey{}, fmt.Errorf("alg %q does not fit curve %s", j.Alg, j.Crv)
		}
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != c.size || len(y) != c.size {
			return verifyKey{}, errors.New("malformed EC coordinates")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, slices.Concat([]byte{4}, x, y))
		if err != nil {
			return verifyKey{}, err
		}
		return verifyKey{alg: c.alg, key: pub}, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return verifyKey{}, fmt.Errorf("OKP curve %q not supported", j.Crv)
		}
		if j.Alg != "" && j.Alg != "EdDSA" {
			return verifyKey{}, fmt.Errorf("alg %q does not fit Ed25519", j.Alg)
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return verifyKey{}, errors.New("malformed Ed25519 key")
		}
		return verifyKey{alg: "EdDSA", key: ed25519.PublicKey(x)}, nil
	case "RSA":
		if !slices.Contains(rsaAlgorithms, j.Alg) {
			return verifyKey{}, fmt.Errorf("RSA key with alg %q: an RSA key must name one of %v", j.Alg, rsaAlgorithms)
		}
		n, errN := b64.DecodeString(j.N)
		e, errE := b64.DecodeString(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return verifyKey{}, errors.New("malformed RSA key")
		}
		var exp int64
		for _, b := range e {
			exp = exp<<8 | int64(b)
		}
		if exp < 3 || exp%2 == 0 || exp > math.MaxInt32 {
			return verifyKey{}, fmt.Errorf("RSA exponent %d", exp)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
		if pub.N.BitLen() < minRSABits {
			return verifyKey{}, fmt.Errorf("RSA modulus of %d bits, less than %d", pub.N.BitLen(), minRSABits)
		}
		return verifyKey{alg: j.Alg, key: pub}, nil
	}
	return verifyKey{}, fmt.Errorf("kty %q is not a public signature key type", j.Kty)
}
