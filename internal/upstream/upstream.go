// Package upstream is the adapter that speaks OAuth 2.0 and OpenID Connect
// to the providers users sign in with: a generic OpenID provider found by
// discovery, and presets for Google, Kakao (both OpenID), GitHub and Naver
// (OAuth 2.0 with their user-info APIs). Each configured provider is a
// gatehouse.Upstream; the use cases in internal/auth drive the flow.
package upstream

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse-auth/gatehouse"
	"golang.org/x/oauth2"
)

// Types of provider.
const (
	TypeOIDC   = "oidc"
	TypeGoogle = "google"
	TypeKakao  = "kakao"
	TypeGitHub = "github"
	TypeNaver  = "naver"
)

// Types lists every provider type, presets and the generic one.
var Types = []string{TypeOIDC, TypeGoogle, TypeKakao, TypeGitHub, TypeNaver}

// Config configures one provider.
type Config struct {
	// Name is the provider's name in gatehouse's URLs and in identities
	// (/auth/oauth/{name}); Type its kind.
	Name string
	Type string

	ClientID     string
	ClientSecret string
	// Scopes replace the preset's when set.
	Scopes []string
	// RedirectURL is gatehouse's callback, as registered at the provider.
	RedirectURL string

	// Issuer is the OpenID issuer (discovery at
	// Issuer/.well-known/openid-configuration): required for TypeOIDC,
	// an override of the preset's for Google and Kakao.
	Issuer string
	// AuthURL, TokenURL, UserInfoURL and EmailsURL override the
	// preset's OAuth 2.0 endpoints of GitHub and Naver (GitHub Enterprise
	// Server, tests).
	AuthURL, TokenURL, UserInfoURL, EmailsURL string
}

// preset is what a provider type brings unless configured otherwise.
type preset struct {
	oidc                                      bool
	issuer                                    string
	authURL, tokenURL, userInfoURL, emailsURL string
	scopes                                    []string
	// user reads the account from the user-info API (non-OpenID types).
	user func(ctx context.Context, p *Provider, client *http.Client) (*gatehouse.UpstreamUser, error)
}

var presets = map[string]preset{
	TypeOIDC:   {oidc: true, scopes: []string{oidc.ScopeOpenID, "email", "profile"}},
	TypeGoogle: {oidc: true, issuer: "https://accounts.google.com", scopes: []string{oidc.ScopeOpenID, "email", "profile"}},
	// Kakao's email needs the account_email consent item enabled for the
	// app; without it the ID token carries no email.
	TypeKakao: {oidc: true, issuer: "https://kauth.kakao.com", scopes: []string{oidc.ScopeOpenID, "account_email", "profile_nickname"}},
	TypeGitHub: {
		authURL: "https://github.com/login/oauth/authorize", tokenURL: "https://github.com/login/oauth/access_token",
		userInfoURL: "https://api.github.com/user", emailsURL: "https://api.github.com/user/emails",
		scopes: []string{"read:user", "user:email"}, user: githubUser,
	},
	TypeNaver: {
		authURL: "https://nid.naver.com/oauth2.0/authorize", tokenURL: "https://nid.naver.com/oauth2.0/token",
		userInfoURL: "https://openapi.naver.com/v1/nid/me", user: naverUser,
	},
}

// Provider is one configured provider. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	preset preset
	client *http.Client
	now    func() time.Time

	// oauth is the OAuth 2.0 client configuration; for OpenID providers it
	// is known after discovery, which runs on first use (and again after
	// a failure) so that a provider down at start-up does not keep
	// gatehouse down.
	mu       sync.Mutex
	oauth    *oauth2.Config
	oidc     *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

var _ gatehouse.Upstream = (*Provider)(nil)

// New checks cfg and returns its provider. client makes every request to
// the provider (give it a timeout); now is the clock ID tokens are checked
// against (nil: time.Now).
func New(cfg Config, client *http.Client, now func() time.Time) (*Provider, error) {
	ps, ok := presets[cfg.Type]
	if !ok {
		return nil, fmt.Errorf("provider %q: unknown type %q (want one of %s)", cfg.Name, cfg.Type, strings.Join(Types, ", "))
	}
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("provider %q: client_id is required", cfg.Name)
	}
	if cfg.RedirectURL == "" {
		return nil, fmt.Errorf("provider %q: no callback URL", cfg.Name)
	}
	if cfg.Issuer != "" {
		ps.issuer = cfg.Issuer
	}
	ps.authURL = or(cfg.AuthURL, ps.authURL)
	ps.tokenURL = or(cfg.TokenURL, ps.tokenURL)
	ps.userInfoURL = or(cfg.UserInfoURL, ps.userInfoURL)
	ps.emailsURL = or(cfg.EmailsURL, ps.emailsURL)
	if len(cfg.Scopes) > 0 {
		ps.scopes = cfg.Scopes
	}
	if ps.oidc && ps.issuer == "" {
		return nil, fmt.Errorf("provider %q: issuer is required for an OpenID provider", cfg.Name)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	p := &Provider{cfg: cfg, preset: ps, client: client, now: now}
	if !ps.oidc {
		p.oauth = p.oauthConfig(oauth2.Endpoint{AuthURL: ps.authURL, TokenURL: ps.tokenURL})
	}
	return p, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Name is the provider's configured name.
func (p *Provider) Name() string { return p.cfg.Name }

// OpenID reports whether the provider speaks OpenID Connect.
func (p *Provider) OpenID() bool { return p.preset.oidc }

func (p *Provider) oauthConfig(ep oauth2.Endpoint) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: ep,
		RedirectURL: p.cfg.RedirectURL, Scopes: p.preset.scopes,
	}
}

func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// discover returns the OAuth configuration, running OpenID discovery the
// first time.
func (p *Provider) discover(ctx context.Context) (*oauth2.Config, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, nil
	}
	op, err := oidc.NewProvider(p.ctx(ctx), p.preset.issuer)
	if err != nil {
		return nil, failed("discovery: %w", err)
	}
	p.oidc = op
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.now})
	p.oauth = p.oauthConfig(op.Endpoint())
	return p.oauth, nil
}

func failed(format string, args ...any) error {
	return &gatehouse.Error{Code: gatehouse.CodeUpstreamFailed, Err: fmt.Errorf(format, args...)}
}

// AuthURL implements gatehouse.Upstream.
func (p *Provider) AuthURL(ctx context.Context, state, nonce, challenge string) (string, error) {
	oc, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", challenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}
	if p.preset.oidc {
		opts = append(opts, oidc.Nonce(nonce))
	}
	return oc.AuthCodeURL(state, opts...), nil
}

// Exchange implements gatehouse.Upstream.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (*gatehouse.UpstreamUser, error) {
	oc, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx = p.ctx(ctx)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, failed("code exchange: %w", err)
	}
	var u *gatehouse.UpstreamUser
	if p.preset.oidc {
		u, err = p.idTokenUser(ctx, tok, nonce)
	} else {
		u, err = p.preset.user(ctx, p, oc.Client(ctx, tok))
	}
	if err != nil {
		return nil, err
	}
	if u.Subject == "" {
		return nil, failed("the provider named no subject")
	}
	u.Provider = p.cfg.Name
	return u, nil
}

// flexBool reads a JSON boolean that some providers send as a string.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

type oidcClaims struct {
	Subject           string    `json:"sub"`
	Email             string    `json:"email"`
	EmailVerified     *flexBool `json:"email_verified"`
	Name              string    `json:"name"`
	Nickname          string    `json:"nickname"`
	PreferredUsername string    `json:"preferred_username"`
}

// idTokenUser verifies the ID token of tok — signature by the provider's
// JWKS, issuer, audience, expiry (go-oidc) and our nonce (here) — and reads
// the account from it. When the token does not say whether the email is
// verified (Kakao's does not), the user-info endpoint is asked, and believed
// only for the same subject.
func (p *Provider) idTokenUser(ctx context.Context, tok *oauth2.Token, nonce string) (*gatehouse.UpstreamUser, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, failed("the token response has no id_token")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, failed("id token: %w", err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, failed("id token: nonce does not match this sign-in")
	}
	var c oidcClaims
	if err := idt.Claims(&c); err != nil {
		return nil, failed("id token claims: %w", err)
	}
	if c.Email != "" && c.EmailVerified == nil && p.oidc.UserInfoEndpoint() != "" {
		info, err := p.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, failed("user info: %w", err)
		}
		var ic oidcClaims
		if err := info.Claims(&ic); err != nil {
			return nil, failed("user info claims: %w", err)
		}
		if ic.Subject == idt.Subject && strings.EqualFold(ic.Email, c.Email) {
			c.EmailVerified = ic.EmailVerified
		}
	}
	return &gatehouse.UpstreamUser{
		Subject: idt.Subject, Email: c.Email, EmailVerified: c.EmailVerified != nil && bool(*c.EmailVerified),
		Name: or(c.Name, c.Nickname), Username: or(c.PreferredUsername, c.Nickname),
	}, nil
}

// maxAPIBody bounds what is read from a provider's API.
const maxAPIBody = 1 << 20

// getJSON reads url with the token-carrying client into v.
func getJSON(ctx context.Context, client *http.Client, rawURL string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, maxAPIBody))
		return fmt.Errorf("GET %s: status %s", redactURL(rawURL), res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxAPIBody)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", redactURL(rawURL), err)
	}
	return nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// githubUser reads GET /user and GET /user/emails. Only the primary email,
// and only when GitHub has verified it, counts as verified.
func githubUser(ctx context.Context, p *Provider, client *http.Client) (*gatehouse.UpstreamUser, error) {
	var me struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := getJSON(ctx, client, p.preset.userInfoURL, &me); err != nil {
		return nil, failed("github user: %w", err)
	}
	if me.ID <= 0 {
		return nil, failed("github user: no id")
	}
	u := &gatehouse.UpstreamUser{Subject: strconv.FormatInt(me.ID, 10), Username: me.Login, Name: me.Name, Email: me.Email}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getJSON(ctx, client, p.preset.emailsURL, &emails); err != nil {
		// Without the user:email scope the list is refused; the account
		// then has no verified email, which is allowed.
		u.Email = ""
		return u, nil
	}
	u.Email = ""
	for _, e := range emails {
		if e.Primary {
			u.Email, u.EmailVerified = e.Email, e.Verified
		}
	}
	return u, nil
}

// naverUser reads Naver's profile API. Naver does not say whether the email
// was verified, so it never counts as verified.
func naverUser(ctx context.Context, p *Provider, client *http.Client) (*gatehouse.UpstreamUser, error) {
	var me struct {
		ResultCode string `json:"resultcode"`
		Message    string `json:"message"`
		Response   struct {
			ID       string `json:"id"`
			Email    string `json:"email"`
			Nickname string `json:"nickname"`
			Name     string `json:"name"`
		} `json:"response"`
	}
	if err := getJSON(ctx, client, p.preset.userInfoURL, &me); err != nil {
		return nil, failed("naver profile: %w", err)
	}
	if me.ResultCode != "00" {
		return nil, failed("naver profile: result %q", me.ResultCode)
	}
	r := me.Response
	return &gatehouse.UpstreamUser{Subject: r.ID, Email: r.Email, Name: or(r.Name, r.Nickname), Username: r.Nickname}, nil
}
