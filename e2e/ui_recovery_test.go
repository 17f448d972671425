package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUIBrowserRecoveryCodesAndAdminReset drives, in headless Chromium, a
// user getting new recovery codes on the account page (the old ones then
// fail), and an admin resetting that user's two-step verification from the
// user's admin page, after which the password alone signs in.
func TestUIBrowserRecoveryCodesAndAdminReset(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	const password = "a long and memorable passphrase"
	env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_PASSWORD_MIN_STRENGTH": "0"}
	gatehouseCLI(t, env, password+"\n", "user", "create", "--username", "root", "--email", "root@example.com", "--password-stdin", "--admin")
	in := start(t, env)
	bobID := int64(must(t, http.StatusCreated)(register(in.base, "bob", password)).body["id"].(float64))

	ctx := newBrowser(t, chrome, 3*time.Minute)
	shots := screenshotDir(t)
	bob := &tab{t: t, ctx: ctx, base: in.base, shots: shots}
	bob.do(chromedp.EmulateViewport(1024, 768))
	if loc := bob.signIn("bob", password); loc != "/ui/account" {
		t.Fatalf("bob's sign-in: %s", loc)
	}
	bob.press(`form[action="/ui/account/mfa/totp"] button`)
	secret := bob.eval(`document.getElementById('totp-secret').textContent`)
	bob.fill("code", totpAt(t, secret, time.Now()), "password", password)
	bob.press(`form[action="/ui/account/mfa/totp/confirm"] button`)
	old := strings.Fields(bob.eval(`Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.textContent).join(' ')`))

	// New codes, with the password.
	bob.open("/ui/account")
	bob.do(chromedp.Click(chromedp.CSS(`#mfa-regen summary`)), chromedp.WaitVisible(chromedp.CSS(`input[name="regen_password"]`)))
	bob.fill("regen_password", "not the password")
	bob.press(`#regen-with-password`)
	bob.mustSee("current password is wrong")
	bob.fill("regen_password", password)
	bob.press(`#regen-with-password`)
	bob.mustSee("New recovery codes", "no longer work")
	fresh := strings.Fields(bob.eval(`Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.textContent).join(' ')`))
	if len(old) != 10 || len(fresh) != 10 || fresh[0] == old[0] {
		t.Fatalf("codes before %q, after %q", old, fresh)
	}
	bob.shot("recovery-codes-new")

	// An old code no longer completes a sign-in; a new one does.
	bob.press(`header.site form button`)
	bob.signIn("bob", password)
	bob.do(chromedp.Click(chromedp.CSS(`details summary`)))
	bob.fill("recovery_code", old[0])
	bob.press(`details form button`)
	bob.mustSee("code is wrong") // the recovery code's <details> stays open
	bob.fill("recovery_code", fresh[0])
	if loc := bob.press(`details form button`); loc != "/ui/account" {
		t.Fatalf("a new recovery code: %s\n%s", loc, bob.text())
	}

	// The admin resets bob's two-step verification.
	adminCtx, cancelAdmin := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelAdmin()
	admin := &tab{t: t, ctx: adminCtx, base: in.base, shots: shots}
	admin.do(chromedp.EmulateViewport(1280, 800))
	admin.signIn("root", password)
	admin.open(fmt.Sprintf("/ui/admin/users/%d", bobID))
	admin.mustSee("9 recovery codes left")
	admin.shot("admin-user-mfa")
	admin.press(`#mfa-reset`)
	admin.mustSee("two-step verification has been removed")

	bob.press(`header.site form button`)
	if loc := bob.signIn("bob", password); loc != "/ui/account" {
		t.Fatalf("bob after the reset: %s\n%s", loc, bob.text())
	}
	bob.mustSee("Set up two-step verification")
}
