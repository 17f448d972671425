package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/hashpool"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// run is the whole program; main only calls it. It is the one place where
// adapters are chosen and everything is wired together.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(args) < 2 {
		usage(stderr)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return keys(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, rest, getenv, stdin, stdout, stderr)
	case "user":
		return userCmd(ctx, rest, getenv, stdin, stdout, stderr)
	case hashWorkerCommand:
		// Not for people: the server's own hashing worker (internal/hashpool),
		// at a lower CPU priority than the server it works for
		// (GATEHOUSE_HASH_PRIORITY, passed as its argument).
		priority := "normal"
		if len(rest) > 0 {
			priority = rest[0]
		}
		if err := hashpool.LowerPriority(priority); err != nil {
			return err
		}
		return hashpool.Serve(stdin, stdout, pwhash.New(pwhash.DefaultParams))
	case "audit":
		return auditCmd(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "gatehouse %s (%s)\n", gatehouse.Version, runtime.Version())
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `gatehouse: a JWT authentication server

Usage:
  gatehouse serve   [flags]   run the server (applies pending migrations first)
  gatehouse migrate [flags]   apply database migrations and exit
  gatehouse keys list   [flags]  show the token signing keys and their states
  gatehouse keys rotate [flags]  add a new signing key; the old one verifies until its tokens expire
  gatehouse import seed-sqlite PATH [flags]
                              import the users of the Python tutorial's SQLite database
  gatehouse import users FILE.jsonl|- [flags]
                              import users from other systems, one JSON object a line:
                              {"id", "username", "email", "password_hash", "is_active", "created_at"};
                              hashes are kept (bcrypt, argon2, scrypt, passlib and Django PBKDF2)
                              and become argon2id at each user's first login; ids are kept where
                              free; re-running skips users already there
  gatehouse user create --username U --email E --password-stdin [--admin] [flags]
                              create a user; the password is read from standard input;
                              --admin gives it the admin role (the first admin)
  gatehouse user roles USERNAME [set ROLE,...] [flags]
                              show or replace a user's roles ("user" is implicit)
  gatehouse user mfa reset USERNAME [flags]
                              remove a user's TOTP and recovery codes (a lost
                              authenticator, or after the server secret changed)
  gatehouse user list [--limit N] [--after ID] [flags]
                              list users by id
  gatehouse audit [--event E] [--user ID] [--ip IP] [--since T] [--until T]
                  [--limit N] [--after ID] [--json] [flags]
                              list the audit log by id (T: RFC 3339 time, or a duration
                              before now such as 24h or 7d; --limit 0 lists all)
  gatehouse audit prune --older-than D [flags]
                              delete audit events older than D (e.g. 2160h or 90d)
  gatehouse version           print the version
  gatehouse help              show this help

Every flag mirrors an environment variable; flags win. Flags:
`)
	config.Usage(w)
}

// loadConfig reads and validates the configuration; -h prints the flags.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		usage(stderr)
		return cfg, err
	}
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	for _, m := range applied {
		log.Info("migration applied", "migration", m)
	}
	return db, nil
}

// configuredDB loads the configuration from args and the environment and
// opens its migrated database: what every operator command starts with.
func configuredDB(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (config.Config, *slog.Logger, *sqldb.DB, error) {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return cfg, nil, nil, err
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, log)
	return cfg, log, db, err
}

// splitPositional splits args into the positional arguments before the
// first flag and everything from that flag on.
func splitPositional(args []string) (pos, flags []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return pos, args[i:]
		}
		pos = append(pos, a)
	}
	return pos, nil
}

// userNamed finds the user an operator named on the command line; cmd
// prefixes the error.
func userNamed(ctx context.Context, users gatehouse.UserStore, cmd, name string) (*gatehouse.User, error) {
	key, ok := auth.UsernameKey(name)
	if !ok {
		return nil, fmt.Errorf("%s: no such user %q", cmd, printable(name))
	}
	u, err := users.UserByUsername(ctx, key)
	if gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		return nil, fmt.Errorf("%s: no such user %q", cmd, printable(name))
	}
	return u, err
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_, _, db, err := configuredDB(ctx, args, getenv, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database is up to date")
	return db.Close()
}

// signingSecret returns the configured secret or, in development only (the
// configuration refuses production without one), the generated one kept in
// the data directory. The secret itself is never logged.
func signingSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.SecretKey != "" {
		if len(cfg.SecretKey) < 32 {
			log.Warn("the signing secret is shorter than 32 bytes; production refuses this", "source", cfg.SecretKeySource)
		}
		return []byte(cfg.SecretKey), nil
	}
	secret, path, created, err := tokens.LoadOrCreateSecret(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("development signing secret: %w", err)
	}
	if created {
		log.Warn("no signing secret configured: generated a random 256-bit development secret; set GATEHOUSE_SECRET_KEY in production", "path", path)
	} else {
		log.Info("using the development signing secret kept in the data directory", "path", path)
	}
	return secret, nil
}
