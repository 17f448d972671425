// Package tokens issues and verifies gatehouse's access tokens (JWTs).
//
// Verification follows RFC 8725: the algorithm list is pinned by the server
// (never taken from the token's header, never "none"), exp is required,
// exp/nbf/iat are checked with a bounded leeway, iss/aud are checked when
// configured, a "crit" header is refused, and key-locating headers such as
// jku, x5u and kid URLs are ignored: nothing is ever fetched on a token's say.
package tokens

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
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

// Claims are the verified claims of an access token.
type Claims struct {
	Subject   string // the user id, as a string (RFC 7519 §4.1.2)
	Username  string
	ID        string // jti
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// UserID returns the subject as a user id.
func (c Claims) UserID() (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: subject %q is not a user id", ErrInvalid, c.Subject)
	}
	return id, nil
}

// Options configure a Manager.
type Options struct {
	Secret   []byte        // HS256 key; RFC 7518 §3.2 asks for at least 32 bytes
	TTL      time.Duration // access token lifetime
	Issuer   string        // set as iss and required on verify when non-empty
	Audience string        // set as aud and required on verify when non-empty
	Leeway   time.Duration // clock skew tolerance, at most MaxLeeway; 0 means none
	// CacheEntries bounds the verified-token cache; 0 disables it.
	CacheEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager issues and verifies HS256 access tokens. It is safe for concurrent use.
type Manager struct {
	secret   []byte
	ttl      time.Duration
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	cache    *verifiedCache
}

// jwtClaims is the wire form. A struct rather than jwt.MapClaims: decoding
// into fixed fields is several times cheaper than into a map, and a "sub"
// that is not a string (the tutorial issues integers) fails to decode.
type jwtClaims struct {
	jwt.RegisteredClaims
	Username string `json:"username,omitempty"`
}

// New returns a Manager for HS256 tokens.
func New(opts Options) (*Manager, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("tokens: empty signing secret")
	}
	if opts.TTL <= 0 {
		return nil, errors.New("tokens: access token TTL must be positive")
	}
	if opts.Leeway < 0 || opts.Leeway > MaxLeeway {
		return nil, fmt.Errorf("tokens: leeway %v outside [0, %v]", opts.Leeway, MaxLeeway)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
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
		secret:   append([]byte(nil), opts.Secret...),
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

// Issue signs an access token for the user.
func (m *Manager) Issue(userID int64, username string) (string, Claims, error) {
	now := m.now().UTC().Truncate(time.Second)
	c := Claims{
		Subject:   strconv.FormatInt(userID, 10),
		Username:  username,
		ID:        rand.Text(), // 128 bits from crypto/rand
		Issuer:    m.issuer,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(m.ttl),
	}
	if m.audience != "" {
		c.Audience = []string{m.audience}
	}
	wire := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			ID:        c.ID,
			Issuer:    c.Issuer,
			Audience:  c.Audience,
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.NotBefore),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
		Username: username,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, wire).SignedString(m.secret)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign token: %w", err)
	}
	return s, c, nil
}

// Verify checks token and returns its claims. Every failure wraps ErrInvalid.
//
// A token verified once is remembered (by its exact bytes) until it expires,
// since a client sends the same token for many requests: a repeat costs a map
// look-up and a clock check instead of base64, JSON and HMAC work. Only a
// token that passed every check enters the cache, and the time checks are
// repeated on every hit.
func (m *Manager) Verify(token string) (Claims, error) {
	if len(token) == 0 || len(token) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: size %d outside (0, %d]", ErrInvalid, len(token), MaxTokenBytes)
	}
	now := m.now()
	if m.cache != nil {
		if c, ok := m.cache.get(token); ok {
			if err := m.checkTimes(c, now); err != nil {
				m.cache.remove(token)
				return Claims{}, err
			}
			return c, nil
		}
	}
	var wire jwtClaims
	if _, err := m.parser.ParseWithClaims(token, &wire, m.keyFunc); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c := fromWire(&wire)
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	if m.cache != nil {
		m.cache.put(token, c, now)
	}
	return c, nil
}

// keyFunc runs after the header is decoded and before the signature is
// checked. The algorithm itself is pinned by the parser (WithValidMethods).
func (m *Manager) keyFunc(t *jwt.Token) (any, error) {
	// RFC 7515 §4.1.11: a recipient must reject a token whose "crit" lists an
	// extension it does not understand; we understand none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header not supported")
	}
	return m.secret, nil
}

// checkTimes repeats the time-dependent checks for a cached token.
func (m *Manager) checkTimes(c Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(m.leeway)) {
		return fmt.Errorf("%w: %w", ErrInvalid, jwt.ErrTokenExpired)
	}
	if now.Add(m.leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: %w", ErrInvalid, jwt.ErrTokenNotValidYet)
	}
	return nil
}

func fromWire(w *jwtClaims) Claims {
	c := Claims{
		Subject:  w.Subject,
		Username: w.Username,
		ID:       w.ID,
		Issuer:   w.Issuer,
		Audience: w.Audience,
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
