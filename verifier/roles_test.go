package verifier_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/verifier"
	"github.com/golang-jwt/jwt/v5"
)

// withRoles sets the token's "roles" claim.
func withRoles(roles ...string) func(h map[string]any, c jwt.MapClaims) {
	return func(_ map[string]any, c jwt.MapClaims) { c["roles"] = roles }
}

func TestRequireRole(t *testing.T) {
	k := newKey("ES256")
	f := newFakeIssuer(t, k)
	clk := newClock()
	v := newVerifier(t, f.config(clk))
	admin := f.token(k, clk.Now(), withRoles("admin", "user"))
	user := f.token(k, clk.Now(), withRoles("user"))
	noRoles := f.token(k, clk.Now())
	// A role that only looks like admin must not pass for it.
	lookalike := f.token(k, clk.Now(), withRoles("Admin", "admin ", "admins"))

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.ClaimsFromContext(r.Context())
		w.Write([]byte(c.Subject))
	})
	admins := v.RequireRole("admin")(ok)
	stacked := v.Middleware(v.RequireRole("admin")(ok))
	users := v.RequireRole("user")(ok)

	tests := []struct {
		name    string
		handler http.Handler
		token   string
		status  int
		code    string
	}{
		{"admin", admins, admin, 200, ""},
		{"admin after Middleware", stacked, admin, 200, ""},
		{"user refused", admins, user, 403, "forbidden"},
		{"user refused after Middleware", stacked, user, 403, "forbidden"},
		{"no roles claim", admins, noRoles, 403, "forbidden"},
		{"look-alike roles", admins, lookalike, 403, "forbidden"},
		{"no token", admins, "", 401, "invalid_token"},
		{"bad token", admins, "abc.def.ghi", 401, "invalid_token"},
		{"user role", users, user, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/admin", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 {
				return
			}
			var body struct{ Detail, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != tt.code || body.Detail == "" {
				t.Errorf("body %s, want code %q", rec.Body, tt.code)
			}
			if tt.status == 403 && rec.Header().Get("WWW-Authenticate") != `Bearer error="insufficient_scope"` {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("claims", func(t *testing.T) {
		c, err := v.Verify(t.Context(), admin)
		if err != nil {
			t.Fatal(err)
		}
		if !c.HasRole("admin") || !c.HasRole("user") || c.HasRole("root") {
			t.Errorf("roles %q", c.Roles)
		}
	})
	t.Run("invalid role panics", func(t *testing.T) {
		for _, r := range []string{"", "Admin", "a b", string(make([]byte, 65))} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("RequireRole(%q) did not panic", r)
					}
				}()
				v.RequireRole(r)
			}()
		}
	})
}
