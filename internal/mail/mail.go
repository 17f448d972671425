// Package mail delivers gatehouse's email: through an SMTP relay
// (github.com/wneessen/go-mail), or, in development without one, to the log.
// It is an adapter: it imports the domain and its driver, and only
// cmd/gatehouse wires it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse-auth/gatehouse"
)

// Security is how the connection to the relay is protected.
type Security int

// The connection securities a GATEHOUSE_SMTP_URL can ask for.
const (
	// StartTLSRequired upgrades with STARTTLS and refuses a relay that
	// cannot (smtp://, the default).
	StartTLSRequired Security = iota
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS
	// StartTLSOptional upgrades when the relay offers STARTTLS and sends
	// in the clear otherwise (smtp://…?starttls=optional), for a relay on
	// the same host or network.
	StartTLSOptional
	// Plain never upgrades (smtp://…?starttls=off): only for a relay on
	// localhost or in a trusted network, such as a development catcher.
	Plain
)

// Config is a parsed GATEHOUSE_SMTP_URL.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	Security Security
}

// ParseURL reads an SMTP URL:
//
//	smtp://[user:pass@]host[:port][?starttls=required|optional|off]   default port 587, STARTTLS required
//	smtps://[user:pass@]host[:port]                                   default port 465, implicit TLS
//
// User and password are percent-decoded. No error it returns contains the
// password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("not a URL (want smtp://user:pass@host:587 or smtps://user:pass@host:465)")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Port, c.Security = 587, StartTLSRequired
	case "smtps":
		c.Port, c.Security = 465, ImplicitTLS
	default:
		return Config{}, fmt.Errorf("scheme %q is neither smtp nor smtps", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("the URL names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("invalid port %q", p)
		}
		c.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("the URL takes no path")
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return Config{}, fmt.Errorf("unknown parameter %q (only starttls)", k)
		}
	}
	if v := q.Get("starttls"); v != "" {
		if u.Scheme != "smtp" {
			return Config{}, errors.New("starttls applies to smtp:// only; smtps:// is TLS from the start")
		}
		switch v {
		case "required":
			c.Security = StartTLSRequired
		case "optional":
			c.Security = StartTLSOptional
		case "off":
			c.Security = Plain
		default:
			return Config{}, fmt.Errorf("starttls=%q (want required, optional or off)", v)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c, nil
}

// SMTP sends mail through a relay. Each Send opens a connection of its own,
// so a relay that drops idle connections never fails a message; the volume
// of an authentication server's mail does not call for a pool.
type SMTP struct {
	cfg     Config
	from    string
	tls     *tls.Config
	timeout time.Duration
}

// NewSMTP returns a mailer for the relay at rawURL, sending from `from` (an
// address, optionally with a display name: "Gatehouse <auth@example.com>").
// tlsConfig may be nil (the system roots, verifying the relay's name).
func NewSMTP(rawURL, from string, tlsConfig *tls.Config) (*SMTP, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_SMTP_URL: %w", err)
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_MAIL_FROM: %w", err)
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tlsConfig = tlsConfig.Clone()
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = c.Host
	}
	return &SMTP{cfg: c, from: from, tls: tlsConfig, timeout: 15 * time.Second}, nil
}

// String names the relay, without credentials, for the start-up log.
func (s *SMTP) String() string {
	sec := [...]string{"starttls", "tls", "starttls-optional", "plain"}[s.cfg.Security]
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) + " (" + sec + ")"
}

// Send delivers m, giving up when ctx ends.
func (s *SMTP) Send(ctx context.Context, m gatehouse.Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tls),
	}
	switch s.cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		// The strongest mechanism the relay offers, never LOGIN/PLAIN in
		// the clear unless the URL asked for a plain connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send to %s: %w", s, err)
	}
	return nil
}

// Log is the development mailer: it writes each message to the log instead
// of sending it, marked so that no one mistakes it for delivered mail. The
// message carries its link, token included: the one place gatehouse logs a
// token, which is why config.Validate refuses it in production.
type Log struct{ log *slog.Logger }

// NewLog returns a mailer writing to log.
func NewLog(log *slog.Logger) *Log { return &Log{log: log} }

// Banner starts every line the Log mailer writes.
const Banner = "DEVELOPMENT MAIL — not sent"

// Send logs m at warning level.
func (l *Log) Send(ctx context.Context, m gatehouse.Message) error {
	l.log.LogAttrs(ctx, slog.LevelWarn, Banner,
		slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("text", strings.TrimSpace(m.Text)))
	return nil
}
