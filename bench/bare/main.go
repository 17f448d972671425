// Command bare is the load test's baseline: a net/http server that answers
// GET /users/me with a fixed JSON body shaped like gatehouse's user object
// and checks nothing. bench/users-me.sh drives it and gatehouse with the same
// wrk settings, so gatehouse's figure reads as a share of what the HTTP
// server alone can do on the machine at that moment.
//
//	bare -addr 127.0.0.1:8001
//
// It imports only the standard library, so it measures net/http and nothing
// of ours.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	err := run(context.Background(), os.Args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bare: %v\n", err)
		os.Exit(1)
	}
}

// user has the fields and order of gatehouse's /users/me answer.
type user struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	IsActive  bool      `json:"is_active"`
	CreatedAt time.Time `json:"created_at"`
}

// run serves until ctx is cancelled or SIGINT/SIGTERM arrives, then shuts
// down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8001", "listen `host:port`")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	// The body is built once: the baseline is the cost of net/http serving
	// a response of this size, not of producing it. A trailing newline, as
	// gatehouse's json.Encoder writes.
	body, err := json.Marshal(user{
		ID:        1,
		Username:  "bench",
		Email:     "bench@example.com",
		IsActive:  true,
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC), // microseconds, as SQLite keeps them
	})
	if err != nil {
		return err
	}
	body = append(body, '\n')

	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	// The same timeouts as gatehouse's server, so connection handling matches.
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// A fresh context: the one we were given is already cancelled.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
