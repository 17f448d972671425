package web

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// A provider sign-in's session says so: amr ["fed"], aal1, kept across
// refreshes.
func TestProviderSignInAMR(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	m.QueueUser(&mockoidc.MockUser{Subject: "amr-1", Email: "amr@example.com", EmailVerified: true, PreferredUsername: "amr"})
	code, verifier := e.signIn(t, "corp")
	res := e.exchange(t, code, appRedirect, verifier)
	if res.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", res.status, res.body)
	}
	body := res.json(t)
	claims := claimsOf(t, body["access_token"].(string))
	if !slices.Equal(anyStrings(claims["amr"]), []string{"fed"}) || claims["aal"] != "aal1" {
		t.Errorf("provider sign-in: amr %v aal %v, want [fed] aal1", claims["amr"], claims["aal"])
	}
	r := e.refresh(t, body["refresh_token"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if c := claimsOf(t, r.json(t)["access_token"].(string)); !slices.Equal(anyStrings(c["amr"]), []string{"fed"}) {
		t.Errorf("refreshed token amr %v", c["amr"])
	}
}

// A user with TOTP on who signs in through a provider still passes the
// TOTP step: the token endpoint answers 401 mfa_required with an
// mfa_token, and POST /auth/login/mfa opens a session with amr
// ["fed", "otp"] (aal2). The one-time code alone never yields tokens.
func TestProviderSignInRequiresTOTP(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	m.QueueUser(&mockoidc.MockUser{Subject: "mfa-1", Email: "mfa@example.com", EmailVerified: true, PreferredUsername: "mfa"})
	access := e.providerToken(t, "corp")
	secret, recovery := e.enrolTOTPWith(t, access, "")

	for _, tc := range []struct {
		name string
		code func() string
	}{
		{"totp", func() string { return codeAt(t, secret, e.clock.Now()) }},
		{"recovery code", func() string { return recovery[0] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.nextStep()
			m.QueueUser(&mockoidc.MockUser{Subject: "mfa-1", Email: "mfa@example.com", EmailVerified: true, PreferredUsername: "mfa"})
			code, verifier := e.signIn(t, "corp")
			res := e.exchange(t, code, appRedirect, verifier)
			body := res.json(t)
			if res.status != http.StatusUnauthorized || body["code"] != gatehouse.CodeMFARequired || body["access_token"] != nil || body["mfa_token"] == nil {
				t.Fatalf("exchange with TOTP on: %d %s, want 401 mfa_required", res.status, res.body)
			}
			// The code is spent: it cannot be exchanged again to skip
			// the second step.
			wantError(t, "second exchange", e.exchange(t, code, appRedirect, verifier), http.StatusBadRequest, gatehouse.CodeInvalidGrant)
			tok := body["mfa_token"].(string)
			wantError(t, "wrong code", e.mfaStep(t, tok, "000000"), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
			r := e.mfaStep(t, tok, tc.code())
			if r.status != http.StatusOK {
				t.Fatalf("second step: %d %s", r.status, r.body)
			}
			claims := claimsOf(t, r.json(t)["access_token"].(string))
			if !slices.Equal(anyStrings(claims["amr"]), []string{"fed", "otp"}) || claims["aal"] != "aal2" {
				t.Errorf("provider + TOTP: amr %v aal %v, want [fed otp] aal2", claims["amr"], claims["aal"])
			}
			wantError(t, "mfa_token reused", e.mfaStep(t, tok, codeAt(t, secret, e.clock.Now().Add(30*time.Second))), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
		})
	}
	// A password login of another user still gets ["pwd", "otp"].
	pw := e.token(t, "pat", "pat@example.com", goodPassword)
	psecret, _ := e.enrolTOTP(t, pw)
	r := e.mfaStep(t, e.passwordStep(t, "pat", goodPassword), codeAt(t, psecret, e.clock.Now()))
	if c := claimsOf(t, r.json(t)["access_token"].(string)); !slices.Equal(anyStrings(c["amr"]), []string{"pwd", "otp"}) {
		t.Errorf("password + TOTP amr %v", c["amr"])
	}
}

// With GATEHOUSE_REQUIRE_VERIFIED_EMAIL, a provider that vouches for the
// email makes a verified account that signs in; one that does not (no
// email, or one it did not verify) creates no account at all, and the app
// is told email_not_verified.
func TestProviderSignInRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	opts := envOptions{redirectURIs: []string{appRedirect}, upstreams: func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	}}
	e, _ := emailEnv(t, opts, auth.Email{RequireVerified: true}, secureRelay)

	m.QueueUser(&mockoidc.MockUser{Subject: "v-1", Email: "verified@example.com", EmailVerified: true, PreferredUsername: "verified"})
	me := e.meOf(t, e.providerToken(t, "corp"))
	if me["email"] != "verified@example.com" || me["email_verified"] != true {
		t.Errorf("provider-verified account: %v", me)
	}

	for _, u := range []*mockoidc.MockUser{
		{Subject: "v-2", Email: "unverified@example.com", EmailVerified: false, PreferredUsername: "unverified"},
		{Subject: "v-3", PreferredUsername: "noemail"},
	} {
		m.QueueUser(u)
		f := e.start(t, "corp", "s")
		loc, res := e.callback(t, authorize(t, f.providerURL))
		if loc == nil {
			t.Fatalf("callback: %d %s", res.status, res.body)
		}
		if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("error_code") != gatehouse.CodeEmailNotVerified || q.Has("code") {
			t.Errorf("%s: app redirect %s, want error_code email_not_verified", u.Subject, loc)
		}
	}
}
