package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

var recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z2-7-]+)</code></li>`)

// mfaLogin runs the API's two-step login with second and returns the
// second step's status.
func (e *env) mfaLogin(t *testing.T, username, second string) int {
	t.Helper()
	status, m := e.api(t, "POST", "/auth/login", "application/x-www-form-urlencoded", url.Values{"username": {username}, "password": {password}}.Encode(), "")
	tok, _ := m["mfa_token"].(string)
	if status != http.StatusUnauthorized || tok == "" {
		t.Fatalf("password step: %d %v", status, m)
	}
	status, _ = e.api(t, "POST", "/auth/login/mfa", "application/json", `{"mfa_token": "`+tok+`", "code": "`+second+`"}`, "")
	return status
}

// New recovery codes from the account page: offered only with TOTP on,
// refused without a current code from the app or the password (a recovery
// code is not enough), shown once, and the old ones stop working.
func TestRegenerateRecoveryCodesPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.newUser(t, "rita")
	if p := b.get("/ui/account"); strings.Contains(p.body, "/ui/account/mfa/recovery-codes") {
		t.Error("new recovery codes offered without two-step verification")
	}
	secret, old := e.enrol(t, b)
	p := b.get("/ui/account")
	if !strings.Contains(p.body, `action="/ui/account/mfa/recovery-codes"`) || !strings.Contains(p.body, "Get new recovery codes") ||
		!strings.Contains(p.body, `name="regen_code"`) || !strings.Contains(p.body, `name="regen_password"`) {
		t.Fatalf("account page lacks the new-codes forms:\n%s", p.body)
	}
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"wrong code", "regen_code", "000000", "wrong"},
		{"a recovery code", "regen_code", old[0], "wrong"},
		{"wrong password", "regen_password", "not the password at all", "password"},
	} {
		p := b.submit("/ui/account", "/ui/account/mfa/recovery-codes", url.Values{tc.field: {tc.value}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-`+tc.field+`"`) || !strings.Contains(p.body, `<details id="mfa-regen" open>`) {
			t.Errorf("%s: %d\n%s", tc.name, p.status, p.body)
		}
	}
	if p := b.submit("/ui/account", "/ui/account/mfa/recovery-codes", nil); p.status != http.StatusUnprocessableEntity {
		t.Errorf("neither code nor password: %d\n%s", p.status, p.body)
	}
	// Without the form token, nothing happens.
	if p := b.post("/ui/account/mfa/recovery-codes", url.Values{"regen_password": {password}}); p.status != http.StatusForbidden {
		t.Errorf("without the form token: %d", p.status)
	}

	p = b.submit("/ui/account", "/ui/account/mfa/recovery-codes", url.Values{"regen_code": {code(t, secret, e.clock.Now())}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "New recovery codes") || !strings.Contains(p.body, "no longer work") ||
		!strings.Contains(p.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("new codes: %d %v\n%s", p.status, p.header, p.body)
	}
	var fresh []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(p.body, -1) {
		fresh = append(fresh, m[1])
	}
	if len(fresh) != auth.RecoveryCodeCount || slices.ContainsFunc(fresh, func(c string) bool { return slices.Contains(old, c) }) {
		t.Fatalf("new codes %v: want %d, none of the old %v", fresh, auth.RecoveryCodeCount, old)
	}
	if s := e.mfaLogin(t, "rita", old[1]); s != http.StatusUnauthorized {
		t.Errorf("an old code signed in: %d", s)
	}
	if s := e.mfaLogin(t, "rita", fresh[1]); s != http.StatusOK {
		t.Errorf("a new code: %d", s)
	}
	p = b.submit("/ui/account", "/ui/account/mfa/recovery-codes", url.Values{"regen_password": {password}})
	if n := len(recoveryCodeRE.FindAllString(p.body, -1)); p.status != http.StatusOK || n != auth.RecoveryCodeCount {
		t.Fatalf("new codes with the password: %d, %d codes\n%s", p.status, n, p.body)
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Recovery codes left: 10.") {
		t.Errorf("account page after new codes:\n%s", p.body)
	}
}

// An account made through a provider has no password: its account page
// offers to set one, without asking for a current password; once set, the
// usual change form (with the current password) is back, and the password
// signs in.
func TestSetPasswordPage(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	b := e.browser(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "p-9", Email: "nia@example.com", EmailVerified: true, PreferredUsername: "nia"})
	if p := b.providerSignIn(t); p.status != http.StatusSeeOther {
		t.Fatalf("provider sign-in: %d %s", p.status, p.location())
	}
	p := b.get("/ui/account")
	if !strings.Contains(p.body, "Set a password") || !strings.Contains(p.body, `id="set-password"`) || strings.Contains(p.body, `name="current_password"`) {
		t.Fatalf("account page of a passwordless user:\n%s", p.body)
	}
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"new_password": {"short"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="set-password"`) || !strings.Contains(p.body, `id="e-new_password"`) {
		t.Errorf("a weak password: %d\n%s", p.status, p.body)
	}
	const chosen = "a fresh passphrase for nia"
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"new_password": {chosen}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=password_set" {
		t.Fatalf("set password: %d %s\n%s", p.status, p.location(), p.body)
	}
	p = b.get("/ui/account?m=password_set")
	if !strings.Contains(p.body, "Your password has been set") || !strings.Contains(p.body, `name="current_password"`) || strings.Contains(p.body, `id="set-password"`) {
		t.Errorf("account page after setting a password:\n%s", p.body)
	}
	e.browser(t).signIn("nia", chosen)
	// Now the current password is needed again.
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"new_password": {"another passphrase for nia"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="e-current_password"`) {
		t.Errorf("a change without the current password: %d\n%s", p.status, p.body)
	}
}

// An admin resets a user's two-step verification from the user's page; an
// admin's own page offers no reset, and a forged one is refused.
func TestAdminResetMFAPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "ada")
	user := e.newUser(t, "uli")
	id := e.userID(t, "uli")
	if p := admin.get(userPage(id)); !strings.Contains(p.body, `id="user-mfa">Off.`) || strings.Contains(p.body, `id="mfa-reset"`) {
		t.Errorf("user page without TOTP:\n%s", p.body)
	}
	e.enrol(t, user)
	p := admin.get(userPage(id))
	if !strings.Contains(p.body, "10 recovery codes left") || !strings.Contains(p.body, `id="mfa-reset"`) {
		t.Fatalf("user page with TOTP:\n%s", p.body)
	}
	p = admin.submit(userPage(id), userPage(id)+"/mfa/reset", nil)
	if p.status != http.StatusSeeOther || p.location() != userPage(id)+"?m=mfa_reset" {
		t.Fatalf("reset: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := admin.get(p.location()); !strings.Contains(p.body, "two-step verification has been removed") || !strings.Contains(p.body, `id="user-mfa">Off.`) {
		t.Errorf("after the reset:\n%s", p.body)
	}
	// The reset ended uli's sessions, this browser's too; the password alone
	// signs in again.
	if p := user.get("/ui/account"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/signin") {
		t.Errorf("uli's page after the reset: %d %s, want the sign-in page", p.status, p.location())
	}
	e.apiLogin(t, "uli", password)
	user = e.browser(t)
	user.signIn("uli", password)

	e.enrol(t, admin)
	self := userPage(e.userID(t, "ada"))
	if p := admin.get(self); strings.Contains(p.body, `id="mfa-reset"`) || !strings.Contains(p.body, "managed on your account page") {
		t.Errorf("the admin's own page:\n%s", p.body)
	}
	if p := admin.submit(self, self+"/mfa/reset", nil); p.status != http.StatusConflict || !strings.Contains(p.body, "cannot reset their own") {
		t.Errorf("a forged reset of one's own: %d\n%s", p.status, p.body)
	}
	// A plain user cannot reach it.
	if p := user.submit("/ui/account", userPage(e.userID(t, "ada"))+"/mfa/reset", nil); p.status != http.StatusForbidden {
		t.Errorf("a user's reset: %d", p.status)
	}
}
