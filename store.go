package gatehouse

import (
	"context"
	"time"
)

// UserStore persists users. Implementations must be safe for concurrent use.
//
// Uniqueness of UsernameKey and EmailKey is enforced by the store itself (a
// unique constraint), never by a look-up before the insert, so that concurrent
// registrations of one name cannot both succeed.
type UserStore interface {
	// CreateUser inserts u and sets u.ID and u.CreatedAt. It returns an *Error
	// with code CodeUsernameTaken or CodeEmailTaken when the key is in use.
	CreateUser(ctx context.Context, u *User) error

	// UserByID returns the user with that id, or an *Error with code CodeNotFound.
	UserByID(ctx context.Context, id int64) (*User, error)

	// UserByUsername returns the user whose UsernameKey equals key, or an *Error
	// with code CodeNotFound.
	UserByUsername(ctx context.Context, key string) (*User, error)

	// UserByEmail returns the user whose EmailKey equals key, or an *Error with
	// code CodeNotFound.
	UserByEmail(ctx context.Context, key string) (*User, error)

	// ListUsers returns up to limit users (limit > 0) whose id is greater
	// than after, in ascending id order; none is an empty result, not an
	// error. Paging by id rather than by offset keeps each page one index
	// scan and never repeats or skips a user while others are added.
	ListUsers(ctx context.Context, after int64, limit int) ([]*User, error)

	// SetPasswordHash replaces the stored hash of user id (after a rehash or a
	// password change). It returns an *Error with code CodeNotFound if there is
	// no such user.
	SetPasswordHash(ctx context.Context, id int64, hash string) error

	// SetUserActive activates or deactivates user id. Deactivating also
	// revokes every live session of the user (reason RevokedUserDeactivated),
	// in the same transaction. It returns an *Error with code CodeNotFound if
	// there is no such user, CodeAdminLockout (as SetUserRoles) when it would
	// deactivate the last active admin.
	SetUserActive(ctx context.Context, id int64, active bool) error

	// ImportUser inserts u as it comes from another system (its hash as it
	// is, its CreatedAt when non-zero), keeping u.ID when that id is free and
	// taking a new one otherwise. When a user with u's UsernameKey or EmailKey
	// already exists it changes nothing and reports created false, so an
	// import can be run again. It sets u.ID and u.CreatedAt to what was
	// stored.
	ImportUser(ctx context.Context, u *User) (created bool, err error)

	// ChangePassword replaces the hash of user id and revokes every live
	// session of the user except keepSession (reason RevokedPasswordChanged),
	// in one transaction. CodeNotFound if there is no such user.
	ChangePassword(ctx context.Context, id int64, hash, keepSession string, at time.Time) error

	// DeleteUser removes user id and its sessions, recording the revocation of
	// those whose access tokens may still be valid, in one transaction. It
	// returns an *Error with code CodeNotFound if there is no such user,
	// CodeAdminLockout when it would delete the last active admin.
	DeleteUser(ctx context.Context, id int64) error
}

// Pinger reports whether a backing service can serve requests; GET /readyz
// asks every Pinger it is given.
type Pinger interface {
	Ping(ctx context.Context) error
}
