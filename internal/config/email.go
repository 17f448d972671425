package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Email is the configuration of email verification and password reset.
type Email struct {
	// SMTPURL names the relay (smtp://user:pass@host:587, STARTTLS
	// required; smtps://…:465, implicit TLS; ?starttls=optional or off for
	// a local relay). "" in development: mail is written to the log.
	SMTPURL string
	// From is the sender, an address with an optional display name.
	From string
	// PublicURL is the base of the links mailed ("" = Issuer, else
	// http://Addr); see Config.PublicBaseURL.
	PublicURL string
	// RequireVerified refuses login to users whose email is not verified.
	RequireVerified bool
	// VerifyTTL and ResetTTL are the lives of the links.
	VerifyTTL time.Duration
	ResetTTL  time.Duration
	// RateLimitIP bounds link requests from one client address,
	// RateLimitAddress those for one email address or account.
	RateLimitIP      gatehouse.Limit
	RateLimitAddress gatehouse.Limit
}

// Email defaults and bounds.
const (
	defaultEmailVerifyTTL = 24 * time.Hour
	defaultResetTTL       = 30 * time.Minute
	minLinkTTL            = 5 * time.Minute
	maxVerifyTTL          = 7 * 24 * time.Hour
	maxResetTTL           = 24 * time.Hour // a reset link is a password: keep it short-lived (OWASP: minutes, not days)
)

var (
	defaultRateLimitEmailIP      = gatehouse.Limit{N: 10, Per: time.Hour}
	defaultRateLimitEmailAddress = gatehouse.Limit{N: 3, Per: time.Hour}
)

func defaultEmail() Email {
	return Email{
		VerifyTTL: defaultEmailVerifyTTL, ResetTTL: defaultResetTTL,
		RateLimitIP: defaultRateLimitEmailIP, RateLimitAddress: defaultRateLimitEmailAddress,
	}
}

// emailSettings are the settings of Email, in the order Usage prints them.
func emailSettings() []setting {
	return []setting{
		{
			env: "GATEHOUSE_SMTP_URL", flag: "smtp-url", arg: "url", def: "none: in development mail is logged; in production the email flows are off",
			usage: "SMTP relay for verification and password reset mail: smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465, or smtp://host:25?starttls=optional|off for a local relay",
			apply: func(c *Config, raw string) error { c.Email.SMTPURL = raw; return nil },
		},
		{
			env: "GATEHOUSE_MAIL_FROM", flag: "mail-from", arg: "address", def: "none (required with an SMTP relay)",
			usage: "sender of the mail, e.g. \"Example <auth@example.com>\"",
			apply: func(c *Config, raw string) error { c.Email.From = raw; return nil },
		},
		{
			env: "GATEHOUSE_PUBLIC_URL", flag: "public-url", arg: "url", def: "GATEHOUSE_ISSUER, else http://GATEHOUSE_ADDR",
			usage: "public base URL of the links mailed (…/ui/verify-email, …/ui/reset-password)",
			apply: func(c *Config, raw string) error { c.Email.PublicURL = raw; return nil },
		},
		{
			env: "GATEHOUSE_REQUIRE_VERIFIED_EMAIL", flag: "require-verified-email", def: "false",
			usage: "refuse login (403 email_not_verified) until the user's email address is verified",
			apply: func(c *Config, raw string) (err error) {
				c.Email.RequireVerified, err = parseBool(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_EMAIL_VERIFY_TTL", flag: "email-verify-ttl", arg: "duration", def: "24h",
			usage: "life of an email verification link (5m to 168h)",
			apply: func(c *Config, raw string) (err error) {
				c.Email.VerifyTTL, err = parseDuration(raw)
				return err
			},
		},
		{
			env: "GATEHOUSE_PASSWORD_RESET_TTL", flag: "password-reset-ttl", arg: "duration", def: "30m",
			usage: "life of a password reset link (5m to 24h)",
			apply: func(c *Config, raw string) (err error) {
				c.Email.ResetTTL, err = parseDuration(raw)
				return err
			},
		},
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_EMAIL_IP", "rate-limit-email-ip", defaultRateLimitEmailIP,
			"verification and password reset link requests from one client address",
			func(c *Config) *gatehouse.Limit { return &c.Email.RateLimitIP }),
		rateLimitSetting("GATEHOUSE_RATE_LIMIT_EMAIL_ADDRESS", "rate-limit-email-address", defaultRateLimitEmailAddress,
			"link requests for one email address (or signed-in account), whoever asks",
			func(c *Config) *gatehouse.Limit { return &c.Email.RateLimitAddress }),
	}
}

// EmailOff reports whether the email flows (verification and password
// reset) are off: production without a relay. In development without one,
// mail is written to the log instead.
func (c Config) EmailOff() bool { return c.Email.SMTPURL == "" && c.Production() }

// PublicBaseURL is the base of the links mailed: GATEHOUSE_PUBLIC_URL, else
// the issuer, else http:// and the listen address (development).
func (c Config) PublicBaseURL() string {
	switch {
	case c.Email.PublicURL != "":
		return strings.TrimRight(c.Email.PublicURL, "/")
	case c.Issuer != "":
		return strings.TrimRight(c.Issuer, "/")
	}
	host := c.Addr
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	return "http://" + host
}

// validateEmail holds the email rules of every environment.
func (c Config) validateEmail() error {
	e := c.Email
	if e.SMTPURL != "" {
		u, err := url.Parse(e.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return fmt.Errorf("GATEHOUSE_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…, got %q", redactURL(e.SMTPURL))
		}
		if e.From == "" {
			return fmt.Errorf("GATEHOUSE_SMTP_URL is set but GATEHOUSE_MAIL_FROM is not: name the sender")
		}
	}
	if e.PublicURL != "" {
		if u, err := url.Parse(e.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("GATEHOUSE_PUBLIC_URL must be an absolute http(s) URL without query or fragment, got %q", e.PublicURL)
		}
	}
	if e.VerifyTTL < minLinkTTL || e.VerifyTTL > maxVerifyTTL {
		return fmt.Errorf("GATEHOUSE_EMAIL_VERIFY_TTL must be between %s and %s, got %s", formatDuration(minLinkTTL), formatDuration(maxVerifyTTL), e.VerifyTTL)
	}
	if e.ResetTTL < minLinkTTL || e.ResetTTL > maxResetTTL {
		return fmt.Errorf("GATEHOUSE_PASSWORD_RESET_TTL must be between %s and %s, got %s", formatDuration(minLinkTTL), formatDuration(maxResetTTL), e.ResetTTL)
	}
	return nil
}

// validateEmailProduction: the log mailer writes every link, token and
// all, to the log, which is a development convenience and a production
// account takeover, so production without a relay runs with the email flows
// off (EmailOff) — unless logins require a verified address, which nobody
// could then get; and links must be https.
func (c Config) validateEmailProduction() error {
	if c.Email.SMTPURL == "" {
		if c.Email.RequireVerified {
			return fmt.Errorf("GATEHOUSE_REQUIRE_VERIFIED_EMAIL=true needs GATEHOUSE_SMTP_URL (and GATEHOUSE_MAIL_FROM) in production: without a relay no verification link can be sent, so nobody could log in")
		}
		return nil
	}
	if !strings.HasPrefix(c.PublicBaseURL(), "https://") {
		return fmt.Errorf("production requires an https GATEHOUSE_PUBLIC_URL (or GATEHOUSE_ISSUER) for the links mailed, got %q", c.PublicBaseURL())
	}
	return nil
}

// LogValue shows Email without the relay's password.
func (e Email) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("smtp_url", redactURL(e.SMTPURL)),
		slog.String("mail_from", e.From),
		slog.String("public_url", e.PublicURL),
		slog.Bool("require_verified_email", e.RequireVerified),
		slog.Duration("email_verify_ttl", e.VerifyTTL),
		slog.Duration("password_reset_ttl", e.ResetTTL),
		slog.String("rate_limit_email_ip", formatLimit(e.RateLimitIP)),
		slog.String("rate_limit_email_address", formatLimit(e.RateLimitAddress)),
	)
}
