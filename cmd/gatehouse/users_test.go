package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

func TestUserCreate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dataDir}[k] }
	const good = "a long operator passphrase"

	// Steps run in order against one database.
	steps := []struct {
		name    string
		stdin   string
		args    []string
		wantID  string // printed id; "" when an error is wanted
		wantErr string
	}{
		{"printf, no newline", good, []string{"--username", "Admin", "--email", "admin@example.com", "--password-stdin"}, "1", ""},
		{"echo, newline; flags mixed with config flags", good + "\n", []string{"--data-dir", dataDir, "-username=second", "--password-stdin", "-email", "second@example.com"}, "2", ""},
		{"CRLF", good + "\r\n", []string{"--username", "third", "--email", "third@example.com", "--password-stdin"}, "3", ""},
		{"no --password-stdin", good, []string{"--username", "x", "--email", "x@example.com"}, "", "--password-stdin"},
		{"a password flag is no flag", good, []string{"--username", "x", "--email", "x@example.com", "--password", "hunter2hunter2"}, "", "not defined"},
		{"no email", good, []string{"--username", "x", "--password-stdin"}, "", "--username and --email are required"},
		{"empty stdin", "", []string{"--username", "x", "--email", "x@example.com", "--password-stdin"}, "", "no password"},
		{"weak", "password\n", []string{"--username", "weak", "--email", "weak@example.com", "--password-stdin"}, "", "[password_too_weak]"},
		{"too long", strings.Repeat("long ", 500), []string{"--username", "long", "--email", "long@example.com", "--password-stdin"}, "", "[password_too_long]"},
		{"username taken, in another case", good, []string{"--username", "ADMIN", "--email", "other@example.com", "--password-stdin"}, "", "username: Username already registered [username_taken]"},
		{"invalid username and email", good, []string{"--username", "a b", "--email", "nope", "--password-stdin"}, "", "username: Username contains invisible, space or other disallowed characters [username_disallowed]; email: value is not a valid email address [email_invalid]"},
	}
	for _, st := range steps {
		out, errOut, err := runCLI(t, getenv, st.stdin, append([]string{"user", "create"}, st.args...)...)
		if st.wantErr == "" {
			if err != nil || out != st.wantID+"\n" {
				t.Errorf("%s: stdout %q, err %v; want %q", st.name, out, err, st.wantID)
			}
		} else if err == nil || !strings.Contains(err.Error(), st.wantErr) {
			t.Errorf("%s: err = %v, want one containing %q", st.name, err, st.wantErr)
		}
		for _, secret := range []string{good, "hunter2hunter2"} {
			if strings.Contains(out+errOut+fmt.Sprint(err), secret) {
				t.Errorf("%s: the password was printed", st.name)
			}
		}
	}

	// The password was read without its line ending, and hashed with
	// argon2id.
	store := openStore(t, dataDir).Users()
	h := pwhash.New(pwhash.DefaultParams)
	for _, name := range []string{"admin", "second", "third"} {
		u, err := store.UserByUsername(context.Background(), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ok, rehash, err := h.Verify(good, u.PasswordHash); !ok || rehash || err != nil {
			t.Errorf("%s: Verify = %v, %v, %v", name, ok, rehash, err)
		}
		if !u.IsActive {
			t.Errorf("%s is not active", name)
		}
	}
}

// The password policy is the configuration's.
func TestUserCreateConfiguredPolicy(t *testing.T) {
	env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_PASSWORD_MIN_LENGTH": "30", "GATEHOUSE_PASSWORD_MIN_STRENGTH": "0"}
	getenv := func(k string) string { return env[k] }
	_, _, err := runCLI(t, getenv, "a long operator passphrase", "user", "create", "--username", "u", "--email", "u@example.com", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "at least 30 characters") {
		t.Errorf("err = %v, want the configured minimum length", err)
	}
}

// `user list` on the stores of this build: until they have ListUsers it
// says so; once they do, this checks the listing.
func TestUserListCommand(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dataDir}[k] }
	for _, name := range []string{"ann", "ben", "cyd"} {
		if _, _, err := runCLI(t, getenv, "a long operator passphrase", "user", "create", "--username", name, "--email", name+"@example.com", "--password-stdin"); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runCLI(t, getenv, "", "user", "list", "--limit", "2")
	if _, ok := openStore(t, dataDir).Users().(userLister); !ok {
		if err == nil || !strings.Contains(err.Error(), "ListUsers") {
			t.Errorf("err = %v, want one naming the missing ListUsers", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ann") || !strings.Contains(out, "ben") || strings.Contains(out, "cyd") || strings.Contains(out, "$argon2id$") {
		t.Errorf("user list --limit 2:\n%s", out)
	}
}

// fakeLister implements ListUsers over a slice sorted by id.
type fakeLister struct {
	users []*gatehouse.User
	calls []string
}

func (f *fakeLister) ListUsers(_ context.Context, after int64, limit int) ([]*gatehouse.User, error) {
	f.calls = append(f.calls, fmt.Sprintf("%d+%d", after, limit))
	if limit <= 0 {
		return nil, errors.New("limit must be positive")
	}
	var page []*gatehouse.User
	for _, u := range f.users {
		if u.ID > after && len(page) < limit {
			page = append(page, u)
		}
	}
	return page, nil
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("KST", 9*3600))
	var users []*gatehouse.User
	for id := int64(1); id <= 1201; id++ {
		users = append(users, &gatehouse.User{ID: id * 2, Username: "user" + strconv.FormatInt(id, 10),
			Email: "u@example.com", PasswordHash: "$argon2id$secret", IsActive: id%2 == 0, CreatedAt: created})
	}
	users[0].Username = "evil\x1b[2J\u202e" // as no registration would let in

	tests := []struct {
		name      string
		after     int64
		limit     int
		wantIDs   []int64 // first and last
		wantCount int
		wantCalls []string
		wantMore  bool
	}{
		{"first three", 0, 3, []int64{2, 6}, 3, []string{"0+3"}, true},
		{"after an id", 10, 2, []int64{12, 14}, 2, []string{"10+2"}, true},
		{"all, across pages", 0, 0, []int64{2, 2402}, 1201, []string{"0+500", "1000+500", "2000+500"}, false},
		{"limit above what there is", 2000, 1000, []int64{2002, 2402}, 201, []string{"2000+500"}, false},
		{"limit spanning pages", 0, 700, []int64{2, 1400}, 700, []string{"0+500", "1000+200"}, true},
		{"none after", 5000, 10, nil, 0, []string{"5000+10"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeLister{users: users}
			var out, errOut bytes.Buffer
			if err := listUsers(context.Background(), f, tt.after, tt.limit, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if !strings.HasPrefix(lines[0], "ID") || len(lines)-1 != tt.wantCount {
				t.Fatalf("%d rows, want %d:\n%.300s", len(lines)-1, tt.wantCount, out.String())
			}
			if tt.wantCount > 0 {
				first, last := strings.Fields(lines[1])[0], strings.Fields(lines[len(lines)-1])[0]
				if first != strconv.FormatInt(tt.wantIDs[0], 10) || last != strconv.FormatInt(tt.wantIDs[1], 10) {
					t.Errorf("ids %s..%s, want %v", first, last, tt.wantIDs)
				}
			}
			if !reflect.DeepEqual(f.calls, tt.wantCalls) {
				t.Errorf("calls %v, want %v", f.calls, tt.wantCalls)
			}
			if more := strings.Contains(errOut.String(), "--after"); more != tt.wantMore {
				t.Errorf("continuation hint %v, want %v: %q", more, tt.wantMore, errOut.String())
			}
			if s := out.String(); strings.Contains(s, "secret") || strings.ContainsAny(s, "\x1b\u202e") {
				t.Errorf("output shows a hash or a control character:\n%.300s", s)
			}
			if tt.after == 0 && tt.wantCount > 0 && !strings.Contains(lines[1], "2024-05-05T22:08:09Z") {
				t.Errorf("created_at not in UTC RFC 3339: %s", lines[1])
			}
		})
	}
}

func TestSplitFlags(t *testing.T) {
	t.Parallel()
	own := map[string]bool{"username": false, "password-stdin": true}
	tests := []struct {
		name       string
		args       []string
		mine, rest []string
	}{
		{"empty", nil, nil, nil},
		{"own with separate value", []string{"--username", "u"}, []string{"--username", "u"}, nil},
		{"own with =", []string{"-username=u", "--data-dir", "d"}, []string{"-username=u"}, []string{"--data-dir", "d"}},
		{"boolean takes no value", []string{"--password-stdin", "--env", "production"}, []string{"--password-stdin"}, []string{"--env", "production"}},
		{"interleaved", []string{"--data-dir", "d", "--username", "u", "--trust-tls-proxy"}, []string{"--username", "u"}, []string{"--data-dir", "d", "--trust-tls-proxy"}},
		{"a value that looks like ours stays with its flag's owner", []string{"--issuer", "username"}, nil, []string{"--issuer", "username"}},
		{"-- ends flags", []string{"--", "--username", "u"}, nil, []string{"--", "--username", "u"}},
		{"own flag without its value", []string{"--username"}, []string{"--username"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mine, rest := splitFlags(tt.args, own)
			if !reflect.DeepEqual(mine, tt.mine) || !reflect.DeepEqual(rest, tt.rest) {
				t.Errorf("splitFlags = %q, %q; want %q, %q", mine, rest, tt.mine, tt.rest)
			}
		})
	}
}

func TestUserCommandUsage(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, args := range [][]string{{"user"}, {"user", "delete"}} {
		if _, _, err := runCLI(t, getenv, "", args...); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
	out, _, err := runCLI(t, getenv, "", "help")
	if err != nil || !strings.Contains(out, "gatehouse import seed-sqlite") || !strings.Contains(out, "gatehouse user create") {
		t.Errorf("help does not list the new commands: %v\n%s", err, out)
	}
}
