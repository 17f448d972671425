// Package config turns the environment and command-line flags into a Config
// value. It is the only place that knows the names of gatehouse's settings:
// every environment variable has a flag of the same meaning, flags win over
// variables, and Validate holds the rules that refuse unsafe production setups.
//
// Nothing here reads the process environment directly; Load receives a getenv
// function, so tests and the caller decide what the environment is.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// DefaultPasswordMinStrength is the zxcvbn score (0..4) a new password must
// reach unless GATEHOUSE_PASSWORD_MIN_STRENGTH says otherwise. Score 2
// ("somewhat guessable") turns away the passwords found at the top of every
// cracking list while still accepting ordinary passphrases.
const DefaultPasswordMinStrength = 2

// Defaults. They live here, next to the settings table that prints them, so
// that `gatehouse help` and docs/configuration.md cannot drift from the code
// (a test compares the documentation table with the settings table).
const (
	defaultEnv               = envDevelopment
	defaultAddr              = "127.0.0.1:8000"
	defaultDataDir           = "./data"
	defaultDatabaseFile      = "gatehouse.db"
	defaultAccessTokenTTL    = 30 * time.Minute
	defaultLocale            = "en"
	defaultPasswordMinLength = 8
	defaultLogLevel          = slog.LevelInfo
	defaultShutdownTimeout   = 30 * time.Second
	defaultMaxBodyBytes      = 1 << 20

	defaultRefreshTokenTTL        = 30 * 24 * time.Hour
	defaultSessionMaxLifetime     = 90 * 24 * time.Hour
	defaultRefreshReuseGrace      = 10 * time.Second
	defaultKeysReloadInterval     = 30 * time.Second
	defaultRevocationSyncInterval = time.Second
)

// Default rate limits; docs/security.md ("Rate limits and lockout") gives
// the reasons for each.
var (
	defaultRateLimitLoginIP            = gatehouse.Limit{N: 20, Per: time.Minute}
	defaultRateLimitLoginAccount       = gatehouse.Limit{N: 10, Per: 15 * time.Minute}
	defaultRateLimitLoginAccountAllIPs = gatehouse.Limit{N: 100, Per: 30 * 24 * time.Hour}
	defaultRateLimitRegisterIP         = gatehouse.Limit{N: 10, Per: time.Hour}
	defaultRateLimitRefreshIP          = gatehouse.Limit{N: 120, Per: time.Minute}
	defaultRateLimitMFA                = gatehouse.Limit{N: 5, Per: 15 * time.Minute}
)

// Signing algorithms (GATEHOUSE_JWT_ALG). With no algorithm chosen, a
// configured SECRET_KEY keeps the tutorial's HS256 and anything else gets
// DefaultAsymmetricAlg, whose public keys resource servers can fetch.
const (
	AlgHS256             = "HS256"
	DefaultAsymmetricAlg = "ES256"
)

const (
	envDevelopment = "development"
	envProduction  = "production"
)

// Names of the secret's sources. They are reported in SecretKeySource and in
// errors; the secret's value never is.
const (
	envSecretKey         = "GATEHOUSE_SECRET_KEY"
	envSecretKeyTutorial = "SECRET_KEY" // the Python tutorial's name, honoured so its .env files keep working
	envSecretKeyFile     = "GATEHOUSE_SECRET_KEY_FILE"
	flagSecretKey        = "secret-key"
	flagSecretKeyFile    = "secret-key-file"
)

// Config is the server's configuration, a plain value: it is built once by
// Load, checked by Validate and then handed to whoever needs it. Nothing
// mutates it afterwards.
type Config struct {
	Env         string // "development" (default) or "production"
	Addr        string // listen address, host:port
	DataDir     string // where the SQLite database and the development secret live
	DatabaseURL string // defaults to an absolute sqlite:// URL under DataDir

	// SecretKey is the HS256 signing secret, "" when none is configured (in
	// development the server then generates one and keeps it in DataDir).
	// SecretKeySource says where it came from, for log lines:
	// "GATEHOUSE_SECRET_KEY", "SECRET_KEY", "--secret-key", "file:<path>" or "".
	SecretKey       string
	SecretKeySource string

	AccessTokenTTL time.Duration
	Issuer         string // "iss" claim; optional
	Audience       string // "aud" claim; optional
	Locale         string // default message language: "en" or "ko"

	PasswordMinLength   int
	PasswordMinStrength int // zxcvbn score 0..4; 0 turns the check off

	TLSCert       string // PEM certificate (chain) file
	TLSKey        string // PEM private key file
	TrustTLSProxy bool   // a proxy in front terminates TLS

	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	ShutdownTimeout time.Duration
	MaxBodyBytes    int64

	// JWTAlg is the signing algorithm as configured ("" = choose; see
	// SigningAlgorithm).
	JWTAlg string
	// RefreshTokenTTL is a session's sliding lifetime; SessionMaxLifetime
	// caps it absolutely; RefreshReuseGrace is how long the previous refresh
	// token stays good after a rotation.
	RefreshTokenTTL    time.Duration
	SessionMaxLifetime time.Duration
	RefreshReuseGrace  time.Duration
	// RevocationClients are the revocation feed's client credentials, id to
	// secret; empty disables the feed.
	RevocationClients map[string]string
	// KeysReloadInterval is how often signing keys are re-read (a rotation
	// made by `gatehouse keys rotate` or another instance);
	// RevocationSyncInterval how often revocations made elsewhere are.
	KeysReloadInterval     time.Duration
	RevocationSyncInterval time.Duration

	// RedisURL names the optional Redis shared by every instance ("" = none:
	// one instance keeps its fast state in process). RedisPrefix starts every
	// key and channel, so that several deployments can share one Redis.
	RedisURL    string
	RedisPrefix string
	// TrustedProxies are the peers whose forwarding header is believed: the
	// client address is the right-most one not in this list. ProxyHeader
	// names that header: "x-forwarded-for" (default) or "forwarded".
	TrustedProxies []netip.Prefix
	ProxyHeader    string

	// Rate limits, each N per duration; a zero Limit is off. See
	// auth.Limits for what each one counts.
	RateLimitLoginIP            gatehouse.Limit
	RateLimitLoginAccount       gatehouse.Limit
	RateLimitLoginAccountAllIPs gatehouse.Limit
	RateLimitRegisterIP         gatehouse.Limit
	RateLimitRefreshIP          gatehouse.Limit
	RateLimitMFA                gatehouse.Limit

	// TOTPIssuer names the service in authenticator apps (the issuer of
	// the otpauth:// URI).
	TOTPIssuer string

	// HashConcurrency bounds the requests hashing a password at once (0:
	// half the CPUs, at least 1, so that a login flood leaves the other half
	// to token checks); HashQueue more may wait, each at most HashQueueWait;
	// past that, 503 at once.
	HashConcurrency int
	HashQueue       int
	HashQueueWait   time.Duration
	// HashPriority is the CPU priority of the hashing workers: "idle"
	// (Linux SCHED_IDLE: they run only on CPU time nothing else wants),
	// "low" (nice 10) or "normal".
	HashPriority string

	// MetricsAddr is where /metrics is served, apart from the API ("" =
	// nowhere: an auth server's failure rates are not for the public port).
	MetricsAddr string
	// AuditRetention is how long audit events are kept.
	AuditRetention time.Duration

	// CORSOrigins are the browser origins allowed to call the API (exact
	// scheme://host[:port], or "*"); CORSCredentials lets them send cookies
	// and HTTP authentication (never with "*").
	CORSOrigins     []string
	CORSCredentials bool

	// Email configures verification and password reset mail (see email.go).
	Email Email
	// UIRedirectOrigins are the origins the hosted pages' sign-in may send
	// the browser on to (?redirect_uri=); none: only to the account page.
	UIRedirectOrigins []string
	// OAuthProviders are the upstream sign-in providers
	// (GATEHOUSE_OAUTH_PROVIDERS_FILE), OAuthRedirectURIs the app redirect
	// URIs a provider sign-in may return to (exact), oauthPublicURL the
	// base of the callback URLs (see OAuthPublicURL).
	OAuthProviders    []OAuthProvider
	OAuthRedirectURIs []string
	oauthPublicURL    string
}

// SigningAlgorithm is the algorithm tokens are signed with: JWTAlg if set,
// else HS256 when a secret is configured (tutorial-compatible: a service
// holding the same SECRET_KEY can verify), else DefaultAsymmetricAlg.
func (c Config) SigningAlgorithm() string {
	switch {
	case c.JWTAlg != "":
		return c.JWTAlg
	case c.SecretKey != "":
		return AlgHS256
	}
	return DefaultAsymmetricAlg
}

// Production reports whether the production rules apply.
func (c Config) Production() bool { return c.Env == envProduction }

// TLS reports whether the server terminates TLS itself, which needs both the
// certificate and the key.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// setting describes one configuration value: its environment variable, its
// flag, how Usage and the documentation show it, and how to store a raw value
// into a Config. The secret's two settings have no apply: the secret has
// aliases and a file form, so Load resolves it separately.
type setting struct {
	env   string
	flag  string // kebab-case, without dashes
	arg   string // placeholder shown after the flag in Usage; "" for the boolean flag
	def   string // default as shown to operators
	usage string
	apply func(c *Config, raw string) error
}

// settings lists every setting once, in the order Usage prints them. It is a
// function rather than a package variable so that no caller can change the
// table another one reads.
func settings() []setting {
	return append(coreSettings(), emailSettings()...)
}

func coreSettings() []setting {
	return []setting{
		{
			env: "GATEHOUSE_ENV", flag: "env", arg: "name", def: defaultEnv,
			usage: "development or production; production turns on the safety checks",
			apply: func(c *Config, raw string) (err error) {
				c.Env, err = parseEnum(raw, envDevelopment, envProduction)
				return err
			},
		},
		{
			env: "GATEHOUSE_ADDR", flag: "addr", arg: "host:port", def: defaultAddr,
			usage: "address to listen on",
			apply: func(c *Config, raw string) error { c.Addr = raw; return nil },
		},
		{
			env: "GATEHOUSE_DATA_DIR", flag: "data-dir", arg: "dir", def: defaultDataDir,
			usage: "directory for the SQLite database and the development secret",
			apply: func(c *Config, raw string) error { c.DataDir = raw; return nil },
		},
		{
			env: "GATEHOUSE_DATABASE_URL", flag: "database-url", arg: "url", def: "sqlite://<data dir>/gatehouse.db",
			usage: "database URL (see docs/configuration.md); as a flag, any password in it shows in process listings",
			apply: func(c *Config, raw string) error { c.DatabaseURL = raw; return nil },
		},
		{
			env: envSecretKey, flag: flagSecretKey, arg: "secret", def: "none",
			usage: "HS256 signing secret (also read from SECRET_KEY). Command lines are visible to other local users in process listings: prefer GATEHOUSE_SECRET_KEY or --secret-key-file",
		},
		{
			env: envSecretKeyFile, flag: flagSecretKeyFile, arg: "path", def: "none",
			usage: "file holding the signing secret (a Docker or Kubernetes secret); one trailing newline is ignored",
		},
		{
			env: "GATEHOUSE_ACCESS_TOKEN_TTL", flag: "access-token-ttl", arg: "duration", def: formatDuration(defaultAccessTokenTTL),
			usage: "lifetime of an access token: a Go duration (15m, 1h) or whole seconds",
			apply: func(c *Config, raw string) (err error) {
				c.AccessTokenTTL, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_ISSUER", flag: "issuer", arg: "string", def: "none",
			usage: `issuer ("iss" claim) of tokens; optional`,
			apply: func(c *Config, raw string) error { c.Issuer = raw; return nil },
		},
		{
			env: "GATEHOUSE_AUDIENCE", flag: "audience", arg: "string", def: "none",
			usage: `audience ("aud" claim) of tokens; optional`,
			apply: func(c *Config, raw string) error { c.Audience = raw; return nil },
		},
		{
			env: "GATEHOUSE_LOCALE", flag: "locale", arg: "code", def: defaultLocale,
			usage: "language of messages when the request does not choose one: en or ko",
			apply: func(c *Config, raw string) (err error) {
				c.Locale, err = parseEnum(raw, "en", "ko")
				return err
			},
		},
		{
			env: "GATEHOUSE_PASSWORD_MIN_LENGTH", flag: "password-min-length", arg: "int", def: strconv.Itoa(defaultPasswordMinLength),
			usage: "minimum password length in characters (production requires at least 8)",
			apply: func(c *Config, raw string) (err error) {
				c.PasswordMinLength, err = parseInt(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_PASSWORD_MIN_STRENGTH", flag: "password-min-strength", arg: "0-4", def: strconv.Itoa(DefaultPasswordMinStrength),
			usage: "minimum zxcvbn score of a new password, 0 (off) to 4",
			apply: func(c *Config, raw string) (err error) {
				c.PasswordMinStrength, err = parseInt(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_TLS_CERT", flag: "tls-cert", arg: "path", def: "none",
			usage: "PEM certificate chain; with --tls-key the server speaks HTTPS itself",
			apply: func(c *Config, raw string) error { c.TLSCert = raw; return nil },
		},
		{
			env: "GATEHOUSE_TLS_KEY", flag: "tls-key", arg: "path", def: "none",
			usage: "PEM private key for --tls-cert",
			apply: func(c *Config, raw string) error { c.TLSKey = raw; return nil },
		},
		{
			env: "GATEHOUSE_TRUST_TLS_PROXY", flag: "trust-tls-proxy", def: "false",
			usage: "a proxy in front of the server terminates TLS (true, false, 1 or 0)",
			apply: func(c *Config, raw string) (err error) {
				c.TrustTLSProxy, err = parseBool(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_LOG_LEVEL", flag: "log-level", arg: "level", def: strings.ToLower(defaultLogLevel.String()),
			usage: "debug, info, warn or error",
			apply: func(c *Config, raw string) (err error) {
				c.LogLevel, err = parseLevel(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_LOG_FORMAT", flag: "log-format", arg: "format", def: "text in development, json in production",
			usage: "text or json",
			apply: func(c *Config, raw string) (err error) {
				c.LogFormat, err = parseEnum(raw, "text", "json")
				return err
			},
		},
		{
			env: "GATEHOUSE_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", arg: "duration", def: formatDuration(defaultShutdownTimeout),
			usage: "how long to let requests in flight finish on shutdown: a Go duration or whole seconds",
			apply: func(c *Config, raw string) (err error) {
				c.ShutdownTimeout, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_JWT_ALG", flag: "jwt-alg", arg: "alg", def: "HS256 if a secret key is set, else ES256",
			usage: "token signing algorithm: HS256, RS256, ES256 or EdDSA",
			apply: func(c *Config, raw string) (err error) {
				c.JWTAlg, err = parseAlg(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_REFRESH_TOKEN_TTL", flag: "refresh-token-ttl", arg: "duration", def: "720h (30 days)",
			usage: "sliding lifetime of a session: each refresh extends it by this much",
			apply: func(c *Config, raw string) (err error) {
				c.RefreshTokenTTL, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_SESSION_MAX_LIFETIME", flag: "session-max-lifetime", arg: "duration", def: "2160h (90 days)",
			usage: "absolute cap on a session's life, however often it is refreshed",
			apply: func(c *Config, raw string) (err error) {
				c.SessionMaxLifetime, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_REFRESH_REUSE_GRACE", flag: "refresh-reuse-grace", arg: "duration", def: formatDuration(defaultRefreshReuseGrace),
			usage: "how long after a rotation the previous refresh token still gets the current pair (concurrent tabs); 0 turns it off",
			apply: func(c *Config, raw string) (err error) {
				c.RefreshReuseGrace, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_REVOCATION_CLIENTS", flag: "revocation-clients", arg: "id:secret,...", def: "none (feed disabled)",
			usage: "client credentials of the revocation feed (GET /auth/revocations), comma-separated id:secret pairs; as a flag, visible in process listings",
			apply: func(c *Config, raw string) (err error) {
				c.RevocationClients, err = parseClients(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_KEYS_RELOAD_INTERVAL", flag: "keys-reload-interval", arg: "duration", def: formatDuration(defaultKeysReloadInterval),
			usage: "how often signing keys are re-read from the database (to pick up `gatehouse keys rotate`)",
			apply: func(c *Config, raw string) (err error) {
				c.KeysReloadInterval, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_REVOCATION_SYNC_INTERVAL", flag: "revocation-sync-interval", arg: "duration", def: formatDuration(defaultRevocationSyncInterval),
			usage: "how often revocations made by other processes are read from the database",
			apply: func(c *Config, raw string) (err error) {
				c.RevocationSyncInterval, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_REDIS_URL", flag: "redis-url", arg: "url", def: "none",
			usage: "Redis shared by every instance (redis:// or rediss://): revocations seen at once everywhere, cache invalidation; as a flag, any password in it shows in process listings",
			apply: func(c *Config, raw string) error { c.RedisURL = raw; return nil },
		},
		{
			env: "GATEHOUSE_REDIS_PREFIX", flag: "redis-prefix", arg: "string", def: "gatehouse:",
			usage: "prefix of every Redis key and channel, so deployments can share one Redis",
			apply: func(c *Config, raw string) error { c.RedisPrefix = raw; return nil },
		},
		{
			env: "GATEHOUSE_TRUSTED_PROXIES", flag: "trusted-proxies", arg: "cidr,...", def: "none",
			usage: "reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client; from anyone else it is ignored",
			apply: func(c *Config, raw string) (err error) {
				c.TrustedProxies, err = parsePrefixes(raw)
				return err
			},
		},
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_LOGIN_IP", "rate-limit-login-ip", defaultRateLimitLoginIP,
			"login attempts (and token password grants) from one client address, any account",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitLoginIP }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT", "rate-limit-login-account", defaultRateLimitLoginAccount,
			"failed logins to one account from one client address (a success gives them back)",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitLoginAccount }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT_ALL_IPS", "rate-limit-login-account-all-ips", defaultRateLimitLoginAccountAllIPs,
			"failed logins to one account from all addresses together; addresses that logged in to it within 30 days pass",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitLoginAccountAllIPs }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_REGISTER_IP", "rate-limit-register-ip", defaultRateLimitRegisterIP,
			"registrations from one client address",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitRegisterIP }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_REFRESH_IP", "rate-limit-refresh-ip", defaultRateLimitRefreshIP,
			"refresh token exchanges from one client address",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitRefreshIP }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_MFA", "rate-limit-mfa", defaultRateLimitMFA,
			"second-factor attempts (TOTP or recovery code) on one account, all addresses together (a success gives them back)",
			func(c *Config) *gatehouse.Limit { return &c.RateLimitMFA }),
		{
			env: "GATEHOUSE_TOTP_ISSUER", flag: "totp-issuer", arg: "name", def: "gatehouse",
			usage: "the service's name in authenticator apps (the issuer of TOTP enrolments)",
			apply: func(c *Config, raw string) error {
				if strings.TrimSpace(raw) == "" || strings.ContainsAny(raw, ":") || len(raw) > 64 {
					return errors.New("must be a name of 1 to 64 characters without ':'")
				}
				c.TOTPIssuer = raw
				return nil
			},
		},
		{
			env: "GATEHOUSE_HASH_CONCURRENCY", flag: "hash-concurrency", arg: "int", def: "half the CPUs (at least 1)",
			usage: "password hashes (logins, registrations) run at once, each in a worker process; more wait in a short queue, then get 503",
			apply: func(c *Config, raw string) (err error) {
				c.HashConcurrency, err = parseInt(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_HASH_QUEUE", flag: "hash-queue", arg: "int", def: "2 × hash concurrency",
			usage: "requests that may wait for a hashing slot; beyond, 503 with Retry-After at once",
			apply: func(c *Config, raw string) (err error) {
				c.HashQueue, err = parseInt(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_HASH_QUEUE_WAIT", flag: "hash-queue-wait", arg: "duration", def: "1s",
			usage: "longest a request waits for a hashing slot before 503",
			apply: func(c *Config, raw string) (err error) {
				c.HashQueueWait, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_HASH_PRIORITY", flag: "hash-priority", arg: "idle|low|normal", def: "idle",
			usage: "CPU priority of the hashing workers: idle (only CPU time nothing else wants), low (nice 10) or normal",
			apply: func(c *Config, raw string) (err error) {
				c.HashPriority, err = parseEnum(raw, "idle", "low", "normal")
				return err
			},
		},
		{
			env: "GATEHOUSE_METRICS_ADDR", flag: "metrics-addr", arg: "host:port", def: "none",
			usage: "serve Prometheus metrics at /metrics on this address (kept off the API's port)",
			apply: func(c *Config, raw string) error { c.MetricsAddr = raw; return nil },
		},
		{
			env: "GATEHOUSE_AUDIT_RETENTION", flag: "audit-retention", arg: "duration", def: "2160h (90 days)",
			usage: "how long audit events are kept",
			apply: func(c *Config, raw string) (err error) {
				c.AuditRetention, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_CORS_ORIGINS", flag: "cors-origins", arg: "origin,...", def: "none",
			usage: "browser origins allowed to call the API, exact (https://app.example.com), comma-separated, or *",
			apply: func(c *Config, raw string) error {
				c.CORSOrigins = nil
				for _, o := range strings.Split(raw, ",") {
					if o = strings.TrimSpace(o); o != "" {
						c.CORSOrigins = append(c.CORSOrigins, o)
					}
				}
				return nil
			},
		},
		{
			env: "GATEHOUSE_CORS_CREDENTIALS", flag: "cors-credentials", def: "false",
			usage: "let the allowed origins send credentials (cookies, HTTP authentication); never with *",
			apply: func(c *Config, raw string) (err error) {
				c.CORSCredentials, err = parseBool(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_UI_REDIRECT_ORIGINS", flag: "ui-redirect-origins", arg: "origin,...", def: "none",
			usage: "origins the sign-in page may redirect to after signing in (redirect_uri), exact, comma-separated",
			apply: func(c *Config, raw string) error {
				c.UIRedirectOrigins = splitList(raw)
				return nil
			},
		},
		{
			env: "GATEHOUSE_OAUTH_PROVIDERS_FILE", flag: "oauth-providers-file", arg: "path", def: "none",
			usage: "JSON file of upstream sign-in providers (Google, GitHub, Kakao, Naver, any OpenID provider); see docs/providers.md",
			apply: func(c *Config, raw string) (err error) {
				c.OAuthProviders, err = readOAuthProviders(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_OAUTH_REDIRECT_URIS", flag: "oauth-redirect-uris", arg: "uri,...", def: "none",
			usage: "app redirect URIs a provider sign-in may return to, compared exactly, comma-separated",
			apply: func(c *Config, raw string) error {
				c.OAuthRedirectURIs = nil
				for _, o := range strings.Split(raw, ",") {
					if o = strings.TrimSpace(o); o != "" {
						c.OAuthRedirectURIs = append(c.OAuthRedirectURIs, o)
					}
				}
				return nil
			},
		},
		{
			env: "GATEHOUSE_OAUTH_PUBLIC_URL", flag: "oauth-public-url", arg: "url", def: "the issuer",
			usage: "URL browsers reach gatehouse at; provider callbacks are <it>/auth/oauth/<name>/callback",
			apply: func(c *Config, raw string) error { c.oauthPublicURL = raw; return nil },
		},
		{
			env: "GATEHOUSE_PROXY_HEADER", flag: "proxy-header", arg: "name", def: "x-forwarded-for",
			usage: "the header trusted proxies name the client in: x-forwarded-for or forwarded (RFC 7239); the other is ignored",
			apply: func(c *Config, raw string) (err error) {
				c.ProxyHeader, err = parseEnum(raw, "x-forwarded-for", "forwarded")
				return err
			},
		},
		{
			env: "GATEHOUSE_MAX_BODY_BYTES", flag: "max-body-bytes", arg: "bytes", def: strconv.Itoa(defaultMaxBodyBytes),
			usage: "largest request body accepted, in bytes (1 KiB to 64 MiB)",
			apply: func(c *Config, raw string) (err error) {
				c.MaxBodyBytes, err = strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
				if err != nil {
					return fmt.Errorf("invalid byte count %q (want a whole number of bytes, e.g. 1048576)", raw)
				}
				return nil
			},
		},
	}
}

// Load reads configuration from the environment (through getenv) and then
// from args, which are the flags after the subcommand; flags win over
// environment variables. An empty value, in either place, counts as unset.
//
// Load parses (numbers, durations, booleans, enumerated values) and reads the
// secret file, but applies no policy: Validate holds the rules. It returns an
// error that wraps flag.ErrHelp for -h or --help. No error it returns contains
// the secret.
func Load(args []string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}

	// Flags are parsed first, although they are applied last, so that
	// -h works even when the environment holds a bad value.
	flags, err := parseFlags(args)
	if err != nil {
		return Config{}, err
	}

	c := Config{
		Env:                 defaultEnv,
		Addr:                defaultAddr,
		DataDir:             defaultDataDir,
		AccessTokenTTL:      defaultAccessTokenTTL,
		Locale:              defaultLocale,
		PasswordMinLength:   defaultPasswordMinLength,
		PasswordMinStrength: DefaultPasswordMinStrength,
		LogLevel:            defaultLogLevel,
		ShutdownTimeout:     defaultShutdownTimeout,
		MaxBodyBytes:        defaultMaxBodyBytes,

		RefreshTokenTTL:        defaultRefreshTokenTTL,
		SessionMaxLifetime:     defaultSessionMaxLifetime,
		RefreshReuseGrace:      defaultRefreshReuseGrace,
		KeysReloadInterval:     defaultKeysReloadInterval,
		RevocationSyncInterval: defaultRevocationSyncInterval,
		RedisPrefix:            "gatehouse:",
		ProxyHeader:            "x-forwarded-for",

		RateLimitLoginIP:            defaultRateLimitLoginIP,
		RateLimitLoginAccount:       defaultRateLimitLoginAccount,
		RateLimitLoginAccountAllIPs: defaultRateLimitLoginAccountAllIPs,
		RateLimitRegisterIP:         defaultRateLimitRegisterIP,
		RateLimitRefreshIP:          defaultRateLimitRefreshIP,
		RateLimitMFA:                defaultRateLimitMFA,
		TOTPIssuer:                  "gatehouse",
		HashQueueWait:               time.Second,
		HashPriority:                "idle",
		AuditRetention:              90 * 24 * time.Hour,
		Email:                       defaultEmail(),
	}
	all := settings()
	for _, s := range all {
		if raw := getenv(s.env); raw != "" && s.apply != nil {
			if err := s.apply(&c, raw); err != nil {
				return Config{}, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	for _, s := range all {
		if raw := flags[s.flag]; raw != "" && s.apply != nil {
			if err := s.apply(&c, raw); err != nil {
				return Config{}, fmt.Errorf("--%s: %w", s.flag, err)
			}
		}
	}

	c.SecretKey, c.SecretKeySource, err = loadSecret(flags, getenv)
	if err != nil {
		return Config{}, err
	}

	// Defaults that depend on other settings are filled in last, so that
	// --data-dir moves the default database and --env changes the log format.
	if c.DatabaseURL == "" {
		path, err := filepath.Abs(filepath.Join(c.DataDir, defaultDatabaseFile))
		if err != nil {
			return Config{}, fmt.Errorf("GATEHOUSE_DATA_DIR: %w", err)
		}
		// Absolute, so that the database does not move when the working
		// directory does: "sqlite://" + "/abs/path" reads sqlite:///abs/path.
		c.DatabaseURL = "sqlite://" + path
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json" // for log collectors
		}
	}
	return c, nil
}

// parseFlags parses args against a FlagSet that knows every setting and
// returns the non-empty values given, by flag name. Values are only collected
// here; they are parsed in Load, so that a bad value is reported in the same
// words whether it came from a flag or a variable.
func parseFlags(args []string) (map[string]string, error) {
	fs := flag.NewFlagSet("gatehouse", flag.ContinueOnError)
	// The caller prints Usage on flag.ErrHelp; the flag package must not
	// print its own version to stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := make(map[string]*flagValue)
	for _, s := range settings() {
		v := &flagValue{isBool: s.arg == ""}
		values[s.flag] = v
		fs.Var(v, s.flag, s.usage)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		arg := fs.Arg(0)
		if _, err := parseBool(arg); err == nil {
			// `--trust-tls-proxy false` leaves "false" behind: the flag
			// package only takes a boolean's value after "=".
			return nil, fmt.Errorf("unexpected argument %q: write a boolean flag's value after =, e.g. --trust-tls-proxy=%s", arg, arg)
		}
		return nil, fmt.Errorf("unexpected argument %q", arg)
	}
	got := make(map[string]string)
	for name, v := range values {
		if v.value != "" {
			got[name] = v.value
		}
	}
	return got, nil
}

// flagValue records a flag's raw text; see parseFlags.
type flagValue struct {
	value  string
	isBool bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.value
}

func (v *flagValue) Set(s string) error { v.value = s; return nil }

// IsBoolFlag lets --trust-tls-proxy stand alone, meaning true.
func (v *flagValue) IsBoolFlag() bool { return v.isBool }

// loadSecret resolves the signing secret and names its source. The flags, as
// a group, replace the environment as a group: --secret-key-file overrides
// GATEHOUSE_SECRET_KEY. Within one group, a direct value and a file are
// ambiguous and refused, since guessing which one the operator meant could
// silently sign tokens with the wrong key. GATEHOUSE_SECRET_KEY wins over the
// tutorial's SECRET_KEY because the prefixed name cannot belong to another
// program sharing the environment.
func loadSecret(flags map[string]string, getenv func(string) string) (secret, source string, err error) {
	value, valueSource := flags[flagSecretKey], "--"+flagSecretKey
	file, fileSource := flags[flagSecretKeyFile], "--"+flagSecretKeyFile
	if value == "" && file == "" {
		value, valueSource = getenv(envSecretKey), envSecretKey
		if value == "" {
			value, valueSource = getenv(envSecretKeyTutorial), envSecretKeyTutorial
		}
		file, fileSource = getenv(envSecretKeyFile), envSecretKeyFile
	}
	switch {
	case value != "" && file != "":
		return "", "", fmt.Errorf("%s and %s are both set: set only one", valueSource, fileSource)
	case value != "":
		return value, valueSource, nil
	case file != "":
		secret, err := readSecretFile(file)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", fileSource, err)
		}
		return secret, "file:" + file, nil
	}
	return "", "", nil
}

// readSecretFile reads a secret file. Exactly one trailing newline is dropped
// because `echo` and editors add one; anything else is part of the secret.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// The path is left out of the message: an operator who pastes the
		// secret itself into the _FILE variable would otherwise see it
		// echoed into logs.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("cannot read the file it names: %w", err)
	}
	s := string(b)
	if strings.HasSuffix(s, "\r\n") {
		s = s[:len(s)-2]
	} else if strings.HasSuffix(s, "\n") {
		s = s[:len(s)-1]
	}
	if s == "" {
		// An empty file is a mistake, not a request for a generated secret.
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func parseEnum(raw string, allowed ...string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(raw))
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("invalid value %q (want %s)", raw, strings.Join(allowed, " or "))
}

func parseInt(raw string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", raw)
	}
	return n, nil
}

func parseBool(raw string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true, false, 1 or 0)", raw)
}

// parseDuration accepts a Go duration ("30m", "1h30m") or, as many
// deployment tools write durations, a bare integer number of seconds.
func parseDuration(raw string) (time.Duration, error) {
	s := strings.TrimSpace(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("invalid duration %q (too large)", raw)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 30m, 1h or whole seconds)", raw)
	}
	return d, nil
}

// rateLimitSetting is the setting of one rate limit, written N/duration.
func rateLimitSetting(env, flag string, def gatehouse.Limit, what string, field func(*Config) *gatehouse.Limit) setting {
	return setting{
		env: env, flag: flag, arg: "n/duration", def: formatLimit(def),
		usage: "rate limit: " + what + ", as N/duration (e.g. 10/15m); 0 turns it off",
		apply: func(c *Config, raw string) (err error) {
			*field(c), err = parseLimit(raw)
			return err
		},
	}
}

// maxLimitPer bounds a limit's period: a budget remembered longer than a
// year is a typo, and would keep keys in the limiter's store that long.
const maxLimitPer = 366 * 24 * time.Hour

// parseLimit reads "N/duration" ("20/1m", "100/720h", "5/30" for seconds);
// "0" (or "0/anything") is off.
func parseLimit(raw string) (gatehouse.Limit, error) {
	s := strings.TrimSpace(raw)
	if s == "0" || s == "off" {
		return gatehouse.Limit{}, nil
	}
	ns, per, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err != nil || n < 0 || n > 1_000_000 {
		return gatehouse.Limit{}, fmt.Errorf("invalid rate limit %q (want N/duration, e.g. 10/15m, with N from 0 to 1000000; 0 turns it off)", raw)
	}
	if n == 0 {
		return gatehouse.Limit{}, nil
	}
	d, err := parseDuration(per)
	if err != nil || d < time.Second || d > maxLimitPer {
		return gatehouse.Limit{}, fmt.Errorf("invalid rate limit %q (want a duration from 1s to 8784h after the /)", raw)
	}
	return gatehouse.Limit{N: n, Per: d}, nil
}

// formatLimit prints a limit as parseLimit reads it.
func formatLimit(l gatehouse.Limit) string {
	if !l.On() {
		return "0"
	}
	return strconv.Itoa(l.N) + "/" + formatDuration(l.Per)
}

// parseAlg accepts the signing algorithms gatehouse implements, in any case,
// returning the JOSE spelling.
func parseAlg(raw string) (string, error) {
	for _, a := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		if strings.EqualFold(strings.TrimSpace(raw), a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("invalid algorithm %q (want HS256, RS256, ES256 or EdDSA)", raw)
}

// parsePrefixes reads "10.0.0.0/8, 192.0.2.7"; a bare address is a /32
// (or /128).
func parsePrefixes(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("invalid address or CIDR %q", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// parseClients reads "id:secret,id2:secret2". Errors name the client, never
// the secret.
func parseClients(raw string) (map[string]string, error) {
	out := map[string]string{}
	for i, pair := range strings.Split(raw, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		id, secret, ok := strings.Cut(pair, ":")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("entry %d is not id:secret", i+1)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("client %q is listed twice", id)
		}
		out[id] = secret
	}
	return out, nil
}

func parseLevel(raw string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(raw))); err != nil {
		return 0, fmt.Errorf("invalid log level %q (want debug, info, warn or error)", raw)
	}
	return l, nil
}

// formatDuration prints 30m rather than time.Duration's 30m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Usage writes the flags with their environment variable and default to w
// (for `gatehouse help`).
func Usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Configuration flags (each has an environment variable; a flag wins over its variable):\n")
	for _, s := range settings() {
		fmt.Fprintf(&b, "\n  --%s", s.flag)
		if s.arg != "" {
			fmt.Fprintf(&b, " %s", s.arg)
		}
		fmt.Fprintf(&b, "\n        %s\n        env %s; default %s\n", s.usage, s.env, s.def)
	}
	// One write, so that a failing writer fails once; Usage has no error to
	// return because its output is best effort help text.
	_, _ = io.WriteString(w, b.String())
}

// LogValue makes Config safe to log whole: the secret is left out (its source
// is kept) and a password in DatabaseURL is masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("secret_key_source", c.SecretKeySource),
		slog.Duration("access_token_ttl", c.AccessTokenTTL),
		slog.String("issuer", c.Issuer),
		slog.String("audience", c.Audience),
		slog.String("locale", c.Locale),
		slog.Int("password_min_length", c.PasswordMinLength),
		slog.Int("password_min_strength", c.PasswordMinStrength),
		slog.String("tls_cert", c.TLSCert),
		slog.String("tls_key", c.TLSKey),
		slog.Bool("trust_tls_proxy", c.TrustTLSProxy),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.String("jwt_alg", c.SigningAlgorithm()),
		slog.Duration("refresh_token_ttl", c.RefreshTokenTTL),
		slog.Duration("session_max_lifetime", c.SessionMaxLifetime),
		slog.Duration("refresh_reuse_grace", c.RefreshReuseGrace),
		slog.Int("revocation_clients", len(c.RevocationClients)),
		slog.Duration("keys_reload_interval", c.KeysReloadInterval),
		slog.Duration("revocation_sync_interval", c.RevocationSyncInterval),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("redis_prefix", c.RedisPrefix),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.String("rate_limit_login_ip", formatLimit(c.RateLimitLoginIP)),
		slog.String("rate_limit_login_account", formatLimit(c.RateLimitLoginAccount)),
		slog.String("rate_limit_login_account_all_ips", formatLimit(c.RateLimitLoginAccountAllIPs)),
		slog.String("rate_limit_register_ip", formatLimit(c.RateLimitRegisterIP)),
		slog.String("rate_limit_refresh_ip", formatLimit(c.RateLimitRefreshIP)),
		slog.String("rate_limit_mfa", formatLimit(c.RateLimitMFA)),
		slog.String("totp_issuer", c.TOTPIssuer),
		slog.Any("email", c.Email),
		slog.Int("oauth_providers", len(c.OAuthProviders)),
	)
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print Config with the secret
// and any database password masked, so that a stray Printf cannot leak them.
func (c Config) Format(f fmt.State, verb rune) {
	type plain Config // drops the methods, so the call below does not recurse
	r := c
	if r.SecretKey != "" {
		r.SecretKey = "[redacted]"
	}
	if len(r.RevocationClients) > 0 {
		redacted := make(map[string]string, len(r.RevocationClients))
		for id := range r.RevocationClients {
			redacted[id] = "[redacted]"
		}
		r.RevocationClients = redacted
	}
	r.OAuthProviders = slices.Clone(r.OAuthProviders)
	for i := range r.OAuthProviders {
		if r.OAuthProviders[i].ClientSecret != "" {
			r.OAuthProviders[i].ClientSecret = "[redacted]"
		}
	}
	r.DatabaseURL = redactURL(r.DatabaseURL)
	r.RedisURL = redactURL(r.RedisURL)
	r.Email.SMTPURL = redactURL(r.Email.SMTPURL)
	fmt.Fprintf(f, fmt.FormatString(f, verb), plain(r))
}

// redactURL masks the password of a URL. Anything that is not a URL with a
// scheme (a PostgreSQL keyword DSN such as "host=x password=y") is hidden
// whole, because its secrets cannot be found reliably.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "[redacted]"
	}
	return u.Redacted()
}
