package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// seedAudit migrates the database of dataDir through the CLI and records
// events into it: ann's register and login an hour ago (ids 1 and 2), a
// failed login from an unknown account half an hour ago (3), and a logout of
// ann two days ago (4, recorded last).
func seedAudit(t *testing.T, dataDir string, now time.Time) func(string) string {
	t.Helper()
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dataDir}[k] }
	if _, _, err := runCLI(t, getenv, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	audit := openStore(t, dataDir).Audit()
	for _, e := range []*gatehouse.AuditEvent{
		{At: now.Add(-time.Hour), Event: gatehouse.EventRegister, Outcome: gatehouse.OutcomeSuccess, UserID: 1, Login: "ann", ClientIP: "192.0.2.1"},
		{At: now.Add(-time.Hour), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeSuccess, UserID: 1, Login: "ann",
			ClientIP: "192.0.2.1", SessionID: "sess-ann", RequestID: "req-2", UserAgent: "evil\x1b[2Jagent",
			Detail: map[string]string{"client_id": "cli", "note": "two words"}},
		{At: now.Add(-30 * time.Minute), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			Reason: gatehouse.ReasonUnknownUser, Login: "hunter2hunter2", ClientIP: "198.51.100.9"},
		{At: now.Add(-48 * time.Hour), Event: gatehouse.EventLogout, Outcome: gatehouse.OutcomeSuccess, UserID: 1, ClientIP: "192.0.2.1"},
	} {
		if err := audit.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return getenv
}

// tableIDs returns the first column of each row of a table after its header.
func tableIDs(out string) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

func TestAuditCommand(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	getenv := seedAudit(t, filepath.Join(t.TempDir(), "data"), now)
	tests := []struct {
		name    string
		args    []string
		want    string // ids listed, comma-separated
		wantErr string
	}{
		{"All", nil, "1,2,3,4", ""},
		{"Event", []string{"--event", "login"}, "2,3", ""},
		{"User", []string{"--user", "1"}, "1,2,4", ""},
		{"IP", []string{"--ip=198.51.100.9"}, "3", ""},
		{"SinceDuration", []string{"--since", "24h"}, "1,2,3", ""},
		{"SinceDays", []string{"--since", "1d"}, "1,2,3", ""},
		{"SinceUntilRFC3339", []string{"--since", now.Add(-50 * time.Hour).Format(time.RFC3339), "--until", now.Add(-45 * time.Minute).Format(time.RFC3339)}, "1,2,4", ""},
		{"After", []string{"--after", "2"}, "3,4", ""},
		{"Limit", []string{"--limit", "2"}, "1,2", ""},
		{"ConfigFlagMixedIn", []string{"--data-dir", getenv("GATEHOUSE_DATA_DIR"), "--event", "logout"}, "4", ""},
		{"NoMatch", []string{"--event", "refresh"}, "", ""},
		{"BadSince", []string{"--since", "yesterday"}, "", "neither an RFC 3339 time"},
		{"NegativeLimit", []string{"--limit", "-1"}, "", "must not be negative"},
		{"UnknownFlag", []string{"--password", "x"}, "", "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCLI(t, getenv, "", append([]string{"audit"}, tt.args...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(tableIDs(out), ","); got != tt.want {
				t.Errorf("listed ids %q, want %q:\n%s", got, tt.want, out)
			}
		})
	}
}

func TestAuditCommandOutput(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	getenv := seedAudit(t, filepath.Join(t.TempDir(), "data"), now)

	t.Run("Table", func(t *testing.T) {
		out, _, err := runCLI(t, getenv, "", "audit", "--after", "1", "--limit", "1")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"sess-ann", "req-2", `client_id=cli note="two words"`, now.Add(-time.Hour).Format(time.RFC3339)} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		// A user agent is the client's to choose: it must not drive the
		// operator's terminal.
		if strings.Contains(out, "\x1b") {
			t.Errorf("an escape sequence reached the terminal:\n%q", out)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		out, _, err := runCLI(t, getenv, "", "audit", "--json", "--event", "login")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
		}
		var first map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
			t.Fatal(err)
		}
		if first["id"] != 2.0 || first["user_agent"] != "evil\x1b[2Jagent" || first["login"] != "ann" ||
			first["at"] != now.Add(-time.Hour).Format(time.RFC3339) {
			t.Errorf("first line: %v", first)
		}
		var second map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
			t.Fatal(err)
		}
		if _, ok := second["user_id"]; ok || second["reason"] != gatehouse.ReasonUnknownUser {
			t.Errorf("second line: %v", second)
		}
	})

	t.Run("UnknownLoginNeverShown", func(t *testing.T) {
		for _, args := range [][]string{{"audit"}, {"audit", "--json"}} {
			out, errOut, err := runCLI(t, getenv, "", args...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out+errOut, "hunter2hunter2") {
				t.Errorf("%v shows the name tried on an unknown account", args)
			}
		}
	})

	t.Run("MoreMayFollow", func(t *testing.T) {
		_, errOut, err := runCLI(t, getenv, "", "audit", "--limit", "3")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errOut, "more may follow: --after 3") {
			t.Errorf("stderr = %q", errOut)
		}
		_, errOut, err = runCLI(t, getenv, "", "audit", "--limit", "0")
		if err != nil || strings.Contains(errOut, "more may follow") {
			t.Errorf("--limit 0: err %v, stderr %q", err, errOut)
		}
	})
}

func TestAuditPruneCommand(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	getenv := seedAudit(t, dataDir, time.Now())
	refused := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"NoOlderThan", nil, "--older-than is required"},
		{"Zero", []string{"--older-than", "0s"}, "must be positive"},
		{"Negative", []string{"--older-than", "-24h"}, "negative"},
		{"Garbage", []string{"--older-than", "soon"}, "invalid duration"},
		{"StrayArgument", []string{"--older-than", "24h", "now"}, "unexpected argument"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, getenv, "", append([]string{"audit", "prune"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	out, _, err := runCLI(t, getenv, "", "audit", "prune", "--older-than", "1d")
	if err != nil || out != "pruned 1 audit events older than 1d\n" {
		t.Fatalf("prune: %q, %v", out, err)
	}
	out, _, err = runCLI(t, getenv, "", "audit")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tableIDs(out), ","); got != "1,2,3,5" || !strings.Contains(out, gatehouse.EventAuditPruned) {
		t.Errorf("after pruning, listed %s:\n%s", got, out)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.Add(-7 * 24 * time.Hour), false},
		{"0d", now, false},
		{"2026-02-01T00:00:00Z", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-02-01T09:00:00+09:00", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), false},
		{"-1h", time.Time{}, true},
		{"-1d", time.Time{}, true},
		{"d", time.Time{}, true},
		{"1.5d", time.Time{}, true},
		{"2026-02-01", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseWhen(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// pruneRecorder is an AuditLog that reports each PruneAudit's cutoff.
type pruneRecorder struct {
	gatehouse.AuditLog
	cutoffs chan time.Time
}

func (p pruneRecorder) PruneAudit(_ context.Context, before time.Time) (int64, error) {
	p.cutoffs <- before
	return 1, nil
}

// keepAuditRetention prunes at once, to now minus the retention, and stops
// when its context ends.
func TestKeepAuditRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rec := pruneRecorder{cutoffs: make(chan time.Time, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		keepAuditRetention(ctx, rec, 90*24*time.Hour, time.Hour, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	if got := <-rec.cutoffs; !got.Equal(now.Add(-90 * 24 * time.Hour)) {
		t.Errorf("pruned before %v, want 90 days before %v", got, now)
	}
	cancel()
	<-done
}
