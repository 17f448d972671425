package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// RoleStores are the stores the roles suite needs: a user store and its
// admin methods, over one database.
type RoleStores struct {
	Users gatehouse.UserStore
	Admin gatehouse.AdminStore
}

// RunAdminStore runs the AdminStore conformance suite (roles and user
// search) against stores made by newStores (called once per subtest; each
// must be empty and isolated). The subtests run in parallel.
func RunAdminStore(t *testing.T, newStores func(t *testing.T) RoleStores) {
	tests := []struct {
		name string
		test func(t *testing.T, s RoleStores)
	}{
		{"CreateWithRoles", testCreateWithRoles},
		{"SetUserRoles", testSetUserRoles},
		{"SetUserRolesRefusesInvalid", testSetUserRolesRefusesInvalid},
		{"LastAdmin", testLastAdmin},
		{"ConcurrentLastAdmin", testConcurrentLastAdmin},
		{"ConcurrentLastAdminEnds", testConcurrentLastAdminEnds},
		{"DeleteDropsRoles", testDeleteDropsRoles},
		{"SearchUsers", testSearchUsers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStores(t))
		})
	}
}

func withRoles(u *gatehouse.User, roles ...string) *gatehouse.User {
	u.Roles = roles
	return u
}

// checkRoles reads user id every way the store offers and checks its roles.
func checkRoles(tb testing.TB, s RoleStores, id int64, want []string) {
	tb.Helper()
	ctx := tb.Context()
	u, err := s.Users.UserByID(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	if !slices.Equal(u.Roles, want) || (want == nil) != (u.Roles == nil) {
		tb.Errorf("UserByID(%d).Roles = %#v, want %#v", id, u.Roles, want)
	}
	byName, err := s.Users.UserByUsername(ctx, u.UsernameKey)
	if err != nil {
		tb.Fatal(err)
	}
	byEmail, err := s.Users.UserByEmail(ctx, u.EmailKey)
	if err != nil {
		tb.Fatal(err)
	}
	listed, err := s.Users.ListUsers(ctx, id-1, 1)
	if err != nil || len(listed) != 1 {
		tb.Fatalf("ListUsers: %v, %v", listed, err)
	}
	for what, got := range map[string]*gatehouse.User{"UserByUsername": byName, "UserByEmail": byEmail, "ListUsers": listed[0]} {
		if !slices.Equal(got.Roles, want) {
			tb.Errorf("%s.Roles = %q, want %q", what, got.Roles, want)
		}
	}
}

func testCreateWithRoles(t *testing.T, s RoleStores) {
	a := mustCreate(t, s.Users, withRoles(newUser("alice"), "support", "admin", "user", "admin"))
	if want := []string{"admin", "support"}; !slices.Equal(a.Roles, want) {
		t.Errorf("CreateUser set Roles %q, want %q", a.Roles, want)
	}
	checkRoles(t, s, a.ID, []string{"admin", "support"})
	b := mustCreate(t, s.Users, newUser("bob"))
	checkRoles(t, s, b.ID, nil)
	// An invalid role fails the whole creation.
	err := s.Users.CreateUser(t.Context(), withRoles(newUser("carol"), "Admin"))
	checkCode(t, err, gatehouse.CodeValidation)
	if _, err := s.Users.UserByUsername(t.Context(), "carol"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("a user with an invalid role was created: %v", err)
	}
}

func testSetUserRoles(t *testing.T, s RoleStores) {
	ctx := t.Context()
	a := mustCreate(t, s.Users, newUser("alice"))
	steps := []struct {
		set  []string
		want []string
	}{
		{[]string{"support"}, []string{"support"}},
		{[]string{"b:read", "a-b", "z_z", "b:read", "user"}, []string{"a-b", "b:read", "z_z"}},
		{[]string{"user"}, nil},
		{[]string{"admin"}, []string{"admin"}},
	}
	for i, st := range steps {
		if err := s.Admin.SetUserRoles(ctx, a.ID, st.set); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		checkRoles(t, s, a.ID, st.want)
	}
	checkCode(t, s.Admin.SetUserRoles(ctx, 999999, []string{"x"}), gatehouse.CodeNotFound)
}

func testSetUserRolesRefusesInvalid(t *testing.T, s RoleStores) {
	a := mustCreate(t, s.Users, withRoles(newUser("alice"), "support"))
	for _, bad := range [][]string{{"Admin"}, {""}, {"a b"}, {"é"}, {string(make([]byte, 65))}, {"ok", "not ok"}} {
		checkCode(t, s.Admin.SetUserRoles(t.Context(), a.ID, bad), gatehouse.CodeValidation)
	}
	checkRoles(t, s, a.ID, []string{"support"})
}

func testLastAdmin(t *testing.T, s RoleStores) {
	ctx := t.Context()
	a := mustCreate(t, s.Users, withRoles(newUser("alice"), "admin"))
	b := mustCreate(t, s.Users, withRoles(newUser("bob"), "admin", "support"))
	if err := s.Users.SetUserActive(ctx, b.ID, false); err != nil {
		t.Fatal(err)
	}
	// Bob is an admin but inactive: alice is the last active one.
	checkCode(t, s.Admin.SetUserRoles(ctx, a.ID, []string{"support"}), gatehouse.CodeAdminLockout)
	checkRoles(t, s, a.ID, []string{"admin"})
	// Bob's role, being an inactive user's, may go.
	if err := s.Admin.SetUserRoles(ctx, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	// Changing alice's other roles keeps admin: allowed.
	if err := s.Admin.SetUserRoles(ctx, a.ID, []string{"admin", "support"}); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, s.Users, withRoles(newUser("carol"), "admin"))
	if err := s.Admin.SetUserRoles(ctx, a.ID, nil); err != nil {
		t.Fatalf("with carol an admin, alice may step down: %v", err)
	}
	checkCode(t, s.Admin.SetUserRoles(ctx, c.ID, nil), gatehouse.CodeAdminLockout)
}

// Two admins dropping their own role at once: exactly one may.
func testConcurrentLastAdmin(t *testing.T, s RoleStores) {
	// Each round races the admin left by the previous round against a new
	// one: exactly one of the two may step down, and the other is the
	// admin the next round starts with (the last admin can be neither
	// deleted nor deactivated, so it is never cleaned away).
	prev := mustCreate(t, s.Users, withRoles(newUser("first"), "admin"))
	for round := range 5 {
		next := mustCreate(t, s.Users, withRoles(newUser("b"+string(rune('a'+round))), "admin"))
		var wg sync.WaitGroup
		ids := []int64{prev.ID, next.ID}
		errs := make([]error, 2)
		for i, id := range ids {
			wg.Go(func() { errs[i] = s.Admin.SetUserRoles(t.Context(), id, nil) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case gatehouse.IsCode(err, gatehouse.CodeAdminLockout):
				prev = &gatehouse.User{ID: ids[i]}
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 admins stepped down, want 1", round, ok)
		}
	}
}

// testConcurrentLastAdminEnds: two admins deactivating or deleting each
// other at once leave one active admin; the last one can be neither
// deactivated nor deleted, while a deactivated admin can still go.
func testConcurrentLastAdminEnds(t *testing.T, s RoleStores) {
	ctx := t.Context()
	ends := map[string]func(id int64) error{
		"deactivate": func(id int64) error { return s.Users.SetUserActive(ctx, id, false) },
		"delete":     func(id int64) error { return s.Users.DeleteUser(ctx, id) },
	}
	prev := mustCreate(t, s.Users, withRoles(newUser("first"), "admin"))
	round := 0
	for _, name := range []string{"deactivate", "delete", "deactivate", "delete"} {
		end := ends[name]
		next := mustCreate(t, s.Users, withRoles(newUser("e"+string(rune('a'+round))), "admin"))
		round++
		ids := []int64{prev.ID, next.ID}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { errs[i] = end(id) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case gatehouse.IsCode(err, gatehouse.CodeAdminLockout):
				prev = &gatehouse.User{ID: ids[i]}
			default:
				t.Fatalf("%s: %v", name, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%s at once: %d of 2 admins ended, want 1", name, ok)
		}
	}
	// A deactivated admin is no longer one the rule counts: it may be
	// deleted, and the last active admin still may not.
	gone := mustCreate(t, s.Users, withRoles(newUser("gone"), "admin"))
	if err := s.Users.SetUserActive(ctx, gone.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Users.DeleteUser(ctx, gone.ID); err != nil {
		t.Errorf("delete a deactivated admin: %v", err)
	}
	checkCode(t, s.Users.SetUserActive(ctx, prev.ID, false), gatehouse.CodeAdminLockout)
	checkCode(t, s.Users.DeleteUser(ctx, prev.ID), gatehouse.CodeAdminLockout)
	if err := s.Users.SetUserActive(ctx, prev.ID, true); err != nil {
		t.Errorf("activating the last admin: %v", err)
	}
}

func testDeleteDropsRoles(t *testing.T, s RoleStores) {
	a := mustCreate(t, s.Users, withRoles(newUser("alice"), "support"))
	if err := s.Users.DeleteUser(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	again := mustCreate(t, s.Users, newUser("alice"))
	checkRoles(t, s, again.ID, nil)
	users, err := s.Admin.SearchUsers(t.Context(), gatehouse.UserQuery{Role: "support", Limit: 10})
	if err != nil || len(users) != 0 {
		t.Errorf("support holders after delete: %v, %v", users, err)
	}
}

func testSearchUsers(t *testing.T, s RoleStores) {
	ctx := t.Context()
	for _, u := range []*gatehouse.User{
		withRoles(newUser("alice"), "admin"), newUser("bob"), withRoles(newUser("carol_x"), "support"),
		newUser("dave%"), withRoles(newUser("erin"), "support", "admin"),
	} {
		mustCreate(t, s.Users, u)
	}
	names := func(q gatehouse.UserQuery) []string {
		t.Helper()
		users, err := s.Admin.SearchUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, u := range users {
			out = append(out, u.UsernameKey)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    gatehouse.UserQuery
		want []string
	}{
		{"all", gatehouse.UserQuery{Limit: 10}, []string{"alice", "bob", "carol_x", "dave%", "erin"}},
		{"page", gatehouse.UserQuery{Limit: 2}, []string{"alice", "bob"}},
		{"substring", gatehouse.UserQuery{Search: "li", Limit: 10}, []string{"alice"}},
		{"email", gatehouse.UserQuery{Search: "e%@", Limit: 10}, []string{"dave%"}},
		{"underscore literal", gatehouse.UserQuery{Search: "l_x", Limit: 10}, []string{"carol_x"}},
		{"underscore is no wildcard", gatehouse.UserQuery{Search: "o_", Limit: 10}, []string{}},
		{"percent literal", gatehouse.UserQuery{Search: "%", Limit: 10}, []string{"dave%"}},
		{"escape char literal", gatehouse.UserQuery{Search: "!", Limit: 10}, []string{}},
		{"role", gatehouse.UserQuery{Role: "admin", Limit: 10}, []string{"alice", "erin"}},
		{"role user is everyone", gatehouse.UserQuery{Role: "user", Limit: 10}, []string{"alice", "bob", "carol_x", "dave%", "erin"}},
		{"role and search", gatehouse.UserQuery{Role: "support", Search: "erin", Limit: 10}, []string{"erin"}},
		{"none", gatehouse.UserQuery{Search: "zzz", Limit: 10}, []string{}},
	} {
		if got := names(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	// Paging by id never repeats nor skips.
	var all []string
	var after int64
	for {
		users, err := s.Admin.SearchUsers(ctx, gatehouse.UserQuery{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			all = append(all, u.UsernameKey)
			after = u.ID
		}
		if len(users) < 2 {
			break
		}
	}
	if len(all) != 5 {
		t.Errorf("paged %q", all)
	}
	if _, err := s.Admin.SearchUsers(ctx, gatehouse.UserQuery{}); err == nil {
		t.Error("SearchUsers without a limit: no error")
	}
	users, _ := s.Admin.SearchUsers(ctx, gatehouse.UserQuery{Search: "erin", Limit: 1})
	if len(users) != 1 || !slices.Equal(users[0].Roles, []string{"admin", "support"}) {
		t.Errorf("search result roles: %+v", users)
	}
}

// testAuditActor: ActorID round-trips (0 as 0) and filters.
func testAuditActor(t *testing.T, l gatehouse.AuditLog) {
	events := record(t, l,
		&gatehouse.AuditEvent{At: auditAt(1), Event: gatehouse.EventUserDeactivated, Outcome: gatehouse.OutcomeSuccess, UserID: 7, ActorID: 1},
		&gatehouse.AuditEvent{At: auditAt(2), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeSuccess, UserID: 7},
		&gatehouse.AuditEvent{At: auditAt(3), Event: gatehouse.EventUserRolesSet, Outcome: gatehouse.OutcomeSuccess, UserID: 8, ActorID: 2},
	)
	got := listAudit(t, l, gatehouse.AuditFilter{Limit: 10})
	for i, e := range got {
		if e.ActorID != events[i].ActorID {
			t.Errorf("event %d: ActorID %d, want %d", i, e.ActorID, events[i].ActorID)
		}
	}
	if got := listAudit(t, l, gatehouse.AuditFilter{ActorID: 1, Limit: 10}); len(got) != 1 || got[0].ID != events[0].ID {
		t.Errorf("ActorID filter: %v", auditIDs(got))
	}
	if got := listAudit(t, l, gatehouse.AuditFilter{ActorID: 2, UserID: 7, Limit: 10}); len(got) != 0 {
		t.Errorf("ActorID and UserID: %v", auditIDs(got))
	}
}
