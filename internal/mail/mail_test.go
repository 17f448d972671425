package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/mail"
	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    mail.Config
		wantErr string
	}{
		{raw: "smtp://mail.example.com", want: mail.Config{Host: "mail.example.com", Port: 587, Security: mail.StartTLSRequired}},
		{raw: "smtp://u%40x:p%3Ass@mail.example.com:2525", want: mail.Config{Host: "mail.example.com", Port: 2525, Username: "u@x", Password: "p:ss", Security: mail.StartTLSRequired}},
		{raw: "smtps://u:p@mail.example.com", want: mail.Config{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", Security: mail.ImplicitTLS}},
		{raw: "smtp://localhost:25?starttls=optional", want: mail.Config{Host: "localhost", Port: 25, Security: mail.StartTLSOptional}},
		{raw: "smtp://localhost:1025?starttls=off", want: mail.Config{Host: "localhost", Port: 1025, Security: mail.Plain}},
		{raw: "smtp://[::1]:25?starttls=required", want: mail.Config{Host: "::1", Port: 25, Security: mail.StartTLSRequired}},
		{raw: "http://mail.example.com", wantErr: "neither smtp nor smtps"},
		{raw: "smtp://", wantErr: "no host"},
		{raw: "smtp://h:99999", wantErr: "invalid port"},
		{raw: "smtp://h/x", wantErr: "no path"},
		{raw: "smtp://h?tls=1", wantErr: "unknown parameter"},
		{raw: "smtp://h?starttls=maybe", wantErr: "want required, optional or off"},
		{raw: "smtps://h?starttls=off", wantErr: "smtp:// only"},
		{raw: "smtp://user:hunter2@h:bad", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := mail.ParseURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q reveals the password", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseURL = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func message() gatehouse.Message {
	return gatehouse.Message{To: "alice@example.com", Subject: "이메일 주소를 확인해 주세요", Text: "Open https://auth.test/ui/verify-email?token=abc\n", HTML: "<p>hi</p>"}
}

// TestSMTPSend sends through a real SMTP server in each of the ways a
// GATEHOUSE_SMTP_URL can ask for, and checks what arrived.
func TestSMTPSend(t *testing.T) {
	tests := []struct {
		name string
		opts mailtest.Options
		tls  bool
	}{
		{"STARTTLS with AUTH", mailtest.Options{Security: mailtest.StartTLS, Username: "gatehouse", Password: "relay-secret"}, true},
		{"implicit TLS with AUTH", mailtest.Options{Security: mailtest.Implicit, Username: "gatehouse", Password: "relay-secret"}, true},
		{"plain local relay", mailtest.Options{Security: mailtest.None}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.opts)
			m, err := mail.NewSMTP(srv.URL(), "Gatehouse <auth@example.com>", srv.ClientTLS())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Send(t.Context(), message()); err != nil {
				t.Fatal(err)
			}
			got := srv.Receive(t, 5*time.Second)
			if got.TLS != tt.tls || got.Authed != (tt.opts.Username != "") {
				t.Errorf("arrived with TLS %v, authenticated %v", got.TLS, got.Authed)
			}
			if got.From != "auth@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
				t.Errorf("envelope from %q to %q", got.From, got.To)
			}
			if got.Subject != message().Subject || got.Text != message().Text || got.HTML != message().HTML {
				t.Errorf("message = %q / %q / %q, want %+v", got.Subject, got.Text, got.HTML, message())
			}
		})
	}
}

// TestSMTPRefusals: a relay without STARTTLS is refused unless the URL
// allows plain, bad credentials fail, and an unreachable relay fails
// within the context.
func TestSMTPRefusals(t *testing.T) {
	plain := mailtest.Start(t, mailtest.Options{Security: mailtest.None})
	u, _ := url.Parse(plain.URL())
	u.RawQuery = "" // STARTTLS required, which this relay cannot do
	m, err := mail.NewSMTP(u.String(), "auth@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), message()); err == nil {
		t.Error("sent in the clear although the URL requires STARTTLS")
	}
	plain.None(t)

	secure := mailtest.Start(t, mailtest.Options{Security: mailtest.StartTLS, Username: "gatehouse", Password: "relay-secret"})
	u, _ = url.Parse(secure.URL())
	u.User = url.UserPassword("gatehouse", "wrong")
	m, err = mail.NewSMTP(u.String(), "auth@example.com", secure.ClientTLS())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), message()); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad credentials: error %v, want one not naming the password", err)
	}
	// The server's certificate is not trusted without ClientTLS.
	m, err = mail.NewSMTP(secure.URL(), "auth@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), message()); err == nil {
		t.Error("sent to a relay whose certificate is not trusted")
	}
	secure.None(t)

	if _, err := mail.NewSMTP("smtp://h", "not an address", nil); err == nil {
		t.Error("NewSMTP accepted a bad From")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	m, _ = mail.NewSMTP("smtp://192.0.2.1:25", "auth@example.com", nil) // TEST-NET-1: never answers
	if err := m.Send(ctx, message()); err == nil {
		t.Error("sent to an unreachable relay")
	}
}

func TestLogMailer(t *testing.T) {
	var buf bytes.Buffer
	m := mail.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := m.Send(t.Context(), message()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{mail.Banner, "alice@example.com", "verify-email?token=abc", "level=WARN"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
