package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// OAuthProvider configures one upstream sign-in provider, as read from
// GATEHOUSE_OAUTH_PROVIDERS_FILE (see docs/providers.md).
type OAuthProvider struct {
	Name         string   `json:"-"`
	Type         string   `json:"type"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Issuer       string   `json:"issuer"`
	Scopes       []string `json:"scopes"`
	AuthURL      string   `json:"auth_url"`
	TokenURL     string   `json:"token_url"`
	UserInfoURL  string   `json:"userinfo_url"`
	EmailsURL    string   `json:"emails_url"`
	// DisplayName is the provider's name on sign-in buttons ("Corp SSO");
	// "" shows a preset's own name (Google, GitHub…) or else Name.
	DisplayName string `json:"display_name"`
}

// presetLabels are the names the presets go by on buttons.
var presetLabels = map[string]string{"google": "Google", "github": "GitHub", "kakao": "Kakao", "naver": "Naver"}

// Label is the provider's name for people: DisplayName, else the preset's
// name, else the provider's own.
func (p OAuthProvider) Label() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if l := presetLabels[p.Type]; l != "" {
		return l
	}
	return p.Name
}

// Format prints the provider with its client secret masked.
func (p OAuthProvider) Format(f fmt.State, verb rune) {
	type plain OAuthProvider
	if p.ClientSecret != "" {
		p.ClientSecret = "[redacted]"
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), plain(p))
}

// oauthTypes are the provider types internal/upstream knows.
var oauthTypes = []string{"oidc", "google", "kakao", "github", "naver"}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// readOAuthProviders reads the providers file: a JSON object from provider
// name to its settings. A provider named like a preset (google, github,
// kakao, naver) is of that type unless "type" says otherwise; any other
// name needs "type". client_secret_file, when given, names a file holding
// the secret (Docker and Kubernetes secrets).
func readOAuthProviders(path string) ([]OAuthProvider, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of providers: %w", path, err)
	}
	var out []OAuthProvider
	for name, body := range doc {
		var p struct {
			OAuthProvider
			ClientSecretFile string `json:"client_secret_file"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: provider %q: %w", path, name, err)
		}
		p.Name = name
		if p.Type == "" && slices.Contains(oauthTypes, name) && name != "oidc" {
			p.Type = name
		}
		if p.ClientSecretFile != "" {
			if p.ClientSecret != "" {
				return nil, fmt.Errorf("%s: provider %q: give client_secret or client_secret_file, not both", path, name)
			}
			b, err := os.ReadFile(p.ClientSecretFile)
			if err != nil {
				return nil, fmt.Errorf("%s: provider %q: %w", path, name, err)
			}
			p.ClientSecret = strings.TrimSpace(string(b))
		}
		out = append(out, p.OAuthProvider)
	}
	slices.SortFunc(out, func(a, b OAuthProvider) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// validateOAuth checks the provider settings; production additionally
// wants https everywhere but loopback.
func (c Config) validateOAuth() error {
	if len(c.OAuthProviders) == 0 {
		return nil
	}
	for _, p := range c.OAuthProviders {
		if !providerName.MatchString(p.Name) {
			return fmt.Errorf("GATEHOUSE_OAUTH_PROVIDERS_FILE: provider name %q must be 1-32 of a-z, 0-9, _ and -", p.Name)
		}
		if !slices.Contains(oauthTypes, p.Type) {
			return fmt.Errorf("GATEHOUSE_OAUTH_PROVIDERS_FILE: provider %q: type must be one of %s, got %q", p.Name, strings.Join(oauthTypes, ", "), p.Type)
		}
		if p.ClientID == "" {
			return fmt.Errorf("GATEHOUSE_OAUTH_PROVIDERS_FILE: provider %q: client_id is required", p.Name)
		}
		if p.Type == "oidc" && p.Issuer == "" {
			return fmt.Errorf("GATEHOUSE_OAUTH_PROVIDERS_FILE: provider %q: issuer is required for type oidc", p.Name)
		}
		for _, u := range []string{p.Issuer, p.AuthURL, p.TokenURL, p.UserInfoURL, p.EmailsURL} {
			if u != "" && !c.secureURL(u) {
				return fmt.Errorf("GATEHOUSE_OAUTH_PROVIDERS_FILE: provider %q: %q must be an absolute https URL (http only for loopback, or outside production)", p.Name, u)
			}
		}
	}
	base := c.OAuthPublicURL()
	if base == "" || !c.secureURL(base) {
		return fmt.Errorf("GATEHOUSE_OAUTH_PUBLIC_URL (or GATEHOUSE_ISSUER) must be the https URL browsers reach gatehouse at when providers are configured, got %q", base)
	}
	// No app redirect URI is needed: the hosted pages sign in through
	// providers at a redirect URI of their own (<public URL>/ui/oauth/callback).
	for _, r := range c.OAuthRedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(r, "#") {
			return fmt.Errorf("GATEHOUSE_OAUTH_REDIRECT_URIS: %q must be an absolute URI without fragment", r)
		}
		if (u.Scheme == "http" || u.Scheme == "https") && !c.secureURL(r) {
			return fmt.Errorf("GATEHOUSE_OAUTH_REDIRECT_URIS: %q must be https in production (http only for loopback)", r)
		}
	}
	return nil
}

// OAuthPublicURL is the base of the callback URLs registered at providers:
// GATEHOUSE_OAUTH_PUBLIC_URL, else the issuer.
func (c Config) OAuthPublicURL() string {
	if c.oauthPublicURL != "" {
		return strings.TrimSuffix(c.oauthPublicURL, "/")
	}
	return strings.TrimSuffix(c.Issuer, "/")
}

// secureURL: an absolute http(s) URL with a host; https in production
// unless the host is loopback.
func (c Config) secureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	if u.Scheme == "https" || !c.Production() {
		return true
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
