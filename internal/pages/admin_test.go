package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// userID returns the id of username's account.
func (e *env) userID(tb testing.TB, username string) int64 {
	tb.Helper()
	key, ok := auth.UsernameKey(username)
	if !ok {
		tb.Fatalf("bad username %q", username)
	}
	u, err := e.users.UserByUsername(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

// setRoles gives username's account roles, as an operator would.
func (e *env) setRoles(tb testing.TB, username string, roles ...string) {
	tb.Helper()
	if err := e.users.(gatehouse.AdminStore).SetUserRoles(context.Background(), e.userID(tb, username), roles); err != nil {
		tb.Fatal(err)
	}
}

// newAdmin signs up username, makes it an admin and signs its browser in.
func (e *env) newAdmin(tb testing.TB, username string) *browser {
	tb.Helper()
	b := e.browser(tb)
	b.signUp(username, password)
	e.setRoles(tb, username, gatehouse.RoleAdmin)
	b.signIn(username, password)
	return b
}

// newUser signs up username and signs its browser in.
func (e *env) newUser(tb testing.TB, username string) *browser {
	tb.Helper()
	b := e.browser(tb)
	b.signUp(username, password)
	b.signIn(username, password)
	return b
}

func userPage(id int64) string { return "/ui/admin/users/" + strconv.FormatInt(id, 10) }

// auditEvents reads the audit log through the admin API.
func (e *env) auditEvents(tb testing.TB, token, query string) []map[string]any {
	tb.Helper()
	status, m := e.api(tb, "GET", "/admin/audit?"+query, "", "", token)
	if status != http.StatusOK {
		tb.Fatalf("/admin/audit: %d %v", status, m)
	}
	var out []map[string]any
	for _, ev := range m["events"].([]any) {
		out = append(out, ev.(map[string]any))
	}
	return out
}

func TestAdminPagesOnlyForAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	user := e.newUser(t, "mallory")
	rootID := e.userID(t, "root")

	// Signed out: to the sign-in page.
	anon := e.browser(t)
	for _, path := range []string{"/ui/admin/users", "/ui/admin/audit", userPage(rootID), "/ui/admin/"} {
		if p := anon.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/signin") {
			t.Errorf("%s signed out: %d %s", path, p.status, p.location())
		}
	}
	// A user without the role: a 403 page for every page and form, and
	// no link to them.
	if p := user.get("/ui/account"); strings.Contains(p.body, `href="/ui/admin/users"`) {
		t.Error("a non-admin sees the administration link")
	}
	for _, path := range []string{"/ui/admin/users", "/ui/admin/audit", userPage(rootID), userPage(rootID) + "/delete", "/ui/admin/"} {
		p := user.get(path)
		if p.status != http.StatusForbidden || !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "needs the admin role") {
			t.Errorf("%s as a non-admin: %d\n%s", path, p.status, p.body)
		}
	}
	token := user.get("/ui/account").csrf(t)
	for _, action := range []string{"deactivate", "activate", "roles", "sessions/revoke", "delete"} {
		form := url.Values{"csrf_token": {token}, "admin": {"1"}, "roles": {"admin"}, "confirm": {"root"}}
		if p := user.post(userPage(rootID)+"/"+action, form); p.status != http.StatusForbidden {
			t.Errorf("POST %s as a non-admin: %d", action, p.status)
		}
	}
	mallory := e.userID(t, "mallory")
	if p := user.post(userPage(mallory)+"/roles", url.Values{"csrf_token": {token}, "admin": {"1"}}); p.status != http.StatusForbidden {
		t.Errorf("a non-admin made themselves admin: %d", p.status)
	}
	if p := admin.get(userPage(rootID)); p.status != http.StatusOK || !strings.Contains(p.body, "admin, user") {
		t.Fatalf("root is no longer an admin: %d", p.status)
	}
	if p := admin.get(userPage(mallory)); !strings.Contains(p.body, `id="user-roles">user<`) {
		t.Errorf("mallory's roles changed:\n%s", p.body)
	}
	// The admin sees the link; the refusals are in the audit log.
	if p := admin.get("/ui/account"); !strings.Contains(p.body, `href="/ui/admin/users"`) {
		t.Error("an admin does not see the administration link")
	}
	denied := e.auditEvents(t, e.apiLogin(t, "root", password), "event=admin_denied")
	if len(denied) < 5 || denied[0]["user_id"].(float64) != float64(mallory) {
		t.Errorf("admin_denied events: %v", denied)
	}
}

// The role is checked on the user as loaded for each request: taking it
// away closes the pages at once, whatever the session's token says.
func TestAdminRoleCheckedOnStoredUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.newAdmin(t, "root")
	second := e.newAdmin(t, "deputy") // signed in with admin in the token
	if p := second.get("/ui/admin/users"); p.status != http.StatusOK {
		t.Fatalf("deputy: %d", p.status)
	}
	e.setRoles(t, "deputy")
	if p := second.get("/ui/admin/users"); p.status != http.StatusForbidden {
		t.Errorf("deputy after losing admin: %d, want 403", p.status)
	}
}

var rowRE = regexp.MustCompile(`<tr data-user="(\d+)">`)

func TestAdminUsersListSearchAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	ctx := context.Background()
	for i := range 55 {
		name := fmt.Sprintf("user%02d", i)
		if err := e.users.CreateUser(ctx, &gatehouse.User{Username: name, UsernameKey: name, Email: name + "@example.com",
			EmailKey: name + "@example.com", PasswordHash: "x", IsActive: true}); err != nil {
			t.Fatal(err)
		}
	}
	e.newUser(t, "Bob")

	p := admin.get("/ui/admin/users")
	rows := rowRE.FindAllStringSubmatch(p.body, -1)
	if p.status != http.StatusOK || len(rows) != 50 {
		t.Fatalf("first page: %d, %d rows", p.status, len(rows))
	}
	if !strings.Contains(p.body, `aria-current="page">Administration`) || !strings.Contains(p.body, `class="table-scroll" role="region"`) {
		t.Error("the users page lacks the navigation mark or the scrolling region")
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	p2 := admin.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	rows2 := rowRE.FindAllStringSubmatch(p2.body, -1)
	if len(rows2) != 7 || strings.Contains(p2.body, `rel="next"`) || !strings.Contains(p2.body, "First page") {
		t.Fatalf("second page: %d rows\n%s", len(rows2), p2.body)
	}
	last, _ := strconv.ParseInt(rows[49][1], 10, 64)
	first2, _ := strconv.ParseInt(rows2[0][1], 10, 64)
	if first2 <= last {
		t.Errorf("the second page starts at %d, after %d", first2, last)
	}

	// Search: case-insensitive, on username and email; wildcards literal.
	for _, tt := range []struct {
		search string
		want   []string
		rows   int
	}{
		{"BOB", []string{">Bob</a>", "Bob@example.com"}, 1},
		{"user0", []string{">user00</a>", ">user09</a>"}, 10},
		{"%", nil, 0},
		{"user51@EXAMPLE", []string{">user51</a>"}, 1},
	} {
		p := admin.get("/ui/admin/users?search=" + url.QueryEscape(tt.search))
		got := rowRE.FindAllStringSubmatch(p.body, -1)
		if p.status != http.StatusOK || len(got) != tt.rows {
			t.Errorf("search %q: %d, %d rows", tt.search, p.status, len(got))
		}
		for _, w := range tt.want {
			if !strings.Contains(p.body, w) {
				t.Errorf("search %q does not show %q", tt.search, w)
			}
		}
		if tt.rows == 0 && !strings.Contains(p.body, "No users found") {
			t.Errorf("search %q: no empty message", tt.search)
		}
	}
	// What was searched for is shown as text, never as markup.
	if p := admin.get("/ui/admin/users?search=" + url.QueryEscape(`<b>"x`)); strings.Contains(p.body, `<b>"x`) || !strings.Contains(p.body, "&lt;b&gt;&#34;x") {
		t.Error("the search is not escaped on the page")
	}
	// Bad input is the page with the problem, never a 500.
	for _, q := range []string{"search=" + strings.Repeat("a", auth.MaxSearch+1), "after=abc", "after=-1"} {
		p := admin.get("/ui/admin/users?" + q)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%.20s: %d", q, p.status)
		}
	}
}

func TestAdminDeactivateSignsUserOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	victim := e.newUser(t, "dave")
	api := e.apiLogin(t, "dave", password)
	id := e.userID(t, "dave")

	p := admin.get(userPage(id))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/ui/admin/users/`+strconv.FormatInt(id, 10)+`/deactivate"`) {
		t.Fatalf("user page: %d\n%s", p.status, p.body)
	}
	out := admin.post(userPage(id)+"/deactivate", url.Values{"csrf_token": {p.csrf(t)}})
	if out.status != http.StatusSeeOther || out.location() != userPage(id)+"?m=user_deactivated" {
		t.Fatalf("deactivate: %d %s\n%s", out.status, out.location(), out.body)
	}
	p = admin.get(out.location())
	if !strings.Contains(p.body, "deactivated and signed out everywhere") || !strings.Contains(p.body, `class="status off">Deactivated`) {
		t.Errorf("after deactivating:\n%s", p.body)
	}
	// Their browser and their API token are signed out at once.
	if p := victim.get("/ui/account"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/signin") {
		t.Errorf("the deactivated user's page: %d %s", p.status, p.location())
	}
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusUnauthorized {
		t.Errorf("the deactivated user's token: %d, want 401", status)
	}
	// The list shows the status.
	if l := admin.get("/ui/admin/users?search=dave"); !strings.Contains(l.body, "Deactivated") {
		t.Error("the list does not show the deactivation")
	}
	// Activated again, they may sign in; the old token stays dead.
	in := admin.post(userPage(id)+"/activate", url.Values{"csrf_token": {p.csrf(t)}})
	if in.status != http.StatusSeeOther || in.location() != userPage(id)+"?m=user_activated" {
		t.Fatalf("activate: %d %s", in.status, in.location())
	}
	victim.signIn("dave", password)
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusUnauthorized {
		t.Errorf("the old token after activation: %d", status)
	}
	// Both actions are audited with the admin as actor.
	rootID := e.userID(t, "root")
	token := e.apiLogin(t, "root", password)
	for _, ev := range []string{"user_deactivated", "user_activated"} {
		got := e.auditEvents(t, token, "event="+ev)
		if len(got) != 1 || got[0]["actor_id"].(float64) != float64(rootID) || got[0]["user_id"].(float64) != float64(id) {
			t.Errorf("%s: %v", ev, got)
		}
	}
}

func TestAdminRevokeSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	victim := e.newUser(t, "erin")
	api := e.apiLogin(t, "erin", password)
	id := e.userID(t, "erin")
	p := admin.submit(userPage(id), userPage(id)+"/sessions/revoke", nil)
	if p.status != http.StatusSeeOther || p.location() != userPage(id)+"?m=sessions_revoked&n=2" {
		t.Fatalf("revoke: %d %s", p.status, p.location())
	}
	if p := admin.get(p.location()); !strings.Contains(p.body, "2 sessions have been signed out") || !strings.Contains(p.body, `class="status ok">Active`) {
		t.Errorf("after revoking:\n%s", p.body)
	}
	if p := victim.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("the user's page after revocation: %d", p.status)
	}
	if status, _ := e.api(t, "GET", "/users/me", "", "", api); status != http.StatusUnauthorized {
		t.Errorf("the user's token after revocation: %d", status)
	}
	// The count in the notice is only ever a number.
	if p := admin.get(userPage(id) + "?m=sessions_revoked&n=<b>x</b>"); strings.Contains(p.body, "<b>x") || !strings.Contains(p.body, "0 sessions") {
		t.Errorf("a forged count reached the page")
	}
}

func TestAdminRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	frank := e.newUser(t, "frank")
	id := e.userID(t, "frank")

	p := admin.submit(userPage(id), userPage(id)+"/roles", url.Values{"admin": {"1"}, "roles": {"support, billing:read  support"}})
	if p.status != http.StatusSeeOther || p.location() != userPage(id)+"?m=roles_saved" {
		t.Fatalf("set roles: %d %s\n%s", p.status, p.location(), p.body)
	}
	p = admin.get(p.location())
	if !strings.Contains(p.body, `id="user-roles">admin, billing:read, support, user<`) || !strings.Contains(p.body, `value="billing:read support"`) ||
		!strings.Contains(p.body, `name="admin" type="checkbox" value="1" checked`) {
		t.Errorf("after setting roles:\n%s", p.body)
	}
	// Frank is an admin at once.
	if p := frank.get("/ui/admin/users"); p.status != http.StatusOK {
		t.Errorf("frank as a new admin: %d", p.status)
	}
	// "admin" typed among the other roles does not count: the box decides.
	p = admin.submit(userPage(id), userPage(id)+"/roles", url.Values{"roles": {"admin support"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("drop admin: %d", p.status)
	}
	if p := admin.get(userPage(id)); !strings.Contains(p.body, `id="user-roles">support, user<`) {
		t.Errorf("after dropping admin:\n%s", p.body)
	}
	if p := frank.get("/ui/admin/users"); p.status != http.StatusForbidden {
		t.Errorf("frank after losing admin: %d", p.status)
	}
	// A bad role is a problem on the field, what was typed kept.
	p = admin.submit(userPage(id), userPage(id)+"/roles", url.Values{"roles": {"support Bad!"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="e-roles"`) || !strings.Contains(p.body, `value="support Bad!"`) ||
		!strings.Contains(p.body, `aria-invalid="true" autofocus`) {
		t.Errorf("bad role: %d\n%s", p.status, p.body)
	}
	// Nothing changed.
	if p := admin.get(userPage(id)); !strings.Contains(p.body, `id="user-roles">support, user<`) {
		t.Error("a refused roles form changed the roles")
	}
	// An unknown user is a 404 page.
	if p := admin.submit(userPage(id), "/ui/admin/users/999999/roles", url.Values{"roles": {"x"}}); p.status != http.StatusNotFound {
		t.Errorf("roles of no user: %d", p.status)
	}
	if p := admin.get("/ui/admin/users/abc"); p.status != http.StatusNotFound {
		t.Errorf("user abc: %d", p.status)
	}
	// Audited with the actor.
	got := e.auditEvents(t, e.apiLogin(t, "root", password), "event=user_roles_set")
	if len(got) != 3 || got[2]["outcome"] != "failure" || got[0]["actor_id"].(float64) != float64(e.userID(t, "root")) {
		t.Errorf("user_roles_set events: %v", got)
	}
}

func TestAdminLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	me := e.userID(t, "root")

	// The last admin cannot drop the role.
	p := admin.submit(userPage(me), userPage(me)+"/roles", url.Values{"roles": {"support"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "This is the last active admin") {
		t.Errorf("last admin drops admin: %d\n%s", p.status, p.body)
	}
	// Nor deactivate or delete themselves (no button is offered, and a
	// post is refused).
	page := admin.get(userPage(me))
	if strings.Contains(page.body, "/deactivate\"") || strings.Contains(page.body, "/delete\"") {
		t.Error("the admin's own page offers to deactivate or delete")
	}
	p = admin.post(userPage(me)+"/deactivate", url.Values{"csrf_token": {page.csrf(t)}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Admins cannot deactivate their own account") {
		t.Errorf("self-deactivation: %d\n%s", p.status, p.body)
	}
	p = admin.post(userPage(me)+"/delete", url.Values{"csrf_token": {page.csrf(t)}, "confirm": {"root"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Admins cannot delete their own account") {
		t.Errorf("self-deletion: %d\n%s", p.status, p.body)
	}
	if p := admin.get("/ui/admin/users"); p.status != http.StatusOK {
		t.Fatalf("root is locked out: %d", p.status)
	}
	// With another admin, root may step down, and lands on the account.
	e.newAdmin(t, "deputy")
	p = admin.submit(userPage(me), userPage(me)+"/roles", nil)
	if p.status != http.StatusSeeOther || p.location() != "/ui/account" {
		t.Errorf("stepping down: %d %s", p.status, p.location())
	}
	if p := admin.get("/ui/admin/users"); p.status != http.StatusForbidden {
		t.Errorf("after stepping down: %d", p.status)
	}
}

func TestAdminDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	victim := e.newUser(t, "gina")
	id := e.userID(t, "gina")

	form := admin.get(userPage(id) + "/delete")
	if form.status != http.StatusOK || !strings.Contains(form.body, "Delete gina?") || !strings.Contains(form.body, `id="f-confirm"`) {
		t.Fatalf("delete form: %d\n%s", form.status, form.body)
	}
	p := admin.post(userPage(id)+"/delete", url.Values{"csrf_token": {form.csrf(t)}, "confirm": {"Gina"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "This is not the username of the account") {
		t.Fatalf("wrong confirmation: %d\n%s", p.status, p.body)
	}
	if p := admin.get(userPage(id)); p.status != http.StatusOK {
		t.Fatal("a wrong confirmation deleted the user")
	}
	p = admin.post(userPage(id)+"/delete", url.Values{"csrf_token": {form.csrf(t)}, "confirm": {"gina"}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/admin/users?m=user_deleted" {
		t.Fatalf("delete: %d %s", p.status, p.location())
	}
	if p := admin.get(p.location()); !strings.Contains(p.body, "The user has been deleted") || strings.Contains(p.body, ">gina</a>") {
		t.Error("the list after deletion")
	}
	if p := admin.get(userPage(id)); p.status != http.StatusNotFound {
		t.Errorf("deleted user's page: %d", p.status)
	}
	if p := victim.get("/ui/account"); p.status != http.StatusSeeOther {
		t.Errorf("the deleted user's browser: %d", p.status)
	}
}

// Every admin form is refused without the session's own form token, or
// from another site, and changes nothing.
func TestAdminForgedPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	other := e.newAdmin(t, "deputy")
	e.newUser(t, "hank")
	id := e.userID(t, "hank")
	own := admin.get(userPage(id)).csrf(t)
	theirs := other.get(userPage(id)).csrf(t)
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	for _, action := range []string{"deactivate", "roles", "sessions/revoke", "delete"} {
		form := url.Values{"admin": {"1"}, "confirm": {"hank"}}
		for name, try := range map[string]func() page{
			"no token":              func() page { return admin.post(userPage(id)+"/"+action, form) },
			"another session's":     func() page { f := cloneForm(form, theirs); return admin.post(userPage(id)+"/"+action, f) },
			"cross-site, own token": func() page { return admin.do("POST", userPage(id)+"/"+action, cloneForm(form, own), crossSite) },
		} {
			if p := try(); p.status != http.StatusForbidden {
				t.Errorf("%s, %s: %d", action, name, p.status)
			}
		}
	}
	p := admin.get(userPage(id))
	if !strings.Contains(p.body, `class="status ok">Active`) || !strings.Contains(p.body, `id="user-roles">user<`) {
		t.Errorf("a forged post changed the user:\n%s", p.body)
	}
}

func cloneForm(f url.Values, token string) url.Values {
	c := url.Values{}
	for k, v := range f {
		c[k] = v
	}
	c.Set("csrf_token", token)
	return c
}

var auditRowRE = regexp.MustCompile(`<tr data-event="(\d+)">`)

func TestAdminAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	e.newUser(t, "ivy")
	id := e.userID(t, "ivy")
	admin.submit(userPage(id), userPage(id)+"/deactivate", nil)
	for range 50 { // admin_read events, enough for a second page
		admin.get("/ui/admin/users")
	}

	p := admin.get("/ui/admin/audit")
	rows := auditRowRE.FindAllStringSubmatch(p.body, -1)
	if p.status != http.StatusOK || len(rows) != 50 {
		t.Fatalf("audit page: %d, %d rows", p.status, len(rows))
	}
	for i := 1; i < len(rows); i++ {
		a, _ := strconv.Atoi(rows[i-1][1])
		b, _ := strconv.Atoi(rows[i][1])
		if a <= b {
			t.Fatalf("not newest first: %d then %d", a, b)
		}
	}
	older := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older events`).FindStringSubmatch(p.body)
	if older == nil {
		t.Fatal("no link to older events")
	}
	p2 := admin.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	rows2 := auditRowRE.FindAllStringSubmatch(p2.body, -1)
	if len(rows2) == 0 || !strings.Contains(p2.body, "Newest") {
		t.Fatalf("older page: %d rows", len(rows2))
	}
	if a, _ := strconv.Atoi(rows[49][1]); func() int { b, _ := strconv.Atoi(rows2[0][1]); return b }() >= a {
		t.Error("the older page does not continue where the first ended")
	}
	if !strings.Contains(p2.body, "<code>user_deactivated</code>") {
		t.Error("the deactivation is not on the older page")
	}

	// Filters: event, user, actor, times; they survive paging.
	p = admin.get("/ui/admin/audit?event=user_deactivated")
	if rows := auditRowRE.FindAllStringSubmatch(p.body, -1); len(rows) != 1 || !strings.Contains(p.body, `href="/ui/admin/users/`+strconv.FormatInt(id, 10)+`"`) ||
		!strings.Contains(p.body, `<option value="user_deactivated" selected>`) {
		t.Errorf("event filter: %d rows\n%s", len(rows), p.body)
	}
	p = admin.get("/ui/admin/audit?user_id=" + strconv.FormatInt(id, 10))
	if n := len(auditRowRE.FindAllString(p.body, -1)); n != 4 || !strings.Contains(p.body, "<code>register</code>") || !strings.Contains(p.body, "<code>login</code>") {
		t.Errorf("user filter:\n%s", p.body)
	}
	p = admin.get("/ui/admin/audit?event=admin_read&user_id=")
	if o := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.body); o == nil || !strings.Contains(o[1], "event=admin_read") {
		t.Errorf("the older link drops the filter: %v", o)
	}
	future := e.clock.Now().Add(24 * 60 * 60 * 1e9).UTC().Format("2006-01-02T15:04")
	if p := admin.get("/ui/admin/audit?since=" + future); !strings.Contains(p.body, "No events found") {
		t.Error("since in the future still lists events")
	}
	if p := admin.get("/ui/admin/audit?until=" + future + "&event=register"); len(auditRowRE.FindAllString(p.body, -1)) != 2 {
		t.Error("until filter")
	}
	// Bad filters: the page with the problems, 422.
	for _, q := range []string{"since=yesterday", "user_id=x", "actor_id=-3", "before=z"} {
		p := admin.get("/ui/admin/audit?" + q)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-problem"`) && !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%s: %d", q, p.status)
		}
	}
	if p := admin.get("/ui/admin/audit?since=yesterday"); !strings.Contains(p.body, `id="e-since"`) {
		t.Error("a bad time is not shown at its field")
	}
}

func TestAdminPagesKorean(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := e.newAdmin(t, "root")
	admin.header.Set("Accept-Language", "ko")
	for path, want := range map[string]string{
		"/ui/admin/users": "사용자 검색", "/ui/admin/audit": "감사 로그", userPage(e.userID(t, "root")): "역할 저장",
	} {
		if p := admin.get(path); p.status != http.StatusOK || !strings.Contains(p.body, want) || !strings.Contains(p.body, `lang="ko"`) {
			t.Errorf("%s in Korean: %d", path, p.status)
		}
	}
}
