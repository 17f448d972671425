package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// EmailStores are the stores an email token test needs: tokens belong to
// users, and a password reset revokes sessions.
type EmailStores struct {
	Users    gatehouse.UserStore
	Sessions gatehouse.SessionStore
	Tokens   gatehouse.EmailTokenStore
	// MFA and Identities hold what a reset's pre-hijacking rule removes.
	MFA        gatehouse.MFAStore
	Identities gatehouse.IdentityStore
}

// RunEmailTokenStore runs the EmailTokenStore conformance suite. newStores
// is called once per subtest, each empty and isolated, possibly
// concurrently.
func RunEmailTokenStore(t *testing.T, newStores func(t *testing.T) EmailStores) {
	tests := []struct {
		name string
		test func(t *testing.T, s EmailStores)
	}{
		{"CreateAndFind", testTokenCreateAndFind},
		{"VerifyEmailOnce", testVerifyEmailOnce},
		{"ExpiredRefused", testTokenExpiredRefused},
		{"PurposeBound", testTokenPurposeBound},
		{"AddressBound", testTokenAddressBound},
		{"Supersede", testTokenSupersede},
		{"ResetPassword", testResetPassword},
		{"ResetRemovesUnverifiedAttachments", testResetRemovesUnverifiedAttachments},
		{"ResetKeepsVerifiedAttachments", testResetKeepsVerifiedAttachments},
		{"ConcurrentConsume", testTokenConcurrentConsume},
		{"Prune", testTokenPrune},
		{"DeletedWithUser", testTokenDeletedWithUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStores(t))
		})
	}
}

func newToken(u *gatehouse.User, purpose, hash string, created time.Time, ttl time.Duration) *gatehouse.OneTimeToken {
	return &gatehouse.OneTimeToken{Hash: hash, Purpose: purpose, UserID: u.ID, EmailKey: u.EmailKey, CreatedAt: created, ExpiresAt: created.Add(ttl)}
}

func mustCreateToken(tb testing.TB, s EmailStores, t *gatehouse.OneTimeToken, supersede bool) {
	tb.Helper()
	if err := s.Tokens.CreateOneTimeToken(tb.Context(), t, supersede); err != nil {
		tb.Fatalf("CreateOneTimeToken: %v", err)
	}
}

func wantNotFound(tb testing.TB, what string, err error) {
	tb.Helper()
	if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		tb.Errorf("%s: error %v, want code %s", what, err, gatehouse.CodeNotFound)
	}
}

func testTokenCreateAndFind(t *testing.T, s EmailStores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	tok := newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour)
	mustCreateToken(t, s, tok, false)
	got, err := s.Tokens.OneTimeToken(t.Context(), "aa01", gatehouse.PurposeVerifyEmail, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.EmailKey != u.EmailKey || !got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(base.Add(time.Hour)) {
		t.Errorf("OneTimeToken = %+v, want %+v", got, tok)
	}
	_, err = s.Tokens.OneTimeToken(t.Context(), "aa02", gatehouse.PurposeVerifyEmail, base)
	wantNotFound(t, "unknown hash", err)
	if u2, _ := s.Users.UserByID(t.Context(), u.ID); !u2.EmailVerifiedAt.IsZero() {
		t.Errorf("new user EmailVerifiedAt = %v, want zero", u2.EmailVerifiedAt)
	}
}

func testVerifyEmailOnce(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour), false)
	if _, err := s.Users.UserByID(ctx, u.ID); err != nil { // a cache in front now holds the user
		t.Fatal(err)
	}
	at := base.Add(time.Minute)
	id, err := s.Tokens.VerifyEmail(ctx, "aa01", at)
	if err != nil || id != u.ID {
		t.Fatalf("VerifyEmail = %d, %v; want %d", id, err, u.ID)
	}
	got, err := s.Users.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.EmailVerifiedAt.Equal(at) {
		t.Errorf("EmailVerifiedAt = %v, want %v", got.EmailVerifiedAt, at)
	}
	_, err = s.Tokens.VerifyEmail(ctx, "aa01", at.Add(time.Second))
	wantNotFound(t, "second use", err)
	_, err = s.Tokens.OneTimeToken(ctx, "aa01", gatehouse.PurposeVerifyEmail, at)
	wantNotFound(t, "look-up after use", err)
	// A second verification keeps the first time.
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa02", base, time.Hour), false)
	if _, err := s.Tokens.VerifyEmail(ctx, "aa02", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Users.UserByID(ctx, u.ID); !got.EmailVerifiedAt.Equal(at) {
		t.Errorf("EmailVerifiedAt after a second verification = %v, want %v", got.EmailVerifiedAt, at)
	}
}

func testTokenExpiredRefused(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	end := base.Add(time.Hour)
	_, err := s.Tokens.OneTimeToken(ctx, "aa01", gatehouse.PurposeVerifyEmail, end)
	wantNotFound(t, "look-up at expiry", err)
	_, err = s.Tokens.VerifyEmail(ctx, "aa01", end)
	wantNotFound(t, "verify at expiry", err)
	_, err = s.Tokens.ResetPassword(ctx, "bb01", "new-hash", end)
	wantNotFound(t, "reset at expiry", err)
	if got, _ := s.Users.UserByID(ctx, u.ID); got.PasswordHash != u.PasswordHash || !got.EmailVerifiedAt.IsZero() {
		t.Errorf("expired tokens changed the user: %+v", got)
	}
}

func testTokenPurposeBound(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	_, err := s.Tokens.ResetPassword(ctx, "aa01", "new-hash", base)
	wantNotFound(t, "verification token used to reset", err)
	_, err = s.Tokens.VerifyEmail(ctx, "bb01", base)
	wantNotFound(t, "reset token used to verify", err)
	_, err = s.Tokens.OneTimeToken(ctx, "aa01", gatehouse.PurposePasswordReset, base)
	wantNotFound(t, "look-up for another purpose", err)
}

func testTokenAddressBound(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	tok := newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour)
	tok.EmailKey = "old-address@example.com"
	mustCreateToken(t, s, tok, false)
	_, err := s.Tokens.VerifyEmail(ctx, "aa01", base)
	wantNotFound(t, "token sent to another address", err)
}

func testTokenSupersede(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	other := mustCreate(t, s.Users, newUser("bob"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(other, gatehouse.PurposePasswordReset, "cc01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb02", base.Add(time.Minute), time.Hour), true)
	now := base.Add(2 * time.Minute)
	_, err := s.Tokens.OneTimeToken(ctx, "bb01", gatehouse.PurposePasswordReset, now)
	wantNotFound(t, "superseded token", err)
	for _, k := range []struct{ hash, purpose string }{
		{"bb02", gatehouse.PurposePasswordReset}, {"aa01", gatehouse.PurposeVerifyEmail}, {"cc01", gatehouse.PurposePasswordReset},
	} {
		if _, err := s.Tokens.OneTimeToken(ctx, k.hash, k.purpose, now); err != nil {
			t.Errorf("token %s after superseding: %v", k.hash, err)
		}
	}
}

func testResetPassword(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	other := mustCreate(t, s.Users, newUser("bob"))
	ss := Stores{Users: s.Users, Sessions: s.Sessions}
	a := mustCreateSession(t, ss, newSession(u, "a", base))
	b := mustCreateSession(t, ss, newSession(u, "b", base))
	keep := mustCreateSession(t, ss, newSession(other, "c", base))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb02", base, time.Hour), false)
	if _, err := s.Users.UserByID(ctx, u.ID); err != nil { // a cache in front now holds the user
		t.Fatal(err)
	}
	at := base.Add(time.Minute)
	res, err := s.Tokens.ResetPassword(ctx, "bb01", "new-hash", at)
	if err != nil || res.UserID != u.ID || !res.WasUnverified || res.IdentitiesRemoved != 0 || res.TOTPRemoved {
		t.Fatalf("ResetPassword = %+v, %v; want user %d, unverified, nothing removed", res, err, u.ID)
	}
	got, err := s.Users.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "new-hash" || !got.EmailVerifiedAt.Equal(at) {
		t.Errorf("after reset: hash %q, verified %v; want new-hash, %v", got.PasswordHash, got.EmailVerifiedAt, at)
	}
	for _, id := range []string{a.ID, b.ID} {
		if s := mustSession(t, ss, id); s.RevokedAt.IsZero() || s.RevokeReason != gatehouse.RevokedPasswordReset {
			t.Errorf("session %s: revoked %v reason %q, want revoked for %s", id, s.RevokedAt, s.RevokeReason, gatehouse.RevokedPasswordReset)
		}
	}
	if s := mustSession(t, ss, keep.ID); !s.RevokedAt.IsZero() {
		t.Errorf("another user's session was revoked")
	}
	revs, _, err := s.Sessions.RevocationsSince(ctx, 0, at)
	if err != nil || len(revs) != 2 {
		t.Errorf("revocation log: %d entries, %v; want 2", len(revs), err)
	}
	_, err = s.Tokens.ResetPassword(ctx, "bb01", "newer-hash", at)
	wantNotFound(t, "second use", err)
	_, err = s.Tokens.ResetPassword(ctx, "bb02", "newer-hash", at)
	wantNotFound(t, "the user's other reset link", err)
}

// testTokenConcurrentConsume pins single use under a race: of many
// consumers of one token, exactly one wins.
func testTokenConcurrentConsume(t *testing.T, s EmailStores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Tokens.ResetPassword(t.Context(), "bb01", fmt.Sprintf("hash-%d", i), base.Add(time.Second))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !gatehouse.IsCode(err, gatehouse.CodeNotFound):
			t.Errorf("a loser got %v, want %s", err, gatehouse.CodeNotFound)
		}
	}
	if won != 1 {
		t.Errorf("%d consumers won, want exactly 1", won)
	}
}

func testTokenPrune(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa01", base, time.Hour), false)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "aa02", base, 3*time.Hour), false)
	n, err := s.Tokens.PruneOneTimeTokens(ctx, base.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneOneTimeTokens = %d, %v; want 1", n, err)
	}
	if _, err := s.Tokens.OneTimeToken(ctx, "aa02", gatehouse.PurposeVerifyEmail, base); err != nil {
		t.Errorf("unexpired token pruned: %v", err)
	}
}

func testTokenDeletedWithUser(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "bb01", base, time.Hour), false)
	if err := s.Users.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Tokens.OneTimeToken(ctx, "bb01", gatehouse.PurposePasswordReset, base)
	wantNotFound(t, "token of a deleted user", err)
}
