package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// The pre-hijacking rule of a password reset (docs/security.md): what was
// attached to an account before anyone proved its address (a linked
// identity, a TOTP and its recovery codes, a provider sign-in's code) goes
// with the reset, in its transaction; what was attached after stays.

// attach gives u an identity at provider "idp" (subject sub), a confirmed
// TOTP created at totpAt with recovery codes, and an unredeemed sign-in
// code.
func attach(tb testing.TB, s EmailStores, u *gatehouse.User, sub string, totpAt time.Time) *gatehouse.Identity {
	tb.Helper()
	ctx := tb.Context()
	id := &gatehouse.Identity{UserID: u.ID, Provider: "idp", Subject: sub}
	if err := s.Identities.CreateIdentity(ctx, id); err != nil {
		tb.Fatalf("CreateIdentity: %v", err)
	}
	if err := s.MFA.PutPendingTOTP(ctx, &gatehouse.TOTP{UserID: u.ID, Secret: []byte("sealed-" + sub), CreatedAt: totpAt}); err != nil {
		tb.Fatalf("PutPendingTOTP: %v", err)
	}
	if err := s.MFA.ConfirmTOTP(ctx, u.ID, []byte("sealed-"+sub), 100, codeHashes(sub, 10), totpAt.Add(time.Second)); err != nil {
		tb.Fatalf("ConfirmTOTP: %v", err)
	}
	if err := s.Identities.SaveAuthCode(ctx, &gatehouse.AuthCode{CodeHash: "code-" + sub, UserID: u.ID, Provider: "idp",
		RedirectURI: "https://app.test/cb", CodeChallenge: "c", ExpiresAt: totpAt.Add(time.Hour)}); err != nil {
		tb.Fatalf("SaveAuthCode: %v", err)
	}
	return id
}

func identityCount(tb testing.TB, s EmailStores, u *gatehouse.User) int {
	tb.Helper()
	ids, err := s.Identities.ListIdentities(tb.Context(), u.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return len(ids)
}

// testResetRemovesUnverifiedAttachments: the attacker registered with the
// victim's address, linked their own provider account and enrolled their
// own authenticator; the victim resets the password through the mailed
// link. Nothing of the attacker's may survive.
func testResetRemovesUnverifiedAttachments(t *testing.T, s EmailStores) {
	ctx := t.Context()
	victim := mustCreate(t, s.Users, newUser("victim"))
	bystander := mustCreate(t, s.Users, newUser("bob"))
	attach(t, s, victim, "attacker", base)
	attach(t, s, bystander, "bob", base)
	mustCreateToken(t, s, newToken(victim, gatehouse.PurposePasswordReset, "cc01", base, time.Hour), false)
	res, err := s.Tokens.ResetPassword(ctx, "cc01", "victim's hash", base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := gatehouse.PasswordResetResult{UserID: victim.ID, WasUnverified: true, IdentitiesRemoved: 1, TOTPRemoved: true}
	if res != want {
		t.Errorf("ResetPassword = %+v, want %+v", res, want)
	}
	if n := identityCount(t, s, victim); n != 0 {
		t.Errorf("victim has %d identities after the reset, want 0", n)
	}
	if _, err := s.Identities.IdentityBySubject(ctx, "idp", "attacker"); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("attacker's identity: %v, want %s", err, gatehouse.CodeNotFound)
	}
	if _, err := s.MFA.TOTPByUser(ctx, victim.ID); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("victim's TOTP after the reset: %v, want %s", err, gatehouse.CodeNotFound)
	}
	if n, err := s.MFA.RecoveryCodesLeft(ctx, victim.ID); err != nil || n != 0 {
		t.Errorf("victim's recovery codes after the reset: %d, %v; want 0", n, err)
	}
	if _, err := s.MFA.UseRecoveryCode(ctx, victim.ID, codeHashes("attacker", 1)[0], base.Add(2*time.Minute)); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("attacker's recovery code after the reset: %v, want %s", err, gatehouse.CodeNotFound)
	}
	if _, err := s.Identities.TakeAuthCode(ctx, "code-attacker", base.Add(2*time.Minute)); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("sign-in code issued before the reset: %v, want %s", err, gatehouse.CodeNotFound)
	}
	// Another account is untouched.
	if n := identityCount(t, s, bystander); n != 1 {
		t.Errorf("bystander has %d identities, want 1", n)
	}
	if tt, err := s.MFA.TOTPByUser(ctx, bystander.ID); err != nil || !tt.Confirmed() {
		t.Errorf("bystander's TOTP: %+v, %v", tt, err)
	}
	if n, err := s.MFA.RecoveryCodesLeft(ctx, bystander.ID); err != nil || n != 10 {
		t.Errorf("bystander's recovery codes: %d, %v; want 10", n, err)
	}
	if _, err := s.Identities.TakeAuthCode(ctx, "code-bob", base.Add(2*time.Minute)); err != nil {
		t.Errorf("bystander's sign-in code: %v", err)
	}
}

// testResetKeepsVerifiedAttachments: on an account whose address was
// verified, a reset removes what was attached before the verification (the
// attacker may have had the victim click the verification link first) and
// keeps what the verified owner attached after it.
func testResetKeepsVerifiedAttachments(t *testing.T, s EmailStores) {
	ctx := t.Context()
	u := mustCreate(t, s.Users, newUser("alice"))
	before := &gatehouse.Identity{UserID: u.ID, Provider: "idp", Subject: "before"}
	if err := s.Identities.CreateIdentity(ctx, before); err != nil {
		t.Fatal(err)
	}
	// Identities take their time from the store's clock: verify just after
	// the first one was linked, then link another.
	verifiedAt := before.CreatedAt.Add(time.Microsecond)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposeVerifyEmail, "dd01", verifiedAt.Add(-time.Minute), time.Hour), false)
	if _, err := s.Tokens.VerifyEmail(ctx, "dd01", verifiedAt); err != nil {
		t.Fatal(err)
	}
	after := &gatehouse.Identity{UserID: u.ID, Provider: "idp", Subject: "after"}
	if err := s.Identities.CreateIdentity(ctx, after); err != nil {
		t.Fatal(err)
	}
	if !after.CreatedAt.After(verifiedAt) {
		t.Fatalf("second identity created at %v, not after the verification at %v", after.CreatedAt, verifiedAt)
	}
	totpAt := verifiedAt.Add(time.Second)
	if err := s.MFA.PutPendingTOTP(ctx, &gatehouse.TOTP{UserID: u.ID, Secret: []byte("own"), CreatedAt: totpAt}); err != nil {
		t.Fatal(err)
	}
	if err := s.MFA.ConfirmTOTP(ctx, u.ID, []byte("own"), 100, codeHashes("own", 10), totpAt); err != nil {
		t.Fatal(err)
	}
	resetAt := after.CreatedAt.Add(time.Minute)
	mustCreateToken(t, s, newToken(u, gatehouse.PurposePasswordReset, "dd02", resetAt.Add(-time.Minute), time.Hour), false)
	res, err := s.Tokens.ResetPassword(ctx, "dd02", "new-hash", resetAt)
	if err != nil {
		t.Fatal(err)
	}
	want := gatehouse.PasswordResetResult{UserID: u.ID, IdentitiesRemoved: 1}
	if res != want {
		t.Errorf("ResetPassword = %+v, want %+v", res, want)
	}
	ids, err := s.Identities.ListIdentities(ctx, u.ID)
	if err != nil || len(ids) != 1 || ids[0].Subject != "after" {
		t.Errorf("identities after the reset: %+v, %v; want only %q", ids, err, "after")
	}
	if n, err := s.MFA.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 10 {
		t.Errorf("recovery codes after the reset: %d, %v; want 10", n, err)
	}
	if got, _ := s.Users.UserByID(ctx, u.ID); !got.EmailVerifiedAt.Equal(verifiedAt) {
		t.Errorf("EmailVerifiedAt = %v, want the first verification %v", got.EmailVerifiedAt, verifiedAt)
	}
}
