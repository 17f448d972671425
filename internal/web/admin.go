package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// The admin API (/admin/...). Every route runs behind requireUser and then
// requireRole(admin): the role is checked on the user as loaded for this
// request (through the user cache, which every write through this server
// forgets), not on the token's "roles" claim, so that an admin whose role is
// taken away loses the admin API at once rather than when the token expires.

// requireRole lets through only requests whose user (set by requireUser)
// holds role; others get 403 "forbidden", and the refusal is audited. With
// no admin use cases configured, the routes do not exist (404).
func requireRole(admin *auth.AdminAPI, role string, out *responder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if admin == nil {
			return notFound(out)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := gatehouse.UserFromContext(r.Context())
			if u == nil || !u.HasRole(role) {
				if u != nil {
					admin.Denied(r.Context(), u, role)
				}
				out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeForbidden, Args: map[string]any{"role": role}})
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
		})
	}
}

// adminUser is a user as the admin API shows it: never the password hash.
type adminUser struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	IsActive  bool      `json:"is_active"`
	CreatedAt time.Time `json:"created_at"`
	Roles     []string  `json:"roles"`
}

func newAdminUser(u *gatehouse.User) adminUser {
	return adminUser{ID: u.ID, Username: u.Username, Email: u.Email, IsActive: u.IsActive, CreatedAt: u.CreatedAt.UTC(), Roles: u.AllRoles()}
}

// queryInt reads an optional integer query parameter, adding an
// int_parsing problem when it is not one.
func queryInt(r *http.Request, name string, problems *[]gatehouse.FieldError) int64 {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		*problems = append(*problems, gatehouse.FieldError{Loc: []string{"query", name}, Type: "int_parsing"})
	}
	return n
}

// queryLimit reads the optional limit parameter: absent is 0 (the use
// case's default), an explicit 0 is out of range.
func queryLimit(r *http.Request, problems *[]gatehouse.FieldError) int {
	n := queryInt(r, "limit", problems)
	if n == 0 && r.URL.Query().Has("limit") {
		return -1
	}
	if n > 1<<20 || n < -1 {
		return -1
	}
	return int(n)
}

// queryTime reads an optional RFC 3339 query parameter.
func queryTime(r *http.Request, name string, problems *[]gatehouse.FieldError) time.Time {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		*problems = append(*problems, gatehouse.FieldError{Loc: []string{"query", name}, Type: "datetime_parsing", Key: "datetime_parsing"})
	}
	return t
}

// pathID reads the {id} path segment: a user id, or 404 (an id that is not
// a number names no user).
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &gatehouse.Error{Code: gatehouse.CodeNotFound}
	}
	return id, nil
}

// handleAdminListUsers lists users by id: ?search= (case-insensitive
// substring of username or email), ?role=, ?after= (the cursor: the last id
// of the previous page), ?limit=.
func handleAdminListUsers(admin *auth.AdminAPI, out *responder) http.Handler {
	type response struct {
		Users     []adminUser `json:"users"`
		NextAfter *int64      `json:"next_after"` // null on the last page
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var problems []gatehouse.FieldError
		q := gatehouse.UserQuery{
			Search: r.URL.Query().Get("search"),
			Role:   r.URL.Query().Get("role"),
			After:  queryInt(r, "after", &problems),
			Limit:  queryLimit(r, &problems),
		}
		if len(problems) > 0 {
			out.error(w, r, gatehouse.ValidationError(problems...))
			return
		}
		page, err := admin.ListUsers(r.Context(), gatehouse.UserFromContext(r.Context()), q)
		if err != nil {
			out.error(w, r, err)
			return
		}
		res := response{Users: make([]adminUser, 0, len(page.Users))}
		for _, u := range page.Users {
			res.Users = append(res.Users, newAdminUser(u))
		}
		if page.More {
			last := page.Users[len(page.Users)-1].ID
			res.NextAfter = &last
		}
		encode(w, http.StatusOK, res)
	})
}

// handleAdminCreateUser creates an account: JSON {username, email,
// password, roles?}, under the rules of self-registration.
func handleAdminCreateUser(admin *auth.AdminAPI, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := out.requireContentType(w, r, "application/json"); !ok {
			return
		}
		raw, err := decodeJSON(r)
		if err != nil {
			out.error(w, r, err)
			return
		}
		in, problems := stringFields(raw, "username", "email", "password")
		var roles []string
		if v, ok := raw["roles"]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, &roles); err != nil {
				problems = append(problems, gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "list_type", Key: "list_type"})
			}
		}
		if len(problems) > 0 {
			out.error(w, r, gatehouse.ValidationError(problems...))
			return
		}
		u, err := admin.CreateUser(r.Context(), gatehouse.UserFromContext(r.Context()), auth.RegisterInput{
			Username: in["username"], Email: in["email"], Password: in["password"], Roles: roles,
		})
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Location", "/admin/users/"+strconv.FormatInt(u.ID, 10))
		encode(w, http.StatusCreated, newAdminUser(u))
	})
}

// handleAdminGetUser shows one user.
func handleAdminGetUser(admin *auth.AdminAPI, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err == nil {
			var u *gatehouse.User
			if u, err = admin.GetUser(r.Context(), gatehouse.UserFromContext(r.Context()), id); err == nil {
				encode(w, http.StatusOK, newAdminUser(u))
				return
			}
		}
		out.error(w, r, err)
	})
}

// handleAdminSetActive activates or deactivates a user; deactivation
// revokes all of the user's sessions.
func handleAdminSetActive(admin *auth.AdminAPI, active bool, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err == nil {
			var u *gatehouse.User
			if u, err = admin.SetActive(r.Context(), gatehouse.UserFromContext(r.Context()), id, active); err == nil {
				encode(w, http.StatusOK, newAdminUser(u))
				return
			}
		}
		out.error(w, r, err)
	})
}

// handleAdminDeleteUser deletes a user and its sessions.
func handleAdminDeleteUser(admin *auth.AdminAPI, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err == nil {
			if err = admin.DeleteUser(r.Context(), gatehouse.UserFromContext(r.Context()), id); err == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		out.error(w, r, err)
	})
}

// handleAdminSetRoles replaces a user's roles: JSON {"roles": [...]}.
func handleAdminSetRoles(admin *auth.AdminAPI, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			out.error(w, r, err)
			return
		}
		if _, ok := out.requireContentType(w, r, "application/json"); !ok {
			return
		}
		raw, err := decodeJSON(r)
		if err != nil {
			out.error(w, r, err)
			return
		}
		var roles []string
		v, ok := raw["roles"]
		switch {
		case !ok || string(v) == "null":
			err = gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "missing"})
		case json.Unmarshal(v, &roles) != nil:
			err = gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "list_type", Key: "list_type"})
		}
		if err != nil {
			out.error(w, r, err)
			return
		}
		u, err := admin.SetRoles(r.Context(), gatehouse.UserFromContext(r.Context()), id, roles)
		if err != nil {
			out.error(w, r, err)
			return
		}
		encode(w, http.StatusOK, newAdminUser(u))
	})
}

// handleAdminRevokeSessions revokes every session of a user.
func handleAdminRevokeSessions(admin *auth.AdminAPI, out *responder) http.Handler {
	type response struct {
		Revoked int `json:"revoked"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err == nil {
			var n int
			if n, err = admin.RevokeSessions(r.Context(), gatehouse.UserFromContext(r.Context()), id); err == nil {
				encode(w, http.StatusOK, response{Revoked: n})
				return
			}
		}
		out.error(w, r, err)
	})
}

// handleAdminAudit reads the audit log by id: ?event=, ?user_id=,
// ?actor_id=, ?client_ip=, ?since=, ?until= (RFC 3339), ?after= (cursor),
// ?limit=.
func handleAdminAudit(admin *auth.AdminAPI, out *responder) http.Handler {
	type event struct {
		ID        int64             `json:"id"`
		At        time.Time         `json:"at"`
		Event     string            `json:"event"`
		Outcome   string            `json:"outcome"`
		Reason    string            `json:"reason,omitempty"`
		UserID    int64             `json:"user_id,omitempty"`
		ActorID   int64             `json:"actor_id,omitempty"`
		Login     string            `json:"login,omitempty"`
		SessionID string            `json:"session_id,omitempty"`
		ClientIP  string            `json:"client_ip,omitempty"`
		UserAgent string            `json:"user_agent,omitempty"`
		RequestID string            `json:"request_id,omitempty"`
		Detail    map[string]string `json:"detail,omitempty"`
	}
	type response struct {
		Events    []event `json:"events"`
		NextAfter *int64  `json:"next_after"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var problems []gatehouse.FieldError
		qv := r.URL.Query()
		f := gatehouse.AuditFilter{
			After:    queryInt(r, "after", &problems),
			Limit:    queryLimit(r, &problems),
			Event:    qv.Get("event"),
			UserID:   queryInt(r, "user_id", &problems),
			ActorID:  queryInt(r, "actor_id", &problems),
			ClientIP: qv.Get("client_ip"),
			Since:    queryTime(r, "since", &problems),
			Until:    queryTime(r, "until", &problems),
		}
		if len(problems) > 0 {
			out.error(w, r, gatehouse.ValidationError(problems...))
			return
		}
		page, err := admin.Audit(r.Context(), gatehouse.UserFromContext(r.Context()), f)
		if err != nil {
			out.error(w, r, err)
			return
		}
		res := response{Events: make([]event, 0, len(page.Events))}
		for _, e := range page.Events {
			res.Events = append(res.Events, event{
				ID: e.ID, At: e.At.UTC(), Event: e.Event, Outcome: e.Outcome, Reason: e.Reason, UserID: e.UserID,
				ActorID: e.ActorID, Login: e.Login, SessionID: e.SessionID, ClientIP: e.ClientIP,
				UserAgent: e.UserAgent, RequestID: e.RequestID, Detail: e.Detail,
			})
		}
		if page.More {
			last := page.Events[len(page.Events)-1].ID
			res.NextAfter = &last
		}
		encode(w, http.StatusOK, res)
	})
}
