package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The real binary wires two-factor authentication: enrolment, the two-step
// login, and TOTP secrets that still open after a restart (their key is
// derived from the server secret, not made per process).
func TestServeTOTP(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_ISSUER": "http://gatehouse.test", "GATEHOUSE_TOTP_ISSUER": "Example Co"}
	s := startServer(t, env)
	s.waitReady(t)
	token := tutorialFlow(t, s)

	status, body := s.call(t, "POST", "/users/me/mfa/totp", "", "", token)
	if status != http.StatusOK {
		t.Fatalf("enrol: %d %v", status, body)
	}
	key, err := otp.NewKeyFromURL(body["otpauth_uri"].(string))
	if err != nil || key.Issuer() != "Example Co" {
		t.Fatalf("otpauth_uri %v: issuer %q, %v", body["otpauth_uri"], key.Issuer(), err)
	}
	secret := body["secret"].(string)
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	confirmedAt := time.Now()
	status, body = s.call(t, "POST", "/users/me/mfa/totp/confirm", "application/json", `{"code": "`+code(confirmedAt)+`"}`, "")
	if status != http.StatusUnauthorized {
		t.Fatalf("confirm without a token: %d %v", status, body)
	}
	status, body = s.call(t, "POST", "/users/me/mfa/totp/confirm", "application/json", `{"code": "`+code(confirmedAt)+`"}`, token)
	if status != http.StatusForbidden || body["code"] != "reauthentication_required" {
		t.Fatalf("confirm without the password: %d %v", status, body)
	}
	status, body = s.call(t, "POST", "/users/me/mfa/totp/confirm", "application/json", `{"code": "`+code(confirmedAt)+`", "password": "SecurePassword123"}`, token)
	if status != http.StatusOK {
		t.Fatalf("confirm: %d %v", status, body)
	}
	recovery := body["recovery_codes"].([]any)

	login := func(s *server, second string) map[string]any {
		t.Helper()
		status, body := s.call(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=john_doe&password=SecurePassword123", "")
		if status != http.StatusUnauthorized || body["code"] != "mfa_required" {
			t.Fatalf("password step: %d %v", status, body)
		}
		status, body = s.call(t, "POST", "/auth/login/mfa", "application/json", `{"mfa_token": "`+body["mfa_token"].(string)+`", "code": "`+second+`"}`, "")
		if status != http.StatusOK {
			t.Fatalf("second step: %d %v", status, body)
		}
		return body
	}
	login(s, recovery[0].(string))
	s.stop(t)

	s2 := startServer(t, env)
	s2.waitReady(t)
	// The next step's code: within the accepted skew, and after the
	// confirmation's.
	body = login(s2, code(confirmedAt.Add(30*time.Second)))
	if status, me := s2.call(t, "GET", "/users/me", "", "", body["access_token"].(string)); status != http.StatusOK {
		t.Errorf("me: %d %v", status, me)
	}
}
