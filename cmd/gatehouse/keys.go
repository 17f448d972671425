package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/sqldb"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// keys runs `gatehouse keys list|rotate`, against the database and secret
// the server uses (same flags and variables). A running server picks a
// rotation up within GATEHOUSE_KEYS_RELOAD_INTERVAL.
func keys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return errors.New(`usage: gatehouse keys list|rotate [flags]`)
	}
	cmd, args := args[0], args[1:]
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.SigningAlgorithm() == config.AlgHS256 {
		return errors.New("tokens are signed with HS256, whose key is GATEHOUSE_SECRET_KEY itself: rotate by changing the secret, or set GATEHOUSE_JWT_ALG to an asymmetric algorithm (RS256, ES256, EdDSA)")
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if cmd == "rotate" {
		if err := rotateKey(ctx, cfg, db, log, stdout); err != nil {
			return err
		}
	}
	// Listing reads the store only: it needs no secret and creates no key.
	states, err := tokens.ListKeys(ctx, db.Keys(), time.Now())
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	if len(states) == 0 {
		fmt.Fprintln(stdout, "no signing keys yet: the server creates one on first start")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tRETIRES")
	for _, k := range states {
		retires := "-"
		if !k.RetiresAt.IsZero() {
			retires = k.RetiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.CreatedAt.UTC().Format(time.RFC3339), retires)
	}
	return tw.Flush()
}

// rotateKey adds a new current signing key.
func rotateKey(ctx context.Context, cfg config.Config, db *sqldb.DB, log *slog.Logger, stdout io.Writer) error {
	secret, err := signingSecret(cfg, log)
	if err != nil {
		return err
	}
	ring, err := loadKeys(ctx, cfg, db, secret)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	k, err := ring.Rotate(ctx)
	if gatehouse.IsCode(err, gatehouse.CodeConflict) {
		return errors.New("another process rotated the signing key at the same moment; nothing was changed here (run `gatehouse keys list`)")
	}
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	fmt.Fprintf(stdout, "new signing key %s (%s); the previous key verifies its tokens until they expire, then retires\n", k.ID, k.Algorithm)
	return nil
}
