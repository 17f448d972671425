package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// testMFADisableRevokesOtherSessions: turning TOTP off removes it, its
// codes and challenges, and ends every other session of the user (their
// tokens claim a second factor that is gone) in the same transaction,
// keeping the caller's and other users' sessions; without a TOTP it
// changes nothing.
func testMFADisableRevokesOtherSessions(t *testing.T, s MFAStores) {
	ctx := t.Context()
	ss := Stores{Users: s.Users, Sessions: s.Sessions}
	u := mustCreate(t, s.Users, newUser("alice"))
	other := mustCreate(t, s.Users, newUser("bob"))
	keep := mustCreateSession(t, ss, newSession(u, "keep", base))
	gone := mustCreateSession(t, ss, newSession(u, "gone", base))
	bobs := mustCreateSession(t, ss, newSession(other, "bob", base))
	at := base.Add(time.Minute)

	_, err := s.MFA.DisableTOTP(ctx, u.ID, keep.ID, at)
	wantNotFound(t, "disable without a TOTP", err)
	if got := mustSession(t, ss, gone.ID); !got.RevokedAt.IsZero() {
		t.Fatalf("a refused disable revoked a session")
	}

	enrolled(t, s, u)
	if err := s.MFA.CreateMFAChallenge(ctx, &gatehouse.MFAChallenge{TokenHash: []byte("ch"), UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.MFA.DisableTOTP(ctx, u.ID, keep.ID, at)
	if err != nil || n != 1 {
		t.Fatalf("DisableTOTP = %d, %v; want 1 session revoked", n, err)
	}
	if _, err := s.MFA.TOTPByUser(ctx, u.ID); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("TOTP after disable: %v", err)
	}
	if left, _ := s.MFA.RecoveryCodesLeft(ctx, u.ID); left != 0 {
		t.Errorf("%d recovery codes after disable", left)
	}
	if _, err := s.MFA.MFAChallenge(ctx, []byte("ch"), base); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("challenge after disable: %v", err)
	}
	if got := mustSession(t, ss, gone.ID); got.RevokedAt.IsZero() || got.RevokeReason != gatehouse.RevokedMFADisabled {
		t.Errorf("other session: revoked %v reason %q, want %s", got.RevokedAt, got.RevokeReason, gatehouse.RevokedMFADisabled)
	}
	for _, id := range []string{keep.ID, bobs.ID} {
		if got := mustSession(t, ss, id); !got.RevokedAt.IsZero() {
			t.Errorf("session %s was revoked", id)
		}
	}
	if revs, _, err := s.Sessions.RevocationsSince(ctx, 0, at); err != nil || len(revs) != 1 || revs[0].SessionID != gone.ID {
		t.Errorf("revocation log %+v, %v; want the one session", revs, err)
	}
}
