package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkUsersMe measures GET /users/me step by step, for HS256 and for the
// default asymmetric algorithm (ES256), so the cost of each step is a ratio
// within one run:
//
//   - bare: a handler that writes the same JSON and checks nothing;
//
//   - verify-only: extract the bearer token and verify it (verified-token
//     cache included), then write the JSON;
//
//   - full: the whole server — middleware, verification, the revocation
//     check, the user look-up (user cache included), JSON;
//
//   - full-uncached-token: the same with the verified-token cache off, i.e.
//     a full signature check on every request.
//
//     go test ./internal/web -run '^$' -bench 'UsersMe$' -benchmem
func BenchmarkUsersMe(b *testing.B) {
	for _, alg := range []string{"HS256", "ES256"} {
		e, token, bare := benchSetup(b, envOptions{alg: alg})
		verifyOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := bearerToken(r)
			if err == nil {
				_, err = e.tokens.Verify(tok)
			}
			if err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			bare.ServeHTTP(w, r)
		})
		uncached, uncachedToken, _ := benchSetup(b, envOptions{alg: alg, noCache: true})
		cases := []struct {
			name    string
			handler http.Handler
			token   string
		}{
			{"bare", bare, token},
			{"verify-only", verifyOnly, token},
			{"full", e.handler, token},
			{"full-uncached-token", uncached.handler, uncachedToken},
		}
		for _, c := range cases {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/users/me", nil)
				req.Header.Set("Authorization", "Bearer "+c.token)
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
}

// BenchmarkUsersMeHTTP is the full-versus-bare comparison over real loopback
// HTTP (server, client and connection reuse included), which is what a
// client sees; the ratio of the two figures is the share of a request that
// authentication costs.
//
//	go test ./internal/web -run '^$' -bench UsersMeHTTP -benchmem
func BenchmarkUsersMeHTTP(b *testing.B) {
	for _, alg := range []string{"HS256", "ES256"} {
		e, token, bare := benchSetup(b, envOptions{alg: alg})
		for _, c := range []struct {
			name    string
			handler http.Handler
		}{{"bare", bare}, {"full", e.handler}} {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
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
}

// benchSetup returns a server with one user, that user's token, and a bare
// handler that writes the same JSON /users/me does for them.
func benchSetup(b *testing.B, opts envOptions) (*testEnv, string, http.Handler) {
	b.Helper()
	e := newTestEnv(b, opts)
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
