package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// Stores are the stores a session test needs: sessions belong to users.
type Stores struct {
	Users    gatehouse.UserStore
	Sessions gatehouse.SessionStore
}

// RunSessionStore runs the SessionStore conformance suite, including the
// UserStore methods that revoke sessions (deactivation, password change,
// deletion). newStores is called once per subtest, each empty and isolated,
// possibly concurrently.
func RunSessionStore(t *testing.T, newStores func(t *testing.T) Stores) {
	tests := []struct {
		name string
		test func(t *testing.T, s Stores)
	}{
		{"CreateAndGet", testSessionCreateAndGet},
		{"ClientTextAnyBytes", testSessionClientTextAnyBytes},
		{"Rotate", testSessionRotate},
		{"ConcurrentRotate", testSessionConcurrentRotate},
		{"Touch", testSessionTouch},
		{"Revoke", testSessionRevoke},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"List", testListSessions},
		{"RevocationsSince", testRevocationsSince},
		{"UserChangesRevoke", testUserChangesRevoke},
		{"Prune", testPruneSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStores(t))
		})
	}
}

// base is a fixed instant, whole microseconds, that every store can keep.
var base = time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)

func newSession(u *gatehouse.User, name string, created time.Time) *gatehouse.Session {
	return &gatehouse.Session{
		ID:                fmt.Sprintf("%s-%d-%s", name, u.ID, created.Format("150405.000000")),
		UserID:            u.ID,
		CreatedAt:         created,
		LastUsedAt:        created,
		ExpiresAt:         created.Add(30 * 24 * time.Hour),
		AbsoluteExpiresAt: created.Add(90 * 24 * time.Hour),
		ClientIP:          "192.0.2.7",
		UserAgent:         "curl/8.5.0",
		ClientID:          "spa",
		Scope:             "openid profile",
		Seed:              bytes.Repeat([]byte{0xA5}, 32),
		RotatedAt:         created,
		AccessExpiresAt:   created.Add(30 * time.Minute),
	}
}

func mustCreateSession(tb testing.TB, s Stores, ss *gatehouse.Session) *gatehouse.Session {
	tb.Helper()
	if err := s.Sessions.CreateSession(tb.Context(), ss); err != nil {
		tb.Fatalf("CreateSession: %v", err)
	}
	return ss
}

func mustSession(tb testing.TB, s Stores, id string) *gatehouse.Session {
	tb.Helper()
	ss, err := s.Sessions.SessionByID(tb.Context(), id)
	if err != nil {
		tb.Fatalf("SessionByID(%s): %v", id, err)
	}
	return ss
}

func checkSession(tb testing.TB, got, want *gatehouse.Session) {
	tb.Helper()
	times := []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt}, {"AbsoluteExpiresAt", got.AbsoluteExpiresAt, want.AbsoluteExpiresAt},
		{"RotatedAt", got.RotatedAt, want.RotatedAt}, {"AccessExpiresAt", got.AccessExpiresAt, want.AccessExpiresAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
	}
	for _, tt := range times {
		if !tt.got.Equal(tt.want) {
			tb.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.ClientIP != want.ClientIP || got.UserAgent != want.UserAgent ||
		got.ClientID != want.ClientID || got.Scope != want.Scope || got.Counter != want.Counter ||
		!bytes.Equal(got.Seed, want.Seed) || got.RevokeReason != want.RevokeReason {
		tb.Errorf("session = %+v\nwant      %+v", got, want)
	}
}

func testSessionCreateAndGet(t *testing.T, s Stores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	want := mustCreateSession(t, s, newSession(u, "a", base))
	checkSession(t, mustSession(t, s, want.ID), want)
	_, err := s.Sessions.SessionByID(t.Context(), "no-such-session")
	checkCode(t, err, gatehouse.CodeNotFound)
}

// testSessionClientTextAnyBytes creates a session whose client-supplied
// text holds bytes that are not UTF-8, and a NUL, as an HTTP header (which
// may carry any byte from 0x80 up) or a form field can. The store must take
// it, since a login must not fail for its user agent, and read back the
// text as given or with each NUL and each run of invalid bytes replaced by
// U+FFFD: a store whose text columns take only UTF-8 without NUL
// (PostgreSQL's) has to replace them.
func testSessionClientTextAnyBytes(t *testing.T, s Stores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	ss := newSession(u, "a", base)
	ss.ClientIP = "192.0.2.7\xff"
	ss.UserAgent = "Mozilla/5.0 (caf\xe9)\x00"
	ss.ClientID = "spa\x00"
	ss.Scope = "openid \xc3"
	mustCreateSession(t, s, ss)
	got := mustSession(t, s, ss.ID)
	for _, f := range []struct{ name, got, sent string }{
		{"ClientIP", got.ClientIP, ss.ClientIP}, {"UserAgent", got.UserAgent, ss.UserAgent},
		{"ClientID", got.ClientID, ss.ClientID}, {"Scope", got.Scope, ss.Scope},
	} {
		replaced := strings.ReplaceAll(strings.ToValidUTF8(f.sent, "\uFFFD"), "\x00", "\uFFFD")
		if f.got != f.sent && f.got != replaced {
			t.Errorf("%s = %q, want %q or %q", f.name, f.got, f.sent, replaced)
		}
	}
}

func testSessionRotate(t *testing.T, s Stores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	ss := mustCreateSession(t, s, newSession(u, "a", base))
	at := base.Add(time.Hour)
	got, err := s.Sessions.RotateSession(ctx, ss.ID, 0, at, at.Add(24*time.Hour), at.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := *ss
	want.Counter, want.RotatedAt, want.LastUsedAt = 1, at, at
	want.ExpiresAt, want.AccessExpiresAt = at.Add(24*time.Hour), at.Add(30*time.Minute)
	checkSession(t, got, &want)

	t.Run("stale counter is a conflict", func(t *testing.T) {
		_, err := s.Sessions.RotateSession(ctx, ss.ID, 0, at, at.Add(time.Hour), at)
		checkCode(t, err, gatehouse.CodeConflict)
	})
	t.Run("access expiry never moves back", func(t *testing.T) {
		got, err := s.Sessions.RotateSession(ctx, ss.ID, 1, at, at.Add(time.Hour), base)
		if err != nil {
			t.Fatal(err)
		}
		if !got.AccessExpiresAt.Equal(at.Add(30 * time.Minute)) {
			t.Errorf("AccessExpiresAt = %v", got.AccessExpiresAt)
		}
	})
	t.Run("expired session is not found", func(t *testing.T) {
		late := ss.AbsoluteExpiresAt.Add(time.Second)
		_, err := s.Sessions.RotateSession(ctx, ss.ID, 2, late, late.Add(time.Hour), late)
		checkCode(t, err, gatehouse.CodeNotFound)
	})
	t.Run("revoked session is not found", func(t *testing.T) {
		if err := s.Sessions.RevokeSession(ctx, ss.ID, 0, gatehouse.RevokedLogout, at); err != nil {
			t.Fatal(err)
		}
		_, err := s.Sessions.RotateSession(ctx, ss.ID, 2, at, at.Add(time.Hour), at)
		checkCode(t, err, gatehouse.CodeNotFound)
	})
	t.Run("unknown session is not found", func(t *testing.T) {
		_, err := s.Sessions.RotateSession(ctx, "nope", 0, at, at.Add(time.Hour), at)
		checkCode(t, err, gatehouse.CodeNotFound)
	})
}

// Two tabs refreshing with the same token at once: exactly one rotation wins.
func testSessionConcurrentRotate(t *testing.T, s Stores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	ss := mustCreateSession(t, s, newSession(u, "a", base))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			at := base.Add(time.Minute)
			_, errs[i] = s.Sessions.RotateSession(t.Context(), ss.ID, 0, at, at.Add(time.Hour), at)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case gatehouse.IsCode(err, gatehouse.CodeConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d rotations won, want 1", won)
	}
	if c := mustSession(t, s, ss.ID).Counter; c != 1 {
		t.Errorf("counter = %d, want 1", c)
	}
}

func testSessionTouch(t *testing.T, s Stores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	ss := mustCreateSession(t, s, newSession(u, "a", base))
	at := base.Add(time.Minute)
	if err := s.Sessions.TouchSession(ctx, ss.ID, at, at.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := mustSession(t, s, ss.ID)
	if !got.LastUsedAt.Equal(at) || !got.AccessExpiresAt.Equal(at.Add(30*time.Minute)) || got.Counter != 0 {
		t.Errorf("after touch: %+v", got)
	}
	checkCode(t, s.Sessions.TouchSession(ctx, "nope", at, at), gatehouse.CodeNotFound)
}

func testSessionRevoke(t *testing.T, s Stores) {
	ctx := t.Context()
	alice := mustCreate(t, s.Users, newUser("alice"))
	bob := mustCreate(t, s.Users, newUser("bob"))
	ss := mustCreateSession(t, s, newSession(alice, "a", base))
	at := base.Add(time.Minute)

	checkCode(t, s.Sessions.RevokeSession(ctx, ss.ID, bob.ID, gatehouse.RevokedByUser, at), gatehouse.CodeNotFound)
	if err := s.Sessions.RevokeSession(ctx, ss.ID, alice.ID, gatehouse.RevokedByUser, at); err != nil {
		t.Fatal(err)
	}
	got := mustSession(t, s, ss.ID)
	if !got.RevokedAt.Equal(at) || got.RevokeReason != gatehouse.RevokedByUser || got.Live(at) {
		t.Errorf("revoked session: %+v", got)
	}
	checkCode(t, s.Sessions.RevokeSession(ctx, ss.ID, 0, gatehouse.RevokedLogout, at), gatehouse.CodeNotFound)

	revs, _, err := s.Sessions.RevocationsSince(ctx, 0, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].SessionID != ss.ID || revs[0].UserID != alice.ID ||
		!revs[0].ExpiresAt.Equal(ss.AccessExpiresAt) || !revs[0].RevokedAt.Equal(at) {
		t.Errorf("revocation log = %+v", revs)
	}
}

func testRevokeUserSessions(t *testing.T, s Stores) {
	ctx := t.Context()
	alice := mustCreate(t, s.Users, newUser("alice"))
	bob := mustCreate(t, s.Users, newUser("bob"))
	a1 := mustCreateSession(t, s, newSession(alice, "a1", base))
	a2 := mustCreateSession(t, s, newSession(alice, "a2", base.Add(time.Second)))
	a3 := mustCreateSession(t, s, newSession(alice, "a3", base.Add(2*time.Second)))
	b1 := mustCreateSession(t, s, newSession(bob, "b1", base))
	at := base.Add(time.Minute)

	n, err := s.Sessions.RevokeUserSessions(ctx, alice.ID, a2.ID, gatehouse.RevokedLogoutAll, at)
	if err != nil || n != 2 {
		t.Fatalf("revoked %d, %v; want 2", n, err)
	}
	for _, tc := range []struct {
		ss   *gatehouse.Session
		live bool
	}{{a1, false}, {a2, true}, {a3, false}, {b1, true}} {
		if got := mustSession(t, s, tc.ss.ID).Live(at); got != tc.live {
			t.Errorf("%s live = %v, want %v", tc.ss.ID, got, tc.live)
		}
	}
	if n, err := s.Sessions.RevokeUserSessions(ctx, alice.ID, "", gatehouse.RevokedLogoutAll, at); err != nil || n != 1 {
		t.Errorf("second revoke-all: %d, %v; want 1", n, err)
	}
}

func testListSessions(t *testing.T, s Stores) {
	ctx := t.Context()
	alice := mustCreate(t, s.Users, newUser("alice"))
	bob := mustCreate(t, s.Users, newUser("bob"))
	old := mustCreateSession(t, s, newSession(alice, "old", base))
	newer := mustCreateSession(t, s, newSession(alice, "new", base.Add(time.Hour)))
	revoked := mustCreateSession(t, s, newSession(alice, "rev", base.Add(2*time.Hour)))
	expired := newSession(alice, "exp", base.Add(-40*24*time.Hour))
	mustCreateSession(t, s, expired)
	mustCreateSession(t, s, newSession(bob, "bob", base))
	now := base.Add(3 * time.Hour)
	if err := s.Sessions.RevokeSession(ctx, revoked.ID, 0, gatehouse.RevokedLogout, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Sessions.ListSessions(ctx, alice.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	// Live sessions of everyone: alice's two and bob's one.
	if n, err := s.Sessions.CountActiveSessions(ctx, now); err != nil || n != 3 {
		t.Errorf("CountActiveSessions = %d, %v; want 3", n, err)
	}
	if len(got) != 2 || got[0].ID != newer.ID || got[1].ID != old.ID {
		ids := []string{}
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		t.Errorf("ListSessions = %v, want [%s %s]", ids, newer.ID, old.ID)
	}
}

func testRevocationsSince(t *testing.T, s Stores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	at := base.Add(time.Minute)
	var ids []string
	for i := range 3 {
		ss := newSession(u, fmt.Sprint("s", i), base.Add(time.Duration(i)*time.Second))
		mustCreateSession(t, s, ss)
		ids = append(ids, ss.ID)
	}
	revs, cursor, err := s.Sessions.RevocationsSince(ctx, 0, at)
	if err != nil || len(revs) != 0 || cursor != 0 {
		t.Fatalf("empty log: %v, %d, %v", revs, cursor, err)
	}
	for _, id := range ids[:2] {
		if err := s.Sessions.RevokeSession(ctx, id, 0, gatehouse.RevokedLogout, at); err != nil {
			t.Fatal(err)
		}
	}
	revs, c1, err := s.Sessions.RevocationsSince(ctx, 0, at)
	if err != nil || len(revs) != 2 || revs[0].SessionID != ids[0] || revs[1].SessionID != ids[1] || revs[0].Seq >= revs[1].Seq || c1 != revs[1].Seq {
		t.Fatalf("after two: %+v, cursor %d, %v", revs, c1, err)
	}
	if revs, c2, err := s.Sessions.RevocationsSince(ctx, c1, at); err != nil || len(revs) != 0 || c2 != c1 {
		t.Errorf("nothing new: %+v, cursor %d (want %d), %v", revs, c2, c1, err)
	}
	if err := s.Sessions.RevokeSession(ctx, ids[2], 0, gatehouse.RevokedLogout, at); err != nil {
		t.Fatal(err)
	}
	if revs, c3, err := s.Sessions.RevocationsSince(ctx, c1, at); err != nil || len(revs) != 1 || revs[0].SessionID != ids[2] || c3 <= c1 {
		t.Errorf("one new: %+v, cursor %d, %v", revs, c3, err)
	}
	// Once every access token of a session has expired, its revocation is
	// no longer news.
	late := base.Add(time.Hour)
	if revs, _, err := s.Sessions.RevocationsSince(ctx, 0, late); err != nil || len(revs) != 0 {
		t.Errorf("after expiry: %+v, %v", revs, err)
	}
}

func testUserChangesRevoke(t *testing.T, s Stores) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	tests := []struct {
		name   string
		change func(u *gatehouse.User, keep string) error
		keep   bool
		reason string
	}{
		{"deactivation", func(u *gatehouse.User, _ string) error { return s.Users.SetUserActive(ctx, u.ID, false) }, false, gatehouse.RevokedUserDeactivated},
		{"password change", func(u *gatehouse.User, keep string) error {
			return s.Users.ChangePassword(ctx, u.ID, "new hash", keep, now)
		}, true, gatehouse.RevokedPasswordChanged},
		{"deletion", func(u *gatehouse.User, _ string) error { return s.Users.DeleteUser(ctx, u.ID) }, false, gatehouse.RevokedUserDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := mustCreate(t, s.Users, newUser("u"+tt.reason))
			keep := mustCreateSession(t, s, newSession(u, "keep", now))
			other := mustCreateSession(t, s, newSession(u, "other", now))
			_, before, err := s.Sessions.RevocationsSince(ctx, 0, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.change(u, keep.ID); err != nil {
				t.Fatal(err)
			}
			revs, _, err := s.Sessions.RevocationsSince(ctx, before, now)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{other.ID: true}
			if !tt.keep {
				want[keep.ID] = true
			}
			got := map[string]bool{}
			for _, r := range revs {
				got[r.SessionID] = true
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("revoked %v, want %v", got, want)
			}
			if tt.name == "password change" {
				if got, _ := s.Users.UserByID(ctx, u.ID); got.PasswordHash != "new hash" {
					t.Errorf("hash = %q", got.PasswordHash)
				}
				if got := mustSession(t, s, other.ID); got.RevokeReason != tt.reason {
					t.Errorf("reason = %q", got.RevokeReason)
				}
			}
		})
	}
	t.Run("missing user", func(t *testing.T) {
		checkCode(t, s.Users.ChangePassword(ctx, 999999, "h", "", now), gatehouse.CodeNotFound)
	})
}

func testPruneSessions(t *testing.T, s Stores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	old := newSession(u, "old", base.Add(-100*24*time.Hour))
	mustCreateSession(t, s, old)
	live := mustCreateSession(t, s, newSession(u, "live", base))
	revoked := mustCreateSession(t, s, newSession(u, "revoked", base))
	if err := s.Sessions.RevokeSession(ctx, revoked.ID, 0, gatehouse.RevokedLogout, base); err != nil {
		t.Fatal(err)
	}
	// Before the revoked session's access tokens expire, nothing of it goes.
	if _, err := s.Sessions.PruneSessions(ctx, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustSession(t, s, revoked.ID)
	if _, err := s.Sessions.SessionByID(ctx, old.ID); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("expired session kept: %v", err)
	}
	_, cursor, err := s.Sessions.RevocationsSince(ctx, 0, base)
	if err != nil {
		t.Fatal(err)
	}
	// The revoked session goes; its log entry, the newest, stays: it holds
	// the cursor, which must never go back (followers would take that for a
	// restored database).
	n, err := s.Sessions.PruneSessions(ctx, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("pruned %d, %v; want 1", n, err)
	}
	if revs, after, err := s.Sessions.RevocationsSince(ctx, cursor, base.Add(time.Hour)); err != nil || after != cursor || len(revs) != 0 {
		t.Errorf("after pruning: cursor %d (was %d), %d entries, %v", after, cursor, len(revs), err)
	}
	mustSession(t, s, live.ID)
}
