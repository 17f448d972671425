package auth

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// Identity is a username and an email address in the forms registration
// stores: Username and Email as shown, UsernameKey and EmailKey the
// case-folded keys on which uniqueness is enforced.
type Identity struct {
	Username    string
	UsernameKey string
	Email       string
	EmailKey    string
}

// NormalizeIdentity applies registration's rules to a username and an email
// address, through the very functions Register uses, so that an imported or
// operator-made account can log in exactly as a registered one. When either
// is refused it returns a CodeValidation *gatehouse.Error listing every
// problem, on the fields "username" and "email".
func NormalizeIdentity(username, email string) (Identity, error) {
	var (
		id     Identity
		fields []gatehouse.FieldError
		p      *problem
	)
	id.Username, id.UsernameKey, p = normalizeUsername(username)
	fields = appendProblem(fields, "username", p)
	id.Email, id.EmailKey, p = normalizeEmail(email)
	fields = appendProblem(fields, "email", p)
	if len(fields) > 0 {
		return Identity{}, gatehouse.ValidationError(fields...)
	}
	return id, nil
}

// Problem types of ImportUser's password_hash field, besides "missing".
const (
	ProblemHashUnsupported = "hash_unsupported" // a scheme pwhash cannot verify (or plaintext)
	ProblemHashMalformed   = "hash_malformed"   // a known scheme that does not parse or exceeds the cost bounds
)

// Admin runs the operator's use cases: creating and importing accounts, for
// the gatehouse command's user and import subcommands. It is safe for
// concurrent use.
type Admin struct {
	users gatehouse.UserStore
	// reg runs Register for CreateUser, so that an operator's account meets
	// the very rules of self-registration. Register needs only the user
	// store, hasher, policy and logger, which is all it is given.
	reg *Service
}

// AdminDeps are what an Admin needs.
type AdminDeps struct {
	Users  gatehouse.UserStore
	Hasher *pwhash.Hasher
	Policy pwhash.Policy
	Logger *slog.Logger
}

// NewAdmin returns an Admin.
func NewAdmin(d AdminDeps) *Admin {
	return &Admin{
		users: d.Users,
		reg:   New(Deps{Users: d.Users, Hasher: d.Hasher, Policy: d.Policy, Logger: d.Logger}),
	}
}

// CreateUser creates an active account as Register does: the same
// normalisation, the same password policy (a CodeValidation error listing
// every problem), the same CodeUsernameTaken and CodeEmailTaken.
//
// in.Roles (validated by ValidateRoles) are stored with the account, in the
// same transaction: `gatehouse user create --admin` makes the first admin.
func (a *Admin) CreateUser(ctx context.Context, in RegisterInput) (*gatehouse.User, error) {
	roles, err := ValidateRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	in.Roles = roles
	return a.reg.Register(ctx, in)
}

// ImportInput is one account from another system.
type ImportInput struct {
	// ID is kept when no gatehouse user has it; 0 means no preference.
	ID           int64
	Username     string
	Email        string
	PasswordHash string // as the other system stored it; never rehashed here
	IsActive     bool
	CreatedAt    time.Time // zero: the time of the import
}

// ImportUser stores an account from another system with its password hash as
// it is, to be verified at login and replaced by argon2id then.
//
// The username and email go through NormalizeIdentity; the hash must be one
// pwhash can verify (pwhash.ValidateHash), so that no account is stored that
// nobody could log in to. Either problem gives a CodeValidation error, the
// hash's on field "password_hash" with type ProblemHashUnsupported or
// ProblemHashMalformed and, in Args["reason"], pwhash's explanation (which
// never quotes the hash).
//
// ImportUser can be run again over the same input: when an account with this
// username and this email already exists it changes nothing and returns that
// account with created false. When the username or the email belongs to
// another account it returns CodeUsernameTaken or CodeEmailTaken (with
// Args["user_id"], that account's id): two accounts of the other system that
// fold to one username here cannot both be imported. Any other error is the
// store's.
func (a *Admin) ImportUser(ctx context.Context, in ImportInput) (u *gatehouse.User, created bool, err error) {
	id, err := NormalizeIdentity(in.Username, in.Email)
	var (
		fields  []gatehouse.FieldError
		invalid *gatehouse.Error
	)
	if errors.As(err, &invalid) {
		fields = invalid.Fields
	}
	fields = append(fields, hashProblems(in.PasswordHash)...)
	if len(fields) > 0 {
		return nil, false, gatehouse.ValidationError(fields...)
	}
	u = &gatehouse.User{
		ID:           in.ID,
		Username:     id.Username,
		UsernameKey:  id.UsernameKey,
		Email:        id.Email,
		EmailKey:     id.EmailKey,
		PasswordHash: in.PasswordHash,
		IsActive:     in.IsActive,
		CreatedAt:    in.CreatedAt,
	}
	created, err = a.users.ImportUser(ctx, u)
	if err != nil || created {
		return u, created, err
	}
	// Nothing was stored: tell a re-run from a clash. The store decided
	// atomically; these reads only explain its decision.
	byName, err := a.users.UserByUsername(ctx, id.UsernameKey)
	if err != nil && !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, false, err
	}
	byEmail, err := a.users.UserByEmail(ctx, id.EmailKey)
	if err != nil && !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, false, err
	}
	switch {
	case byName != nil && byEmail != nil && byName.ID == byEmail.ID:
		return byName, false, nil
	case byName != nil:
		return nil, false, &gatehouse.Error{Code: gatehouse.CodeUsernameTaken, Args: map[string]any{"user_id": byName.ID}}
	case byEmail != nil:
		return nil, false, &gatehouse.Error{Code: gatehouse.CodeEmailTaken, Args: map[string]any{"user_id": byEmail.ID}}
	}
	// Both gone again between the insert and the reads (deleted meanwhile):
	// nothing to explain, and nothing was imported.
	return nil, false, gatehouse.Errorf(gatehouse.CodeConflict, "import user: username or email taken, then freed")
}

// IDTakenByAnother reports whether in.ID belongs to an account other than
// the one in names (by username). An importer imports such rows last: they
// get new ids, and a new id handed out early may be the id of a row still to
// come, which would then lose its id too. It reports false when in.ID is 0
// or in's username is invalid (ImportUser refuses that row anyway).
func (a *Admin) IDTakenByAnother(ctx context.Context, in ImportInput) (bool, error) {
	if in.ID <= 0 {
		return false, nil
	}
	holder, err := a.users.UserByID(ctx, in.ID)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, key, p := normalizeUsername(in.Username)
	if p != nil {
		return false, nil
	}
	return holder.UsernameKey != key, nil
}

// hashProblems returns the password_hash field's problems, if any.
func hashProblems(encoded string) []gatehouse.FieldError {
	if encoded == "" {
		return appendProblem(nil, "password_hash", &problem{typ: "missing"})
	}
	err := pwhash.ValidateHash(encoded)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pwhash.ErrUnknownHash):
		return appendProblem(nil, "password_hash", &problem{typ: ProblemHashUnsupported, args: map[string]any{"reason": err.Error()}})
	default:
		return appendProblem(nil, "password_hash", &problem{typ: ProblemHashMalformed, args: map[string]any{"reason": err.Error()}})
	}
}
