package main

import (
	"log/slog"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/mail"
)

// newMailer returns the SMTP relay of GATEHOUSE_SMTP_URL or, without one,
// in production nil (the email flows are off: their endpoints answer 404
// email_disabled and the pages hide their links), in development the log
// mailer, announced loudly since it writes every link, token included.
func newMailer(cfg config.Config, log *slog.Logger) (gatehouse.Mailer, error) {
	if cfg.EmailOff() {
		log.Warn("no GATEHOUSE_SMTP_URL: email verification and password reset are off")
		return nil, nil
	}
	if cfg.Email.SMTPURL == "" {
		log.Warn("no GATEHOUSE_SMTP_URL: verification and password reset mail is written to this log, not sent (development only)")
		return mail.NewLog(log), nil
	}
	m, err := mail.NewSMTP(cfg.Email.SMTPURL, cfg.Email.From, nil)
	if err != nil {
		return nil, err
	}
	log.Info("mail goes through SMTP", "relay", m.String())
	return m, nil
}
