package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Limits enforced by Validate.
const (
	minAccessTokenTTL = time.Minute
	maxAccessTokenTTL = 24 * time.Hour // an access token cannot be revoked cheaply, so it must not live long

	minPasswordLength           = 1
	maxPasswordLength           = 64 // NIST SP 800-63B: allow at least 64, so a minimum above it would lock users out
	minProductionPasswordLength = 8  // NIST SP 800-63B's floor; development may go lower for the tutorial's tests

	maxPasswordStrength = 4 // the top of the zxcvbn scale

	minMaxBodyBytes = 1 << 10 // below this even a login form does not fit
	maxMaxBodyBytes = 64 << 20

	// minSecretKeyBytes matches HS256's 256-bit output: RFC 7518 §3.2 requires
	// a key at least as long as the hash.
	minSecretKeyBytes = 32

	maxRefreshReuseGrace = time.Minute
)

// Validate refuses unsafe or inconsistent settings. Its error is one line
// naming the environment variable to fix (flags have the same names in
// kebab-case); when several settings are wrong it reports the first. It never
// includes the secret.
func (c Config) Validate() error {
	if c.Env != envDevelopment && c.Env != envProduction {
		return fmt.Errorf("GATEHOUSE_ENV must be development or production, got %q", c.Env)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("GATEHOUSE_ADDR must be host:port (e.g. 127.0.0.1:8000, or :8000 for every interface), got %q", c.Addr)
	}
	if c.Locale != "en" && c.Locale != "ko" {
		return fmt.Errorf("GATEHOUSE_LOCALE must be en or ko, got %q", c.Locale)
	}
	if c.AccessTokenTTL < minAccessTokenTTL || c.AccessTokenTTL > maxAccessTokenTTL {
		return fmt.Errorf("GATEHOUSE_ACCESS_TOKEN_TTL must be between %s and %s, got %s",
			formatDuration(minAccessTokenTTL), formatDuration(maxAccessTokenTTL), c.AccessTokenTTL)
	}
	if c.PasswordMinLength < minPasswordLength || c.PasswordMinLength > maxPasswordLength {
		return fmt.Errorf("GATEHOUSE_PASSWORD_MIN_LENGTH must be between %d and %d, got %d",
			minPasswordLength, maxPasswordLength, c.PasswordMinLength)
	}
	if c.PasswordMinStrength < 0 || c.PasswordMinStrength > maxPasswordStrength {
		return fmt.Errorf("GATEHOUSE_PASSWORD_MIN_STRENGTH must be between 0 (off) and %d, got %d",
			maxPasswordStrength, c.PasswordMinStrength)
	}
	if c.TLSCert != "" && c.TLSKey == "" {
		return fmt.Errorf("GATEHOUSE_TLS_CERT is set but GATEHOUSE_TLS_KEY is not: set both or neither")
	}
	if c.TLSKey != "" && c.TLSCert == "" {
		return fmt.Errorf("GATEHOUSE_TLS_KEY is set but GATEHOUSE_TLS_CERT is not: set both or neither")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("GATEHOUSE_LOG_FORMAT must be text or json, got %q", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("GATEHOUSE_SHUTDOWN_TIMEOUT must be positive, got %s", c.ShutdownTimeout)
	}
	if c.MaxBodyBytes < minMaxBodyBytes || c.MaxBodyBytes > maxMaxBodyBytes {
		return fmt.Errorf("GATEHOUSE_MAX_BODY_BYTES must be between %d (1 KiB) and %d (64 MiB), got %d",
			minMaxBodyBytes, maxMaxBodyBytes, c.MaxBodyBytes)
	}
	if c.Issuer != "" {
		if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("GATEHOUSE_ISSUER must be an absolute http(s) URL without query or fragment (e.g. https://auth.example.com), got %q", c.Issuer)
		}
	}
	if c.RefreshTokenTTL < time.Minute || c.RefreshTokenTTL < c.AccessTokenTTL {
		return fmt.Errorf("GATEHOUSE_REFRESH_TOKEN_TTL must be at least 1m and at least the access token TTL, got %s", c.RefreshTokenTTL)
	}
	if c.SessionMaxLifetime < c.RefreshTokenTTL {
		return fmt.Errorf("GATEHOUSE_SESSION_MAX_LIFETIME must be at least GATEHOUSE_REFRESH_TOKEN_TTL (%s), got %s", c.RefreshTokenTTL, c.SessionMaxLifetime)
	}
	if c.RefreshReuseGrace < 0 || c.RefreshReuseGrace > maxRefreshReuseGrace {
		return fmt.Errorf("GATEHOUSE_REFRESH_REUSE_GRACE must be between 0 and %s (a longer window lets a stolen token pass as a second tab), got %s",
			formatDuration(maxRefreshReuseGrace), c.RefreshReuseGrace)
	}
	if c.HashConcurrency < 0 || c.HashQueue < 0 || c.HashQueueWait <= 0 {
		return fmt.Errorf("GATEHOUSE_HASH_CONCURRENCY and GATEHOUSE_HASH_QUEUE must not be negative, GATEHOUSE_HASH_QUEUE_WAIT must be positive")
	}
	if c.MetricsAddr != "" {
		// Port 0 asks for any free port, so two of them never clash.
		_, port, err := net.SplitHostPort(c.MetricsAddr)
		if err != nil || (c.MetricsAddr == c.Addr && port != "0") {
			return fmt.Errorf("GATEHOUSE_METRICS_ADDR must be host:port, apart from GATEHOUSE_ADDR, got %q", c.MetricsAddr)
		}
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			if c.CORSCredentials {
				return fmt.Errorf("GATEHOUSE_CORS_ORIGINS=* cannot go with GATEHOUSE_CORS_CREDENTIALS=true: name the origins")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || strings.HasSuffix(o, "/") {
			return fmt.Errorf("GATEHOUSE_CORS_ORIGINS: %q is not an origin (scheme://host[:port], no path)", o)
		}
	}
	if err := c.validateUI(); err != nil {
		return err
	}
	if c.AuditRetention < 24*time.Hour {
		return fmt.Errorf("GATEHOUSE_AUDIT_RETENTION must be at least 24h, got %s", c.AuditRetention)
	}
	if c.KeysReloadInterval <= 0 || c.RevocationSyncInterval <= 0 {
		return fmt.Errorf("GATEHOUSE_KEYS_RELOAD_INTERVAL and GATEHOUSE_REVOCATION_SYNC_INTERVAL must be positive")
	}
	if err := c.validateEmail(); err != nil {
		return err
	}
	if err := c.validateOAuth(); err != nil {
		return err
	}
	if c.Production() {
		return c.validateProduction()
	}
	return nil
}

// validateProduction holds the rules that only production needs: in
// development a generated secret, plain HTTP and short passwords are
// conveniences, in production each is a way to lose every account.
func (c Config) validateProduction() error {
	const generate = "generate one with: openssl rand -base64 32"
	secretFrom := c.SecretKeySource
	if secretFrom == "" {
		secretFrom = envSecretKey
	}
	switch {
	case c.SecretKey == "":
		return fmt.Errorf("production requires GATEHOUSE_SECRET_KEY (at least %d bytes) or GATEHOUSE_SECRET_KEY_FILE; %s",
			minSecretKeyBytes, generate)
	case isPlaceholderSecret(c.SecretKey):
		// Published secrets let anyone mint tokens, whatever their length.
		return fmt.Errorf("the secret key from %s is a well-known placeholder, not a secret; %s", secretFrom, generate)
	case len(c.SecretKey) < minSecretKeyBytes:
		// The length is left out too: it narrows a brute-force search.
		return fmt.Errorf("the secret key from %s is shorter than %d bytes, as production requires; %s",
			secretFrom, minSecretKeyBytes, generate)
	}
	if !c.TLS() && !c.TrustTLSProxy {
		return fmt.Errorf("production requires TLS: set GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY, or GATEHOUSE_TRUST_TLS_PROXY=true behind a TLS-terminating proxy")
	}
	if c.Issuer == "" {
		// Resource servers check iss; several instances must agree on it, and
		// only the operator knows the public URL.
		return fmt.Errorf("production requires GATEHOUSE_ISSUER, the public base URL of this server (e.g. https://auth.example.com)")
	}
	if !strings.HasPrefix(c.Issuer, "https://") {
		return fmt.Errorf("production requires an https GATEHOUSE_ISSUER (RFC 8414 §2), got %q", c.Issuer)
	}
	for id, secret := range c.RevocationClients {
		if len(secret) < minSecretKeyBytes {
			return fmt.Errorf("GATEHOUSE_REVOCATION_CLIENTS: the secret of client %q is shorter than %d bytes, as production requires", id, minSecretKeyBytes)
		}
	}
	if c.PasswordMinLength < minProductionPasswordLength {
		return fmt.Errorf("production requires GATEHOUSE_PASSWORD_MIN_LENGTH of at least %d (NIST SP 800-63B), got %d",
			minProductionPasswordLength, c.PasswordMinLength)
	}
	return c.validateEmailProduction()
}

// isPlaceholderSecret reports whether secret is a published example that
// gets copied into real deployments. Whole values match case-insensitively;
// markers are fragments that only a template value contains, such as the
// Python tutorial's "your-secret-key-change-in-production". A random secret
// contains none of them, so no real secret is refused.
func isPlaceholderSecret(secret string) bool {
	placeholders := []string{
		// FastAPI's OAuth2/JWT tutorial: 64 hex characters, so the length rule alone lets it through.
		"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
		"your-256-bit-secret", // jwt.io's HS256 example
		"secret",
	}
	markers := []string{
		"change-in-production", "change_in_production",
		"changeme", "change-me", "change_me", "change-this", "change_this",
		"your-secret", "your_secret",
	}
	s := strings.ToLower(strings.TrimSpace(secret))
	for _, p := range placeholders {
		if s == p {
			return true
		}
	}
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
