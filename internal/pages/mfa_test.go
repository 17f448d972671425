package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// testEmail turns the email links on when m is set.
func testEmail(tokens gatehouse.EmailTokenStore, m gatehouse.Mailer) auth.Email {
	if m == nil {
		return auth.Email{}
	}
	return auth.Email{Tokens: tokens, Mailer: m, PublicURL: "https://auth.test"}
}

// inbox is a Mailer that keeps what it is given.
type inbox chan gatehouse.Message

func (in inbox) Send(_ context.Context, m gatehouse.Message) error { in <- m; return nil }

var linkTokenRE = regexp.MustCompile(`\?token=([A-Za-z0-9_-]+)`)

// receive waits for the link requests to be handled and returns the token
// of the one message that arrived.
func (e *env) receive(tb testing.TB, in inbox, path string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.svc.WaitMail(ctx); err != nil {
		tb.Fatal(err)
	}
	select {
	case m := <-in:
		if !strings.Contains(m.Text, path+"?token=") {
			tb.Fatalf("the mail has no %s link:\n%s", path, m.Text)
		}
		return linkTokenRE.FindStringSubmatch(m.Text)[1]
	default:
		tb.Fatal("no mail arrived")
		return ""
	}
}

func noMail(tb testing.TB, in inbox) {
	tb.Helper()
	select {
	case m := <-in:
		tb.Fatalf("unexpected mail to %s", m.To)
	default:
	}
}

func hidden(tb testing.TB, p page, name string) string {
	tb.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("no %s field on the page (%d):\n%s", name, p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

// enrol turns TOTP on for the signed-in browser and returns the secret and
// the recovery codes; the clock is moved on a step, so that the code used
// to confirm is not the next one.
func (e *env) enrol(t *testing.T, b *browser) (secret string, codes []string) {
	t.Helper()
	p := b.submit("/ui/account", "/ui/account/mfa/totp", nil)
	if p.status != http.StatusSeeOther || p.location() != "/ui/account/mfa/totp" {
		t.Fatalf("enrol: %d %s\n%s", p.status, p.location(), p.body)
	}
	p = b.get("/ui/account/mfa/totp")
	m := secretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, `<img class="qr" src="data:image/png;base64,`) {
		t.Fatalf("enrolment page: %d\n%s", p.status, p.body)
	}
	secret = strings.ReplaceAll(m[1], " ", "")
	form := url.Values{"csrf_token": {p.csrf(t)}, "code": {code(t, secret, e.clock.Now())}}
	if b.password != "" {
		form.Set("password", b.password)
	}
	p = b.post("/ui/account/mfa/totp/confirm", form)
	if p.status != http.StatusOK || !strings.Contains(p.body, "shown only this once") {
		t.Fatalf("confirm: %d\n%s", p.status, p.body)
	}
	for _, c := range regexp.MustCompile(`<li><code>([a-z2-7-]+)</code></li>`).FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, c[1])
	}
	if len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown:\n%s", len(codes), p.body)
	}
	e.clock.Add(30 * time.Second)
	return secret, codes
}

func code(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// passwordStep signs in with the password and returns the second step's
// page, which must carry the challenge in a hidden field.
func passwordStep(t *testing.T, b *browser, username, path string) page {
	t.Helper()
	f := url.Values{"username": {username}, "password": {password}}
	if u := mustURL(t, path); u.Query().Get("redirect_uri") != "" {
		f.Set("redirect_uri", u.Query().Get("redirect_uri"))
	}
	p := b.submit(path, "/ui/signin", f)
	if p.status != http.StatusOK || p.location() != "" || !strings.Contains(p.body, `action="/ui/signin/mfa"`) {
		t.Fatalf("password step: %d %s\n%s", p.status, p.location(), p.body)
	}
	if !strings.Contains(p.body, `autocomplete="one-time-code"`) || !strings.Contains(p.body, `inputmode="numeric"`) {
		t.Errorf("the code field lacks its autocomplete or inputmode hint:\n%s", p.body)
	}
	return p
}

func secondStep(b *browser, step page, field, value string) page {
	b.tb.Helper()
	f := url.Values{"csrf_token": {step.csrf(b.tb)}, "mfa_token": {hidden(b.tb, step, "mfa_token")}, field: {value}}
	if r := step.body; strings.Contains(r, `name="redirect_uri"`) {
		f.Set("redirect_uri", hidden(b.tb, step, "redirect_uri"))
	}
	return b.post("/ui/signin/mfa", f)
}

// TestTOTPEnrolAndSignIn: enrolment on the account page, then the second
// step of sign-in with a TOTP code, a replayed code, a wrong one and a
// recovery code (once only).
func TestTOTPEnrolAndSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{redirects: []string{testRedirectOrigin}})
	b := e.browser(t)
	b.signUp("mallory", password)
	b.signIn("mallory", password)
	if p := b.get("/ui/account"); !strings.Contains(p.body, `id="mfa-status">Off.`) {
		t.Fatalf("account before enrolment:\n%s", p.body)
	}

	// A wrong code keeps the enrolment pending and shows it again.
	b.submit("/ui/account", "/ui/account/mfa/totp", nil)
	enrol := b.get("/ui/account/mfa/totp")
	first := secretRE.FindStringSubmatch(enrol.body)[1]
	p := b.post("/ui/account/mfa/totp/confirm", url.Values{"csrf_token": {enrol.csrf(t)}, "code": {"000000"}, "password": {b.password}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `aria-invalid="true"`) || secretRE.FindStringSubmatch(p.body)[1] != first {
		t.Fatalf("wrong confirmation code: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Set-up started but not finished") {
		t.Errorf("account with a pending enrolment:\n%s", p.body)
	}
	secret, codes := e.enrol(t, b)
	if strings.ReplaceAll(first, " ", "") == secret {
		t.Error("starting over kept the old secret")
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Recovery codes left: 10.") || strings.Contains(p.body, secret) {
		t.Fatalf("account after enrolment:\n%s", p.body)
	}
	if p := b.get("/ui/account/mfa/totp"); p.status != http.StatusSeeOther {
		t.Errorf("the enrolment page shows a confirmed secret again: %d", p.status)
	}
	b.submit("/ui/account", "/ui/signout", nil)

	// Sign in: the password step answers the code form, not a cookie.
	step := passwordStep(t, b, "mallory", "/ui/signin")
	if len(b.client.Jar.Cookies(mustURL(t, e.srv.URL+"/ui/account"))) != 1 {
		t.Errorf("the password step set a session cookie")
	}
	p = secondStep(b, step, "code", "123456")
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `aria-invalid="true"`) || hidden(t, p, "mfa_token") != hidden(t, step, "mfa_token") {
		t.Fatalf("wrong code: %d\n%s", p.status, p.body)
	}
	now := code(t, secret, e.clock.Now())
	p = secondStep(b, p, "code", now)
	if p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Fatalf("second step: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := b.get("/ui/account"); p.status != http.StatusOK {
		t.Fatalf("account after two-step sign-in: %d", p.status)
	}
	// The used challenge is dead.
	if p := secondStep(b, step, "code", now); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Please sign in again") {
		t.Errorf("used challenge: %d\n%s", p.status, p.body)
	}

	// A replayed code is refused, even with a fresh challenge.
	b.submit("/ui/account", "/ui/signout", nil)
	step = passwordStep(t, b, "mallory", "/ui/signin")
	if p := secondStep(b, step, "code", now); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "already been used") {
		t.Fatalf("replayed code: %d\n%s", p.status, p.body)
	}

	// A recovery code works once.
	p = secondStep(b, step, "recovery_code", strings.ToUpper(codes[0]))
	if p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Fatalf("recovery code: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Recovery codes left: 9.") {
		t.Errorf("account after a recovery code:\n%s", p.body)
	}
	b.submit("/ui/account", "/ui/signout", nil)
	step = passwordStep(t, b, "mallory", "/ui/signin")
	if p := secondStep(b, step, "recovery_code", codes[0]); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "<details class=\"card\" open>") {
		t.Fatalf("recovery code again: %d\n%s", p.status, p.body)
	}

	// redirect_uri rules hold through the second step.
	e.clock.Add(30 * time.Second)
	step = passwordStep(t, b, "mallory", "/ui/signin?redirect_uri="+url.QueryEscape(testRedirectOrigin+"/home"))
	f := url.Values{"csrf_token": {step.csrf(t)}, "mfa_token": {hidden(t, step, "mfa_token")}, "code": {code(t, secret, e.clock.Now())},
		"redirect_uri": {"https://evil.example/"}}
	if p := b.post("/ui/signin/mfa", f); p.status != http.StatusBadRequest {
		t.Errorf("second step with a foreign redirect_uri: %d %s", p.status, p.location())
	}
	if p := secondStep(b, step, "code", code(t, secret, e.clock.Now())); p.status != http.StatusSeeOther || p.location() != testRedirectOrigin+"/home" {
		t.Errorf("second step with redirect_uri: %d %s", p.status, p.location())
	}

	// The challenge expires.
	b.submit("/ui/account", "/ui/signout", nil)
	step = passwordStep(t, b, "mallory", "/ui/signin")
	e.clock.Add(auth.MFATokenTTL + time.Second)
	if p := secondStep(b, step, "code", code(t, secret, e.clock.Now())); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "took too long") {
		t.Errorf("expired challenge: %d\n%s", p.status, p.body)
	}

	// Turning it off needs a right code or the password.
	b.signInMFA(t, "mallory", secret, e)
	acct := b.get("/ui/account")
	p = b.post("/ui/account/mfa/totp/disable", url.Values{"csrf_token": {acct.csrf(t)}, "password": {"not the password"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `aria-invalid="true"`) {
		t.Fatalf("disable with a wrong password: %d\n%s", p.status, p.body)
	}
	p = b.post("/ui/account/mfa/totp/disable", url.Values{"csrf_token": {acct.csrf(t)}, "code": {"999999"}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("disable with a wrong code: %d\n%s", p.status, p.body)
	}
	p = b.post("/ui/account/mfa/totp/disable", url.Values{"csrf_token": {acct.csrf(t)}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=totp_disabled" {
		t.Fatalf("disable: %d %s\n%s", p.status, p.location(), p.body)
	}
	b.submit("/ui/account", "/ui/signout", nil)
	b.signIn("mallory", password)
}

func (b *browser) signInMFA(t *testing.T, username, secret string, e *env) {
	t.Helper()
	e.clock.Add(30 * time.Second)
	step := passwordStep(t, b, username, "/ui/signin")
	if p := secondStep(b, step, "code", code(t, secret, e.clock.Now())); p.status != http.StatusSeeOther {
		t.Fatalf("two-step sign-in: %d\n%s", p.status, p.body)
	}
}

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// Every two-factor form refuses a post without its anti-forgery token, or
// with another browser's, and from another site.
func TestTOTPFormsRefuseForgery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("trent", password)
	b.signIn("trent", password)
	secret, _ := e.enrol(t, b)

	other := e.browser(t)
	other.signUp("eve", password)
	other.signIn("eve", password)
	eveToken := other.get("/ui/account").csrf(t)

	for _, path := range []string{"/ui/account/mfa/totp", "/ui/account/mfa/totp/confirm", "/ui/account/mfa/totp/disable"} {
		for name, f := range map[string]url.Values{
			"no token":      {"password": {password}, "code": {"123456"}},
			"another token": {"password": {password}, "csrf_token": {eveToken}},
		} {
			if p := b.post(path, f); p.status != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", path, name, p.status)
			}
		}
	}
	cross := b.do("POST", "/ui/account/mfa/totp/disable", url.Values{"csrf_token": {b.get("/ui/account").csrf(t)}, "password": {password}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if cross.status != http.StatusForbidden {
		t.Errorf("cross-site disable: %d, want 403", cross.status)
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, "Recovery codes left: 10.") {
		t.Fatalf("a forged post changed the second factor:\n%s", p.body)
	}

	// The second step of sign-in: the challenge alone is not enough.
	b.submit("/ui/account", "/ui/signout", nil)
	step := passwordStep(t, b, "trent", "/ui/signin")
	f := url.Values{"mfa_token": {hidden(t, step, "mfa_token")}, "code": {code(t, secret, e.clock.Now())}}
	if p := b.post("/ui/signin/mfa", f); p.status != http.StatusForbidden {
		t.Errorf("second step without a form token: %d", p.status)
	}
	f.Set("csrf_token", other.get("/ui/account").csrf(t))
	if p := b.post("/ui/signin/mfa", f); p.status != http.StatusForbidden {
		t.Errorf("second step with another browser's token: %d", p.status)
	}
	// Another browser cannot finish this browser's sign-in with its own
	// form token either.
	third := e.browser(t)
	f.Set("csrf_token", third.get("/ui/signin").csrf(t))
	if p := b.post("/ui/signin/mfa", f); p.status != http.StatusForbidden {
		t.Errorf("second step with a stranger's pre-session token: %d", p.status)
	}
	if p := secondStep(b, step, "code", code(t, secret, e.clock.Now())); p.status != http.StatusSeeOther {
		t.Errorf("the genuine second step after the forgeries: %d\n%s", p.status, p.body)
	}
}

// The second step shares the login's rate limits: wrong codes spend the
// account's MFA budget, and the page answers 429 with Retry-After.
func TestTOTPSignInRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{limits: &auth.Limits{MFA: gatehouse.Limit{N: 3, Per: time.Hour}}})
	b := e.browser(t)
	b.signUp("walter", password)
	b.signIn("walter", password)
	e.enrol(t, b)
	b.submit("/ui/account", "/ui/signout", nil)
	step := passwordStep(t, b, "walter", "/ui/signin")
	var p page
	for range 4 {
		p = secondStep(b, step, "code", "000000")
	}
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Fatalf("fourth wrong code: %d %v", p.status, p.header)
	}
}

// TestPasswordResetPages: the request page answers alike for any address,
// the link's page checks its token, keeps it out of referrers, and sets the
// new password; a used, bad or expired link is a 400 page offering a new one.
func TestPasswordResetPages(t *testing.T) {
	t.Parallel()
	mail := make(inbox, 10)
	e := newEnv(t, envOptions{mailer: mail})
	b := e.browser(t)
	b.signUp("peggy", password)
	b.signIn("peggy", password)
	if p := b.get("/ui/signin?m=signed_out"); strings.Contains(p.body, "/ui/reset-password/request") {
		// signed in: the sign-in page redirects
		t.Fatal("unexpected sign-in page")
	}

	anon := e.browser(t)
	if p := anon.get("/ui/signin"); !strings.Contains(p.body, `href="/ui/reset-password/request"`) {
		t.Error("the sign-in page does not link to the reset")
	}
	unknown := anon.submit("/ui/reset-password/request", "/ui/reset-password/request", url.Values{"email": {"nobody@example.com"}})
	known := anon.submit("/ui/reset-password/request", "/ui/reset-password/request", url.Values{"email": {"peggy@example.com"}})
	if unknown.status != http.StatusSeeOther || known.status != unknown.status || known.location() != unknown.location() {
		t.Fatalf("reset requests answer differently: %d %s / %d %s", unknown.status, unknown.location(), known.status, known.location())
	}
	if p := anon.get(known.location()); !strings.Contains(p.body, "If the address belongs to an account") {
		t.Errorf("no notice after the request:\n%s", p.body)
	}
	token := e.receive(t, mail, auth.ResetPasswordPath)
	noMail(t, mail)

	for _, bad := range []string{"", "nonsense", strings.Repeat("x", 300)} {
		p := anon.get("/ui/reset-password?token=" + url.QueryEscape(bad))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ask for a new reset link") || p.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("bad token %q: %d %q\n%s", bad, p.status, p.header.Get("Referrer-Policy"), p.body)
		}
	}
	form := anon.get("/ui/reset-password?token=" + token)
	if form.status != http.StatusOK || hidden(t, form, "token") != token || form.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("reset page: %d %v\n%s", form.status, form.header, form.body)
	}
	// Forged: no form token, or a stranger's.
	if p := anon.post("/ui/reset-password", url.Values{"token": {token}, "new_password": {"forged new passphrase"}}); p.status != http.StatusForbidden {
		t.Errorf("reset without a form token: %d", p.status)
	}
	stranger := e.browser(t).get("/ui/signin").csrf(t)
	if p := anon.post("/ui/reset-password", url.Values{"csrf_token": {stranger}, "token": {token}, "new_password": {"forged new passphrase"}}); p.status != http.StatusForbidden {
		t.Errorf("reset with a stranger's form token: %d", p.status)
	}
	// A weak password keeps the link.
	p := anon.post("/ui/reset-password", url.Values{"csrf_token": {form.csrf(t)}, "token": {token}, "new_password": {"short"}})
	if p.status != http.StatusUnprocessableEntity || hidden(t, p, "token") != token || strings.Contains(p.body, `value="short"`) {
		t.Fatalf("weak password: %d\n%s", p.status, p.body)
	}
	const newPassword = "a completely new passphrase"
	p = anon.post("/ui/reset-password", url.Values{"csrf_token": {form.csrf(t)}, "token": {token}, "new_password": {newPassword}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/signin?m=password_reset" {
		t.Fatalf("reset: %d %s\n%s", p.status, p.location(), p.body)
	}
	// Every session was signed out, the browser's included.
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("the old session survived the reset: %d", p.status)
	}
	anon.signIn("peggy", newPassword)
	// Used: the link is dead.
	if p := anon.get("/ui/reset-password?token=" + token); p.status != http.StatusBadRequest {
		t.Errorf("used link: %d", p.status)
	}
	p = anon.post("/ui/reset-password", url.Values{"csrf_token": {form.csrf(t)}, "token": {token}, "new_password": {"yet another passphrase"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ask for a new reset link") {
		t.Errorf("reset with a used link: %d\n%s", p.status, p.body)
	}

	// Expired.
	e.browser(t).submit("/ui/reset-password/request", "/ui/reset-password/request", url.Values{"email": {"peggy@example.com"}})
	token = e.receive(t, mail, auth.ResetPasswordPath)
	e.clock.Add(31 * time.Minute)
	if p := anon.get("/ui/reset-password?token=" + token); p.status != http.StatusBadRequest {
		t.Errorf("expired link: %d", p.status)
	}
}

// TestVerifyEmailPages: the account page offers a link to an unverified
// address; opening the link does not verify (a mail scanner fetching it
// changes nothing), pressing its button does.
func TestVerifyEmailPages(t *testing.T) {
	t.Parallel()
	mail := make(inbox, 10)
	e := newEnv(t, envOptions{mailer: mail})
	b := e.browser(t)
	b.signUp("victor", password)
	b.signIn("victor", password)
	acct := b.get("/ui/account")
	if !strings.Contains(acct.body, `id="email-unverified"`) || !strings.Contains(acct.body, `action="/ui/account/verify-email"`) {
		t.Fatalf("account of an unverified address:\n%s", acct.body)
	}
	if p := b.post("/ui/account/verify-email", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("resend without a form token: %d", p.status)
	}
	p := b.post("/ui/account/verify-email", url.Values{"csrf_token": {acct.csrf(t)}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=verification_sent" {
		t.Fatalf("resend: %d %s", p.status, p.location())
	}
	token := e.receive(t, mail, auth.VerifyEmailPath)

	if p := b.get("/ui/verify-email?token=bogus"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ask for a new verification link") {
		t.Errorf("bad link: %d\n%s", p.status, p.body)
	}
	landing := b.get("/ui/verify-email?token=" + token)
	if landing.status != http.StatusOK || landing.header.Get("Referrer-Policy") != "no-referrer" || hidden(t, landing, "token") != token {
		t.Fatalf("landing: %d\n%s", landing.status, landing.body)
	}
	if p := b.get("/ui/account"); !strings.Contains(p.body, `id="email-unverified"`) {
		t.Fatal("opening the link verified the address: link scanners would too")
	}
	if p := b.post("/ui/verify-email", url.Values{"token": {token}}); p.status != http.StatusForbidden {
		t.Errorf("verify without a form token: %d", p.status)
	}
	p = b.post("/ui/verify-email", url.Values{"csrf_token": {landing.csrf(t)}, "token": {token}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=email_verified" {
		t.Fatalf("verify: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := b.get("/ui/account?m=email_verified"); strings.Contains(p.body, `id="email-unverified"`) || strings.Contains(p.body, `action="/ui/account/verify-email"`) ||
		!strings.Contains(p.body, "Your email address is verified") {
		t.Errorf("account after verifying:\n%s", p.body)
	}
	if p := b.post("/ui/verify-email", url.Values{"csrf_token": {landing.csrf(t)}, "token": {token}}); p.status != http.StatusBadRequest {
		t.Errorf("used link: %d", p.status)
	}

	// Signed out, a new link can be asked for by address.
	anon := e.browser(t)
	p = anon.submit("/ui/verify-email/request", "/ui/verify-email/request", url.Values{"email": {"someone@example.com"}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/verify-email/request?m=link_sent" {
		t.Errorf("verification request: %d %s", p.status, p.location())
	}
}

// Without email configured, the pages say the service is unavailable
// rather than fail.
func TestEmailPagesWithoutMail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	if p := b.get("/ui/signin"); strings.Contains(p.body, "/ui/reset-password/request") {
		t.Error("the sign-in page offers a reset that cannot be mailed")
	}
	for _, path := range []string{"/ui/reset-password/request", "/ui/verify-email/request", "/ui/reset-password?token=x"} {
		if p := b.get(path); p.status != http.StatusNotFound || !strings.Contains(p.body, "Email is not set up on this server") {
			t.Errorf("%s without mail: %d", path, p.status)
		}
	}
	if p := b.submit("/ui/signin", "/ui/reset-password/request", url.Values{"email": {"a@example.com"}}); p.status != http.StatusNotFound {
		t.Errorf("reset request without mail: %d", p.status)
	}
	b.signUp("quentin", password)
	b.signIn("quentin", password)
	if p := b.get("/ui/account"); strings.Contains(p.body, `action="/ui/account/verify-email"`) {
		t.Error("the account page offers a link that cannot be sent")
	}
}

// The new pages speak Korean too, and the second step has no GET.
func TestTwoFactorAndEmailPagesKorean(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mailer: make(inbox, 10)})
	b := e.browser(t)
	b.header.Set("Accept-Language", "ko-KR,ko;q=0.9")
	for path, want := range map[string]string{
		"/ui/reset-password/request": "비밀번호 재설정",
		"/ui/verify-email/request":   "이메일 주소 확인",
		"/ui/reset-password?token=x": "새 재설정 링크 요청",
		"/ui/signin":                 "비밀번호를 잊으셨나요?",
	} {
		if p := b.get(path); !strings.Contains(p.body, want) || !strings.Contains(p.body, `<html lang="ko">`) {
			t.Errorf("%s in Korean lacks %q:\n%s", path, want, p.body)
		}
	}
	if p := b.get("/ui/signin/mfa"); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "POST" {
		t.Errorf("GET /ui/signin/mfa: %d %q", p.status, p.header.Get("Allow"))
	}
}
