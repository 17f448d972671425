package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

// TestPreHijackingUndoneByReset plays the account pre-hijacking attack
// (Sudhodanan & Paverd, 2022) end to end: the attacker registers with the
// victim's address, which nobody verifies, links their own provider
// account and enrols their own authenticator. The victim, who cannot sign
// in, resets the password through the mailed link. Afterwards the
// attacker's provider account opens nothing of the victim's, the
// attacker's TOTP no longer guards (or opens) the account, and the audit
// row says what the reset removed.
func TestPreHijackingUndoneByReset(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e, relay := emailEnv(t, envOptions{
		upstreams: func(now func() time.Time) map[string]gatehouse.Upstream {
			return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
		},
		redirectURIs: []string{appRedirect},
	}, auth.Email{}, secureRelay)
	attacker := &mockoidc.MockUser{Subject: "attacker-1", Email: "mallory@evil.test", EmailVerified: true, PreferredUsername: "mallory"}

	// The attacker's preparation.
	access := e.token(t, "victim", "victim@example.com", "the attacker's password")
	victimID := e.meOf(t, access)["id"]
	m.QueueUser(attacker)
	e.link(t, access, "corp")
	secret, _ := e.enrolTOTPWith(t, access, "the attacker's password")

	// Before the reset the attacker's provider account, with their TOTP,
	// opens the victim's account.
	m.QueueUser(attacker)
	code, verifier := e.signIn(t, "corp")
	r := e.exchange(t, code, appRedirect, verifier)
	wantStatus(t, "attacker's provider sign-in before the reset", r, http.StatusUnauthorized, gatehouse.CodeMFARequired)
	r = e.mfaStep(t, r.json(t)["mfa_token"].(string), codeAt(t, secret, e.clock.Now()))
	wantStatus(t, "attacker's TOTP step before the reset", r, http.StatusOK, "")
	if got := e.meOf(t, r.json(t)["access_token"].(string))["id"]; got != victimID {
		t.Fatalf("attack set-up: provider sign-in reached user %v, want %v", got, victimID)
	}
	e.nextStep()

	// The victim takes the account back.
	wantStatus(t, "reset request", e.post(t, "/auth/password-reset/request", map[string]string{"email": "victim@example.com"}),
		http.StatusAccepted, "")
	_, token := relay.Receive(t, 10*time.Second).Link(t, auth.ResetPasswordPath)
	wantStatus(t, "reset", e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "the victim's own passphrase"}),
		http.StatusNoContent, "")

	// The attacker's provider account now opens a new account of its own,
	// not the victim's.
	m.QueueUser(attacker)
	code, verifier = e.signIn(t, "corp")
	r = e.exchange(t, code, appRedirect, verifier)
	if r.status == http.StatusOK {
		if got := e.meOf(t, r.json(t)["access_token"].(string))["id"]; got == victimID {
			t.Errorf("after the reset the attacker's provider account still opens the victim's account")
		}
	} else if r.status == http.StatusUnauthorized && r.code(t) == gatehouse.CodeMFARequired {
		t.Errorf("after the reset the attacker's provider account still reaches the victim's TOTP step")
	}

	// The victim signs in with the password alone: the attacker's TOTP is
	// gone (else the victim would be locked out by it, and the attacker's
	// codes would still count).
	r = e.login(t, "victim", "the victim's own passphrase")
	wantStatus(t, "victim's login after the reset", r, http.StatusOK, "")
	victimAccess := r.json(t)["access_token"].(string)
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", victimAccess, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false {
		t.Errorf("MFA status after the reset: %v", st)
	}
	ids := e.do(t, authed(http.MethodGet, "/users/me/identities", victimAccess, nil))
	if list, _ := ids.json(t)["identities"].([]any); len(list) != 0 {
		t.Errorf("identities after the reset: %s", ids.body)
	}

	e.settle(t)
	ev := e.auditEvents(t, gatehouse.EventPasswordReset)
	if len(ev) != 1 || ev[0].Outcome != gatehouse.OutcomeSuccess || ev[0].Detail["unverified"] != "true" ||
		ev[0].Detail["identities_removed"] != "1" || ev[0].Detail["mfa_removed"] != "true" {
		t.Errorf("password_reset rows: %s", rows(ev))
	}
}

// verifyEmail verifies address through the mailed link, as its owner would.
func (e *testEnv) verifyEmail(tb testing.TB, relay *mailtest.Server, address string) {
	tb.Helper()
	wantStatus(tb, "verification request", e.post(tb, "/auth/verify-email/request", map[string]string{"email": address}), http.StatusAccepted, "")
	_, token := relay.Receive(tb, 10*time.Second).Link(tb, auth.VerifyEmailPath)
	wantStatus(tb, "verification", e.post(tb, "/auth/verify-email", map[string]string{"token": token}), http.StatusNoContent, "")
}
