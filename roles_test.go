package gatehouse

import (
	"slices"
	"strings"
	"testing"
)

func TestValidRole(t *testing.T) {
	for _, tt := range []struct {
		role string
		ok   bool
	}{
		{"admin", true}, {"user", true}, {"billing:read", true}, {"a-b_c9", true}, {strings.Repeat("a", 64), true},
		{"", false}, {"Admin", false}, {"a b", false}, {"a\x00", false}, {"аdmin", false}, {"a/b", false},
		{"a.b", false}, {"a,b", false}, {strings.Repeat("a", 65), false},
	} {
		if got := ValidRole(tt.role); got != tt.ok {
			t.Errorf("ValidRole(%q) = %v, want %v", tt.role, got, tt.ok)
		}
	}
}

func TestNormalizeRoles(t *testing.T) {
	for _, tt := range []struct {
		in, stored, invalid []string
	}{
		{nil, nil, nil},
		{[]string{"user"}, nil, nil},
		{[]string{"b", "a", "b", "user"}, []string{"a", "b"}, nil},
		{[]string{"a", "Bad", "c d"}, nil, []string{"Bad", "c d"}},
	} {
		stored, invalid := NormalizeRoles(tt.in)
		if !slices.Equal(stored, tt.stored) || !slices.Equal(invalid, tt.invalid) || (stored == nil) != (tt.stored == nil) {
			t.Errorf("NormalizeRoles(%q) = %q, %q; want %q, %q", tt.in, stored, invalid, tt.stored, tt.invalid)
		}
	}
}

func TestUserRoles(t *testing.T) {
	u := &User{Roles: []string{"support", "admin"}}
	if got := u.AllRoles(); !slices.Equal(got, []string{"admin", "support", "user"}) {
		t.Errorf("AllRoles = %q", got)
	}
	if !u.HasRole(RoleUser) || !u.HasRole(RoleAdmin) || u.HasRole("root") {
		t.Error("HasRole")
	}
	if got := (&User{}).AllRoles(); !slices.Equal(got, []string{"user"}) {
		t.Errorf("AllRoles of a plain user = %q", got)
	}
}
