package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

const userMFAUsage = "usage: gatehouse user mfa reset USERNAME [flags]"

// userMFA runs `gatehouse user mfa reset NAME`: the operator's way to remove
// a user's TOTP (pending or confirmed), recovery codes and pending sign-in
// challenges, for a user who lost their authenticator and recovery codes,
// or for every enrolled user after the server secret changed (their sealed
// secrets no longer open). Every session of the user ends with it (running
// servers learn of the revocations at their next sync). The user then signs
// in with the password (or a provider) alone and may enrol again. It works on the database directly,
// so it needs no admin account and no running server; it is audited as the
// operator's (mfa_reset, via cli).
func userMFA(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	pos, rest := splitPositional(args)
	if len(pos) != 2 || pos[0] != "reset" {
		return errors.New(userMFAUsage)
	}
	_, log, db, err := configuredDB(ctx, rest, getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := userNamed(ctx, db.Users(), "user mfa reset", pos[1])
	if err != nil {
		return err
	}
	_, err = db.MFA().DisableTOTP(ctx, u.ID, "", time.Now().UTC())
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return fmt.Errorf("user mfa reset: %s has no two-step verification", printable(u.Username))
	}
	if err != nil {
		return fmt.Errorf("user mfa reset: %w", err)
	}
	recordOperator(ctx, db.Audit(), log, gatehouse.EventMFAReset, u.ID, nil)
	fmt.Fprintf(stdout, "two-step verification removed for %s\n", printable(u.Username))
	return nil
}
