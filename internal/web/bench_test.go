package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkUsersMe compares GET /users/me through the whole handler stack
// (middleware, token verification, user look-up in SQLite, JSON) with a bare
// handler that writes the same JSON, so the cost of authentication is a ratio
// measured in one run:
//
//	go test ./internal/web -run '^$' -bench UsersMe -benchmem
func BenchmarkUsersMe(b *testing.B) {
	e, token, bare := benchSetup(b)
	uncached := newTestEnv(b, envOptions{noCache: true})
	uncachedToken := uncached.token(b, "bench", "bench@example.com", goodPassword)

	cases := []struct {
		name    string
		handler http.Handler
		token   string
	}{
		{"bare", bare, ""},
		{"gatehouse", e.handler, token},
		{"gatehouse-uncached-token", uncached.handler, uncachedToken},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/users/me", nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkUsersMeHTTP is the same comparison over real loopback HTTP
// (server, client and connection reuse included), which is what a client
// sees; the ratio of the two figures is the share of a request that
// authentication costs.
//
//	go test ./internal/web -run '^$' -bench UsersMeHTTP -benchmem
func BenchmarkUsersMeHTTP(b *testing.B) {
	e, token, bare := benchSetup(b)
	for _, c := range []struct {
		name    string
		handler http.Handler
	}{{"bare", bare}, {"gatehouse", e.handler}} {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			client := srv.Client()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}

// benchSetup returns a server with one user, that user's token, and a bare
// handler that writes the same JSON /users/me does for them.
func benchSetup(b *testing.B) (*testEnv, string, http.Handler) {
	b.Helper()
	e := newTestEnv(b, envOptions{})
	token := e.token(b, "bench", "bench@example.com", goodPassword)
	u, err := e.users.UserByUsername(b.Context(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, newUserResponse(u))
	})
	return e, token, bare
}
