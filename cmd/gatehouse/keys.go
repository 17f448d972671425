package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
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
	secret, err := signingSecret(cfg, log)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	ring, err := loadKeys(ctx, cfg, db, secret)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if cmd == "rotate" {
		k, err := ring.Rotate(ctx)
		if err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
		fmt.Fprintf(stdout, "new signing key %s (%s); the previous key verifies its tokens until they expire, then retires\n", k.ID, k.Algorithm)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tRETIRES")
	for _, k := range ring.States(time.Now()) {
		retires := "-"
		if !k.RetiresAt.IsZero() {
			retires = k.RetiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.CreatedAt.UTC().Format(time.RFC3339), retires)
	}
	return tw.Flush()
}
