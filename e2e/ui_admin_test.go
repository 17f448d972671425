package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// gatehouseCLI runs the gatehouse binary with args, env (and nothing else
// from the test's environment) and stdin, and returns its standard output.
func gatehouseCLI(t *testing.T, env map[string]string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GATEHOUSE_LOG_FORMAT=text"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// newBrowser starts headless Chromium for the test (bounded by timeout)
// and returns its first tab's context; more tabs with their own cookies
// come from chromedp.NewContext(ctx, chromedp.WithNewBrowserContext()).
func newBrowser(t *testing.T, chrome string, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800), chromedp.UserDataDir(t.TempDir()))
	deadline, cancelDeadline := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancelDeadline)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	return ctx
}

// signInTab signs tab in on the sign-in page and returns where it lands.
func (b *tab) signIn(username, password string) string {
	b.t.Helper()
	b.open("/ui/signin")
	b.fill("username", username, "password", password)
	return b.press(`main form button[type="submit"]`)
}

// TestUIAdminBrowser drives the administration pages in headless Chromium:
// the first admin is made with `gatehouse user create --admin`, as an
// operator would; a second user signs in in a browser of their own and
// holds an API token; the admin finds them, deactivates them — their
// browser is signed out and their token refused — gives them a role, and
// reads the deactivation in the audit log, on a desktop and on a phone.
func TestUIAdminBrowser(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	const password = "a long and memorable passphrase"
	env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_PASSWORD_MIN_STRENGTH": "0"}
	out := gatehouseCLI(t, env, password+"\n", "user", "create", "--username", "root", "--email", "root@example.com", "--password-stdin", "--admin")
	rootID, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("user create printed %q", out)
	}
	in := start(t, env)
	must(t, http.StatusCreated)(register(in.base, "bob", password))

	ctx := newBrowser(t, chrome, 3*time.Minute)
	shots := screenshotDir(t)
	admin := &tab{t: t, ctx: ctx, base: in.base, shots: shots}
	admin.do(chromedp.EmulateViewport(1280, 800))

	// Bob signs in, in a browser of his own, and an app holds his token.
	bobCtx, cancelBob := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelBob()
	bob := &tab{t: t, ctx: bobCtx, base: in.base, shots: shots}
	bob.do(chromedp.EmulateViewport(1024, 768))
	if loc := bob.signIn("bob", password); loc != "/ui/account" {
		t.Fatalf("bob's sign-in: %s", loc)
	}
	if strings.Contains(bob.eval(`document.querySelector("nav").innerText`), "Administration") {
		t.Error("bob sees the administration link")
	}
	bob.open("/ui/admin/users")
	bob.mustSee("needs the admin role")
	token := must(t, http.StatusOK)(login(in.base, "bob", password)).body["access_token"].(string)
	must(t, http.StatusOK)(me(in.base, token))

	// The admin signs in and follows the link to the users.
	if loc := admin.signIn("root", password); loc != "/ui/account" {
		t.Fatalf("root's sign-in: %s", loc)
	}
	if loc := admin.press(`nav a[href="/ui/admin/users"]`); loc != "/ui/admin/users" {
		t.Fatalf("the administration link leads to %s", loc)
	}
	admin.mustSee("root", "bob", "All users")
	admin.shot("admin-users")

	// Search with the keyboard: the field, the query, Enter.
	admin.do(chromedp.Focus(chromedp.CSS(`#f-search`)), chromedp.KeyEvent("BOB"))
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if loc := admin.location(); loc != "/ui/admin/users?search=BOB" {
		t.Fatalf("after searching: %s", loc)
	}
	admin.mustSee("Users matching “BOB”", "bob@example.com")
	if strings.Contains(admin.text(), "root@example.com") {
		t.Error("the search for bob lists root")
	}
	admin.shot("admin-users-search")

	// Bob's page; deactivate him.
	admin.press(`table.data tbody th a`)
	admin.mustSee("bob@example.com", "Active", "Deactivate")
	admin.shot("admin-user")
	admin.press(`#deactivate`)
	admin.mustSee("The user has been deactivated and signed out everywhere", "Deactivated", "Activate")

	// Bob's browser lands on the sign-in page; his token is refused.
	bob.open("/ui/account")
	if loc := bob.location(); !strings.HasPrefix(loc, "/ui/signin") {
		t.Fatalf("bob's browser after the deactivation: %s", loc)
	}
	bob.mustSee("Your session has ended")
	must(t, http.StatusUnauthorized)(me(in.base, token))
	// Nor can he sign in again.
	bob.fill("username", "bob", "password", password)
	bob.press(`main form button[type="submit"]`)
	bob.mustSee("Inactive user")

	// The admin gives bob a role (and he may come back).
	admin.fill("roles", "support, billing:read")
	admin.press(`#save-roles`)
	admin.mustSee("The roles have been saved", "billing:read, support, user")
	admin.press(`#activate`)
	admin.mustSee("The user has been activated")
	admin.shot("admin-user-changed")

	// An admin cannot lock themselves out: the message is on the page.
	admin.open("/ui/admin/users/" + strconv.FormatInt(rootID, 10))
	admin.do(chromedp.Click(chromedp.CSS(`#f-admin`)))
	admin.press(`#save-roles`)
	admin.mustSee("This is the last active admin")
	admin.shot("admin-lockout")

	// The audit log shows the deactivation, with the admin as actor.
	admin.open("/ui/admin/users")
	admin.press(`.tabs a[href="/ui/admin/audit"]`)
	admin.mustSee("Audit events, newest first", "user_deactivated", "user_roles_set", "admin_lockout")
	admin.shot("admin-audit")
	if got := admin.eval(`document.querySelector("#f-event").value = "user_deactivated"`); got != "user_deactivated" {
		t.Fatalf("choosing the event: %q", got)
	}
	if loc := admin.press(`form.filters button[type="submit"]`); !strings.Contains(loc, "event=user_deactivated") {
		t.Fatalf("after filtering: %s", loc)
	}
	rows := admin.eval(`Array.from(document.querySelectorAll("table.audit tbody tr")).map(r => r.innerText).join("\n")`)
	if strings.Count(rows, "user_deactivated") != 1 || !strings.Contains(rows, "#"+strconv.FormatInt(rootID, 10)) || strings.Contains(rows, "user_roles_set") {
		t.Errorf("the filtered audit log:\n%s", rows)
	}

	// On a phone: the page fits the screen; the table scrolls inside its
	// own region.
	admin.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	admin.open("/ui/admin/audit")
	if got := admin.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the audit page is wider than the phone: %s", admin.eval(`document.documentElement.scrollWidth + " > " + window.innerWidth`))
	}
	if got := admin.eval(`(e => String(e.scrollWidth > e.clientWidth))(document.querySelector(".table-scroll"))`); got != "true" {
		t.Error("the audit table does not scroll inside its region on a phone")
	}
	admin.shot("admin-audit-phone")
	admin.open("/ui/admin/users")
	admin.shot("admin-users-phone")
}
