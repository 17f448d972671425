package main

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// The wiring: a providers file pointing at an OpenID provider on loopback
// (mockoidc), and a whole sign-in through the real server's run.
func TestServeProviderSignIn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	dir := t.TempDir()
	providers := filepath.Join(dir, "providers.json")
	err = os.WriteFile(providers, []byte(`{"corp": {"type": "oidc", "issuer": "`+m.Issuer()+`", "client_id": "`+m.ClientID+`", "client_secret": "`+m.ClientSecret+`"}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const public = "http://gatehouse.localhost:1"
	s := startServer(t, map[string]string{
		"GATEHOUSE_DATA_DIR":             dir,
		"GATEHOUSE_OAUTH_PROVIDERS_FILE": providers,
		"GATEHOUSE_OAUTH_REDIRECT_URIS":  "http://127.0.0.1:9/cb",
		"GATEHOUSE_OAUTH_PUBLIC_URL":     public,
	})
	s.waitReady(t)
	if logs := s.logs.String(); strings.Contains(logs, m.ClientSecret) {
		t.Fatalf("the client secret was logged:\n%s", logs)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := func(u string) *url.URL {
		t.Helper()
		res, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("GET %s: %d %q", u, res.StatusCode, res.Header.Get("Location"))
		}
		return loc
	}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"redirect_uri": {"http://127.0.0.1:9/cb"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	atProvider := follow(s.base + "/auth/oauth/corp?" + q.Encode())
	back := follow(atProvider.String())
	if !strings.HasPrefix(back.String(), public+"/auth/oauth/corp/callback?") {
		t.Fatalf("provider sent the browser to %s", back)
	}
	app := follow(s.base + back.RequestURI())
	code := app.Query().Get("code")
	if code == "" {
		t.Fatalf("app redirect %s", app)
	}
	status, body := s.call(t, http.MethodPost, "/auth/token", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {verifier}}.Encode(), "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	status, me := s.call(t, http.MethodGet, "/users/me", "", "", body["access_token"].(string))
	if status != http.StatusOK || me["username"] != "jane.doe" {
		t.Errorf("/users/me: %d %v", status, me)
	}
}
