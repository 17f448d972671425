package gatehouse

import (
	"context"
	"slices"
)

// Roles every deployment knows. Any other role that passes ValidRole may be
// given to users too ("billing:read", "support"): gatehouse stores and
// issues roles, and the services that read the token decide what they mean.
const (
	// RoleUser is held by every account, implicitly: it is never stored,
	// SetUserRoles drops it, and HasRole and AllRoles always include it, so
	// that a resource server can require it of any logged-in user.
	RoleUser = "user"
	// RoleAdmin may use the admin API (/admin).
	RoleAdmin = "admin"
)

// Bounds of roles: a role name is 1 to MaxRoleLen bytes of [a-z0-9_:-], and
// a user holds at most MaxRoles stored roles (the token carries them all).
const (
	MaxRoleLen = 64
	MaxRoles   = 32
)

// ValidRole reports whether r is a role name: 1 to MaxRoleLen bytes of
// lowercase ASCII letters, digits, '_', ':' and '-'. The alphabet keeps a
// role one spelling (no case, no Unicode look-alikes) and safe in a header,
// a log line or a space-separated list.
func ValidRole(r string) bool {
	if r == "" || len(r) > MaxRoleLen {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// NormalizeRoles returns roles as they are stored: sorted, without
// duplicates and without RoleUser (which every user holds anyway), nil when
// none is left. invalid lists the names ValidRole refuses, in the order
// given; when it is not empty, stored is nil.
func NormalizeRoles(roles []string) (stored, invalid []string) {
	for _, r := range roles {
		if !ValidRole(r) {
			invalid = append(invalid, r)
			continue
		}
		if r != RoleUser {
			stored = append(stored, r)
		}
	}
	if len(invalid) > 0 {
		return nil, invalid
	}
	slices.Sort(stored)
	stored = slices.Compact(stored)
	if len(stored) == 0 {
		return nil, nil
	}
	return stored, nil
}

// HasRole reports whether u holds role; every user holds RoleUser.
func (u *User) HasRole(role string) bool {
	return role == RoleUser || slices.Contains(u.Roles, role)
}

// AllRoles returns the roles u holds, RoleUser included, sorted: what an
// access token's "roles" claim carries and the admin API shows.
func (u *User) AllRoles() []string {
	all := make([]string, 0, len(u.Roles)+1)
	all = append(all, RoleUser)
	for _, r := range u.Roles {
		if r != RoleUser {
			all = append(all, r)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// UserQuery selects users for the admin API's listing. Zero fields select
// everything.
type UserQuery struct {
	// Search keeps users whose UsernameKey or EmailKey contains it, compared
	// exactly (callers case-fold it as the keys are); wildcards in it are
	// matched literally.
	Search string
	// Role keeps users who hold it (RoleUser: everyone).
	Role string
	// After is the paging cursor: only ids greater than After.
	After int64
	// Limit is how many at most; it must be positive.
	Limit int
}

// AdminStore is what the admin API needs of the user store beyond
// UserStore. Implementations must be safe for concurrent use.
type AdminStore interface {
	// SearchUsers returns up to q.Limit users matching q by ascending id,
	// with their roles; none is an empty result, not an error.
	SearchUsers(ctx context.Context, q UserQuery) ([]*User, error)

	// SetUserRoles replaces the stored roles of user id with roles (as
	// NormalizeRoles returns them), in one transaction. It refuses, with an
	// *Error of code CodeAdminLockout, to take RoleAdmin from the last
	// active user holding it: with no admin left, only an operator at the
	// command line could give it back. CodeNotFound if there is no such user.
	SetUserRoles(ctx context.Context, id int64, roles []string) error
}
