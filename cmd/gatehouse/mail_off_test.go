package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/mail"
)

// Production without a relay starts with the email flows off: their
// endpoints answer 404 email_disabled, the sign-in page does not offer a
// reset, and nothing is ever written to the log as mail. Requiring
// verified addresses without a relay is refused at start.
func TestServeProductionWithoutSMTP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	env := map[string]string{
		"GATEHOUSE_ENV":        "production",
		"GATEHOUSE_DATA_DIR":   dir,
		"GATEHOUSE_SECRET_KEY": "a-production-grade-secret-of-enough-length-0123456789",
		"GATEHOUSE_TLS_CERT":   certFile,
		"GATEHOUSE_TLS_KEY":    keyFile,
		"GATEHOUSE_ISSUER":     "https://auth.example.test",
	}
	s := startServer(t, env)
	s.useTLS(pool)
	s.waitReady(t)
	tutorialFlow(t, s)
	for _, p := range []struct{ path, body string }{
		{"/auth/password-reset/request", `{"email": "john@example.com"}`},
		{"/auth/verify-email/request", `{"email": "john@example.com"}`},
		{"/auth/verify-email", `{"token": "x"}`},
		{"/auth/password-reset", `{"token": "x", "new_password": "a new passphrase for john"}`},
	} {
		if status, body := s.call(t, "POST", p.path, "application/json", p.body, ""); status != http.StatusNotFound || body["code"] != "email_disabled" {
			t.Errorf("%s: %d %v, want 404 email_disabled", p.path, status, body)
		}
	}
	res, err := s.client.Get(s.base + "/ui/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.Contains(string(page), "/ui/reset-password/request") {
		t.Errorf("sign-in page offers a reset without email: %d", res.StatusCode)
	}
	res, err = s.client.Get(s.base + "/ui/reset-password/request")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("reset request page without email: %d, want 404", res.StatusCode)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "email verification and password reset are off") || strings.Contains(logs, mail.Banner) {
		t.Errorf("logs lack the warning, or hold mail:\n%s", logs)
	}
	s.stop(t)

	env["GATEHOUSE_REQUIRE_VERIFIED_EMAIL"] = "true"
	err = run(context.Background(), []string{"gatehouse", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_REQUIRE_VERIFIED_EMAIL") {
		t.Errorf("verified email required without a relay: err %v, want a refusal", err)
	}
}
