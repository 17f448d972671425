package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/web/openapi"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

const goodPassword = "correct horse battery staple"

func TestRegister(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	r := e.register(t, "Alice", "Alice@Example.com", goodPassword)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	body := r.json(t)
	if body["username"] != "Alice" || body["email"] != "Alice@Example.com" || body["is_active"] != true {
		t.Errorf("body = %s", r.body)
	}
	if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), goodPassword) {
		t.Errorf("response leaks the password or its hash: %s", r.body)
	}

	dupes := []struct {
		name, username, email, code string
	}{
		{"same username", "Alice", "other1@example.com", gatehouse.CodeUsernameTaken},
		{"username differing in case", "alice", "other2@example.com", gatehouse.CodeUsernameTaken},
		{"username in fullwidth letters", "Ａｌｉｃｅ", "other3@example.com", gatehouse.CodeUsernameTaken},
		{"email differing in case", "bob", "alice@example.COM", gatehouse.CodeEmailTaken},
	}
	for _, tt := range dupes {
		t.Run(tt.name, func(t *testing.T) {
			r := e.register(t, tt.username, tt.email, goodPassword)
			if r.status != http.StatusBadRequest || r.code(t) != tt.code {
				t.Errorf("got %d %s, want 400 %s", r.status, r.body, tt.code)
			}
		})
	}
}

func TestRegisterTakenInKorean(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "철수", "cs@example.com", goodPassword)
	req := jsonRequest(http.MethodPost, "/auth/register", map[string]string{"username": "철수", "email": "x@example.com", "password": goodPassword})
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9")
	r := e.do(t, req)
	if d := r.json(t)["detail"]; d != "이미 사용 중인 사용자명입니다" {
		t.Errorf("detail = %v", d)
	}
}

func TestRegisterValidation(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "someone", "someone@example.com", goodPassword)
	tests := []struct {
		name     string
		body     map[string]any
		loc      string
		wantType string
	}{
		{"empty username (registers in the tutorial)", map[string]any{"username": "", "email": "a@example.com", "password": goodPassword}, "username", "missing"},
		{"missing username", map[string]any{"email": "a@example.com", "password": goodPassword}, "username", "missing"},
		{"null username", map[string]any{"username": nil, "email": "a@example.com", "password": goodPassword}, "username", "missing"},
		{"numeric username", map[string]any{"username": 12, "email": "a@example.com", "password": goodPassword}, "username", "string_type"},
		{"surrounding space", map[string]any{"username": " bob", "email": "a@example.com", "password": goodPassword}, "username", "username_disallowed"},
		{"inner space", map[string]any{"username": "bo b", "email": "a@example.com", "password": goodPassword}, "username", "username_disallowed"},
		{"zero-width space", map[string]any{"username": "bo\u200bb", "email": "a@example.com", "password": goodPassword}, "username", "username_disallowed"},
		{"zero-width joiner", map[string]any{"username": "bo\u200db", "email": "a@example.com", "password": goodPassword}, "username", "username_disallowed"},
		{"control character", map[string]any{"username": "bo\x01b", "email": "a@example.com", "password": goodPassword}, "username", "username_disallowed"},
		{"Cyrillic a in a Latin name", map[string]any{"username": "p\u0430ypal", "email": "a@example.com", "password": goodPassword}, "username", "username_mixed_script"},
		{"Greek omicron in a Latin name", map[string]any{"username": "g\u03bfogle", "email": "a@example.com", "password": goodPassword}, "username", "username_mixed_script"},
		{"at sign", map[string]any{"username": "bob@home", "email": "a@example.com", "password": goodPassword}, "username", "username_invalid"},
		{"too long", map[string]any{"username": strings.Repeat("a", 65), "email": "a@example.com", "password": goodPassword}, "username", "username_length"},
		{"bad email", map[string]any{"username": "bob", "email": "not-an-email", "password": goodPassword}, "email", "email_invalid"},
		{"email with display name", map[string]any{"username": "bob", "email": "Bob <bob@example.com>", "password": goodPassword}, "email", "email_invalid"},
		{"email without dotted domain", map[string]any{"username": "bob", "email": "bob@localhost", "password": goodPassword}, "email", "email_invalid"},
		{"short password", map[string]any{"username": "bob", "email": "a@example.com", "password": "short"}, "password", "password_too_short"},
		{"password over 1024 bytes", map[string]any{"username": "bob", "email": "a@example.com", "password": strings.Repeat("x", 1025)}, "password", "password_too_long"},
		{"NUL byte in password (500 in the tutorial)", map[string]any{"username": "bob", "email": "a@example.com", "password": "abc\x00defghijk"}, "password", "password_invalid"},
		{"password equal to username", map[string]any{"username": "bobbybobby", "email": "a@example.com", "password": "bobbybobby"}, "password", "password_matches_identity"},
		{"password equal to email", map[string]any{"username": "bob", "email": "bob@example.com", "password": "bob@example.com"}, "password", "password_matches_identity"},
		{"missing password", map[string]any{"username": "bob", "email": "a@example.com"}, "password", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, jsonRequest(http.MethodPost, "/auth/register", tt.body))
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if !hasProblem(t, r, tt.loc, tt.wantType) {
				t.Errorf("no %s problem at body.%s in %s", tt.wantType, tt.loc, r.body)
			}
		})
	}
}

func hasProblem(tb testing.TB, r response, field, typ string) bool {
	tb.Helper()
	items, _ := r.json(tb)["detail"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		loc := m["loc"].([]any)
		if len(loc) == 2 && loc[1] == field && m["type"] == typ && m["msg"] != "" {
			return true
		}
	}
	return false
}

func TestRegisterAcceptsScripts(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	for i, name := range []string{"김철수", "山田太郎", "やまだ", "Ελένη", "Борис", "josé.garcía", "user_1-a", "철수kim"} {
		t.Run(name, func(t *testing.T) {
			r := e.register(t, name, fmt.Sprintf("u%d@example.com", i), goodPassword)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.json(t)["username"]; got != name {
				t.Errorf("username = %v", got)
			}
			if r := e.login(t, name, goodPassword); r.status != http.StatusOK {
				t.Errorf("login: %d %s", r.status, r.body)
			}
		})
	}
}

func TestRegisterBadBodies(t *testing.T) {
	e := newTestEnv(t, envOptions{maxBody: 4096})
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"not JSON", "application/json", "{", 422, gatehouse.CodeValidation},
		{"JSON array", "application/json", "[]", 422, gatehouse.CodeValidation},
		{"JSON null", "application/json", "null", 422, gatehouse.CodeValidation},
		{"two objects", "application/json", `{"username":"a"}{"x":1}`, 422, gatehouse.CodeValidation},
		{"form instead of JSON", "application/x-www-form-urlencoded", "username=a", 415, gatehouse.CodeUnsupportedMediaType},
		{"no content type", "", `{"username":"a"}`, 415, gatehouse.CodeUnsupportedMediaType},
		{"oversized", "application/json", `{"username":"` + strings.Repeat("a", 5000) + `"}`, 413, gatehouse.CodePayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/auth/register", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			r := e.do(t, req)
			if r.status != tt.status || r.code(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
	t.Run("oversized without Content-Length", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/auth/register", strings.NewReader(strings.Repeat(" ", 5000)+"{}"))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		if r := e.do(t, req); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("got %d %s", r.status, r.body)
		}
	})
}

// The tutorial checks, then inserts: 20 concurrent registrations of one name
// give it 500s. Here the unique constraint decides: one 201, the rest 400.
func TestConcurrentDuplicateRegistration(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := jsonRequest(http.MethodPost, "/auth/register", map[string]string{
				"username": "racer", "email": fmt.Sprintf("racer%d@example.com", i), "password": goodPassword,
			})
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			statuses[i] = rec.Code
		})
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if created != 1 {
		t.Errorf("%d registrations succeeded, want exactly 1 (statuses %v)", created, statuses)
	}
}

func TestLogin(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "Carol", "carol@example.com", goodPassword)
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"form", formRequest("/auth/login", url.Values{"username": {"Carol"}, "password": {goodPassword}})},
		{"form with grant_type and scope", formRequest("/auth/login", url.Values{"grant_type": {"password"}, "scope": {""}, "username": {"carol"}, "password": {goodPassword}})},
		{"email as username", formRequest("/auth/login", url.Values{"username": {"CAROL@example.com"}, "password": {goodPassword}})},
		{"JSON body", jsonRequest(http.MethodPost, "/auth/login", map[string]string{"username": "carol", "password": goodPassword})},
		{"multipart form", newMultipartLogin(t, "carol", goodPassword)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			body := r.json(t)
			if body["token_type"] != "bearer" || body["expires_in"] != float64(1800) {
				t.Errorf("body = %s", r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
			me := e.do(t, bearerRequest("/users/me", body["access_token"].(string)))
			if me.status != http.StatusOK || me.json(t)["username"] != "Carol" {
				t.Errorf("/users/me: %d %s", me.status, me.body)
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "dave", "dave@example.com", goodPassword)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"wrong password", formRequest("/auth/login", url.Values{"username": {"dave"}, "password": {"wrong password!"}}), 401, gatehouse.CodeInvalidCredentials},
		{"unknown user", formRequest("/auth/login", url.Values{"username": {"nobody"}, "password": {"wrong password!"}}), 401, gatehouse.CodeInvalidCredentials},
		{"unknown email", formRequest("/auth/login", url.Values{"username": {"nobody@example.com"}, "password": {"wrong password!"}}), 401, gatehouse.CodeInvalidCredentials},
		{"unnormalisable username", formRequest("/auth/login", url.Values{"username": {"da\u200bve"}, "password": {goodPassword}}), 401, gatehouse.CodeInvalidCredentials},
		{"NUL in password", formRequest("/auth/login", url.Values{"username": {"dave"}, "password": {"a\x00b"}}), 401, gatehouse.CodeInvalidCredentials},
		{"missing password", formRequest("/auth/login", url.Values{"username": {"dave"}}), 422, gatehouse.CodeValidation},
		{"missing everything", formRequest("/auth/login", url.Values{}), 422, gatehouse.CodeValidation},
		{"other grant type", formRequest("/auth/login", url.Values{"grant_type": {"client_credentials"}, "username": {"dave"}, "password": {goodPassword}}), 422, gatehouse.CodeValidation},
		{"password over the length bound", formRequest("/auth/login", url.Values{"username": {"dave"}, "password": {strings.Repeat("p", 1025)}}), 422, gatehouse.CodeValidation},
		{"text/plain body", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader("username=dave"))
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), 415, gatehouse.CodeUnsupportedMediaType},
		{"bad percent-encoding", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/login", strings.NewReader("username=%zz&password=x"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 422, gatehouse.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != tt.status || r.code(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// Unknown user and wrong password must be indistinguishable: same status,
// same body, and about the same time (a dummy hash is verified).
func TestLoginEnumerationResistance(t *testing.T) {
	// Production parameters, so that the hash dominates and scheduling noise
	// on a shared machine does not.
	e := newTestEnv(t, envOptions{hashParams: &pwhash.DefaultParams})
	e.register(t, "erin", "erin@example.com", goodPassword)
	wrong := e.login(t, "erin", "not the password")
	unknown := e.login(t, "nobody-here", "not the password")
	if wrong.status != unknown.status || string(wrong.body) != string(unknown.body) ||
		wrong.header.Get("WWW-Authenticate") != unknown.header.Get("WWW-Authenticate") {
		t.Errorf("wrong password: %d %s; unknown user: %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	// Timing: compare medians over a few tries; the bound is loose because
	// the machine is shared, but a missing dummy hash is orders of magnitude off.
	// Interleaved, so that a burst of load elsewhere hits both alike.
	var knownDs, unknownDs []time.Duration
	for range 7 {
		for _, user := range []string{"erin", "nobody-here"} {
			start := time.Now()
			e.login(t, user, "not the password")
			if user == "erin" {
				knownDs = append(knownDs, time.Since(start))
			} else {
				unknownDs = append(unknownDs, time.Since(start))
			}
		}
	}
	slices.Sort(knownDs)
	slices.Sort(unknownDs)
	known, unknownD := knownDs[3], unknownDs[3]
	// Without the dummy hash the unknown user answers hundreds of times faster;
	// 5× leaves room for a shared, loaded machine.
	if unknownD*5 < known || known*5 < unknownD {
		t.Errorf("median login time: existing user %v, unknown user %v", known, unknownD)
	}
}

// Users imported from the tutorial's database carry passlib bcrypt hashes.
// They log in with their old password and are upgraded to argon2id.
func TestBcryptRehashOnLogin(t *testing.T) {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			e := newTestEnv(t, envOptions{})
			hash, err := bcrypt.GenerateFromPassword([]byte("TutorialPass123"), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			u := &gatehouse.User{Username: "legacy", UsernameKey: "legacy", Email: "legacy@example.com", EmailKey: "legacy@example.com",
				PasswordHash: prefix + string(hash[4:]), IsActive: true}
			if err := e.users.CreateUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			if r := e.login(t, "legacy", "wrong"); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", r.status)
			}
			if r := e.login(t, "legacy", "TutorialPass123"); r.status != http.StatusOK {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			got, err := e.users.UserByID(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
				t.Errorf("hash not upgraded: %.10s…", got.PasswordHash)
			}
			if r := e.login(t, "legacy", "TutorialPass123"); r.status != http.StatusOK {
				t.Errorf("login after rehash: %d %s", r.status, r.body)
			}
		})
	}
}

// bcrypt reads only 72 bytes; the tutorial therefore accepts any password
// that shares the first 72 bytes. Gatehouse must not, for new (argon2id) and
// imported (bcrypt) accounts alike.
func TestNoTruncationAt72Bytes(t *testing.T) {
	prefix := strings.Repeat("a", 72)
	real, forged := prefix+"-the-real-tail", prefix+"-another-tail"

	t.Run("argon2id account", func(t *testing.T) {
		e := newTestEnv(t, envOptions{})
		if r := e.register(t, "long", "long@example.com", real); r.status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		if r := e.login(t, "long", forged); r.status != http.StatusUnauthorized {
			t.Errorf("password differing after byte 72 logged in: %d", r.status)
		}
		if r := e.login(t, "long", real); r.status != http.StatusOK {
			t.Errorf("real password: %d", r.status)
		}
	})
	t.Run("imported bcrypt account", func(t *testing.T) {
		e := newTestEnv(t, envOptions{})
		// passlib silently hashes only the first 72 bytes of a longer password.
		hash, _ := bcrypt.GenerateFromPassword([]byte(prefix), bcrypt.MinCost)
		u := &gatehouse.User{Username: "long", UsernameKey: "long", Email: "l@example.com", EmailKey: "l@example.com", PasswordHash: string(hash), IsActive: true}
		if err := e.users.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if r := e.login(t, "long", forged); r.status != http.StatusUnauthorized {
			t.Errorf("password differing after byte 72 logged in: %d", r.status)
		}
	})
}

func TestProtectedEndpoints(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	token := e.token(t, "frank", "frank@example.com", goodPassword)

	t.Run("me", func(t *testing.T) {
		r := e.do(t, bearerRequest("/users/me", token))
		if r.status != http.StatusOK || r.json(t)["email"] != "frank@example.com" {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("items", func(t *testing.T) {
		r := e.do(t, bearerRequest("/users/me/items", token))
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"owner":"frank"`) {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("lower-case scheme", func(t *testing.T) {
		req := bearerRequest("/users/me", "")
		req.Header.Set("Authorization", "bearer "+token)
		if r := e.do(t, req); r.status != http.StatusOK {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

// Every token attack named in the core issue, over HTTP: each gets 401 with a
// Bearer challenge.
func TestTokenAttacks(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	token := e.token(t, "grace", "grace@example.com", goodPassword)
	me := e.do(t, bearerRequest("/users/me", token)).json(t)
	id := fmt.Sprint(me["id"])
	now := e.clock.Now()
	// Forged tokens copy everything of a real one (kid, typ, iss, sid) but the
	// one property each case attacks.
	real := claimsOf(t, token)
	var realHeader map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	json.Unmarshal(hb, &realHeader)
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": id, "username": "grace", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti": "j", "sid": real["sid"], "iss": real["iss"]}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims, hdr map[string]any) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"], tok.Header["typ"] = realHeader["kid"], realHeader["typ"]
		for k, v := range hdr {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	parts := strings.Split(token, ".")

	tests := []struct {
		name   string
		header string
		noAuth bool // the challenge carries no error attribute (RFC 6750 §3.1)
	}{
		{"no Authorization header", "", true},
		{"Basic scheme", "Basic Z3JhY2U6cGFzcw==", false},
		{"Bearer without token", "Bearer ", false},
		{"Bearer with two tokens", "Bearer " + token + " " + token, false},
		{"garbage token", "Bearer not.a.jwt", false},
		{"alg none", "Bearer " + b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", false},
		{"forged with another secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret!"), claims(nil), nil), false},
		{"HS512 with the real secret", "Bearer " + sign(jwt.SigningMethodHS512, testSecret, claims(nil), nil), false},
		{"no exp", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil), false},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), nil), false},
		{"not yet valid", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), nil), false},
		{"integer sub, as the tutorial issues", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sub"] = me["id"] }), nil), false},
		{"sub of no user", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sub"] = "999999" }), nil), false},
		{"sub not a number", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["sub"] = "grace" }), nil), false},
		{"crit header", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(nil), map[string]any{"crit": []string{"x"}}), false},
		{"no typ (a JWT that is not an access token)", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(nil), map[string]any{"typ": "JWT"}), false},
		{"unknown kid", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(nil), map[string]any{"kid": "no-such-key"}), false},
		{"no sid", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "sid") }), nil), false},
		{"other issuer", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), nil), false},
		{"jku header with attacker key", "Bearer " + sign(jwt.SigningMethodHS256, []byte("attacker-secret-attacker-secret!"), claims(nil), map[string]any{"jku": "http://127.0.0.1:1/keys"}), false},
		{"oversized", "Bearer " + parts[0] + "." + strings.Repeat("A", 9000) + "." + parts[2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := bearerRequest("/users/me", "")
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := e.do(t, req)
			if r.status != http.StatusUnauthorized || r.code(t) != gatehouse.CodeInvalidToken {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			challenge := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", challenge)
			}
			if hasErr := strings.Contains(challenge, `error="invalid_token"`); hasErr == tt.noAuth {
				t.Errorf("WWW-Authenticate = %q", challenge)
			}
		})
	}

	t.Run("expires with the clock", func(t *testing.T) {
		e.clock.Add(31 * time.Minute)
		defer e.clock.Add(-31 * time.Minute)
		if r := e.do(t, bearerRequest("/users/me", token)); r.status != http.StatusUnauthorized {
			t.Errorf("expired token: %d", r.status)
		}
	})
}

func TestDeletedAndInactiveUsers(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	ctx := context.Background()
	inactive := e.token(t, "heidi", "heidi@example.com", goodPassword)
	deleted := e.token(t, "ivan", "ivan@example.com", goodPassword)
	heidi, _ := e.users.UserByUsername(ctx, "heidi")
	ivan, _ := e.users.UserByUsername(ctx, "ivan")
	if err := e.users.SetUserActive(ctx, heidi.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.users.DeleteUser(ctx, ivan.ID); err != nil {
		t.Fatal(err)
	}
	t.Run("inactive user gets 400 as in the tutorial", func(t *testing.T) {
		r := e.do(t, bearerRequest("/users/me", inactive))
		if r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInactiveUser {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("inactive user cannot log in", func(t *testing.T) {
		r := e.login(t, "heidi", goodPassword)
		if r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInactiveUser {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("deleted user's token is like any bad token", func(t *testing.T) {
		r := e.do(t, bearerRequest("/users/me", deleted))
		if r.status != http.StatusUnauthorized || r.code(t) != gatehouse.CodeInvalidToken ||
			!strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%d %s %v", r.status, r.body, r.header)
		}
	})
}

func TestMetaEndpoints(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	tests := []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/", 200, "application/json"},
		{"GET", "/healthz", 200, "application/json"},
		{"GET", "/readyz", 200, "application/json"},
		{"GET", "/openapi.json", 200, "application/json"},
		{"GET", "/docs", 200, "text/html"},
		{"GET", "/nope", 404, "application/json"},
		{"GET", "/docs/nope.js", 404, "application/json"},
		{"DELETE", "/users/me", 405, "application/json"},
		{"GET", "/auth/login", 405, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(t, httptest.NewRequest(tt.method, tt.path, nil))
			if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), tt.contentType) {
				t.Errorf("got %d %q: %.200s", r.status, r.header.Get("Content-Type"), r.body)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Request-ID") == "" {
				t.Errorf("missing security headers: %v", r.header)
			}
		})
	}
	t.Run("405 keeps Allow", func(t *testing.T) {
		r := e.do(t, httptest.NewRequest("DELETE", "/users/me", nil))
		if !strings.Contains(r.header.Get("Allow"), "GET") {
			t.Errorf("Allow = %q", r.header.Get("Allow"))
		}
	})
}

type failingPinger struct{}

func (failingPinger) Ping(context.Context) error { return fmt.Errorf("connection refused") }

func TestReadyzReportsDown(t *testing.T) {
	h := NewServer(Deps{Ready: map[string]gatehouse.Pinger{"database": failingPinger{}}, Catalog: i18n.New(i18n.English)})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	openAPIValidator(t).ValidateResponse(t, "GET", "/readyz", rec.Code, rec.Header(), rec.Body.Bytes())
}

// The route table and the OpenAPI document must describe the same API.
func TestRoutesMatchOpenAPI(t *testing.T) {
	var got []string
	for _, rt := range routes(Deps{}, &responder{}) {
		if rt.pattern == pagesPrefix {
			continue // the hosted pages are documents, not API operations
		}
		got = append(got, strings.Replace(rt.pattern, "{$}", "", 1))
	}
	slices.Sort(got)
	want := openapi.Operations()
	if !slices.Equal(got, want) {
		t.Errorf("routes %v\nOpenAPI %v", got, want)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	out := &responder{catalog: i18n.New(i18n.English), log: slog.New(slog.DiscardHandler)}
	p := recoverPanics(out)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret detail") }))
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
