package verifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenBytes bounds the size of a token accepted for verification.
// Gatehouse's tokens are well under 2 KiB; the bound stops a client from
// making the service decode megabytes per request.
const MaxTokenBytes = 8 << 10

// MaxLeeway is the largest clock skew [Config.Leeway] may tolerate.
const MaxLeeway = 60 * time.Second

// Defaults of Config.
const (
	defaultLeeway             = 30 * time.Second
	defaultMinRefreshInterval = 30 * time.Second
	defaultRefreshInterval    = 10 * time.Minute
	// cacheEntries bounds the verified-token cache.
	cacheEntries = 10000
)

// defaultAlgorithms are the asymmetric algorithms gatehouse signs with.
var defaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// supportedAlgorithms are those Config.Algorithms may name when keys come from
// a JWKS. HMAC algorithms are absent: a shared secret is never published, so
// an HMAC key found in a JWKS could only be an attack.
var supportedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

var (
	// ErrInvalidToken is matched (with errors.Is) by every error of
	// [Verifier.Verify] that means the token must not be accepted: malformed,
	// forged, expired, for another issuer or audience, or revoked. The text
	// after it says why, for logs; clients should all get the same 401.
	ErrInvalidToken = errors.New("invalid token")

	// ErrRevoked is returned for a token whose session gatehouse has revoked
	// (logout, password change…). It also matches [ErrInvalidToken].
	ErrRevoked = fmt.Errorf("%w: session revoked", ErrInvalidToken)

	// ErrUnavailable is returned when the verifier cannot currently decide:
	// the revocation data is older than [RevocationConfig.MaxStaleness]. The
	// token may be fine; [Verifier.Middleware] answers 503, not 401, so that
	// clients retry rather than log in again.
	ErrUnavailable = errors.New("revocation status unavailable")
)

// Config configures a [Verifier]. The zero value of every field but the key
// source (Issuer, JWKSURL or HMACSecret) is a sensible default.
type Config struct {
	// Issuer is gatehouse's issuer URL (GATEHOUSE_ISSUER), e.g.
	// "https://auth.example.com". When set, the discovery document at
	// Issuer + "/.well-known/openid-configuration" is read at start-up, its
	// "issuer" must equal Issuer exactly, its "jwks_uri" is used unless
	// JWKSURL is set, and every token's "iss" must equal Issuer.
	Issuer string

	// JWKSURL is the key set's URL, for an issuer without discovery. It takes
	// precedence over the discovery document's "jwks_uri".
	JWKSURL string

	// Audience, when set, must be one of each token's "aud" values
	// (GATEHOUSE_AUDIENCE). Empty: "aud" is not checked.
	Audience string

	// Algorithms are the signature algorithms accepted, whatever a token's
	// header says. Default: RS256, ES256 and EdDSA. Also allowed: RS384,
	// RS512, PS256, PS384, PS512, ES384, ES512. Never "none".
	Algorithms []string

	// HMACSecret is gatehouse's HS256 secret (GATEHOUSE_SECRET_KEY), for a
	// deployment that still signs with HS256: HMAC keys are never published,
	// so no JWKS is fetched and only HS256 is accepted. It must be at least
	// 32 bytes (RFC 7518 §3.2) and excludes JWKSURL. Anyone holding it can
	// mint tokens: prefer asymmetric keys.
	HMACSecret []byte

	// Leeway is the clock skew tolerated on exp, nbf and iat. Zero means 30 s;
	// at most MaxLeeway.
	Leeway time.Duration

	// HTTPClient makes every request to gatehouse. Default: a client with
	// connect and TLS-handshake timeouts that follows redirects only within
	// the same scheme and host; each request is bounded by its own deadline.
	// A client given here is used as it is, redirect policy included; its
	// Timeout, if any, must allow for the feed's long poll (more than
	// RevocationConfig.Wait + 10 s).
	HTTPClient *http.Client

	// MinRefreshInterval is the least time between two JWKS fetches caused by
	// tokens naming an unknown kid (which anyone can send). Default 30 s.
	MinRefreshInterval time.Duration

	// RefreshInterval is how often the JWKS is fetched again even when every
	// kid is known, so that removed keys stop verifying. A shorter
	// Cache-Control max-age on the JWKS shortens it, but never below
	// MinRefreshInterval. Default 10 min.
	RefreshInterval time.Duration

	// Revocations, when set, makes the verifier follow gatehouse's revocation
	// feed and refuse tokens of revoked sessions. Nil: a token stays valid
	// until it expires, logout or not.
	Revocations *RevocationConfig

	// AllowInsecureHTTP permits http:// URLs for hosts other than the
	// loopback interface (always allowed, for development). Over plain HTTP
	// anyone on the path can substitute keys and read the feed's credential:
	// use it only on a trusted development network.
	AllowInsecureHTTP bool

	// Logger receives the verifier's own events: key refreshes, feed failures
	// and recoveries, refused tokens (at debug level). Default slog.Default().
	Logger *slog.Logger

	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Claims are the verified claims of a gatehouse access token.
type Claims struct {
	Subject   string   // "sub": the user id, as a string
	Username  string   // "username", when the token carries it
	SessionID string   // "sid": the gatehouse session the token was issued in
	ClientID  string   // "client_id", when known
	Scope     string   // "scope": space-separated scopes, when any were granted
	Roles     []string // "roles": the user's roles when the token was issued ("user" always among them)
	Issuer    string   // "iss"
	ID        string   // "jti"
	Audience  []string // "aud"
	IssuedAt  time.Time
	NotBefore time.Time // zero when the token has no "nbf"
	ExpiresAt time.Time

	// AMR ("amr", RFC 8176) lists how the user authenticated: ["pwd"] for a
	// password, ["pwd", "otp"] with a second factor. AAL ("aal") is the
	// assurance level that reached: "aal1" or "aal2". Both are empty in
	// tokens of servers older than two-factor authentication.
	AMR []string
	AAL string
}

// MultiFactor reports whether the user proved a second factor (aal2):
// what a resource server checks before a sensitive operation.
func (c *Claims) MultiFactor() bool { return c.AAL == "aal2" }

// HasScope reports whether scope is one of the space-separated values of
// c.Scope.
func (c *Claims) HasScope(scope string) bool {
	for s := range strings.FieldsSeq(c.Scope) {
		if s == scope {
			return true
		}
	}
	return false
}

// Verifier verifies gatehouse access tokens. It is safe for concurrent use.
// Create one per issuer with [New] and share it; [Verifier.Close] stops its
// background work.
type Verifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	log      *slog.Logger
	parser   *jwt.Parser
	hmacKey  []byte     // HMAC mode; then keys is nil
	keys     *keySource // nil in HMAC mode
	feed     *feed      // nil without revocation checking
	cache    *tokenCache

	ctx    context.Context // background work's lifetime
	cancel context.CancelFunc
	bg     *background
}

// New returns a Verifier for cfg. It fetches what it needs at once (the
// discovery document, the JWKS, a first snapshot of the revocation feed) and
// returns an error if any of it fails, so a misconfigured service stops at
// start-up rather than refusing every request.
//
// ctx bounds those first requests and the verifier's background work: the
// revocation feed is followed until ctx is cancelled or Close is called. Pass
// a context that lives as long as the service.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(ctx)
	v := &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   s.leeway,
		now:      s.now,
		log:      s.log,
		hmacKey:  s.hmacKey,
		cache:    newTokenCache(cacheEntries),
		ctx:      bctx,
		cancel:   cancel,
		bg:       &background{},
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(s.algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.leeway),
		jwt.WithTimeFunc(s.now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)

	if err := v.start(ctx, cfg, s); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// start reads the discovery document when needed, loads the keys and the
// first revocation snapshot, and starts the feed follower.
func (v *Verifier) start(ctx context.Context, cfg Config, s settings) error {
	jwksURL, feedURL := cfg.JWKSURL, ""
	if cfg.Revocations != nil {
		feedURL = cfg.Revocations.URL
	}
	needKeys := s.hmacKey == nil && jwksURL == ""
	needFeed := cfg.Revocations != nil && feedURL == ""
	if needKeys || needFeed {
		if cfg.Issuer == "" {
			return errors.New("verifier: Revocations.URL is needed when Issuer is not set")
		}
		d, err := discover(ctx, s.client, cfg.Issuer)
		if err != nil {
			return err
		}
		if needKeys {
			jwksURL = d.JWKSURI
		}
		if needFeed {
			if d.RevocationFeed == "" {
				return fmt.Errorf("verifier: the discovery document of %s has no revocation_feed_endpoint: the feed is not enabled there", cfg.Issuer)
			}
			feedURL = d.RevocationFeed
		}
	}
	if s.hmacKey == nil {
		if err := checkURL("JWKS URL", jwksURL, s.allowHTTP); err != nil {
			return err
		}
		v.keys = &keySource{
			url:         jwksURL,
			client:      s.client,
			algorithms:  s.algorithms,
			minInterval: s.minRefresh,
			maxInterval: s.refresh,
			now:         s.now,
			log:         s.log,
			onRemoved:   v.cache.clear,
			ctx:         v.ctx,
			bg:          v.bg,
		}
		if err := v.keys.load(ctx); err != nil {
			return err
		}
	}
	if cfg.Revocations != nil {
		if err := checkURL("revocation feed URL", feedURL, s.allowHTTP); err != nil {
			return err
		}
		v.feed = newFeed(feedURL, s, cfg.Revocations)
		if err := v.feed.sync(ctx); err != nil {
			return err
		}
		if !v.bg.spawn(func() { v.feed.follow(v.ctx) }) {
			return errors.New("verifier: closed during start-up")
		}
	}
	return nil
}

// Verify checks token (the bare JWS, without "Bearer ") and returns its
// claims. Every refusal wraps [ErrInvalidToken], except [ErrUnavailable]
// when revocation data is too stale to decide. ctx bounds the wait for a key
// set refresh when the token names a kid not seen yet.
//
// The returned Claims are the caller's to keep and modify.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) == 0 || len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: size %d outside (0, %d]", ErrInvalidToken, len(token), MaxTokenBytes)
	}
	now := v.now()
	if v.keys != nil {
		v.keys.refreshIfDue(now)
	}
	c, ok := v.cache.get(token)
	if ok {
		if err := v.checkTimes(&c, now); err != nil {
			v.cache.remove(token)
			return nil, err
		}
	} else {
		var err error
		if c, err = v.parse(ctx, token); err != nil {
			return nil, err
		}
		v.cache.put(token, c, v.leeway, now)
	}
	if v.feed != nil {
		if err := v.feed.check(c.SessionID, now); err != nil {
			return nil, err
		}
	}
	c.Audience = slices.Clone(c.Audience)
	return &c, nil
}

// wireClaims is the token's payload. A struct rather than a map: decoding is
// cheaper, and a "sub" or "sid" that is not a string fails to decode.
type wireClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Username  string   `json:"username"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	Roles     []string `json:"roles"`

	AMR []string `json:"amr"`
	AAL string   `json:"aal"`
}

// parse fully verifies a token not found in the cache.
func (v *Verifier) parse(ctx context.Context, token string) (Claims, error) {
	var w wireClaims
	_, err := v.parser.ParseWithClaims(token, &w, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if w.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	if w.SessionID == "" {
		return Claims{}, fmt.Errorf("%w: no sid", ErrInvalidToken)
	}
	c := Claims{
		Subject:   w.Subject,
		Username:  w.Username,
		SessionID: w.SessionID,
		ClientID:  w.ClientID,
		Scope:     w.Scope,
		Roles:     w.Roles,
		Issuer:    w.Issuer,
		ID:        w.ID,
		Audience:  w.Audience,
		ExpiresAt: w.ExpiresAt.Time, // WithExpirationRequired: never nil here
		AMR:       w.AMR,
		AAL:       w.AAL,
	}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.Time
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.Time
	}
	return c, nil
}

// key runs after the header is decoded and before the signature is checked;
// the parser has already refused any alg outside Config.Algorithms. Nothing
// in the header is trusted to locate a key except kid, looked up in the key
// set we fetched ourselves.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	// RFC 7515 §4.1.11: a "crit" listing an extension we do not understand
	// must be refused, and we understand none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header not supported")
	}
	// RFC 9068 §4: an access token says so, which keeps an ID token or any
	// other JWT signed by the same keys from passing for one.
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("typ %q is not at+jwt", typ)
	}
	if v.hmacKey != nil {
		return v.hmacKey, nil
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid")
	}
	k, ok := v.keys.lookup(kid)
	if !ok {
		// Perhaps gatehouse rotated its key: fetch the set again, unless
		// that was done less than MinRefreshInterval ago.
		v.keys.refresh(ctx, true)
		if k, ok = v.keys.lookup(kid); !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
	}
	// RFC 8725 §3.1: each key is used with exactly one algorithm, the one it
	// was published for, whatever the token's header claims.
	if alg := t.Method.Alg(); alg != k.alg {
		return nil, fmt.Errorf("alg %s does not match key %q, published for %s", alg, kid, k.alg)
	}
	return k.key, nil
}

// checkTimes repeats the time-dependent checks for a cached token.
func (v *Verifier) checkTimes(c *Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(v.leeway)) {
		return fmt.Errorf("%w: %w", ErrInvalidToken, jwt.ErrTokenExpired)
	}
	if now.Add(v.leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: %w", ErrInvalidToken, jwt.ErrTokenNotValidYet)
	}
	return nil
}

// Close stops the verifier's background work (the feed follower, a key
// refresh in flight) and waits for it to end. Verify keeps working with the
// keys and revocations it has; once the revocation data is older than
// MaxStaleness it refuses every token. Close is idempotent and returns nil.
func (v *Verifier) Close() error {
	v.cancel()
	v.bg.wait()
	return nil
}

// background tracks goroutines so that Close can wait for them, and refuses
// new ones after Close.
type background struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// spawn runs f in a goroutine unless the verifier is closed.
func (b *background) spawn(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Go(f)
	return true
}

func (b *background) wait() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

// Stats describes the verifier's state, for metrics and health checks.
type Stats struct {
	Keys               int       // keys usable now (0 in HMAC mode)
	KeyRefreshes       uint64    // successful JWKS fetches, the first included
	KeyRefreshFailures uint64    // failed JWKS fetches
	LastKeyRefresh     time.Time // time of the last successful JWKS fetch
	CachedTokens       int       // tokens in the verified-token cache

	// Revocation is the feed's state; its zero value when Revocations is nil.
	Revocation RevocationStats
}

// RevocationStats describes the revocation feed follower.
type RevocationStats struct {
	Enabled bool          // Config.Revocations is set
	Policy  FailurePolicy // the configured policy
	// Healthy is false from a failed poll until the next successful one, and
	// whenever the revocation data is older than MaxStaleness.
	Healthy  bool
	LastSync time.Time // when the feed last answered
	// Failures counts failed polls since start; LastError describes the
	// latest ("" once a poll has succeeded since).
	Failures  uint64
	LastError string
	Resyncs   uint64 // full re-reads after gatehouse refused the cursor
	Revoked   int    // revoked sessions remembered (until their tokens expire)
	Refused   uint64 // tokens refused because their session was revoked
	// DegradedAccepted counts tokens accepted while the feed was failing but
	// the revocation data was still within MaxStaleness.
	DegradedAccepted uint64
	// StaleRefused counts tokens refused with ErrUnavailable because the
	// revocation data was older than MaxStaleness.
	StaleRefused uint64
}

// Stats returns a snapshot of the verifier's counters and state.
func (v *Verifier) Stats() Stats {
	var st Stats
	if v.keys != nil {
		v.keys.stats(&st)
	}
	st.CachedTokens = v.cache.len()
	if v.feed != nil {
		st.Revocation = v.feed.stats(v.now())
	}
	return st
}
