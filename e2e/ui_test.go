package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium-family browser, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test saves its screenshots: the
// checked-in docs/screenshots when GATEHOUSE_UPDATE_SCREENSHOTS=1 (to
// refresh them), else a temporary directory, so that an ordinary test run
// leaves the tree clean.
func screenshotDir(t *testing.T) string {
	if os.Getenv("GATEHOUSE_UPDATE_SCREENSHOTS") == "1" {
		dir, err := filepath.Abs(filepath.Join("..", "docs", "screenshots"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// tab drives one browser tab through the hosted pages.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// open loads a page and waits for it.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// fill types into the labelled inputs (by field name).
func (b *tab) fill(fields ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		b.do(chromedp.SendKeys(chromedp.CSS(`input[name="`+fields[i]+`"]`), fields[i+1]))
	}
}

// press clicks the button sel and waits for the page the form leads to,
// returning its address.
func (b *tab) press(sel string) string {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	if res.Status >= 500 {
		b.t.Fatalf("click %s: status %d", sel, res.Status)
	}
	return b.location()
}

func (b *tab) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// text returns the visible text of the page's main content.
func (b *tab) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *tab) mustSee(want ...string) {
	b.t.Helper()
	text := b.text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.t.Fatalf("page %s does not show %q:\n%s", b.location(), w, text)
		}
	}
}

// eval returns the string value of a JavaScript expression in the page.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// shot saves a full-page screenshot as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestUIBrowser drives the hosted pages in headless Chromium as a person
// would: sign up, sign in, see the sessions, revoke the session another
// client holds (its access token then dies at the API), sign out, sign in
// again. It saves a screenshot of each page.
func TestUIBrowser(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	in := start(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_PASSWORD_MIN_STRENGTH": "0"})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1024, 768), chromedp.UserDataDir(t.TempDir()))
	// The allocator's deadline bounds the whole test: it stops the browser.
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelDeadline()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	b := &tab{t: t, ctx: ctx, base: in.base, shots: screenshotDir(t)}
	b.do(chromedp.EmulateViewport(1024, 768))

	const password = "a long and memorable passphrase"

	// Sign up.
	b.open("/ui/signup")
	b.shot("signup")
	b.fill("username", "alice", "email", "alice@example.com", "password", password)
	if loc := b.press(`main form button[type="submit"]`); loc != "/ui/signin?m=registered" {
		t.Fatalf("after sign-up: %s", loc)
	}
	b.mustSee("Your account has been created")
	b.shot("signin")

	// A wrong password is a page with a message.
	b.fill("username", "alice", "password", "not the password")
	b.press(`main form button[type="submit"]`)
	b.mustSee("Incorrect username or password")
	b.shot("signin-error")

	// Sign in. Another client (an app using the API) holds a session too.
	b.open("/ui/signin")
	b.fill("username", "alice", "password", password)
	if loc := b.press(`main form button[type="submit"]`); loc != "/ui/account" {
		t.Fatalf("after sign-in: %s", loc)
	}
	api := must(t, http.StatusOK)(login(in.base, "alice", password))
	token := api.body["access_token"].(string)
	must(t, http.StatusOK)(me(in.base, token))
	b.open("/ui/account")
	b.mustSee("alice", "alice@example.com", "This session", "Go-http-client")
	b.shot("account")

	// Revoke the other session on the page; its access token dies at once.
	if loc := b.press(`li.session:not(.current) button`); loc != "/ui/account?m=session_revoked" {
		t.Fatalf("after revoking: %s", loc)
	}
	b.mustSee("The session has been revoked")
	if strings.Contains(b.text(), "Go-http-client") {
		t.Error("the revoked session is still listed")
	}
	must(t, http.StatusUnauthorized)(me(in.base, token))
	b.shot("account-revoked")

	// Keyboard: the first Tab reaches the skip link, which leads to the
	// content.
	b.open("/ui/account")
	b.do(chromedp.KeyEvent("\t"))
	if got := b.eval(`document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	b.do(chromedp.KeyEvent("\r"))
	if got := b.eval(`document.activeElement.id`); got != "main" {
		t.Errorf("the skip link leads to %q, want main", got)
	}

	// On a phone-sized screen.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.open("/ui/account")
	b.shot("account-phone")
	b.do(chromedp.EmulateViewport(1024, 768))

	// Sign out, and the account page is closed.
	if loc := b.press(`header.site form button`); loc != "/ui/signin?m=signed_out" {
		t.Fatalf("after sign-out: %s", loc)
	}
	b.mustSee("You have signed out")
	b.open("/ui/account")
	if loc := b.location(); !strings.HasPrefix(loc, "/ui/signin") {
		t.Fatalf("account after sign-out: %s", loc)
	}

	// Sign in again, with the keyboard alone: the first field has the
	// focus, Tab moves on, Enter submits.
	if got := b.eval(`document.activeElement.name`); got != "username" {
		t.Errorf("the sign-in page focuses %q, want the username field", got)
	}
	b.do(chromedp.KeyEvent("alice@example.com"), chromedp.KeyEvent("\t"), chromedp.KeyEvent(password))
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if loc := b.location(); loc != "/ui/account" {
		t.Fatalf("after signing in again: %s", loc)
	}
	b.mustSee("This session")

	// A second browser, in Korean, has its own cookies: it is signed out.
	ko, cancelKo := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelKo()
	k := &tab{t: t, ctx: ko, base: in.base, shots: b.shots}
	k.do(chromedp.EmulateViewport(1024, 768), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": "ko-KR,ko;q=0.9"},
		})
		return err
	}))
	k.open("/ui/account")
	if loc := k.location(); !strings.HasPrefix(loc, "/ui/signin") {
		t.Fatalf("a fresh browser reached %s", loc)
	}
	k.mustSee("로그인")
	k.shot("signin-ko")
}
