package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// A stolen access token must not be enough to confirm a TOTP enrolment
// (the thief's authenticator would lock the owner out): the request
// carries the current password. Each attempt below is the thief's, and
// none leaves a confirmed TOTP behind.
func TestConfirmTOTPNeedsPassword(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "sam", "sam@example.com", goodPassword)
	e.alignStep()
	en := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", access, nil)).json(t)
	code := codeAt(t, en["secret"].(string), e.clock.Now())
	confirm := func(body map[string]string) response {
		return e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, body))
	}
	for _, tc := range []struct {
		name   string
		body   map[string]string
		status int
		code   string
	}{
		{"no password", map[string]string{"code": code}, http.StatusForbidden, gatehouse.CodeReauthRequired},
		{"empty password", map[string]string{"code": code, "password": ""}, http.StatusForbidden, gatehouse.CodeReauthRequired},
		{"wrong password", map[string]string{"code": code, "password": "not the password at all"}, http.StatusBadRequest, gatehouse.CodeWrongPassword},
		{"password not a string", map[string]string{"code": code}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status == 0 {
				r := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", access, map[string]any{"code": code, "password": 12}))
				wantError(t, "password 12", r, http.StatusUnprocessableEntity, gatehouse.CodeValidation)
				return
			}
			wantError(t, tc.name, confirm(tc.body), tc.status, tc.code)
		})
	}
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false {
		t.Fatalf("a refused confirmation enabled TOTP: %v", st)
	}
	if r := e.login(t, "sam", goodPassword); r.status != http.StatusOK {
		t.Fatalf("login after refused confirmations: %d %s", r.status, r.body)
	}
	r := confirm(map[string]string{"code": code, "password": goodPassword})
	wantStatus(t, "confirm with the password", r, http.StatusOK, "")
	ev := e.auditEvents(t, gatehouse.EventMFAEnrolled)
	var refused int
	for _, row := range ev {
		if row.Outcome == gatehouse.OutcomeFailure && (row.Reason == gatehouse.CodeReauthRequired || row.Reason == gatehouse.CodeWrongPassword) {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("refused confirmations audited %d times, want 3: %s", refused, rows(ev))
	}
}

// An account made through a provider has no password to give: a sensitive
// change (confirming TOTP, setting a first password) needs a session whose
// sign-in is less than auth.ReauthWindow old. A refresh does not make it
// fresh again, so a stolen refresh token is no way around the rule.
func TestPasswordlessChangesNeedRecentSignIn(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	e := newOIDCEnv(t, func(now func() time.Time) map[string]gatehouse.Upstream {
		return map[string]gatehouse.Upstream{"corp": mockProvider(t, "corp", m, now)}
	})
	signIn := func(sub string) (access, refresh string) {
		m.QueueUser(&mockoidc.MockUser{Subject: sub, Email: sub + "@example.com", EmailVerified: true, PreferredUsername: sub})
		code, verifier := e.signIn(t, "corp")
		res := e.exchange(t, code, appRedirect, verifier)
		wantStatus(t, "exchange", res, http.StatusOK, "")
		return res.json(t)["access_token"].(string), res.json(t)["refresh_token"].(string)
	}
	_, refresh := signIn("stale")
	fresh, _ := signIn("fresh")

	// Fresh: within the window of the sign-in.
	e.clock.Add(auth.ReauthWindow - time.Minute)
	e.alignStep()
	en := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", fresh, nil)).json(t)
	r := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", fresh, map[string]string{"code": codeAt(t, en["secret"].(string), e.clock.Now())}))
	wantStatus(t, "confirm from a fresh session", r, http.StatusOK, "")
	r = e.do(t, authed(http.MethodPost, "/users/me/password", fresh, map[string]string{"current_password": "", "new_password": "the owner's own passphrase"}))
	wantStatus(t, "first password from a fresh session", r, http.StatusNoContent, "")

	// Stale: past the window, with a token fresh from a refresh.
	e.clock.Add(2 * time.Minute)
	r = e.refresh(t, refresh)
	wantStatus(t, "refresh", r, http.StatusOK, "")
	stale := r.json(t)["access_token"].(string)
	e.alignStep()
	en = e.do(t, authed(http.MethodPost, "/users/me/mfa/totp", stale, nil)).json(t)
	totpCode := codeAt(t, en["secret"].(string), e.clock.Now())
	wantError(t, "confirm from a stale session", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", stale, map[string]string{"code": totpCode})),
		http.StatusForbidden, gatehouse.CodeReauthRequired)
	wantError(t, "confirm with a password the account lacks", e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", stale,
		map[string]string{"code": totpCode, "password": "some guess at a password"})), http.StatusBadRequest, gatehouse.CodeWrongPassword)
	wantError(t, "first password from a stale session", e.do(t, authed(http.MethodPost, "/users/me/password", stale,
		map[string]string{"current_password": "", "new_password": "the thief's new passphrase"})), http.StatusForbidden, gatehouse.CodeReauthRequired)
	if r := e.login(t, "stale", "the thief's new passphrase"); r.status != http.StatusUnauthorized {
		t.Errorf("login with the refused password: %d %s", r.status, r.body)
	}
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", stale, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false {
		t.Fatalf("a stale session enabled TOTP: %v", st)
	}
}

// Turning TOTP off ends the user's other sessions: their tokens say aal2,
// a second factor the account no longer has. The session that turned it
// off stays, and so do other users'.
func TestDisableTOTPEndsOtherSessions(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "vic", "vic@example.com", goodPassword)
	secret, _ := e.enrolTOTP(t, access)
	r := e.mfaStep(t, e.passwordStep(t, "vic", goodPassword), codeAt(t, secret, e.clock.Now()))
	wantStatus(t, "second login", r, http.StatusOK, "")
	otherAccess, otherRefresh := r.json(t)["access_token"].(string), r.json(t)["refresh_token"].(string)
	bystander := e.token(t, "wen", "wen@example.com", goodPassword)

	r = e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", access, map[string]string{"password": goodPassword}))
	wantStatus(t, "disable", r, http.StatusNoContent, "")
	if got := e.me(t, otherAccess); got != http.StatusUnauthorized {
		t.Errorf("the other session's aal2 token after disable: %d, want 401", got)
	}
	wantStatus(t, "the other session's refresh", e.refresh(t, otherRefresh), http.StatusBadRequest, gatehouse.CodeInvalidGrant)
	for name, tok := range map[string]string{"the caller's": access, "another user's": bystander} {
		if got := e.me(t, tok); got != http.StatusOK {
			t.Errorf("%s session after disable: %d, want 200", name, got)
		}
	}
	ev := e.auditEvents(t, gatehouse.EventMFADisabled)
	if len(ev) != 1 || ev[0].Outcome != gatehouse.OutcomeSuccess || ev[0].Detail["sessions_revoked"] != "1" {
		t.Errorf("mfa_disabled rows: %s", rows(ev))
	}
}
