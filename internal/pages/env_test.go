package pages_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
	"github.com/gatehouse-auth/gatehouse/internal/web"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type envOptions struct {
	secure    bool
	redirects []string
	limits    *auth.Limits
	gate      pages.Gate
	maxBody   int64
	mailer    gatehouse.Mailer // turns email links on
	// federation, when set, makes the sign-in providers for a server at
	// base (oauth_test.go).
	federation func(tb testing.TB, base string, svc *auth.Service, ids gatehouse.IdentityStore) *auth.Federation
}

// env is the API and the pages served together, as the server runs them.
type env struct {
	srv   *httptest.Server
	clock *testClock
	users gatehouse.UserStore
	svc   *auth.Service
}

const testRedirectOrigin = "https://app.example"

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite://"+filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	clk := &testClock{t: time.Now()}
	keys, err := tokens.NewHMACKeyRing([]byte("test-secret-test-secret-test-sec"))
	if err != nil {
		tb.Fatal(err)
	}
	tm, err := tokens.New(tokens.Options{TTL: 30 * time.Minute, Leeway: 30 * time.Second, CacheEntries: 100, Now: clk.Now, Keys: keys, Issuer: "https://auth.test"})
	if err != nil {
		tb.Fatal(err)
	}
	sessions := db.Sessions()
	revocations := inmem.NewRevocations(sessions, clk.Now, nil)
	if err := revocations.Sync(ctx); err != nil {
		tb.Fatal(err)
	}
	var limiter gatehouse.RateLimiter
	var limits auth.Limits
	if opts.limits != nil {
		limits, limiter = *opts.limits, inmem.NewRateLimiter(clk.Now)
	}
	policy := pwhash.Policy{MinLength: 8}
	users := inmem.NewUserCache(db.Users(), 2*time.Second, 100, clk.Now)
	svc := auth.New(auth.Deps{
		Users:       users,
		Sessions:    sessions,
		Revocations: revocations,
		Hasher:      pwhash.New(pwhash.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		Policy:      policy,
		Tokens:      tm,
		RefreshKey:  []byte("refresh-key-for-tests-only-32byt"),
		Lifetimes:   auth.Lifetimes{Refresh: 24 * time.Hour, Session: 72 * time.Hour, Grace: 10 * time.Second},
		Now:         clk.Now,
		Limiter:     limiter,
		Limits:      limits,
		Audit:       db.Audit(),
		MFA:         db.MFA(),
		MFAKey:      []byte("mfa-key-for-tests-only-32-bytes!"),
		Email:       testEmail(users.EmailTokens(db.EmailTokens()), opts.mailer),
	})
	mailCtx, stopMail := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.RunMail(mailCtx); close(done) }()
	tb.Cleanup(func() { stopMail(); <-done })
	catalog := i18n.New(i18n.English)
	admin := auth.NewAdminAPI(svc, users)
	// Started first, so that the providers know the server's URL.
	srv := httptest.NewServer(http.NotFoundHandler())
	tb.Cleanup(srv.Close)
	var fed *auth.Federation
	if opts.federation != nil {
		fed = opts.federation(tb, srv.URL, svc, db.Identities())
	}
	ui, err := pages.New(pages.Deps{
		Auth: svc, Admin: admin, Catalog: catalog, Gate: opts.gate, Policy: policy, Secure: opts.secure,
		CSRFKey: []byte("csrf-key-for-tests-only-32-bytes"), RedirectOrigins: opts.redirects, MaxBodyBytes: opts.maxBody,
		Federation: fed, OAuthRedirectURI: srv.URL + pages.OAuthCallbackPath,
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = web.NewServer(web.Deps{Auth: svc, Catalog: catalog, Keys: keys, Pages: ui, Admin: admin, Federation: fed})
	return &env{srv: srv, clock: clk, users: users, svc: svc}
}

// browser is a cookie-keeping client that does not follow redirects, so
// that tests see each answer.
type browser struct {
	tb     testing.TB
	base   string
	client *http.Client
	header http.Header // sent with every request
	// password is the one the browser last signed up or in with, which
	// forms that re-authenticate (the TOTP confirmation) ask for again.
	password string
}

func (e *env) browser(tb testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &browser{tb: tb, base: e.srv.URL, header: http.Header{}, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf returns the page's form token.
func (p page) csrf(tb testing.TB) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("no form token on the page (%d):\n%s", p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, extra http.Header) page {
	b.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.tb.Fatal(err)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(path string) page { b.tb.Helper(); return b.do("GET", path, nil, nil) }

func (b *browser) post(path string, form url.Values) page {
	b.tb.Helper()
	return b.do("POST", path, form, nil)
}

// submit loads the form page at from and posts fields to action with its
// token, as a person filling the form would.
func (b *browser) submit(from, action string, fields url.Values) page {
	b.tb.Helper()
	p := b.get(from)
	if fields == nil {
		fields = url.Values{}
	}
	fields.Set("csrf_token", p.csrf(b.tb))
	return b.post(action, fields)
}

func (b *browser) signUp(username, password string) {
	b.tb.Helper()
	b.password = password
	p := b.submit("/ui/signup", "/ui/signup", url.Values{"username": {username}, "email": {username + "@example.com"}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/signin?m=registered" {
		b.tb.Fatalf("sign-up: %d %s\n%s", p.status, p.location(), p.body)
	}
}

func (b *browser) signIn(username, password string) {
	b.tb.Helper()
	b.password = password
	p := b.submit("/ui/signin", "/ui/signin", url.Values{"username": {username}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		b.tb.Fatalf("sign-in: %d %s\n%s", p.status, p.location(), p.body)
	}
}

// api calls the JSON API.
func (e *env) api(tb testing.TB, method, path, contentType, body, token string) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// apiLogin logs in through the API and returns the access token.
func (e *env) apiLogin(tb testing.TB, username, password string) string {
	tb.Helper()
	status, m := e.api(tb, "POST", "/auth/login", "application/x-www-form-urlencoded",
		url.Values{"username": {username}, "password": {password}}.Encode(), "")
	token, _ := m["access_token"].(string)
	if status != http.StatusOK || token == "" {
		tb.Fatalf("API login: %d %v", status, m)
	}
	return token
}
