package pages

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// The administration pages (/ui/admin/): the users, with search, paging,
// activation, roles, session revocation and deletion, and the audit log.
// They are one more door to the admin API's use cases (auth.AdminAPI): the
// same lock-out rules, the same audit records with the admin as actor. As
// the API does, they check the admin role on the user loaded for this
// request (resolve loads it through the user cache, which every write
// forgets), never on the token's roles claim, so that an admin whose role
// is taken away loses the pages at their next request.

// adminRoutes are the administration pages' routes; none without admin use
// cases (the addresses are then 404 pages, like any unknown one).
func adminRoutes(admin *auth.AdminAPI, j *jar, v *views) []route {
	if admin == nil {
		return nil
	}
	signedIn := requireSession(j, v)
	onlyAdmins := requireAdmin(admin, v)
	a := func(h http.Handler) http.Handler { return signedIn(onlyAdmins(h)) }
	return []route{
		{"GET /ui/admin/{$}", a(http.RedirectHandler("/ui/admin/users", http.StatusSeeOther))},
		{"GET /ui/admin/users", a(handleAdminUsers(admin, j, v))},
		{"GET /ui/admin/users/{id}", a(handleAdminUser(admin, j, v))},
		{"POST /ui/admin/users/{id}/deactivate", a(handleAdminSetActive(admin, j, v, false))},
		{"POST /ui/admin/users/{id}/activate", a(handleAdminSetActive(admin, j, v, true))},
		{"POST /ui/admin/users/{id}/roles", a(handleAdminSetRoles(admin, j, v))},
		{"POST /ui/admin/users/{id}/sessions/revoke", a(handleAdminRevokeSessions(admin, j, v))},
		{"POST /ui/admin/users/{id}/mfa/reset", a(handleAdminResetMFA(admin, j, v))},
		{"GET /ui/admin/users/{id}/delete", a(handleAdminDeleteForm(admin, j, v))},
		{"POST /ui/admin/users/{id}/delete", a(handleAdminDelete(admin, j, v))},
		{"GET /ui/admin/audit", a(handleAdminAudit(admin, j, v))},
	}
}

// requireAdmin lets through only a session whose user, as loaded for this
// request, holds the admin role. Anyone else gets a 403 page, and the
// refusal is audited as the API's is (admin_denied).
func requireAdmin(admin *auth.AdminAPI, v *views) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionFrom(r.Context())
			if !s.user.HasRole(gatehouse.RoleAdmin) {
				admin.Denied(r.Context(), s.user, gatehouse.RoleAdmin)
				v.fail(w, r, &gatehouse.Error{Code: gatehouse.CodeForbidden, Args: map[string]any{"role": gatehouse.RoleAdmin}})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// AdminPage reports whether the view is one of the administration pages
// (for the navigation).
func (v *view) AdminPage() bool { return strings.HasPrefix(v.Page, "admin_") }

// adminFlashes are the notices a redirect to an administration page may ask
// for with ?m=.
var adminFlashes = map[string]bool{
	"user_deactivated": true, "user_activated": true, "roles_saved": true,
	"sessions_revoked": true, "user_deleted": true, "mfa_reset": true,
}

// adminView starts the view of an administration page with the session's
// form token and the notice its ?m= names.
func adminView(j *jar, v *views, r *http.Request, name string) *view {
	pv := v.page(r, name)
	pv.CSRF = j.sessionToken(sessionFrom(r.Context()))
	if m := r.URL.Query().Get("m"); adminFlashes[m] {
		// ?n= is the only value a notice takes from the address, and only
		// as a number.
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 0
		}
		pv.Flash = pv.T("ui.admin.flash."+m, "count", n)
	}
	return pv
}

// userRow is a user as the administration pages show it.
type userRow struct {
	ID        int64
	Username  string
	Email     string
	Active    bool
	Verified  bool
	CreatedAt time.Time
	Roles     []string // every role, "user" included
	Admin     bool
	Custom    string // the stored roles other than admin, space-separated
	Self      bool   // the signed-in admin
}

func newUserRow(u *gatehouse.User, self *gatehouse.User) userRow {
	var custom []string
	for _, r := range u.Roles {
		if r != gatehouse.RoleAdmin && r != gatehouse.RoleUser {
			custom = append(custom, r)
		}
	}
	return userRow{
		ID: u.ID, Username: u.Username, Email: u.Email, Active: u.IsActive, Verified: !u.EmailVerifiedAt.IsZero(),
		CreatedAt: u.CreatedAt, Roles: u.AllRoles(), Admin: u.HasRole(gatehouse.RoleAdmin),
		Custom: strings.Join(custom, " "), Self: u.ID == self.ID,
	}
}

// usersData is the users page's own data.
type usersData struct {
	Users  []userRow
	Search string
	After  int64
	// First is the address of the first page, Next that of the next
	// ("" on the last).
	First, Next string
}

// handleAdminUsers lists users by id, 50 a page: ?search= (a case-
// insensitive part of the username or email), ?after= (the paging cursor,
// the last id of the page before).
func handleAdminUsers(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := adminView(j, v, r, "admin_users")
		search := strings.TrimSpace(r.URL.Query().Get("search"))
		data := usersData{Search: search, First: "/ui/admin/users"}
		if search != "" {
			data.First += "?" + url.Values{"search": {search}}.Encode()
		}
		pv.Data = &data
		pv.Form["search"] = search
		after, err := queryID(r, "after")
		if err == nil {
			data.After = after
			var page *auth.UserPage
			page, err = admin.ListUsers(r.Context(), sessionFrom(r.Context()).user, gatehouse.UserQuery{Search: search, After: after})
			if err == nil {
				me := sessionFrom(r.Context()).user
				for _, u := range page.Users {
					data.Users = append(data.Users, newUserRow(u, me))
				}
				if page.More {
					q := url.Values{"after": {strconv.FormatInt(page.Users[len(page.Users)-1].ID, 10)}}
					if search != "" {
						q.Set("search", search)
					}
					data.Next = "/ui/admin/users?" + q.Encode()
				}
			}
		}
		status := http.StatusOK
		if err != nil {
			status = v.explain(w, r, pv, err)
		}
		v.render(w, r, status, pv)
	})
}

// queryID reads an optional non-negative integer query parameter (a cursor
// or an id); a bad one is a validation problem on that parameter.
func queryID(r *http.Request, name string) (int64, error) {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"query", name}, Type: "int_parsing", Key: "ui.admin.number_invalid"})
	}
	return n, nil
}

// pathUserID reads the {id} of a user's address: an id that is not a
// number names no user.
func pathUserID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &gatehouse.Error{Code: gatehouse.CodeNotFound}
	}
	return id, nil
}

// userData is a user's page's own data.
type userData struct {
	User userRow
	MFA  *adminMFA // nil: second factors are not configured
}

// renderUser shows user id's page with status, after whatever pv already
// says (a notice, or a problem with one of its forms).
func renderUser(admin *auth.AdminAPI, v *views, w http.ResponseWriter, r *http.Request, status int, pv *view, id int64) {
	u, err := admin.GetUser(r.Context(), sessionFrom(r.Context()).user, id)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	row := newUserRow(u, sessionFrom(r.Context()).user)
	if _, kept := pv.Form["roles"]; !kept {
		pv.Form["roles"] = row.Custom
	}
	mfa, err := adminMFAOf(admin, r, id)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	pv.Data = userData{User: row, MFA: mfa}
	v.render(w, r, status, pv)
}

// handleAdminUser shows one user: facts, status, roles, and the actions.
func handleAdminUser(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathUserID(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		renderUser(admin, v, w, r, http.StatusOK, adminView(j, v, r, "admin_user"), id)
	})
}

// adminAction runs do for the user of the address. On success the browser
// goes to the user's page with the notice m; a refusal (an admin lock-out,
// a bad role) is shown on the user's page with its status.
func adminAction(admin *auth.AdminAPI, j *jar, v *views, do func(r *http.Request, actor *gatehouse.User, id int64) (to string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathUserID(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		to, err := do(r, sessionFrom(r.Context()).user, id)
		if err == nil {
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		pv := adminView(j, v, r, "admin_user")
		if r.PostForm.Has("roles") {
			pv.Form["roles"] = r.PostFormValue("roles") // what was typed, to be corrected
		}
		status := v.explain(w, r, pv, err)
		if status == http.StatusNotFound {
			v.render(w, r, status, v.page(r, "error").withError(pv.Error))
			return
		}
		renderUser(admin, v, w, r, status, pv, id)
	})
}

// Stamp shows t to the second, in UTC, as the audit log needs.
func (v *view) Stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// withError returns the view with its problem set to msg.
func (v *view) withError(msg string) *view { v.Error = msg; return v }

func userPath(id int64) string { return "/ui/admin/users/" + strconv.FormatInt(id, 10) }

// handleAdminSetActive activates or deactivates a user. Deactivation
// revokes every session of the user at once (auth.AdminAPI.SetActive): the
// browser and the API clients signed in as them are signed out on their
// next request. An admin cannot deactivate their own account.
func handleAdminSetActive(admin *auth.AdminAPI, j *jar, v *views, active bool) http.Handler {
	return adminAction(admin, j, v, func(r *http.Request, actor *gatehouse.User, id int64) (string, error) {
		if _, err := admin.SetActive(r.Context(), actor, id, active); err != nil {
			return "", err
		}
		if active {
			return userPath(id) + "?m=user_activated", nil
		}
		return userPath(id) + "?m=user_deactivated", nil
	})
}

// handleAdminSetRoles replaces a user's roles: the admin checkbox and the
// other roles, separated by spaces or commas. An admin who gives up their
// own admin role goes to their account page, the administration pages being
// closed to them from now on.
func handleAdminSetRoles(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return adminAction(admin, j, v, func(r *http.Request, actor *gatehouse.User, id int64) (string, error) {
		roles := strings.FieldsFunc(r.PostFormValue("roles"), func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' })
		if r.PostFormValue("admin") == "1" {
			roles = append(roles, gatehouse.RoleAdmin)
		} else {
			// The checkbox decides about admin; the free text is for the
			// other roles.
			roles = slices.DeleteFunc(roles, func(s string) bool { return s == gatehouse.RoleAdmin })
		}
		u, err := admin.SetRoles(r.Context(), actor, id, roles)
		if err != nil {
			return "", err
		}
		if u.ID == actor.ID && !u.HasRole(gatehouse.RoleAdmin) {
			return "/ui/account", nil
		}
		return userPath(id) + "?m=roles_saved", nil
	})
}

// handleAdminRevokeSessions signs a user out everywhere.
func handleAdminRevokeSessions(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return adminAction(admin, j, v, func(r *http.Request, actor *gatehouse.User, id int64) (string, error) {
		n, err := admin.RevokeSessions(r.Context(), actor, id)
		if err != nil {
			return "", err
		}
		return userPath(id) + "?m=sessions_revoked&n=" + strconv.Itoa(n), nil
	})
}

// handleAdminDeleteForm asks to confirm a deletion by typing the username.
func handleAdminDeleteForm(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathUserID(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		renderUser(admin, v, w, r, http.StatusOK, adminView(j, v, r, "admin_delete"), id)
	})
}

// handleAdminDelete deletes a user, its sessions revoked first, once the
// admin has typed the username to confirm. An admin cannot delete their own
// account.
func handleAdminDelete(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathUserID(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		actor := sessionFrom(r.Context()).user
		u, err := admin.GetUser(r.Context(), actor, id)
		if err == nil {
			if confirm := r.PostFormValue("confirm"); confirm != u.Username {
				err = gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "confirm"}, Type: "confirm_mismatch", Key: "ui.admin.delete.mismatch"})
			} else {
				err = admin.DeleteUser(r.Context(), actor, id)
			}
		}
		if err == nil {
			http.Redirect(w, r, "/ui/admin/users?m=user_deleted", http.StatusSeeOther)
			return
		}
		pv := adminView(j, v, r, "admin_delete")
		status := v.explain(w, r, pv, err)
		if status == http.StatusNotFound {
			v.render(w, r, status, v.page(r, "error").withError(pv.Error))
			return
		}
		renderUser(admin, v, w, r, status, pv, id)
	})
}

// auditEvents are the events the audit page's filter offers.
var auditEvents = []string{
	gatehouse.EventLogin, gatehouse.EventLogout, gatehouse.EventLogoutAll, gatehouse.EventRegister,
	gatehouse.EventRefresh, gatehouse.EventRefreshReuse, gatehouse.EventSessionRevoked,
	gatehouse.EventPasswordChanged, gatehouse.EventRateLimited,
	gatehouse.EventUserCreated, gatehouse.EventUserImported, gatehouse.EventUserActivated,
	gatehouse.EventUserDeactivated, gatehouse.EventUserDeleted, gatehouse.EventUserRolesSet,
	gatehouse.EventUserSessionsRevoked, gatehouse.EventAdminRead, gatehouse.EventAdminDenied,
	gatehouse.EventKeyRotated, gatehouse.EventAuditPruned,
}

// auditPage is how many events the audit page shows at once.
const auditPage = 50

// auditRow is one line of the audit page.
type auditRow struct {
	ID        int64
	At        time.Time
	Event     string
	Success   bool
	Reason    string
	UserID    int64
	ActorID   int64
	Login     string
	ClientIP  string
	SessionID string
	UserAgent string
	RequestID string
	Detail    []string // "key=value", sorted
}

// auditData is the audit page's own data.
type auditData struct {
	Events []auditRow
	Names  []string // the events to filter by
	// Filtered: some filter is set. Older is the address of the next,
	// older page ("" on the last); Newest that of the first.
	Filtered, Paged bool
	Older, Newest   string
}

// auditTimeLayouts are the forms a since/until filter may take: what a
// datetime-local input sends (read as UTC, as the page shows times), a
// date, or RFC 3339.
var auditTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339Nano}

func queryTime(r *http.Request, name string, problems *[]gatehouse.FieldError) time.Time {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return time.Time{}
	}
	for _, layout := range auditTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	*problems = append(*problems, gatehouse.FieldError{Loc: []string{"query", name}, Type: "datetime_parsing", Key: "ui.admin.audit.time_invalid"})
	return time.Time{}
}

// handleAdminAudit shows the audit log, newest first, auditPage events a
// page: ?event=, ?user_id=, ?actor_id=, ?since=, ?until= (UTC), ?before=
// (the paging cursor, the last id of the page before).
func handleAdminAudit(admin *auth.AdminAPI, j *jar, v *views) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pv := adminView(j, v, r, "admin_audit")
		qv := r.URL.Query()
		data := auditData{Names: auditEvents}
		pv.Data = &data
		var problems []gatehouse.FieldError
		f := gatehouse.AuditFilter{Newest: true, Limit: auditPage, Event: strings.TrimSpace(qv.Get("event")),
			Since: queryTime(r, "since", &problems), Until: queryTime(r, "until", &problems)}
		for _, p := range []struct {
			name string
			to   *int64
		}{{"user_id", &f.UserID}, {"actor_id", &f.ActorID}, {"before", &f.Before}} {
			n, err := queryID(r, p.name)
			if err != nil {
				problems = append(problems, gatehouse.FieldError{Loc: []string{"query", p.name}, Type: "int_parsing", Key: "ui.admin.number_invalid"})
			}
			*p.to = n
		}
		for _, name := range []string{"event", "user_id", "actor_id", "since", "until"} {
			pv.Form[name] = strings.TrimSpace(qv.Get(name))
		}
		data.Filtered = f.Event != "" || f.UserID != 0 || f.ActorID != 0 || !f.Since.IsZero() || !f.Until.IsZero()
		data.Paged = f.Before != 0
		var err error
		if len(problems) > 0 {
			err = gatehouse.ValidationError(problems...)
		} else {
			var page *auth.AuditPage
			page, err = admin.Audit(r.Context(), sessionFrom(r.Context()).user, f)
			if err == nil {
				for _, e := range page.Events {
					data.Events = append(data.Events, newAuditRow(e))
				}
				keep := url.Values{}
				for _, name := range []string{"event", "user_id", "actor_id", "since", "until"} {
					if pv.Form[name] != "" {
						keep.Set(name, pv.Form[name])
					}
				}
				data.Newest = "/ui/admin/audit"
				if len(keep) > 0 {
					data.Newest += "?" + keep.Encode()
				}
				if page.More {
					keep.Set("before", strconv.FormatInt(page.Events[len(page.Events)-1].ID, 10))
					data.Older = "/ui/admin/audit?" + keep.Encode()
				}
			}
		}
		status := http.StatusOK
		if err != nil {
			status = v.explain(w, r, pv, err)
		}
		v.render(w, r, status, pv)
	})
}

func newAuditRow(e *gatehouse.AuditEvent) auditRow {
	row := auditRow{
		ID: e.ID, At: e.At, Event: e.Event, Success: e.Outcome == gatehouse.OutcomeSuccess, Reason: e.Reason,
		UserID: e.UserID, ActorID: e.ActorID, Login: e.Login, ClientIP: e.ClientIP, SessionID: e.SessionID, UserAgent: e.UserAgent,
		RequestID: e.RequestID,
	}
	for k, val := range e.Detail {
		row.Detail = append(row.Detail, k+"="+val)
	}
	slices.Sort(row.Detail)
	return row
}
