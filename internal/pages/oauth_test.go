package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/upstream"
)

// These tests sign in through a real OpenID provider on loopback
// (mockoidc, which approves every request for the user queued next); the
// test plays the browser, one redirect at a time.

// oidcEnv is a pages server with the provider "corp" served by a mockoidc.
func oidcEnv(t *testing.T, opts envOptions) (*env, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	opts.federation = func(tb testing.TB, base string, svc *auth.Service, ids gatehouse.IdentityStore) *auth.Federation {
		up, err := upstream.New(upstream.Config{
			Name: "corp", Type: upstream.TypeOIDC, Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
			RedirectURL: base + "/auth/oauth/corp/callback",
		}, &http.Client{Timeout: 5 * time.Second}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return auth.NewFederation(svc, auth.FederationDeps{
			Identities: ids, Upstreams: map[string]gatehouse.Upstream{"corp": up},
			Labels: map[string]string{"corp": "Corp SSO"}, RedirectURIs: []string{base + pages.OAuthCallbackPath},
		})
	}
	return newEnv(t, opts), m
}

// atProvider plays the browser at the provider (which approves at once)
// and returns the gatehouse callback path it sends the browser back to.
func atProvider(t *testing.T, providerURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(providerURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.Path, "/auth/oauth/corp/callback") {
		t.Fatalf("provider answered %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.RequestURI()
}

// providerStart presses a provider button: a form post answered with the
// provider's URL.
func (b *browser) providerStart(from, action string) string {
	b.tb.Helper()
	p := b.submit(from, action, nil)
	if p.status != http.StatusSeeOther || !strings.Contains(p.location(), "/oidc/authorize") {
		b.tb.Fatalf("%s: %d %s\n%s", action, p.status, p.location(), p.body)
	}
	if strings.Contains(p.location(), "code_verifier") {
		b.tb.Errorf("the verifier left the server: %s", p.location())
	}
	return p.location()
}

// providerBack follows gatehouse's callback to the pages' callback and
// returns the pages' answer to it.
func (b *browser) providerBack(t *testing.T, callback string) page {
	t.Helper()
	p := b.get(callback)
	loc, err := url.Parse(p.location())
	if err != nil || p.status != http.StatusFound || loc.Path != pages.OAuthCallbackPath {
		t.Fatalf("gatehouse callback: %d %s\n%s", p.status, p.location(), p.body)
	}
	if loc.Query().Has("access_token") || loc.Query().Has("refresh_token") {
		t.Errorf("a token in a URL: %s", loc)
	}
	return b.get(loc.RequestURI())
}

// providerSignIn signs the browser in through "corp" as the queued user.
func (b *browser) providerSignIn(t *testing.T) page {
	t.Helper()
	return b.providerBack(t, atProvider(t, b.providerStart("/ui/signin", "/ui/oauth/corp")))
}

func TestProviderSignInPages(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	b := e.browser(t)

	// The sign-in page has the button, and lets its form be answered by
	// a redirect to the provider (CSP form-action).
	p := b.get("/ui/signin")
	if !strings.Contains(p.body, `action="/ui/oauth/corp"`) || !strings.Contains(p.body, "Sign in with Corp SSO") {
		t.Fatalf("sign-in page lacks the provider button:\n%s", p.body)
	}
	mu, _ := url.Parse(m.Issuer())
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+mu.Scheme+"://"+mu.Host) {
		t.Errorf("CSP %q does not allow the provider in form-action", csp)
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "p-1", Email: "dana@example.com", EmailVerified: true, PreferredUsername: "dana"})
	p = b.providerSignIn(t)
	if p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Fatalf("pages callback: %d %s\n%s", p.status, p.location(), p.body)
	}
	p = b.get("/ui/account")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Linked sign-in methods") || !strings.Contains(p.body, `data-provider="corp"`) ||
		!strings.Contains(p.body, "dana@example.com") {
		t.Fatalf("account page after a provider sign-in:\n%s", p.body)
	}
	if strings.Contains(p.body, `data-link="corp"`) {
		t.Error("a linked provider is offered for linking again")
	}
	// Its only way to sign in cannot be unlinked.
	action := between(p.body, `<form method="post" action="/ui/account/identities/`, `"`)
	p = b.post("/ui/account/identities/"+action, url.Values{"csrf_token": {p.csrf(t)}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "only way to sign in") {
		t.Errorf("unlinking the last sign-in method: %d\n%s", p.status, p.body)
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

// The flow is bound to the browser that started it: its state is kept in
// an HttpOnly cookie, so a callback URL that reaches another browser (or
// arrives twice, or forged) signs no one in.
func TestProviderSignInBoundToBrowser(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	victim, attacker := e.browser(t), e.browser(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "p-2", Email: "eve@example.com", EmailVerified: true, PreferredUsername: "eve"})
	callback := atProvider(t, victim.providerStart("/ui/signin", "/ui/oauth/corp"))
	p := attacker.get(callback)
	pagesCallback := p.location()
	if p = attacker.get(mustURL(t, pagesCallback).RequestURI()); p.status != http.StatusBadRequest || strings.Contains(p.header.Get("Set-Cookie"), "gatehouse_session=") {
		t.Errorf("another browser's callback: %d %v\n%s", p.status, p.header, p.body)
	}
	// Forged: no flow at all.
	if p = victim.get(pages.OAuthCallbackPath + "?code=abc&state=def"); p.status != http.StatusBadRequest {
		t.Errorf("forged callback: %d", p.status)
	}
	// A start without the form token is refused.
	if p = attacker.post("/ui/oauth/corp", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("start without a form token: %d", p.status)
	}
	if p = attacker.submit("/ui/signin", "/ui/oauth/nope", nil); p.status != http.StatusNotFound {
		t.Errorf("unknown provider: %d", p.status)
	}
}

// A provider account whose email belongs to an account is not signed in:
// the page tells the user to sign in and link.
func TestProviderSignInAccountExists(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	owner := e.browser(t)
	owner.signUp("frank", password)
	b := e.browser(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "p-3", Email: "frank@example.com", EmailVerified: true, PreferredUsername: "frank2"})
	p := b.providerSignIn(t)
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="link-hint"`) || !strings.Contains(p.body, "link Corp SSO") {
		t.Fatalf("account exists: %d\n%s", p.status, p.body)
	}
	if b.get("/ui/account").status != http.StatusSeeOther {
		t.Error("signed in after account_exists_link_required")
	}
}

// A user with TOTP on who signs in through the provider gets the second
// step's page, and only the code finishes the sign-in.
func TestProviderSignInTOTP(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	b := e.browser(t)
	user := &mockoidc.MockUser{Subject: "p-4", Email: "gina@example.com", EmailVerified: true, PreferredUsername: "gina"}
	m.QueueUser(user)
	if p := b.providerSignIn(t); p.status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d\n%s", p.status, p.body)
	}
	secret, _ := e.enrol(t, b)
	b2 := e.browser(t)
	m.QueueUser(user)
	step := b2.providerSignIn(t)
	if step.status != http.StatusOK || !strings.Contains(step.body, `action="/ui/signin/mfa"`) || strings.Contains(step.header.Get("Set-Cookie"), "gatehouse_session=") {
		t.Fatalf("provider sign-in with TOTP on: %d %v\n%s", step.status, step.header, step.body)
	}
	if p := b2.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Fatal("signed in before the second step")
	}
	e.clock.Add(30 * time.Second)
	if p := secondStep(b2, step, "code", code(t, secret, e.clock.Now())); p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Fatalf("second step: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := b2.get("/ui/account"); p.status != http.StatusOK || !strings.Contains(p.body, `data-provider="corp"`) {
		t.Errorf("account after provider + TOTP: %d", p.status)
	}
}

// A password user links the provider from the account page, then may
// unlink it (the password remains a way in).
func TestLinkProviderPage(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("hank", password)
	b.signIn("hank", password)
	p := b.get("/ui/account")
	if !strings.Contains(p.body, `id="identities-none"`) || !strings.Contains(p.body, "Link Corp SSO") {
		t.Fatalf("account page before linking:\n%s", p.body)
	}
	// The link button needs the session's form token.
	if r := b.post("/ui/account/link/corp", url.Values{"csrf_token": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("link with a forged token: %d", r.status)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "p-5", Email: "hank@corp.example", EmailVerified: true, PreferredUsername: "hank.corp"})
	p = b.providerBack(t, atProvider(t, b.providerStart("/ui/account", "/ui/account/link/corp")))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/account?m=identity_linked") {
		t.Fatalf("link callback: %d %s\n%s", p.status, p.location(), p.body)
	}
	p = b.get("/ui/account?m=identity_linked")
	if !strings.Contains(p.body, "has been linked") || !strings.Contains(p.body, `data-provider="corp"`) || !strings.Contains(p.body, "hank@corp.example") {
		t.Fatalf("account page after linking:\n%s", p.body)
	}
	action := between(p.body, `<form method="post" action="/ui/account/identities/`, `"`)
	if r := b.post("/ui/account/identities/"+action, url.Values{"csrf_token": {p.csrf(t)}}); r.status != http.StatusSeeOther {
		t.Errorf("unlink with a password left: %d\n%s", r.status, r.body)
	}
	// Signed out, the link button leads to sign-in.
	signedOut := e.browser(t)
	if r := signedOut.post("/ui/account/link/corp", url.Values{}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/ui/signin") {
		t.Errorf("link while signed out: %d %s", r.status, r.location())
	}
}

// The provider pages in Korean, and the error page of an existing
// account's email.
func TestProviderPagesKorean(t *testing.T) {
	t.Parallel()
	e, m := oidcEnv(t, envOptions{})
	e.browser(t).signUp("ivy", password)
	b := e.browser(t)
	b.header.Set("Accept-Language", "ko-KR,ko;q=0.9")
	if p := b.get("/ui/signin"); !strings.Contains(p.body, "Corp SSO(으)로 로그인") {
		t.Errorf("Korean sign-in page lacks the provider button:\n%s", p.body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "k-1", Email: "ivy@example.com", EmailVerified: true, PreferredUsername: "ivy2"})
	if p := b.providerSignIn(t); p.status != http.StatusConflict || !strings.Contains(p.body, "연결된 로그인 수단") {
		t.Errorf("Korean account-exists page: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/oauth/corp"); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "POST" {
		t.Errorf("GET /ui/oauth/corp: %d %q", p.status, p.header.Get("Allow"))
	}
}
