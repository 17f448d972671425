package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
	"github.com/gatehouse-auth/gatehouse/internal/web/openapi/openapitest"
)

// testSecret is only ever used by tests.
var testSecret = []byte("test-secret-test-secret-test-sec")

// cheapParams keeps argon2id fast in tests; production uses DefaultParams.
var cheapParams = pwhash.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

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

// testIssuer is the issuer test servers name; the feed credential lets tests
// read the revocation feed.
const (
	testIssuer       = "https://auth.test"
	feedClientID     = "notes"
	feedClientSecret = "feed-secret-for-tests"
)

type testEnv struct {
	handler     http.Handler
	users       gatehouse.UserStore
	sessions    gatehouse.SessionStore
	revocations *inmem.Revocations
	audit       gatehouse.AuditLog
	identities  gatehouse.IdentityStore
	tokens      *tokens.Manager
	keys        *tokens.KeyRing
	clock       *testClock
	oas         *openapitest.Validator
	mfa         gatehouse.MFAStore
	svc         *auth.Service
}

type envOptions struct {
	locale      i18n.Lang
	minLength   int
	minStrength int
	maxBody     int64
	hashParams  *pwhash.Params        // nil: cheapParams
	noCache     bool                  // verify every token in full
	alg         string                // "": HS256 with testSecret; else keys kept in the database
	grace       *time.Duration        // nil: 10 s
	trusted     []netip.Prefix        // trusted proxies
	proxyHeader string                // "": X-Forwarded-For
	limits      *auth.Limits          // nil: no rate limits
	limiter     gatehouse.RateLimiter // with limits; nil: an inmem.RateLimiter on the test clock
	email       *auth.Email           // nil: email flows off; else its Tokens are set here and mail workers run
	// upstreams, when set, configures sign-in providers (upstream_test.go),
	// given the test clock; redirectURIs are the allowed app redirect URIs.
	upstreams    func(now func() time.Time) map[string]gatehouse.Upstream
	redirectURIs []string
}

var validators sync.Map // one compiled validator per test binary is enough

func openAPIValidator(tb testing.TB) *openapitest.Validator {
	if v, ok := validators.Load("v"); ok {
		return v.(*openapitest.Validator)
	}
	v := openapitest.New(tb, openapi.Document())
	validators.Store("v", v)
	return v
}

func newTestEnv(tb testing.TB, opts envOptions) *testEnv {
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
	cacheEntries := 1000
	if opts.noCache {
		cacheEntries = 0
	}
	var keys *tokens.KeyRing
	if opts.alg == "" || opts.alg == "HS256" {
		keys, err = tokens.NewHMACKeyRing(testSecret)
	} else {
		keys, err = tokens.LoadKeyRing(ctx, db.Keys(), opts.alg, []byte("seal-key-for-tests-only-32-bytes"), 30*time.Minute+tokens.MaxLeeway, clk.Now)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tm, err := tokens.New(tokens.Options{TTL: 30 * time.Minute, Leeway: 30 * time.Second, CacheEntries: cacheEntries, Now: clk.Now, Keys: keys, Issuer: testIssuer})
	if err != nil {
		tb.Fatal(err)
	}
	if opts.minLength == 0 {
		opts.minLength = 8
	}
	params := cheapParams
	if opts.hashParams != nil {
		params = *opts.hashParams
	}
	// The stack the server runs: SQLite behind the in-process user cache,
	// and the revocation set following the database's log.
	users := inmem.NewUserCache(db.Users(), 2*time.Second, 1000, clk.Now)
	sessions := db.Sessions()
	revocations := inmem.NewRevocations(sessions, clk.Now, nil)
	if err := revocations.Sync(ctx); err != nil {
		tb.Fatal(err)
	}
	grace := 10 * time.Second
	if opts.grace != nil {
		grace = *opts.grace
	}
	var limiter gatehouse.RateLimiter
	var limits auth.Limits
	if opts.limits != nil {
		limits, limiter = *opts.limits, opts.limiter
		if limiter == nil {
			limiter = inmem.NewRateLimiter(clk.Now)
		}
	}
	var email auth.Email
	if opts.email != nil {
		email = *opts.email
		email.Tokens = users.EmailTokens(db.EmailTokens())
	}
	svc := auth.New(auth.Deps{
		Users:       users,
		Sessions:    sessions,
		Revocations: revocations,
		Hasher:      pwhash.New(params),
		Policy:      pwhash.Policy{MinLength: opts.minLength, MinStrength: opts.minStrength},
		Tokens:      tm,
		RefreshKey:  []byte("refresh-key-for-tests-only-32byt"),
		Lifetimes:   auth.Lifetimes{Refresh: 30 * 24 * time.Hour, Session: 90 * 24 * time.Hour, Grace: grace},
		Now:         clk.Now,
		Limiter:     limiter,
		Limits:      limits,
		Audit:       db.Audit(),
		MFA:         db.MFA(),
		MFAKey:      []byte("mfa-key-for-tests-only-32-bytes!"),
		TOTPIssuer:  "Gatehouse Test",
		Email:       email,
	})
	if opts.email != nil {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.RunMail(ctx); close(done) }()
		tb.Cleanup(func() { stop(); <-done })
	}
	var fed *auth.Federation
	if opts.upstreams != nil {
		fed = auth.NewFederation(svc, auth.FederationDeps{
			Identities: db.Identities(), Upstreams: opts.upstreams(clk.Now), RedirectURIs: opts.redirectURIs,
			Labels: map[string]string{"corp": "Corp SSO"},
		})
	}
	shutdown := make(chan struct{})
	tb.Cleanup(func() { close(shutdown) })
	h := NewServer(Deps{
		Auth:           svc,
		Admin:          auth.NewAdminAPI(svc, users),
		Federation:     fed,
		Catalog:        i18n.New(opts.locale),
		Ready:          map[string]gatehouse.Pinger{"database": db},
		MaxBodyBytes:   opts.maxBody,
		Keys:           keys,
		Issuer:         testIssuer,
		FeedClients:    map[string]string{feedClientID: feedClientSecret},
		Shutdown:       shutdown,
		TrustedProxies: opts.trusted,
		ProxyHeader:    opts.proxyHeader,
	})
	return &testEnv{identities: db.Identities(), audit: db.Audit(), handler: h, users: users, sessions: sessions, revocations: revocations, tokens: tm, keys: keys, clock: clk, oas: openAPIValidator(tb), mfa: db.MFA(), svc: svc}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r response) code(tb testing.TB) string {
	tb.Helper()
	c, _ := r.json(tb)["code"].(string)
	return c
}

// do sends req through the whole handler stack and checks the response
// against the OpenAPI document, so every response a test sees is documented.
func (e *testEnv) do(tb testing.TB, req *http.Request) response {
	tb.Helper()
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if res.status >= 500 {
		tb.Errorf("%s %s answered %d: %s", req.Method, req.URL.Path, res.status, res.body)
	}
	if res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed {
		// Unknown paths and methods are, by definition, not in the document;
		// their body must still be the one error shape.
		var body struct{ Detail, Code string }
		if err := json.Unmarshal(res.body, &body); err != nil || body.Detail == "" || body.Code == "" {
			tb.Errorf("%s %s → %d: body %q is not {detail, code}", req.Method, req.URL.Path, res.status, res.body)
		}
		return res
	}
	e.oas.ValidateResponse(tb, req.Method, req.URL.Path, res.status, res.header, res.body)
	return res
}

func jsonRequest(method, path string, body any) *http.Request {
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func formRequest(path string, values url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func bearerRequest(path, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func (e *testEnv) register(tb testing.TB, username, email, password string) response {
	tb.Helper()
	return e.do(tb, jsonRequest(http.MethodPost, "/auth/register", map[string]string{"username": username, "email": email, "password": password}))
}

func (e *testEnv) login(tb testing.TB, username, password string) response {
	tb.Helper()
	return e.do(tb, formRequest("/auth/login", url.Values{"username": {username}, "password": {password}}))
}

func (e *testEnv) token(tb testing.TB, username, email, password string) string {
	tb.Helper()
	if r := e.register(tb, username, email, password); r.status != http.StatusCreated {
		tb.Fatalf("register %s: %d %s", username, r.status, r.body)
	}
	r := e.login(tb, username, password)
	if r.status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	return r.json(tb)["access_token"].(string)
}

func readAll(tb testing.TB, r io.Reader) string {
	tb.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func newMultipartLogin(tb testing.TB, username, password string) *http.Request {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("username", username)
	mw.WriteField("password", password)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/auth/login", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}
