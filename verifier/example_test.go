package verifier_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/verifier"
)

// A resource server protecting its API with gatehouse access tokens, and
// refusing tokens of logged-out sessions within seconds.
func Example() {
	ctx := context.Background()
	var feedSecret string // from your secret store: one of gatehouse's GATEHOUSE_REVOCATION_CLIENTS

	v, err := verifier.New(ctx, verifier.Config{
		Issuer:   "https://auth.example.com",
		Audience: "notes",
		Revocations: &verifier.RevocationConfig{
			ClientID:     "notes",
			ClientSecret: feedSecret,
			Policy:       verifier.FailOpen,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /notes", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "notes of %s\n", claims.Username)
	})))
	mux.Handle("POST /notes", v.RequireScope("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))
	srv := &http.Server{Addr: ":8081", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func ExampleVerifier_Middleware() {
	// A stand-in for gatehouse: discovery and a JWKS with one ES256 key.
	key := newKey("ES256")
	issuer := startFakeIssuer(key)
	defer issuer.Close()

	v, err := verifier.New(context.Background(), verifier.Config{Issuer: issuer.URL, Audience: "notes"})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	notes := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "notes of %s", claims.Username)
	}))
	srv := httptest.NewServer(notes)
	defer srv.Close()

	get := func(token string) {
		req, _ := http.NewRequest("GET", srv.URL+"/notes", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	get("")
	get(issuer.token(key, time.Now()))
	// Output:
	// 401 {"detail":"Not authenticated","code":"invalid_token"}
	// 200 notes of alice
}
