// Command resource-server is a tiny "notes" service that accepts gatehouse
// access tokens through the verifier package: an example for services that
// use gatehouse for their logins.
//
//	GATEHOUSE_ISSUER=http://127.0.0.1:8000 \
//	NOTES_FEED_CLIENT_ID=notes NOTES_FEED_CLIENT_SECRET=… \
//	  go run ./examples/resource-server
//
// GET /notes answers the caller's notes, with the username taken from the
// verified token. The gatehouse server must list the feed credential in
// GATEHOUSE_REVOCATION_CLIENTS (here "notes:…") for logouts to reach the
// service within seconds; without NOTES_FEED_CLIENT_ID a token stays valid
// until it expires.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "resource-server: %v\n", err)
		os.Exit(1)
	}
}

// config is the service's configuration: flags, each mirroring an
// environment variable (flags win).
type config struct {
	issuer     string
	audience   string
	addr       string
	feedID     string
	feedSecret string // environment only: command lines are visible to other local users
	failClosed bool
	minRefresh time.Duration
}

func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.issuer, "issuer", getenv("GATEHOUSE_ISSUER"), "gatehouse's issuer URL (GATEHOUSE_ISSUER)")
	fs.StringVar(&c.audience, "audience", getenv("GATEHOUSE_AUDIENCE"), "required token audience, if gatehouse sets one (GATEHOUSE_AUDIENCE)")
	fs.StringVar(&c.addr, "addr", cmpOr(getenv("NOTES_ADDR"), "127.0.0.1:8081"), "listen address (NOTES_ADDR)")
	fs.StringVar(&c.feedID, "feed-client-id", getenv("NOTES_FEED_CLIENT_ID"), "revocation feed client id; its secret comes from NOTES_FEED_CLIENT_SECRET (NOTES_FEED_CLIENT_ID)")
	fs.BoolVar(&c.failClosed, "fail-closed", getenv("NOTES_FAIL_CLOSED") == "true", "refuse every token when the revocation feed has been unreachable for 10 s (NOTES_FAIL_CLOSED)")
	minRefresh := fs.String("min-refresh-interval", cmpOr(getenv("NOTES_MIN_REFRESH_INTERVAL"), "30s"), "least time between two key set fetches for unknown kids (NOTES_MIN_REFRESH_INTERVAL)")
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	var err error
	if c.minRefresh, err = time.ParseDuration(*minRefresh); err != nil || c.minRefresh <= 0 {
		return c, fmt.Errorf("NOTES_MIN_REFRESH_INTERVAL: %q is not a positive duration", *minRefresh)
	}
	c.feedSecret = getenv("NOTES_FEED_CLIENT_SECRET")
	if c.issuer == "" {
		return c, errors.New("GATEHOUSE_ISSUER is required")
	}
	if (c.feedID == "") != (c.feedSecret == "") {
		return c, errors.New("set both NOTES_FEED_CLIENT_ID and NOTES_FEED_CLIENT_SECRET, or neither")
	}
	return c, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// run is the whole program: configuration, the verifier, the HTTP server and
// its graceful shutdown.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	vcfg := verifier.Config{
		Issuer:             cfg.issuer,
		Audience:           cfg.audience,
		MinRefreshInterval: cfg.minRefresh,
		Logger:             log,
	}
	if cfg.feedID != "" {
		vcfg.Revocations = &verifier.RevocationConfig{ClientID: cfg.feedID, ClientSecret: cfg.feedSecret}
		if cfg.failClosed {
			vcfg.Revocations.Policy = verifier.FailClosed
		}
	} else {
		log.Warn("no revocation feed credential: a logged-out token stays valid here until it expires")
	}
	v, err := verifier.New(ctx, vcfg)
	if err != nil {
		return err
	}
	defer v.Close()

	srv := &http.Server{
		Handler:           newServer(v),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "issuer", cfg.issuer)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// A fresh context: the one we were given is already cancelled.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// newServer is the route table.
func newServer(v *verifier.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /notes", v.Middleware(handleNotes()))
	mux.Handle("GET /healthz", handleHealthz(v))
	return mux
}

// handleNotes answers the caller's notes; who the caller is comes from the
// verified token only.
func handleNotes() http.Handler {
	type response struct {
		Username string   `json:"username"`
		Notes    []string `json:"notes"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.ClaimsFromContext(r.Context())
		encode(w, http.StatusOK, response{Username: c.Username, Notes: []string{"Welcome, " + c.Username + "!"}})
	})
}

// handleHealthz reports liveness and, for the operator, the state of the
// revocation feed.
func handleHealthz(v *verifier.Verifier) http.Handler {
	type response struct {
		Status       string    `json:"status"`
		Revocations  string    `json:"revocations"` // "off", "healthy" or "failing"
		LastSync     time.Time `json:"last_sync,omitzero"`
		FeedFailures uint64    `json:"feed_failures"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := v.Stats().Revocation
		res := response{Status: "ok", Revocations: "off", LastSync: st.LastSync, FeedFailures: st.Failures}
		switch {
		case st.Enabled && st.Healthy:
			res.Revocations = "healthy"
		case st.Enabled:
			res.Revocations = "failing"
		}
		encode(w, http.StatusOK, res)
	})
}

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
