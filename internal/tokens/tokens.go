// Package tokens issues and verifies gatehouse's access tokens (JWTs, in
// the RFC 9068 profile where it fits) and holds the keys that sign them.
//
// Verification follows RFC 8725: the algorithms are pinned by the server
// (never "none"), and each key verifies only its own algorithm, so no alg in
// a token's header ever picks the kind of key; the token must be explicitly
// typed at+jwt; exp is required; exp/nbf/iat are checked with a bounded
// leeway; iss/aud are checked when configured; a "crit" header is refused;
// and kid only selects among the keys the server already holds: nothing is
// ever fetched on a token's say (jku, x5u, a kid that is a URL). The most an
// unknown kid does is make the ring re-read its own key store, at most once
// a second, in case another instance has rotated.
package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenBytes bounds the size of a token accepted for verification. Our own
// tokens are a few hundred bytes; the bound stops an attacker from making the
// server base64- and JSON-decode megabytes per request.
const MaxTokenBytes = 8 << 10

// MaxLeeway is the largest clock skew tolerated on exp, nbf and iat.
const MaxLeeway = 60 * time.Second

// ErrInvalid is wrapped by every verification failure. Callers answer all of
// them alike (401), so the reason is for logs and tests only.
var ErrInvalid = errors.New("invalid token")

// accessTokenType is the typ of gatehouse's access tokens (RFC 9068 §2.1).
const accessTokenType = "at+jwt"

// Claims are the verified claims of an access token.
type Claims struct {
	Subject   string // the user id, as a string (RFC 7519 §4.1.2)
	Username  string
	SessionID string   // sid: the session the token was issued from
	ClientID  string   // client_id (RFC 9068 §2.2), when the session has one
	Scope     string   // scope (RFC 9068 §2.2.3), space-separated, when granted
	Roles     []string // roles (RFC 9068 §2.2.3.1, RFC 7643 §4.1.2): the user's roles when issued
	ID        string   // jti
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	KeyID     string // the kid of the header: the key that signed the token

	// AMR (RFC 8176) says how the user authenticated, e.g. ["pwd", "otp"],
	// and AAL the assurance level that reached ("aal1", "aal2").
	AMR []string
	AAL string
}

// UserID returns the subject as a user id.
func (c Claims) UserID() (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: subject %q is not a user id", ErrInvalid, c.Subject)
	}
	return id, nil
}

// IssueParams say whom and what an access token is for.
type IssueParams struct {
	UserID    int64
	Username  string
	SessionID string   // required: revoking the session must reach its tokens
	ClientID  string   // optional
	Scope     string   // optional
	Roles     []string // optional: the "roles" claim

	AMR []string // optional: the session's authentication methods
	AAL string   // optional: their assurance level
}

// Options configure a Manager.
type Options struct {
	TTL      time.Duration // access token lifetime
	Issuer   string        // set as iss and required on verify when non-empty
	Audience string        // set as aud and required on verify when non-empty
	Leeway   time.Duration // clock skew tolerance, at most MaxLeeway; 0 means none
	// CacheEntries bounds the verified-token cache; 0 disables it.
	CacheEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Keys sign and verify the tokens. Required.
	Keys *KeyRing
}

// Manager issues and verifies access tokens. It is safe for concurrent use.
type Manager struct {
	keys     *KeyRing
	ttl      time.Duration
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	cache    *verifiedCache
}

// jwtClaims is the wire form. A struct rather than jwt.MapClaims: decoding
// into fixed fields is several times cheaper than into a map, and a claim of
// the wrong JSON type (an integer "sub", as the tutorial issues) fails to
// decode.
type jwtClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid,omitempty"`
	Username  string   `json:"username,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Roles     []string `json:"roles,omitempty"`

	AMR []string `json:"amr,omitempty"`
	AAL string   `json:"aal,omitempty"`
}

// New returns a Manager that signs with opts.Keys.
func New(opts Options) (*Manager, error) {
	if opts.Keys == nil {
		return nil, errors.New("tokens: no key ring")
	}
	if opts.TTL <= 0 {
		return nil, errors.New("tokens: access token TTL must be positive")
	}
	if opts.Leeway < 0 || opts.Leeway > MaxLeeway {
		return nil, fmt.Errorf("tokens: leeway %v outside [0, %v]", opts.Leeway, MaxLeeway)
	}
	// A key rotated out must outlive the last token it signed, or a rotation
	// would log users out early.
	if !opts.Keys.hmac && opts.Keys.retireAfter < opts.TTL+opts.Leeway {
		return nil, fmt.Errorf("tokens: keys retire %v after rotation, less than the token lifetime plus leeway (%v)",
			opts.Keys.retireAfter, opts.TTL+opts.Leeway)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	// The method list is a first fence; the second, per key, is in
	// keyFor: each key verifies only its own algorithm.
	methods := []string{RS256, ES256, EdDSA}
	if opts.Keys.hmac {
		methods = []string{HS256}
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		// Set padding bits make other spellings of one signature decode
		// alike; with them refused (and the alphabet checked in Verify),
		// a token has one spelling, which the cache is keyed on.
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithTimeFunc(now),
	}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	m := &Manager{
		keys:     opts.Keys,
		ttl:      opts.TTL,
		issuer:   opts.Issuer,
		audience: opts.Audience,
		leeway:   opts.Leeway,
		now:      now,
		parser:   jwt.NewParser(popts...),
	}
	if opts.CacheEntries > 0 {
		m.cache = newVerifiedCache(opts.CacheEntries)
	}
	return m, nil
}

// TTL returns the lifetime of issued access tokens.
func (m *Manager) TTL() time.Duration { return m.ttl }

// Keys returns the ring that signs and verifies the tokens.
func (m *Manager) Keys() *KeyRing { return m.keys }

// Issue signs an access token with the ring's current key.
func (m *Manager) Issue(p IssueParams) (string, Claims, error) {
	if p.UserID <= 0 {
		return "", Claims{}, fmt.Errorf("tokens: issue: user id %d", p.UserID)
	}
	if p.SessionID == "" {
		return "", Claims{}, errors.New("tokens: issue: no session id")
	}
	k := m.keys.state.Load().signer
	now := m.now().UTC().Truncate(time.Second)
	c := Claims{
		Subject:   strconv.FormatInt(p.UserID, 10),
		Username:  p.Username,
		SessionID: p.SessionID,
		ClientID:  p.ClientID,
		Scope:     p.Scope,
		Roles:     p.Roles,
		ID:        rand.Text(), // 128 bits from crypto/rand
		Issuer:    m.issuer,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(m.ttl),
		KeyID:     k.id,
		AMR:       p.AMR,
		AAL:       p.AAL,
	}
	if m.audience != "" {
		c.Audience = []string{m.audience}
	}
	payload, err := json.Marshal(&jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			ID:        c.ID,
			Issuer:    c.Issuer,
			Audience:  c.Audience,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.NotBefore),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
		SessionID: c.SessionID,
		Username:  c.Username,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
		AMR:       c.AMR,
		AAL:       c.AAL,
		Roles:     c.Roles,
	})
	if err != nil {
		return "", Claims{}, fmt.Errorf("tokens: encode claims: %w", err)
	}
	// The header is the key's, encoded once at load.
	signing := k.header + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := k.method.Sign(signing, k.signKey)
	if err != nil {
		return "", Claims{}, fmt.Errorf("tokens: sign: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), c, nil
}

// Verify checks token and returns its claims. Every failure wraps ErrInvalid.
//
// A well-formed token whose kid the ring does not hold, on an asymmetric
// ring, may be one signed by a key another instance has just rotated in:
// Verify then reloads the ring and looks the kid up once more, so that such
// tokens verify at once rather than after the next periodic Reload (and,
// as after any Reload, the ring signs with the new current key). A ring
// reloads so at most once a second, however many tokens miss; misses during
// a reload wait for it (up to two seconds), later ones in that second fail
// at once. Tokens that fail before their kid is looked up (malformed,
// oversized, wrong typ) never cause a reload, and HMAC rings never reload.
//
// A token verified once is remembered (by its exact bytes) until it expires,
// since a client sends the same token for many requests: a repeat costs a map
// look-up, a clock check and a check that its key has not retired, instead
// of base64, JSON and signature work. Only a token that passed every check
// enters the cache, and the time and key checks are repeated on every hit.
func (m *Manager) Verify(token string) (Claims, error) {
	if len(token) == 0 || len(token) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: size %d outside (0, %d]", ErrInvalid, len(token), MaxTokenBytes)
	}
	now := m.now()
	st := m.keys.state.Load()
	if m.cache != nil {
		if c, ok := m.cache.get(token); ok {
			if err := m.checkCached(st, c, now); err != nil {
				m.cache.remove(token)
				return Claims{}, err
			}
			return c, nil
		}
	}
	// A cache hit is a token that passed this check already.
	if !isCompactJWS(token) {
		return Claims{}, fmt.Errorf("%w: not three base64url segments", ErrInvalid)
	}
	var (
		wire jwtClaims
		key  *ringKey
	)
	_, err := m.parser.ParseWithClaims(token, &wire, func(t *jwt.Token) (any, error) {
		k, err := keyFor(st, t, now)
		if errors.Is(err, errUnknownKid) {
			k, err = m.keyAfterReload(t, now)
		}
		if err != nil {
			return nil, err
		}
		key = k
		return k.verifyKey, nil
	})
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c := fromWire(&wire)
	c.KeyID = key.id
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	if c.SessionID == "" {
		return Claims{}, fmt.Errorf("%w: no session id", ErrInvalid)
	}
	if m.cache != nil {
		m.cache.put(token, c, now)
	}
	return c, nil
}

// jwsByte marks the bytes of a compact JWS: the base64url alphabet and '.'.
var jwsByte = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()

// isCompactJWS reports whether token holds only base64url and two dots.
// The base64 decoder would skip CR and LF, letting one token be spelled
// many ways; refusing them up front also keeps garbage from the JSON decoder.
func isCompactJWS(token string) bool {
	dots := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !jwsByte[c] {
			return false
		}
		if c == '.' {
			dots++
		}
	}
	return dots == 2
}

// keyFor runs after the header is decoded and before the signature is
// checked, and returns the one key that may verify the token. The header's
// alg has already passed the parser's pinned list.
func keyFor(st *ringState, t *jwt.Token, now time.Time) (*ringKey, error) {
	// RFC 7515 §4.1.11: a recipient must reject a token whose "crit" lists an
	// extension it does not understand; we understand none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header not supported")
	}
	if typ, _ := t.Header["typ"].(string); !isAccessTokenType(typ) {
		return nil, errors.New("typ is not at+jwt")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid")
	}
	// The kid is attacker-chosen: it is looked up, never echoed or fetched.
	k := st.byKID[kid]
	if k == nil {
		return nil, errUnknownKid
	}
	// The key, not the header, decides the algorithm: an HS256 header over
	// an ES256 key's kid must not make its public key an HMAC secret.
	if alg := t.Method.Alg(); alg != k.alg {
		return nil, fmt.Errorf("alg %s does not match the key's %s", alg, k.alg)
	}
	if k.retired(now) {
		return nil, errors.New("signing key retired")
	}
	return k, nil
}

// errUnknownKid is keyFor's answer to a kid the ring does not hold, the one
// failure that a reload may cure.
var errUnknownKid = errors.New("unknown kid")

// keyAfterReload looks t's kid up again after reloading the ring, for a
// token whose kid was not in the snapshot Verify began with. An HMAC ring is
// never reloaded: its one key comes from the configuration, so a kid it
// does not hold is not one it could learn.
func (m *Manager) keyAfterReload(t *jwt.Token, now time.Time) (*ringKey, error) {
	r := m.keys
	if r.hmac || r.store == nil {
		return nil, errUnknownKid
	}
	rerr := r.reloadForUnknownKid()
	// Looked up in the newest snapshot even when this call did not reload:
	// a reload (periodic, or for another token) may have run since Verify
	// loaded its snapshot.
	k, err := keyFor(r.state.Load(), t, now)
	if errors.Is(err, errUnknownKid) && rerr != nil && !errors.Is(rerr, errKidReloadThrottled) {
		return nil, fmt.Errorf("%w (reloading the keys failed: %v)", err, rerr)
	}
	return k, err
}

// isAccessTokenType reports whether typ names RFC 9068's media type. Media
// types compare case-insensitively, and RFC 7515 §4.1.9 lets the
// "application/" prefix be left out or kept.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == accessTokenType || typ == "application/"+accessTokenType
}

// checkCached repeats the checks that can change after a token was cached:
// the time, and whether its key still verifies (it may have retired, or
// left the ring on a reload).
func (m *Manager) checkCached(st *ringState, c Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(m.leeway)) {
		return fmt.Errorf("%w: %w", ErrInvalid, jwt.ErrTokenExpired)
	}
	if now.Add(m.leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: %w", ErrInvalid, jwt.ErrTokenNotValidYet)
	}
	if k := st.byKID[c.KeyID]; k == nil || k.retired(now) {
		return fmt.Errorf("%w: signing key no longer valid", ErrInvalid)
	}
	return nil
}

func fromWire(w *jwtClaims) Claims {
	c := Claims{
		Subject:   w.Subject,
		Username:  w.Username,
		SessionID: w.SessionID,
		ClientID:  w.ClientID,
		Scope:     w.Scope,
		Roles:     w.Roles,
		ID:        w.ID,
		Issuer:    w.Issuer,
		Audience:  w.Audience,
		AMR:       w.AMR,
		AAL:       w.AAL,
	}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.Time
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.Time
	}
	if w.ExpiresAt != nil {
		c.ExpiresAt = w.ExpiresAt.Time
	}
	return c
}
