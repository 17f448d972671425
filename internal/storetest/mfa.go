package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// MFAStores are the stores an MFA test needs: second factors belong to
// users, and sessions carry how their user authenticated.
type MFAStores struct {
	Users    gatehouse.UserStore
	Sessions gatehouse.SessionStore
	MFA      gatehouse.MFAStore
}

// RunMFAStore runs the MFAStore conformance suite. newStores is called once
// per subtest, each empty and isolated, possibly concurrently.
func RunMFAStore(t *testing.T, newStores func(t *testing.T) MFAStores) {
	tests := []struct {
		name string
		test func(t *testing.T, s MFAStores)
	}{
		{"EnrolAndConfirm", testMFAEnrolAndConfirm},
		{"NothingEnrolled", testMFANothingEnrolled},
		{"ConfirmLosesToReEnrolment", testMFAConfirmLosesToReEnrolment},
		{"TOTPStepReplay", testMFATOTPStepReplay},
		{"ConcurrentTOTPStep", testMFAConcurrentTOTPStep},
		{"RecoveryCodes", testMFARecoveryCodes},
		{"ConcurrentRecoveryCode", testMFAConcurrentRecoveryCode},
		{"ReplaceRecoveryCodes", testMFAReplaceRecoveryCodes},
		{"Delete", testMFADelete},
		{"DisableRevokesOtherSessions", testMFADisableRevokesOtherSessions},
		{"Challenges", testMFAChallenges},
		{"UserDeletionCascades", testMFAUserDeletionCascades},
		{"PasswordChangeEndsChallenges", testMFAPasswordChangeEndsChallenges},
		{"SessionAMR", testMFASessionAMR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStores(t))
		})
	}
}

func pendingTOTP(u *gatehouse.User, secret string) *gatehouse.TOTP {
	return &gatehouse.TOTP{UserID: u.ID, Secret: []byte(secret), CreatedAt: base}
}

func codeHashes(user string, n int) [][]byte {
	var hs [][]byte
	for i := range n {
		hs = append(hs, []byte(fmt.Sprintf("%s-code-%02d", user, i)))
	}
	return hs
}

// enrolled gives u a confirmed TOTP (last step 100) and 10 recovery codes.
func enrolled(tb testing.TB, s MFAStores, u *gatehouse.User) {
	tb.Helper()
	ctx := tb.Context()
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "sealed-"+u.Username)); err != nil {
		tb.Fatalf("PutPendingTOTP: %v", err)
	}
	if err := s.MFA.ConfirmTOTP(ctx, u.ID, []byte("sealed-"+u.Username), 100, codeHashes(u.Username, 10), base.Add(time.Minute)); err != nil {
		tb.Fatalf("ConfirmTOTP: %v", err)
	}
}

func testMFAEnrolAndConfirm(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "first")); err != nil {
		t.Fatal(err)
	}
	// A second start replaces the pending secret.
	second := pendingTOTP(u, "second")
	second.CreatedAt = base.Add(time.Second)
	if err := s.MFA.PutPendingTOTP(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err := s.MFA.TOTPByUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Confirmed() || !bytes.Equal(got.Secret, []byte("second")) || !got.CreatedAt.Equal(second.CreatedAt) || got.LastUsedStep != 0 {
		t.Errorf("pending TOTP = %+v", got)
	}
	at := base.Add(time.Minute)
	if err := s.MFA.ConfirmTOTP(ctx, u.ID, []byte("second"), 42, codeHashes("alice", 10), at); err != nil {
		t.Fatal(err)
	}
	got, err = s.MFA.TOTPByUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Confirmed() || !got.ConfirmedAt.Equal(at) || got.LastUsedStep != 42 {
		t.Errorf("confirmed TOTP = %+v", got)
	}
	if n, err := s.MFA.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 10 {
		t.Errorf("RecoveryCodesLeft = %d, %v; want 10", n, err)
	}
	// Confirmed: neither a new enrolment nor a second confirmation.
	checkCode(t, s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "third")), gatehouse.CodeMFAAlreadyEnabled)
	checkCode(t, s.MFA.ConfirmTOTP(ctx, u.ID, []byte("second"), 43, nil, at), gatehouse.CodeMFAAlreadyEnabled)
	if got, _ := s.MFA.TOTPByUser(ctx, u.ID); !bytes.Equal(got.Secret, []byte("second")) {
		t.Errorf("a refused enrolment replaced the secret: %q", got.Secret)
	}
}

func testMFANothingEnrolled(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	_, err := s.MFA.TOTPByUser(ctx, u.ID)
	checkCode(t, err, gatehouse.CodeNotFound)
	checkCode(t, s.MFA.ConfirmTOTP(ctx, u.ID, []byte("x"), 1, nil, base), gatehouse.CodeMFAEnrolmentNotFound)
	checkCode(t, s.MFA.UseTOTPStep(ctx, u.ID, 1), gatehouse.CodeNotFound)
	checkCode(t, s.MFA.DeleteTOTP(ctx, u.ID), gatehouse.CodeNotFound)
	_, err = s.MFA.UseRecoveryCode(ctx, u.ID, []byte("alice-code-00"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	if n, err := s.MFA.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("RecoveryCodesLeft = %d, %v; want 0", n, err)
	}
	// A pending enrolment is no second factor yet.
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "p")); err != nil {
		t.Fatal(err)
	}
	checkCode(t, s.MFA.UseTOTPStep(ctx, u.ID, 1), gatehouse.CodeNotFound)
}

// testMFAConfirmLosesToReEnrolment: a confirmation made with the secret of
// an enrolment that a later start replaced must not activate the new one.
func testMFAConfirmLosesToReEnrolment(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "new")); err != nil {
		t.Fatal(err)
	}
	checkCode(t, s.MFA.ConfirmTOTP(ctx, u.ID, []byte("old"), 1, codeHashes("alice", 10), base), gatehouse.CodeMFAEnrolmentNotFound)
	if got, _ := s.MFA.TOTPByUser(ctx, u.ID); got.Confirmed() {
		t.Error("confirmed with a stale secret")
	}
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Errorf("a failed confirmation stored %d recovery codes", n)
	}
}

func testMFATOTPStepReplay(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	enrolled(t, s, u) // last step 100, the confirmation's
	tests := []struct {
		step int64
		want string
	}{
		{100, gatehouse.CodeConflict}, // the confirmation's code again
		{99, gatehouse.CodeConflict},  // an older step
		{101, ""},
		{101, gatehouse.CodeConflict}, // replay
		{103, ""},
		{102, gatehouse.CodeConflict}, // earlier than the last used
	}
	for _, tt := range tests {
		err := s.MFA.UseTOTPStep(ctx, u.ID, tt.step)
		if tt.want == "" && err != nil {
			t.Errorf("UseTOTPStep(%d) = %v, want success", tt.step, err)
		} else if tt.want != "" && !gatehouse.IsCode(err, tt.want) {
			t.Errorf("UseTOTPStep(%d) = %v, want %s", tt.step, err, tt.want)
		}
	}
	if got, _ := s.MFA.TOTPByUser(ctx, u.ID); got.LastUsedStep != 103 {
		t.Errorf("LastUsedStep = %d, want 103", got.LastUsedStep)
	}
}

func testMFAConcurrentTOTPStep(t *testing.T, s MFAStores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	enrolled(t, s, u)
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.MFA.UseTOTPStep(t.Context(), u.ID, 200)
			switch {
			case err == nil:
				ok.Add(1)
			case gatehouse.IsCode(err, gatehouse.CodeConflict):
				conflict.Add(1)
			default:
				t.Errorf("UseTOTPStep: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 7 {
		t.Errorf("%d accepted and %d refused one code, want 1 and 7", ok.Load(), conflict.Load())
	}
}

func testMFARecoveryCodes(t *testing.T, s MFAStores) {
	ctx := t.Context()
	alice := mustCreate(t, s.Users, newUser("alice"))
	bob := mustCreate(t, s.Users, newUser("bob"))
	enrolled(t, s, alice)
	enrolled(t, s, bob)
	n, err := s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("alice-code-03"), base)
	if err != nil || n != 9 {
		t.Fatalf("UseRecoveryCode = %d, %v; want 9 left", n, err)
	}
	_, err = s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("alice-code-03"), base)
	checkCode(t, err, gatehouse.CodeNotFound) // once only
	_, err = s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("bob-code-00"), base)
	checkCode(t, err, gatehouse.CodeNotFound) // another user's code
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, bob.ID); n != 10 {
		t.Errorf("bob has %d codes left, want 10", n)
	}
	// A new confirmation (after disable and enrol) replaces every code.
	if err := s.MFA.DeleteTOTP(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	enrolled(t, s, alice)
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, alice.ID); n != 10 {
		t.Errorf("after re-enrolment %d codes left, want 10", n)
	}
}

func testMFAConcurrentRecoveryCode(t *testing.T, s MFAStores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	enrolled(t, s, u)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.MFA.UseRecoveryCode(t.Context(), u.ID, []byte("alice-code-05"), base)
			if err == nil {
				ok.Add(1)
			} else if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
				t.Errorf("UseRecoveryCode: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("one recovery code was accepted %d times, want once", ok.Load())
	}
}

func testMFADelete(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	other := mustCreate(t, s.Users, newUser("bob"))
	enrolled(t, s, u)
	enrolled(t, s, other)
	mustChallenge(t, s, u, "alice-token", base, base.Add(5*time.Minute))
	mustChallenge(t, s, other, "bob-token", base, base.Add(5*time.Minute))
	if err := s.MFA.DeleteTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.MFA.TOTPByUser(ctx, u.ID)
	checkCode(t, err, gatehouse.CodeNotFound)
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Errorf("%d recovery codes outlived the TOTP", n)
	}
	_, err = s.MFA.MFAChallenge(ctx, []byte("alice-token"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	// The neighbour keeps everything.
	if _, err := s.MFA.TOTPByUser(ctx, other.ID); err != nil {
		t.Error(err)
	}
	if _, err := s.MFA.MFAChallenge(ctx, []byte("bob-token"), base); err != nil {
		t.Error(err)
	}
	// A pending enrolment can be deleted too.
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(u, "p")); err != nil {
		t.Fatal(err)
	}
	if err := s.MFA.DeleteTOTP(ctx, u.ID); err != nil {
		t.Error(err)
	}
}

func mustChallenge(tb testing.TB, s MFAStores, u *gatehouse.User, token string, created, expires time.Time) *gatehouse.MFAChallenge {
	tb.Helper()
	c := &gatehouse.MFAChallenge{TokenHash: []byte(token), UserID: u.ID, ClientID: "spa", Scope: "read", CreatedAt: created, ExpiresAt: expires}
	if err := s.MFA.CreateMFAChallenge(tb.Context(), c); err != nil {
		tb.Fatalf("CreateMFAChallenge: %v", err)
	}
	return c
}

func testMFAChallenges(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	want := mustChallenge(t, s, u, "token-1", base, base.Add(5*time.Minute))
	got, err := s.MFA.MFAChallenge(ctx, []byte("token-1"), base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.TokenHash, want.TokenHash) || got.UserID != u.ID || got.ClientID != "spa" || got.Scope != "read" ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("challenge = %+v, want %+v", got, want)
	}
	// Without AMR the first step was a password; a provider sign-in's
	// challenge keeps its "fed".
	if !slices.Equal(got.AMR, []string{gatehouse.AMRPassword}) {
		t.Errorf("challenge AMR = %v, want [pwd]", got.AMR)
	}
	fed := &gatehouse.MFAChallenge{TokenHash: []byte("token-fed"), UserID: u.ID, AMR: []string{gatehouse.AMRFed}, CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute)}
	if err := s.MFA.CreateMFAChallenge(ctx, fed); err != nil {
		t.Fatal(err)
	}
	if got, err := s.MFA.MFAChallenge(ctx, []byte("token-fed"), base); err != nil || !slices.Equal(got.AMR, []string{gatehouse.AMRFed}) {
		t.Errorf("provider challenge = %+v, %v; want AMR [fed]", got, err)
	}
	// Expired: neither found nor consumable.
	_, err = s.MFA.MFAChallenge(ctx, []byte("token-1"), want.ExpiresAt)
	checkCode(t, err, gatehouse.CodeNotFound)
	checkCode(t, s.MFA.ConsumeMFAChallenge(ctx, []byte("token-1"), want.ExpiresAt), gatehouse.CodeNotFound)
	_, err = s.MFA.MFAChallenge(ctx, []byte("no-such-token"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	// Consumed once, concurrently.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.MFA.ConsumeMFAChallenge(t.Context(), []byte("token-1"), base.Add(time.Minute))
			if err == nil {
				ok.Add(1)
			} else if !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
				t.Errorf("ConsumeMFAChallenge: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("one challenge consumed %d times, want once", ok.Load())
	}
	_, err = s.MFA.MFAChallenge(ctx, []byte("token-1"), base.Add(time.Minute))
	checkCode(t, err, gatehouse.CodeNotFound)
	// A new challenge clears those expired by its creation.
	mustChallenge(t, s, u, "old", base, base.Add(time.Minute))
	mustChallenge(t, s, u, "new", base.Add(2*time.Minute), base.Add(7*time.Minute))
	// Looked up at a time the old one would still be live at: it is gone.
	_, err = s.MFA.MFAChallenge(ctx, []byte("old"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	if _, err := s.MFA.MFAChallenge(ctx, []byte("new"), base.Add(3*time.Minute)); err != nil {
		t.Error(err)
	}
}

func testMFAUserDeletionCascades(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	enrolled(t, s, u)
	mustChallenge(t, s, u, "t", base, base.Add(5*time.Minute))
	if err := s.Users.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.MFA.TOTPByUser(ctx, u.ID)
	checkCode(t, err, gatehouse.CodeNotFound)
	_, err = s.MFA.MFAChallenge(ctx, []byte("t"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Errorf("%d recovery codes outlived their user", n)
	}
}

// testMFAPasswordChangeEndsChallenges: a pending second step was opened by
// a password; changing the password, or deactivating the account, ends it
// with the sessions.
func testMFAPasswordChangeEndsChallenges(t *testing.T, s MFAStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	enrolled(t, s, u)
	mustChallenge(t, s, u, "before-change", base, base.Add(5*time.Minute))
	if err := s.Users.ChangePassword(ctx, u.ID, "new-hash", "", base); err != nil {
		t.Fatal(err)
	}
	_, err := s.MFA.MFAChallenge(ctx, []byte("before-change"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	mustChallenge(t, s, u, "before-deactivation", base, base.Add(5*time.Minute))
	if err := s.Users.SetUserActive(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	_, err = s.MFA.MFAChallenge(ctx, []byte("before-deactivation"), base)
	checkCode(t, err, gatehouse.CodeNotFound)
	if _, err := s.MFA.TOTPByUser(ctx, u.ID); err != nil {
		t.Errorf("the second factor itself must stay: %v", err)
	}
}

func testMFASessionAMR(t *testing.T, s MFAStores) {
	u := mustCreate(t, s.Users, newUser("alice"))
	st := Stores{Users: s.Users, Sessions: s.Sessions}
	for _, amr := range [][]string{nil, {gatehouse.AMRPassword}, {gatehouse.AMRPassword, gatehouse.AMROTP}} {
		ss := newSession(u, fmt.Sprint(len(amr)), base)
		ss.AMR = amr
		mustCreateSession(t, st, ss)
		got := mustSession(t, st, ss.ID)
		if !slices.Equal(got.AMR, amr) {
			t.Errorf("AMR %q read back as %q", amr, got.AMR)
		}
		rotated, err := s.Sessions.RotateSession(t.Context(), ss.ID, 0, base.Add(time.Minute), base.Add(time.Hour), base.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rotated.AMR, amr) {
			t.Errorf("AMR %q after rotation: %q", amr, rotated.AMR)
		}
	}
}

func testMFAReplaceRecoveryCodes(t *testing.T, s MFAStores) {
	ctx := t.Context()
	alice := mustCreate(t, s.Users, newUser("alice"))
	bob := mustCreate(t, s.Users, newUser("bob"))
	err := s.MFA.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("new", 10))
	checkCode(t, err, gatehouse.CodeNotFound) // no TOTP at all
	if err := s.MFA.PutPendingTOTP(ctx, pendingTOTP(alice, "pending")); err != nil {
		t.Fatal(err)
	}
	err = s.MFA.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("new", 10))
	checkCode(t, err, gatehouse.CodeNotFound) // a pending enrolment has no codes to replace
	if err := s.MFA.ConfirmTOTP(ctx, alice.ID, []byte("pending"), 100, codeHashes("alice", 10), base); err != nil {
		t.Fatal(err)
	}
	enrolled(t, s, bob)
	if _, err := s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("alice-code-01"), base); err != nil {
		t.Fatal(err)
	}
	if err := s.MFA.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("new", 10)); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, alice.ID); n != 10 {
		t.Errorf("after replacing, %d codes left, want 10", n)
	}
	_, err = s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("alice-code-02"), base)
	checkCode(t, err, gatehouse.CodeNotFound) // the old codes are gone
	if n, err := s.MFA.UseRecoveryCode(ctx, alice.ID, []byte("new-code-02"), base); err != nil || n != 9 {
		t.Errorf("a new code: %d left, %v; want 9", n, err)
	}
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, bob.ID); n != 10 {
		t.Errorf("bob has %d codes left, want 10 (untouched)", n)
	}
	// Replacing and deleting race: whatever the order, no codes outlive
	// the TOTP.
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.MFA.ReplaceRecoveryCodes(t.Context(), alice.ID, codeHashes("newer", 10)) })
	wg.Go(func() {
		if err := s.MFA.DeleteTOTP(t.Context(), alice.ID); err != nil {
			t.Errorf("DeleteTOTP: %v", err)
		}
	})
	wg.Wait()
	if n, _ := s.MFA.RecoveryCodesLeft(ctx, alice.ID); n != 0 {
		t.Errorf("after DeleteTOTP, %d recovery codes left, want 0", n)
	}
}
