package web

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// An mfa_token is the half of a login that the password opened. Changing
// the password (signed in) or resetting it (by email) must close it: the
// user who changes a password they think is stolen expects the thief's
// pending second step to die with the old password, as their sessions do.
func TestMFAChallengeDiesWithPassword(t *testing.T) {
	for _, how := range []string{"change", "reset"} {
		t.Run(how, func(t *testing.T) {
			e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
			access := e.token(t, "nina", "nina@example.com", goodPassword)
			// Verified first: a reset removes a TOTP enrolled before the
			// address was verified (TestPreHijackingUndoneByReset).
			e.verifyEmail(t, relay, "nina@example.com")
			secret, _ := e.enrolTOTP(t, access)
			stolen := e.passwordStep(t, "nina", goodPassword) // the thief's first step
			const next = "an entirely new passphrase"
			switch how {
			case "change":
				r := e.do(t, authed(http.MethodPost, "/users/me/password", access, map[string]string{"current_password": goodPassword, "new_password": next}))
				wantStatus(t, "change", r, http.StatusNoContent, "")
			case "reset":
				wantStatus(t, "request", e.post(t, "/auth/password-reset/request", map[string]string{"email": "nina@example.com"}), http.StatusAccepted, "")
				_, token := relay.Receive(t, 10*time.Second).Link(t, auth.ResetPasswordPath)
				wantStatus(t, "reset", e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": next}), http.StatusNoContent, "")
			}
			wantError(t, "old password's mfa_token", e.mfaStep(t, stolen, codeAt(t, secret, e.clock.Now())), http.StatusUnauthorized, gatehouse.CodeInvalidMFAToken)
			// The new password's challenge still works.
			e.nextStep()
			if r := e.mfaStep(t, e.passwordStep(t, "nina", next), codeAt(t, secret, e.clock.Now())); r.status != http.StatusOK {
				t.Errorf("new password's second step: %d %s", r.status, r.body)
			}
		})
	}
}

// A reset link mailed before an admin deactivated the account must not
// change the deactivated account's password (nor verify its address):
// deactivation ends every way into the account.
func TestResetRefusedForDeactivatedUser(t *testing.T) {
	e, relay := emailEnv(t, envOptions{}, auth.Email{}, secureRelay)
	e.token(t, "olga", "olga@example.com", goodPassword)
	wantStatus(t, "request", e.post(t, "/auth/password-reset/request", map[string]string{"email": "olga@example.com"}), http.StatusAccepted, "")
	_, token := relay.Receive(t, 10*time.Second).Link(t, auth.ResetPasswordPath)
	u, err := e.users.UserByUsername(t.Context(), "olga")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.users.SetUserActive(t.Context(), u.ID, false); err != nil {
		t.Fatal(err)
	}
	r := e.post(t, "/auth/password-reset", map[string]string{"token": token, "new_password": "an entirely new passphrase"})
	if r.status == http.StatusNoContent {
		t.Errorf("reset of a deactivated account: %d", r.status)
	}
	fresh, err := e.users.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.PasswordHash != u.PasswordHash {
		t.Error("the deactivated account's password was changed")
	}
}

// Two admins deactivating (or deleting) each other at once must not leave
// the server without an active admin: the last-admin rule holds for
// deactivation and deletion as it does for taking the role away.
func TestAdminsCannotLockEachOtherOut(t *testing.T) {
	for _, op := range []string{"deactivate", "delete"} {
		t.Run(op, func(t *testing.T) {
			a := newAdminEnv(t)
			if err := a.users.(gatehouse.AdminStore).SetUserRoles(t.Context(), a.bobID, []string{gatehouse.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			method, suffix := http.MethodPost, "/deactivate"
			if op == "delete" {
				method, suffix = http.MethodDelete, ""
			}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, c := range []struct {
				token  string
				target int64
			}{{a.rootToken, a.bobID}, {a.bobToken, a.rootID}} {
				wg.Go(func() { statuses[i] = a.do(t, authed(method, userPath(c.target, suffix), c.token, nil)).status })
			}
			wg.Wait()
			admins, err := a.users.(gatehouse.AdminStore).SearchUsers(t.Context(), gatehouse.UserQuery{Role: gatehouse.RoleAdmin, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			active := 0
			for _, u := range admins {
				if u.IsActive {
					active++
				}
			}
			if active == 0 {
				t.Errorf("%s at once (%v): no active admin left", op, statuses)
			}
		})
	}
}

// A TOTP secret that no longer opens (the server secret changed, or a
// sealed secret was copied into another user's row) is the operator's
// problem: the user typing a code gets the answer of a wrong code, never
// a 500, and can still remove the dead factor with the password.
func TestUnopenableTOTPSecretIsNoServerError(t *testing.T) {
	e := newTestEnv(t, envOptions{})
	access := e.token(t, "pia", "pia@example.com", goodPassword)
	e.enrolTOTP(t, access)
	pia, err := e.users.UserByUsername(t.Context(), "pia")
	if err != nil {
		t.Fatal(err)
	}
	row, err := e.mfa.TOTPByUser(t.Context(), pia.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Pia's sealed secret in Quinn's row: sealed for another user, it
	// cannot open there, as after a change of server secret.
	quinnAccess := e.token(t, "quinn", "quinn@example.com", goodPassword)
	quinn, err := e.users.UserByUsername(t.Context(), "quinn")
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UTC().Truncate(time.Microsecond)
	if err := e.mfa.PutPendingTOTP(t.Context(), &gatehouse.TOTP{UserID: quinn.ID, Secret: row.Secret, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, authed(http.MethodPost, "/users/me/mfa/totp/confirm", quinnAccess, map[string]string{"code": "123456", "password": goodPassword}))
	wantError(t, "confirm an unopenable enrolment", r, http.StatusConflict, gatehouse.CodeMFAEnrolmentNotFound)
	if err := e.mfa.ConfirmTOTP(t.Context(), quinn.ID, row.Secret, 0, nil, now); err != nil {
		t.Fatal(err)
	}
	tok := e.passwordStep(t, "quinn", goodPassword)
	wantError(t, "code against an unopenable secret", e.mfaStep(t, tok, "123456"), http.StatusUnauthorized, gatehouse.CodeInvalidMFACode)
	r = e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", quinnAccess, map[string]string{"code": "123456"}))
	wantError(t, "disable with a code", r, http.StatusBadRequest, gatehouse.CodeWrongMFACode)
	r = e.do(t, authed(http.MethodDelete, "/users/me/mfa/totp", quinnAccess, map[string]string{"password": goodPassword}))
	wantStatus(t, "disable with the password", r, http.StatusNoContent, "")
}
