// Package storetest is the conformance suite every gatehouse store must
// pass. A store's own tests call Run with a constructor; the suite holds the
// behaviour the use cases rely on and the store interfaces document. It also
// gives the tests of any package a PostgreSQL schema of their own
// (PostgresURL), when GATEHOUSE_TEST_POSTGRES_URL names a server.
package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Run runs the UserStore conformance suite against stores made by newStore
// (called once per subtest, each must be empty and isolated). The subtests
// run in parallel, so newStore may be called concurrently.
func Run(t *testing.T, newStore func(t *testing.T) gatehouse.UserStore) {
	tests := []struct {
		name string
		test func(t *testing.T, s gatehouse.UserStore)
	}{
		{"CreateSetsIDAndCreatedAt", testCreateSetsIDAndCreatedAt},
		{"Get", testGet},
		{"GetMatchesKeyExactly", testGetMatchesKeyExactly},
		{"NotFound", testNotFound},
		{"DuplicateKey", testDuplicateKey},
		{"SetPasswordHash", testSetPasswordHash},
		{"SetUserActive", testSetUserActive},
		{"Delete", testDelete},
		{"IDsNotReused", testIDsNotReused},
		{"UnicodeRoundTrip", testUnicodeRoundTrip},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ListUsers", testListUsers},
		{"Import", testImport},
		{"ImportedIDNotGenerated", testImportedIDNotGenerated},
		{"ConcurrentImport", testConcurrentImport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStore(t))
		})
	}
}

func testCreateSetsIDAndCreatedAt(t *testing.T, s gatehouse.UserStore) {
	before := time.Now()
	a := mustCreate(t, s, newUser("alice"))
	b := mustCreate(t, s, newUser("bob"))
	after := time.Now()

	for _, u := range []*gatehouse.User{a, b} {
		if u.ID <= 0 {
			t.Errorf("%s: ID = %d, want > 0", u.Username, u.ID)
		}
		// A store may truncate CreatedAt to its precision, whole seconds at
		// worst, hence a second of slack.
		if u.CreatedAt.Before(before.Add(-time.Second)) || u.CreatedAt.After(after.Add(time.Second)) {
			t.Errorf("%s: CreatedAt = %v, want between %v and %v", u.Username, u.CreatedAt, before, after)
		}
	}
	if a.ID == b.ID {
		t.Errorf("two users share ID %d", a.ID)
	}
}

func testGet(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	want := mustCreate(t, s, &gatehouse.User{
		Username:     "Alice",
		UsernameKey:  "alice",
		Email:        "Alice@Example.com",
		EmailKey:     "alice@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		IsActive:     true,
	})
	mustCreate(t, s, newUser("bob")) // a neighbour the look-ups must not return

	tests := []struct {
		name string
		get  func() (*gatehouse.User, error)
	}{
		{"UserByID", func() (*gatehouse.User, error) { return s.UserByID(ctx, want.ID) }},
		{"UserByUsername", func() (*gatehouse.User, error) { return s.UserByUsername(ctx, "alice") }},
		{"UserByEmail", func() (*gatehouse.User, error) { return s.UserByEmail(ctx, "alice@example.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if err != nil {
				t.Fatal(err)
			}
			checkUser(t, got, want)
		})
	}
}

// testGetMatchesKeyExactly pins that folding is the caller's job: the store
// compares keys as given, so the display form finds nothing.
func testGetMatchesKeyExactly(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	mustCreate(t, s, &gatehouse.User{
		Username: "Alice", UsernameKey: "alice",
		Email: "Alice@Example.com", EmailKey: "alice@example.com",
		PasswordHash: "hash", IsActive: true,
	})
	tests := []struct {
		name string
		get  func() (*gatehouse.User, error)
	}{
		{"UserByUsername", func() (*gatehouse.User, error) { return s.UserByUsername(ctx, "Alice") }},
		{"UserByEmail", func() (*gatehouse.User, error) { return s.UserByEmail(ctx, "Alice@Example.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.get()
			checkNotFound(t, u, err)
		})
	}
}

func testNotFound(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	tests := []struct {
		name string
		call func(id int64) (*gatehouse.User, error)
	}{
		{"UserByID", func(id int64) (*gatehouse.User, error) { return s.UserByID(ctx, id) }},
		{"UserByUsername", func(int64) (*gatehouse.User, error) { return s.UserByUsername(ctx, "nobody") }},
		{"UserByEmail", func(int64) (*gatehouse.User, error) { return s.UserByEmail(ctx, "nobody@example.com") }},
		{"SetPasswordHash", func(id int64) (*gatehouse.User, error) { return nil, s.SetPasswordHash(ctx, id, "hash") }},
		{"SetUserActive", func(id int64) (*gatehouse.User, error) { return nil, s.SetUserActive(ctx, id, false) }},
		{"DeleteUser", func(id int64) (*gatehouse.User, error) { return nil, s.DeleteUser(ctx, id) }},
	}
	// First on the empty store, then with a user present whose id is not
	// the one asked for, so that an implementation ignoring the id fails.
	for _, tt := range tests {
		t.Run(tt.name+"/Empty", func(t *testing.T) {
			u, err := tt.call(1)
			checkNotFound(t, u, err)
		})
	}
	other := mustCreate(t, s, newUser("present"))
	for _, tt := range tests {
		t.Run(tt.name+"/Other", func(t *testing.T) {
			u, err := tt.call(other.ID + 1000)
			checkNotFound(t, u, err)
		})
	}
	got, err := s.UserByID(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, other)
}

func testDuplicateKey(t *testing.T, s gatehouse.UserStore) {
	first := mustCreate(t, s, &gatehouse.User{
		Username: "Alice", UsernameKey: "alice", Email: "alice@example.com", EmailKey: "alice@example.com",
		PasswordHash: "hash", IsActive: true,
	})
	tests := []struct {
		name string
		dup  gatehouse.User
		code string
	}{
		{
			name: "Username",
			dup:  gatehouse.User{Username: "ALICE", UsernameKey: "alice", Email: "other@example.com", EmailKey: "other@example.com"},
			code: gatehouse.CodeUsernameTaken,
		},
		{
			name: "Email",
			dup:  gatehouse.User{Username: "other", UsernameKey: "other", Email: "ALICE@example.com", EmailKey: "alice@example.com"},
			code: gatehouse.CodeEmailTaken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			dup := tt.dup
			dup.PasswordHash = "other hash"
			err := s.CreateUser(ctx, &dup)
			checkCode(t, err, tt.code)
			// A failed CreateUser must not leave u looking stored.
			if dup.ID != 0 || !dup.CreatedAt.IsZero() {
				t.Errorf("failed CreateUser set ID = %d, CreatedAt = %v; want both left zero", dup.ID, dup.CreatedAt)
			}
			got, err := s.UserByID(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkUser(t, got, first)
		})
	}
}

func testSetPasswordHash(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	u := mustCreate(t, s, newUser("alice"))
	other := mustCreate(t, s, newUser("bob"))
	tests := []struct {
		name string
		hash string
	}{
		{"Change", "$argon2id$v=19$m=65536,t=3,p=2$bmV3$bmV3"},
		{"SameAgain", "$argon2id$v=19$m=65536,t=3,p=2$bmV3$bmV3"},
		{"Bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetPasswordHash(ctx, u.ID, tt.hash); err != nil {
				t.Fatal(err)
			}
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := *u
			want.PasswordHash = tt.hash
			checkUser(t, got, &want)
		})
	}
	got, err := s.UserByID(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, other)
}

func testSetUserActive(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	u := mustCreate(t, s, newUser("alice"))
	other := mustCreate(t, s, newUser("bob"))
	// Setting the value a user already has must succeed: it is not a
	// missing user, whatever an UPDATE's count of changed rows says.
	tests := []struct {
		name   string
		active bool
	}{
		{"Deactivate", false},
		{"DeactivateAgain", false},
		{"Activate", true},
		{"ActivateAgain", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetUserActive(ctx, u.ID, tt.active); err != nil {
				t.Fatal(err)
			}
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := *u
			want.IsActive = tt.active
			checkUser(t, got, &want)
		})
	}
	got, err := s.UserByID(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, other)
}

func testDelete(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	u := mustCreate(t, s, newUser("alice"))
	other := mustCreate(t, s, newUser("bob"))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() (*gatehouse.User, error)
	}{
		{"UserByID", func() (*gatehouse.User, error) { return s.UserByID(ctx, u.ID) }},
		{"UserByUsername", func() (*gatehouse.User, error) { return s.UserByUsername(ctx, u.UsernameKey) }},
		{"UserByEmail", func() (*gatehouse.User, error) { return s.UserByEmail(ctx, u.EmailKey) }},
		{"DeleteAgain", func() (*gatehouse.User, error) { return nil, s.DeleteUser(ctx, u.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			checkNotFound(t, got, err)
		})
	}
	t.Run("KeysFreed", func(t *testing.T) {
		again := mustCreate(t, s, newUser("alice"))
		if again.ID == u.ID {
			t.Errorf("new user got the deleted user's ID %d", u.ID)
		}
	})
	t.Run("OtherKept", func(t *testing.T) {
		got, err := s.UserByID(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, other)
	})
}

// testIDsNotReused deletes the newest user, whose id is the one a store
// counting from its highest row would hand out again. A token or session
// that still names a deleted user must never come to name a new one.
func testIDsNotReused(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	mustCreate(t, s, newUser("first"))
	last := mustCreate(t, s, newUser("last"))
	if err := s.DeleteUser(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	next := mustCreate(t, s, newUser("next"))
	if next.ID <= last.ID {
		t.Errorf("after deleting ID %d the next user got ID %d, want a greater one", last.ID, next.ID)
	}
}

// testUnicodeRoundTrip stores names as the bytes given. Normalisation is the
// domain's job, done before the store; a store normalising again, or
// mangling the encoding, would make a user unable to find themself.
func testUnicodeRoundTrip(t *testing.T, s gatehouse.UserStore) {
	tests := []struct {
		name     string
		username string
	}{
		{"HangulNFC", "홍길동"},
		{"HangulNFD", "\u1112\u1169\u11bc\u1100\u1175\u11af\u1103\u1169\u11bc"}, // 홍길동 as conjoining jamo
		{"Mixed", "김철수_Kim-99"},
		{"Supplementary", "𝔤𝔞𝔱𝔢 🔐"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			email := fmt.Sprintf("%s@例え.jp", tt.username)
			u := mustCreate(t, s, &gatehouse.User{
				Username: tt.username, UsernameKey: tt.username,
				Email: email, EmailKey: strings.ToLower(email),
				PasswordHash: fmt.Sprint("hash", i), IsActive: true,
			})
			tests := []struct {
				name string
				get  func() (*gatehouse.User, error)
			}{
				{"UserByID", func() (*gatehouse.User, error) { return s.UserByID(ctx, u.ID) }},
				{"UserByUsername", func() (*gatehouse.User, error) { return s.UserByUsername(ctx, tt.username) }},
				{"UserByEmail", func() (*gatehouse.User, error) { return s.UserByEmail(ctx, u.EmailKey) }},
			}
			for _, get := range tests {
				t.Run(get.name, func(t *testing.T) {
					got, err := get.get()
					if err != nil {
						t.Fatal(err)
					}
					checkUser(t, got, u)
				})
			}
		})
	}
}

// testConcurrentCreate registers one key from many goroutines at once:
// exactly one may win, and every loser must be told the key is taken,
// never given some other error such as a lock timeout.
func testConcurrentCreate(t *testing.T, s gatehouse.UserStore) {
	const n = 20
	tests := []struct {
		name string
		user func(i int) *gatehouse.User
		code string
	}{
		{
			name: "Username",
			user: func(i int) *gatehouse.User {
				u := newUser(fmt.Sprint("racer", i))
				u.Username, u.UsernameKey = "Racer", "racer"
				return u
			},
			code: gatehouse.CodeUsernameTaken,
		},
		{
			name: "Email",
			user: func(i int) *gatehouse.User {
				u := newUser(fmt.Sprint("mailer", i))
				u.Email, u.EmailKey = "Mailer@example.com", "mailer@example.com"
				return u
			},
			code: gatehouse.CodeEmailTaken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					u := tt.user(i)
					<-start
					errs[i] = s.CreateUser(ctx, u)
				})
			}
			close(start)
			wg.Wait()

			var won int
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !gatehouse.IsCode(err, tt.code):
					t.Errorf("goroutine %d: CreateUser error %v, want nil or code %s", i, err, tt.code)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d CreateUser calls succeeded, want exactly 1", won, n)
			}
		})
	}
}

// testImport imports users as from another system: the id kept when free,
// the hash and CreatedAt as given, and a second run changing nothing.
func testImport(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	existing := mustCreate(t, s, newUser("existing"))
	kst := time.FixedZone("KST", 9*60*60)

	kept := newUser("Kept")
	kept.ID = existing.ID + 1000
	kept.PasswordHash = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
	kept.IsActive = false
	kept.CreatedAt = time.Date(2020, 5, 6, 16, 7, 8, 123456789, kst)
	t.Run("KeepsFreeID", func(t *testing.T) {
		want := *kept
		// Stores keep microseconds, and truncate rather than round.
		want.CreatedAt = time.Date(2020, 5, 6, 7, 7, 8, 123456000, time.UTC)
		mustImport(t, s, kept, true)
		if kept.ID != want.ID || !kept.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("ImportUser set ID = %d, CreatedAt = %v; want %d, %v", kept.ID, kept.CreatedAt, want.ID, want.CreatedAt)
		}
		got, err := s.UserByID(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, &want)
	})
	t.Run("NewIDWhenTaken", func(t *testing.T) {
		u := newUser("Moved")
		u.ID = existing.ID
		mustImport(t, s, u, true)
		if u.ID <= 0 || u.ID == existing.ID || u.ID == kept.ID {
			t.Fatalf("imported user got ID %d; want a new one (%d and %d are taken)", u.ID, existing.ID, kept.ID)
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, u)
		got, err = s.UserByID(ctx, existing.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, existing)
	})
	t.Run("NoIDNoCreatedAt", func(t *testing.T) {
		u := newUser("Fresh")
		before := time.Now()
		mustImport(t, s, u, true)
		after := time.Now()
		if u.ID <= 0 || u.CreatedAt.Before(before.Add(-time.Second)) || u.CreatedAt.After(after.Add(time.Second)) {
			t.Errorf("ImportUser set ID = %d, CreatedAt = %v; want an id and a time between %v and %v", u.ID, u.CreatedAt, before, after)
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, u)
	})

	// Run again, the import must change nothing: whether it meets the same
	// user, or another holding one of its keys. The ids asked for are far
	// from those generated above, and must stay free.
	free := []int64{kept.ID + 100, kept.ID + 200, kept.ID + 300}
	again := []struct {
		name string
		user func() *gatehouse.User
	}{
		{"SameUser", func() *gatehouse.User { u := *kept; return &u }},
		{"SameUsernameKey", func() *gatehouse.User {
			u := newUser("kept")
			u.ID, u.Username, u.Email, u.EmailKey = free[0], "KEPT", "other@example.com", "other@example.com"
			return u
		}},
		{"SameEmailKey", func() *gatehouse.User {
			u := newUser("other")
			u.ID, u.Email, u.EmailKey = free[1], "KEPT@example.com", kept.EmailKey
			return u
		}},
		{"SameKeysFreeID", func() *gatehouse.User { u := *kept; u.ID = free[2]; return &u }},
	}
	for _, tt := range again {
		t.Run("Again/"+tt.name, func(t *testing.T) {
			mustImport(t, s, tt.user(), false)
			got, err := s.UserByUsername(ctx, kept.UsernameKey)
			if err != nil {
				t.Fatal(err)
			}
			checkUser(t, got, kept)
			for _, id := range free {
				u, err := s.UserByID(ctx, id)
				checkNotFound(t, u, err)
			}
			u, err := s.UserByUsername(ctx, "other")
			checkNotFound(t, u, err)
		})
	}
}

// testImportedIDNotGenerated imports ids ahead of any the store generated,
// as an import into a new database does, and then creates users: none may
// collide with an imported id, nor get one again once its user is deleted
// (a token naming the deleted user must not come to name a new one).
func testImportedIDNotGenerated(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	imported := map[int64]bool{}
	for _, id := range []int64{3, 7} {
		u := newUser(fmt.Sprint("imported", id))
		u.ID = id
		mustImport(t, s, u, true)
		if u.ID != id {
			t.Fatalf("import into an empty store moved id %d to %d", id, u.ID)
		}
		imported[id] = true
	}
	if err := s.DeleteUser(ctx, 7); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		u := mustCreate(t, s, newUser(fmt.Sprint("created", i)))
		if imported[u.ID] {
			t.Errorf("CreateUser generated id %d, which was imported", u.ID)
		}
	}
}

// testConcurrentImport runs one import from many goroutines at once, as
// two import jobs might, while others register: exactly one import
// creates the user, the others report it exists, and no call fails.
func testConcurrentImport(t *testing.T, s gatehouse.UserStore) {
	const n = 10
	ctx := t.Context()
	created := make([]bool, n)
	errs := make([]error, 2*n)
	ids := make([]int64, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := newUser("imported")
			u.ID = 500
			<-start
			created[i], errs[i] = s.ImportUser(ctx, u)
			if created[i] {
				ids[i] = u.ID
			}
		})
		wg.Go(func() {
			u := newUser(fmt.Sprint("registered", i))
			<-start
			errs[n+i] = s.CreateUser(ctx, u)
			ids[n+i] = u.ID
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	won := 0
	for _, c := range created {
		if c {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d of %d imports created the user, want 1", won, n)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if id != 0 && seen[id] {
			t.Errorf("id %d handed out twice", id)
		}
		seen[id] = true
	}
}

// mustImport imports u and reports unless ImportUser succeeds with created
// as wanted.
func mustImport(tb testing.TB, s gatehouse.UserStore, u *gatehouse.User, want bool) {
	tb.Helper()
	created, err := s.ImportUser(tb.Context(), u)
	if err != nil {
		tb.Fatalf("ImportUser(%q): %v", u.Username, err)
	}
	if created != want {
		tb.Errorf("ImportUser(%q) created = %v, want %v", u.Username, created, want)
	}
}

// newUser returns an active user whose keys and email derive from name.
func newUser(name string) *gatehouse.User {
	key := strings.ToLower(name)
	return &gatehouse.User{
		Username:     name,
		UsernameKey:  key,
		Email:        name + "@example.com",
		EmailKey:     key + "@example.com",
		PasswordHash: "hash of " + name,
		IsActive:     true,
	}
}

// mustCreate creates u and returns it with the ID and CreatedAt the store set.
func mustCreate(tb testing.TB, s gatehouse.UserStore, u *gatehouse.User) *gatehouse.User {
	tb.Helper()
	if err := s.CreateUser(tb.Context(), u); err != nil {
		tb.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
	return u
}

// checkUser reports a difference between got and want, comparing CreatedAt
// as an instant (location and monotonic reading aside).
func checkUser(tb testing.TB, got, want *gatehouse.User) {
	tb.Helper()
	if got == nil {
		tb.Fatal("got nil user")
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		tb.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("user = %+v\nwant   %+v", g, w)
	}
}

// checkNotFound reports unless err carries CodeNotFound and u is nil.
func checkNotFound(tb testing.TB, u *gatehouse.User, err error) {
	tb.Helper()
	checkCode(tb, err, gatehouse.CodeNotFound)
	if u != nil {
		tb.Errorf("got user %+v alongside the error, want nil", *u)
	}
}

// checkCode reports unless err is a *gatehouse.Error with code.
func checkCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if !gatehouse.IsCode(err, code) {
		tb.Errorf("error = %v (code %q), want code %q", err, gatehouse.ErrorCode(err), code)
	}
}

func testListUsers(t *testing.T, s gatehouse.UserStore) {
	ctx := t.Context()
	empty, err := s.ListUsers(ctx, 0, 10)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("empty store: %v, %v (want an empty, non-nil list)", empty, err)
	}
	var ids []int64
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		ids = append(ids, mustCreate(t, s, newUser(name)).ID)
	}
	var got []int64
	after := int64(0)
	for {
		page, err := s.ListUsers(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			got = append(got, u.ID)
		}
		after = page[len(page)-1].ID
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("paged ids %v, want %v", got, ids)
	}
	if _, err := s.ListUsers(ctx, 0, 0); err == nil {
		t.Error("limit 0 accepted")
	}
}
