package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Every kind of security event the API produces lands in the audit log with
// the request's facts, and nothing secret does.
func TestAuditEvents(t *testing.T) {
	e := newTestEnv(t, envOptions{limits: defaultLimits()})
	const ua = "audit-test/1.0"
	send := func(req *http.Request) response {
		req.Header.Set("User-Agent", ua)
		req.Header.Set("X-Request-ID", "req-"+strings.ReplaceAll(req.URL.Path, "/", "-"))
		req.RemoteAddr = "198.51.100.23:4000"
		return e.do(t, req)
	}
	send(jsonRequest(http.MethodPost, "/auth/register", map[string]string{"username": "zed", "email": "zed@example.com", "password": goodPassword}))
	send(formRequest("/auth/login", url.Values{"username": {"zed"}, "password": {"wrong password here"}}))
	send(formRequest("/auth/login", url.Values{"username": {"nobody"}, "password": {"a typed password"}}))
	r := send(formRequest("/auth/login", url.Values{"username": {"zed"}, "password": {goodPassword}}))
	access, refresh0 := r.json(t)["access_token"].(string), r.json(t)["refresh_token"].(string)
	refresh1 := send(jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": refresh0})).json(t)["refresh_token"].(string)
	_ = refresh1
	other := send(formRequest("/auth/login", url.Values{"username": {"zed"}, "password": {goodPassword}})).json(t)
	otherSID := claimsOf(t, other["access_token"].(string))["sid"].(string)
	send(authed(http.MethodDelete, "/users/me/sessions/"+otherSID, access, nil))
	send(authed(http.MethodPost, "/users/me/password", access, map[string]string{"current_password": goodPassword, "new_password": "another long passphrase 42"}))
	e.clock.Add(11 * time.Second)
	send(jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": refresh0})) // reuse
	third := send(formRequest("/auth/login", url.Values{"username": {"zed"}, "password": {"another long passphrase 42"}})).json(t)
	send(authed(http.MethodPost, "/auth/logout?all=true", third["access_token"].(string), nil))
	for range 25 { // past the per-address login limit
		send(formRequest("/auth/login", url.Values{"username": {"zed"}, "password": {"wrong again"}}))
	}

	events, err := e.audit.ListAudit(t.Context(), gatehouse.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Event+"/"+ev.Outcome+"/"+ev.Reason] = true
		if ev.ClientIP != "198.51.100.23" || ev.UserAgent != ua || !strings.HasPrefix(ev.RequestID, "req-") {
			t.Errorf("event %s lacks the request facts: %+v", ev.Event, ev)
		}
		for _, secret := range []string{goodPassword, "wrong password here", "a typed password", refresh0, access} {
			if strings.Contains(ev.Login+ev.Reason+ev.SessionID+strings.Join(mapValues(ev.Detail), " "), secret) {
				t.Errorf("event %s records a secret", ev.Event)
			}
		}
		if ev.Event == gatehouse.EventLogin && ev.Reason == gatehouse.ReasonUnknownUser && ev.Login != "" {
			t.Errorf("a login name that matched no account was recorded: %q", ev.Login)
		}
	}
	for _, want := range []string{
		"register/success/",
		"login/failure/" + gatehouse.ReasonWrongPassword,
		"login/failure/" + gatehouse.ReasonUnknownUser,
		"login/success/",
		"refresh/success/",
		"session_revoked/success/",
		"password_changed/success/",
		"refresh_reuse/failure/" + gatehouse.RevokedReuseDetected,
		"logout_all/success/",
		"rate_limited/failure/login",
	} {
		if !seen[want] {
			t.Errorf("no audit event %s (have %v)", want, keys(seen))
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
