package verifier_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

func TestMiddleware(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	good := f.token(k, clk.Now())
	expired := f.token(k, clk.Now().Add(-time.Hour))

	// The handler answers with what it finds in the context.
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := verifier.ClaimsFromContext(r.Context())
		if !ok {
			t.Error("no claims in the context")
			return
		}
		fmt.Fprintf(w, "%s %s", c.Username, c.SessionID)
	})
	protected := v.Middleware(whoami)
	readers := v.RequireScope("notes:read")(whoami)
	writers := v.RequireScope("notes:write")(whoami)
	stacked := v.Middleware(v.RequireScope("notes:read")(whoami))

	const invalid = `Bearer error="invalid_token"`
	tests := []struct {
		name      string
		handler   http.Handler
		auth      string
		status    int
		challenge string
		code      string
		body      string
	}{
		{"no Authorization", protected, "", 401, "Bearer", "invalid_token", ""},
		{"Basic credentials", protected, "Basic YWxpY2U6c2VjcmV0", 401, invalid, "invalid_token", ""},
		{"Bearer without a token", protected, "Bearer", 401, invalid, "invalid_token", ""},
		{"Bearer with a space only", protected, "Bearer ", 401, invalid, "invalid_token", ""},
		{"two tokens", protected, "Bearer " + good + " " + good, 401, invalid, "invalid_token", ""},
		{"garbage", protected, "Bearer abc.def.ghi", 401, invalid, "invalid_token", ""},
		{"expired", protected, "Bearer " + expired, 401, invalid, "invalid_token", ""},
		{"valid", protected, "Bearer " + good, 200, "", "", "alice s1"},
		{"scheme in lower case", protected, "bearer " + good, 200, "", "", "alice s1"},
		{"two spaces", protected, "Bearer  " + good, 200, "", "", "alice s1"},
		{"scope granted", readers, "Bearer " + good, 200, "", "", "alice s1"},
		{"scope granted, after Middleware", stacked, "Bearer " + good, 200, "", "", "alice s1"},
		{"scope not granted", writers, "Bearer " + good, 403, `Bearer error="insufficient_scope", scope="notes:write"`, "insufficient_scope", ""},
		{"scope without a token", writers, "", 401, "Bearer", "invalid_token", ""},
		{"scope with a bad token", readers, "Bearer " + expired, 401, invalid, "invalid_token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/notes", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 200 {
				if rec.Body.String() != tt.body {
					t.Errorf("body %q, want %q", rec.Body, tt.body)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body struct{ Detail, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != tt.code || body.Detail == "" {
				t.Errorf("body %s, want code %q and a detail", rec.Body, tt.code)
			}
		})
	}
}

// Claims put in the context by the application (in its handler tests) are
// honoured by RequireScope without a token.
func TestRequireScopeWithContextClaims(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	v := newVerifier(t, f.config(newClock()))
	h := v.RequireScope("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tt := range []struct {
		scope  string
		status int
	}{{"notes:write", 200}, {"notes:read", 403}} {
		req := httptest.NewRequest("GET", "/", nil)
		req = req.WithContext(verifier.ContextWithClaims(req.Context(), &verifier.Claims{Subject: "1", Scope: tt.scope}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("scope %q: %d, want %d", tt.scope, rec.Code, tt.status)
		}
	}
}

func TestRequireScopePanicsOnInvalidScope(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	v := newVerifier(t, f.config(newClock()))
	for _, scope := range []string{"", "two words", `quo"te`, "back\\slash", "tab\t"} {
		t.Run(fmt.Sprintf("%q", scope), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			v.RequireScope(scope)
		})
	}
}
