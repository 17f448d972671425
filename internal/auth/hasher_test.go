package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

// oneUser is a UserStore holding a single user; other methods are unused.
type oneUser struct {
	gatehouse.UserStore
	u gatehouse.User
}

func (s oneUser) UserByUsername(context.Context, string) (*gatehouse.User, error) {
	u := s.u
	return &u, nil
}

func (s oneUser) UserByID(context.Context, int64) (*gatehouse.User, error) {
	u := s.u
	return &u, nil
}

// failingHasher fails every call with err.
type failingHasher struct{ err error }

func (h failingHasher) Hash(string) (string, error)               { return "", h.err }
func (h failingHasher) Verify(string, string) (bool, bool, error) { return false, false, h.err }
func (h failingHasher) VerifyDummy(string) bool                   { return false }

// A hasher that fails (a worker process died) is a server error, never
// reported to the caller as a wrong password; a stored hash that cannot be
// read is reported as failed credentials (and logged).
func TestHasherFailures(t *testing.T) {
	u := gatehouse.User{ID: 1, Username: "kim", UsernameKey: "kim", Email: "kim@example.com", IsActive: true, PasswordHash: "x"}
	tests := []struct {
		name     string
		err      error
		wantCode string
	}{
		{"worker died", errors.New("hashpool: worker failed: EOF"), gatehouse.CodeInternal},
		{"malformed stored hash", fmt.Errorf("%w: bad", pwhash.ErrMalformedHash), gatehouse.CodeInvalidCredentials},
		{"unknown stored scheme", pwhash.ErrUnknownHash, gatehouse.CodeInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Deps{Users: oneUser{u: u}, Hasher: failingHasher{tt.err}})
			_, err := s.Login(context.Background(), "kim", "a password", Client{})
			if got := gatehouse.ErrorCode(err); got != tt.wantCode {
				t.Errorf("Login: code %q (%v), want %q", got, err, tt.wantCode)
			}
			err = s.ChangePassword(context.Background(), &u, "", "a password", "a brand new passphrase")
			want := gatehouse.CodeWrongPassword
			if tt.wantCode == gatehouse.CodeInternal {
				want = gatehouse.CodeInternal
			}
			if got := gatehouse.ErrorCode(err); got != want {
				t.Errorf("ChangePassword: code %q (%v), want %q", got, err, want)
			}
		})
	}
}
