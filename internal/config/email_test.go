package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

func TestEmailSettings(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{"--require-verified-email", "--password-reset-ttl", "15m"}, map[string]string{
		"GATEHOUSE_SMTP_URL":                 "smtp://relay:s3cret-pw@mail.example.com:587",
		"GATEHOUSE_MAIL_FROM":                "Example <auth@example.com>",
		"GATEHOUSE_PUBLIC_URL":               "https://login.example.com/",
		"GATEHOUSE_EMAIL_VERIFY_TTL":         "48h",
		"GATEHOUSE_RATE_LIMIT_EMAIL_IP":      "5/10m",
		"GATEHOUSE_RATE_LIMIT_EMAIL_ADDRESS": "0",
	})
	want := Email{
		SMTPURL: "smtp://relay:s3cret-pw@mail.example.com:587", From: "Example <auth@example.com>",
		PublicURL: "https://login.example.com/", RequireVerified: true, VerifyTTL: 48 * time.Hour, ResetTTL: 15 * time.Minute,
		RateLimitIP: gatehouse.Limit{N: 5, Per: 10 * time.Minute},
	}
	if c.Email != want {
		t.Errorf("Email = %+v, want %+v", c.Email, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := c.PublicBaseURL(); got != "https://login.example.com" {
		t.Errorf("PublicBaseURL = %q", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	for _, out := range []string{buf.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(out, "s3cret-pw") {
			t.Errorf("the SMTP password leaks: %s", out)
		}
	}
	if !strings.Contains(buf.String(), "mail.example.com") {
		t.Errorf("the log does not name the relay: %s", buf.String())
	}
}

func TestPublicBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, issuer, public, want string
	}{
		{"127.0.0.1:8000", "", "", "http://127.0.0.1:8000"},
		{":8000", "", "", "http://localhost:8000"},
		{":8000", "https://auth.example.com/", "", "https://auth.example.com"},
		{":8000", "https://auth.example.com", "https://login.example.com", "https://login.example.com"},
	}
	for _, tt := range tests {
		c := Config{Addr: tt.addr, Issuer: tt.issuer, Email: Email{PublicURL: tt.public}}
		if got := c.PublicBaseURL(); got != tt.want {
			t.Errorf("PublicBaseURL(%+v) = %q, want %q", tt, got, tt.want)
		}
	}
}

// EmailOff: production without a relay turns the email flows off;
// development without one logs the mail instead.
func TestEmailOff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		base func(testing.TB) Config
		smtp string
		want bool
	}{
		{"production without a relay", validProduction, "", true},
		{"production with a relay", validProduction, "smtps://u:p@mail.example.com", false},
		{"development without a relay", validDevelopment, "", false},
	} {
		c := tt.base(t)
		c.Email.SMTPURL = tt.smtp
		if got := c.EmailOff(); got != tt.want {
			t.Errorf("%s: EmailOff() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    func(testing.TB) Config
		edit    func(*Config)
		wantErr string
	}{
		{name: "development logs mail", base: validDevelopment, edit: func(c *Config) {}},
		{name: "production without a relay: email off", base: validProduction, edit: func(c *Config) { c.Email.SMTPURL = "" }},
		{name: "production without a relay, plain public URL: no links to protect", base: validProduction,
			edit: func(c *Config) { c.Email.SMTPURL, c.Email.PublicURL = "", "http://login.example.com" }},
		{name: "verified email required without a relay", base: validProduction,
			edit: func(c *Config) { c.Email.SMTPURL, c.Email.RequireVerified = "", true }, wantErr: "GATEHOUSE_REQUIRE_VERIFIED_EMAIL=true needs GATEHOUSE_SMTP_URL"},
		{name: "verified email required with a relay", base: validProduction, edit: func(c *Config) { c.Email.RequireVerified = true }},
		{name: "development requires verified email, logs mail", base: validDevelopment, edit: func(c *Config) { c.Email.RequireVerified = true }},
		{name: "relay needs a sender", base: validDevelopment, edit: func(c *Config) { c.Email.SMTPURL = "smtp://localhost:1025?starttls=off" }, wantErr: "GATEHOUSE_MAIL_FROM"},
		{name: "bad relay URL keeps its password", base: validDevelopment, edit: func(c *Config) { c.Email.SMTPURL = "http://u:hunter2@mail.example.com" }, wantErr: "GATEHOUSE_SMTP_URL must be"},
		{name: "relay URL without host", base: validDevelopment, edit: func(c *Config) { c.Email.SMTPURL = "smtp://" }, wantErr: "GATEHOUSE_SMTP_URL must be"},
		{name: "public URL with query", base: validDevelopment, edit: func(c *Config) { c.Email.PublicURL = "https://x.example?a=1" }, wantErr: "GATEHOUSE_PUBLIC_URL"},
		{name: "production plain links", base: validProduction, edit: func(c *Config) { c.Email.PublicURL = "http://login.example.com" }, wantErr: "https GATEHOUSE_PUBLIC_URL"},
		{name: "verify ttl too short", base: validDevelopment, edit: func(c *Config) { c.Email.VerifyTTL = time.Minute }, wantErr: "GATEHOUSE_EMAIL_VERIFY_TTL"},
		{name: "verify ttl too long", base: validDevelopment, edit: func(c *Config) { c.Email.VerifyTTL = 30 * 24 * time.Hour }, wantErr: "GATEHOUSE_EMAIL_VERIFY_TTL"},
		{name: "reset ttl too long", base: validDevelopment, edit: func(c *Config) { c.Email.ResetTTL = 48 * time.Hour }, wantErr: "GATEHOUSE_PASSWORD_RESET_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.base(t)
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the relay password", err)
			}
		})
	}
}
