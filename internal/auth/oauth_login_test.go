package auth

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// countingHasher records which verifications ran.
type countingHasher struct {
	verified, dummies int
}

func (h *countingHasher) Hash(string) (string, error) { return "h", nil }
func (h *countingHasher) Verify(string, string) (bool, bool, error) {
	h.verified++
	return false, false, nil
}
func (h *countingHasher) VerifyDummy(string) bool { h.dummies++; return false }

// An account made through a provider has no password. A password login to
// it fails exactly as a wrong password does, after the same dummy hash an
// unknown user costs, so neither answer nor timing tells how it signs in;
// and the empty hash is never handed to the hasher as if it were one.
func TestLoginWithoutPassword(t *testing.T) {
	u := gatehouse.User{ID: 1, Username: "kim", UsernameKey: "kim", IsActive: true}
	h := &countingHasher{}
	s := New(Deps{Users: oneUser{u: u}, Hasher: h})
	_, err := s.Login(context.Background(), "kim", "any password", Client{})
	if !gatehouse.IsCode(err, gatehouse.CodeInvalidCredentials) {
		t.Fatalf("Login: %v, want invalid_credentials", err)
	}
	if h.dummies != 1 || h.verified != 0 {
		t.Errorf("dummy hashes %d, verifications %d; want 1, 0", h.dummies, h.verified)
	}
	// Setting a first password takes no current one; giving one is wrong.
	err = s.ChangePassword(context.Background(), &u, "", "a password", "a brand new passphrase")
	if !gatehouse.IsCode(err, gatehouse.CodeWrongPassword) {
		t.Errorf("ChangePassword with a current password when none is set: %v", err)
	}
}

func TestUsernameBase(t *testing.T) {
	tests := []struct {
		hints []string
		want  string
	}{
		{[]string{"jane.doe", "Jane Doe"}, "jane.doe"},
		{[]string{"", "Jane Doe"}, "Jane.Doe"},
		{[]string{"", "", "kim+tag"}, "kimtag"},
		{[]string{"김철수"}, "김철수"},
		{[]string{"раураl"}, "user"}, // mixed scripts: refused
		{[]string{"@@@", ""}, "user"},
		{[]string{"a very long name that goes on and on and on and on and on and on"}, "a.very.long.name.that.goes.on.and.on.and.on.and"},
	}
	for _, tt := range tests {
		if got := usernameBase(tt.hints...); got != tt.want {
			t.Errorf("usernameBase(%q) = %q, want %q", tt.hints, got, tt.want)
		}
	}
}

func TestPKCEFormats(t *testing.T) {
	v := newVerifier()
	if !validVerifier(v) || !validChallenge(s256(v)) {
		t.Fatalf("verifier %q / challenge %q refused", v, s256(v))
	}
	// RFC 7636 appendix B.
	if got := s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("s256 of RFC 7636's verifier = %s", got)
	}
	for _, bad := range []string{"", "short", string(make([]byte, 129)), "has space" + v} {
		if validVerifier(bad) {
			t.Errorf("validVerifier(%q) = true", bad)
		}
	}
}
