package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// userRoles shows (`gatehouse user roles NAME`) or replaces (`gatehouse
// user roles NAME set admin,support`) a user's roles. "user" is implicit;
// `set ""` or `set user` leaves only it. Taking admin from the last active
// admin is refused here too. A running server sees the change within its
// user cache's lifetime (2 s) for the admin API, and in the user's next
// access token.
func userRoles(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	pos, rest := splitPositional(args)
	if len(pos) != 1 && (len(pos) != 3 || pos[1] != "set") {
		return errors.New(userUsage)
	}
	_, log, db, err := configuredDB(ctx, rest, getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := userNamed(ctx, db.Users(), "user roles", pos[0])
	if err != nil {
		return err
	}
	if len(pos) == 3 {
		var roles []string
		for r := range strings.SplitSeq(pos[2], ",") {
			if r = strings.TrimSpace(r); r != "" {
				roles = append(roles, r)
			}
		}
		roles, err = auth.ValidateRoles(roles)
		if err == nil {
			err = db.Admin().SetUserRoles(ctx, u.ID, roles)
		}
		switch gatehouse.ErrorCode(err) {
		case "":
		case gatehouse.CodeValidation:
			return fmt.Errorf("roles not set: %s", describeError(i18n.New(i18n.English), err))
		case gatehouse.CodeAdminLockout:
			return fmt.Errorf("roles not set: %s is the last active admin; make another user an admin first", printable(u.Username))
		default:
			return fmt.Errorf("roles not set: %w", err)
		}
		u.Roles = roles
		recordOperator(ctx, db.Audit(), log, gatehouse.EventUserRolesSet, u.ID, map[string]string{"roles": strings.Join(u.AllRoles(), " ")})
	}
	fmt.Fprintln(stdout, strings.Join(u.AllRoles(), ","))
	return nil
}

// recordOperator records an operator's change made at the command line
// (ActorID 0, Detail "via" "cli"). A failure to record is logged: the
// change is made.
func recordOperator(ctx context.Context, log gatehouse.AuditLog, l *slog.Logger, event string, userID int64, detail map[string]string) {
	if detail == nil {
		detail = map[string]string{}
	}
	detail["via"] = "cli"
	e := &gatehouse.AuditEvent{Event: event, Outcome: gatehouse.OutcomeSuccess, UserID: userID, Detail: detail}
	if err := log.Record(ctx, e); err != nil {
		l.Error("audit record failed", "event", event, "error", err.Error())
	}
}
