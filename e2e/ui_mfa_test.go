package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/mail/mailtest"
)

// newTab starts headless Chromium for one test; the deadline bounds the
// whole test (it stops the browser).
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1024, 768), chromedp.UserDataDir(t.TempDir()))
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancelDeadline)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
	b.do(chromedp.EmulateViewport(1024, 768))
	return b
}

// totpAt is the code of secret (as the page shows it, in groups) at t.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUIBrowserTwoFactorAndReset drives the two-factor, verification and
// password reset pages in headless Chromium against `gatehouse serve`
// mailing through a real SMTP server started here: verify the address
// from the mailed link, turn on TOTP (the secret read from the page, the
// code computed as an authenticator app would), sign in with the second
// step, then with a recovery code, and reset the password from the mailed
// link. It saves a screenshot of each page.
func TestUIBrowserTwoFactorAndReset(t *testing.T) {
	if findChromium() == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	relay := mailtest.Start(t, mailtest.Options{Security: mailtest.None})
	in := start(t, map[string]string{
		"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_PASSWORD_MIN_STRENGTH": "0",
		"GATEHOUSE_SMTP_URL": relay.URL(), "GATEHOUSE_MAIL_FROM": "Gatehouse <auth@example.test>",
	})
	b := newTab(t, in.base)
	const password = "a long and memorable passphrase"
	submit := `main form button[type="submit"]`

	b.open("/ui/signup")
	b.fill("username", "grace", "email", "grace@example.com", "password", password)
	b.press(submit)
	b.fill("username", "grace", "password", password)
	if loc := b.press(submit); loc != "/ui/account" {
		t.Fatalf("after sign-in: %s", loc)
	}

	// Verify the address with the mailed link: opening it only shows a
	// button.
	b.mustSee("not verified")
	if loc := b.press(`form[action="/ui/account/verify-email"] button`); loc != "/ui/account?m=verification_sent" {
		t.Fatalf("after asking for a verification link: %s", loc)
	}
	_, token := relay.Receive(t, 15*time.Second).Link(t, "/ui/verify-email")
	b.open("/ui/verify-email?token=" + token)
	b.mustSee("Press the button to confirm")
	b.shot("verify-email")
	if loc := b.press(submit); loc != "/ui/account?m=email_verified" {
		t.Fatalf("after verifying: %s", loc)
	}
	b.mustSee("Your email address is verified")
	b.shot("account-mfa-off")

	// Turn on TOTP.
	if loc := b.press(`form[action="/ui/account/mfa/totp"] button`); loc != "/ui/account/mfa/totp" {
		t.Fatalf("after starting the enrolment: %s", loc)
	}
	if got := b.eval(`document.querySelector('img.qr').naturalWidth > 0 && document.querySelector('img.qr').alt !== '' ? 'ok' : 'broken'`); got != "ok" {
		t.Errorf("the QR code is %s", got)
	}
	b.shot("totp-enrol")
	secret := b.eval(`document.getElementById('totp-secret').textContent`)
	confirmed := time.Now()
	b.fill("code", totpAt(t, secret, confirmed), "password", password)
	b.press(`form[action="/ui/account/mfa/totp/confirm"] button`)
	b.mustSee("Save these codes now")
	codes := strings.Fields(b.eval(`Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.textContent).join(' ')`))
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %q", codes)
	}
	b.shot("totp-codes")
	b.open("/ui/account")
	b.mustSee("Recovery codes left: 10")
	b.shot("account-mfa")

	// Sign out and in again: the password, then the code. The code of the
	// next time step (within the accepted skew) is one not used yet.
	b.press(`header.site form button`)
	b.fill("username", "grace", "password", password)
	b.press(submit)
	b.mustSee("Two-step verification", "Authentication code")
	if loc := b.location(); strings.Contains(loc, "token") {
		t.Errorf("the challenge is in the address: %s", loc)
	}
	if got := b.eval(`document.activeElement.getAttribute('autocomplete')`); got != "one-time-code" {
		t.Errorf("the second step focuses a field with autocomplete %q", got)
	}
	b.shot("signin-mfa")
	b.fill("code", totpAt(t, secret, confirmed.Add(30*time.Second)))
	if loc := b.press(submit); loc != "/ui/account" {
		t.Fatalf("after the second step: %s\n%s", loc, b.text())
	}

	// Once more, with a recovery code, on a phone.
	b.press(`header.site form button`)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.fill("username", "grace", "password", password)
	b.press(submit)
	b.do(chromedp.Click(chromedp.CSS(`details summary`)))
	b.fill("recovery_code", codes[0])
	b.shot("signin-mfa-phone")
	if loc := b.press(`details form button`); loc != "/ui/account" {
		t.Fatalf("after the recovery code: %s\n%s", loc, b.text())
	}
	b.mustSee("Recovery codes left: 9")
	b.do(chromedp.EmulateViewport(1024, 768))

	// Forgot the password: ask for a link, follow it from the mail.
	b.press(`header.site form button`)
	b.do(chromedp.Click(chromedp.CSS(`a[href="/ui/reset-password/request"]`)), chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)))
	b.shot("reset-request")
	b.fill("email", "grace@example.com")
	if loc := b.press(submit); loc != "/ui/reset-password/request?m=link_sent" {
		t.Fatalf("after asking for a reset: %s", loc)
	}
	b.mustSee("If the address belongs to an account")
	link, token := relay.Receive(t, 15*time.Second).Link(t, "/ui/reset-password")
	if !strings.HasSuffix(link, "/ui/reset-password?token="+token) {
		t.Errorf("reset link %q", link)
	}
	b.open("/ui/reset-password?token=" + token)
	b.shot("reset-password")
	const newPassword = "an entirely new passphrase"
	b.fill("new_password", newPassword)
	if loc := b.press(submit); loc != "/ui/signin?m=password_reset" {
		t.Fatalf("after the reset: %s\n%s", loc, b.text())
	}
	b.mustSee("Sign in with the new password")
	b.fill("username", "grace", "password", newPassword)
	b.press(submit)
	b.do(chromedp.Click(chromedp.CSS(`details summary`)))
	b.fill("recovery_code", codes[1])
	if loc := b.press(`details form button`); loc != "/ui/account" {
		t.Fatalf("sign-in with the new password: %s\n%s", loc, b.text())
	}
	// The link is used up.
	b.open("/ui/reset-password?token=" + token)
	b.mustSee("invalid, has expired or was already used")
}
