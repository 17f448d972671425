package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

const userUsage = "usage: gatehouse user create --username U --email E --password-stdin [--admin] [flags] | gatehouse user list [--limit N] [--after ID] [flags] | gatehouse user roles USERNAME [set ROLE,...] [flags] | gatehouse user mfa reset USERNAME [flags]"

// userCmd runs `gatehouse user create|list` against the database the server
// uses (same flags and variables).
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	switch args[0] {
	case "create":
		return userCreate(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "list":
		return userList(ctx, args[1:], getenv, stdout, stderr)
	case "roles":
		return userRoles(ctx, args[1:], getenv, stdout, stderr)
	case "mfa":
		return userMFA(ctx, args[1:], getenv, stdout, stderr)
	}
	return errors.New(userUsage)
}

// passwordPolicy is the policy the configuration asks for new passwords.
func passwordPolicy(cfg config.Config) pwhash.Policy {
	return pwhash.Policy{MinLength: cfg.PasswordMinLength, MinStrength: cfg.PasswordMinStrength}.WithDefaults()
}

// userCreate creates an account under the rules of self-registration. The
// password comes from standard input, never from a flag: command lines show
// in process listings and shell history. Only the new id is printed, so that
// scripts can capture it.
func userCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	username := fs.String("username", "", "")
	email := fs.String("email", "", "")
	fromStdin := fs.Bool("password-stdin", false, "")
	makeAdmin := fs.Bool("admin", false, "")
	own, rest := splitFlags(args, map[string]bool{"username": false, "email": false, "password-stdin": true, "admin": true})
	if err := fs.Parse(own); err != nil {
		return fmt.Errorf("user create: %w (%s)", err, userUsage)
	}
	cfg, err := loadConfig(rest, getenv, stderr)
	if err != nil {
		return err
	}
	if *username == "" || *email == "" {
		return errors.New("user create: --username and --email are required")
	}
	if !*fromStdin {
		return errors.New("user create reads the password from standard input: add --password-stdin, e.g. `printf '%s' \"$PASSWORD\" | gatehouse user create … --password-stdin` (a password flag would show in process listings and shell history)")
	}
	policy := passwordPolicy(cfg)
	password, err := readPassword(stdin, policy.MaxBytes)
	if err != nil {
		return err
	}

	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	admin := auth.NewAdmin(auth.AdminDeps{Users: db.Users(), Hasher: pwhash.New(pwhash.DefaultParams), Policy: policy, Logger: log})
	in := auth.RegisterInput{Username: *username, Email: *email, Password: password}
	if *makeAdmin {
		// Stored with the account, in one transaction: how the first
		// admin is made.
		in.Roles = []string{gatehouse.RoleAdmin}
	}
	u, err := admin.CreateUser(ctx, in)
	switch gatehouse.ErrorCode(err) {
	case "":
		recordOperator(ctx, db.Audit(), log, gatehouse.EventUserCreated, u.ID, map[string]string{"roles": strings.Join(u.AllRoles(), " ")})
		fmt.Fprintln(stdout, u.ID)
		return nil
	case gatehouse.CodeValidation, gatehouse.CodeUsernameTaken, gatehouse.CodeEmailTaken:
		return fmt.Errorf("user not created: %s", describeError(i18n.New(i18n.English), err))
	}
	return fmt.Errorf("user not created: %w", err)
}

// readPassword reads the password: the first line of r, without its line
// ending, so that both `printf '%s'` and `echo` work. A password cannot hold
// a newline anyway (the policy refuses control characters). At most max+2
// bytes are read, so an endless stream costs nothing; a longer password is
// passed on for the policy to refuse as too long.
func readPassword(r io.Reader, max int) (string, error) {
	if r == nil {
		return "", errors.New("user create: no standard input to read the password from")
	}
	line, err := bufio.NewReader(io.LimitReader(r, int64(max)+3)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("user create: read password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("user create: no password on standard input")
	}
	return line, nil
}

// userLister is the store method `gatehouse user list` needs, which
// gatehouse.UserStore does not have yet. ListUsers returns up to limit users
// (limit > 0) whose id is greater than after, in ascending id order, and an
// empty slice when there are none. Keyset pagination rather than OFFSET, so
// that a page is one index range scan and users added or deleted meanwhile
// neither repeat nor vanish across pages.
type userLister interface {
	ListUsers(ctx context.Context, after int64, limit int) ([]*gatehouse.User, error)
}

// userList prints users by id, a page at a time.
func userList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse user list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	limit := fs.Int("limit", 100, "")
	after := fs.Int64("after", 0, "")
	own, rest := splitFlags(args, map[string]bool{"limit": false, "after": false})
	if err := fs.Parse(own); err != nil {
		return fmt.Errorf("user list: %w (%s)", err, userUsage)
	}
	if *limit < 0 || *after < 0 {
		return errors.New("user list: --limit and --after must not be negative")
	}
	_, _, db, err := configuredDB(ctx, rest, getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	// Asserted at run time until the store interface has the method: a
	// store without it fails here, clearly, instead of at build time.
	lister, ok := db.Users().(userLister)
	if !ok {
		return errors.New("user list: this build's user store cannot list users (it has no ListUsers method yet)")
	}
	return listUsers(ctx, lister, *after, *limit, stdout, stderr)
}

// listPage is how many users one ListUsers call asks for.
const listPage = 500

// listUsers prints up to limit users (0: all) whose id is greater than
// after. When it stops at the limit with more perhaps to come, it tells on
// stderr how to go on. Password hashes are never printed.
func listUsers(ctx context.Context, lister userLister, after int64, limit int, stdout, stderr io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tACTIVE\tCREATED")
	printed := 0
	for limit == 0 || printed < limit {
		n := listPage
		if limit > 0 {
			n = min(n, limit-printed)
		}
		users, err := lister.ListUsers(ctx, after, n)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for _, u := range users {
			active := "no"
			if u.IsActive {
				active = "yes"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, printable(u.Username), printable(u.Email), active,
				u.CreatedAt.UTC().Format(time.RFC3339))
			after = u.ID
		}
		printed += len(users)
		if len(users) < n {
			return tw.Flush()
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listed %d users; more may follow: --after %d\n", printed, after)
	return nil
}

// printable replaces control and formatting characters, so that a stored
// value cannot move the cursor or reorder the text of an operator's terminal.
// Registration already refuses them in usernames; this does not rely on it.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// splitFlags separates the flags named in own (name → whether it is a
// boolean, which takes no separate value) from the rest, which are the
// configuration's flags for loadConfig. It accepts the spellings the flag
// package does: -name, --name, -name=value, --name value.
func splitFlags(args []string, own map[string]bool) (mine, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return mine, append(rest, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		isBool, ok := own[name]
		if !strings.HasPrefix(a, "-") || !ok {
			rest = append(rest, a)
			continue
		}
		mine = append(mine, a)
		if !isBool && !hasValue && i+1 < len(args) {
			i++
			mine = append(mine, args[i])
		}
	}
	return mine, rest
}
