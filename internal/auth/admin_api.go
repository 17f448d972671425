package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// AdminAPI runs the admin API's use cases. Who may call them is the HTTP
// layer's to decide (it requires gatehouse.RoleAdmin of the request's user,
// as freshly loaded for the request); every method takes that user as actor,
// refuses the changes that would lock the admins out, and records what it
// did in the audit log with the actor's id (ActorID) and the account it
// concerns (UserID). It is safe for concurrent use.
type AdminAPI struct {
	svc   *Service
	store gatehouse.AdminStore
	admin *Admin
}

// NewAdminAPI returns the admin use cases over svc's stores, revocation set,
// hasher, policy and audit log, with store for searches and roles. store
// must be the same chain of wrappers as svc's user store (cache, Redis
// announcements), so that a role change is seen by the next request.
func NewAdminAPI(svc *Service, store gatehouse.AdminStore) *AdminAPI {
	return &AdminAPI{
		svc:   svc,
		store: store,
		// Creation runs Register without its audit record ("register" is
		// self-registration's event): the admin API records user_created.
		admin: &Admin{users: svc.users, reg: New(Deps{Users: svc.users, Hasher: svc.hasher, Policy: svc.policy, Logger: svc.log})},
	}
}

// Page bounds of the admin API's listings.
const (
	DefaultUserPage  = 50
	MaxUserPage      = 200
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
	// MaxSearch bounds a user search, in bytes: an email address at its
	// longest.
	MaxSearch = gatehouse.AuditMaxLogin
)

// ValidateRoles checks roles given by an admin or an operator and returns
// them as stored (gatehouse.NormalizeRoles). Problems are a CodeValidation
// error on field "roles": role_invalid, or too_many_roles.
func ValidateRoles(roles []string) ([]string, error) {
	stored, invalid := gatehouse.NormalizeRoles(roles)
	if len(invalid) > 0 {
		return nil, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "role_invalid", Key: "role_invalid"})
	}
	if len(stored) > gatehouse.MaxRoles {
		return nil, gatehouse.ValidationError(gatehouse.FieldError{Loc: []string{"body", "roles"}, Type: "too_many_roles", Key: "too_many_roles",
			Args: map[string]any{"max": gatehouse.MaxRoles}})
	}
	return stored, nil
}

// record writes an admin action to the audit log: the actor, the account
// concerned, and the outcome err implies (validation failures, which change
// nothing and say nothing about anyone, are not recorded).
func (a *AdminAPI) record(ctx context.Context, event string, actor *gatehouse.User, target int64, detail map[string]string, err error) {
	if gatehouse.IsCode(err, gatehouse.CodeValidation) {
		return
	}
	e := &gatehouse.AuditEvent{Event: event, Outcome: gatehouse.OutcomeSuccess, UserID: target, ActorID: actor.ID, Detail: detail}
	if err != nil {
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, gatehouse.ErrorCode(err)
	}
	a.svc.record(ctx, e)
}

// Denied records that u, who lacks role, called a route that requires it:
// a user probing the admin API is a security event.
func (a *AdminAPI) Denied(ctx context.Context, u *gatehouse.User, role string) {
	a.svc.record(ctx, &gatehouse.AuditEvent{Event: gatehouse.EventAdminDenied, Outcome: gatehouse.OutcomeFailure,
		Reason: gatehouse.CodeForbidden, UserID: u.ID, Detail: map[string]string{"role": role}})
}

// UserPage is a page of users and whether more follow (then pass the last
// id as the next query's After).
type UserPage struct {
	Users []*gatehouse.User
	More  bool
}

// ListUsers returns a page of users matching q. q.Limit 0 means
// DefaultUserPage; a limit outside [1, MaxUserPage], a negative After, a
// search longer than MaxSearch or an invalid role name is a CodeValidation
// error on the query parameter. The search is case-insensitive.
func (a *AdminAPI) ListUsers(ctx context.Context, actor *gatehouse.User, q gatehouse.UserQuery) (page *UserPage, err error) {
	var fields []gatehouse.FieldError
	if q.Limit == 0 {
		q.Limit = DefaultUserPage
	}
	if q.Limit < 1 || q.Limit > MaxUserPage {
		fields = append(fields, rangeProblem("limit", 1, MaxUserPage))
	}
	if q.After < 0 {
		fields = append(fields, rangeProblem("after", 0, maxInt64))
	}
	if len(q.Search) > MaxSearch {
		fields = append(fields, gatehouse.FieldError{Loc: []string{"query", "search"}, Type: "string_too_long", Key: "string_too_long",
			Args: map[string]any{"max": MaxSearch}})
	}
	if q.Role != "" && !gatehouse.ValidRole(q.Role) {
		fields = append(fields, gatehouse.FieldError{Loc: []string{"query", "role"}, Type: "role_invalid", Key: "role_invalid"})
	}
	if len(fields) > 0 {
		return nil, gatehouse.ValidationError(fields...)
	}
	defer func() { a.record(ctx, gatehouse.EventAdminRead, actor, 0, map[string]string{"what": "users"}, err) }()
	// The keys are case-folded (PRECIS for usernames, lower case for
	// emails); lower case is what both look like to a search.
	q.Search = strings.ToLower(q.Search)
	want := q.Limit
	q.Limit++ // one more, to tell whether another page follows
	users, err := a.store.SearchUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	page = &UserPage{Users: users}
	if len(users) > want {
		page.Users, page.More = users[:want], true
	}
	return page, nil
}

// GetUser returns user id; CodeNotFound if there is none.
func (a *AdminAPI) GetUser(ctx context.Context, actor *gatehouse.User, id int64) (u *gatehouse.User, err error) {
	defer func() { a.record(ctx, gatehouse.EventAdminRead, actor, id, map[string]string{"what": "user"}, err) }()
	return a.svc.users.UserByID(ctx, id)
}

// CreateUser creates an active account under the rules of self-registration
// (Admin.CreateUser), with in.Roles.
func (a *AdminAPI) CreateUser(ctx context.Context, actor *gatehouse.User, in RegisterInput) (u *gatehouse.User, err error) {
	defer func() {
		var id int64
		var detail map[string]string
		if u != nil {
			id, detail = u.ID, map[string]string{"roles": strings.Join(u.AllRoles(), " ")}
		}
		a.record(ctx, gatehouse.EventUserCreated, actor, id, detail, err)
	}()
	in.ClientIP = "" // an admin's creations are not held to the per-address registration limit
	return a.admin.CreateUser(ctx, in)
}

// SetActive activates or deactivates user id and returns it as it now is.
// Deactivation revokes every session of the user in the same transaction
// (the store's SetUserActive), and the revocation is synced before it
// returns, so the user's access tokens are refused from the next request
// and its refresh tokens at once. An admin cannot deactivate their own
// account (CodeAdminLockout): another admin must.
func (a *AdminAPI) SetActive(ctx context.Context, actor *gatehouse.User, id int64, active bool) (u *gatehouse.User, err error) {
	event := gatehouse.EventUserActivated
	if !active {
		event = gatehouse.EventUserDeactivated
	}
	defer func() { a.record(ctx, event, actor, id, nil, err) }()
	if !active && id == actor.ID {
		return nil, &gatehouse.Error{Code: gatehouse.CodeAdminLockout, Key: "admin_self_deactivate"}
	}
	if err := a.svc.users.SetUserActive(ctx, id, active); err != nil {
		return nil, lastAdmin(err)
	}
	if !active {
		if err := a.svc.revocations.Sync(ctx); err != nil {
			return nil, err
		}
	}
	return a.svc.users.UserByID(ctx, id)
}

// DeleteUser deletes user id and its sessions, revoking them first (the
// store's DeleteUser). An admin cannot delete their own account
// (CodeAdminLockout).
func (a *AdminAPI) DeleteUser(ctx context.Context, actor *gatehouse.User, id int64) (err error) {
	defer func() { a.record(ctx, gatehouse.EventUserDeleted, actor, id, nil, err) }()
	if id == actor.ID {
		return &gatehouse.Error{Code: gatehouse.CodeAdminLockout, Key: "admin_self_delete"}
	}
	if err := a.svc.users.DeleteUser(ctx, id); err != nil {
		return lastAdmin(err)
	}
	return a.svc.revocations.Sync(ctx)
}

// SetRoles replaces the roles of user id (RoleUser is implicit and may be
// given or not) and returns the user as it now is. They appear in the
// user's next access token (at the next login or refresh); the admin API's
// own check reads them at once. Taking RoleAdmin from the last active admin
// is refused (CodeAdminLockout, decided by the store under lock).
func (a *AdminAPI) SetRoles(ctx context.Context, actor *gatehouse.User, id int64, roles []string) (u *gatehouse.User, err error) {
	roles, err = ValidateRoles(roles)
	if err != nil {
		return nil, err
	}
	defer func() {
		a.record(ctx, gatehouse.EventUserRolesSet, actor, id, map[string]string{"roles": strings.Join((&gatehouse.User{Roles: roles}).AllRoles(), " ")}, err)
	}()
	if err := a.store.SetUserRoles(ctx, id, roles); err != nil {
		return nil, lastAdmin(err)
	}
	return a.svc.users.UserByID(ctx, id)
}

// lastAdmin gives the store's last-admin refusal its message.
func lastAdmin(err error) error {
	if gatehouse.IsCode(err, gatehouse.CodeAdminLockout) {
		return &gatehouse.Error{Code: gatehouse.CodeAdminLockout, Key: "last_admin", Err: err}
	}
	return err
}

// RevokeSessions revokes every live session of user id and returns how many
// it revoked; the revocation is synced before it returns. CodeNotFound if
// there is no such user.
func (a *AdminAPI) RevokeSessions(ctx context.Context, actor *gatehouse.User, id int64) (n int, err error) {
	defer func() {
		a.record(ctx, gatehouse.EventUserSessionsRevoked, actor, id, map[string]string{"count": strconv.Itoa(n)}, err)
	}()
	if _, err := a.svc.users.UserByID(ctx, id); err != nil {
		return 0, err
	}
	n, err = a.svc.sessions.RevokeUserSessions(ctx, id, "", gatehouse.RevokedByAdmin, a.svc.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, err
	}
	return n, a.svc.revocations.Sync(ctx)
}

// AuditPage is a page of audit events and whether more follow.
type AuditPage struct {
	Events []*gatehouse.AuditEvent
	More   bool
}

// Audit returns a page of the audit log matching f. f.Limit 0 means
// DefaultAuditPage; a limit outside [1, MaxAuditPage], a negative cursor or
// id is a CodeValidation error.
func (a *AdminAPI) Audit(ctx context.Context, actor *gatehouse.User, f gatehouse.AuditFilter) (page *AuditPage, err error) {
	var fields []gatehouse.FieldError
	if f.Limit == 0 {
		f.Limit = DefaultAuditPage
	}
	if f.Limit < 1 || f.Limit > MaxAuditPage {
		fields = append(fields, rangeProblem("limit", 1, MaxAuditPage))
	}
	for _, p := range []struct {
		name string
		v    int64
	}{{"after", f.After}, {"before", f.Before}, {"user_id", f.UserID}, {"actor_id", f.ActorID}} {
		if p.v < 0 {
			fields = append(fields, rangeProblem(p.name, 0, maxInt64))
		}
	}
	if len(fields) > 0 {
		return nil, gatehouse.ValidationError(fields...)
	}
	if a.svc.audit == nil {
		return nil, errors.New("admin audit: no audit log configured")
	}
	defer func() { a.record(ctx, gatehouse.EventAdminRead, actor, 0, map[string]string{"what": "audit"}, err) }()
	want := f.Limit
	f.Limit++
	events, err := a.svc.audit.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	page = &AuditPage{Events: events}
	if len(events) > want {
		page.Events, page.More = events[:want], true
	}
	return page, nil
}

const maxInt64 = int64(^uint64(0) >> 1)

func rangeProblem(param string, min, max int64) gatehouse.FieldError {
	return gatehouse.FieldError{Loc: []string{"query", param}, Type: "int_range", Key: "int_range",
		Args: map[string]any{"min": min, "max": max}}
}

// UsernameKey returns the key under which username is stored, as
// registration computes it; ok is false when username could not be
// registered at all (and so names no account).
func UsernameKey(username string) (key string, ok bool) {
	_, key, p := normalizeUsername(username)
	return key, p == nil
}
