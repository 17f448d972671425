package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

const password = "correct horse battery staple"

func TestSignUpSignInSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)

	if p := b.get("/ui/"); p.status != http.StatusSeeOther || p.location() != "/ui/signin" {
		t.Fatalf("/ui/ signed out: %d %s", p.status, p.location())
	}
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/signin") {
		t.Fatalf("account signed out: %d %s", p.status, p.location())
	}
	b.signUp("alice", password)
	if p := b.get("/ui/signin?m=registered"); !strings.Contains(p.body, "Your account has been created") {
		t.Errorf("no notice after sign-up:\n%s", p.body)
	}
	b.signIn("alice", password)
	p := b.get("/ui/account")
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="profile-username">alice<`) || !strings.Contains(p.body, "alice@example.com") {
		t.Fatalf("account: %d\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, "This session") {
		t.Error("the account page does not mark the current session")
	}
	if p := b.get("/ui/signin"); p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Errorf("sign-in page when signed in: %d %s", p.status, p.location())
	}

	out := b.submit("/ui/account", "/ui/signout", nil)
	if out.status != http.StatusSeeOther || out.location() != "/ui/signin?m=signed_out" {
		t.Fatalf("sign-out: %d %s", out.status, out.location())
	}
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("account after sign-out: %d", p.status)
	}
}

// The cookie session is an ordinary server-side session: revoking it
// through the API signs the browser out, and revoking an API session on the
// page kills its access token.
func TestSessionSharedWithAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("bob", password)
	b.signIn("bob", password)

	api := e.apiLogin(t, "bob", password)
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusOK {
		t.Fatalf("/users/me: %d", status)
	}
	// The page lists the API session and revokes it.
	_, list := e.api(t, "GET", "/users/me/sessions", "", "", api)
	sessions := list["sessions"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("sessions = %v", sessions)
	}
	var apiSession, pageSession string
	for _, s := range sessions {
		s := s.(map[string]any)
		if s["current"].(bool) {
			apiSession = s["id"].(string)
		} else {
			pageSession = s["id"].(string)
		}
	}
	acct := b.get("/ui/account")
	if !strings.Contains(acct.body, `data-session="`+apiSession+`"`) || !strings.Contains(acct.body, `/ui/account/sessions/`+apiSession+`/revoke`) {
		t.Fatalf("the account page does not offer to revoke the API session:\n%s", acct.body)
	}
	if strings.Contains(acct.body, `/ui/account/sessions/`+pageSession+`/revoke`) {
		t.Error("the account page offers to revoke its own session")
	}
	p := b.post("/ui/account/sessions/"+apiSession+"/revoke", url.Values{"csrf_token": {acct.csrf(t)}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=session_revoked" {
		t.Fatalf("revoke: %d %s\n%s", p.status, p.location(), p.body)
	}
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusUnauthorized {
		t.Errorf("/users/me with the revoked session's token: %d, want 401", status)
	}
	// Revoking someone else's session, or one already gone, is a 404 page.
	p = b.post("/ui/account/sessions/"+apiSession+"/revoke", url.Values{"csrf_token": {acct.csrf(t)}})
	if p.status != http.StatusNotFound || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
		t.Errorf("revoke again: %d %s", p.status, p.header.Get("Content-Type"))
	}

	// And the other way round: the API revokes the page's session.
	api = e.apiLogin(t, "bob", password)
	if status, _ := e.api(t, "DELETE", "/users/me/sessions/"+pageSession, "", "", api); status != http.StatusNoContent {
		t.Fatalf("API revoke of the page session: %d", status)
	}
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/signin") {
		t.Errorf("account after the API revoked the page's session: %d %s", p.status, p.location())
	}
}

// An expired access token is refreshed with the cookie's refresh token, as
// an API client would; once the session itself has ended the browser is
// signed out.
func TestSessionRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("carol", password)
	b.signIn("carol", password)

	e.clock.Add(45 * time.Minute) // past the 30-minute access token
	p := b.get("/ui/account")
	if p.status != http.StatusOK {
		t.Fatalf("account after the access token expired: %d %s", p.status, p.location())
	}
	if !strings.Contains(strings.Join(p.header.Values("Set-Cookie"), "\n"), "gatehouse_session=") {
		t.Error("the refreshed tokens were not stored")
	}
	if p := b.get("/ui/account"); p.status != http.StatusOK {
		t.Fatalf("account with the refreshed tokens: %d", p.status)
	}
	e.clock.Add(25 * time.Hour) // past the refresh lifetime
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("account after the session expired: %d", p.status)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("dave", password)
	b.signIn("dave", password)
	api := e.apiLogin(t, "dave", password)

	const next = "a different long passphrase"
	p := b.submit("/ui/account", "/ui/account/password", url.Values{"current_password": {"wrong password"}, "new_password": {next}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "The current password is wrong") {
		t.Errorf("wrong current password: %d\n%s", p.status, p.body)
	}
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"current_password": {password}, "new_password": {"short"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `aria-invalid="true"`) ||
		!strings.Contains(p.body, `id="e-new_password"`) {
		t.Errorf("weak new password: %d\n%s", p.status, p.body)
	}
	p = b.submit("/ui/account", "/ui/account/password", url.Values{"current_password": {password}, "new_password": {next}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/account?m=password_changed" {
		t.Fatalf("change: %d %s\n%s", p.status, p.location(), p.body)
	}
	if p := b.get("/ui/account?m=password_changed"); p.status != http.StatusOK || !strings.Contains(p.body, "Your password has been changed") {
		t.Errorf("the page session did not survive its own password change: %d", p.status)
	}
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusUnauthorized {
		t.Errorf("other session after the password change: %d, want 401", status)
	}
	e.apiLogin(t, "dave", next)
}

// Every form refuses a post that did not come from a page of this server
// for this browser: no state changes, a 403 page.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	victim := e.browser(t)
	victim.signUp("erin", password)
	victim.signIn("erin", password)
	acct := victim.get("/ui/account")
	token := acct.csrf(t)
	attacker := e.browser(t)
	attacker.signUp("mallory", password)
	attacker.signIn("mallory", password)
	attackerToken := attacker.get("/ui/account").csrf(t)
	anon := e.browser(t)
	anonToken := anon.get("/ui/signin").csrf(t)

	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	tests := []struct {
		name   string
		b      *browser
		path   string
		form   url.Values
		header http.Header
	}{
		{"password change without token", victim, "/ui/account/password", url.Values{"current_password": {password}, "new_password": {"hijacked passphrase 1"}}, nil},
		{"password change with another session's token", victim, "/ui/account/password", url.Values{"csrf_token": {attackerToken}, "current_password": {password}, "new_password": {"hijacked passphrase 1"}}, nil},
		{"password change from another site", victim, "/ui/account/password", url.Values{"csrf_token": {token}, "current_password": {password}, "new_password": {"hijacked passphrase 1"}}, crossSite},
		{"sign-out without token", victim, "/ui/signout", url.Values{}, nil},
		{"sign-out everywhere from another site", victim, "/ui/signout", url.Values{"csrf_token": {token}, "all": {"1"}}, crossSite},
		{"revoke with a pre-session token", victim, "/ui/account/sessions/x/revoke", url.Values{"csrf_token": {anonToken}}, nil},
		{"login CSRF: sign-in without token", anon, "/ui/signin", url.Values{"username": {"mallory"}, "password": {password}}, nil},
		{"login CSRF: sign-in with a session token", anon, "/ui/signin", url.Values{"csrf_token": {token}, "username": {"mallory"}, "password": {password}}, nil},
		{"login CSRF: sign-in from another site", anon, "/ui/signin", url.Values{"csrf_token": {anonToken}, "username": {"mallory"}, "password": {password}}, crossSite},
		{"sign-up without token", anon, "/ui/signup", url.Values{"username": {"zed"}, "email": {"zed@example.com"}, "password": {password}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.b.do("POST", tt.path, tt.form, tt.header)
			if p.status != http.StatusForbidden || !strings.Contains(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.body, "did not come from this site") {
				t.Errorf("%d %s\n%s", p.status, p.header.Get("Content-Type"), p.body)
			}
		})
	}
	// Nothing changed: the victim is signed in with the old password, the
	// attacker's account did not get the anonymous browser, zed does not exist.
	if p := victim.get("/ui/account"); p.status != http.StatusOK {
		t.Errorf("the victim was signed out: %d", p.status)
	}
	e.apiLogin(t, "erin", password)
	if p := anon.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("the anonymous browser was signed in: %d", p.status)
	}
	if status, _ := e.api(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=zed&password=x", ""); status != http.StatusUnauthorized {
		t.Errorf("zed login: %d", status)
	}
}

func TestRedirectURI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{redirects: []string{testRedirectOrigin}})
	b := e.browser(t)
	b.signUp("frank", password)

	for _, bad := range []string{
		"https://evil.example/",
		"https://app.example.evil.example/",
		"http://app.example/", // another scheme is another origin
		"//evil.example/",
		"/ui/account",
		"javascript:alert(1)",
		"https://frank@app.example/",
		"https://app.example\\@evil.example/",
	} {
		t.Run(bad, func(t *testing.T) {
			p := b.get("/ui/signin?redirect_uri=" + url.QueryEscape(bad))
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "is not allowed") || strings.Contains(p.body, `name="redirect_uri"`) {
				t.Errorf("GET: %d\n%s", p.status, p.body)
			}
			p = b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"frank"}, "password": {password}, "redirect_uri": {bad}})
			if p.status != http.StatusBadRequest || p.location() != "" {
				t.Errorf("POST: %d %s", p.status, p.location())
			}
		})
	}
	const target = testRedirectOrigin + "/welcome?x=1"
	p := b.get("/ui/signin?redirect_uri=" + url.QueryEscape(target))
	if p.status != http.StatusOK || !strings.Contains(p.body, "you will return to https://app.example") {
		t.Fatalf("allowed redirect_uri: %d\n%s", p.status, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example") {
		t.Errorf("CSP %q does not let the sign-in redirect to the allowed origin", csp)
	}
	p = b.post("/ui/signin", url.Values{"csrf_token": {p.csrf(t)}, "username": {"frank"}, "password": {password}, "redirect_uri": {target}})
	if p.status != http.StatusSeeOther || p.location() != target {
		t.Fatalf("sign-in with redirect_uri: %d %q", p.status, p.location())
	}
	if p := b.get("/ui/signin?redirect_uri=" + url.QueryEscape(target)); p.status != http.StatusSeeOther || p.location() != target {
		t.Errorf("signed in, sign-in page with redirect_uri: %d %q", p.status, p.location())
	}
}

// Failures are pages with a message and a 4xx status, in the browser's
// language.
func TestErrorPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{maxBody: 4096})
	b := e.browser(t)
	b.signUp("grace", password)
	ko := e.browser(t)
	ko.header.Set("Accept-Language", "ko-KR,ko;q=0.9")

	tests := []struct {
		name   string
		run    func() page
		status int
		want   []string
	}{
		{"wrong password", func() page {
			return b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"grace"}, "password": {"wrong password"}})
		}, http.StatusUnauthorized, []string{"Incorrect username or password", `value="grace"`}},
		{"unknown user", func() page {
			return b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"nobody"}, "password": {"wrong password"}})
		}, http.StatusUnauthorized, []string{"Incorrect username or password"}},
		{"empty sign-in", func() page { return b.submit("/ui/signin", "/ui/signin", nil) }, http.StatusUnprocessableEntity,
			[]string{"Please correct the following", `id="e-username"`, `id="e-password"`}},
		{"sign-up problems", func() page {
			return b.submit("/ui/signup", "/ui/signup", url.Values{"username": {"a b"}, "email": {"not-an-email"}, "password": {"short"}})
		}, http.StatusUnprocessableEntity, []string{`aria-invalid="true"`, `aria-describedby="h-password e-password"`,
			"value is not a valid email address", `value="not-an-email"`}},
		{"username taken", func() page {
			return b.submit("/ui/signup", "/ui/signup", url.Values{"username": {"Grace"}, "email": {"g2@example.com"}, "password": {password}})
		}, http.StatusBadRequest, []string{"Username already registered"}},
		{"korean", func() page {
			return ko.submit("/ui/signin", "/ui/signin", url.Values{"username": {"grace"}, "password": {"wrong password"}})
		}, http.StatusUnauthorized, []string{`<html lang="ko">`, "잘못된 사용자명 또는 비밀번호입니다", "로그인"}},
		{"body too large", func() page {
			return b.submit("/ui/signin", "/ui/signin", url.Values{"username": {strings.Repeat("x", 5000)}})
		}, http.StatusRequestEntityTooLarge, []string{"Request body too large"}},
		{"malformed form", func() page {
			return b.do("POST", "/ui/signin", nil, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, http.StatusForbidden, nil},
		{"unknown page", func() page { return b.get("/ui/nope") }, http.StatusNotFound, []string{"There is no such page"}},
		{"wrong method", func() page { return b.do("PUT", "/ui/signin", nil, nil) }, http.StatusMethodNotAllowed, []string{"Method Not Allowed"}},
		{"GET of a form's action", func() page { return b.get("/ui/account/password") }, http.StatusMethodNotAllowed, nil},
		{"unknown static file", func() page { return b.get("/ui/static/nope.css") }, http.StatusNotFound, []string{"There is no such page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.run()
			if p.status != tt.status || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
				t.Errorf("%d %s, want %d text/html\n%s", p.status, p.header.Get("Content-Type"), tt.status, p.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q:\n%s", w, p.body)
				}
			}
			if strings.Contains(p.body, password) || strings.Contains(p.body, "wrong password") {
				t.Error("the page shows a password")
			}
		})
	}
}

// The pages share the API's rate limits: page sign-ins spend the same
// budget as API logins.
func TestRateLimitShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{limits: &auth.Limits{LoginAccount: gatehouse.Limit{N: 2, Per: time.Hour}}})
	b := e.browser(t)
	b.signUp("heidi", password)
	for range 2 {
		e.api(t, "POST", "/auth/login", "application/x-www-form-urlencoded", "username=heidi&password=wrong-password", "")
	}
	p := b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"heidi"}, "password": {password}})
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many attempts") {
		t.Errorf("%d Retry-After=%q\n%s", p.status, p.header.Get("Retry-After"), p.body)
	}
}

type busyGate struct{}

func (busyGate) Acquire(context.Context) (func(), error) {
	return nil, &gatehouse.Error{Code: gatehouse.CodeOverloaded}
}

// Forms that hash a password wait for the API's hashing gate.
func TestHashGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{gate: busyGate{}})
	b := e.browser(t)
	p := b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"ivan"}, "password": {password}})
	if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") != "1" || !strings.Contains(p.body, "The server is busy") {
		t.Errorf("%d %q\n%s", p.status, p.header.Get("Retry-After"), p.body)
	}
}

func TestHeadersAndCookies(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{secure: secure})
			b := e.browser(t)
			p := b.get("/ui/signin")
			h := p.header
			for _, want := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(h.Get("Content-Security-Policy"), want) {
					t.Errorf("CSP %q lacks %q", h.Get("Content-Security-Policy"), want)
				}
			}
			if strings.Contains(h.Get("Content-Security-Policy"), "script-src") || strings.Contains(p.body, "<script") {
				t.Error("the pages allow or use script")
			}
			if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("Cache-Control %q, X-Frame-Options %q", h.Get("Cache-Control"), h.Get("X-Frame-Options"))
			}
			// Sign in by hand: a Secure cookie is not sent back over
			// plain HTTP, so read the Set-Cookie headers.
			pre := p.header.Get("Set-Cookie")
			cookies := strings.Join(p.header.Values("Set-Cookie"), "\n")
			e.api(t, "POST", "/auth/register", "application/json", `{"username":"judy","email":"judy@example.com","password":"`+password+`"}`, "")
			req, _ := http.NewRequest("POST", e.srv.URL+"/ui/signin", strings.NewReader(url.Values{
				"csrf_token": {p.csrf(t)}, "username": {"judy"}, "password": {password}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			name, value, _ := strings.Cut(strings.Split(pre, ";")[0], "=")
			req.AddCookie(&http.Cookie{Name: name, Value: value})
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			cookies += "\n" + strings.Join(res.Header.Values("Set-Cookie"), "\n")
			for _, line := range strings.Split(cookies, "\n") {
				if line == "" {
					continue
				}
				for _, want := range []string{"HttpOnly", "SameSite=Lax"} {
					if !strings.Contains(line, want) {
						t.Errorf("cookie %q lacks %s", line, want)
					}
				}
				if secure && (!strings.HasPrefix(line, "__Host-") || !strings.Contains(line, "; Secure") || !strings.Contains(line, "Path=/;")) {
					t.Errorf("cookie %q is not a __Host- cookie", line)
				}
				if !secure && strings.Contains(line, "Secure") {
					t.Errorf("cookie %q is Secure over plain HTTP", line)
				}
			}
			if !strings.Contains(cookies, "gatehouse_session=") {
				t.Errorf("no session cookie set:\n%s", cookies)
			}
		})
	}
}

func TestStylesheet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	p := b.get("/ui/static/gatehouse.css")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") || p.header.Get("ETag") == "" {
		t.Fatalf("%d %s %q", p.status, p.header.Get("Content-Type"), p.header.Get("ETag"))
	}
	if strings.Contains(p.body, "http://") || strings.Contains(p.body, "https://") || strings.Contains(p.body, "@import") {
		t.Error("the stylesheet loads something from elsewhere")
	}
	if again := b.do("GET", "/ui/static/gatehouse.css", nil, http.Header{"If-None-Match": {p.header.Get("ETag")}}); again.status != http.StatusNotModified {
		t.Errorf("revalidation: %d", again.status)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	for path, want := range map[string]string{
		"/ui/signin":                    "GET, HEAD, POST",
		"/ui/account/password":          "POST",
		"/ui/account/sessions/x/revoke": "POST",
	} {
		if p := b.do("DELETE", path, nil, nil); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != want {
			t.Errorf("DELETE %s: %d Allow %q, want 405 %q", path, p.status, p.header.Get("Allow"), want)
		}
	}
}

// A deactivated account is signed out of the pages on its next request.
func TestDeactivatedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser(t)
	b.signUp("kim", password)
	b.signIn("kim", password)
	u, err := e.users.UserByUsername(context.Background(), "kim")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.users.SetUserActive(context.Background(), u.ID, false); err != nil {
		t.Fatal(err)
	}
	p := b.get("/ui/account")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Inactive user") {
		t.Errorf("account of a deactivated user: %d\n%s", p.status, p.body)
	}
	if p := b.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("the deactivated user's cookie was kept: %d", p.status)
	}
	p = b.submit("/ui/signin", "/ui/signin", url.Values{"username": {"kim"}, "password": {password}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Inactive user") {
		t.Errorf("sign-in of a deactivated user: %d\n%s", p.status, p.body)
	}
}
