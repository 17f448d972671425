package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/inmem"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
	"github.com/gatehouse-auth/gatehouse/internal/web"
)

// The user cache bounds: entries, and how long a change made by another
// process (another instance, an operator's command) may go unseen.
const (
	userCacheEntries = 10000
	userCacheTTL     = 2 * time.Second
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

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, log)
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

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	secret, err := signingSecret(cfg, log)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	tm, err := tokens.New(tokens.Options{
		Secret:       secret,
		TTL:          cfg.AccessTokenTTL,
		Issuer:       cfg.Issuer,
		Audience:     cfg.Audience,
		Leeway:       30 * time.Second,
		CacheEntries: 10000,
	})
	if err != nil {
		return err
	}
	lang, err := i18n.Parse(cfg.Locale)
	if err != nil {
		return err
	}
	// Every authenticated request reads its user by id; the cache answers
	// repeats from memory and forgets a user on every write made here.
	users := inmem.NewUserCache(db.Users(), userCacheTTL, userCacheEntries, nil)
	svc := auth.New(auth.Deps{
		Users:  users,
		Hasher: pwhash.New(pwhash.DefaultParams),
		Policy: pwhash.Policy{MinLength: cfg.PasswordMinLength, MinStrength: cfg.PasswordMinStrength},
		Tokens: tm,
		Logger: log,
	})
	handler := web.NewServer(web.Deps{
		Auth:         svc,
		Catalog:      i18n.New(lang),
		Logger:       log,
		Ready:        map[string]gatehouse.Pinger{"database": db},
		MaxBodyBytes: cfg.MaxBodyBytes,
		HSTS:         cfg.TLS() || cfg.TrustTLSProxy,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(), "env", cfg.Env, "version", gatehouse.Version)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	// A fresh context: the one we were given is already cancelled.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
