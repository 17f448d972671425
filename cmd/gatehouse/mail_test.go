package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/mail"
	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

// TestServePasswordResetOverSMTP runs the server as `gatehouse serve` does,
// with GATEHOUSE_SMTP_URL naming a real SMTP server started here, and
// resets a password with the link that arrives.
func TestServePasswordResetOverSMTP(t *testing.T) {
	relay := mailtest.Start(t, mailtest.Options{Security: mailtest.None})
	s := startServer(t, map[string]string{
		"GATEHOUSE_DATA_DIR":               t.TempDir(),
		"GATEHOUSE_SMTP_URL":               relay.URL(),
		"GATEHOUSE_MAIL_FROM":              "Gatehouse <auth@example.test>",
		"GATEHOUSE_PUBLIC_URL":             "https://auth.example.test",
		"GATEHOUSE_REQUIRE_VERIFIED_EMAIL": "true",
	})
	s.waitReady(t)
	status, body := s.call(t, "POST", "/auth/register", "application/json",
		`{"username": "john_doe", "email": "john@example.com", "password": "SecurePassword123"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, body)
	}
	if status, body = s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=SecurePassword123", ""); status != http.StatusForbidden || body["code"] != "email_not_verified" {
		t.Fatalf("unverified login: %d %v", status, body)
	}
	if status, body = s.call(t, "POST", "/auth/password-reset/request", "application/json", `{"email": "john@example.com"}`, ""); status != http.StatusAccepted {
		t.Fatalf("reset request: %d %v", status, body)
	}
	msg := relay.Receive(t, 15*time.Second)
	_, token := msg.Link(t, "/ui/reset-password")
	if status, body = s.call(t, "POST", "/auth/password-reset", "application/json", `{"token": "`+token+`", "new_password": "a brand new passphrase"}`, ""); status != http.StatusNoContent {
		t.Fatalf("reset: %d %v", status, body)
	}
	// The reset proved the mailbox, so the login needs no other link.
	if status, body = s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=a+brand+new+passphrase", ""); status != http.StatusOK {
		t.Fatalf("login after reset: %d %v", status, body)
	}
	if logs := s.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, mail.Banner) {
		t.Errorf("with a relay, the log holds the token or development mail:\n%s", logs)
	}
}

// TestServeDevelopmentMailIsLogged: without a relay, development writes the
// mail to the log, marked as not sent.
func TestServeDevelopmentMailIsLogged(t *testing.T) {
	s := startServer(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()})
	s.waitReady(t)
	tutorialFlow(t, s)
	if status, body := s.call(t, "POST", "/auth/verify-email/request", "application/json", `{"email": "john@example.com"}`, ""); status != http.StatusAccepted {
		t.Fatalf("verification request: %d %v", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), mail.Banner) {
		if time.Now().After(deadline) {
			t.Fatalf("no development mail in the log:\n%s", s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "/ui/verify-email?token=") || !strings.Contains(logs, "no GATEHOUSE_SMTP_URL") {
		t.Errorf("log lacks the link or the warning:\n%s", logs)
	}
}

// TestServeShutdownMailsQueuedLinks: links asked for just before a shutdown
// are mailed before run returns, not dropped: their requests were answered
// 202 already. The relay is slow, so that with two mail workers busy the
// third message is still queued when the shutdown begins.
func TestServeShutdownMailsQueuedLinks(t *testing.T) {
	relay := mailtest.Start(t, mailtest.Options{Security: mailtest.None, Delay: 500 * time.Millisecond})
	s := startServer(t, map[string]string{
		"GATEHOUSE_DATA_DIR":   t.TempDir(),
		"GATEHOUSE_SMTP_URL":   relay.URL(),
		"GATEHOUSE_MAIL_FROM":  "Gatehouse <auth@example.test>",
		"GATEHOUSE_PUBLIC_URL": "https://auth.example.test",
	})
	s.waitReady(t)
	names := []string{"ann", "ben", "cat"}
	for _, n := range names {
		if status, body := s.call(t, "POST", "/auth/register", "application/json",
			`{"username": "`+n+`", "email": "`+n+`@example.com", "password": "SecurePassword123"}`, ""); status != http.StatusCreated {
			t.Fatalf("register %s: %d %v", n, status, body)
		}
	}
	for _, n := range names {
		if status, body := s.call(t, "POST", "/auth/password-reset/request", "application/json", `{"email": "`+n+`@example.com"}`, ""); status != http.StatusAccepted {
			t.Fatalf("reset request %s: %d %v", n, status, body)
		}
	}
	s.stop(t)
	for range names {
		relay.Receive(t, time.Second) // already delivered when run returned
	}
	if logs := s.logs.String(); strings.Contains(logs, "dropped at shutdown") {
		t.Errorf("mail dropped at shutdown:\n%s", logs)
	}
}
