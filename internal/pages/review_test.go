package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every page answers bad input (non-numeric and unknown ids, huge and
// malformed fields, unicode, forms with no token or a wrong one) with a
// page of its own at 4xx or a redirect, never a 5xx.
func TestReviewPagesBadInput(t *testing.T) {
	e := newEnv(t, envOptions{redirects: []string{testRedirectOrigin}, mailer: make(inbox, 1000)})
	b := e.newAdmin(t, "root")
	token := b.get("/ui/account").csrf(t)
	pre := b.get("/ui/reset-password/request").csrf(t)
	huge := strings.Repeat("한", 20000)
	values := []string{"", "x", huge, "\x00", "<script>alert(1)</script>", "-1", "99999999999999999999", "１"}
	posts := []string{"/ui/signin", "/ui/signin/mfa", "/ui/signup", "/ui/reset-password/request", "/ui/verify-email/request",
		"/ui/reset-password", "/ui/verify-email", "/ui/account/password", "/ui/account/sessions/%s/revoke",
		"/ui/account/mfa/totp/confirm", "/ui/account/mfa/totp/disable", "/ui/admin/users/%s/deactivate",
		"/ui/admin/users/%s/activate", "/ui/admin/users/%s/roles", "/ui/admin/users/%s/sessions/revoke", "/ui/admin/users/%s/delete"}
	for _, p := range posts {
		for _, v := range values {
			path := strings.ReplaceAll(p, "%s", url.PathEscape(v))
			if v == "" && strings.Contains(p, "%s") {
				continue
			}
			for _, tok := range []string{token, pre, "", "forged"} {
				form := url.Values{"csrf_token": {tok}, "username": {v}, "password": {v}, "email": {v}, "code": {v},
					"recovery_code": {v}, "mfa_token": {v}, "token": {v}, "new_password": {v}, "current_password": {v},
					"roles": {v}, "redirect_uri": {v}, "confirm": {v}}
				if r := b.post(path, form); r.status >= 500 {
					t.Errorf("POST %.80s (%.20q, token %.8q): %d %.300s", path, v, tok, r.status, r.body)
				}
			}
		}
	}
	gets := []string{"/ui/admin/users/abc", "/ui/admin/users/0", "/ui/admin/users/-1", "/ui/admin/users/99999999999999999999",
		"/ui/admin/users?limit=abc", "/ui/admin/users?after=-5", "/ui/admin/users?search=" + url.QueryEscape(huge[:3000]),
		"/ui/admin/users?role=%00", "/ui/admin/audit?since=bad", "/ui/admin/audit?user_id=x", "/ui/admin/audit?limit=0",
		"/ui/admin/audit?after=99999999999999999999", "/ui/admin/users/abc/delete", "/ui/reset-password?token=" + url.QueryEscape(huge[:3000]),
		"/ui/verify-email?token=%00", "/ui/signin?redirect_uri=javascript:alert(1)", "/ui/signin?redirect_uri=https://evil.example",
		"/ui/oauth/callback?state=x&code=y", "/ui/static/..%2f..%2fgo.mod", "/ui/account/mfa/totp"}
	for _, g := range gets {
		if r := b.get(g); r.status >= 500 {
			t.Errorf("GET %.80s: %d", g, r.status)
		}
	}
	for _, ct := range []string{"application/json", "multipart/form-data; boundary=x", "text/plain"} {
		r := b.do(http.MethodPost, "/ui/account/password", nil, http.Header{"Content-Type": {ct}})
		if r.status >= 500 {
			t.Errorf("POST with %s: %d", ct, r.status)
		}
	}
}
