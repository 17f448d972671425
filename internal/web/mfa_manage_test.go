package web

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// New recovery codes over HTTP: a proof is required (a current TOTP code or
// the password, never a recovery code), the new codes work and every old
// one stops working at once, and each outcome is audited.
func TestRegenerateRecoveryCodes(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "rae", "rae@example.com", goodPassword)
	regen := func(body any) response {
		return e.do(t, authed(http.MethodPost, "/users/me/mfa/recovery-codes", access, body))
	}
	wantError(t, "without TOTP", regen(map[string]string{"password": goodPassword}), http.StatusConflict, gatehouse.CodeMFANotEnabled)
	secret, old := e.enrolTOTP(t, access)
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"neither", map[string]string{}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"both", map[string]string{"code": "123456", "password": goodPassword}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"code not a string", map[string]any{"code": 123456}, http.StatusUnprocessableEntity, gatehouse.CodeValidation},
		{"wrong code", map[string]string{"code": "000000"}, http.StatusBadRequest, gatehouse.CodeWrongMFACode},
		{"a recovery code", map[string]string{"code": old[0]}, http.StatusBadRequest, gatehouse.CodeWrongMFACode},
		{"wrong password", map[string]string{"password": "not the password at all"}, http.StatusBadRequest, gatehouse.CodeWrongPassword},
	} {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.name, regen(tt.body), tt.status, tt.code) })
	}
	if r := e.do(t, authed(http.MethodPost, "/users/me/mfa/recovery-codes", access, nil)); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("no body: %d %s", r.status, r.body)
	}
	if r := e.do(t, jsonRequest(http.MethodPost, "/users/me/mfa/recovery-codes", map[string]string{"password": goodPassword})); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s", r.status, r.body)
	}
	// The refused recovery code was not used up by the refusal.
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["recovery_codes_left"] != float64(10) {
		t.Errorf("after refusals: %v, want 10 codes left", st)
	}

	r := regen(map[string]string{"code": codeAt(t, secret, e.clock.Now())})
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("regenerate with a code: %d %v %s", r.status, r.header, r.body)
	}
	var fresh []string
	for _, c := range r.json(t)["recovery_codes"].([]any) {
		fresh = append(fresh, c.(string))
	}
	if len(fresh) != 10 || slices.ContainsFunc(fresh, func(c string) bool { return slices.Contains(old, c) }) {
		t.Fatalf("new codes %v: want 10, none of the old", fresh)
	}
	// The same TOTP code cannot be replayed for another batch.
	wantError(t, "replayed code", regen(map[string]string{"code": codeAt(t, secret, e.clock.Now())}), http.StatusBadRequest, gatehouse.CodeWrongMFACode)
	// An old code no longer signs in; a new one does.
	wantError(t, "old code", e.mfaStep(t, e.passwordStep(t, "rae", goodPassword), old[1]), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
	if r := e.mfaStep(t, e.passwordStep(t, "rae", goodPassword), fresh[1]); r.status != http.StatusOK {
		t.Fatalf("new code: %d %s", r.status, r.body)
	}
	// With the password: all ten again, including the one just used.
	r = regen(map[string]string{"password": goodPassword})
	if r.status != http.StatusOK || len(r.json(t)["recovery_codes"].([]any)) != 10 {
		t.Fatalf("regenerate with the password: %d %s", r.status, r.body)
	}
	if st := e.do(t, authed(http.MethodGet, "/users/me/mfa", access, nil)).json(t); st["recovery_codes_left"] != float64(10) {
		t.Errorf("status after regenerating: %v", st)
	}
	wantError(t, "previous batch", e.mfaStep(t, e.passwordStep(t, "rae", goodPassword), fresh[2]), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)

	ev := e.auditEvents(t, gatehouse.EventRecoveryCodesRegenerated) // oldest first
	var outcomes []string
	for _, a := range ev {
		outcomes = append(outcomes, a.Outcome+":"+a.Reason+":"+a.Detail["proof"])
	}
	want := []string{"failure:wrong_mfa_code:code", "failure:wrong_mfa_code:code", "failure:wrong_password:password",
		"success::code", "failure:wrong_mfa_code:code", "success::password"}
	if !slices.Equal(outcomes, want) {
		t.Errorf("recovery_codes_regenerated events %v, want %v%s", outcomes, want, rows(ev))
	}
}

// An admin resets a user's second factor: the user then signs in with the
// password alone. The route needs the admin role; an admin cannot reset
// their own; each outcome is audited with the actor.
func TestAdminResetMFA(t *testing.T) {
	a := newAdminEnv(t)
	path := userPath(a.bobID, "/mfa")
	for _, tc := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"without a token", "", http.StatusUnauthorized, gatehouse.CodeInvalidToken},
		{"as a user", a.bobToken, http.StatusForbidden, gatehouse.CodeForbidden},
	} {
		req := authed(http.MethodDelete, path, tc.token, nil)
		if tc.token == "" {
			req.Header.Del("Authorization")
		}
		wantError(t, tc.name, a.do(t, req), tc.status, tc.code)
	}
	wantError(t, "no TOTP", a.admin(t, http.MethodDelete, path, nil), http.StatusConflict, gatehouse.CodeMFANotEnabled)
	wantError(t, "no such user", a.admin(t, http.MethodDelete, userPath(999999, "/mfa"), nil), http.StatusNotFound, gatehouse.CodeNotFound)
	wantError(t, "not an id", a.admin(t, http.MethodDelete, "/admin/users/x/mfa", nil), http.StatusNotFound, gatehouse.CodeNotFound)

	a.enrolTOTP(t, a.bobToken)
	a.passwordStep(t, "bob", goodPassword)
	a.enrolTOTP(t, a.rootToken)
	wantError(t, "own", a.admin(t, http.MethodDelete, userPath(a.rootID, "/mfa"), nil), http.StatusConflict, gatehouse.CodeAdminLockout)
	if r := a.admin(t, http.MethodDelete, path, nil); r.status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	// The reset ends bob's sessions: their tokens claimed a second factor.
	if status := a.me(t, a.bobToken); status != http.StatusUnauthorized {
		t.Errorf("bob's token from before the reset: %d, want 401", status)
	}
	r := a.login(t, "bob", goodPassword)
	if r.status != http.StatusOK {
		t.Fatalf("bob after the reset: %d %s, want a password-only login", r.status, r.body)
	}
	fresh := r.json(t)["access_token"].(string)
	if st := a.do(t, authed(http.MethodGet, "/users/me/mfa", fresh, nil)).json(t); st["totp"].(map[string]any)["enabled"] != false || st["recovery_codes_left"] != float64(0) {
		t.Errorf("bob's status after the reset: %v", st)
	}
	wantError(t, "again", a.admin(t, http.MethodDelete, path, nil), http.StatusConflict, gatehouse.CodeMFANotEnabled)

	ev := a.auditEvents(t, gatehouse.EventMFAReset) // oldest first; "not an id" never reached the use case
	if len(ev) != 5 {
		t.Fatalf("mfa_reset events: %d, want 5%s", len(ev), rows(ev))
	}
	if ok := ev[3]; ok.Outcome != gatehouse.OutcomeSuccess || ok.UserID != a.bobID || ok.ActorID != a.rootID {
		t.Errorf("the reset's record: %+v", ok)
	}
	if own := ev[2]; own.Outcome != gatehouse.OutcomeFailure || own.Reason != gatehouse.CodeAdminLockout || own.UserID != a.rootID {
		t.Errorf("the refused own reset's record: %+v", own)
	}
}
