package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// The TOTP confirmation form asks for the password of an account that has
// one, and refuses without it (a session cookie alone is not enough to
// put the thief's authenticator on the account).
func TestTOTPConfirmFormAsksForPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("tia", "tia's long passphrase")
	b.signIn("tia", "tia's long passphrase")
	b.submit("/ui/account", "/ui/account/mfa/totp", nil)
	enrol := b.get("/ui/account/mfa/totp")
	if !strings.Contains(enrol.body, `name="password" type="password" autocomplete="current-password" required`) {
		t.Fatalf("the confirmation form has no password field:\n%s", enrol.body)
	}
	secret := strings.ReplaceAll(secretRE.FindStringSubmatch(enrol.body)[1], " ", "")
	for _, pw := range []string{"", "not tia's password"} {
		p := b.post("/ui/account/mfa/totp/confirm", url.Values{"csrf_token": {enrol.csrf(t)}, "code": {code(t, secret, e.clock.Now())}, "password": {pw}})
		if p.status == http.StatusOK && strings.Contains(p.body, "shown only this once") || !strings.Contains(p.body, `id="e-password"`) {
			t.Fatalf("confirm with password %q: %d\n%s", pw, p.status, p.body)
		}
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Set-up started but not finished") {
		t.Errorf("a refused confirmation turned TOTP on:\n%s", p.body)
	}
}

// An account without a password confirms TOTP, and sets a first password,
// only within auth.ReauthWindow of signing in; after it, the page says to
// sign in again.
func TestPasswordlessFormsNeedRecentSignIn(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	b := e.browser(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "p-r", Email: "rho@example.com", EmailVerified: true, PreferredUsername: "rho"})
	if p := b.providerSignIn(t); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", p.status, p.body)
	}
	e.clock.Add(auth.ReauthWindow + time.Minute)
	b.submit("/ui/account", "/ui/account/mfa/totp", nil)
	enrol := b.get("/ui/account/mfa/totp")
	if strings.Contains(enrol.body, `name="password"`) || !strings.Contains(enrol.body, "within 10 minutes of signing in") {
		t.Fatalf("the confirmation form of an account without a password:\n%s", enrol.body)
	}
	secret := strings.ReplaceAll(secretRE.FindStringSubmatch(enrol.body)[1], " ", "")
	p := b.post("/ui/account/mfa/totp/confirm", url.Values{"csrf_token": {enrol.csrf(t)}, "code": {code(t, secret, e.clock.Now())}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "sign in again") {
		t.Fatalf("confirm from a stale session: %d\n%s", p.status, p.body)
	}
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"new_password": {"a first passphrase of mine"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "sign in again") {
		t.Fatalf("first password from a stale session: %d\n%s", p.status, p.body)
	}
}
