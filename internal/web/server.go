// Package web is gatehouse's HTTP layer: the route table, handlers, middleware
// and the one JSON boundary. It depends on the domain and the use cases,
// never on a storage adapter.
package web

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/tokens"
)

// Deps are what the HTTP layer needs.
type Deps struct {
	Auth *auth.Service
	// Admin runs the admin API (/admin, for users holding the admin
	// role); nil: those routes answer 404.
	Admin *auth.AdminAPI
	// Federation signs users in through upstream providers; nil: no
	// providers configured (their routes answer 404).
	Federation *auth.Federation
	Catalog    *i18n.Catalog
	Logger     *slog.Logger
	// Ready lists the dependencies GET /readyz checks, by name.
	Ready map[string]gatehouse.Pinger
	// MaxBodyBytes bounds every request body; larger ones get 413.
	MaxBodyBytes int64
	// HSTS adds Strict-Transport-Security (set when serving TLS directly or
	// behind a TLS-terminating proxy).
	HSTS bool
	// Keys signs and verifies tokens; its public keys are the JWKS.
	Keys *tokens.KeyRing
	// Issuer is the base URL published in the discovery document.
	Issuer string
	// FeedClients maps revocation feed client ids to their secrets; empty
	// disables the feed.
	FeedClients map[string]string
	// Shutdown is closed when the server begins to shut down, so that long
	// polls answer at once instead of holding the shutdown up.
	Shutdown <-chan struct{}
	// HashGate bounds the requests that hash a password; nil: unbounded.
	HashGate *HashGate
	// Instrument wraps each route's handler, given its pattern (metrics);
	// nil: none.
	Instrument func(pattern string, h http.Handler) http.Handler
	// Observer hears each login's outcome (metrics); nil: nobody.
	Observer Observer
	// CORS lets browser apps on other origins call the API; zero: none.
	CORS CORS
	// TrustedProxies are the peers whose forwarding header is believed, and
	// ProxyHeader which header that is (ProxyHeaderXForwardedFor, the
	// default, or ProxyHeaderForwarded).
	TrustedProxies []netip.Prefix
	ProxyHeader    string
	// Pages are the hosted pages (internal/pages), mounted at /ui/; nil:
	// none, /ui/ answers 404.
	Pages http.Handler
}

// Observer hears login outcomes ("success" or the error code) and which
// rate limit refused a request.
type Observer interface {
	LoginOutcome(outcome string)
	RateLimited(limit string)
}

type noObserver struct{}

func (noObserver) LoginOutcome(string) {}
func (noObserver) RateLimited(string)  {}

// NewServer returns the gatehouse API as one http.Handler.
func NewServer(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Catalog == nil {
		d.Catalog = i18n.New(i18n.English)
	}
	if d.Observer == nil {
		d.Observer = noObserver{}
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	out := &responder{catalog: d.Catalog, log: d.Logger, obs: d.Observer}
	mux := http.NewServeMux()
	addRoutes(mux, d, out)
	// Outermost first: ids and headers before anything can fail, then panic
	// recovery, then the mux's own 404/405 rewritten as JSON.
	var h http.Handler = mux
	h = jsonMuxErrors(out)(h)
	h = recoverPanics(out)(h)
	h = cors(d.CORS)(h)
	h = securityHeaders(d.HSTS)(h)
	h = realIP(d.TrustedProxies, d.ProxyHeader)(h)
	h = requestID(h)
	return h
}
