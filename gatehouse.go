// Package gatehouse is the domain of the gatehouse authentication server:
// users, the store interfaces the use cases depend on, and the Error type that
// every layer speaks. It imports only the standard library; HTTP, storage and
// cryptography live in packages that depend on it, never the other way round.
package gatehouse

import "time"

// Version is the release of the server, reported by `gatehouse version` and GET /.
// Builds may override it with -ldflags "-X github.com/gatehouse-auth/gatehouse.Version=…".
var Version = "0.1.0-dev"

// User is an account. Username and Email are kept as the user typed them (after
// Unicode normalisation); UsernameKey and EmailKey are their case-folded
// canonical forms, on which the store enforces uniqueness, so that "Alice" and
// "alice" are one account.
type User struct {
	ID           int64
	Username     string
	UsernameKey  string
	Email        string
	EmailKey     string
	PasswordHash string
	IsActive     bool
	CreatedAt    time.Time
	// EmailVerifiedAt is when the user proved control of Email (a
	// verification or password reset link); zero while unverified.
	EmailVerifiedAt time.Time
	// Roles are the stored roles, sorted, RoleUser never among them (every
	// user holds it implicitly: see HasRole and AllRoles); nil when none.
	Roles []string
}
