package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// IdentityStores are what an identity test needs: identities belong to users.
type IdentityStores struct {
	Users      gatehouse.UserStore
	Identities gatehouse.IdentityStore
}

// RunIdentityStore runs the IdentityStore conformance suite. newStores is
// called once per subtest, each empty and isolated, possibly concurrently.
func RunIdentityStore(t *testing.T, newStores func(t *testing.T) IdentityStores) {
	tests := []struct {
		name string
		test func(t *testing.T, s IdentityStores)
	}{
		{"CreateGetList", testIdentityCreateGetList},
		{"Taken", testIdentityTaken},
		{"UnknownUser", testIdentityUnknownUser},
		{"CreateUserWithIdentity", testCreateUserWithIdentity},
		{"DeleteKeepsAWayIn", testDeleteIdentityKeepsAWayIn},
		{"ConcurrentDeleteKeepsAWayIn", testConcurrentDeleteIdentity},
		{"OAuthLoginTakenOnce", testOAuthLoginTakenOnce},
		{"AuthCodeTakenOnce", testAuthCodeTakenOnce},
		{"PruneOAuth", testPruneOAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStores(t))
		})
	}
}

func mustLink(tb testing.TB, s gatehouse.IdentityStore, userID int64, provider, subject string) *gatehouse.Identity {
	tb.Helper()
	id := &gatehouse.Identity{UserID: userID, Provider: provider, Subject: subject, Email: subject + "@idp.example", EmailVerified: true}
	if err := s.CreateIdentity(tb.Context(), id); err != nil {
		tb.Fatalf("CreateIdentity(%s, %s): %v", provider, subject, err)
	}
	return id
}

func testIdentityCreateGetList(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	before := time.Now()
	a := mustLink(t, s.Identities, u.ID, "google", "1001")
	b := mustLink(t, s.Identities, u.ID, "github", "1001") // one subject at two providers: two accounts
	if a.ID <= 0 || b.ID == a.ID {
		t.Fatalf("ids %d, %d", a.ID, b.ID)
	}
	if a.CreatedAt.Before(before.Add(-time.Second)) || a.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v", a.CreatedAt)
	}
	got, err := s.Identities.IdentityBySubject(ctx, "google", "1001")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.UserID != u.ID || got.Email != "1001@idp.example" || !got.EmailVerified || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("IdentityBySubject = %+v, want %+v", got, a)
	}
	if _, err := s.Identities.IdentityBySubject(ctx, "google", "1002"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("unknown subject: %v, want not_found", err)
	}
	// Subjects are compared exactly: providers' ids are case-sensitive.
	mustLink(t, s.Identities, u.ID, "corp", "AbC")
	if _, err := s.Identities.IdentityBySubject(ctx, "corp", "abc"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("subject of another case: %v, want not_found", err)
	}
	list, err := s.Identities.ListIdentities(ctx, u.ID)
	if err != nil || len(list) != 3 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Errorf("ListIdentities = %v, %v", list, err)
	}
	other := mustCreate(t, s.Users, newUser("bob"))
	if list, err := s.Identities.ListIdentities(ctx, other.ID); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListIdentities(none) = %#v, %v; want an empty list", list, err)
	}
	// Deleting the user deletes its identities: the subject is free again.
	if err := s.Users.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identities.IdentityBySubject(ctx, "google", "1001"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("identity of a deleted user: %v, want not_found", err)
	}
	mustLink(t, s.Identities, other.ID, "google", "1001")
}

func testIdentityTaken(t *testing.T, s IdentityStores) {
	a := mustCreate(t, s.Users, newUser("alice"))
	b := mustCreate(t, s.Users, newUser("bob"))
	mustLink(t, s.Identities, a.ID, "google", "1")
	err := s.Identities.CreateIdentity(t.Context(), &gatehouse.Identity{UserID: b.ID, Provider: "google", Subject: "1"})
	if !gatehouse.IsCode(err, gatehouse.CodeIdentityTaken) {
		t.Errorf("second link of one subject: %v, want identity_taken", err)
	}
}

func testIdentityUnknownUser(t *testing.T, s IdentityStores) {
	err := s.Identities.CreateIdentity(t.Context(), &gatehouse.Identity{UserID: 987654, Provider: "google", Subject: "1"})
	if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("link to no user: %v, want not_found", err)
	}
}

func testCreateUserWithIdentity(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	u := newUser("carol")
	u.PasswordHash = ""
	id := &gatehouse.Identity{Provider: "github", Subject: "77", Email: "carol@example.com", EmailVerified: true}
	if err := s.Identities.CreateUserWithIdentity(ctx, u, id); err != nil {
		t.Fatal(err)
	}
	if u.ID <= 0 || id.UserID != u.ID || id.ID <= 0 {
		t.Fatalf("user %d, identity %+v", u.ID, id)
	}
	got, err := s.Users.UserByID(ctx, u.ID)
	if err != nil || got.PasswordHash != "" || got.UsernameKey != "carol" {
		t.Fatalf("UserByID = %+v, %v", got, err)
	}
	// A taken identity stores no user; a taken username stores no identity.
	for name, tc := range map[string]struct {
		user  *gatehouse.User
		ident *gatehouse.Identity
		code  string
	}{
		"identity taken": {newUser("dave"), &gatehouse.Identity{Provider: "github", Subject: "77"}, gatehouse.CodeIdentityTaken},
		"username taken": {&gatehouse.User{Username: "carol", UsernameKey: "carol", Email: "c2@example.com", EmailKey: "c2@example.com", IsActive: true},
			&gatehouse.Identity{Provider: "github", Subject: "78"}, gatehouse.CodeUsernameTaken},
	} {
		err := s.Identities.CreateUserWithIdentity(ctx, tc.user, tc.ident)
		if !gatehouse.IsCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if _, err := s.Users.UserByUsername(ctx, "dave"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("user of a failed link stored: %v", err)
	}
	if _, err := s.Identities.IdentityBySubject(ctx, "github", "78"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("identity of a failed user stored: %v", err)
	}
}

func testDeleteIdentityKeepsAWayIn(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	nopw := newUser("erin")
	nopw.PasswordHash = ""
	first := &gatehouse.Identity{Provider: "google", Subject: "e1"}
	if err := s.Identities.CreateUserWithIdentity(ctx, nopw, first); err != nil {
		t.Fatal(err)
	}
	second := mustLink(t, s.Identities, nopw.ID, "github", "e2")
	withpw := mustCreate(t, s.Users, newUser("frank"))
	theirs := mustLink(t, s.Identities, withpw.ID, "google", "f1")

	if _, err := s.Identities.DeleteIdentity(ctx, nopw.ID, theirs.ID); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("unlink another user's identity: %v, want not_found", err)
	}
	got, err := s.Identities.DeleteIdentity(ctx, nopw.ID, second.ID)
	if err != nil || got.Provider != "github" || got.Subject != "e2" {
		t.Fatalf("unlink one of two: %+v, %v", got, err)
	}
	if _, err := s.Identities.DeleteIdentity(ctx, nopw.ID, first.ID); !gatehouse.IsCode(err, gatehouse.CodeLastSignInMethod) {
		t.Errorf("unlink the last identity of a user without password: %v, want last_sign_in_method", err)
	}
	if _, err := s.Identities.IdentityBySubject(ctx, "google", "e1"); err != nil {
		t.Errorf("refused unlink removed the identity: %v", err)
	}
	// With a password, the last identity may go.
	if _, err := s.Identities.DeleteIdentity(ctx, withpw.ID, theirs.ID); err != nil {
		t.Errorf("unlink the last identity of a user with a password: %v", err)
	}
	if _, err := s.Identities.DeleteIdentity(ctx, withpw.ID, theirs.ID); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("unlink twice: %v, want not_found", err)
	}
}

// Two concurrent unlinks of a password-less user's two identities: one
// wins, the other is refused, and one identity remains.
func testConcurrentDeleteIdentity(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	for round := range 5 {
		u := newUser("gina" + string(rune('a'+round)))
		u.PasswordHash = ""
		a := &gatehouse.Identity{Provider: "google", Subject: u.Username}
		if err := s.Identities.CreateUserWithIdentity(ctx, u, a); err != nil {
			t.Fatal(err)
		}
		b := mustLink(t, s.Identities, u.ID, "github", u.Username)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []int64{a.ID, b.ID} {
			wg.Go(func() { _, errs[i] = s.Identities.DeleteIdentity(ctx, u.ID, id) })
		}
		wg.Wait()
		list, err := s.Identities.ListIdentities(ctx, u.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("round %d: identities left %d (%v), errors %v", round, len(list), err, errs)
		}
		refused := 0
		for _, err := range errs {
			if gatehouse.IsCode(err, gatehouse.CodeLastSignInMethod) {
				refused++
			} else if err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if refused != 1 {
			t.Errorf("round %d: %d refused, want 1 (%v)", round, refused, errs)
		}
	}
}

func testOAuthLoginTakenOnce(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := &gatehouse.OAuthLogin{
		StateHash: "h1", Provider: "google", Nonce: "n", Verifier: "v", RedirectURI: "https://app.example/cb",
		AppState: "s\x00\xff", CodeChallenge: "c", LinkUserID: 0, ExpiresAt: now.Add(10 * time.Minute),
	}
	if err := s.Identities.SaveOAuthLogin(ctx, l); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*gatehouse.OAuthLogin
	for range 8 {
		wg.Go(func() {
			got, err := s.Identities.TakeOAuthLogin(ctx, "h1", now)
			if err != nil && !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				won = append(won, got)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d takes of one state won, want 1", len(won))
	}
	got := won[0]
	if got.Provider != "google" || got.Nonce != "n" || got.Verifier != "v" || got.RedirectURI != l.RedirectURI ||
		got.CodeChallenge != "c" || !got.ExpiresAt.Equal(l.ExpiresAt) || got.AppState != "s\x00\uFFFD" && got.AppState != "s\uFFFD\uFFFD" {
		t.Errorf("taken %+v, want %+v", got, l)
	}
	expired := &gatehouse.OAuthLogin{StateHash: "h2", Provider: "google", Nonce: "n", Verifier: "v", RedirectURI: "x", LinkUserID: 7, ExpiresAt: now}
	if err := s.Identities.SaveOAuthLogin(ctx, expired); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identities.TakeOAuthLogin(ctx, "h2", now); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("expired login: %v, want not_found", err)
	}
	if _, err := s.Identities.TakeOAuthLogin(ctx, "h2", now.Add(-time.Hour)); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("expired login is gone after a refused take: %v", err)
	}
}

func testAuthCodeTakenOnce(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("hank"))
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c := &gatehouse.AuthCode{CodeHash: "c1", UserID: u.ID, Provider: "corp", RedirectURI: "https://app.example/cb", CodeChallenge: "ch", ExpiresAt: now.Add(time.Minute)}
	if err := s.Identities.SaveAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Identities.SaveAuthCode(ctx, &gatehouse.AuthCode{CodeHash: "c2", UserID: 987654, ExpiresAt: now}); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("code for no user: %v, want not_found", err)
	}
	if _, err := s.Identities.TakeAuthCode(ctx, "c1", now.Add(time.Minute)); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("code taken at its expiry: %v, want not_found", err)
	}
	if err := s.Identities.SaveAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	link := &gatehouse.AuthCode{CodeHash: "c3", UserID: u.ID, Provider: "corp", RedirectURI: "r", CodeChallenge: "ch", ExpiresAt: now.Add(time.Minute),
		Link: true, Subject: "s-1", Email: "x@idp.example", EmailVerified: true}
	if err := s.Identities.SaveAuthCode(ctx, link); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Identities.TakeAuthCode(ctx, "c3", now); err != nil || *got != *link {
		t.Errorf("link code = %+v, %v; want %+v", got, err, link)
	}
	got, err := s.Identities.TakeAuthCode(ctx, "c1", now)
	if err != nil || got.UserID != u.ID || got.Provider != "corp" || got.RedirectURI != c.RedirectURI || got.CodeChallenge != "ch" || !got.ExpiresAt.Equal(c.ExpiresAt) || got.Link {
		t.Fatalf("TakeAuthCode = %+v, %v", got, err)
	}
	if _, err := s.Identities.TakeAuthCode(ctx, "c1", now); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("second take: %v, want not_found", err)
	}
}

func testPruneOAuth(t *testing.T, s IdentityStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("ivy"))
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{now.Add(-time.Hour), now.Add(time.Hour)} {
		h := string(rune('a' + i))
		if err := s.Identities.SaveOAuthLogin(ctx, &gatehouse.OAuthLogin{StateHash: h, Provider: "p", Nonce: "n", Verifier: "v", RedirectURI: "r", ExpiresAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.Identities.SaveAuthCode(ctx, &gatehouse.AuthCode{CodeHash: h, UserID: u.ID, ExpiresAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Identities.PruneOAuth(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("PruneOAuth = %d, %v; want 2", n, err)
	}
	if _, err := s.Identities.TakeOAuthLogin(ctx, "b", now); err != nil {
		t.Errorf("live login pruned: %v", err)
	}
	if _, err := s.Identities.TakeAuthCode(ctx, "b", now); err != nil {
		t.Errorf("live code pruned: %v", err)
	}
}
