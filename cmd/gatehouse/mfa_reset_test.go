package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// `user mfa reset NAME` removes a user's TOTP and recovery codes, and only
// theirs; it is audited as the operator's.
func TestUserMFAReset(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	getenv := func(k string) string { return map[string]string{"GATEHOUSE_DATA_DIR": dataDir}[k] }
	const pw = "a long operator passphrase"
	for _, name := range []string{"ann", "ben"} {
		if _, _, err := runCLI(t, getenv, pw, "user", "create", "--username", name, "--email", name+"@example.com", "--password-stdin"); err != nil {
			t.Fatal(err)
		}
	}
	db := openStore(t, dataDir)
	ctx := t.Context()
	ids := map[string]int64{}
	for _, name := range []string{"ann", "ben"} {
		u, err := db.Users().UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = u.ID
		sealed := []byte("sealed-" + name)
		if err := db.MFA().PutPendingTOTP(ctx, &gatehouse.TOTP{UserID: u.ID, Secret: sealed, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := db.MFA().ConfirmTOTP(ctx, u.ID, sealed, 1, [][]byte{[]byte(name + "-1"), []byte(name + "-2")}, time.Now()); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ss := &gatehouse.Session{ID: "session-of-" + name, UserID: u.ID, CreatedAt: now, LastUsedAt: now,
			ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour), AccessExpiresAt: now.Add(time.Minute),
			AMR: []string{"pwd", "otp"}, Seed: make([]byte, 32)}
		if err := db.Sessions().CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		args    []string
		out     string
		wantErr string
	}{
		{"reset", []string{"reset", "ANN"}, "two-step verification removed for ann\n", ""},
		{"again", []string{"reset", "ann"}, "", "has no two-step verification"},
		{"unknown user", []string{"reset", "nobody"}, "", "no such user"},
		{"bad usage", []string{"remove", "ben"}, "", "usage"},
		{"no name", []string{"reset"}, "", "usage"},
	}
	for _, st := range steps {
		out, _, err := runCLI(t, getenv, "", append([]string{"user", "mfa"}, st.args...)...)
		if st.wantErr == "" {
			if err != nil || out != st.out {
				t.Errorf("%s: out %q, err %v; want %q", st.name, out, err, st.out)
			}
		} else if err == nil || !strings.Contains(err.Error(), st.wantErr) {
			t.Errorf("%s: err %v, want %q", st.name, err, st.wantErr)
		}
	}
	if _, err := db.MFA().TOTPByUser(ctx, ids["ann"]); !gatehouse.IsCode(err, gatehouse.CodeNotFound) {
		t.Errorf("ann's TOTP after the reset: %v", err)
	}
	if n, _ := db.MFA().RecoveryCodesLeft(ctx, ids["ann"]); n != 0 {
		t.Errorf("ann has %d recovery codes after the reset", n)
	}
	if n, _ := db.MFA().RecoveryCodesLeft(ctx, ids["ben"]); n != 2 {
		t.Errorf("ben has %d recovery codes, want 2 (untouched)", n)
	}
	// The reset ends ann's sessions (they claimed a second factor), not ben's.
	for name, want := range map[string]int{"ann": 0, "ben": 1} {
		live, err := db.Sessions().ListSessions(ctx, ids[name], time.Now())
		if err != nil || len(live) != want {
			t.Errorf("%s's live sessions after the reset: %d (%v), want %d", name, len(live), err, want)
		}
	}
	events, err := db.Audit().ListAudit(ctx, gatehouse.AuditFilter{Event: gatehouse.EventMFAReset, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].UserID != ids["ann"] || events[0].ActorID != 0 || events[0].Detail["via"] != "cli" {
		t.Errorf("mfa_reset events: %+v", events)
	}
}
