package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// startWithProvider runs `gatehouse serve` with one OpenID provider, "corp"
// (shown as "Corp SSO"), served by the mockoidc m on loopback. The server
// listens on a port chosen here, so that its public URL — where the
// provider sends browsers back — is known before it starts.
func startWithProvider(t *testing.T, m *mockoidc.MockOIDC, env map[string]string) *instance {
	t.Helper()
	dir := t.TempDir()
	providers := filepath.Join(dir, "providers.json")
	doc := fmt.Sprintf(`{"corp": {"type": "oidc", "display_name": "Corp SSO", "issuer": %q, "client_id": %q, "client_secret": %q}}`,
		m.Issuer(), m.ClientID, m.ClientSecret)
	if err := os.WriteFile(providers, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env["GATEHOUSE_DATA_DIR"] = dir
	env["GATEHOUSE_ADDR"] = addr
	env["GATEHOUSE_OAUTH_PROVIDERS_FILE"] = providers
	env["GATEHOUSE_OAUTH_PUBLIC_URL"] = "http://" + addr
	return start(t, env)
}

// TestUIBrowserProviderSignIn drives sign-in through an OpenID provider in
// headless Chromium: the sign-in page's provider button goes through the
// provider (mockoidc approves at once) and lands signed in on the account
// page, which lists the linked identity; then a user with a password links
// the provider from the account page. It saves a screenshot of the sign-in
// page with the button and of the account page with the linked identity.
func TestUIBrowserProviderSignIn(t *testing.T) {
	if findChromium() == "" {
		t.Skip("no Chromium browser found (chromium, chromium-browser, google-chrome): the hosted pages' browser test needs one; `apt-get install chromium` (.ci/run installs it)")
	}
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	in := startWithProvider(t, m, map[string]string{"GATEHOUSE_PASSWORD_MIN_STRENGTH": "0"})
	b := newTab(t, in.base)

	// Sign in with the provider: a new account, signed in, its identity
	// listed.
	b.open("/ui/signin")
	b.mustSee("Sign in with Corp SSO")
	b.shot("signin-providers")
	m.QueueUser(&mockoidc.MockUser{Subject: "kim-1", Email: "kim@corp.example", EmailVerified: true, PreferredUsername: "kim"})
	if loc := b.press(`button[data-provider="corp"]`); loc != "/ui/account" {
		t.Fatalf("after the provider sign-in: %s\n%s", loc, b.text())
	}
	b.mustSee("kim", "Linked sign-in methods", "Corp SSO", "kim@corp.example")
	if got := b.eval(`String(document.querySelectorAll('li.identity').length)`); got != "1" {
		t.Errorf("%s identities listed, want 1", got)
	}
	// Its only way in cannot be unlinked.
	b.press(`li.identity form button`)
	b.mustSee("This is your only way to sign in")
	b.press(`header.site form button`)
	b.mustSee("You have signed out")

	// A user with a password links the provider from the account page.
	const password = "a long and memorable passphrase"
	must(t, http.StatusCreated)(register(in.base, "lee", password))
	b.open("/ui/signin")
	b.fill("username", "lee", "password", password)
	if loc := b.press(`main form button[type="submit"]`); loc != "/ui/account" {
		t.Fatalf("after the password sign-in: %s", loc)
	}
	b.mustSee("None linked.", "Link Corp SSO")
	m.QueueUser(&mockoidc.MockUser{Subject: "lee-1", Email: "lee@corp.example", EmailVerified: true, PreferredUsername: "lee.corp"})
	if loc := b.press(`button[data-link="corp"]`); !strings.HasPrefix(loc, "/ui/account?m=identity_linked") {
		t.Fatalf("after linking: %s\n%s", loc, b.text())
	}
	b.mustSee("The sign-in method has been linked", "Corp SSO", "lee@corp.example")
	b.shot("account-identities")
	if strings.Contains(b.location(), "code=") {
		t.Errorf("a code is left in the address: %s", b.location())
	}
}
