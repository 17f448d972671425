package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// adminEnv is a server with one admin (root) and one plain user (bob),
// both logged in.
type adminEnv struct {
	*testEnv
	rootID, bobID       int64
	rootToken, bobToken string
	bobRefresh          string
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	e := newTestEnv(t, envOptions{})
	a := &adminEnv{testEnv: e}
	a.rootID = a.registerID(t, "root")
	a.bobID = a.registerID(t, "bob")
	if err := e.users.(gatehouse.AdminStore).SetUserRoles(t.Context(), a.rootID, []string{gatehouse.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	a.rootToken = e.login(t, "root", goodPassword).json(t)["access_token"].(string)
	bob := e.login(t, "bob", goodPassword).json(t)
	a.bobToken, a.bobRefresh = bob["access_token"].(string), bob["refresh_token"].(string)
	return a
}

func (a *adminEnv) registerID(t *testing.T, name string) int64 {
	t.Helper()
	r := a.register(t, name, name+"@example.com", goodPassword)
	if r.status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", name, r.status, r.body)
	}
	return int64(r.json(t)["id"].(float64))
}

func (a *adminEnv) admin(t *testing.T, method, path string, body any) response {
	t.Helper()
	return a.do(t, authed(method, path, a.rootToken, body))
}

func userPath(id int64, rest string) string {
	return "/admin/users/" + strconv.FormatInt(id, 10) + rest
}

// Every admin route refuses a request without a token (401) and a user
// without the admin role (403), each with the JSON error body, and lets an
// admin through.
func TestAdminRoutesRequireAdmin(t *testing.T) {
	a := newAdminEnv(t)
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/admin/users", nil},
		{http.MethodPost, "/admin/users", map[string]any{"username": "carol", "email": "carol@example.com", "password": goodPassword}},
		{http.MethodGet, userPath(a.bobID, ""), nil},
		{http.MethodPost, userPath(a.bobID, "/activate"), nil},
		{http.MethodPut, userPath(a.bobID, "/roles"), map[string]any{"roles": []string{"support"}}},
		{http.MethodGet, "/admin/audit", nil},
		{http.MethodDelete, userPath(a.bobID, "/sessions"), nil},
		{http.MethodPost, userPath(a.bobID, "/deactivate"), nil},
		{http.MethodDelete, userPath(a.bobID, ""), nil},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			req := authed(rt.method, rt.path, "", rt.body)
			req.Header.Del("Authorization")
			if r := a.do(t, req); r.status != http.StatusUnauthorized || r.code(t) != gatehouse.CodeInvalidToken {
				t.Errorf("without a token: %d %s", r.status, r.body)
			}
			if r := a.do(t, authed(rt.method, rt.path, "not.a.token", rt.body)); r.status != http.StatusUnauthorized {
				t.Errorf("with a bad token: %d %s", r.status, r.body)
			}
			r := a.do(t, authed(rt.method, rt.path, a.bobToken, rt.body))
			if r.status != http.StatusForbidden || r.code(t) != gatehouse.CodeForbidden || r.json(t)["detail"] == "" {
				t.Errorf("as a user: %d %s", r.status, r.body)
			}
		})
	}
	// Then as the admin, in order (the last two end bob).
	for _, rt := range routes {
		if r := a.admin(t, rt.method, rt.path, rt.body); r.status >= 300 {
			t.Errorf("%s %s as an admin: %d %s", rt.method, rt.path, r.status, r.body)
		}
	}
	// A forged roles claim cannot help: the role is read from the store.
	denied, err := a.audit.ListAudit(t.Context(), gatehouse.AuditFilter{Event: gatehouse.EventAdminDenied, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) != len(routes) || denied[0].UserID != a.bobID || denied[0].Outcome != gatehouse.OutcomeFailure {
		t.Errorf("admin_denied events: %d, want %d (first %+v)", len(denied), len(routes), denied[0])
	}
}

// Deactivation revokes every session: the user's access token stops working
// on /users/me at once and the refresh token fails; activation lets the
// user log in again.
func TestAdminDeactivationKillsSessions(t *testing.T) {
	a := newAdminEnv(t)
	if r := a.do(t, bearerRequest("/users/me", a.bobToken)); r.status != http.StatusOK {
		t.Fatalf("before: %d", r.status)
	}
	r := a.admin(t, http.MethodPost, userPath(a.bobID, "/deactivate"), nil)
	if r.status != http.StatusOK || r.json(t)["is_active"] != false {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	if r := a.do(t, bearerRequest("/users/me", a.bobToken)); r.status != http.StatusUnauthorized {
		t.Errorf("access token after deactivation: %d %s", r.status, r.body)
	}
	if r := a.do(t, jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": a.bobRefresh})); r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInvalidGrant {
		t.Errorf("refresh after deactivation: %d %s", r.status, r.body)
	}
	if r := a.login(t, "bob", goodPassword); r.status != http.StatusBadRequest || r.code(t) != gatehouse.CodeInactiveUser {
		t.Errorf("login while inactive: %d %s", r.status, r.body)
	}
	if r := a.admin(t, http.MethodPost, userPath(a.bobID, "/activate"), nil); r.status != http.StatusOK || r.json(t)["is_active"] != true {
		t.Fatalf("activate: %d %s", r.status, r.body)
	}
	if r := a.login(t, "bob", goodPassword); r.status != http.StatusOK {
		t.Errorf("login after activation: %d %s", r.status, r.body)
	}
	// The old tokens stay dead: activation does not revive sessions.
	if r := a.do(t, bearerRequest("/users/me", a.bobToken)); r.status != http.StatusUnauthorized {
		t.Errorf("old access token after activation: %d", r.status)
	}
}

func TestAdminRevokeSessionsAndDelete(t *testing.T) {
	a := newAdminEnv(t)
	r := a.admin(t, http.MethodDelete, userPath(a.bobID, "/sessions"), nil)
	if r.status != http.StatusOK || r.json(t)["revoked"] != float64(1) {
		t.Fatalf("revoke sessions: %d %s", r.status, r.body)
	}
	if r := a.do(t, bearerRequest("/users/me", a.bobToken)); r.status != http.StatusUnauthorized {
		t.Errorf("access token after revocation: %d", r.status)
	}
	if r := a.do(t, jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": a.bobRefresh})); r.status != http.StatusBadRequest {
		t.Errorf("refresh after revocation: %d", r.status)
	}
	fresh := a.login(t, "bob", goodPassword).json(t)["access_token"].(string)
	if r := a.admin(t, http.MethodDelete, userPath(a.bobID, ""), nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := a.do(t, bearerRequest("/users/me", fresh)); r.status != http.StatusUnauthorized {
		t.Errorf("access token after delete: %d", r.status)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, userPath(a.bobID, "")},
		{http.MethodDelete, userPath(a.bobID, "")},
		{http.MethodDelete, userPath(a.bobID, "/sessions")},
		{http.MethodPost, userPath(a.bobID, "/activate")},
		{http.MethodGet, "/admin/users/abc"},
		{http.MethodGet, "/admin/users/-1"},
		{http.MethodGet, "/admin/users/99999999999999999999"},
	} {
		if r := a.admin(t, tt.method, tt.path, nil); r.status != http.StatusNotFound || r.code(t) != gatehouse.CodeNotFound {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, r.status, r.body)
		}
	}
}

// An admin cannot lock the admins out: not by deactivating or deleting
// their own account, nor by dropping the admin role while the last admin.
func TestAdminLockout(t *testing.T) {
	a := newAdminEnv(t)
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, userPath(a.rootID, "/deactivate"), nil},
		{http.MethodDelete, userPath(a.rootID, ""), nil},
		{http.MethodPut, userPath(a.rootID, "/roles"), map[string]any{"roles": []string{}}},
		{http.MethodPut, userPath(a.rootID, "/roles"), map[string]any{"roles": []string{"user", "support"}}},
	} {
		r := a.admin(t, tt.method, tt.path, tt.body)
		if r.status != http.StatusConflict || r.code(t) != gatehouse.CodeAdminLockout {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, r.status, r.body)
		}
	}
	if r := a.do(t, bearerRequest("/admin/users", a.rootToken)); r.status != http.StatusOK {
		t.Fatalf("root lost the admin API: %d", r.status)
	}
	// With a second admin, root may step down.
	if r := a.admin(t, http.MethodPut, userPath(a.bobID, "/roles"), map[string]any{"roles": []string{"admin"}}); r.status != http.StatusOK {
		t.Fatalf("make bob admin: %d %s", r.status, r.body)
	}
	if r := a.admin(t, http.MethodPut, userPath(a.rootID, "/roles"), map[string]any{"roles": []string{}}); r.status != http.StatusOK {
		t.Fatalf("root steps down: %d %s", r.status, r.body)
	}
	// root's token still claims admin, but the admin API reads the store.
	if r := a.do(t, bearerRequest("/admin/users", a.rootToken)); r.status != http.StatusForbidden {
		t.Errorf("former admin's token: %d", r.status)
	}
	// Bob is now the last admin, and deactivated he would not count: the
	// rule is about active admins.
	if r := a.do(t, authed(http.MethodPut, userPath(a.bobID, "/roles"), a.bobToken, map[string]any{"roles": []string{}})); r.status != http.StatusConflict {
		t.Errorf("last admin drops the role: %d %s", r.status, r.body)
	}
}

// Set roles shows up in the next token's roles claim, and the admin API
// follows the stored roles at once.
func TestAdminSetRoles(t *testing.T) {
	a := newAdminEnv(t)
	if got := claimsOf(t, a.bobToken)["roles"]; fmt.Sprint(got) != "[user]" {
		t.Errorf("roles claim before: %v", got)
	}
	if got := claimsOf(t, a.rootToken)["roles"]; fmt.Sprint(got) != "[admin user]" {
		t.Errorf("admin's roles claim: %v", got)
	}
	r := a.admin(t, http.MethodPut, userPath(a.bobID, "/roles"), map[string]any{"roles": []string{"support", "billing:read", "support", "user"}})
	if r.status != http.StatusOK || fmt.Sprint(r.json(t)["roles"]) != "[billing:read support user]" {
		t.Fatalf("set roles: %d %s", r.status, r.body)
	}
	// The next token, by refresh or by login, carries the new roles.
	refreshed := a.do(t, jsonRequest(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": a.bobRefresh})).json(t)
	if got := claimsOf(t, refreshed["access_token"].(string))["roles"]; fmt.Sprint(got) != "[billing:read support user]" {
		t.Errorf("roles claim after refresh: %v", got)
	}
	// Granting admin opens the admin API to bob's current token at once.
	a.admin(t, http.MethodPut, userPath(a.bobID, "/roles"), map[string]any{"roles": []string{"admin"}})
	if r := a.do(t, bearerRequest("/admin/users", a.bobToken)); r.status != http.StatusOK {
		t.Errorf("new admin: %d", r.status)
	}
	login := a.login(t, "bob", goodPassword).json(t)
	if got := claimsOf(t, login["access_token"].(string))["roles"]; fmt.Sprint(got) != "[admin user]" {
		t.Errorf("roles claim after login: %v", got)
	}

	for _, tt := range []struct {
		name string
		body any
		typ  string
	}{
		{"upper case", map[string]any{"roles": []string{"Admin"}}, "role_invalid"},
		{"space", map[string]any{"roles": []string{"a b"}}, "role_invalid"},
		{"empty name", map[string]any{"roles": []string{""}}, "role_invalid"},
		{"too long", map[string]any{"roles": []string{string(make([]byte, 65))}}, "role_invalid"},
		{"unicode look-alike", map[string]any{"roles": []string{"аdmin"}}, "role_invalid"},
		{"not a list", map[string]any{"roles": "admin"}, "list_type"},
		{"numbers", map[string]any{"roles": []int{1}}, "list_type"},
		{"missing", map[string]any{}, "missing"},
		{"too many", map[string]any{"roles": manyRoles(gatehouse.MaxRoles + 1)}, "too_many_roles"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := a.admin(t, http.MethodPut, userPath(a.bobID, "/roles"), tt.body)
			if r.status != http.StatusUnprocessableEntity || !hasProblemType(t, r, tt.typ) {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
	}
	if r := a.admin(t, http.MethodPut, userPath(999999, "/roles"), map[string]any{"roles": []string{"x"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown user: %d", r.status)
	}
	if r := a.do(t, func() *http.Request {
		req := authed(http.MethodPut, userPath(a.bobID, "/roles"), a.rootToken, nil)
		req.Header.Set("Content-Type", "text/plain")
		return req
	}()); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text body: %d", r.status)
	}
}

func manyRoles(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "r" + strconv.Itoa(i)
	}
	return out
}

func hasProblemType(t *testing.T, r response, typ string) bool {
	t.Helper()
	items, _ := r.json(t)["detail"].([]any)
	for _, it := range items {
		if it.(map[string]any)["type"] == typ {
			return true
		}
	}
	return false
}

func TestAdminCreateUser(t *testing.T) {
	a := newAdminEnv(t)
	r := a.admin(t, http.MethodPost, "/admin/users", map[string]any{"username": "Carol", "email": "carol@example.com", "password": goodPassword, "roles": []string{"support"}})
	if r.status != http.StatusCreated || fmt.Sprint(r.json(t)["roles"]) != "[support user]" || r.header.Get("Location") == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := a.login(t, "carol", goodPassword); r.status != http.StatusOK {
		t.Errorf("login as the created user: %d", r.status)
	}
	for _, tt := range []struct {
		name   string
		body   any
		status int
	}{
		{"taken", map[string]any{"username": "carol", "email": "c2@example.com", "password": goodPassword}, 400},
		{"weak password", map[string]any{"username": "dave", "email": "dave@example.com", "password": "short"}, 422},
		{"bad role", map[string]any{"username": "dave", "email": "dave@example.com", "password": goodPassword, "roles": []string{"ROOT"}}, 422},
		{"missing fields", map[string]any{"username": "dave"}, 422},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := a.admin(t, http.MethodPost, "/admin/users", tt.body); r.status != tt.status {
				t.Errorf("%d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

func TestAdminListUsers(t *testing.T) {
	a := newAdminEnv(t) // root, bob
	for _, n := range []string{"carol", "dave", "erin", "frank", "grace"} {
		a.registerID(t, n)
	}
	// Page through all seven, three at a time.
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := a.admin(t, http.MethodGet, "/admin/users?limit=3"+after, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		body := r.json(t)
		for _, u := range body["users"].([]any) {
			names = append(names, u.(map[string]any)["username"].(string))
		}
		next, ok := body["next_after"].(float64)
		if !ok {
			break
		}
		after = "&after=" + strconv.FormatInt(int64(next), 10)
	}
	if want := []string{"root", "bob", "carol", "dave", "erin", "frank", "grace"}; !slices.Equal(names, want) {
		t.Errorf("pages gave %q, want %q", names, want)
	}

	list := func(query string) []string {
		t.Helper()
		r := a.admin(t, http.MethodGet, "/admin/users?"+query, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		var out []string
		for _, u := range r.json(t)["users"].([]any) {
			out = append(out, u.(map[string]any)["username"].(string))
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"search=RA", []string{"frank", "grace"}},  // case-insensitive
		{"search=e%40", []string{"dave", "grace"}}, // in emails
		{"search=bob%40example", []string{"bob"}},  // in emails
		{"search=%25", nil},                        // a literal %, which no one has
		{"search=_", nil},                          // a literal _
		{"search=nobody", nil},
		{"role=admin", []string{"root"}},
		{"role=user&limit=2", []string{"root", "bob"}},
		{"role=admin&search=bob", nil},
	} {
		if got := list(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.query, got, tt.want)
		}
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "after=-1", "after=x", "role=Admin", "search=" + url.QueryEscape(string(make([]byte, 400)))} {
		if r := a.admin(t, http.MethodGet, "/admin/users?"+q, nil); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

// Every admin action lands in the audit log with the admin as actor and the
// account concerned as user; the log reads back through the admin API with
// its filters.
func TestAdminAudit(t *testing.T) {
	a := newAdminEnv(t)
	carol := a.admin(t, http.MethodPost, "/admin/users", map[string]any{"username": "carol", "email": "carol@example.com", "password": goodPassword})
	carolID := int64(carol.json(t)["id"].(float64))
	a.do(t, bearerRequest("/admin/audit", a.bobToken)) // denied
	a.admin(t, http.MethodGet, "/admin/users", nil)
	a.admin(t, http.MethodGet, userPath(a.bobID, ""), nil)
	a.admin(t, http.MethodPut, userPath(a.bobID, "/roles"), map[string]any{"roles": []string{"support"}})
	a.admin(t, http.MethodPost, userPath(a.bobID, "/deactivate"), nil)
	a.admin(t, http.MethodPost, userPath(a.bobID, "/activate"), nil)
	a.admin(t, http.MethodDelete, userPath(a.bobID, "/sessions"), nil)
	a.admin(t, http.MethodDelete, userPath(carolID, ""), nil)
	a.admin(t, http.MethodPost, userPath(a.rootID, "/deactivate"), nil) // refused: audited as a failure

	r := a.admin(t, http.MethodGet, "/admin/audit?limit=1000&actor_id="+strconv.FormatInt(a.rootID, 10), nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	seen := map[string]bool{}
	for _, ev := range r.json(t)["events"].([]any) {
		m := ev.(map[string]any)
		uid, _ := m["user_id"].(float64)
		seen[fmt.Sprintf("%s/%s/%d", m["event"], m["outcome"], int64(uid))] = true
	}
	for _, want := range []string{
		fmt.Sprintf("user_created/success/%d", carolID),
		"admin_read/success/0",
		fmt.Sprintf("admin_read/success/%d", a.bobID),
		fmt.Sprintf("user_roles_set/success/%d", a.bobID),
		fmt.Sprintf("user_deactivated/success/%d", a.bobID),
		fmt.Sprintf("user_activated/success/%d", a.bobID),
		fmt.Sprintf("user_sessions_revoked/success/%d", a.bobID),
		fmt.Sprintf("user_deleted/success/%d", carolID),
		fmt.Sprintf("user_deactivated/failure/%d", a.rootID),
	} {
		if !seen[want] {
			t.Errorf("no audit event %s (have %v)", want, keys(seen))
		}
	}
	// Filters: event, user, time window, paging.
	r = a.admin(t, http.MethodGet, "/admin/audit?event=admin_denied", nil)
	if evs := r.json(t)["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["user_id"] != float64(a.bobID) {
		t.Errorf("admin_denied: %s", r.body)
	}
	r = a.admin(t, http.MethodGet, "/admin/audit?event=user_roles_set&user_id="+strconv.FormatInt(a.bobID, 10), nil)
	if evs := r.json(t)["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["detail"].(map[string]any)["roles"] != "support user" {
		t.Errorf("user_roles_set: %s", r.body)
	}
	future := url.QueryEscape(a.clock.Now().Add(time.Hour).Format(time.RFC3339))
	if r := a.admin(t, http.MethodGet, "/admin/audit?since="+future, nil); len(r.json(t)["events"].([]any)) != 0 {
		t.Errorf("since the future: %s", r.body)
	}
	if r := a.admin(t, http.MethodGet, "/admin/audit?until="+future+"&limit=2", nil); len(r.json(t)["events"].([]any)) != 2 || r.json(t)["next_after"] == nil {
		t.Errorf("until, limit 2: %s", r.body)
	}
	for _, q := range []string{"since=yesterday", "until=1", "limit=0", "limit=1001", "user_id=x", "actor_id=-1", "after=-5"} {
		if r := a.admin(t, http.MethodGet, "/admin/audit?"+q, nil); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
