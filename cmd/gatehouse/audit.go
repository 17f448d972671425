package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

const auditUsage = "usage: gatehouse audit [--event E] [--user ID] [--ip IP] [--since T] [--until T] [--limit N] [--after ID] [--json] [flags] | gatehouse audit prune --older-than D [flags]"

// auditCmd runs `gatehouse audit` (list the audit log) and `gatehouse audit
// prune` (apply retention) against the database the server uses (same flags
// and variables).
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "prune" {
		return auditPrune(ctx, args[1:], getenv, stdout, stderr)
	}
	return auditList(ctx, args, getenv, stdout, stderr)
}

// auditList prints the events that match the flags, by ascending id.
func auditList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	event := fs.String("event", "", "")
	user := fs.Int64("user", 0, "")
	ip := fs.String("ip", "", "")
	since := fs.String("since", "", "")
	until := fs.String("until", "", "")
	limit := fs.Int("limit", 100, "")
	after := fs.Int64("after", 0, "")
	asJSON := fs.Bool("json", false, "")
	own, rest := splitFlags(args, map[string]bool{"event": false, "user": false, "ip": false, "since": false,
		"until": false, "limit": false, "after": false, "json": true})
	if err := fs.Parse(own); err != nil {
		return fmt.Errorf("audit: %w (%s)", err, auditUsage)
	}
	if *limit < 0 || *after < 0 || *user < 0 {
		return errors.New("audit: --limit, --after and --user must not be negative")
	}
	now := time.Now()
	f := gatehouse.AuditFilter{After: *after, Event: *event, UserID: *user, ClientIP: *ip}
	var err error
	if f.Since, err = parseWhen(*since, now); err != nil {
		return fmt.Errorf("audit: --since: %w", err)
	}
	if f.Until, err = parseWhen(*until, now); err != nil {
		return fmt.Errorf("audit: --until: %w", err)
	}
	cfg, err := loadConfig(rest, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	return listAudit(ctx, db.Audit(), f, *limit, *asJSON, stdout, stderr)
}

// parseWhen reads a --since or --until value: an RFC 3339 time, or a
// duration meaning that long before now ("24h", "90m", or whole days such
// as "7d", which time.ParseDuration lacks). "" is no bound.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-03-01T09:00:00Z) nor a duration (24h, 7d)", s)
	}
	return now.Add(-d), nil
}

// parseAge reads a non-negative duration, in time.ParseDuration's form or as
// whole days ("90d").
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*366 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// auditPage is how many events one ListAudit call asks for.
const auditPage = 500

// listAudit prints up to limit events (0: all) matching f, as a table or as
// JSON lines. When it stops at the limit with more perhaps to come, it tells
// on stderr how to go on. Stored strings come from clients (a user agent
// above all), so the table shows them through printable; JSON escapes them.
func listAudit(ctx context.Context, log gatehouse.AuditLog, f gatehouse.AuditFilter, limit int, asJSON bool, stdout, stderr io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	enc := json.NewEncoder(stdout)
	if !asJSON {
		fmt.Fprintln(tw, "ID\tTIME\tEVENT\tOUTCOME\tREASON\tUSER\tLOGIN\tIP\tSESSION\tREQUEST\tUSER AGENT\tDETAIL")
	}
	printed := 0
	for limit == 0 || printed < limit {
		f.Limit = auditPage
		if limit > 0 {
			f.Limit = min(f.Limit, limit-printed)
		}
		events, err := log.ListAudit(ctx, f)
		if err != nil {
			return fmt.Errorf("list audit: %w", err)
		}
		for _, e := range events {
			if asJSON {
				if err := enc.Encode(auditJSON(e)); err != nil {
					return err
				}
			} else {
				user := "-"
				if e.UserID != 0 {
					user = strconv.FormatInt(e.UserID, 10)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID,
					e.At.UTC().Format(time.RFC3339), printable(e.Event), e.Outcome, dash(e.Reason), user,
					dash(e.Login), dash(e.ClientIP), dash(e.SessionID), dash(e.RequestID), dash(e.UserAgent),
					dash(detailText(e.Detail)))
			}
			f.After = e.ID
		}
		printed += len(events)
		if len(events) < f.Limit {
			return tw.Flush()
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listed %d events; more may follow: --after %d\n", printed, f.After)
	return nil
}

// dash shows s printable, or "-" for nothing, so that the columns of the
// table stay aligned for a reader and for awk.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

// detailText renders a Detail as k=v pairs in key order, values quoted
// where they hold a space or a quote.
func detailText(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := d[k]
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " ")
}

// auditLine is one JSON line of `gatehouse audit --json`. Its field names
// are the columns' and the slog attributes' (gatehouse.AuditAttrs), so
// that a line of either can be read with the same jq filter.
type auditLine struct {
	ID        int64             `json:"id"`
	At        time.Time         `json:"at"`
	Event     string            `json:"event"`
	Outcome   string            `json:"outcome"`
	Reason    string            `json:"reason,omitempty"`
	UserID    int64             `json:"user_id,omitempty"`
	Login     string            `json:"login,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	ClientIP  string            `json:"client_ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

func auditJSON(e *gatehouse.AuditEvent) auditLine {
	return auditLine{ID: e.ID, At: e.At.UTC(), Event: e.Event, Outcome: e.Outcome, Reason: e.Reason, UserID: e.UserID,
		Login: e.Login, SessionID: e.SessionID, ClientIP: e.ClientIP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		Detail: e.Detail}
}

// auditPrune deletes the events older than --older-than, by hand; the
// server does the same on its own schedule (see pruneAudit).
func auditPrune(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse audit prune", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	olderThan := fs.String("older-than", "", "")
	own, rest := splitFlags(args, map[string]bool{"older-than": false})
	if err := fs.Parse(own); err != nil {
		return fmt.Errorf("audit prune: %w (%s)", err, auditUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit prune: unexpected argument %q (%s)", fs.Arg(0), auditUsage)
	}
	if *olderThan == "" {
		return errors.New("audit prune: --older-than is required, e.g. --older-than 2160h (90 days) or 90d")
	}
	retention, err := parseAge(*olderThan)
	if err != nil {
		return fmt.Errorf("audit prune: --older-than: %w", err)
	}
	cfg, err := loadConfig(rest, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := pruneAudit(ctx, db.Audit(), retention, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pruned %d audit events older than %s\n", n, *olderThan)
	return nil
}

// pruneAudit applies a retention period to the audit log: it deletes the
// events recorded more than retention before now, and returns how many. A
// retention that is not positive is refused rather than read as "delete
// everything": an unset or mistyped setting must never wipe the log.
func pruneAudit(ctx context.Context, log gatehouse.AuditLog, retention time.Duration, now time.Time) (int64, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("prune audit: retention %s must be positive", retention)
	}
	return log.PruneAudit(ctx, now.Add(-retention))
}

// keepAuditRetention prunes the audit log to retention once at once and then
// every interval, until ctx is done; the server runs it in a goroutine of
// its own when GATEHOUSE_AUDIT_RETENTION is set. A failed prune is logged
// and tried again at the next interval: it loses nothing, since the events
// it would have deleted are still there to delete.
func keepAuditRetention(ctx context.Context, audit gatehouse.AuditLog, retention, interval time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := pruneAudit(ctx, audit, retention, now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("audit retention: prune failed", "err", err)
		case n > 0:
			log.Info("audit retention: pruned", "deleted", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
