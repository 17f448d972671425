package main

import (
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/upstream"
)

// providerTimeout bounds each request to a sign-in provider (discovery,
// JWKS, token exchange, user info), so that a slow provider holds a
// callback for seconds, not forever.
const providerTimeout = 10 * time.Second

// newFederation wires the configured sign-in providers; nil when there are
// none, which turns their routes off.
//
// The hosted pages sign in through providers as an app of their own, at
// pagesCallback(cfg): that redirect URI is allowed besides
// GATEHOUSE_OAUTH_REDIRECT_URIS, without the operator listing it.
func newFederation(cfg config.Config, svc *auth.Service, identities gatehouse.IdentityStore) (*auth.Federation, error) {
	if len(cfg.OAuthProviders) == 0 {
		return nil, nil
	}
	client := &http.Client{Timeout: providerTimeout}
	ups := make(map[string]gatehouse.Upstream, len(cfg.OAuthProviders))
	labels := make(map[string]string, len(cfg.OAuthProviders))
	for _, p := range cfg.OAuthProviders {
		labels[p.Name] = p.Label()
		up, err := upstream.New(upstream.Config{
			Name: p.Name, Type: p.Type, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
			RedirectURL: cfg.OAuthPublicURL() + "/auth/oauth/" + p.Name + "/callback",
			Issuer:      p.Issuer, AuthURL: p.AuthURL, TokenURL: p.TokenURL, UserInfoURL: p.UserInfoURL, EmailsURL: p.EmailsURL,
		}, client, nil)
		if err != nil {
			return nil, err
		}
		ups[p.Name] = up
	}
	return auth.NewFederation(svc, auth.FederationDeps{
		Identities: identities, Upstreams: ups, Labels: labels,
		RedirectURIs: append(slices.Clone(cfg.OAuthRedirectURIs), pagesCallback(cfg)),
	}), nil
}

// pagesCallback is the hosted pages' redirect URI for provider sign-ins.
func pagesCallback(cfg config.Config) string {
	return cfg.OAuthPublicURL() + pages.OAuthCallbackPath
}
