package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// loginPair logs in and returns the access and refresh tokens.
func (e *testEnv) loginPair(tb testing.TB, username, password string) (access, refresh string) {
	tb.Helper()
	r := e.login(tb, username, password)
	if r.status != http.StatusOK {
		tb.Fatalf("login: %d %s", r.status, r.body)
	}
	body := r.json(tb)
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	if access == "" || refresh == "" {
		tb.Fatalf("login answer lacks tokens: %s", r.body)
	}
	return access, refresh
}

func (e *testEnv) refresh(tb testing.TB, token string) response {
	tb.Helper()
	return e.do(tb, jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": token}))
}

func (e *testEnv) me(tb testing.TB, access string) int {
	tb.Helper()
	return e.do(tb, bearerRequest("/users/me", access)).status
}

func authed(method, path, token string, body any) *http.Request {
	var req *http.Request
	if body != nil {
		req = jsonRequest(method, path, body)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// claimsOf decodes a JWT's payload without verifying it (test inspection only).
func claimsOf(tb testing.TB, token string) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestLoginStartsSession(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "kim", "kim@example.com", goodPassword)
	access, refresh := e.loginPair(t, "kim", goodPassword)
	c := claimsOf(t, access)
	if c["sid"] == "" || c["sid"] == nil || !strings.HasPrefix(refresh, c["sid"].(string)+".") {
		t.Errorf("sid %v, refresh token %q", c["sid"], refresh)
	}
	if c["iss"] != testIssuer {
		t.Errorf("iss = %v", c["iss"])
	}
}

func TestLogoutTakesEffectAtOnce(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "lee", "lee@example.com", goodPassword)
	access, refresh := e.loginPair(t, "lee", goodPassword)
	otherAccess, _ := e.loginPair(t, "lee", goodPassword)
	if e.me(t, access) != http.StatusOK {
		t.Fatal("fresh token refused")
	}
	if r := e.do(t, authed(http.MethodPost, "/auth/logout", access, nil)); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if s := e.me(t, access); s != http.StatusUnauthorized {
		t.Errorf("access token after logout: %d", s)
	}
	if r := e.refresh(t, refresh); r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInvalidGrant {
		t.Errorf("refresh token after logout: %d %s", r.status, r.body)
	}
	if s := e.me(t, otherAccess); s != http.StatusOK {
		t.Errorf("another session died with this one: %d", s)
	}
	// Logging out twice with a dead token is a 401, not a 5xx.
	if r := e.do(t, authed(http.MethodPost, "/auth/logout", access, nil)); r.status != http.StatusUnauthorized {
		t.Errorf("second logout: %d", r.status)
	}
}

func TestLogoutAll(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "moon", "moon@example.com", goodPassword)
	a1, r1 := e.loginPair(t, "moon", goodPassword)
	a2, r2 := e.loginPair(t, "moon", goodPassword)
	if r := e.do(t, authed(http.MethodPost, "/auth/logout?all=true", a1, nil)); r.status != http.StatusNoContent {
		t.Fatalf("logout all: %d %s", r.status, r.body)
	}
	for i, a := range []string{a1, a2} {
		if s := e.me(t, a); s != http.StatusUnauthorized {
			t.Errorf("access token %d after logout all: %d", i, s)
		}
	}
	for i, r := range []string{r1, r2} {
		if res := e.refresh(t, r); res.status != http.StatusBadRequest {
			t.Errorf("refresh token %d after logout all: %d", i, res.status)
		}
	}
	if r := e.do(t, authed(http.MethodPost, "/auth/logout?all=maybe", a1, nil)); r.status != http.StatusUnauthorized {
		t.Errorf("bad all with a dead token: %d", r.status)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "nam", "nam@example.com", goodPassword)
	_, r0 := e.loginPair(t, "nam", goodPassword)

	res := e.refresh(t, r0)
	if res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %s", res.status, res.body)
	}
	body := res.json(t)
	a1, r1 := body["access_token"].(string), body["refresh_token"].(string)
	if r1 == r0 || e.me(t, a1) != http.StatusOK {
		t.Fatalf("rotation gave %q (was %q)", r1, r0)
	}
	r2 := e.refresh(t, r1).json(t)["refresh_token"].(string)
	a3body := e.refresh(t, r2).json(t)
	a3, r3 := a3body["access_token"].(string), a3body["refresh_token"].(string)

	// Past the grace window, an already-rotated token is reuse: the whole
	// session dies, newest refresh token and access tokens included.
	e.clock.Add(11 * time.Second)
	if res := e.refresh(t, r1); res.status != http.StatusBadRequest || res.code(t) != gatehouse.CodeInvalidGrant {
		t.Fatalf("reused token: %d %s", res.status, res.body)
	}
	if res := e.refresh(t, r3); res.status != http.StatusBadRequest {
		t.Errorf("newest refresh token after reuse: %d %s", res.status, res.body)
	}
	if s := e.me(t, a3); s != http.StatusUnauthorized {
		t.Errorf("newest access token after reuse: %d", s)
	}
	if s := e.me(t, a1); s != http.StatusUnauthorized {
		t.Errorf("older access token after reuse: %d", s)
	}
}

func TestRefreshReuseOfOlderGenerationWithinGrace(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "oh", "oh@example.com", goodPassword)
	_, r0 := e.loginPair(t, "oh", goodPassword)
	r1 := e.refresh(t, r0).json(t)["refresh_token"].(string)
	r2 := e.refresh(t, r1).json(t)["refresh_token"].(string)
	// r0 is two generations old: reuse even inside the grace window.
	if res := e.refresh(t, r0); res.status != http.StatusBadRequest {
		t.Fatalf("two generations back: %d %s", res.status, res.body)
	}
	if res := e.refresh(t, r2); res.status != http.StatusBadRequest {
		t.Errorf("session survived reuse: %d", res.status)
	}
}

// An SPA with several tabs refreshes with one token at once: every tab gets
// the same next pair and the session stays one chain.
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "park", "park@example.com", goodPassword)
	_, r0 := e.loginPair(t, "park", goodPassword)
	const tabs = 8
	results := make([]response, tabs)
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": r0}))
			results[i] = response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		})
	}
	wg.Wait()
	refreshTokens := map[string]bool{}
	for i, res := range results {
		if res.status != http.StatusOK {
			t.Fatalf("tab %d: %d %s", i, res.status, res.body)
		}
		body := res.json(t)
		refreshTokens[body["refresh_token"].(string)] = true
		if e.me(t, body["access_token"].(string)) != http.StatusOK {
			t.Errorf("tab %d's access token refused", i)
		}
	}
	if len(refreshTokens) != 1 {
		t.Fatalf("tabs got %d different refresh tokens, want one chain", len(refreshTokens))
	}
	var r1 string
	for r := range refreshTokens {
		r1 = r
	}
	r2 := e.refresh(t, r1)
	if r2.status != http.StatusOK {
		t.Fatalf("the chain's next token: %d %s", r2.status, r2.body)
	}
	// The grace window is over: r0 is now reuse.
	e.clock.Add(11 * time.Second)
	if res := e.refresh(t, r0); res.status != http.StatusBadRequest {
		t.Errorf("r0 after the window: %d", res.status)
	}
}

func TestRefreshRejectsForgeries(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "ryu", "ryu@example.com", goodPassword)
	_, r0 := e.loginPair(t, "ryu", goodPassword)
	parts := strings.Split(r0, ".")
	tests := map[string]string{
		"empty":              "",
		"garbage":            "not-a-token",
		"unknown session":    "AAAAAAAAAAAAAAAAAAAAAAAAAA.0." + parts[2],
		"future generation":  parts[0] + ".5." + parts[2],
		"wrong mac":          parts[0] + ".0." + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
		"negative counter":   parts[0] + ".-1." + parts[2],
		"oversized":          strings.Repeat("A", 10000),
		"access token":       "eyJhbGciOiJIUzI1NiJ9.e30.x",
		"extra segment":      r0 + ".x",
		"non-base64 mac":     parts[0] + ".0.%%%%",
		"whitespace padding": " " + r0 + " ",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			res := e.refresh(t, tok)
			if res.status != http.StatusBadRequest || res.code(t) != gatehouse.CodeInvalidGrant {
				t.Errorf("%d %s", res.status, res.body)
			}
		})
	}
	// A forged token must not have cost the real session anything.
	if res := e.refresh(t, r0); res.status != http.StatusOK {
		t.Errorf("the real token after forgeries: %d %s", res.status, res.body)
	}
}

func TestSessionLifetimes(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "seo", "seo@example.com", goodPassword)
	_, r0 := e.loginPair(t, "seo", goodPassword)
	// Sliding: used every 20 days, the session lives past 30 days...
	tok := r0
	for range 4 {
		e.clock.Add(20 * 24 * time.Hour)
		res := e.refresh(t, tok)
		if res.status != http.StatusOK {
			t.Fatalf("refresh after 20 days: %d %s", res.status, res.body)
		}
		tok = res.json(t)["refresh_token"].(string)
	}
	// ...but not past its absolute cap (90 days).
	e.clock.Add(20 * 24 * time.Hour)
	if res := e.refresh(t, tok); res.status != http.StatusBadRequest {
		t.Errorf("refresh past the absolute cap: %d", res.status)
	}
	// And an idle session dies after 30 days.
	_, idle := e.loginPair(t, "seo", goodPassword)
	e.clock.Add(31 * 24 * time.Hour)
	if res := e.refresh(t, idle); res.status != http.StatusBadRequest {
		t.Errorf("refresh of an idle session: %d", res.status)
	}
}

func TestSessionsListAndRevoke(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "shin", "shin@example.com", goodPassword)
	e.register(t, "song", "song@example.com", goodPassword)
	a1, _ := e.loginPair(t, "shin", goodPassword)
	a2, r2 := e.loginPair(t, "shin", goodPassword)
	stranger, _ := e.loginPair(t, "song", goodPassword)

	res := e.do(t, authed(http.MethodGet, "/users/me/sessions", a1, nil))
	if res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	json.Unmarshal(res.body, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions: %s", res.body)
	}
	sid1, sid2 := claimsOf(t, a1)["sid"].(string), claimsOf(t, a2)["sid"].(string)
	for _, s := range list.Sessions {
		if s.Current != (s.ID == sid1) {
			t.Errorf("current marker wrong: %s", res.body)
		}
	}
	t.Run("someone else's session is not found", func(t *testing.T) {
		if r := e.do(t, authed(http.MethodDelete, "/users/me/sessions/"+sid2, stranger, nil)); r.status != http.StatusNotFound {
			t.Errorf("%d %s", r.status, r.body)
		}
		if e.me(t, a2) != http.StatusOK {
			t.Error("a stranger revoked the session")
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		if r := e.do(t, authed(http.MethodDelete, "/users/me/sessions/nope", a1, nil)); r.status != http.StatusNotFound {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("revoke another of my sessions", func(t *testing.T) {
		if r := e.do(t, authed(http.MethodDelete, "/users/me/sessions/"+sid2, a1, nil)); r.status != http.StatusNoContent {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if s := e.me(t, a2); s != http.StatusUnauthorized {
			t.Errorf("revoked session's access token: %d", s)
		}
		if r := e.refresh(t, r2); r.status != http.StatusBadRequest {
			t.Errorf("revoked session's refresh token: %d", r.status)
		}
		if s := e.me(t, a1); s != http.StatusOK {
			t.Errorf("own session: %d", s)
		}
	})
}

func TestChangePassword(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "tae", "tae@example.com", goodPassword)
	current, currentRefresh := e.loginPair(t, "tae", goodPassword)
	other, otherRefresh := e.loginPair(t, "tae", goodPassword)
	newPassword := "a brand new passphrase, long enough"

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"wrong current password", map[string]any{"current_password": "nope nope nope", "new_password": newPassword}, 400, gatehouse.CodeWrongPassword},
		{"too short a new password", map[string]any{"current_password": goodPassword, "new_password": "abc"}, 422, gatehouse.CodeValidation},
		{"new password equal to the username", map[string]any{"current_password": goodPassword, "new_password": "tae@example.com"}, 422, gatehouse.CodeValidation},
		{"missing field", map[string]any{"current_password": goodPassword}, 422, gatehouse.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, authed(http.MethodPost, "/users/me/password", current, tt.body))
			if r.status != tt.status || r.code(t) != tt.code {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
	}
	if s := e.me(t, other); s != http.StatusOK {
		t.Fatalf("a failed change revoked sessions: %d", s)
	}
	r := e.do(t, authed(http.MethodPost, "/users/me/password", current, map[string]any{"current_password": goodPassword, "new_password": newPassword}))
	if r.status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if s := e.me(t, other); s != http.StatusUnauthorized {
		t.Errorf("other session's access token after change: %d", s)
	}
	if res := e.refresh(t, otherRefresh); res.status != http.StatusBadRequest {
		t.Errorf("other session's refresh token after change: %d", res.status)
	}
	if s := e.me(t, current); s != http.StatusOK {
		t.Errorf("the changing session: %d", s)
	}
	if res := e.refresh(t, currentRefresh); res.status != http.StatusOK {
		t.Errorf("the changing session's refresh: %d", res.status)
	}
	if r := e.login(t, "tae", goodPassword); r.status != http.StatusUnauthorized {
		t.Errorf("old password still logs in: %d", r.status)
	}
	if r := e.login(t, "tae", newPassword); r.status != http.StatusOK {
		t.Errorf("new password: %d", r.status)
	}
}

func TestDeactivationRevokesSessions(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "uhm", "uhm@example.com", goodPassword)
	_, refresh := e.loginPair(t, "uhm", goodPassword)
	u, _ := e.users.UserByUsername(t.Context(), "uhm")
	if err := e.users.SetUserActive(t.Context(), u.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.revocations.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := e.refresh(t, refresh); res.status != http.StatusBadRequest {
		t.Errorf("refresh after deactivation: %d", res.status)
	}
	if err := e.users.SetUserActive(t.Context(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	if res := e.refresh(t, refresh); res.status != http.StatusBadRequest {
		t.Errorf("reactivation revived a revoked session: %d", res.status)
	}
}

func tokenRequest(values url.Values) *http.Request {
	return formRequest("/auth/token", values)
}

func TestTokenEndpoint(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "vin", "vin@example.com", goodPassword)

	res := e.do(t, tokenRequest(url.Values{"grant_type": {"password"}, "username": {"vin"}, "password": {goodPassword}, "scope": {"read"}, "client_id": {"cli"}}))
	if res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-store" || res.header.Get("Pragma") != "no-cache" {
		t.Fatalf("password grant: %d %v %s", res.status, res.header, res.body)
	}
	body := res.json(t)
	if body["scope"] != "read" || claimsOf(t, body["access_token"].(string))["client_id"] != "cli" {
		t.Errorf("scope/client_id not carried: %s", res.body)
	}
	res = e.do(t, tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}))
	if res.status != http.StatusOK {
		t.Fatalf("refresh grant: %d %s", res.status, res.body)
	}

	tests := []struct {
		name   string
		req    *http.Request
		status int
		error  string
	}{
		{"wrong password", tokenRequest(url.Values{"grant_type": {"password"}, "username": {"vin"}, "password": {"wrong wrong"}}), 400, "invalid_grant"},
		{"unknown user", tokenRequest(url.Values{"grant_type": {"password"}, "username": {"nobody"}, "password": {"wrong wrong"}}), 400, "invalid_grant"},
		{"bad refresh token", tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.0.y"}}), 400, "invalid_grant"},
		{"unsupported grant", tokenRequest(url.Values{"grant_type": {"client_credentials"}}), 400, "unsupported_grant_type"},
		{"authorization code", tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}), 400, "unsupported_grant_type"},
		{"no grant type", tokenRequest(url.Values{"username": {"vin"}}), 400, "invalid_request"},
		{"missing password", tokenRequest(url.Values{"grant_type": {"password"}, "username": {"vin"}}), 400, "invalid_request"},
		{"missing refresh token", tokenRequest(url.Values{"grant_type": {"refresh_token"}}), 400, "invalid_request"},
		{"repeated parameter", tokenRequest(url.Values{"grant_type": {"password", "password"}, "username": {"vin"}, "password": {goodPassword}}), 400, "invalid_request"},
		{"JSON body", jsonRequest(http.MethodPost, "/auth/token", map[string]string{"grant_type": "password"}), 400, "invalid_request"},
		{"oversized body", tokenRequest(url.Values{"grant_type": {"password"}, "username": {strings.Repeat("u", 2<<20)}}), 400, "invalid_request"},
		{"malformed form", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/token", strings.NewReader("grant_type=%zz"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 400, "invalid_request"},
		{"Korean client still gets an ASCII error_description", func() *http.Request {
			r := tokenRequest(url.Values{"grant_type": {"password"}, "username": {"vin"}, "password": {"wrong wrong"}})
			r.Header.Set("Accept-Language", "ko")
			return r
		}(), 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			b := r.json(t)
			if b["error"] != tt.error || b["error_description"] == "" || b["code"] == "" || b["detail"] == "" {
				t.Errorf("body %s, want error %s", r.body, tt.error)
			}
			for _, c := range b["error_description"].(string) {
				if c < 0x20 || c > 0x7e {
					t.Errorf("error_description %q is not printable ASCII (RFC 6749 §5.2)", b["error_description"])
					break
				}
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

func feedRequest(query string, id, secret string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/auth/revocations"+query, nil)
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return req
}

func TestRevocationFeed(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	e.register(t, "wang", "wang@example.com", goodPassword)
	access, _ := e.loginPair(t, "wang", goodPassword)
	sid := claimsOf(t, access)["sid"].(string)

	t.Run("credentials", func(t *testing.T) {
		for name, req := range map[string]*http.Request{
			"none":          feedRequest("", "", ""),
			"wrong secret":  feedRequest("", feedClientID, "wrong"),
			"unknown id":    feedRequest("", "other", feedClientSecret),
			"bearer token":  authed(http.MethodGet, "/auth/revocations", access, nil),
			"empty secret":  feedRequest("", feedClientID, ""),
			"secret prefix": feedRequest("", feedClientID, feedClientSecret[:5]),
		} {
			r := e.do(t, req)
			if r.status != http.StatusUnauthorized || r.code(t) != gatehouse.CodeInvalidClient || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: %d %v %s", name, r.status, r.header, r.body)
			}
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		for _, q := range []string{"?since=abc", "?since=-1", "?since=999999"} {
			r := e.do(t, feedRequest(q+"&wait=0", feedClientID, feedClientSecret))
			if r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInvalidCursor {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	})

	snap := e.do(t, feedRequest("", feedClientID, feedClientSecret))
	if snap.status != http.StatusOK {
		t.Fatalf("snapshot: %d %s", snap.status, snap.body)
	}
	cursor := snap.json(t)["cursor"].(string)

	// A long poll from the cursor wakes as soon as a logout lands.
	done := make(chan response, 1)
	start := time.Now()
	go func() {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, feedRequest("?since="+cursor+"&wait=20", feedClientID, feedClientSecret))
		done <- response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}()
	time.Sleep(100 * time.Millisecond)
	if r := e.do(t, authed(http.MethodPost, "/auth/logout", access, nil)); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.status)
	}
	select {
	case r := <-done:
		e.oas.ValidateResponse(t, http.MethodGet, "/auth/revocations", r.status, r.header, r.body)
		var body struct {
			Revocations []struct {
				SID string `json:"sid"`
				Exp int64  `json:"exp"`
			} `json:"revocations"`
			Cursor string `json:"cursor"`
		}
		json.Unmarshal(r.body, &body)
		if r.status != http.StatusOK || len(body.Revocations) != 1 || body.Revocations[0].SID != sid || body.Cursor == cursor {
			t.Fatalf("long poll answered %d %s", r.status, r.body)
		}
		if exp := time.Unix(body.Revocations[0].Exp, 0); exp.Before(e.clock.Now()) || exp.After(e.clock.Now().Add(31*time.Minute)) {
			t.Errorf("exp %v is not the access token's expiry", exp)
		}
		if waited := time.Since(start); waited > 2*time.Second {
			t.Errorf("long poll woke after %v", waited)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not wake on logout")
	}
	// A fresh snapshot lists the revoked session too.
	if r := e.do(t, feedRequest("", feedClientID, feedClientSecret)); !strings.Contains(string(r.body), sid) {
		t.Errorf("snapshot lacks the revocation: %s", r.body)
	}
	// An idle poll returns empty after its wait.
	r := e.do(t, feedRequest(fmt.Sprintf("?since=%s&wait=0", snap.json(t)["cursor"]), feedClientID, feedClientSecret))
	if r.status != http.StatusOK {
		t.Errorf("idle poll: %d %s", r.status, r.body)
	}
}

func TestJWKSAndDiscovery(t *testing.T) {
	t.Run("HS256 publishes no key", func(t *testing.T) {
		e := newTestEnv(t, envOptions{})
		r := e.do(t, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"keys":[]}` {
			t.Errorf("%d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), base64.RawURLEncoding.EncodeToString(testSecret)) {
			t.Error("the HMAC secret is published")
		}
	})
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newTestEnv(t, envOptions{alg: alg})
			r := e.do(t, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["alg"] != alg {
				t.Fatalf("%d %s", r.status, r.body)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := set.Keys[0][private]; ok {
					t.Errorf("JWKS publishes private member %q", private)
				}
			}
			if !strings.Contains(r.header.Get("Cache-Control"), "max-age") {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
			e.register(t, "x"+alg, "x"+alg+"@example.com", goodPassword)
			access, _ := e.loginPair(t, "x"+alg, goodPassword)
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[0])
			if !strings.Contains(string(hdr), `"alg":"`+alg+`"`) || !strings.Contains(string(hdr), `"kid":"`+set.Keys[0]["kid"].(string)+`"`) ||
				!strings.Contains(string(hdr), `"typ":"at+jwt"`) {
				t.Errorf("token header %s", hdr)
			}
			if e.me(t, access) != http.StatusOK {
				t.Error("the server refuses its own token")
			}
			d := e.do(t, httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil)).json(t)
			if d["issuer"] != testIssuer || d["jwks_uri"] != testIssuer+"/.well-known/jwks.json" ||
				d["token_endpoint"] != testIssuer+"/auth/token" || d["revocation_feed_endpoint"] != testIssuer+"/auth/revocations" {
				t.Errorf("discovery = %v", d)
			}
		})
	}
}

// The session records the client's address: from X-Forwarded-For only when
// the peer is a trusted proxy, so a client cannot pick the address it is
// recorded (and, later, rate-limited) under.
func TestClientAddress(t *testing.T) {
	e := newTestEnv(t, envOptions{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	e.register(t, "yun", "yun@example.com", goodPassword)
	tests := []struct {
		name, peer, xff, want string
	}{
		{"no proxy", "198.51.100.7:5000", "", "198.51.100.7"},
		{"untrusted peer spoofs the header", "198.51.100.7:5000", "203.0.113.9", "198.51.100.7"},
		{"trusted proxy", "10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},
		{"client prepends a fake hop", "10.1.2.3:5000", "1.1.1.1, 203.0.113.9", "203.0.113.9"},
		{"two trusted hops", "10.1.2.3:5000", "203.0.113.9, 10.9.9.9", "203.0.113.9"},
		{"garbage from the proxy's left", "10.1.2.3:5000", "not-an-ip, 203.0.113.9", "203.0.113.9"},
		{"only garbage", "10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
		{"IPv6 client", "10.1.2.3:5000", "2001:db8::1", "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := formRequest("/auth/login", url.Values{"username": {"yun"}, "password": {goodPassword}})
			req.RemoteAddr = tt.peer
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := e.recordedClientIP(t, req); got != tt.want {
				t.Errorf("client_ip = %q, want %q", got, tt.want)
			}
		})
	}
}

// With GATEHOUSE_PROXY_HEADER=forwarded the client is read from RFC 7239
// Forwarded, and X-Forwarded-For is ignored (the proxy passes it through from
// the client untouched).
func TestClientAddressForwarded(t *testing.T) {
	e := newTestEnv(t, envOptions{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, proxyHeader: ProxyHeaderForwarded})
	e.register(t, "fwd", "fwd@example.com", goodPassword)
	tests := []struct {
		name, peer, forwarded, xff, want string
	}{
		{"plain", "10.1.2.3:5000", "for=203.0.113.9;proto=https", "", "203.0.113.9"},
		{"X-Forwarded-For is not believed", "10.1.2.3:5000", "", "203.0.113.66", "10.1.2.3"},
		{"quoted IPv6 with port", "10.1.2.3:5000", `for="[2001:db8::1]:4711"`, "", "2001:db8::1"},
		{"client prepends a fake element", "10.1.2.3:5000", "for=1.1.1.1, for=203.0.113.9", "", "203.0.113.9"},
		{"two trusted hops", "10.1.2.3:5000", "for=203.0.113.9, for=10.9.9.9", "", "203.0.113.9"},
		{"unknown", "10.1.2.3:5000", "for=unknown", "", "10.1.2.3"},
		{"obfuscated", "10.1.2.3:5000", "for=_hidden", "", "10.1.2.3"},
		{"untrusted peer", "198.51.100.7:5000", "for=203.0.113.9", "", "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := formRequest("/auth/login", url.Values{"username": {"fwd"}, "password": {goodPassword}})
			req.RemoteAddr = tt.peer
			if tt.forwarded != "" {
				req.Header.Set("Forwarded", tt.forwarded)
			}
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := e.recordedClientIP(t, req); got != tt.want {
				t.Errorf("client_ip = %q, want %q", got, tt.want)
			}
		})
	}
}

// recordedClientIP logs in with req and returns the client address the new
// session recorded.
func (e *testEnv) recordedClientIP(tb testing.TB, req *http.Request) string {
	tb.Helper()
	r := e.do(tb, req)
	if r.status != http.StatusOK {
		tb.Fatalf("login: %d %s", r.status, r.body)
	}
	list := e.do(tb, authed(http.MethodGet, "/users/me/sessions", r.json(tb)["access_token"].(string), nil))
	var body struct {
		Sessions []struct {
			ClientIP string `json:"client_ip"`
			Current  bool   `json:"current"`
		} `json:"sessions"`
	}
	json.Unmarshal(list.body, &body)
	for _, s := range body.Sessions {
		if s.Current {
			return s.ClientIP
		}
	}
	tb.Fatalf("no current session in %s", list.body)
	return ""
}
