package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// `user create --admin` makes the first admin; `user roles` shows and
// replaces roles, refusing to take admin from the last admin. Both are
// audited as the operator's.
func TestUserCreateAdminAndRoles(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dataDir}[k] }
	const pw = "a long operator passphrase"
	if _, _, err := runCLI(t, getenv, pw, "user", "create", "--username", "Root", "--email", "root@example.com", "--password-stdin", "--admin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, getenv, pw, "user", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		args    []string
		out     string
		wantErr string
	}{
		{"show admin", []string{"root"}, "admin,user\n", ""},
		{"show user", []string{"BOB"}, "user\n", ""},
		{"set", []string{"bob", "set", "support, admin,user"}, "admin,support,user\n", ""},
		{"invalid", []string{"bob", "set", "Admin"}, "", "role_invalid"},
		{"unknown user", []string{"nobody"}, "", "no such user"},
		{"bad usage", []string{"bob", "add", "x"}, "", "usage"},
		{"root steps down", []string{"root", "set", ""}, "user\n", ""},
		{"bob is the last admin", []string{"bob", "set", "support"}, "", "last active admin"},
		{"config flags after", []string{"bob", "--data-dir", dataDir}, "admin,support,user\n", ""},
	}
	for _, st := range steps {
		out, _, err := runCLI(t, getenv, "", append([]string{"user", "roles"}, st.args...)...)
		if st.wantErr == "" {
			if err != nil || out != st.out {
				t.Errorf("%s: out %q, err %v; want %q", st.name, out, err, st.out)
			}
		} else if err == nil || !strings.Contains(err.Error(), st.wantErr) {
			t.Errorf("%s: err %v, want %q", st.name, err, st.wantErr)
		}
	}
	db := openStore(t, dataDir)
	events, err := db.Audit().ListAudit(context.Background(), gatehouse.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Event+" "+e.Detail["roles"]+" "+e.Detail["via"])
	}
	want := "user_created admin user cli|user_created user cli|user_roles_set admin support user cli|user_roles_set user cli"
	if strings.Join(got, "|") != want {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}
