package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestOAuthProvidersFile(t *testing.T) {
	t.Parallel()
	secret := writeFile(t, "gh-secret", "from-a-file\n")
	path := writeFile(t, "providers.json", `{
		"google": {"client_id": "g-id", "client_secret": "g-secret"},
		"github": {"client_id": "gh-id", "client_secret_file": "`+secret+`"},
		"corp":   {"type": "oidc", "issuer": "https://sso.corp.example", "client_id": "c-id", "scopes": ["openid", "email"]}
	}`)
	c := mustLoad(t, nil, map[string]string{
		"GATEHOUSE_OAUTH_PROVIDERS_FILE": path,
		"GATEHOUSE_OAUTH_REDIRECT_URIS":  "https://app.example/cb, myapp://cb",
		"GATEHOUSE_OAUTH_PUBLIC_URL":     "https://auth.example/",
	})
	if len(c.OAuthProviders) != 3 {
		t.Fatalf("providers %v", c.OAuthProviders)
	}
	corp, gh, g := c.OAuthProviders[0], c.OAuthProviders[1], c.OAuthProviders[2]
	if corp.Name != "corp" || corp.Type != "oidc" || corp.Issuer != "https://sso.corp.example" || strings.Join(corp.Scopes, " ") != "openid email" {
		t.Errorf("corp %+v", corp)
	}
	if gh.Type != "github" || gh.ClientSecret != "from-a-file" || g.Type != "google" || g.ClientSecret != "g-secret" {
		t.Errorf("presets %v %v", gh, g)
	}
	if strings.Join(c.OAuthRedirectURIs, " ") != "https://app.example/cb myapp://cb" || c.OAuthPublicURL() != "https://auth.example" {
		t.Errorf("redirects %q, public URL %q", c.OAuthRedirectURIs, c.OAuthPublicURL())
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Client secrets never print.
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c.OAuthProviders)} {
		if strings.Contains(out, "g-secret") || strings.Contains(out, "from-a-file") {
			t.Errorf("a client secret printed: %s", out)
		}
	}
}

func TestOAuthProvidersFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"not JSON", `[`, "not a JSON object"},
		{"unknown field", `{"google": {"client_id": "x", "clientsecret": "y"}}`, "unknown field"},
		{"both secrets", `{"google": {"client_id": "x", "client_secret": "y", "client_secret_file": "/nonexistent"}}`, "not both"},
		{"missing secret file", `{"google": {"client_id": "x", "client_secret_file": "/nonexistent/secret"}}`, "nonexistent"},
	}
	for _, tt := range tests {
		_, err := Load(nil, envOf(map[string]string{"GATEHOUSE_OAUTH_PROVIDERS_FILE": writeFile(t, "p.json", tt.content)}))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "GATEHOUSE_OAUTH_PROVIDERS_FILE") {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Load(nil, envOf(map[string]string{"GATEHOUSE_OAUTH_PROVIDERS_FILE": "/nonexistent/p.json"})); err == nil {
		t.Error("a missing providers file accepted")
	}
}

func TestValidateOAuth(t *testing.T) {
	t.Parallel()
	good := func(c *Config) {
		c.OAuthProviders = []OAuthProvider{{Name: "google", Type: "google", ClientID: "id"}}
		c.OAuthRedirectURIs = []string{"https://app.example/cb"}
	}
	tests := []struct {
		name    string
		prod    bool
		edit    func(*Config)
		wantErr string
	}{
		{"good", true, func(c *Config) {}, ""},
		{"bad name", false, func(c *Config) { c.OAuthProviders[0].Name = "Goo gle" }, "provider name"},
		{"unknown type", false, func(c *Config) { c.OAuthProviders[0].Type = "myspace" }, "type must be"},
		{"no client id", false, func(c *Config) { c.OAuthProviders[0].ClientID = "" }, "client_id"},
		{"oidc without issuer", false, func(c *Config) { c.OAuthProviders[0].Type = "oidc" }, "issuer is required"},
		{"http issuer in production", true, func(c *Config) {
			c.OAuthProviders[0].Type, c.OAuthProviders[0].Issuer = "oidc", "http://sso.example"
		}, "https"},
		{"loopback http issuer in production", true, func(c *Config) {
			c.OAuthProviders[0].Type, c.OAuthProviders[0].Issuer = "oidc", "http://127.0.0.1:5556"
		}, ""},
		{"no redirect URIs (the pages only)", false, func(c *Config) { c.OAuthRedirectURIs = nil }, ""},
		{"relative redirect URI", false, func(c *Config) { c.OAuthRedirectURIs = []string{"/cb"} }, "absolute"},
		{"redirect URI with fragment", false, func(c *Config) { c.OAuthRedirectURIs = []string{"https://app.example/cb#x"} }, "fragment"},
		{"http redirect URI in production", true, func(c *Config) { c.OAuthRedirectURIs = []string{"http://app.example/cb"} }, "https"},
		{"no public URL", false, func(c *Config) { c.Issuer = "" }, "GATEHOUSE_OAUTH_PUBLIC_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validDevelopment(t)
			c.Issuer = "http://localhost:8000"
			if tt.prod {
				c = validProduction(t)
			}
			good(&c)
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestOAuthProviderLabel(t *testing.T) {
	for _, tt := range []struct {
		p    OAuthProvider
		want string
	}{
		{OAuthProvider{Name: "google", Type: "google"}, "Google"},
		{OAuthProvider{Name: "gh-staff", Type: "github"}, "GitHub"},
		{OAuthProvider{Name: "corp", Type: "oidc"}, "corp"},
		{OAuthProvider{Name: "corp", Type: "oidc", DisplayName: "Corp SSO"}, "Corp SSO"},
		{OAuthProvider{Name: "kakao", Type: "kakao", DisplayName: "카카오"}, "카카오"},
	} {
		if got := tt.p.Label(); got != tt.want {
			t.Errorf("%+v.Label() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
