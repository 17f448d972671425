package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"golang.org/x/crypto/bcrypt"
)

// memUsers is the part of a gatehouse.UserStore that Admin uses, over maps,
// with the import semantics the domain documents. Calling any other method
// panics (the embedded interface is nil), which is what a test wants.
type memUsers struct {
	gatehouse.UserStore
	mu     sync.Mutex
	byID   map[int64]*gatehouse.User
	nextID int64
}

func newMemUsers() *memUsers { return &memUsers{byID: map[int64]*gatehouse.User{}, nextID: 1} }

func (m *memUsers) find(match func(*gatehouse.User) bool) (*gatehouse.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.byID {
		if match(u) {
			c := *u
			return &c, nil
		}
	}
	return nil, &gatehouse.Error{Code: gatehouse.CodeNotFound}
}

func (m *memUsers) UserByID(_ context.Context, id int64) (*gatehouse.User, error) {
	return m.find(func(u *gatehouse.User) bool { return u.ID == id })
}

func (m *memUsers) UserByUsername(_ context.Context, key string) (*gatehouse.User, error) {
	return m.find(func(u *gatehouse.User) bool { return u.UsernameKey == key })
}

func (m *memUsers) UserByEmail(_ context.Context, key string) (*gatehouse.User, error) {
	return m.find(func(u *gatehouse.User) bool { return u.EmailKey == key })
}

func (m *memUsers) insert(u *gatehouse.User, keepID bool) error {
	for _, o := range m.byID {
		if o.UsernameKey == u.UsernameKey {
			return &gatehouse.Error{Code: gatehouse.CodeUsernameTaken}
		}
		if o.EmailKey == u.EmailKey {
			return &gatehouse.Error{Code: gatehouse.CodeEmailTaken}
		}
	}
	if !keepID || u.ID <= 0 || m.byID[u.ID] != nil {
		u.ID = m.nextID
	}
	m.nextID = max(m.nextID, u.ID+1)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	c := *u
	m.byID[u.ID] = &c
	return nil
}

func (m *memUsers) CreateUser(_ context.Context, u *gatehouse.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.insert(u, false)
}

func (m *memUsers) ImportUser(_ context.Context, u *gatehouse.User) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.insert(u, true); gatehouse.IsCode(err, gatehouse.CodeUsernameTaken) || gatehouse.IsCode(err, gatehouse.CodeEmailTaken) {
		return false, nil
	}
	return true, nil
}

func fieldTypes(err error) []string {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Loc[len(f.Loc)-1]+":"+f.Type)
	}
	return out
}

func TestNormalizeIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, username, email string
		want                  Identity
		problems              string
	}{
		{"tutorial's john_doe", "john_doe", "john@example.com", Identity{"john_doe", "john_doe", "john@example.com", "john@example.com"}, ""},
		{"case folded keys", "Alice", "Alice@Example.COM", Identity{"Alice", "alice", "Alice@Example.COM", "alice@example.com"}, ""},
		{"fullwidth username", "Ａｌｉｃｅ", "a@example.com", Identity{"Alice", "alice", "a@example.com", "a@example.com"}, ""},
		{"empty username, as the tutorial allowed", "", "e@example.com", Identity{}, "username:missing"},
		{"both wrong at once", "bob smith", "bob@", Identity{}, "username:username_disallowed email:email_invalid"},
		{"at sign in username", "bob@example.com", "bob@example.com", Identity{}, "username:username_invalid"},
		{"mixed script", "p\u0430ypal", "p@example.com", Identity{}, "username:username_mixed_script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeIdentity(tt.username, tt.email)
			if problems := strings.Join(fieldTypes(err), " "); problems != tt.problems {
				t.Fatalf("problems = %q, want %q (err %v)", problems, tt.problems, err)
			}
			if tt.problems != "" && !gatehouse.IsCode(err, gatehouse.CodeValidation) {
				t.Errorf("err = %v, want a validation error", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAdminImportUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	users := newMemUsers()
	admin := NewAdmin(AdminDeps{Users: users, Hasher: pwhash.New(pwhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})})
	b, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bcryptHash := "$2b$" + string(b[4:])
	created := time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)

	// Steps run in order against one store.
	steps := []struct {
		name        string
		in          ImportInput
		wantCreated bool
		wantID      int64 // 0: any
		wantCode    string
		wantFields  string
	}{
		{"new, id kept", ImportInput{ID: 7, Username: "Alice", Email: "alice@example.com", PasswordHash: bcryptHash, IsActive: true, CreatedAt: created}, true, 7, "", ""},
		{"re-run", ImportInput{ID: 7, Username: "Alice", Email: "alice@example.com", PasswordHash: bcryptHash, IsActive: true}, false, 7, "", ""},
		{"re-run spelled differently", ImportInput{ID: 7, Username: "ALICE", Email: "ALICE@example.com", PasswordHash: bcryptHash}, false, 7, "", ""},
		{"id taken: new id", ImportInput{ID: 7, Username: "bob", Email: "bob@example.com", PasswordHash: bcryptHash, IsActive: true}, true, 8, "", ""},
		{"username folds onto another account", ImportInput{ID: 9, Username: "alice", Email: "alice2@example.com", PasswordHash: bcryptHash}, false, 0, gatehouse.CodeUsernameTaken, ""},
		{"email belongs to another account", ImportInput{ID: 10, Username: "carol", Email: "Bob@Example.com", PasswordHash: bcryptHash}, false, 0, gatehouse.CodeEmailTaken, ""},
		{"empty username", ImportInput{ID: 11, Username: "", Email: "e@example.com", PasswordHash: bcryptHash}, false, 0, gatehouse.CodeValidation, "username:missing"},
		{"plaintext password", ImportInput{ID: 12, Username: "frank", Email: "f@example.com", PasswordHash: "hunter2"}, false, 0, gatehouse.CodeValidation, "password_hash:hash_unsupported"},
		{"bcrypt cost 31", ImportInput{ID: 13, Username: "grace", Email: "g@example.com", PasswordHash: "$2b$31$" + bcryptHash[7:]}, false, 0, gatehouse.CodeValidation, "password_hash:hash_malformed"},
		{"no hash, bad email", ImportInput{ID: 14, Username: "heidi", Email: "heidi"}, false, 0, gatehouse.CodeValidation, "email:email_invalid password_hash:missing"},
	}
	for _, st := range steps {
		u, gotCreated, err := admin.ImportUser(ctx, st.in)
		if code := gatehouse.ErrorCode(err); code != st.wantCode {
			t.Fatalf("%s: err = %v, want code %q", st.name, err, st.wantCode)
		}
		if fields := strings.Join(fieldTypes(err), " "); fields != st.wantFields {
			t.Errorf("%s: fields = %q, want %q", st.name, fields, st.wantFields)
		}
		if err != nil {
			if strings.Contains(err.Error(), bcryptHash[7:]) {
				t.Errorf("%s: error quotes the hash", st.name)
			}
			continue
		}
		if gotCreated != st.wantCreated {
			t.Errorf("%s: created = %v, want %v", st.name, gotCreated, st.wantCreated)
		}
		if st.wantID != 0 && u.ID != st.wantID {
			t.Errorf("%s: id = %d, want %d", st.name, u.ID, st.wantID)
		}
	}

	alice, err := users.UserByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if alice.Username != "Alice" || alice.PasswordHash != bcryptHash || !alice.CreatedAt.Equal(created) || !alice.IsActive {
		t.Errorf("stored alice = %+v", alice)
	}
	if len(users.byID) != 2 {
		t.Errorf("%d users stored, want 2", len(users.byID))
	}

	// Stored now: alice as 7, bob as 8.
	for _, tt := range []struct {
		name string
		in   ImportInput
		want bool
	}{
		{"no id", ImportInput{Username: "zed"}, false},
		{"free id", ImportInput{ID: 99, Username: "zed"}, false},
		{"held by this very account", ImportInput{ID: 7, Username: "ALICE"}, false},
		{"held by another", ImportInput{ID: 8, Username: "zed"}, true},
		{"invalid username: refused in order", ImportInput{ID: 8, Username: ""}, false},
	} {
		got, err := admin.IDTakenByAnother(ctx, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("IDTakenByAnother(%s) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestAdminCreateUserAppliesRegistrationRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	users := newMemUsers()
	admin := NewAdmin(AdminDeps{
		Users:  users,
		Hasher: pwhash.New(pwhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		Policy: pwhash.Policy{MinLength: 12},
	})
	tests := []struct {
		name     string
		in       RegisterInput
		wantCode string
	}{
		{"ok", RegisterInput{Username: "Operator", Email: "ops@example.com", Password: "a long enough passphrase"}, ""},
		{"policy from the caller: 12 characters", RegisterInput{Username: "short", Email: "short@example.com", Password: "elevenchars"}, gatehouse.CodeValidation},
		{"password is the username", RegisterInput{Username: "samesame1234", Email: "same@example.com", Password: "samesame1234"}, gatehouse.CodeValidation},
		{"taken, case-insensitively", RegisterInput{Username: "operator", Email: "other@example.com", Password: "a long enough passphrase"}, gatehouse.CodeUsernameTaken},
	}
	for _, tt := range tests {
		u, err := admin.CreateUser(ctx, tt.in)
		if code := gatehouse.ErrorCode(err); code != tt.wantCode {
			t.Fatalf("%s: err = %v, want code %q", tt.name, err, tt.wantCode)
		}
		if err != nil {
			continue
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || !u.IsActive || u.UsernameKey != "operator" {
			t.Errorf("%s: created %+v", tt.name, u)
		}
	}
}
