package gatehouse_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// AuditAttrs logs the cleaned event and nothing else: a logged line must
// hold no more than the stored row does.
func TestAuditAttrs(t *testing.T) {
	tests := []struct {
		name string
		e    gatehouse.AuditEvent
		want map[string]any
	}{
		{"Full", gatehouse.AuditEvent{ID: 7, Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeSuccess, UserID: 3,
			Login: "ann", SessionID: "s1", ClientIP: "192.0.2.1", UserAgent: "curl/8", RequestID: "r1",
			Detail: map[string]string{"client_id": "cli", "refresh_token": "secret"}},
			map[string]any{"audit_id": 7.0, "event": "login", "outcome": "success", "user_id": 3.0, "login": "ann",
				"session_id": "s1", "client_ip": "192.0.2.1", "user_agent": "curl/8", "request_id": "r1",
				"detail": map[string]any{"client_id": "cli"}}},
		// The name tried on an unknown account may be a password.
		{"UnknownAccount", gatehouse.AuditEvent{Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			Reason: gatehouse.ReasonUnknownUser, Login: "hunter2hunter2", ClientIP: "192.0.2.9"},
			map[string]any{"event": "login", "outcome": "failure", "reason": "unknown_user", "client_ip": "192.0.2.9"}},
		{"Bounded", gatehouse.AuditEvent{Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			UserAgent: strings.Repeat("가", 400) + "\xff"},
			map[string]any{"event": "login", "outcome": "failure", "user_agent": strings.Repeat("가", gatehouse.AuditMaxUserAgent/3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
						return slog.Attr{}
					}
					return a
				},
			}))
			log.LogAttrs(t.Context(), slog.LevelInfo, "audit", gatehouse.AuditAttrs(&tt.e)...)
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("logged %s\nwant   %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestAuditClean(t *testing.T) {
	e := gatehouse.AuditEvent{Event: "login", Outcome: "success", UserID: 1, Login: "ann",
		ClientIP: "a\x00b", Reason: "x\xffy", Detail: map[string]string{"API_KEY": "k", "count": "2"}}
	c := e.Clean()
	if c.ClientIP != "a\uFFFDb" || c.Reason != "x\uFFFDy" || c.Login != "ann" || len(c.Detail) != 1 || c.Detail["count"] != "2" {
		t.Errorf("Clean = %+v", c)
	}
	if e.Detail["API_KEY"] != "k" || e.ClientIP != "a\x00b" {
		t.Error("Clean changed the event it was called on")
	}
}
