package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"

	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// Every new route answers malformed input with a 4xx, never a 5xx: empty,
// non-JSON, wrong types, wrong content types, unicode and huge values,
// non-numeric and out-of-range ids (e.do fails the test on any 5xx).
func TestReviewBadInputSweep(t *testing.T) {
	e, _ := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	a := &adminEnv{testEnv: e}
	a.rootID = a.registerID(t, "root")
	if err := e.users.(gatehouse.AdminStore).SetUserRoles(t.Context(), a.rootID, []string{gatehouse.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	a.rootToken = e.login(t, "root", goodPassword).json(t)["access_token"].(string)
	huge := strings.Repeat("é", 40000)
	bodies := []string{"", "{", "[]", "null", `{"code":1}`, `{"code":null,"password":null}`, `{"code":"` + huge + `"}`,
		`{"mfa_token":"` + huge + `","code":"123456"}`, `{"token":"` + huge + `","new_password":"x"}`,
		`{"email":"` + huge + `@x.io"}`, `{"roles":"admin"}`, `{"roles":[1,2]}`, `{"roles":["` + huge + `"]}`,
		`{"code":"\u0000\u202e"}`, `{"code":"１２３４５６"}`, `{"password":"` + strings.Repeat("a", 5000) + `"}`}
	routes := []struct{ method, path string }{
		{"POST", "/auth/login/mfa"}, {"POST", "/users/me/mfa/totp/confirm"}, {"DELETE", "/users/me/mfa/totp"},
		{"POST", "/auth/verify-email/request"}, {"POST", "/auth/verify-email"},
		{"POST", "/auth/password-reset/request"}, {"POST", "/auth/password-reset"},
		{"POST", "/admin/users"}, {"PUT", "/admin/users/2/roles"}, {"PUT", "/admin/users/x/roles"},
		{"PUT", "/admin/users/99999999999999999999/roles"}, {"POST", "/users/me/identities"},
		{"POST", "/users/me/identities/confirm"},
	}
	for _, rt := range routes {
		for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded", ""} {
			for _, b := range bodies {
				req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(b))
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				req.Header.Set("Authorization", "Bearer "+a.rootToken)
				a.do(t, req)
			}
		}
	}
	gets := []string{"/admin/users?limit=abc", "/admin/users?limit=0", "/admin/users?limit=99999999999999999999",
		"/admin/users?after=-1", "/admin/users?search=%25%5F%21", "/admin/users?search=" + strings.Repeat("x", 400),
		"/admin/users?role=ADMIN", "/admin/users?role=%00", "/admin/users/0", "/admin/users/-1", "/admin/users/abc",
		"/admin/users/9223372036854775807", "/admin/audit?since=yesterday", "/admin/audit?since=0000-01-01T00:00:00Z",
		"/admin/audit?until=9999-12-31T23:59:59Z", "/admin/audit?user_id=x", "/admin/audit?limit=1001",
		"/admin/audit?event=" + strings.Repeat("%25", 300), "/admin/audit?client_ip=%00%ff",
		"/auth/oauth/nope", "/auth/oauth/nope/callback?state=x&code=y", "/users/me/identities"}
	for _, p := range gets {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		req.Header.Set("Authorization", "Bearer "+a.rootToken)
		a.do(t, req)
	}
	for _, p := range []string{"/admin/users/abc", "/admin/users/0/sessions", "/users/me/identities/abc", "/users/me/identities/-5"} {
		a.do(t, authed(http.MethodDelete, p, a.rootToken, nil))
	}
}
